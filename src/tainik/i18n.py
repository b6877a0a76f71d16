"""Translations of user-facing text (gettext catalogues under ``tainik/locale``).

English is the source language; Russian ships from the start. Catalogues are compiled from
the ``.po`` files by ``make catalogs`` (part of ``make test`` and ``make run``).
"""

from __future__ import annotations

import gettext
from collections.abc import Sequence
from pathlib import Path

from babel.units import format_unit

DOMAIN = "tainik"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "ru")


def translations(languages: Sequence[str] | None = None) -> gettext.NullTranslations:
    """The catalogue for ``languages`` (or the environment's, when None); English fallback."""
    return gettext.translation(
        DOMAIN,
        localedir=LOCALE_DIR,
        languages=list(languages) if languages else None,
        fallback=True,
    )


def available() -> tuple[str, ...]:
    """Languages whose compiled catalogue is installed."""
    found = [
        lang
        for lang in LANGUAGES[1:]
        if (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()
    ]
    return ("en", *found)


# CLDR's units of digital size are decimal (1 kB = 1000 bytes): "10.5 MB", "10,5 МБ".
_SIZE_UNITS = ("digital-byte", "digital-kilobyte", "digital-megabyte", "digital-gigabyte")
_LAST_SIZE_UNIT = "digital-terabyte"


def format_size(count: float, language: str) -> str:
    """A number of bytes for people, in ``language``'s words and digits (Babel, CLDR):
    ``format_size(10485760, "ru") == "10,5 МБ"``; the browser's uploader formats the same
    way with ``Intl.NumberFormat``."""
    value = float(count)
    for unit in _SIZE_UNITS:
        digits = 0 if unit == "digital-byte" else 1
        if round(value, digits) < 1000:
            return _unit(value, unit, digits, language)
        value /= 1000
    return _unit(value, _LAST_SIZE_UNIT, 1, language)


def _unit(value: float, unit: str, digits: int, language: str) -> str:
    pattern = "#,##0" if digits == 0 else "#,##0.0"
    # "12 bytes", not "12 byte"; "10.5 MB", not "10.5 megabytes"
    if unit == "digital-byte":
        text: str = format_unit(value, unit, length="long", format=pattern, locale=language)
    else:
        text = format_unit(value, unit, length="short", format=pattern, locale=language)
    return text
