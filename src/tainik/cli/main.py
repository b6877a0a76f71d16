"""The ``tainik`` entry point: parse, dispatch, and map every error to a message and exit code.

This is the one place where exceptions become what the user reads. The parser is built from
the declarations in :mod:`tainik.cli.syntax`; the command that runs is loaded then, from the
table in :mod:`tainik.cli.commands`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

from tainik import __version__, i18n
from tainik.cli import argparse_text, commands, syntax
from tainik.cli.context import Context
from tainik.cli.declare import add_command
from tainik.core.errors import ExitCode, TainikError


def _parser_class(ctx: Context) -> type[argparse.ArgumentParser]:
    """An ArgumentParser that prints help and usage errors to the context's streams."""

    class Parser(argparse.ArgumentParser):
        def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
            if message:
                stream = ctx.stderr if file is sys.stderr else ctx.stdout
                stream.write(message)

    return Parser


def build_parser(ctx: Context) -> argparse.ArgumentParser:
    """The whole command tree (also used to generate and check the CLI reference)."""
    _ = ctx._
    parser = _parser_class(ctx)(
        prog="tainik",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Tainik: a secure whistleblowing and evidence system. Seals files with age so\n"
            "that only the organisation's identity can open them, and verifies them on open."
        ),
        epilog=_(
            "exit codes:\n"
            "  0    success\n"
            "  1    internal error (a bug: please report it)\n"
            "  2    usage error (bad arguments or recipient)\n"
            "  3    key error (not a recipient, wrong passphrase, bad identity file)\n"
            "  4    integrity error (sealed file corrupt, tampered with or incomplete)\n"
            "  5    input/output error (missing file, permission, disk full)\n"
            "  130  interrupted\n"
            "\n"
            "examples:\n"
            "  tainik keys new --out org.key > org.pub\n"
            "  tainik seal evidence.mp4 --to $(cat org.pub) --out outbox/\n"
            "  tainik open outbox/*.sealed --identity org.key --out plain/"
        ),
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"tainik {__version__}",
        help=_("show the version number and exit"),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in syntax.COMMANDS:
        add_command(sub, command, ctx)
    return parser


def run(argv: Sequence[str] | None, ctx: Context) -> int:
    """Run one command; returns the exit code."""
    parser = build_parser(ctx)
    args = parser.parse_args(argv)
    try:
        code: int = commands.load(args.run)(args, ctx)
    except TainikError as error:
        ctx.say(ctx._("tainik: error: {message}").format(message=error.message(ctx._)))
        hint = error.advice(ctx._)
        if hint is not None:
            ctx.say(ctx._("tainik: hint: {hint}").format(hint=hint))
        return error.exit_code
    except KeyboardInterrupt:
        ctx.say(ctx._("tainik: interrupted"))
        return ExitCode.INTERRUPTED
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point."""
    os.umask(0o077)  # everything Tainik creates is for its owner only
    argparse_text.install()
    ctx = Context(i18n.translations())
    return run(argv, ctx)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
