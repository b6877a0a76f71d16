"""Redaction and publication in the evidence vault: stored, recorded, signed by its CA.

- :func:`store_redacted`: a redacted copy of a stored original goes into the vault as a
  derived file, with a ``derive`` custody record (purpose ``redact``) whose details hold the
  redaction record: tool, model hash, mode, counts, settings (the original's file name left
  out: the record names the original by its hashes).
- :func:`publish_stored`: a stored redacted file is signed with a certificate from the vault's
  own CA (``VAULT/ca/``, made on first use, its key protected like the vault key) into an
  output folder, and an ``export`` record (purpose ``publication``) names what was handed out
  and keeps the opening of the commitment to the original (its salt): the one place it is.
- :func:`find_opening`: the opening of a published commitment, from that record.
"""

from __future__ import annotations

import datetime
import json
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from tainik.core.errors import N_
from tainik.crypto import Secret
from tainik.sealed import durable
from tainik.workstation.publish import castore
from tainik.workstation.publish.commitment import SCHEME, Opening, is_hex64
from tainik.workstation.publish.publication import Publication, publish_file
from tainik.workstation.vault import catalogue
from tainik.workstation.vault.canonical import JsonObject, JsonValue, NotCanonical
from tainik.workstation.vault.copyout import copy_verified
from tainik.workstation.vault.custody import Action, CustodyRecord, FileRef
from tainik.workstation.vault.errors import VaultUsageError
from tainik.workstation.vault.items import StoredFile
from tainik.workstation.vault.layout import CA_DIR
from tainik.workstation.vault.objects import hash_file
from tainik.workstation.vault.vault import Vault, VaultWriter

PURPOSE_REDACT = "redact"
PURPOSE_PUBLICATION = "publication"


def ca_directory(vault: Vault) -> Path:
    """Where the vault's CA lives."""
    return vault.paths.root / CA_DIR


def _json(value: Any) -> JsonValue:
    """``value`` as plain JSON (floats kept only where the vault's canonical form allows)."""
    return json.loads(json.dumps(value))  # type: ignore[no-any-return]


def store_redacted(
    writer: VaultWriter, original_sha256: str, redacted: Path, record: Mapping[str, Any]
) -> FileRef:
    """Store ``redacted`` as derived from the stored original; the stored file's hashes."""
    vault = writer.vault
    with vault.engine.connect() as db:
        row = db.execute(
            select(
                catalogue.objects.c.sha256, catalogue.objects.c.blake3, catalogue.objects.c.size
            ).where(catalogue.objects.c.sha256 == original_sha256)
        ).first()
    if row is None:
        raise VaultUsageError(
            N_(
                "The original ({sha}) is not stored in the vault: redact a copy made with "
                "'tainik vault copy'"
            ),
            sha=original_sha256[:16],
        )
    original = FileRef(str(row.sha256), str(row.blake3), int(row.size))
    # The store takes (links, then removes) the file it is given: give it a copy, and hash
    # that copy, so what is stored is exactly what was hashed.
    staged = vault.paths.staging / f"redact-{secrets.token_hex(6)}"
    try:
        shutil.copyfile(redacted, staged)
    except OSError as exc:
        raise durable.storage_error(exc, staged) from exc
    try:
        return _store(writer, original, staged, record)
    finally:
        staged.unlink(missing_ok=True)


def _store(
    writer: VaultWriter, original: FileRef, staged: Path, record: Mapping[str, Any]
) -> FileRef:
    vault = writer.vault
    ref = hash_file(staged)
    details = {k: v for k, v in record.items() if k != "original"}
    details["purpose"] = PURPOSE_REDACT
    details["original"] = {"sha256": original.sha256}
    with vault.engine.begin() as db:
        known = db.execute(
            select(catalogue.objects.c.sha256).where(catalogue.objects.c.sha256 == ref.sha256)
        ).first()
        if known is None:
            vault.objects.drop_stray(ref)
            vault.objects.add(staged, ref)
        entry = writer.append(
            db,
            Action.DERIVE,
            inputs=[original.to_json()],
            outputs=[ref.to_json()],
            details=_canonical_details(details),
        )
        if known is None:
            db.execute(
                insert(catalogue.objects).values(
                    sha256=ref.sha256, blake3=ref.blake3, size=ref.size, custody_seq=entry.seq
                )
            )
        db.execute(
            insert(catalogue.derivations).values(
                original_sha256=original.sha256,
                derived_sha256=ref.sha256,
                method=f"redact: {record.get('redaction', {}).get('mode', 'solid')}",
                custody_seq=entry.seq,
            )
        )
    return ref


def _canonical_details(details: Mapping[str, Any]) -> JsonObject:
    # The vault's canonical JSON has no floats: settings are written as decimal strings.
    def fix(value: Any) -> Any:
        if isinstance(value, float):
            return format(value, "g")
        if isinstance(value, Mapping):
            return {str(k): fix(v) for k, v in value.items() if v is not None}
        if isinstance(value, list | tuple):
            return [fix(v) for v in value]
        return value

    fixed = _json(fix(details))
    assert isinstance(fixed, dict)
    return fixed


