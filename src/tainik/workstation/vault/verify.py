"""``vault verify``: the key, the custody chain, every signature and every stored file.

Rules, in the order they are checked, are in docs/workstation.md ("Verification"). Every
problem is reported with what it concerns (a record number, an item, a stored file), not only
the first; the most specific diagnosis wins (a deleted record is reported as missing, not also
as a broken link in the chain after it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from tainik.core.errors import N_, TainikError
from tainik.workstation.signing import VerifyKey
from tainik.workstation.vault import catalogue
from tainik.workstation.vault.canonical import NotCanonical
from tainik.workstation.vault.custody import GENESIS_PREV, Action, CustodyRecord, FileRef, Head
from tainik.workstation.vault.errors import VaultIntegrityError
from tainik.workstation.vault.objects import hash_file
from tainik.workstation.vault.vault import Vault

Progress = Callable[[int], None]


@dataclass
class VerifyReport:
    """What ``verify`` found."""

    problems: list[TainikError] = field(default_factory=list)
    warnings: list[TainikError] = field(default_factory=list)
    key: VerifyKey | None = None
    records: int = 0
    files: int = 0
    bytes: int = 0
    head: str = ""

    @property
    def ok(self) -> bool:
        """No problem at all (warnings allowed)."""
        return not self.problems

    def problem(self, template: str, **params: object) -> None:
        """Add a problem."""
        self.problems.append(VaultIntegrityError(template, **params))

    def warning(self, template: str, **params: object) -> None:
        """Add a warning."""
        self.warnings.append(VaultIntegrityError(template, **params))


def verify(
    vault: Vault,
    *,
    expect_key: str | None = None,
    jobs: int = 2,
    progress: Progress | None = None,
) -> VerifyReport:
    """Check the whole vault; ``expect_key`` is a fingerprint or key kept outside the vault."""
    report = VerifyReport()
    key = _check_key(vault, report, expect_key)
    report.key = key
    records = _check_chain(vault, report, key)
    _check_catalogue(vault, report, records)
    _check_files(vault, report, jobs, progress)
    return report


# -- the key -----------------------------------------------------------------------------------


def _check_key(vault: Vault, report: VerifyReport, expect_key: str | None) -> VerifyKey | None:
    genesis = vault.genesis_key()
    if genesis is None:
        report.problem(
            N_("Custody record 0 (vault.init) is missing or damaged: the vault key is unknown")
        )
    try:
        public = vault.public_key()
    except TainikError:
        public = None
    if genesis is not None and public != genesis:
        report.problem(
            N_(
                "The vault key was replaced: vault.pub holds {found}, but the custody log was "
                "started with {expected}"
            ),
            found=public.fingerprint if public else "no valid key",
            expected=genesis.fingerprint,
        )
    named = vault.meta("vault_key")
    if genesis is not None and named != genesis.text:
        report.problem(
            N_(
                "The vault key was replaced: the catalogue names {found}, but the custody log "
                "was started with {expected}"
            ),
            found=(named or "no key")[:60],
            expected=genesis.fingerprint,
        )
    key = genesis or public
    if expect_key is not None and key is not None:
        wanted = expect_key.strip()
        if wanted not in (key.fingerprint, key.text):
            report.problem(
                N_(
                    "The vault key is not the expected one: the vault's key is {found}, not "
                    "{expected} (the whole custody log may have been rewritten with another key)"
                ),
                found=key.fingerprint,
                expected=wanted[:80],
            )
    return key


# -- the chain ---------------------------------------------------------------------------------


def _check_chain(
    vault: Vault, report: VerifyReport, key: VerifyKey | None
) -> dict[int, CustodyRecord]:
    """Check order, links and signatures; returns the records that are sound, by ``seq``."""
    sound: dict[int, CustodyRecord] = {}
    expected_seq = 0
    prev_hash = GENESIS_PREV
    prev_sound = True
    count = 0
    for seq, line in vault.records():
        count += 1
        gap = seq > expected_seq
        for missing in range(expected_seq, seq):
            report.problem(N_("Custody record {seq} is missing (deleted)"), seq=missing)
        expected_seq = seq + 1
        line_hash = hashlib.sha256(line).hexdigest()
        try:
            record = CustodyRecord.parse(line)
        except NotCanonical as exc:
            report.problem(
                N_("Custody record {seq} is damaged: {reason}"), seq=seq, reason=str(exc)
            )
            prev_hash, prev_sound = line_hash, False
            continue
        if record.seq != seq:
            report.problem(
                N_(
                    "Custody records are out of order: position {seq} holds record {found} "
                    "(records were reordered)"
                ),
                seq=seq,
                found=record.seq,
            )
            ok = False
        elif key is None or not record.signature_valid(key):
            report.problem(
                N_(
                    "Custody record {seq} ({action}) was edited: its signature does not verify "
                    "with the vault key"
                ),
                seq=seq,
                action=record.action[:40],
            )
            ok = False
        elif record.prev != prev_hash and prev_sound and not gap:
            report.problem(
                N_(
                    "Custody record {seq} does not follow record {before}: the chain is broken "
                    "(a record was removed, replaced or reordered)"
                ),
                seq=seq,
                before=seq - 1,
            )
            ok = False
        elif (seq == 0) != (record.action == Action.INIT):
            report.problem(
                N_("Custody record {seq} has the action {action} in the wrong place"),
                seq=seq,
                action=record.action[:40],
            )
            ok = False
        else:
            ok = True
        if ok:
            sound[seq] = record
        prev_hash, prev_sound = line_hash, ok
    report.records = count
    report.head = prev_hash
    _check_head(vault, report, key, expected_seq, prev_hash)
    return sound


def _check_head(
    vault: Vault, report: VerifyReport, key: VerifyKey | None, count: int, last_hash: str
) -> None:
    text = vault.meta("custody_head")
    try:
        head = Head.decode(text or "")
    except NotCanonical:
        report.problem(N_("The signed head of the custody log is missing or damaged"))
        return
    if key is None or not head.signature_valid(key):
        report.problem(N_("The signed head of the custody log was altered (bad signature)"))
        return
    if head.count > count:
        report.problem(
            N_(
                "Custody record {seq} is missing (deleted): the signed head counts {count} "
                "records but the log ends at record {last}"
            ),
            seq=count,
            count=head.count,
            last=count - 1,
        )
    elif head.count < count:
        report.problem(
            N_(
                "Custody records {first} to {last} are not covered by the signed head: they were "
                "added without the vault key"
            ),
            first=head.count,
            last=count - 1,
        )
    elif head.hash != last_hash:
        report.problem(
            N_("Custody record {seq}, the last, is not the one the signed head names"),
            seq=count - 1,
        )


# -- the catalogue against the records ---------------------------------------------------------


def _check_catalogue(vault: Vault, report: VerifyReport, records: dict[int, CustodyRecord]) -> None:
    with vault.engine.connect() as db:
        items = db.execute(select(catalogue.items)).all()
        objects = {str(r.sha256): r for r in db.execute(select(catalogue.objects)).all()}
        derivations = db.execute(select(catalogue.derivations)).all()
    imported: set[str] = set()
    for item in items:
        record = records.get(int(item.custody_seq))
        if record is None:
            continue  # the record itself is already reported
        if not _import_matches(record, item):
            report.problem(
                N_("Item {item} does not match its custody record {seq}: the catalogue was edited"),
                item=item.id,
                seq=item.custody_seq,
            )
        imported.add(str(item.sealed_id))
    for seq, record in records.items():
        if record.action != Action.IMPORT or not record.inputs:
            continue
        sealed_id = record.inputs[0].get("sealed_id")
        if isinstance(sealed_id, str) and sealed_id not in imported:
            report.problem(
                N_("The item imported by custody record {seq} is missing from the catalogue"),
                seq=seq,
            )
    for derivation in derivations:
        record = records.get(int(derivation.custody_seq))
        if record is None:
            continue
        ins, outs = record.file_refs(record.inputs), record.file_refs(record.outputs)
        if (
            record.action != Action.DERIVE
            or not ins
            or not outs
            or ins[0].sha256 != derivation.original_sha256
            or outs[0].sha256 != derivation.derived_sha256
        ):
            report.problem(
                N_("Derived file {sha} does not match its custody record {seq}"),
                sha=str(derivation.derived_sha256)[:16],
                seq=derivation.custody_seq,
            )
    for sha, row in objects.items():
        record = records.get(int(row.custody_seq))
        if record is None:
            continue
        ref = FileRef(sha, str(row.blake3), int(row.size))
        if ref not in record.file_refs(record.outputs):
            report.problem(
                N_(
                    "Stored file {sha} is not vouched for by custody record {seq}: the catalogue "
                    "was edited"
                ),
                sha=sha[:16],
                seq=row.custody_seq,
            )


def _import_matches(record: CustodyRecord, item: Any) -> bool:
    if record.action != Action.IMPORT or not record.inputs or not record.outputs:
        return False
    source = record.inputs[0]
    outputs = record.file_refs(record.outputs)
    return (
        source.get("sealed_id") == item.sealed_id
        and source.get("manifest_sha256") == item.manifest_sha256
        and bool(outputs)
        and outputs[0].sha256 == item.sha256
        and record.details.get("kind") == item.kind
    )


# -- the stored files --------------------------------------------------------------------------


def _check_files(vault: Vault, report: VerifyReport, jobs: int, progress: Progress | None) -> None:
    with vault.engine.connect() as db:
        objects = db.execute(select(catalogue.objects)).all()
        names = {
            str(r.sha256): (int(r.id), str(r.display_name))
            for r in db.execute(
                select(
                    catalogue.items.c.sha256, catalogue.items.c.id, catalogue.items.c.display_name
                )
            )
        }
    expected = {str(r.sha256): FileRef(str(r.sha256), str(r.blake3), int(r.size)) for r in objects}

    def what(sha: str) -> str:
        if sha in names:
            item, name = names[sha]
            return f"{sha[:16]} (item {item}, '{name[:60]}')"
        return f"{sha[:16]} (a derived file)"

    def check(ref: FileRef) -> tuple[FileRef, FileRef | None, TainikError | None]:
        path = vault.objects.path(ref.sha256)
        if not path.is_file():
            return ref, None, None
        try:
            return ref, hash_file(path, progress=progress), None
        except TainikError as error:
            return ref, None, error

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as threads:
        for ref, found, error in threads.map(check, expected.values()):
            report.files += 1
            if error is not None:
                report.problem(
                    N_("Stored file {what} cannot be read: {reason}"),
                    what=what(ref.sha256),
                    reason=error.english(),
                )
            elif found is None:
                report.problem(N_("Stored file {what} is missing"), what=what(ref.sha256))
            elif found != ref:
                report.problem(
                    N_(
                        "Stored file {what} was altered: its SHA-256 is now {found} and its "
                        "BLAKE3 {found_b3}"
                    ),
                    what=what(ref.sha256),
                    found=found.sha256[:16],
                    found_b3=found.blake3[:16],
                )
            else:
                report.bytes += found.size
                try:
                    if not vault.objects.is_read_only(ref.sha256):
                        report.warning(
                            N_("Stored file {what} is writable (it should be read-only)"),
                            what=what(ref.sha256),
                        )
                except OSError:
                    pass
    for stray in sorted(vault.objects.stored_hashes() - set(expected)):
        report.warning(
            N_(
                "Objects/sha256/{name} is not in the catalogue (left by an interrupted import, or "
                "put there by hand); it is not part of the evidence"
            ),
            name=f"{stray[:2]}/{stray}"[:100],
        )
