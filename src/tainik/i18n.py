"""Translations of user-facing text (gettext catalogues under ``tainik/locale``).

English is the source language; Russian ships from the start. Catalogues are compiled from
the ``.po`` files by ``make catalogs`` (part of ``make test`` and ``make run``).
"""

from __future__ import annotations

import gettext
from collections.abc import Sequence
from pathlib import Path

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
