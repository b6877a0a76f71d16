from __future__ import annotations

import math

import pytest

from tainik.core.errors import UsageError
from tainik.workstation.redact.geometry import Box
from tainik.workstation.redact.regions import parse_region, parse_time


@pytest.mark.parametrize(
    ("text", "box", "start", "end"),
    [
        ("10,20,30,40", Box(10, 20, 40, 60), 0.0, math.inf),
        ("10,20,30,40@1.5-4", Box(10, 20, 40, 60), 1.5, 4.0),
        (" 1, 2, 3, 4 @ 1:02.5 - 1:00:00 ", Box(1, 2, 4, 6), 62.5, 3600.0),
        ("0,0,5,5@3-", Box(0, 0, 5, 5), 3.0, math.inf),
        ("0,0,5,5@-3", Box(0, 0, 5, 5), 0.0, 3.0),
    ],
)
def test_parse(text: str, box: Box, start: float, end: float) -> None:
    region = parse_region(text)
    assert (region.box, region.start, region.end) == (box, start, end)
    assert parse_region(region.describe()) == region


@pytest.mark.parametrize(
    "text",
    [
        "",
        "10,20,30",
        "10,20,30,40@",
        "a,b,c,d",
        "-1,0,5,5",
        "1,2,0,4",
        "1,2,3,4@5-2",
        "1,2,3,4@1-2-3",
        "1,2,3,4;rm -rf",
    ],
)
def test_reject(text: str) -> None:
    with pytest.raises(UsageError):
        parse_region(text)


def test_active_is_inclusive() -> None:
    region = parse_region("0,0,1,1@1-2")
    assert [region.active(t) for t in (0.99, 1.0, 2.0, 2.01)] == [False, True, True, False]
    assert parse_time("1:1:1.5") == 3661.5
