"""argparse's own words come in the user's language: "usage:", "options", its errors."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from pathlib import Path

from babel.messages.extract import extract

from tainik.cli import argparse_text

# argparse strings only a programmer misusing argparse meets: not for users, not translated.
FOR_PROGRAMMERS = {
    ".__call__() not defined",
    "conflicting subparser: %s",
    "conflicting subparser alias: %s",
    'argument "-" with mode %r',
    "cannot merge actions - two groups are named %r",
    "'required' is an invalid argument for positionals",
    "dest= is required for options like %r",
    "invalid conflict_resolution value: %r",
    "mutually exclusive arguments must be optional",
    "cannot have multiple subparser arguments",
    "%r is not callable",
    "conflicting option string: %s",
    "invalid option string %(option)r: must start with a character %(prefix_chars)r",
}


def tainik(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LANGUAGE": "ru"}
    return subprocess.run(
        [sys.executable, "-m", "tainik", *args], capture_output=True, text=True, env=env
    )


def test_help_and_usage_errors_come_in_russian() -> None:
    helped = tainik("send", "--help")
    assert helped.stdout.startswith("использование: tainik send")
    assert "\nпараметры:\n" in helped.stdout
    assert "показать эту справку и выйти" in helped.stdout
    assert "usage:" not in helped.stdout
    assert "options:" not in helped.stdout
    refused = tainik("send")
    assert refused.returncode == 2
    assert "tainik send: ошибка: не хватает обязательных аргументов: --server" in refused.stderr
    assert "usage" not in refused.stderr
    assert "error" not in refused.stderr


def test_every_user_facing_argparse_string_is_in_our_catalogue() -> None:
    """argparse's wording changes between Python versions: a new string fails here."""
    source = Path(argparse.__file__).read_bytes()
    found = set()
    for _line, message, _comments, _context in extract(
        "python", io.BytesIO(source), keywords={"_": None, "ngettext": (1, 2)}
    ):
        found.add(message if isinstance(message, str) else message[0])
    ours = set(argparse_text.MESSAGES) | {"expected %s argument"}
    assert found - FOR_PROGRAMMERS - ours == set()
