"""Sizes and times on the pages, in the page's language (Babel's numbers and dates).

A time tied to a source is stored to the hour at most (``storage/coarse.py``); showing it as
``14:00`` would claim a precision nobody has, so it is shown as the hour it fell in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date

from tainik.core.errors import N_
from tainik.i18n import format_size


def human_size(count: float, language: str, gettext: Any) -> str:
    """``10485760`` -> ``10.5 MB`` (en) or ``10,5 МБ`` (ru): :func:`tainik.i18n.format_size`,
    the units the browser's uploader and ``tainik send`` show too. (``gettext`` is unused:
    CLDR names the units in every language.)"""
    del gettext
    return format_size(count, language)


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
