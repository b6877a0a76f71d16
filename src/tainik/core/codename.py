"""Codenames as typed by sources: normalization and checking (docs/codenames.md).

A codename is :data:`WORDS` entries of the codename list (the EFF large wordlist), separated by
spaces. Sources type it by hand, so :func:`normalize` forgives case, extra spaces and other
separators; the normalized text is what the key derivation reads. Pure: the word list itself
is loaded by :mod:`tainik.wordlists` and passed in.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from tainik.core.errors import CodenameError

WORDS = 7
# Longer input is refused before any parsing: a codename is at most a few dozen characters
# (at most 2 tokens an entry in the EFF list), and the source interface hands this module
# untrusted text. The bounds keep the check cheap whatever is typed.
MAX_CHARS = 512
MAX_TOKENS = 3 * WORDS
# Separators: Unicode White_Space, hyphen-minus, low line, full stop, and the dashes a phone
# keyboard may substitute for a hyphen. Written out so that other implementations (the
# browser's) match exactly; docs/codenames.md lists the same set.
_SEPARATORS = re.compile(
    r"["
    r"\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    r"\u002d\u005f\u002e\u2010-\u2015\u2212"
    r"]+"
)


def normalize(text: str) -> str:
    """The canonical form: NFKC, lower case, each run of separators one space, no end spaces.

    ``normalize(normalize(x)) == normalize(x)`` for every string.
    """
    text = unicodedata.normalize("NFKC", text)
    text = unicodedata.normalize("NFKC", text.lower())
    return _SEPARATORS.sub(" ", text).strip(" ")


def split(text: str) -> list[str]:
    """The space-separated tokens of the normalized text (``[]`` for blank text).

    Most list entries are one token; an entry written with a hyphen (``t-shirt``) is two.
    """
    normalized = normalize(text)
    return normalized.split(" ") if normalized else []


def check_words(text: str, vocabulary: frozenset[str]) -> None:
    """Raise :class:`CodenameError` unless ``text`` is :data:`WORDS` entries of ``vocabulary``.

    ``vocabulary`` holds normalized entries (see :func:`tainik.wordlists.vocabulary`). The
    error never quotes ``text``.
    """
    tokens = split(text) if len(text) <= MAX_CHARS else []
    if len(tokens) > MAX_TOKENS or not _decomposes(tuple(tokens), vocabulary, WORDS):
        raise CodenameError(words=WORDS)


def _decomposes(tokens: tuple[str, ...], vocabulary: frozenset[str], count: int) -> bool:
    """Whether ``tokens`` is exactly ``count`` vocabulary entries, one after another."""

    @cache
    def fits(start: int, remaining: int) -> bool:
        left = len(tokens) - start
        if remaining == 0 or left < remaining:
            return left == 0 and remaining == 0
        return any(
            " ".join(tokens[start : start + size]) in vocabulary
            and fits(start + size, remaining - 1)
            for size in range(1, left - remaining + 2)
        )

    return fits(0, count)
