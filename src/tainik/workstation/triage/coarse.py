"""Coarse to fine: keyframes and sound first, then every frame only around candidates.

Decoding every frame is most of what triage costs, and most CCTV footage shows an empty
corridor. A keyframe can be decoded on its own, so the **coarse pass** decodes only the
keyframes (one every GOP, 2 s on most recorders) and all of the sound (cheap):

- each keyframe is reduced like an analysed frame (grey, 320 px, blurred, brightness offset)
  and compared with the keyframe before it (moving fraction: pixels more than
  :data:`DIFF_LEVEL` grey levels apart) and with a background model of the keyframes so far
  (OpenCV MOG2, as the fine analysis); the larger fraction is the keyframe's coarse motion;
- a keyframe whose median grey level or spread jumps (the light-change guard of
  :mod:`activity`, between keyframes) is a **light change**: its coarse model starts afresh;
- the sound's momentary loudness is measured in full, as the full decode does.

**Candidates**: a keyframe with coarse motion of at least :data:`COARSE_MOTION` (a quarter
of the default ``--motion-threshold``) stands for everything between the keyframe before
and the keyframe after it: an event lasting at least one GOP shows in at least one
keyframe, and the event around that keyframe can have begun only after the keyframe
before (where the picture was still calm) and end before the keyframe after. A light
change stands for the interval before it (so that the fine pass sees the jump itself).
Sound at least :data:`COARSE_SOUND` LU above its background (half the default
``--sound-threshold``) stands for its own stretch, widened to the keyframes around it.
Candidates closer than :data:`JOIN_S` are joined into one stretch.

The **fine pass** decodes every frame of each stretch (seeking to its first keyframe) and
measures it exactly as the full decode does (:class:`activity.ActivityMeter`, same frame
grid), with a model primed on the last keyframes before the stretch and learning at the
rate the full decode's model would have by then. A stretch goes on past its end while its
activity has not died down, and runs into the next one when it reaches it. Between
stretches the motion signal is zero. The measurements are the full decode's
(:class:`signals.Signals`), so evidence, segments and scores are made as before.

Where keyframes are more than :data:`MAX_KEYFRAME_INTERVAL` seconds apart (some recorders
use 10 s), an event lasting a few seconds may fall between two keyframes: the caller then
decodes every frame, and the report says so.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import av
import cv2
import numpy as np
import numpy.typing as npt

from tainik.workstation.triage import evidence
from tainik.workstation.triage.activity import (
    ActivityMeter,
    Gray,
    Image,
    light_jumped,
    normalise,
)
from tainik.workstation.triage.decoding import MediaReader, Progress, analysis_size, luma
from tainik.workstation.triage.loudness import HOP, LoudnessMeter, momentary
from tainik.workstation.triage.params import AnalysisParams
from tainik.workstation.triage.results import DecodePath
from tainik.workstation.triage.signals import Signals

#: Keyframes further apart than this (seconds) make the coarse pass unsafe: decode in full.
MAX_KEYFRAME_INTERVAL = 4.0
#: Coarse motion (fraction of the picture) that makes a keyframe a candidate.
COARSE_MOTION = 0.0005
#: Grey levels (after blur and brightness offset) by which a pixel must differ between two
#: keyframes to count as changed.
DIFF_LEVEL = 12
#: Loudness above the background (LU) that makes a sound candidate.
COARSE_SOUND = 6.0
#: Background window (seconds) of the sound candidates (the default ``--sound-background``).
SOUND_BACKGROUND_S = 120.0
#: Candidate stretches closer than this (seconds) are decoded as one.
JOIN_S = 2.0
#: Keyframes before a stretch that prime its background model.
PRIME = 5
#: A stretch goes on while there was activity of at least COARSE_MOTION this recently (s).
TAIL_S = 1.0
#: A stretch without priming keyframes starts this much earlier (seconds), to settle.
WARM_S = 2.0

_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))


@dataclass(frozen=True)
class Stretch:
    """Seconds to decode in full: ``start`` is a keyframe; ``prime`` the keyframes before."""

    start: float
    end: float
    prime: tuple[Gray, ...] = ()


@dataclass
class Coarse:
    """What the coarse pass found: keyframe times, candidates, sound, counts."""

    keyframes: list[float]
    candidates: list[Stretch]
    lights: list[float]
    loudness: npt.NDArray[np.float64]
    audio_start: float
    video_end: float
    frames_decoded: int
    errors: int
    stopped: str | None


class _KeyframeWatch:
    """Coarse motion and light changes, keyframe by keyframe."""

    def __init__(self, analysis: AnalysisParams) -> None:
        self._analysis = analysis
        self._history = max(2, round(analysis.history_s / 2.0))
        self._model = self._fresh()
        self._previous: tuple[int, int] | None = None
        self._previous_picture: Image | None = None
        self._ring: deque[Gray] = deque(maxlen=PRIME + 1)
        self._flagged_before = False
        self.times: list[float] = []
        self.candidates: list[Stretch] = []
        self.lights: list[float] = []
        self.size: tuple[int, int] | None = None

    def _fresh(self) -> cv2.BackgroundSubtractor:
        return cv2.createBackgroundSubtractorMOG2(
            history=self._history, varThreshold=self._analysis.sensitivity, detectShadows=False
        )

    def __call__(self, t: float, frame: av.VideoFrame) -> None:
        if self.size is None:
            self.size = analysis_size(frame.width, frame.height, self._analysis.width)
        gray = luma(frame, *self.size)
        picture, level = normalise(gray)
        before = self.times[-1] if self.times else 0.0
        self.times.append(t)
        changed = self._previous is not None and light_jumped(
            self._previous, level, self._analysis.light_jump
        )
        self._previous = level
        primers = tuple(list(self._ring)[:-1])  # keyframes before the one before this
        if changed:
            self.lights.append(t)
            self.candidates.append(Stretch(before, t, primers))
            self._model = self._fresh()
            self._model.apply(picture)
            self._ring.clear()
            self._ring.append(gray)
            self._previous_picture = picture
            self._flagged_before = True
            return
        mask = self._model.apply(picture)
        motion = 0.0
        if self._previous_picture is not None:
            moved = _fraction(mask)
            diff = cv2.absdiff(picture, self._previous_picture)
            _, changed_mask = cv2.threshold(diff, DIFF_LEVEL, 255, cv2.THRESH_BINARY)
            motion = max(moved, _fraction(changed_mask))
        self._previous_picture = picture
        flagged = motion >= COARSE_MOTION
        if flagged:
            # The keyframe after this one is not known yet: the stretch ends here, and
            # :func:`plan` extends it to the next keyframe.
            prime = () if self._flagged_before else primers
            self.candidates.append(Stretch(before, t, prime))
        self._flagged_before = flagged
        self._ring.append(gray)


def _fraction(mask: Image) -> float:
    opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _KERNEL)
    return cv2.countNonZero(opened) / opened.size


@dataclass(frozen=True)
class TooFar:
    """Keyframes too far apart for the coarse pass (``interval`` seconds; None: no keyframe
    with a time was found)."""

    interval: float | None


def scan(
    reader: MediaReader, analysis: AnalysisParams, progress: Progress | None
) -> Coarse | TooFar:
    """The coarse pass over ``reader``'s file, or why it cannot be made."""
    watch = _KeyframeWatch(analysis)
    loudness = LoudnessMeter()
    has_audio = reader.info.audio_codec is not None
    report = reader.scan(
        watch, loudness.feed if has_audio else None, progress, MAX_KEYFRAME_INTERVAL
    )
    if report.far_keyframes is not None or not report.keyframes:
        return TooFar(report.far_keyframes)
    lufs = momentary(loudness.block_power()) if has_audio else np.empty(0)
    return Coarse(
        keyframes=report.keyframes,
        candidates=watch.candidates,
        lights=watch.lights,
        loudness=lufs,
        audio_start=report.audio_start or 0.0,
        video_end=report.video_end,
        frames_decoded=report.frames_decoded,
        errors=report.errors,
        stopped=report.stopped,
    )


