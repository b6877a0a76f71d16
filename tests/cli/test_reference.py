"""docs/cli.md is the command line's own help, and every command shows an example."""

from __future__ import annotations

import gettext
import io
from pathlib import Path

from tainik.cli import reference
from tainik.cli.context import Context
from tainik.cli.main import build_parser

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def english() -> Context:
    return Context(gettext.NullTranslations(), stdout=io.StringIO(), stderr=io.StringIO())


def test_docs_match_the_command_line() -> None:
    assert DOC.read_text(encoding="utf-8") == reference.render(english()), (
        "docs/cli.md is out of date: regenerate it with "
        "`.venv/bin/python -m tainik.cli.reference > docs/cli.md` (or `make docs`)"
    )


def test_reference_covers_every_command() -> None:
    text = reference.render(english())
    progs = [parser.prog for parser in reference.commands(build_parser(english()))]
    assert progs[0] == "tainik"
    assert {"tainik keys new", "tainik keys show", "tainik seal", "tainik open"} <= set(progs)
    for prog in progs:
        assert f"\n## {prog}\n" in text


def test_every_command_has_an_example() -> None:
    missing = [
        parser.prog
        for parser in reference.commands(build_parser(english()))
        if "example" not in (parser.epilog or "")
    ]
    assert not missing, f"commands without an 'example(s):' epilog: {missing}"
