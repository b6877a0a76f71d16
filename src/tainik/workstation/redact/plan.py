"""From tracks to a redaction plan: exactly which boxes to cover in which frame, and why.

Coverage rules (docs/redaction.md, "Coverage"):

- a detected face is covered with its box, joined with where its track predicted it and with
  the track's detected boxes in the ``window`` frames on either side, grown by ``margin`` times
  its longer side on every side;
- through a gap in a track (frames where the face was not found, then found again), the box
  is the interpolation between the detections on either side, joined with the filter's
  prediction and the same neighbouring boxes, and grown a little more with every frame away
  from a detection;
- ``pad`` frames before a track's first detection and after its last one are covered too,
  extrapolated along the track's motion and joined with the nearest detected box;
- a weak detection that continued no track is covered in its own frame;
- manual regions are covered while their time span lasts.

The plan also lists the events a person should check: weak detections, gaps, lost tracks.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tainik.workstation.redact.detector import Detection
from tainik.workstation.redact.geometry import Box, interpolate
from tainik.workstation.redact.records import (
    BoxesRecord,
    BoxesSource,
    CoveredBox,
    CoverKind,
    Event,
    EventKind,
    FrameBoxes,
    RedactionSettings,
    TrackSummary,
)
from tainik.workstation.redact.regions import ManualRegion
from tainik.workstation.redact.tracker import Track


@dataclass(frozen=True)
class Cover:
    """One box to cover in one frame."""

    box: Box
    kind: CoverKind
    track: int | None = None
    score: float | None = None


@dataclass(frozen=True)
class PlanSettings:
    """How generously to cover (all sizes relative to the box, all counts in frames)."""

    margin: float = 0.3
    growth_per_frame: float = 0.05
    max_growth: float = 0.6
    pad: int = 5
    #: A face detected within this many frames before and after frame t is covered in t too.
    #: One frame's detection is noisy (a half-turned head may score low and come out small);
    #: the union of its neighbours does not depend on any single frame's luck.
    window: int = 2


@dataclass
class RedactionPlan:
    """Per frame: its time and what to cover. Plus the events for the QA report."""

    times: list[float]
    covers: list[list[Cover]]
    events: list[Event] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)

    def boxes(self, source: BoxesSource, settings: RedactionSettings) -> BoxesRecord:
        """The ``--boxes-out`` record (format ``tainik.org/redaction-boxes/v1``)."""
        return BoxesRecord(
            source=source,
            settings=settings,
            tracks=tuple(
                TrackSummary(
                    id=t.id,
                    first_frame=min(t.detections),
                    last_frame=t.last_detected,
                    detections=len(t.detections),
                    lost=t.lost,
                )
                for t in self.tracks
            ),
            events=tuple(self.events),
            frames=tuple(
                FrameBoxes(
                    index=index,
                    time=round(self.times[index], 6),
                    boxes=tuple(
                        CoveredBox(
                            box=c.box.rounded(),
                            kind=c.kind,
                            track=c.track,
                            score=None if c.score is None else round(c.score, 4),
                        )
                        for c in covers
                    ),
                )
                for index, covers in enumerate(self.covers)
                if covers
            ),
        )


def frame_ranges(frames: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted frame numbers as runs of consecutive frames: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for frame in sorted(set(frames)):
        if runs and frame == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], frame)
        else:
            runs.append((frame, frame))
    return runs


def _velocity(track: Track, frames: Sequence[int], at_end: bool) -> tuple[float, float]:
    """Per-frame motion of the box centre over the detections at one end of the track."""
    if len(frames) < 2:
        return 0.0, 0.0
    a, b = (frames[-2], frames[-1]) if at_end else (frames[0], frames[1])
    (ax, ay), (bx, by) = track.detections[a].box.center, track.detections[b].box.center
    return (bx - ax) / (b - a), (by - ay) / (b - a)


class _Builder:
    def __init__(self, count: int, settings: PlanSettings) -> None:
        self.covers: list[list[Cover]] = [[] for _ in range(count)]
        self.settings = settings

    def grow(self, distance: int) -> float:
        s = self.settings
        return s.margin + min(s.growth_per_frame * distance, s.max_growth)

    def add(self, frame: int, cover: Cover) -> None:
        if 0 <= frame < len(self.covers):
            self.covers[frame].append(cover)

    def neighbours(self, track: Track, frame: int, box: Box) -> Box:
        """``box`` joined with the track's detected boxes within ``window`` frames of ``frame``."""
        k = self.settings.window
        for other in range(frame - k, frame + k + 1):
            detection = track.detections.get(other)
            if detection is not None:
                box = box.union(detection.box)
        return box

    def track(self, track: Track) -> None:
        frames = sorted(track.detections)
        for frame in frames:
            d = track.detections[frame]
            # Joined with the prediction: a detection that jumps (a partial face, a sudden
            # stop) leaves the face covered where the track expected it as well.
            box = self.neighbours(track, frame, d.box)
            predicted = track.predictions.get(frame)
            if predicted is not None:
                box = box.union(predicted)
            self.add(
                frame, Cover(box.grown(self.settings.margin), CoverKind.DETECTED, track.id, d.score)
            )
        for a, b in itertools.pairwise(frames):
            box_a, box_b = track.detections[a].box, track.detections[b].box
            for frame in range(a + 1, b):
                box = interpolate(box_a, box_b, (frame - a) / (b - a))
                box = self.neighbours(track, frame, box)
                predicted = track.predictions.get(frame)
                if predicted is not None:
                    box = box.union(predicted)
                grown = box.grown(self.grow(min(frame - a, b - frame)))
                self.add(frame, Cover(grown, CoverKind.GAP, track.id))
        self._ends(track, frames)

    def _ends(self, track: Track, frames: Sequence[int]) -> None:
        first, last = frames[0], frames[-1]
        first_box, last_box = track.detections[first].box, track.detections[last].box
        vx, vy = _velocity(track, frames, at_end=False)
        for k in range(1, self.settings.pad + 1):
            box = first_box.union(first_box.shifted(-vx * k, -vy * k))
            self.add(first - k, Cover(box.grown(self.grow(k)), CoverKind.PADDING, track.id))
        vx, vy = _velocity(track, frames, at_end=True)
        end = track.end_frame if track.end_frame is not None else last
        for frame in range(last + 1, max(end, last + self.settings.pad) + 1):
            k = frame - last
            box = last_box.union(last_box.shifted(vx * k, vy * k))
            predicted = track.predictions.get(frame)
            if predicted is not None:
                box = box.union(predicted)
            self.add(frame, Cover(box.grown(self.grow(k)), CoverKind.PADDING, track.id))


