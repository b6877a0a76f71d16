"""From an evidence series to segments: hysteresis, minimum length, merging, padding.

Pure functions over plain sequences (no I/O, no NumPy), so they can be reasoned about and
property-tested on their own. Evidence is normalised so that 1.0 is a signal's threshold
(:mod:`evidence`): sample ``k`` stands for the time ``[k * step, (k + 1) * step)``.

1. **Hysteresis**: a run is a maximal stretch of samples at or above ``leave`` that reaches
   ``enter`` somewhere. It starts on weak evidence just before the strong part and ends only
   when the evidence really drops, without flickering on noise around one threshold.
2. **Minimum length**: runs shorter than ``min_length`` seconds are dropped (single-frame
   blips; a slammed door still lasts the 0.4 s of a loudness window).
3. **Merging**: runs separated by at most ``merge_gap`` seconds become one segment.
4. **Padding**: the *review window* adds ``padding`` seconds on each side (within the video)
   for context; the segment itself keeps the detected start and end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Span:
    """A time interval in seconds, ``start <= end``."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


def hysteresis(values: Sequence[float], enter: float, leave: float) -> list[tuple[int, int]]:
    """Index runs ``[i, j)`` of ``values >= leave`` that contain a value ``>= enter``."""
    if leave > enter:
        raise ValueError("leave must not exceed enter")
    runs: list[tuple[int, int]] = []
    start: int | None = None
    strong = False
    for index, value in enumerate(values):
        if value >= leave:
            if start is None:
                start, strong = index, False
            strong = strong or value >= enter
        elif start is not None:
            if strong:
                runs.append((start, index))
            start = None
    if start is not None and strong:
        runs.append((start, len(values)))
    return runs


def merge(spans: Sequence[Span], gap: float) -> list[Span]:
    """Join spans (in time order) whose gap is at most ``gap`` seconds."""
    merged: list[Span] = []
    for span in sorted(spans):
        if merged and span.start - merged[-1].end <= gap + 1e-9:
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, span.end))
        else:
            merged.append(span)
    return merged


def segments(
    values: Sequence[float],
    step: float,
    leave: float,
    min_length: float,
    merge_gap: float,
    enter: float = 1.0,
) -> list[Span]:
    """Segments of an evidence series sampled every ``step`` seconds (steps 1-3 above)."""
    spans = [Span(i * step, j * step) for i, j in hysteresis(values, enter, leave)]
    kept = [s for s in spans if s.duration >= min_length - 1e-9]
    return merge(kept, merge_gap)


def pad(span: Span, padding: float, duration: float) -> Span:
    """The review window of a segment: ``padding`` seconds more on each side, within
    ``[0, duration]``."""
    return Span(max(0.0, span.start - padding), min(max(duration, span.end), span.end + padding))


def iou(a: Span, b: Span) -> float:
    """Intersection over union of two intervals (0 when disjoint, 1 when equal)."""
    overlap = min(a.end, b.end) - max(a.start, b.start)
    if overlap <= 0:
        return 0.0
    union = max(a.end, b.end) - min(a.start, b.start)
    return overlap / union if union > 0 else 0.0
