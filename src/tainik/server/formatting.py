"""Sizes and times on the pages, in the page's language (Babel's numbers and dates).

A time tied to a source is stored to the hour at most (``storage/coarse.py``); showing it as
``14:00`` would claim a precision nobody has, so it is shown as the hour it fell in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal

from tainik.core.errors import N_

# Binary units, as the rest of Tainik counts (core/units.py), with their names translated.
UNITS = (N_("{size} B"), N_("{size} KiB"), N_("{size} MiB"), N_("{size} GiB"), N_("{size} TiB"))


def human_size(count: float, language: str, gettext: Any) -> str:
    """``1536`` -> ``1.5 KiB`` (en) or ``1,5 КиБ`` (ru)."""
    unit = 0
    while count >= 1024 and unit < len(UNITS) - 1:
        count /= 1024
        unit += 1
    number = format_decimal(count, "#,##0" if unit == 0 else "#,##0.0", locale=language)
    return str(gettext(UNITS[unit]).format(size=number))


def hour_span(moment: datetime, language: str, gettext: Any) -> str:
    """The hour ``moment`` fell in: ``Dec 3, 2026, 14:00–15:00 UTC``."""
    start = moment.replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=1)
    return str(
        gettext(N_("{date}, {start}–{end} UTC")).format(
            date=format_date(start, "medium", locale=language),
            start=start.strftime("%H:%M"),
            end=end.strftime("%H:%M"),
        )
    )
