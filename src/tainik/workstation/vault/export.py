"""``vault export``: a BagIt bag of stored files with their custody records, for partners, courts.

The bag (RFC 8493, written by the ``bagit`` library, SHA-256 and SHA-512 manifests) holds:

    data/files/SHA256.EXT        each exported file, named by its SHA-256 (not its original name)
    data/files.json              per file: hashes, size, kind, item numbers, what it derives from
    data/custody/records.jsonl   the custody records that name these files, and record 0
                                 (which holds the vault key), each line exactly as signed
    data/custody/vault.pub       the vault's public key
    data/custody/README.txt      how to check the records

The export itself is then recorded in the vault's log (``export``), naming the bag's
tag-manifest hash; that record is necessarily not inside the bag.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bagit  # type: ignore[import-untyped]  # no type hints upstream

from tainik.core.errors import N_, IntegrityError
from tainik.sealed import durable
from tainik.workstation.signing import VerifyKey
from tainik.workstation.vault import acquired
from tainik.workstation.vault import items as vault_items
from tainik.workstation.vault.canonical import JsonObject, JsonValue, NotCanonical
from tainik.workstation.vault.copyout import copy_verified
from tainik.workstation.vault.custody import Action, CustodyRecord
from tainik.workstation.vault.errors import VaultUsageError
from tainik.workstation.vault.items import StoredFile
from tainik.workstation.vault.vault import VaultWriter

CHECKSUMS = ["sha256", "sha512"]
TAG_MANIFEST = "tagmanifest-sha256.txt"
_EXT_RE = re.compile(r"\.([A-Za-z0-9]{1,8})$")

README = """\
Custody records of the files in this bag, from a Tainik evidence vault.

records.jsonl holds one record a line. Each is canonical JSON (keys sorted, no spaces, ASCII).
To check one: remove its "sig" member, serialise the rest the same way (this gives back the
exact bytes of the line without ',"sig":"..."'), prefix the 22 bytes
"tainik.org/custody/v1" + LF, and verify the Ed25519 signature (base64 in "sig") with the key
in vault.pub (after "ed25519:", base64). Record 0 names the same key. Each file in ../files is
named by its SHA-256, which appears in the "outputs" of the record that imported or derived it,
or, for a file acquired from a drive, in acquisition-SEQ.jsonl: the manifest that the
"acquire" record SEQ names by its SHA-256 (every path found on that medium, one a line).
The format is specified in Tainik's docs/workstation.md.
"""


@dataclass(frozen=True, slots=True)
class Exported:
    """A finished bag."""

    path: Path
    files: int
    records: int
    tag_manifest_sha256: str
    record: CustodyRecord


def _extension(stored: StoredFile) -> str:
    match = _EXT_RE.search(stored.display_name)
    return "." + match.group(1).lower() if match else ""


def _acquisitions(writer: VaultWriter, hashes: set[str]) -> set[int]:
    """The ``acquire`` records (by number) whose manifests list one of ``hashes``."""
    found = set()
    for sha in hashes:
        for item in vault_items.items_with(writer.vault, sha):
            seq, _, line = item.sealed_id.removeprefix("acq-").partition("-")
            if item.sealed_id.startswith("acq-") and seq.isdigit() and line.isdigit():
                found.add(int(seq))
    return found


def _related_records(writer: VaultWriter, hashes: set[str], also: set[int]) -> list[bytes]:
    """Record 0, every record whose inputs or outputs name one of ``hashes``, and the records
    numbered in ``also``."""
    lines = []
    for seq, line in writer.vault.records():
        try:
            record = CustodyRecord.parse(line)
        except NotCanonical as exc:
            raise IntegrityError(
                N_("Custody record {seq} is damaged; run 'tainik vault verify'"), seq=seq
            ) from exc
        refs = record.file_refs(record.inputs) + record.file_refs(record.outputs)
        if seq == 0 or seq in also or any(ref.sha256 in hashes for ref in refs):
            lines.append(line)
    return lines


def export(
    writer: VaultWriter, stored: Sequence[StoredFile], out: Path, *, jobs: int = 1
) -> Exported:
    """Write a bag of ``stored`` at ``out`` (which must not exist) and record the export."""
    vault = writer.vault
    if out.exists():
        raise VaultUsageError(N_("{path}: already exists"), path=str(out))
    partial = out.parent / f".{out.name}.partial"
    try:
        if partial.exists():
            _remove(partial)
        (partial / "files").mkdir(parents=True, mode=0o700)
        (partial / "custody").mkdir(mode=0o700)
        described: list[JsonValue] = []
        for one in stored:
            name = one.ref.sha256 + _extension(one)
            copy_verified(
                vault.objects.path(one.ref.sha256), partial / "files", name, one.ref.sha256
            )
            described.append(_describe(writer, one, name))
        hashes = {one.ref.sha256 for one in stored}
        acquisitions = _acquisitions(writer, hashes)
        lines = _related_records(writer, hashes, acquisitions)
        for seq in sorted(acquisitions):
            record = CustodyRecord.parse(next(x for x in lines if _seq(x) == seq))
            manifest = acquired.record_manifest(record)
            if manifest is not None:
                copy_verified(
                    vault.objects.path(manifest.sha256),
                    partial / "custody",
                    f"acquisition-{seq}.jsonl",
                    manifest.sha256,
                )
        durable.write_file(
            partial / "custody" / "records.jsonl", b"".join(x + b"\n" for x in lines)
        )
        durable.write_file(
            partial / "custody" / "vault.pub", (vault.public_key().text + "\n").encode("ascii")
        )
        durable.write_file(partial / "custody" / "README.txt", README.encode("ascii"))
        durable.write_file(
            partial / "files.json",
            json.dumps(described, indent=2, sort_keys=True).encode("utf-8") + b"\n",
        )
        key = vault.public_key()
        bagit.make_bag(
            str(partial),
            bag_info={
                "Source-Organization": "Tainik evidence vault",
                "External-Description": "Files from a Tainik evidence vault, with custody records",
                "Tainik-Vault-Key": key.text,
                "Tainik-Vault-Key-Fingerprint": key.fingerprint,
            },
            processes=max(1, jobs),
            checksums=CHECKSUMS,
        )
        partial.rename(out)
        durable.fsync_dir(out.parent)
    except OSError as exc:
        raise durable.storage_error(exc, out) from exc
    except bagit.BagError as exc:
        raise VaultUsageError(
            N_("{path}: could not make the bag: {reason}"), path=str(out), reason=str(exc)[:200]
        ) from exc
    tag_hash = hashlib.sha256((out / TAG_MANIFEST).read_bytes()).hexdigest()
    with writer.transaction() as db:
        record = writer.append(
            db,
            Action.EXPORT,
            inputs=[one.ref.to_json() for one in stored],
            outputs=[{"bag_tagmanifest_sha256": tag_hash}],
            details={"format": "BagIt", "files": len(stored), "records": len(lines)},
        )
    return Exported(out, len(stored), len(lines), tag_hash, record)


def _describe(writer: VaultWriter, one: StoredFile, name: str) -> JsonObject:
    same = vault_items.items_with(writer.vault, one.ref.sha256)
    entry: JsonObject = {
        "file": f"files/{name}",
        "sha256": one.ref.sha256,
        "blake3": one.ref.blake3,
        "size": one.ref.size,
        "items": [
            {
                "item": i.id,
                "kind": i.kind.value,
                "sealed_id": i.sealed_id,
                "sent_at": i.sent_at or "",
            }
            for i in same
        ],
    }
    if one.derived_from:
        entry["derived_from_sha256"] = one.derived_from
    return entry


def _seq(line: bytes) -> int:
    return CustodyRecord.parse(line).seq


def _vouch_acquired(custody: Path, record: CustodyRecord, vouched: set[str]) -> list[str]:
    """The files an acquisition's manifest (in the bag beside its record) lists as stored."""
    ref = acquired.record_manifest(record)
    path = custody / f"acquisition-{record.seq}.jsonl"
    if ref is None or not path.is_file():
        return []  # the record came along for another file it names
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != ref.sha256:
        return [f"the manifest of acquisition record {record.seq} is not the one it names"]
    try:
        manifest = acquired.Manifest.parse(data)
    except NotCanonical as exc:
        return [f"the manifest of acquisition record {record.seq} is damaged: {exc}"]
    vouched.add(ref.sha256)
    vouched.update(stored.sha256 for _, _, stored in manifest.stored())
    return []


