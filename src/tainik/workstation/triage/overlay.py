"""The burned-in overlay of a CCTV video: which camera, and what its clock says when.

:func:`read_overlay` is the one entry point (docs/triage.md, "Burned-in overlays"):

1. **Sample** a few frames spread over the video: keyframes where there are enough of them
   (they decode without their neighbours), exact frames otherwise (long GOPs).
2. **Find the overlay**: strong vertical edges that stay put in most samples, in bands at the
   top and bottom of the picture, are text burned in by the recorder; the picture behind it
   changes, or is too smooth to keep such edges. Each band is cut into boxes at wide gaps.
3. **Read** every box on every sample in one Tesseract call (:mod:`ocr`). A box that reads as
   a date and time (:mod:`clock`) is the clock; the others, and the rest of the clock's line,
   are the camera's name when the same text comes back from at least half the reads.
4. **Check the clock against the video's timebase.** Each reading gives an offset (clock time
   minus seconds into the video). A reading that agrees with no nearby reading is a misread and
   is dropped; where two trusted readings disagree by :data:`JUMP_SECONDS` or more, frames
   between them are read (:data:`SEARCH_POINTS` at a time) until the jump is pinned to within
   :data:`RESOLUTION` seconds. OCR costs as much as decoding, so only those stretches are
   read closely.

Nothing here guesses: no consensus gives ``camera = None``, no readable clock ``start = None``.
"""

from __future__ import annotations

import datetime
import itertools
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

from tainik.workstation.triage import ocr
from tainik.workstation.triage.clock import (
    ClockJump,
    ClockText,
    Overlay,
    clean_label,
    parse_clock,
)
from tainik.workstation.triage.ocr import Gray

#: Changes whenever a reading would come out differently (the overlay cache's key).
ALGORITHM = "1"
#: A clock that moves this many seconds more or less than the video is a jump.
JUMP_SECONDS = 3.0
#: Clock drift tolerated against the video's timebase (recorders drop frames): 1 %.
DRIFT = 0.01
#: A jump is pinned to within this many seconds of video.
RESOLUTION = 0.5
#: Frames read at once when looking closer between two disagreeing readings.
SEARCH_POINTS = 6
#: One sample per this many seconds of video, within the bounds below.
SAMPLE_SECONDS = 120.0
MIN_SAMPLES = 6
MAX_SAMPLES = 10
#: Samples on which every box is read (the others: only the clock).
LABEL_SAMPLES = 4
#: Overlay text is looked for in this share of the picture at the top and at the bottom.
ZONE = 0.3
#: Share of the samples in which an edge must be present to count as burned in.
PERSISTENCE = 0.75
#: Horizontal Sobel response (3×3, 8-bit picture) that is a strong edge.
EDGE = 240
#: Most boxes read (the ones with the most burned-in edges).
MAX_BOXES = 4
#: Least mean confidence (0-100) of a camera name's read.
LABEL_CONFIDENCE = 80.0
_EPOCH = datetime.datetime(1970, 1, 1)


@dataclass(frozen=True)
class Box:
    """A rectangle of overlay text (pixels), and the height of its text."""

    left: int
    top: int
    right: int
    bottom: int
    text_height: int
    #: Share of the box's edges that are in most samples: a clock's changing digits lower it.
    steadiness: float = 1.0

    def crop(self, frame: Gray) -> Gray:
        """This box of ``frame``, ready for OCR."""
        return ocr.prepare(frame[self.top : self.bottom, self.left : self.right], self.text_height)


@dataclass(frozen=True)
class _Reading:
    t: float
    clock: datetime.datetime

    @property
    def offset(self) -> float:
        return (self.clock - _EPOCH).total_seconds() - self.t


