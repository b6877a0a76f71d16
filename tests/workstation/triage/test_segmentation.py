"""Hysteresis, minimum length, merging, padding and IoU, by example and by property."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tainik.workstation.triage.segmentation import Span, hysteresis, iou, merge, pad, segments

values = st.lists(st.floats(min_value=0.0, max_value=5.0), max_size=200)


def test_hysteresis_extends_to_the_weak_evidence_around_a_strong_part() -> None:
    series = [0, 0.6, 0.8, 1.2, 0.9, 0.6, 0.4, 0.7, 0.9, 0]
    # 0.7/0.9 after the dip never reach 1.0: not a run of their own.
    assert hysteresis(series, enter=1.0, leave=0.5) == [(1, 6)]


def test_hysteresis_does_not_flicker_around_one_threshold() -> None:
    series = [1.1, 0.9, 1.1, 0.9, 1.1]
    assert hysteresis(series, enter=1.0, leave=0.5) == [(0, 5)]
    assert hysteresis(series, enter=1.0, leave=1.0) == [(0, 1), (2, 3), (4, 5)]


def test_hysteresis_rejects_inverted_thresholds() -> None:
    with pytest.raises(ValueError, match="leave"):
        hysteresis([1.0], enter=0.5, leave=1.0)


def test_short_runs_are_dropped_before_merging() -> None:
    series = [0.0] * 10 + [2.0] * 1 + [0.0] * 10 + [2.0] * 5 + [0.0] * 5
    found = segments(series, 0.1, leave=0.5, min_length=0.4, merge_gap=4.0)
    assert found == [Span(pytest.approx(2.1), pytest.approx(2.6))]  # type: ignore[arg-type]


def test_close_segments_merge() -> None:
    assert merge([Span(0, 1), Span(1.5, 2), Span(5, 6)], gap=0.5) == [Span(0, 2), Span(5, 6)]


def test_padding_stays_inside_the_video() -> None:
    assert pad(Span(1.0, 5.0), 2.0, duration=6.0) == Span(0.0, 6.0)
    assert pad(Span(3.0, 4.0), 1.0, duration=60.0) == Span(2.0, 5.0)


def test_iou() -> None:
    assert iou(Span(0, 10), Span(0, 10)) == 1.0
    assert iou(Span(0, 10), Span(10, 20)) == 0.0
    assert iou(Span(0, 10), Span(5, 15)) == pytest.approx(5 / 15)


@given(values, st.floats(0.1, 3.0), st.floats(0.05, 1.0))
def test_runs_hold_leave_and_reach_enter(series: list[float], enter: float, ratio: float) -> None:
    leave = enter * ratio
    runs = hysteresis(series, enter, leave)
    for start, end in runs:
        assert all(v >= leave for v in series[start:end])
        assert any(v >= enter for v in series[start:end])
        assert start == 0 or series[start - 1] < leave  # maximal on both sides
        assert end == len(series) or series[end] < leave
    covered = {i for start, end in runs for i in range(start, end)}
    assert all(i in covered for i, v in enumerate(series) if v >= enter)


@given(values, st.floats(0.0, 2.0), st.floats(0.0, 3.0))
def test_segments_are_ordered_long_and_apart(
    series: list[float], min_length: float, gap: float
) -> None:
    found = segments(series, 0.1, leave=0.5, min_length=min_length, merge_gap=gap)
    for one in found:
        assert one.duration >= min_length - 1e-9
    for before, after in itertools.pairwise(found):
        assert after.start - before.end > gap


@given(st.floats(0, 100), st.floats(0, 100), st.floats(0, 100), st.floats(0, 100))
def test_iou_is_symmetric_and_bounded(a: float, b: float, c: float, d: float) -> None:
    one, two = Span(min(a, b), max(a, b)), Span(min(c, d), max(c, d))
    assert iou(one, two) == iou(two, one)
    assert 0.0 <= iou(one, two) <= 1.0
