"""Helpers shared by the commands that use a vault, light enough for ``tainik pull``."""

from __future__ import annotations

import argparse
import getpass
import os
import unicodedata

from tainik.core.errors import N_, UsageError

ACTOR_ENV = "TAINIK_ACTOR"
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def actor(args: argparse.Namespace) -> str:
    """The actor's name: ``--actor``, ``$TAINIK_ACTOR`` or the login name."""
    name = args.actor or os.environ.get(ACTOR_ENV) or getpass.getuser()
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if not name or len(name) > 200:
        raise UsageError(N_("--actor must be a name of 1 to 200 printable characters"))
    return name


def jobs(value: int | None) -> int | None:
    """Check ``--jobs``."""
    if value is not None and value < 1:
        raise UsageError(N_("--jobs must be at least 1"))
    return value


def printable(text: str) -> str:
    """Untrusted text made safe for a terminal: control characters become U+FFFD."""
    return "".join(
        c if c in "\n\t" or unicodedata.category(c) not in _UNPRINTABLE else "\ufffd" for c in text
    )
