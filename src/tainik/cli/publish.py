"""``tainik publish``, ``tainik verify-publication`` and ``tainik open-commitment``
(docs/redaction.md, "Provenance" and "What publication commits to")."""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

from tainik.cli.context import Context
from tainik.cli.passphrase import read_passphrase
from tainik.cli.vault import say_head
from tainik.cli.vault_options import actor
from tainik.core.errors import N_, UsageError
from tainik.crypto import Secret
from tainik.sealed import durable
from tainik.workstation.publish import castore, sidecar
from tainik.workstation.publish.ca import check_trust_anchors
from tainik.workstation.publish.commitment import Opening
from tainik.workstation.publish.vaultlink import (
    ca_directory,
    find_opening,
    publish_stored,
)
from tainik.workstation.publish.verify import read_commitment, verify
from tainik.workstation.vault import keyfile
from tainik.workstation.vault.items import resolve
from tainik.workstation.vault.vault import Vault


def _passphrase(vault: Vault, ctx: Context) -> Secret | None:
    """One passphrase for the vault key and the CA key (they are protected alike)."""
    ca_dir = ca_directory(vault)
    protected = keyfile.needs_passphrase(vault.paths.key_file) or (
        castore.exists(ca_dir) and castore.needs_passphrase(ca_dir)
    )
    if not protected:
        return None
    return read_passphrase(
        ctx._("Passphrase for the vault key {path}: ").format(path=vault.paths.key_file)
    )


def run_publish(args: argparse.Namespace, ctx: Context) -> int:
    """Publish one redacted copy; print the published file's path."""
    with Vault.open(args.vault) as vault:
        stored = resolve(vault, args.item)
        passphrase = _passphrase(vault, ctx)
        key = keyfile.load(vault.paths.key_file, passphrase)
        now = datetime.datetime.now(datetime.UTC)
        with vault.writer(key, actor(args)) as writer:
            publication, record = publish_stored(
                writer, stored, args.out, passphrase, args.organisation, now
            )
        say_head(vault, ctx)
    ctx.say(
        ctx._(
            "signed by the vault's CA (certificate SHA-256 {ca}); the original is committed to "
            "as {commitment} (its opening is kept in custody record {seq} only)"
        ).format(
            ca=publication.ca_fingerprint,
            commitment=publication.commitment,
            seq=record.seq,
        )
    )
    print(publication.path, file=ctx.stdout, flush=True)
    return 0


def run_verify_publication(args: argparse.Namespace, ctx: Context) -> int:
    """Verify one published file; print what it claims."""
    if not args.file.is_file():
        raise UsageError(N_("{path}: not a regular file"), path=str(args.file))
    if args.original is not None and args.opening is None:
        raise UsageError(N_("--original needs --opening: the original is named only by it"))
    opening = None if args.opening is None else _read_opening(args.opening)
    trust = None
    if args.trust is not None:
        try:
            trust = args.trust.read_bytes()
        except OSError as exc:
            raise durable.storage_error(exc, args.trust) from exc
        check_trust_anchors(trust, args.trust)
    side = args.sidecar
    if side is None:
        default = args.file.with_name(args.file.name + sidecar.SUFFIX)
        side = default if default.is_file() else None
    result = verify(args.file, trust, side, opening, args.original)
    out = ctx.stdout
    print(f"original-commitment: {result.original_commitment}", file=out)
    if result.original_sha256 is not None:
        print(f"original-sha256: {result.original_sha256}", file=out)
    print(f"file-sha256: {result.file_sha256}", file=out)
    print(f"signer: {result.signer}", file=out)
    for action in result.actions:
        print(f"action: {action}", file=out)
    out.flush()
    if result.trusted:
        ctx.say(ctx._("verified: signed by a certificate from the trusted CA, file unaltered"))
    else:
        ctx.say(
            ctx._(
                "signature and content hashes are valid, but the signer was NOT checked: "
                "pass --trust with the publisher's CA certificate"
            )
        )
    if side is None:
        ctx.say(ctx._("no sidecar: the few MP4 boxes C2PA does not hash were not checked"))
    if result.original_checked:
        ctx.say(ctx._("the opening opens the commitment, and the original file is that original"))
    elif result.original_sha256 is not None:
        ctx.say(ctx._("the opening opens the commitment: the original has the SHA-256 above"))
    return 0


_MAX_OPENING = 64 * 1024


def _read_opening(path: Path) -> Opening:
    data = durable.read_bounded(
        path, _MAX_OPENING, UsageError(N_("{path}: not an opening"), path=str(path))
    )
    try:
        return Opening.from_json(json.loads(data))
    except ValueError as exc:
        raise UsageError(
            N_("{path}: not an opening ({reason})"), path=str(path), reason=str(exc)[:200]
        ) from exc


def run_open_commitment(args: argparse.Namespace, ctx: Context) -> int:
    """Print (or write) the opening of a publication's commitment."""
    given = Path(args.published)
    commitment = read_commitment(given) if given.is_file() else args.published
    with Vault.open(args.vault) as vault:
        opening, record = find_opening(vault, commitment)
    text = json.dumps(opening.to_json(), indent=1, sort_keys=True) + "\n"
    if args.out is None:
        ctx.stdout.write(text)
        ctx.stdout.flush()
    else:
        if args.out.exists():
            raise UsageError(
                N_("{path}: already exists; Tainik does not replace files"), path=str(args.out)
            )
        durable.write_file(args.out, text.encode("ascii"))
        print(args.out, file=ctx.stdout, flush=True)
    ctx.say(
        ctx._(
            "the opening of {commitment}, kept in custody record {seq}: whoever holds it can "
            "confirm which original was published"
        ).format(commitment=opening.commitment(), seq=record.seq)
    )
    return 0
