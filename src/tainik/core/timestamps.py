"""Moments as text: the one UTC spelling Tainik writes, and the one strict reader.

Tainik writes every moment as RFC 3339 in UTC with microseconds and a ``Z``::

    2026-12-06T04:57:03.250017Z

(:func:`format_utc`). Fixed width, so such texts sort as the moments do; microseconds, so
that nothing written with them (the custody log) loses precision.

:func:`parse_utc` reads that, and every spelling earlier versions wrote (tests/vectors/records/
timestamps.json lists them): no fraction (``2026-12-06T04:57:03Z``), and ``+00:00`` instead
of ``Z`` (``2026-12-06T04:57:03+00:00``, in age identity files). It refuses anything else:
another offset, no offset, a space for the ``T``, more than six fraction digits (which would
be rounded), a leap second, and any text around the moment.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_UTC_TEXT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:Z|\+00:00)", re.ASCII
)


def format_utc(moment: datetime) -> str:
    """``moment`` (timezone-aware) in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``.

    Raises :class:`ValueError` for a naive datetime (its zone is unknown) and for a moment
    outside the years 1 to 9999 once in UTC.
    """
    if moment.utcoffset() is None:
        raise ValueError("a timestamp needs a timezone-aware datetime")
    try:
        u = moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"{moment!r} is outside the years 1 to 9999 in UTC") from exc
    # Not strftime: its %Y does not pad years below 1000 to four digits on every platform.
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
        f".{u.microsecond:06d}Z"
    )


def parse_utc(text: str) -> datetime:
    """The timezone-aware UTC moment ``text`` spells (see the module docstring).

    Raises :class:`ValueError`, naming the text, for anything else.
    """
    match = _UTC_TEXT.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a UTC timestamp like 2026-12-06T04:57:03.250017Z")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = match.group(7) or ""
    try:
        return datetime(
            year, month, day, hour, minute, second, int(fraction.ljust(6, "0")), tzinfo=UTC
        )
    except ValueError as exc:  # month 13, February 30, hour 24, second 60...
        raise ValueError(f"{text!r} is not a real moment: {exc}") from exc
