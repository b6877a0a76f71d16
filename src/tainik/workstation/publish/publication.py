"""Making a publication from a redacted file and its redaction record.

Into the output folder go: the file with its C2PA manifest, the signed sidecar
(``NAME.provenance.json``) and the CA certificate (``ca.pem``) for verifiers. The files appear
only once signing and a full verification of the result have succeeded. Both the manifest and
the sidecar name the original by a salted commitment only; the opening (salt and hash) is
returned to the caller, who keeps it in the vault and nowhere public.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tainik.core.errors import N_, UsageError
from tainik.core.timestamps import format_utc
from tainik.sealed import durable
from tainik.workstation.publish import credentials, manifest, sidecar
from tainik.workstation.publish.ca import CertificateAuthority
from tainik.workstation.publish.commitment import Opening
from tainik.workstation.publish.verify import verify

CA_FILE = "ca.pem"
REDACTION_FORMAT = "tainik.org/redaction/v1"


@dataclass(frozen=True)
class Publication:
    """What :func:`publish_file` wrote and signed."""

    path: Path
    sidecar_path: Path
    ca_path: Path
    file_sha256: str
    opening: Opening  # secret: kept in the vault's custody record, never published
    manifest_label: str
    certificate_serial: str
    ca_fingerprint: str

    @property
    def commitment(self) -> str:
        """The published commitment to the original."""
        return self.opening.commitment()


def read_record(path: Path) -> dict[str, Any]:
    """A redaction record (``OUT.redaction.json``, written by ``tainik redact``)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(
            N_("{path}: not a redaction record ({reason})"), path=str(path), reason=str(exc)
        ) from exc
    if not isinstance(record, dict) or record.get("format") != REDACTION_FORMAT:
        raise UsageError(
            N_("{path}: not a redaction record ({reason})"), path=str(path), reason="wrong format"
        )
    return record


def publish_file(
    redacted: Path,
    record: Mapping[str, Any],
    ca: CertificateAuthority,
    out_dir: Path,
    now: datetime.datetime,
    name: str | None = None,
    opening: Opening | None = None,
) -> Publication:
    """Sign ``redacted`` (described by ``record``) into ``out_dir``.

    The original (``record["original"]["sha256"]``) is committed to with ``opening``, or with a
    fresh salt; ``name`` (default: ``redacted``'s) is the published file's name and the
    manifest's title, so it must not name the original either."""
    name = name or redacted.name
    target = out_dir / name
    side = out_dir / (name + sidecar.SUFFIX)
    ca_path = out_dir / CA_FILE
    for path in (target, side):
        if path.exists():
            raise UsageError(
                N_("{path}: already exists; Tainik does not replace files"), path=str(path)
            )
    trust = ca.certificate_pem()
    if ca_path.exists() and ca_path.read_bytes() != trust:
        raise UsageError(
            N_("{path}: already exists and holds another certificate"), path=str(ca_path)
        )
    if opening is None:
        try:
            opening = Opening.new(str((record.get("original") or {}).get("sha256", "")))
        except ValueError as exc:
            raise UsageError(
                N_("The redaction record does not name the original by its SHA-256")
            ) from exc
    commitment = opening.commitment()
    signing = ca.issue(now)
    staged = out_dir / f".{name}.{os.getpid()}.signing"
    staged_side = out_dir / f".{name}.{os.getpid()}.sidecar"
    try:
        store = credentials.sign(
            redacted, staged, manifest.definition(record, name, commitment), signing, trust
        )
        data = staged.read_bytes()
        reading = credentials.read(data, trust, staged)
        label = str(reading.store.get("active_manifest"))
        document = sidecar.build(
            file_name=name,
            file_sha256=hashlib.sha256(data).hexdigest(),
            file_size=len(data),
            original_commitment=commitment,
            manifest_label=label,
            manifest_sha256=hashlib.sha256(store).hexdigest(),
            actions=[str(a.get("action")) for a in manifest.actions(record)],
            # To the second (docs/redaction.md), in the one spelling.
            signed_at=format_utc(now.replace(microsecond=0)),
            credentials=signing,
        )
        durable.write_file(staged_side, json.dumps(document, indent=1).encode() + b"\n")
        verify(staged, trust, staged_side)  # what we hand out must pass what verifiers run
        durable.move_into_place(staged, target, sync_file=True)
        durable.move_into_place(staged_side, side)
        if not ca_path.exists():
            durable.write_file(ca_path, trust)
        durable.fsync_dir(out_dir)
    finally:
        staged.unlink(missing_ok=True)
        staged_side.unlink(missing_ok=True)
    return Publication(
        path=target,
        sidecar_path=side,
        ca_path=ca_path,
        file_sha256=str(document["file"]["sha256"]),
        opening=opening,
        manifest_label=label,
        certificate_serial=signing.serial,
        ca_fingerprint=ca.fingerprint(),
    )
