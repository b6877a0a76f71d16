"""Options and helpers shared by the ``tainik vault`` sub-commands."""

from __future__ import annotations

import argparse
import getpass
import os
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from tainik.cli.context import Context
from tainik.cli.passphrase import read_passphrase
from tainik.core.errors import N_, TainikError, UsageError
from tainik.workstation.signing import SigningKey
from tainik.workstation.vault import keyfile

if TYPE_CHECKING:
    from tainik.workstation.vault.vault import Vault

ACTOR_ENV = "TAINIK_ACTOR"
Sub: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def command(
    sub: Sub, name: str, help_text: str, description: str, epilog: str
) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=help_text,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_vault_argument(parser: argparse.ArgumentParser, ctx: Context) -> None:
    """The VAULT positional argument."""
    parser.add_argument("vault", type=Path, metavar="VAULT", help=ctx._("the vault folder"))


def add_actor_argument(parser: argparse.ArgumentParser, ctx: Context) -> None:
    """``--actor``: who is acting, for the custody log."""
    parser.add_argument(
        "--actor",
        metavar="NAME",
        default=None,
        help=ctx._(
            "who does this, as the custody log records it (default: $TAINIK_ACTOR, else the "
            "login name)"
        ),
    )


def add_jobs_argument(parser: argparse.ArgumentParser, ctx: Context) -> None:
    """``--jobs``."""
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help=ctx._("worker processes (default: one per core)"),
    )


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


def unlock(vault: Vault, ctx: Context) -> SigningKey:
    """The vault's signing key, asking for its passphrase when it has one."""
    path = vault.paths.key_file
    passphrase = None
    if keyfile.needs_passphrase(path):
        passphrase = read_passphrase(
            ctx._("Passphrase for the vault key {path}: ").format(path=path)
        )
    return keyfile.load(path, passphrase)


def printable(text: str) -> str:
    """Untrusted text made safe for a terminal: control characters become U+FFFD."""
    return "".join(
        c if c in "\n\t" or unicodedata.category(c) not in _UNPRINTABLE else "\ufffd" for c in text
    )


def say_head(vault: Vault, ctx: Context) -> None:
    """After a change to the vault: the custody log's new head, to be kept outside it."""
    from tainik.workstation.vault.verify import current_head  # noqa: PLC0415 - heavy

    try:
        head = current_head(vault)
    except TainikError as error:
        ctx.say(ctx._("warning: {message}").format(message=error.message(ctx._)))
        return
    ctx.say(
        ctx._("custody log head {head}: keep it outside the vault ('tainik vault head')").format(
            head=head
        )
    )
