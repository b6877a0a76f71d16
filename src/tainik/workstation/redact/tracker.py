"""Tracking faces across frames, so that a face the detector misses for a while stays covered.

Each track keeps a constant-velocity Kalman filter over its box's centre and size. Every
frame, tracks first predict where their face is now; detections are then matched to those
predictions in two rounds (the ByteTrack idea): confident detections first, then weak ones,
which may only continue an existing track, never start one. A track that finds no detection
*coasts* on its prediction; after ``max_gap`` frames without one it ends, and is reported as
lost. Everything a track saw or predicted is kept, for :mod:`.plan` to turn into boxes to cover.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tainik.workstation.redact.detector import Detection
from tainik.workstation.redact.geometry import Box

Vector = npt.NDArray[np.float64]
Matrix = npt.NDArray[np.float64]

# Process and measurement noise relative to the box height (as in SORT/DeepSORT).
_POSITION_NOISE = 1 / 20
_VELOCITY_NOISE = 1 / 160
#: A detection this far (in box sizes) from a prediction may still continue the track,
#: when fast motion or a jump in size leaves the two boxes with little or no overlap.
_CENTRE_GATE = 1.0
#: A weak detection continues a track only when it overlaps the prediction this much.
_WEAK_MIN_IOU = 0.3
#: A matched detection overlapping the prediction less than this is a jump.
_JUMP_IOU = 0.5


class KalmanBox:
    """Constant-velocity Kalman filter over (cx, cy, w, h) and their velocities."""

    _F: Matrix = np.eye(8) + np.eye(8, k=4)
    _H: Matrix = np.eye(4, 8)

    def __init__(self, box: Box) -> None:
        cx, cy = box.center
        self.x: Vector = np.array([cx, cy, box.width, box.height, 0, 0, 0, 0], dtype=np.float64)
        size = max(box.height, 1.0)
        std = np.array([2 * _POSITION_NOISE * size] * 4 + [10 * _VELOCITY_NOISE * size] * 4)
        self.P: Matrix = np.diag(std**2)

    def predict(self) -> Box:
        """Advance one frame; the predicted box."""
        size = max(self.x[3], 1.0)
        std = np.array([_POSITION_NOISE * size] * 4 + [_VELOCITY_NOISE * size] * 4)
        self.x = self._F @ self.x
        self.x[2] = max(self.x[2], 1.0)
        self.x[3] = max(self.x[3], 1.0)
        self.P = self._F @ self.P @ self._F.T + np.diag(std**2)
        return self.box

    def update(self, box: Box) -> None:
        """Correct the state with a measured box."""
        cx, cy = box.center
        z = np.array([cx, cy, box.width, box.height])
        size = max(box.height, 1.0)
        r = np.diag(np.full(4, (_POSITION_NOISE * size) ** 2))
        s = self._H @ self.P @ self._H.T + r
        gain = self.P @ self._H.T @ np.linalg.inv(s)
        self.x = self.x + gain @ (z - self._H @ self.x)
        self.P = (np.eye(8) - gain @ self._H) @ self.P

    @property
    def box(self) -> Box:
        """The current estimate as a box."""
        cx, cy, w, h = (float(v) for v in self.x[:4])
        return Box.from_center(cx, cy, w, h)


@dataclass
class Track:
    """One face followed through the video."""

    id: int
    first_frame: int
    detections: dict[int, Detection] = field(default_factory=dict)
    #: The filter's predicted box for every frame after the first (coasting or not).
    predictions: dict[int, Box] = field(default_factory=dict)
    #: The frame after which the track stopped (None while it is active).
    end_frame: int | None = None
    #: True when the track ended because its face was not found again within ``max_gap``.
    lost: bool = False

    @property
    def last_detected(self) -> int:
        """The last frame with a detection."""
        return max(self.detections)


@dataclass
class _Active:
    track: Track
    filter: KalmanBox
    missed: int = 0
    predicted: Box | None = None
    #: Consecutive matched detections that disagreed with the prediction (see ``_assign``).
    jumps: int = 0


def _match_cost(predicted: Box, detected: Box, strict: bool) -> float | None:
    """Lower is a better match; None when the two boxes cannot be the same face.

    ``strict`` (for weak detections) demands real overlap: a weak detection far from the
    prediction is more likely part of a face (the half beside an obstacle) than the face.
    """
    iou = predicted.iou(detected)
    if strict:
        return 1.0 - iou if iou >= _WEAK_MIN_IOU else None
    if iou > 0.05:
        return 1.0 - iou
    (pcx, pcy), (dcx, dcy) = predicted.center, detected.center
    scale = max(predicted.width, predicted.height, detected.width, detected.height, 1.0)
    distance = ((pcx - dcx) ** 2 + (pcy - dcy) ** 2) ** 0.5 / scale
    return 1.0 + distance if distance <= _CENTRE_GATE else None


def _greedy_match(
    tracks: Sequence[_Active], detections: Sequence[Detection], strict: bool
) -> list[tuple[int, int]]:
    """Pairs (track index, detection index), cheapest first, each used at most once."""
    candidates: list[tuple[float, int, int]] = []
    for ti, active in enumerate(tracks):
        assert active.predicted is not None
        for di, detection in enumerate(detections):
            cost = _match_cost(active.predicted, detection.box, strict)
            if cost is not None:
                candidates.append((cost, ti, di))
    candidates.sort()
    used_t: set[int] = set()
    used_d: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _cost, ti, di in candidates:
        if ti not in used_t and di not in used_d:
            used_t.add(ti)
            used_d.add(di)
            pairs.append((ti, di))
    return pairs


class FaceTracker:
    """Feed it each frame's detections in order with :meth:`step`; then :meth:`finish`."""

    def __init__(self, threshold: float, max_gap: int) -> None:
        self.threshold = threshold
        self.max_gap = max_gap
        self._active: list[_Active] = []
        self._done: list[Track] = []
        self._next_id = 1
        self._frame = -1

    def step(self, frame: int, detections: Sequence[Detection]) -> list[Detection]:
        """Advance to ``frame``; returns the weak detections that continued no track."""
        if frame != self._frame + 1:
            raise ValueError("frames must be stepped in order, without skipping")
        self._frame = frame
        for active in self._active:
            active.predicted = active.filter.predict()
        strong = [d for d in detections if d.score >= self.threshold]
        weak = [d for d in detections if d.score < self.threshold]

        unmatched, fresh = self._assign(list(self._active), strong, frame, strict=False)
        unmatched, leftover = self._assign(unmatched, weak, frame, strict=True)
        for detection in fresh:
            self._start(frame, detection)

        for active in unmatched:
            active.missed += 1
            if active.missed > self.max_gap:
                self._end(active, frame - 1, lost=True)
            else:
                assert active.predicted is not None
                active.track.predictions[frame] = active.predicted
        self._active = [a for a in self._active if a.track.end_frame is None]
        return leftover

    def _assign(
        self, tracks: list[_Active], detections: Sequence[Detection], frame: int, strict: bool
    ) -> tuple[list[_Active], list[Detection]]:
        """Match ``detections`` to ``tracks`` and update them; what was left unmatched."""
        pairs = _greedy_match(tracks, detections, strict)
        for ti, di in pairs:
            active = tracks[ti]
            assert active.predicted is not None
            active.track.predictions[frame] = active.predicted
            detection = detections[di]
            # A detection that jumps away from the prediction is often a part of the face
            # (the half not hidden by an obstacle). It is covered, but the filter keeps
            # coasting for a while rather than being dragged off the face by it.
            if active.predicted.iou(detection.box) < _JUMP_IOU and active.jumps < self.max_gap:
                active.jumps += 1
            else:
                active.jumps = 0
                active.filter.update(detection.box)
            active.track.detections[frame] = detection
            active.missed = 0
        used_t = {ti for ti, _ in pairs}
        used_d = {di for _, di in pairs}
        return (
            [a for ti, a in enumerate(tracks) if ti not in used_t],
            [d for di, d in enumerate(detections) if di not in used_d],
        )

    def _start(self, frame: int, detection: Detection) -> None:
        track = Track(id=self._next_id, first_frame=frame, detections={frame: detection})
        self._next_id += 1
        self._active.append(_Active(track, KalmanBox(detection.box)))

    def _end(self, active: _Active, last_frame: int, *, lost: bool) -> None:
        active.track.end_frame = last_frame
        active.track.lost = lost
        self._done.append(active.track)

    def finish(self) -> list[Track]:
        """End the tracks still open at the end of the video; all tracks, by id."""
        for active in self._active:
            self._end(active, self._frame, lost=False)
        self._active = []
        return sorted(self._done, key=lambda t: t.id)