def read_overlay(path: Path) -> Overlay:
    """Read the overlay of the video at ``path`` (see the module docstring).

    Raises :class:`~tainik.workstation.triage.errors.OverlayError` when Tesseract cannot
    run, and PyAV's errors when the video cannot be read.
    """
    with _Frames(path) as frames:
        samples = frames.samples()
        if len(samples) < 2:
            return Overlay()
        boxes = find_boxes([picture for _, picture in samples])
        if not boxes:
            return Overlay()
        return _Reader(frames, boxes).read(samples)


def find_boxes(pictures: Sequence[Gray]) -> list[Box]:
    """Boxes of burned-in text: edges present in most ``pictures``, in the top and bottom
    bands, cut at gaps wider than twice the text's height."""
    height, width = pictures[0].shape
    shown = np.zeros((height, width), np.float32)
    for picture in pictures:
        if picture.shape != (height, width):
            continue
        response = np.abs(cv2.Sobel(picture, cv2.CV_16S, 1, 0, ksize=3))
        shown += response >= EDGE
    shown /= len(pictures)
    persistent = shown >= PERSISTENCE
    anywhere = shown > 0
    zone = np.zeros(height, bool)
    reach = max(1, int(height * ZONE))
    zone[:reach] = zone[height - reach :] = True
    rows = (persistent.sum(axis=1) >= max(3, width // 200)) & zone
    found: list[tuple[int, Box]] = []
    for top, bottom in _runs(rows, gap=2):
        text_height = bottom - top
        if not 6 <= text_height <= height // 6:
            continue
        pad = max(2, text_height // 3)
        band = slice(max(0, top - 1), min(height, bottom + 1))
        columns = np.asarray(anywhere[band].any(axis=0), dtype=bool)
        for left, right in _runs(columns, gap=2 * text_height):
            weight = int(persistent[band, left:right].sum())
            if right - left < 2 * text_height or weight < 2 * text_height:  # not a line
                continue
            steadiness = weight / max(1, int(anywhere[band, left:right].sum()))
            box = Box(
                max(0, left - pad), max(0, top - pad), min(width, right + pad),
                min(height, bottom + pad), text_height, round(steadiness, 3),
            )  # fmt: skip
            found.append((weight, box))
    found.sort(key=lambda pair: -pair[0])
    return sorted((box for _, box in found[:MAX_BOXES]), key=lambda b: (b.top, b.left))


def _runs(mask: npt.NDArray[np.bool_], gap: int) -> list[tuple[int, int]]:
    """Stretches of True in ``mask`` (as [start, end)), joined across gaps up to ``gap``."""
    indices = np.flatnonzero(mask)
    if indices.size == 0:
        return []
    runs: list[tuple[int, int]] = []
    start = previous = int(indices[0])
    for index in indices[1:].tolist():
        if index - previous > gap + 1:
            runs.append((start, previous + 1))
            start = index
        previous = index
    runs.append((start, previous + 1))
    return runs


class _Reader:
    """Reads one video's boxes; keeps count of the lines read."""

    def __init__(self, frames: _Frames, boxes: list[Box]) -> None:
        self.frames = frames
        self.boxes = boxes
        self.clock: Box | None = None
        self.reads = 0

    def read(self, samples: list[tuple[float, Gray]]) -> Overlay:
        # Every box on a few samples spread over the video (enough to agree on a name); the
        # box most likely to be the clock (the least steady) on every sample. All in one call.
        count = len(samples)
        spread = {round(i * (count - 1) / (LABEL_SAMPLES - 1)) for i in range(LABEL_SAMPLES)}
        likely = min(range(len(self.boxes)), key=lambda i: self.boxes[i].steadiness)
        plan = [
            (s, b)
            for s in range(count)
            for b in range(len(self.boxes))
            if s in spread or b == likely
        ]
        got = dict(zip(plan, self._ocr(plan, samples), strict=True))
        clocks = {key: _parse(line) for key, line in got.items()}
        best = max(
            range(len(self.boxes)),
            key=lambda b: sum(c is not None for (_, box), c in clocks.items() if box == b),
        )
        parsed = sum(c is not None for (_, box), c in clocks.items() if box == best)
        if parsed >= 2 and best != likely:  # the clock was steadier than another box
            rest = [(s, best) for s in range(count) if (s, best) not in got]
            more = dict(zip(rest, self._ocr(rest, samples), strict=True))
            got.update(more)
            clocks.update({key: _parse(line) for key, line in more.items()})
        labels: list[str] = []
        readings: list[_Reading] = []
        for index in range(len(self.boxes)):
            keys = sorted(key for key in got if key[1] == index)
            if index == best and parsed >= 2:
                self.clock = self.boxes[index]
                # Beside a clock, only a name of some length: a misread weekday is no name.
                found = [clocks[key] for key in keys]
                texts = [c.rest if c is not None and len(c.rest) >= 4 else None for c in found]
                readings = [
                    _Reading(samples[s][0], c.time)
                    for (s, _), c in zip(keys, found, strict=True)
                    if c is not None
                ]
            else:
                texts = [_label(got[key]) for key in keys]
            label = _consensus(texts)
            if label:
                labels.append(label)
        camera = " ".join(labels) or None
        if len(readings) < 2:
            return Overlay(camera=camera, reads=self.reads)
        trusted = _trusted(readings)
        if not trusted:
            return Overlay(camera=camera, reads=self.reads)
        jumps: list[ClockJump] = []
        for a, b in itertools.pairwise(trusted):
            if not _agree(a, b):
                jumps += self._search(a, b)
        first = [r for r in trusted if not jumps or r.t < jumps[0].at]
        last = [r for r in trusted if not jumps or r.t >= jumps[-1].at]
        start = _moment(max(r.offset for r in first or trusted))
        end = _moment(max(r.offset for r in last or trusted) + self.frames.duration)
        return Overlay(camera, start, end, tuple(jumps), self.reads)

    def _ocr(
        self, plan: list[tuple[int, int]], samples: list[tuple[float, Gray]]
    ) -> list[ocr.Line | None]:
        """Read box ``b`` of sample ``s`` for each ``(s, b)`` of ``plan``, in one call."""
        self.reads += len(plan)
        return ocr.read_lines([self.boxes[b].crop(samples[s][1]) for s, b in plan])

    def _search(self, a: _Reading, b: _Reading) -> list[ClockJump]:
        """The jumps between two trusted readings that disagree."""
        assert self.clock is not None
        if b.t - a.t <= RESOLUTION:
            return [ClockJump(round(b.t, 2), a.clock, b.clock)]
        step = (b.t - a.t) / (SEARCH_POINTS + 1)
        pictures = self.frames.exact([a.t + step * k for k in range(1, SEARCH_POINTS + 1)])
        inside = [(t, p) for t, p in pictures if a.t < t < b.t]
        if not inside:  # no frame between them: the jump is at b
            return [ClockJump(round(b.t, 2), a.clock, b.clock)]
        lines = ocr.read_lines([self.clock.crop(p) for _, p in inside])
        self.reads += len(inside)
        found = [
            _Reading(t, c.time)
            for (t, _), line in zip(inside, lines, strict=True)
            if (c := _parse(line)) is not None
        ]
        chain = [a, *_trusted(found, anchors=(a, b)), b]
        jumps: list[ClockJump] = []
        for left, right in itertools.pairwise(chain):
            if not _agree(left, right):
                jumps += self._search(left, right)
        return jumps


def _parse(line: ocr.Line | None) -> ClockText | None:
    return None if line is None else parse_clock(line.text)


def _label(line: ocr.Line | None) -> str | None:
    if line is None or line.confidence < LABEL_CONFIDENCE:
        return None
    return clean_label(line.text)


def _consensus(texts: Sequence[str | None]) -> str | None:
    """The text read the same way at least twice and in at least half of the reads."""
    counts = Counter(t for t in texts if t)
    if not counts:
        return None
    text, count = counts.most_common(1)[0]
    return text if count >= max(2, math.ceil(len(texts) / 2)) else None


def _agree(a: _Reading, b: _Reading) -> bool:
    return abs(a.offset - b.offset) < JUMP_SECONDS + DRIFT * abs(a.t - b.t)


def _trusted(readings: list[_Reading], anchors: Sequence[_Reading] = ()) -> list[_Reading]:
    """Readings that agree with a reading near them (two either side) or with an anchor."""
    ordered = sorted(readings, key=lambda r: r.t)
    kept = []
    for index, reading in enumerate(ordered):
        near = ordered[max(0, index - 2) : index] + ordered[index + 1 : index + 3]
        if any(_agree(reading, other) for other in [*near, *anchors]):
            kept.append(reading)
    return kept


def _moment(seconds: float) -> datetime.datetime:
    return _EPOCH + datetime.timedelta(seconds=round(seconds))


class _Frames:
    """Grey pictures of a video at chosen times (seconds from the container's start)."""

    def __init__(self, path: Path) -> None:
        self._container = av.open(str(path))
        if not self._container.streams.video:
            self._container.close()
            raise av.error.InvalidDataError(0, "no video stream")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        start = self._container.start_time
        self._origin = start / av.time_base if start is not None else 0.0
        duration = self._container.duration
        self.duration = duration / av.time_base if duration else 0.0
        if not self.duration and self._stream.duration and self._stream.time_base:
            self.duration = float(self._stream.duration * self._stream.time_base)

    def __enter__(self) -> _Frames:
        return self

    def __exit__(self, *exc: object) -> None:
        self._container.close()

    def samples(self) -> list[tuple[float, Gray]]:
        """Keyframes spread over the video, with the neighbour keyframe of the first and last
        (so that every reading has one to agree with); exact frames when keyframes are few."""
        count = min(MAX_SAMPLES, max(MIN_SAMPLES, math.ceil(self.duration / SAMPLE_SECONDS) + 1))
        span = max(self.duration - 0.5, 0.0)
        targets = [span * k / (count - 1) for k in range(count)]
        targets += [targets[0] + span / (4 * count), span - span / (4 * count)]
        keyframes: dict[float, Gray] = {}
        for target in targets:
            found = self._keyframe(target)
            if found is not None:
                keyframes.setdefault(round(found[0], 3), found[1])
        if len(keyframes) >= MIN_SAMPLES:
            return sorted(keyframes.items(), key=lambda pair: pair[0])
        return self.exact(sorted(targets))

    def exact(self, times: Sequence[float]) -> list[tuple[float, Gray]]:
        """The first frame at or after each time (decoded from the keyframe before it)."""
        self._stream.codec_context.skip_frame = "DEFAULT"
        found: dict[float, Gray] = {}
        for target in times:
            for t, frame in self._decode_from(target):
                if t >= target - 1e-3:
                    found.setdefault(round(t, 3), _grey(frame))
                    break
        return sorted(found.items(), key=lambda pair: pair[0])

    def _keyframe(self, target: float) -> tuple[float, Gray] | None:
        self._stream.codec_context.skip_frame = "NONKEY"
        try:
            for t, frame in self._decode_from(target):
                return t, _grey(frame)
            return None
        finally:
            self._stream.codec_context.skip_frame = "DEFAULT"

    def _decode_from(self, target: float) -> Iterator[tuple[float, av.VideoFrame]]:
        base = self._stream.time_base
        offset = int((target + self._origin) / base) if base else 0
        self._container.seek(max(offset, 0), stream=self._stream, backward=True)
        for frame in self._container.decode(self._stream):
            raw: float | None = frame.time
            if raw is not None:
                yield raw - self._origin, frame


def _grey(frame: av.VideoFrame) -> Gray:
    return np.asarray(frame.to_ndarray(format="gray"), dtype=np.uint8)
