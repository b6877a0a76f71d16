"""The word lists, and what is drawn from them: codenames for sources, and pseudonyms for the
newsroom (docs/codenames.md). Checking a typed codename is :mod:`tainik.core.codename`'s.

The word lists come from the ``diceware`` package (read through importlib.resources, never
copied into Tainik): the EFF large wordlist for codenames, and its adjective and noun lists for
designations. Lists are read on first use and checked, so a damaged installation cannot
silently weaken codenames.
"""

from __future__ import annotations

import math
import re
import secrets
from functools import cache
from importlib import resources

from tainik.core import codename
from tainik.core.errors import N_, TainikError
from tainik.crypto import Secret

EFF_WORDS = 7776  # 6^5: the EFF large wordlist, one entry per roll of five dice
_PACKAGE = "diceware"
_EFF_LIST = "wordlist_en_eff.txt"
_ADJECTIVES = "wordlist_en_adjectives.txt"
_NOUNS = "wordlist_en_nouns.txt"
_DICE = re.compile(r"[1-6]+")
_ENTRY = re.compile(r"[a-z]+(?:-[a-z]+)*")
_PGP_BEGIN = "-----BEGIN PGP SIGNED MESSAGE-----"
_PGP_SIGNATURE = "-----BEGIN PGP SIGNATURE-----"


class WordListError(TainikError):
    """A word list of the installed ``diceware`` package is not what Tainik expects."""

    status = 500  # the server's own installation is broken, not the request
    code = "internal"
    template = N_(
        "The word list {name} of the installed diceware package is damaged ({problem}); "
        "reinstall Tainik"
    )


def eff_wordlist() -> tuple[str, ...]:
    """The 7,776 entries of the EFF large wordlist, in list order, as the EFF spells them."""
    return _eff_wordlist()


def vocabulary() -> frozenset[str]:
    """The normalized codename entries, for :func:`tainik.core.codename.check_words`."""
    return _vocabulary()


def generate(rng: secrets.SystemRandom | None = None) -> Secret:
    """A new codename: :data:`~tainik.core.codename.WORDS` entries drawn from the OS CSPRNG."""
    choose = rng.choice if rng is not None else secrets.choice
    words = eff_wordlist()
    return Secret(" ".join(choose(words) for _ in range(codename.WORDS)))


def entropy_bits() -> float:
    """Bits of entropy of a generated codename (7 · log2 7776 ≈ 90.5)."""
    return codename.WORDS * math.log2(len(eff_wordlist()))


def designation(rng: secrets.SystemRandom | None = None) -> str:
    """A random "adjective noun" pseudonym by which the newsroom names a source.

    Drawn afresh, never derived from the codename, so it reveals nothing of it. About 23 bits:
    distinct sources may draw the same one, and callers that need it unique draw again.
    """
    choose = rng.choice if rng is not None else secrets.choice
    return f"{choose(_word_list(_ADJECTIVES))} {choose(_word_list(_NOUNS))}"


@cache
def _eff_wordlist() -> tuple[str, ...]:
    words = _word_list(_EFF_LIST)
    if len(words) != EFF_WORDS:
        raise WordListError(name=_EFF_LIST, problem=f"{len(words)} words, not {EFF_WORDS}")
    normalized = [codename.normalize(w) for w in words]
    if len(set(normalized)) != EFF_WORDS:
        raise WordListError(name=_EFF_LIST, problem="repeated words")
    # An entry that begins with another whole entry ("t shirt" after "t") would make two
    # different codenames read the same once normalized; the EFF list has none.
    prefixes = {
        " ".join(tokens[:size])
        for tokens in (n.split(" ") for n in normalized)
        for size in range(1, len(tokens))
    }
    if not prefixes.isdisjoint(normalized):
        raise WordListError(name=_EFF_LIST, problem="an entry begins with another entry")
    return words


@cache
def _vocabulary() -> frozenset[str]:
    return frozenset(codename.normalize(w) for w in eff_wordlist())


@cache
def _word_list(name: str) -> tuple[str, ...]:
    """The entries of one list of the diceware package, checked."""
    text = (resources.files(_PACKAGE) / "wordlists" / name).read_text(encoding="utf-8")
    try:
        words = parse_word_list(text)
    except ValueError as exc:
        raise WordListError(name=name, problem=str(exc)) from exc
    if not words or len(set(words)) != len(words):
        raise WordListError(name=name, problem="empty, or repeated words")
    return words


def parse_word_list(text: str) -> tuple[str, ...]:
    """The entries of a diceware word list: one a line, maybe after dice digits, maybe signed.

    Accepts ``abacus``, ``11111<TAB>abacus`` and an OpenPGP clear-signed list; raises
    ValueError for anything else (an entry is lowercase ASCII letters, maybe with hyphens).
    """
    lines = text.splitlines()
    if lines and lines[0].strip() == _PGP_BEGIN:
        lines = _clear_signed_body(lines)
    words = []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if len(fields) == 2 and _DICE.fullmatch(fields[0]):
            fields = fields[1:]
        if not fields:
            continue
        if len(fields) != 1 or not _ENTRY.fullmatch(fields[0]):
            raise ValueError(f"line {number} is not one word")
        words.append(fields[0])
    return tuple(words)


def _clear_signed_body(lines: list[str]) -> list[str]:
    """The text of an OpenPGP clear-signed message (RFC 4880 §7), not checking the signature."""
    # Armor headers ("Hash: …") end at the first blank line; the signature follows the text.
    blank = [i for i, line in enumerate(lines) if i > 0 and not line.strip()]
    ends = [i for i, line in enumerate(lines) if line.strip() == _PGP_SIGNATURE]
    if not blank or not ends or ends[0] < blank[0]:
        raise ValueError("a malformed signed list")
    start, end = blank[0] + 1, ends[0]
    return [line.removeprefix("- ") for line in lines[start:end]]
