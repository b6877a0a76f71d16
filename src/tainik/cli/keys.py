"""``tainik keys``: make and inspect the organisation's identity files."""

from __future__ import annotations

import argparse
from pathlib import Path

from tainik import crypto
from tainik.cli.context import Context
from tainik.cli.passphrase import read_passphrase
from tainik.core.errors import N_, IdentityError
from tainik.sealed import durable


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
