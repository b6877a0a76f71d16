from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tainik.core.errors import FormatError
from tainik.core.segments import CHUNK, MAX_SEGMENT_SIZE, SegmentPlan, check_segment_size


@pytest.mark.parametrize(
    ("length", "count", "last"),
    [(0, 1, 0), (1, 1, 1), (CHUNK - 1, 1, CHUNK - 1), (CHUNK, 1, CHUNK), (CHUNK + 1, 2, 1)],
)
def test_plan_edges(length: int, count: int, last: int) -> None:
    plan = SegmentPlan(length, CHUNK)
    assert plan.count == count
    assert plan.size_of(count - 1) == last


@given(st.integers(0, 10**12), st.integers(1, MAX_SEGMENT_SIZE // CHUNK))
def test_plan_covers_every_byte_once(length: int, chunks: int) -> None:
    plan = SegmentPlan(length, chunks * CHUNK)
    sizes = [plan.size_of(i) for i in (0, plan.count - 1)]
    assert plan.offset(plan.count - 1) + sizes[-1] == length
    assert all(0 < plan.size_of(i) <= plan.segment_size for i in range(plan.count) if length)
    with pytest.raises(IndexError):
        plan.size_of(plan.count)


@pytest.mark.parametrize("size", [0, CHUNK - 1, CHUNK + 1, MAX_SEGMENT_SIZE + CHUNK, -CHUNK])
def test_bad_segment_sizes_are_rejected(size: int) -> None:
    with pytest.raises(FormatError):
        check_segment_size(size)


def test_negative_length_is_rejected() -> None:
    with pytest.raises(FormatError):
        SegmentPlan(-1, CHUNK)