def redaction_record(vault: Vault, stored: StoredFile) -> dict[str, Any]:
    """The redaction record stored with a redacted file's ``derive`` custody record."""
    if stored.derived_from is None:
        raise VaultUsageError(
            N_("{sha} is an original; publish its redacted copy (tainik redact --vault)"),
            sha=stored.ref.sha256[:16],
        )
    with vault.engine.connect() as db:
        row = db.execute(
            select(catalogue.derivations.c.custody_seq).where(
                catalogue.derivations.c.derived_sha256 == stored.ref.sha256
            )
        ).first()
        line = None
        if row is not None:
            line = db.execute(
                select(catalogue.custody.c.record).where(
                    catalogue.custody.c.seq == int(row.custody_seq)
                )
            ).first()
    if line is None:
        raise VaultUsageError(N_("{sha} has no derive record"), sha=stored.ref.sha256[:16])
    details = dict(CustodyRecord.parse(bytes(line.record)).details)
    if details.get("purpose") != PURPOSE_REDACT:
        raise VaultUsageError(
            N_("{sha} was not made by 'tainik redact'; only redacted copies are published"),
            sha=stored.ref.sha256[:16],
        )
    details["original"] = {"sha256": stored.derived_from}
    return details


def publish_stored(
    writer: VaultWriter,
    stored: StoredFile,
    out_dir: Path,
    passphrase: Secret | None,
    organisation: str,
    now: datetime.datetime,
) -> tuple[Publication, CustodyRecord]:
    """Sign a stored redacted file into ``out_dir`` and record it in the custody log."""
    vault = writer.vault
    record = redaction_record(vault, stored)
    assert stored.derived_from is not None  # redaction_record refuses originals
    opening = Opening.new(stored.derived_from)
    ca_dir = ca_directory(vault)
    if castore.exists(ca_dir):
        ca = castore.load(ca_dir, passphrase)
    else:
        ca = castore.create(ca_dir, organisation, passphrase, now)
    work = vault.paths.staging / f"publish-{secrets.token_hex(6)}"
    try:
        work.mkdir(mode=0o700, parents=True)
        # Named by the public commitment: not by the original's or the stored copy's hash (vault
        # ids), and not by any name a person gave a file.
        name = f"published-{opening.commitment()[:16]}.mp4"
        copy = copy_verified(vault.objects.path(stored.ref.sha256), work, name, stored.ref.sha256)
        out_dir.mkdir(parents=True, exist_ok=True)
        publication = publish_file(copy, record, ca, out_dir, now, name=name, opening=opening)
    except OSError as exc:
        raise durable.storage_error(exc, out_dir) from exc
    finally:
        durable.remove_tree(work)
    published = hash_file(publication.path)
    with vault.engine.begin() as db:
        entry = writer.append(
            db,
            Action.EXPORT,
            inputs=[stored.ref.to_json()],
            outputs=[published.to_json()],
            details={
                "purpose": PURPOSE_PUBLICATION,
                "original": {"sha256": opening.original_sha256},
                "commitment": {
                    "scheme": SCHEME,
                    "value": publication.commitment,
                    "salt": opening.salt.hex(),
                },
                "manifest": publication.manifest_label,
                "certificate_serial": publication.certificate_serial,
                "ca_sha256": publication.ca_fingerprint,
                "sidecar": publication.sidecar_path.name,
            },
        )
    return publication, entry


def find_opening(vault: Vault, commitment: str) -> tuple[Opening, CustodyRecord]:
    """The opening of ``commitment`` (64 hex digits, or a unique prefix of at least 16) and the
    publication record that keeps it; a usage error when no publication made it."""
    commitment = commitment.strip().lower()
    found: list[tuple[Opening, CustodyRecord]] = []
    for _, line in vault.records():
        try:
            record = CustodyRecord.parse(line)
        except NotCanonical:
            continue  # 'vault verify' names it; an opening proves itself either way
        if record.action != Action.EXPORT or record.details.get("purpose") != PURPOSE_PUBLICATION:
            continue
        kept = record.details.get("commitment")
        original = record.details.get("original")
        if not isinstance(kept, dict) or not isinstance(original, dict):
            continue
        value, salt = kept.get("value"), kept.get("salt")
        if not (isinstance(value, str) and value.startswith(commitment)):
            continue
        if kept.get("scheme") != SCHEME or not is_hex64(salt):
            continue
        opening = Opening(bytes.fromhex(salt), str(original.get("sha256", "")))
        if opening.opens(value):
            found.append((opening, record))
    if len(commitment) < 16 or len({o.commitment() for o, _ in found}) != 1:
        raise VaultUsageError(
            N_(
                "No publication recorded in this vault committed to {commitment} (give the "
                "published file, or at least 16 hexadecimal digits of its commitment)"
            )
            if len(commitment) < 16 or not found
            else N_("Several publications' commitments start with {commitment}: give more of it"),
            commitment=commitment[:64],
        )
    return found[0]