def _remove(path: Path) -> None:
    for child in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if child.is_dir() and not child.is_symlink():
            child.rmdir()
        else:
            child.unlink()
    path.rmdir()


def check_bag(path: Path, *, jobs: int = 1) -> list[str]:
    """Problems with an exported bag: its BagIt fixity, every custody record's signature, and
    that every file is vouched for by a record. An empty list means it checks out."""
    problems: list[str] = []
    try:
        bagit.Bag(str(path)).validate(processes=max(1, jobs))
    except bagit.BagValidationError as exc:
        problems.append(f"BagIt validation failed: {exc}")
    except bagit.BagError as exc:
        return [f"not a bag: {exc}"]
    custody = path / "data" / "custody"
    try:
        key = VerifyKey.parse((custody / "vault.pub").read_text(encoding="ascii"))
        lines = (custody / "records.jsonl").read_bytes().splitlines()
        described = json.loads((path / "data" / "files.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [*problems, f"the custody files are unreadable: {exc}"]
    vouched: set[str] = set()
    for number, line in enumerate(lines, 1):
        try:
            record = CustodyRecord.parse(line)
        except NotCanonical as exc:
            problems.append(f"custody line {number} is damaged: {exc}")
            continue
        if not record.signature_valid(key):
            problems.append(f"custody record {record.seq} does not verify with the vault key")
            continue
        if record.seq == 0 and record.details.get("key") != key.text:
            problems.append("record 0 names another vault key than vault.pub")
        if record.action in (Action.IMPORT, Action.DERIVE):
            vouched.update(ref.sha256 for ref in record.file_refs(record.outputs))
        if record.action == Action.ACQUIRE:
            problems += _vouch_acquired(custody, record, vouched)
    for entry in described if isinstance(described, list) else []:
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        if sha not in vouched:
            problems.append(f"file {str(sha)[:16]} is not vouched for by any custody record")
    return problems