def build_plan(
    times: Sequence[float],
    tracks: Sequence[Track],
    unmatched_weak: Mapping[int, Sequence[Detection]],
    regions: Sequence[ManualRegion],
    threshold: float,
    settings: PlanSettings,
) -> RedactionPlan:
    """Everything to cover in each of ``len(times)`` frames, and the events to check."""
    builder = _Builder(len(times), settings)
    events: list[Event] = []
    for track in tracks:
        builder.track(track)
        weak = [f for f, d in track.detections.items() if d.score < threshold]
        events += [Event(EventKind.WEAK, a, b, track.id) for a, b in frame_ranges(weak)]
        frames = sorted(track.detections)
        gaps = [f for a, b in itertools.pairwise(frames) for f in range(a + 1, b)]
        events += [Event(EventKind.GAP, a, b, track.id) for a, b in frame_ranges(gaps)]
        if track.lost and track.end_frame is not None:
            last_frame = min(track.end_frame + 1, len(times) - 1)
            events.append(Event(EventKind.LOST, track.last_detected + 1, last_frame, track.id))
    for frame, detections in unmatched_weak.items():
        for d in detections:
            builder.add(frame, Cover(d.box.grown(settings.margin), CoverKind.WEAK, None, d.score))
    events += [Event(EventKind.WEAK, a, b) for a, b in frame_ranges(unmatched_weak)]
    for index, time in enumerate(times):
        for region in regions:
            if region.active(time):
                builder.add(index, Cover(region.box, CoverKind.MANUAL))
    events.sort(key=lambda e: (e.first, e.last, str(e.kind), e.track or 0))
    return RedactionPlan(list(times), builder.covers, events, list(tracks))
