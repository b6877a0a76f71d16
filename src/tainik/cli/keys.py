"""``tainik keys``: make and inspect the organisation's identity files."""

from __future__ import annotations

import argparse
from pathlib import Path

from tainik import crypto
from tainik.cli.context import Context
from tainik.cli.passphrase import read_passphrase
from tainik.core.errors import N_, IdentityError
from tainik.sealed import durable


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser], ctx: Context) -> None:
    """Add ``keys new`` and ``keys show``."""
    _ = ctx._
    keys = commands.add_parser(
        "keys",
        help=_("make and inspect identity files (private keys)"),
        description=_("Make and inspect age identity files (the organisation's private keys)."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_(
            "examples:\n  tainik keys new --out org.key > org.pub\n  tainik keys show org.key"
        ),
    )
    sub = keys.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    new = sub.add_parser(
        "new",
        help=_("make a new identity file and print its recipient"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Make a new X25519 identity, write it to PATH (mode 0600, never overwriting) and\n"
            "print its recipient (age1...) on standard output. The file is protected with a\n"
            "passphrase unless --no-passphrase is given; the passphrase is read from the file\n"
            "named by TAINIK_PASSPHRASE_FILE, or asked for twice at the terminal. The file is\n"
            "a standard age identity: 'age -d -i PATH' reads it too."
        ),
        epilog=_(
            "examples:\n"
            "  tainik keys new --out org.key > org.pub\n"
            "  tainik keys new --out test.key --no-passphrase"
        ),
    )
    new.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="PATH",
        help=_("where to write the identity file"),
    )
    new.add_argument(
        "--no-passphrase",
        action="store_true",
        help=_("write the key unprotected (only for tests and disposable keys)"),
    )
    new.set_defaults(run=run_new)
    show = sub.add_parser(
        "show",
        help=_("print the recipient of an identity file"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Print the recipient (public key) of each identity in PATH, or with --fingerprint\n"
            "its fingerprint: the first 24 hex digits of SHA-256 over the recipient's text,\n"
            "in groups of four."
        ),
        epilog=_("examples:\n  tainik keys show org.key\n  tainik keys show --fingerprint org.key"),
    )
    show.add_argument("path", type=Path, metavar="PATH", help=_("an identity file"))
    show.add_argument(
        "--fingerprint",
        action="store_true",
        help=_(
            "print each recipient's fingerprint instead (the newsroom asks for it when the key "
            "is added to the server)"
        ),
    )
    show.set_defaults(run=run_show)


def run_new(args: argparse.Namespace, ctx: Context) -> int:
    """Write a new identity file."""
    identity = crypto.Identity.generate()
    text = crypto.identity_file_text(identity)
    if args.no_passphrase:
        data = text.encode("utf-8")
    else:
        passphrase = read_passphrase(ctx._("New passphrase: "), ctx._("Repeat the passphrase: "))
        data = crypto.seal_identity_file(text, passphrase)
    durable.write_file(args.out, data)
    print(identity.recipient.text, file=ctx.stdout)
    ctx.say(
        ctx._(
            "Wrote the identity to {path}. Keep it offline; anyone who has it (and its "
            "passphrase) can read everything sealed to it."
        ).format(path=args.out)
    )
    ctx.say(
        ctx._("Its fingerprint, which the newsroom asks for when the key is added: {fp}").format(
            fp=identity.recipient.fingerprint
        )
    )
    return 0


def load_identities(path: Path, ctx: Context) -> list[crypto.Identity]:
    """Read an identity file, asking for its passphrase when it is protected."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise durable.storage_error(exc, path) from exc
    if len(data) > 1024 * 1024:
        raise IdentityError(N_("{path}: too large to be an identity file"), path=str(path))
    passphrase = None
    if crypto.is_passphrase_protected(data):
        passphrase = read_passphrase(ctx._("Passphrase for {path}: ").format(path=path))
    return crypto.parse_identity_file(data, passphrase)


def run_show(args: argparse.Namespace, ctx: Context) -> int:
    """Print the recipients of an identity file."""
    for identity in load_identities(args.path, ctx):
        recipient = identity.recipient
        print(recipient.fingerprint if args.fingerprint else recipient.text, file=ctx.stdout)
    return 0


__all__ = ["load_identities", "register"]
