"""Staff passwords must not be common ones.

A length rule alone let ``password1234`` through: the common words people build passwords on,
with digits or symbols added, are the first an attacker tries. This check refuses a password
whose core (lowercased, leetspeak undone, digits and symbols stripped from both ends) is one
of the most common passwords' base words (``common-passwords.txt``: SecLists, MIT License;
see its header), is that word repeated, is a keyboard or counting run, or is one character
repeated. It is not a strength estimator (no zxcvbn in the lock); it stops the obvious.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
RUNS = (
    "0123456789",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "йцукенгшщзхъ",
)
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@functools.cache
def common_words() -> frozenset[str]:
    """The list, as lowercase words."""
    text = resources.files(__package__).joinpath("common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _is_run(text: str) -> bool:
    return len(set(text)) <= 1 or any(text in run or text in run[::-1] for run in RUNS)


def is_common(password: str) -> bool:
    """True when ``password`` is built on a common password (see the module's docstring)."""
    lowered = password.lower()
    words = common_words()
    if lowered in words or _is_run(lowered):
        return True
    stripped = _EDGES.sub("", lowered)
    for core in {stripped, _EDGES.sub("", stripped.translate(LEET))}:
        if len(core) < 4 or core in words or _is_run(core):
            return True
        for size in range(1, len(core) // 2 + 1):  # the same word repeated
            repeated = len(core) % size == 0 and core[:size] * (len(core) // size) == core
            if repeated and (core[:size] in words or size <= 3):
                return True
    return False
