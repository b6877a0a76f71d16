"""``tainik publish``, ``tainik verify-publication`` and ``tainik open-commitment``
(docs/redaction.md, "Provenance" and "What publication commits to")."""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path
from typing import TYPE_CHECKING

from tainik.cli.context import Context
from tainik.cli.passphrase import read_passphrase
from tainik.cli.vault_options import actor, add_actor_argument, add_vault_argument, say_head
from tainik.core.errors import N_, UsageError
from tainik.crypto import Secret
from tainik.sealed import durable

# C2PA and the vault (SQLAlchemy, BLAKE3) load only when a command runs, so that building the
# parser (every tainik command) stays light.
if TYPE_CHECKING:
    from tainik.workstation.publish.commitment import Opening
    from tainik.workstation.vault.vault import Vault


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser], ctx: Context) -> None:
    """Add ``publish``, ``verify-publication`` and ``open-commitment``."""
    _ = ctx._
    publish = commands.add_parser(
        "publish",
        help=_("sign a redacted file for publication, with its provenance"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Write ITEM, a redacted copy stored in VAULT by 'tainik redact --vault', into DIR\n"
            "with a C2PA manifest signed by a certificate from the vault's own certificate\n"
            "authority. The manifest records the redaction and names the original only by a\n"
            "salted commitment: nobody can test a copy of the original against it, and the\n"
            "organisation can open it to a court ('tainik open-commitment'). Beside it:\n"
            "NAME.provenance.json (signed hashes) and ca.pem, the CA certificate verifiers\n"
            "trust. The CA is made on first use (--organisation names it). The publication,\n"
            "with the commitment's secret salt, is recorded in the custody log."
        ),
        epilog=_(
            "examples:\n"
            "  tainik vault copy evidence 12 --out work/\n"
            "  tainik redact work/cam3.mp4 --out work/cam3-public.mp4 --vault evidence\n"
            "  tainik publish evidence 5d41402abc4b2a76 --out public/ --organisation 'Our NGO'"
        ),
    )
    add_vault_argument(publish, ctx)
    publish.add_argument("item", metavar="ITEM", help=_("the redacted copy: a SHA-256 prefix"))
    publish.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help=_("folder for the publication")
    )
    publish.add_argument(
        "--organisation",
        default="Tainik organisation",
        metavar="NAME",
        help=_("the organisation named in a new CA (default: %(default)s)"),
    )
    add_actor_argument(publish, ctx)
    publish.set_defaults(run=run_publish)

    check = commands.add_parser(
        "verify-publication",
        help=_("check a published file's manifest, signature and integrity"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Check that FILE carries a valid C2PA manifest, signed by a certificate issued by\n"
            "the CA in --trust, that FILE is unaltered, and print the commitment to the\n"
            "original it claims to derive from. FILE.provenance.json, when present, is checked\n"
            "too: it covers every byte of FILE. Without --trust the signer is not checked.\n"
            "With --opening (what 'tainik open-commitment' printed), check that it opens the\n"
            "commitment and print the original's SHA-256; with --original too, check that\n"
            "file is that original."
        ),
        epilog=_(
            "examples:\n"
            "  tainik verify-publication public/published-5d41402abc4b2a76.mp4 --trust ca.pem\n"
            "  tainik verify-publication video.mp4 --trust ca.pem --sidecar video.json\n"
            "  tainik verify-publication video.mp4 --trust ca.pem --opening opening.json \\\n"
            "      --original cam3.mp4"
        ),
    )
    check.add_argument("file", type=Path, metavar="FILE", help=_("the published file"))
    check.add_argument(
        "--trust", type=Path, metavar="CA.pem", help=_("the publisher's CA certificate")
    )
    check.add_argument(
        "--sidecar",
        type=Path,
        metavar="JSON",
        help=_("the signed sidecar (default: FILE.provenance.json if present)"),
    )
    check.add_argument(
        "--opening",
        type=Path,
        metavar="JSON",
        help=_("the opening of the commitment to the original, from 'tainik open-commitment'"),
    )
    check.add_argument(
        "--original",
        type=Path,
        metavar="PATH",
        help=_("the original file, to check against the opening (needs --opening)"),
    )
    check.set_defaults(run=run_verify_publication)

    opening = commands.add_parser(
        "open-commitment",
        help=_("reveal which original a publication derives from (for a court)"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_(
            "Print the opening of the commitment to the original that PUBLISHED carries: the\n"
            "salt kept in VAULT's custody record of the publication and the original's\n"
            "SHA-256, as JSON. With it, 'tainik verify-publication --opening' (or anyone, by\n"
            "the recipe in docs/redaction.md) can check that the publication derives from that\n"
            "original. Whoever holds an opening can confirm that original: give it only to\n"
            "those who may know it. PUBLISHED is the published file, or its commitment (at\n"
            "least 16 hexadecimal digits). Needs no passphrase."
        ),
        epilog=_(
            "examples:\n"
            "  tainik open-commitment evidence public/published-5d41402abc4b2a76.mp4 "
            "--out opening.json\n"
            "  tainik open-commitment evidence 5d41402abc4b2a76"
        ),
    )
    add_vault_argument(opening, ctx)
    opening.add_argument(
        "published",
        metavar="PUBLISHED",
        help=_("the published file, or the start of its commitment"),
    )
    opening.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help=_("write the opening to FILE (never replaced) instead of printing it"),
    )
    opening.set_defaults(run=run_open_commitment)


def _passphrase(vault: Vault, ctx: Context) -> Secret | None:
    """One passphrase for the vault key and the CA key (they are protected alike)."""
    from tainik.workstation.publish import castore  # noqa: PLC0415 - X.509, only here
    from tainik.workstation.publish.vaultlink import ca_directory  # noqa: PLC0415 - heavy
    from tainik.workstation.vault import keyfile  # noqa: PLC0415

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
    from tainik.workstation.publish.vaultlink import publish_stored  # noqa: PLC0415 - heavy
    from tainik.workstation.vault import keyfile  # noqa: PLC0415
    from tainik.workstation.vault.items import resolve  # noqa: PLC0415 - heavy
    from tainik.workstation.vault.vault import Vault  # noqa: PLC0415 - heavy

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
    from tainik.workstation.publish import sidecar  # noqa: PLC0415
    from tainik.workstation.publish.ca import check_trust_anchors  # noqa: PLC0415
    from tainik.workstation.publish.verify import verify  # noqa: PLC0415 - C2PA, only here

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
    from tainik.workstation.publish.commitment import Opening  # noqa: PLC0415

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
    from tainik.workstation.publish.vaultlink import find_opening  # noqa: PLC0415 - heavy
    from tainik.workstation.publish.verify import read_commitment  # noqa: PLC0415 - C2PA
    from tainik.workstation.vault.vault import Vault  # noqa: PLC0415 - heavy

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
