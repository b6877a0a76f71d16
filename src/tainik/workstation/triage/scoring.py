"""Scores for segments, and the ranking across every video.

A segment's score (0..1) grows with how strongly and how many signals passed their
thresholds, and a little with its length:

    strength_s = min(peak evidence of signal s, 4) / 4          (4 = four times the threshold)
    combined   = 1 - product over signals of (1 - 0.8 * strength_s)
    length     = min(1, ln(1 + seconds) / ln(61))               (a minute counts in full)
    score      = combined * (0.5 + 0.5 * length)

So one signal at four times its threshold gives at most 0.8, and motion with a shout beats
either alone. Ties keep the order of the videos and of time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from tainik.workstation.triage.evidence import Evidence
from tainik.workstation.triage.results import Segment, VideoResult
from tainik.workstation.triage.segmentation import Span, merge

#: Evidence (in thresholds) at which a signal's strength is full.
CAP = 4.0
#: What one signal at full strength contributes.
WEIGHT = 0.8
#: Seconds at which the length factor is full.
FULL_LENGTH = 60.0


@dataclass(frozen=True)
class Scored:
    """The score of one span and what lies behind it."""

    score: float
    why: tuple[str, ...]
    peak_time: float
    peaks: dict[str, float]


def score(evidence: Evidence, span: Span) -> Scored:
    """Score ``span`` (which lies on ``evidence``'s grid)."""
    first = round(span.start / evidence.step)
    last = max(first + 1, round(span.end / evidence.step))
    remaining, why, peaks = 1.0, [], {}
    for name, series in evidence.series.items():
        window = series[first:last]
        if window.size == 0:
            continue
        strongest = float(window.max())
        remaining *= 1.0 - WEIGHT * min(strongest, CAP) / CAP
        if strongest >= 1.0:
            why.append(name)
        peaks[name] = round(float(evidence.measures[name][first:last].max()), 6)
    length = min(1.0, math.log1p(span.duration) / math.log1p(FULL_LENGTH))
    value = (1.0 - remaining) * (0.5 + 0.5 * length)
    combined = evidence.combined()[first:last]
    peak = first + int(np.argmax(combined)) if combined.size else first
    return Scored(round(value, 4), tuple(why), round(peak * evidence.step, 3), peaks)


@dataclass(frozen=True)
class Ranked:
    """One segment in the ranking across videos."""

    rank: int
    video: VideoResult
    segment: Segment


def rank(results: Sequence[VideoResult]) -> list[Ranked]:
    """Every segment of every video, best first."""
    entries = [
        (order, video, segment) for order, video in enumerate(results) for segment in video.segments
    ]
    entries.sort(key=lambda e: (-e[2].score, e[0], e[2].start))
    return [Ranked(n, video, segment) for n, (_, video, segment) in enumerate(entries, 1)]


def review_seconds(segments: Iterable[Segment]) -> float:
    """Seconds a reviewer watches to see every review window of one video once."""
    windows = merge([Span(s.review_start, s.review_end) for s in segments], 0.0)
    return sum(w.duration for w in windows)
