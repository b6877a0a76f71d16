"""The UTC timestamp codec: one spelling out, every spelling main ever wrote back in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tainik.core.timestamps import format_utc, parse_utc

OLD = Path(__file__).parents[1] / "vectors" / "records" / "timestamps.json"

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=offsets
)


@given(aware)
@example(datetime(1, 1, 1, tzinfo=UTC))
@example(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
def test_parse_gives_back_the_moment_formatted(moment: datetime) -> None:
    text = format_utc(moment)
    back = parse_utc(text)
    assert back == moment
    assert back.utcoffset() == timedelta(0)
    assert format_utc(back) == text  # one canonical text per moment
    assert len(text) == len("2026-12-06T04:57:03.250017Z")


@given(aware, aware)
def test_canonical_texts_sort_as_the_moments_do(a: datetime, b: datetime) -> None:
    assert (format_utc(a) < format_utc(b)) == (a < b)


@pytest.mark.parametrize("case", json.loads(OLD.read_text()), ids=lambda c: c["text"])
def test_every_spelling_main_wrote_still_parses(case: dict[str, Any]) -> None:
    """tests/vectors/records/timestamps.json: each spelling, as main's code wrote it."""
    year, month, day, hour, minute, second, microsecond = case["utc"]
    expected = datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)
    assert parse_utc(case["text"]) == expected


def test_the_vectors_hold_all_five_spellings() -> None:
    texts = [c["text"] for c in json.loads(OLD.read_text())]
    shapes = {(t.endswith("Z"), "." in t, t.endswith("+00:00")) for t in texts}
    assert shapes == {(True, True, False), (True, False, False), (False, False, True)}
    assert len({c["where"] for c in json.loads(OLD.read_text())}) == 5


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-12-06",
        "2026-12-06T04:57:03",  # no zone: which one?
        "2026-12-06T04:57:03+03:00",  # not UTC
        "2026-12-06T04:57:03-00:00",
        "2026-12-06T04:57:03z",
        "2026-12-06 04:57:03Z",
        "2026-12-06t04:57:03Z",
        "2026-12-06T04:57:03.Z",
        "2026-12-06T04:57:03.1234567Z",  # would be rounded
        "2026-12-06T04:57:60Z",  # leap second
        "2026-13-06T04:57:03Z",
        "2026-02-30T04:57:03Z",
        "2026-12-06T24:00:00Z",
        " 2026-12-06T04:57:03Z",
        "2026-12-06T04:57:03Z\n",
        "２０２６-12-06T04:57:03Z",  # full-width digits
        "+2026-12-06T04:57:03Z",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"timestamp|moment"):
        parse_utc(text)


def test_shorter_fractions_are_fractions_of_a_second() -> None:
    assert parse_utc("2026-12-06T04:57:03.25Z").microsecond == 250000
    assert parse_utc("2026-12-06T04:57:03.000001Z").microsecond == 1


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_utc(datetime(2026, 12, 6, 4, 57, 3))


def test_a_moment_outside_the_years_is_refused() -> None:
    with pytest.raises(ValueError, match="years"):
        format_utc(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))))
