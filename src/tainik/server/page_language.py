"""Choosing the language of a page: an explicit choice (cookie), else Accept-Language."""

from __future__ import annotations

import functools
import gettext

from tainik import i18n

SUPPORTED = ("en", "ru")
LANG_COOKIE = "tainik_lang"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of one supported language (cached; catalogues are immutable)."""
    return i18n.translations([language])


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The page language: the cookie if valid, else the best Accept-Language match."""
    if cookie in SUPPORTED:
        return cookie
    best, best_q = "en", 0.0
    for item in (accept_language or "").split(",")[:20]:
        tag, _, params = item.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in SUPPORTED and q > best_q:
            best, best_q = primary, q
    return best
