"""The command-line reference (``docs/cli.md``), generated from the parser itself.

``python -m tainik.cli.reference > docs/cli.md`` (or ``make docs``) regenerates it; a test
fails when the committed file differs from what the command line would print.
"""

from __future__ import annotations

import argparse
import functools
import gettext
import sys
from collections.abc import Iterator

from tainik.cli.context import Context
from tainik.cli.main import build_parser

# argparse wraps to the terminal's width; a fixed one keeps the reference the same everywhere.
WIDTH = 100

HEADER = (
    "# Command-line reference\n"
    "\n"
    "<!-- Generated from the command line itself by `python -m tainik.cli.reference`\n"
    "     (`make docs`); do not edit by hand. tests/cli/test_reference.py checks it. -->\n"
    "\n"
    "Every command's `--help`, in English. Run `tainik COMMAND --help` for the same text in\n"
    "your language.\n"
)


def commands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """``parser`` and every sub-command parser below it, depth first, in declaration order."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            # One parser per name: aliases map to the same parser and are documented once.
            seen: list[argparse.ArgumentParser] = []
            for child in action.choices.values():
                if not any(child is other for other in seen):
                    seen.append(child)
                    yield from commands(child)


def _fix_width(parser: argparse.ArgumentParser) -> None:
    formatter = parser.formatter_class
    if not (isinstance(formatter, type) and issubclass(formatter, argparse.HelpFormatter)):
        raise TypeError(f"{parser.prog}: unexpected formatter {formatter!r}")
    parser.formatter_class = functools.partial(formatter, width=WIDTH)


def render(ctx: Context) -> str:
    """The reference in Markdown: each command's help in a fenced block, in ``ctx``'s language."""
    sections = [HEADER]
    for parser in commands(build_parser(ctx)):
        _fix_width(parser)
        text = parser.format_help().rstrip()
        sections.append(f"## {parser.prog}\n\n```text\n{text}\n```\n")
    return "\n".join(sections)


def main() -> int:
    """Print the English reference on standard output."""
    sys.stdout.write(render(Context(gettext.NullTranslations())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