def sound_spans(lufs: npt.NDArray[np.float64], audio_start: float) -> list[tuple[float, float]]:
    """Stretches where the loudness rises at least :data:`COARSE_SOUND` above background."""
    if lufs.size == 0:
        return []
    rise = lufs - evidence.background(lufs, SOUND_BACKGROUND_S)
    loud = np.concatenate([[False], rise >= COARSE_SOUND, [False]])
    edges = np.flatnonzero(np.diff(loud.astype(np.int8)))
    return [
        (audio_start + a * HOP, audio_start + b * HOP)
        for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]


def plan(coarse: Coarse) -> list[Stretch]:
    """The stretches to decode in full, in order, joined where close (module docstring)."""
    keys = coarse.keyframes
    end_of_video = coarse.video_end

    def key_before(t: float) -> int:
        return max(0, int(np.searchsorted(keys, t + 1e-6, side="right")) - 1)

    def key_after(t: float) -> float:
        index = int(np.searchsorted(keys, t + 1e-6, side="right"))
        return keys[index] if index < len(keys) else end_of_video

    wanted: list[Stretch] = []
    for candidate in coarse.candidates:
        end = candidate.end if candidate.end in coarse.lights else key_after(candidate.end)
        wanted.append(Stretch(candidate.start, end, candidate.prime))
    for start, end in sound_spans(coarse.loudness, coarse.audio_start):
        wanted.append(Stretch(keys[key_before(start - WARM_S)], key_after(end)))
    wanted.sort(key=lambda s: s.start)
    joined: list[Stretch] = []
    for stretch in wanted:
        if joined and stretch.start <= joined[-1].end + JOIN_S:
            last = joined[-1]
            joined[-1] = Stretch(last.start, max(last.end, stretch.end), last.prime)
        else:
            joined.append(stretch)
    return joined


