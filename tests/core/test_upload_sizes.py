"""The size arithmetic of the upload protocol (docs/protocol.md, "Storing a segment"): the
server checks segment sizes and the organisation's limit from ciphertext lengths alone."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tainik.core.segments import CHUNK, SegmentPlan
from tainik.core.upload import (
    missing_segments,
    payload_length,
    plaintext_length,
    smallest_upload,
)

S = 4 * 1024 * 1024


@given(st.integers(0, S))
def test_a_payload_gives_back_its_plaintext_length(length: int) -> None:
    assert plaintext_length(payload_length(length), S) == length


@given(st.integers(0, payload_length(S) + 2 * CHUNK))
def test_only_real_payload_lengths_are_accepted(payload: int) -> None:
    length = plaintext_length(payload, S)
    if length is None:
        assert all(
            payload_length(n) != payload
            for n in range(max(0, payload - 16 - 16 * 70), min(S, payload) + 1)
        )
    else:
        assert 0 <= length <= S
        assert payload_length(length) == payload


@given(st.integers(0, 50 * S))
def test_smallest_upload_never_exceeds_the_real_size(length: int) -> None:
    plan = SegmentPlan(length, S)
    last = plan.size_of(plan.count - 1)
    assert smallest_upload(plan.count, last, S) == length
    assert smallest_upload(plan.count, None, S) <= length


@given(st.sets(st.integers(0, 80)), st.integers(1, 70), st.integers(0, 20))
def test_missing_segments_agrees_with_the_obvious_sets(
    received: set[int], count: int, listed: int
) -> None:
    """The walk over what is present gives what a set of every index would, but costs only
    what is present (the count comes from a request, up to 262,144)."""
    missing = sorted(set(range(count)) - received)
    assert missing_segments(sorted(received), count, listed) == (len(missing), missing[:listed])