@dataclass
class Fine:
    """The fine pass's measurements, over every stretch."""

    times: list[float]
    activity: list[float]
    lights: list[float]
    frames_decoded: int
    errors: int
    seconds: float


def fine(reader: MediaReader, analysis: AnalysisParams, stretches: Sequence[Stretch]) -> Fine:
    """Measure every frame (at the analysis rate) of each stretch, as the full decode does."""
    out = Fine([], [], [], 0, 0, 0.0)
    todo = deque(stretches)
    while todo:
        stretch = todo.popleft()
        if not out.times or stretch.end > out.times[-1]:
            _StretchPass(reader, analysis, out, todo).run(stretch)
    return out


class _StretchPass:
    """One seek and the decoding from there: a stretch, and those it runs into."""

    def __init__(
        self, reader: MediaReader, analysis: AnalysisParams, out: Fine, todo: deque[Stretch]
    ) -> None:
        self._reader = reader
        self._analysis = analysis
        self._out = out
        self._todo = todo
        self._size: tuple[int, int] | None = None
        self._end = 0.0
        self._last_active = -1.0
        self._began: float | None = None
        # Where the full decode's model would last have started afresh.
        self._meter = ActivityMeter(analysis)

    def run(self, stretch: Stretch) -> None:
        out = self._out
        restart = max((t for t in out.lights if t <= stretch.start), default=0.0)
        self._meter = ActivityMeter(self._analysis, continuing_from=restart)
        for picture in stretch.prime:
            self._meter.prime(picture)
        self._end = stretch.end
        report = self._reader.stretch(stretch.start, self._analysis.fps, self._frame, self._first)
        out.frames_decoded += report.frames_decoded
        out.errors += report.errors
        if self._began is not None:
            out.seconds += out.times[-1] - self._began + 1.0 / self._analysis.fps

    def _first(self, t: float, frame: av.VideoFrame) -> None:
        del t
        self._meter.reference(luma(frame, *self._size_of(frame)))

    def _size_of(self, frame: av.VideoFrame) -> tuple[int, int]:
        if self._size is None:
            self._size = analysis_size(frame.width, frame.height, self._analysis.width)
        return self._size

    def _frame(self, t: float, frame: av.VideoFrame) -> bool:
        out = self._out
        found = self._meter.measure(luma(frame, *self._size_of(frame)), t)
        if out.times and t <= out.times[-1] + 1e-6:
            return True  # measured already, by the stretch before
        if self._began is None:
            self._began = t
        out.times.append(t)
        out.activity.append(found.activity)
        if found.light_change:
            out.lights.append(t)
        if found.activity >= COARSE_MOTION:
            self._last_active = t
        if t < self._end or t - self._last_active < TAIL_S:
            return True  # not at the end yet, or still moving
        while self._todo and self._todo[0].start <= t + JOIN_S:
            self._end = max(self._end, self._todo.popleft().end)  # run into the next one
        return t < self._end


def measure(
    reader: MediaReader, analysis: AnalysisParams, progress: Progress | None
) -> Signals | TooFar:
    """The coarse and fine passes' measurements, or why they cannot be made (the caller then
    decodes every frame)."""
    coarse = scan(reader, analysis, progress)
    if isinstance(coarse, TooFar):
        return coarse
    stretches = plan(coarse)
    found = fine(reader, analysis, stretches)
    intervals = np.diff(coarse.keyframes)
    interval = round(float(intervals.max()), 3) if intervals.size else None
    audio_end = coarse.audio_start + coarse.loudness.size * HOP
    return Signals(
        duration=max(coarse.video_end, audio_end),
        video_times=np.array(found.times, dtype=np.float64),
        activity=np.array(found.activity, dtype=np.float64),
        light_changes=np.array(sorted(found.lights), dtype=np.float64),
        audio_start=coarse.audio_start,
        loudness=coarse.loudness,
        frames_decoded=coarse.frames_decoded + found.frames_decoded,
        decode_errors=coarse.errors + found.errors,
        stopped=coarse.stopped,
        decode_path=DecodePath("coarse", "keyframes-close", interval, round(found.seconds, 1)),
    )
