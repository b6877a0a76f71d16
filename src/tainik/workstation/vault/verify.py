"""``vault verify``: the key, the custody chain, every signature and every stored file.

Rules, in the order they are checked, are in docs/workstation.md ("Verification"). Every
problem is reported with what it concerns (a record number, an item, a stored file), not only
the first; the most specific diagnosis wins (a deleted record is reported as missing, not also
as a broken link in the chain after it). Whatever the vault holds that no sound record
accounts for (an item, a stored file, a derived file) is named too: a log cut back together
with its signed head is consistent in itself, and what was left behind is the trace.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from tainik.core.errors import N_, TainikError
from tainik.workstation.signing import VerifyKey
from tainik.workstation.vault import acquired, catalogue
from tainik.workstation.vault.acquired import Index
from tainik.workstation.vault.canonical import NotCanonical
from tainik.workstation.vault.custody import GENESIS_PREV, Action, CustodyRecord, FileRef, Head
from tainik.workstation.vault.errors import VaultIntegrityError
from tainik.workstation.vault.heads import KeptHead, format_head
from tainik.workstation.vault.layout import CA_DIR
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
    head: str = ""  # the hash of the last record
    count: int = 0  # the number of records the log should have (the last seq + 1)

    @property
    def head_text(self) -> str:
        """``COUNT:HASH``: the head to keep outside the vault (:mod:`.heads`)."""
        return format_head(self.count, self.head)

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


@dataclass
class _Chain:
    """What the chain check found: the sound records, and the hash of every stored line."""

    sound: dict[int, CustodyRecord] = field(default_factory=dict)
    hashes: dict[int, str] = field(default_factory=dict)
    count: int = 0  # the last stored seq + 1


def verify(
    vault: Vault,
    *,
    expect_key: str | None = None,
    expect_heads: Sequence[KeptHead] = (),
    jobs: int = 2,
    progress: Progress | None = None,
) -> VerifyReport:
    """Check the whole vault. ``expect_key`` is a fingerprint or key, ``expect_heads`` heads of
    the log, kept outside the vault."""
    report = VerifyReport()
    key = _check_key(vault, report, expect_key)
    report.key = key
    chain = _check_chain(vault, report, key)
    _check_kept_heads(report, chain, expect_heads)
    manifests = _check_acquisitions(vault, report, chain)
    _check_catalogue(vault, report, chain, manifests)
    _check_publications(vault, report, chain)
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


def _check_chain(vault: Vault, report: VerifyReport, key: VerifyKey | None) -> _Chain:
    """Check order, links and signatures; returns the records that are sound, by ``seq``."""
    chain = _Chain()
    sound = chain.sound
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
        chain.hashes[seq] = line_hash
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
    report.count = chain.count = expected_seq
    _check_head(vault, report, key, expected_seq, prev_hash)
    return chain


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


# -- heads kept outside the vault ---------------------------------------------------------------


def _check_kept_heads(report: VerifyReport, chain: _Chain, heads: Sequence[KeptHead]) -> None:
    """Each head noted outside the vault must still be in the log: the log may have grown since,
    never shrunk or changed. (The chain check has vouched for every record before it.)"""
    last = chain.count - 1
    for head in heads:
        if head.count is None:
            if head.hash not in chain.hashes.values():
                report.problem(
                    N_(
                        "No custody record hashes to {hash}, a head kept outside the vault: the "
                        "log was cut back or rewritten since that head was noted"
                    ),
                    hash=head.hash[:16],
                )
        elif head.count > chain.count:
            report.problem(
                N_(
                    "The custody log was cut back: a head kept outside the vault counts {count} "
                    "records, but the log ends at record {last} (records {first} to {gone} are "
                    "gone, whatever the signed head in the vault says)"
                ),
                count=head.count,
                last=last,
                first=chain.count,
                gone=head.count - 1,
            )
        elif chain.hashes.get(head.count - 1) != head.hash:
            report.problem(
                N_(
                    "Custody record {seq} is not the one a head kept outside the vault names "
                    "({hash}): the log was rewritten at or before that record"
                ),
                seq=head.count - 1,
                hash=head.hash[:16],
            )


# -- the catalogue against the records ---------------------------------------------------------


class _Unaccounted:
    """Problems for what the catalogue holds but no sound record vouches for: whether the
    record named is absent from the log, or present but not sound (reported above)."""

    def __init__(self, report: VerifyReport, chain: _Chain) -> None:
        self.report = report
        self.chain = chain

    def absent(self, seq: int) -> bool:
        return seq not in self.chain.hashes

    def item(self, seq: int, item: Any) -> None:
        params = {"item": item.id, "name": str(item.display_name)[:60], "sha": item.sha256[:16]}
        if self.absent(seq):
            self.report.problem(
                N_(
                    "Item {item} ('{name}', stored file {sha}) is not accounted for by the "
                    "custody log: record {seq}, which imported it, is not in the log"
                ),
                seq=seq,
                **params,
            )
        else:
            self.report.problem(
                N_(
                    "Item {item} ('{name}', stored file {sha}) is not accounted for by the "
                    "custody log: record {seq}, which imported it, is not sound (see above)"
                ),
                seq=seq,
                **params,
            )

    def derivation(self, seq: int, row: Any) -> None:
        params = {"sha": str(row.derived_sha256)[:16], "original": str(row.original_sha256)[:16]}
        if self.absent(seq):
            self.report.problem(
                N_(
                    "Derived file {sha} (from {original}) is not accounted for by the custody "
                    "log: record {seq}, which made it, is not in the log"
                ),
                seq=seq,
                **params,
            )
        else:
            self.report.problem(
                N_(
                    "Derived file {sha} (from {original}) is not accounted for by the custody "
                    "log: record {seq}, which made it, is not sound (see above)"
                ),
                seq=seq,
                **params,
            )

    def stored(self, seq: int, sha: str) -> None:
        if self.absent(seq):
            self.report.problem(
                N_(
                    "Stored file {sha} is not accounted for by the custody log: record {seq}, "
                    "which stored it, is not in the log"
                ),
                sha=sha[:16],
                seq=seq,
            )
        else:
            self.report.problem(
                N_(
                    "Stored file {sha} is not accounted for by the custody log: record {seq}, "
                    "which stored it, is not sound (see above)"
                ),
                sha=sha[:16],
                seq=seq,
            )


def _check_catalogue(
    vault: Vault, report: VerifyReport, chain: _Chain, manifests: dict[int, Index | None]
) -> None:
    records = chain.sound
    unaccounted = _Unaccounted(report, chain)
    with vault.engine.connect() as db:
        sources = {
            int(r.id): (str(r.key), str(r.designation))
            for r in db.execute(select(catalogue.sources)).all()
        }
        items = db.execute(select(catalogue.items).order_by(catalogue.items.c.id)).all()
        objects = {str(r.sha256): r for r in db.execute(select(catalogue.objects)).all()}
        derivations = db.execute(
            select(catalogue.derivations).order_by(catalogue.derivations.c.id)
        ).all()
    # (seq, sha256) of stored files already named through their item or derivation
    named: set[tuple[int, str]] = set()
    imported: set[str] = set()
    for item in items:
        seq = int(item.custody_seq)
        record = records.get(seq)
        if record is None:
            unaccounted.item(seq, item)
            named.add((seq, str(item.sha256)))
            continue
        source_key = sources.get(int(item.source_id), ("", ""))[0]
        if record.action == Action.ACQUIRE:
            if seq in manifests and not _acquired_matches(record, manifests[seq], item, source_key):
                report.problem(
                    N_(
                        "Item {item} does not match its custody record {seq} and the "
                        "acquisition manifest: the catalogue was edited"
                    ),
                    item=item.id,
                    seq=seq,
                )
            imported.add(str(item.sealed_id))
        elif not _import_matches(record, item, source_key):
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
    for seq, manifest in manifests.items():
        wanted = [0] if manifest is None else [0, *manifest.stored]
        missing = [n for n in wanted if acquired.item_id(seq, n) not in imported]
        if missing:
            report.problem(
                N_(
                    "{count} item(s) of the acquisition recorded by custody record {seq} are "
                    "missing from the catalogue (manifest lines {lines})"
                ),
                count=len(missing),
                seq=seq,
                lines=", ".join(str(n) for n in missing[:10]),
            )
        unlike = [
            line
            for line, (_, ref) in ([] if manifest is None else manifest.stored.items())
            if ref.sha256 not in objects
            or FileRef(ref.sha256, str(objects[ref.sha256].blake3), int(objects[ref.sha256].size))
            != ref
        ]
        if unlike:
            report.problem(
                N_(
                    "{count} file(s) that the acquisition recorded by custody record {seq} "
                    "stored are not among the stored files, or differ from them (manifest "
                    "lines {lines})"
                ),
                count=len(unlike),
                seq=seq,
                lines=", ".join(str(n) for n in unlike[:10]),
            )
    # A source row is written only with an item, in its import's transaction: one that no sound
    # import names is a remainder too (its items' records cut, or the rows moved).
    named_sources = {
        r.details.get("source")
        for r in records.values()
        if r.action in (Action.IMPORT, Action.ACQUIRE)
    }
    for key, designation in sorted(sources.values()):
        if key not in named_sources:
            report.problem(
                N_(
                    "Source {key} ('{designation}') is not accounted for by the custody log: no "
                    "sound record imported anything from it"
                ),
                key=key[:100],
                designation=designation[:60],
            )
    derived: set[int] = set()
    for derivation in derivations:
        seq = int(derivation.custody_seq)
        record = records.get(seq)
        if record is None:
            unaccounted.derivation(seq, derivation)
            named.add((seq, str(derivation.derived_sha256)))
            continue
        derived.add(seq)
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
    for seq, record in records.items():
        if record.action == Action.DERIVE and seq not in derived:
            report.problem(
                N_("The file derived by custody record {seq} is missing from the catalogue"),
                seq=seq,
            )
    for sha, row in objects.items():
        seq = int(row.custody_seq)
        record = records.get(seq)
        if record is None:
            if (seq, sha) not in named:
                unaccounted.stored(seq, sha)
            continue
        ref = FileRef(sha, str(row.blake3), int(row.size))
        manifest = manifests.get(seq)
        acquired_here = record.action == Action.ACQUIRE and manifest is not None
        if ref not in record.file_refs(record.outputs) and not (
            acquired_here and manifest is not None and ref in manifest.refs
        ):
            report.problem(
                N_(
                    "Stored file {sha} is not vouched for by custody record {seq}: the catalogue "
                    "was edited"
                ),
                sha=sha[:16],
                seq=row.custody_seq,
            )


def _check_publications(vault: Vault, report: VerifyReport, chain: _Chain) -> None:
    """Exports and publications leave nothing in the catalogue: their records are all there
    is. The vault's CA (made by the first publication) is the one trace they leave."""
    if not (vault.paths.root / CA_DIR).exists():
        return
    if not any(
        r.action == Action.EXPORT and r.details.get("purpose") == "publication"
        for r in chain.sound.values()
    ):
        report.warning(
            N_(
                "The vault has a publication CA ({folder}) but the custody log records no "
                "publication: a publication failed after making the CA, or its record was cut "
                "from the log"
            ),
            folder=CA_DIR,
        )


def _check_acquisitions(
    vault: Vault, report: VerifyReport, chain: _Chain
) -> dict[int, Index | None]:
    """Each sound ``acquire`` record's manifest: present, the bytes the record names, well
    formed, and agreeing with the record's details. Returns the manifests by record (None
    for one that cannot be used; its problem is reported)."""
    found: dict[int, Index | None] = {}
    for seq, record in sorted(chain.sound.items()):
        if record.action != Action.ACQUIRE:
            continue
        found[seq] = None
        ref = acquired.record_manifest(record)
        if ref is None:
            report.problem(N_("Acquisition record {seq} names no manifest"), seq=seq)
            continue
        try:
            manifest = acquired.Index.read(vault.objects.path(ref.sha256))
        except OSError:
            report.problem(
                N_("The manifest of the acquisition recorded by custody record {seq} is missing"),
                seq=seq,
            )
            continue
        except NotCanonical as exc:
            manifest = None
            damage = str(exc)
        else:
            damage = ""
        if manifest is None or manifest.sha256 != ref.sha256 or manifest.size != ref.size:
            if manifest is None:
                try:
                    found_sha = hash_file(vault.objects.path(ref.sha256)).sha256
                except TainikError:
                    found_sha = ""
            else:
                found_sha = manifest.sha256
            if found_sha != ref.sha256:
                report.problem(
                    N_(
                        "The manifest of the acquisition recorded by custody record {seq} was "
                        "altered: its SHA-256 is now {found}"
                    ),
                    seq=seq,
                    found=found_sha[:16],
                )
            else:
                report.problem(
                    N_(
                        "The manifest of the acquisition recorded by custody record {seq} is "
                        "damaged: {reason}"
                    ),
                    seq=seq,
                    reason=damage,
                )
            continue
        header = manifest.header
        details = record.details
        medium = header.get("medium")
        if (
            header.get("counts") != details.get("counts")
            or manifest.counts != details.get("counts")
            or header.get("from") != details.get("from")
            or header.get("note") != details.get("note")
            or not isinstance(medium, dict)
            or medium.get("kind") != details.get("medium")
            or details.get("source") != acquired.source_key(ref.sha256)
        ):
            report.problem(
                N_(
                    "Acquisition record {seq} does not match its manifest (counts, --from, "
                    "--note or medium differ)"
                ),
                seq=seq,
            )
            continue
        found[seq] = manifest
    return found


def _acquired_matches(
    record: CustodyRecord, manifest: Index | None, item: Any, source_key: str
) -> bool:
    """An acquired item against its record and manifest line (``acq-SEQ-LINE``)."""
    ref = acquired.record_manifest(record)
    if ref is None or manifest is None:
        return True  # the record's own problem is reported
    prefix = acquired.item_id(record.seq, 0)[:-1]
    sealed_id = str(item.sealed_id)
    if not sealed_id.startswith(prefix) or not sealed_id[len(prefix) :].isdigit():
        return False
    line = int(sealed_id[len(prefix) :])
    if line == 0:
        expected = ref.sha256
    elif line in manifest.stored:
        path, entry_ref = manifest.stored[line]
        if path != bytes(item.name):
            return False
        expected = entry_ref.sha256
    else:
        return False
    return (
        item.sha256 == expected
        and item.manifest_sha256 == ref.sha256
        and source_key == record.details.get("source")
        and item.kind == "file"
    )


def _import_matches(record: CustodyRecord, item: Any, source_key: str) -> bool:
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
        and record.details.get("source") == source_key
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
                "Objects/sha256/{name} is not in the catalogue (left by an interrupted import, "
                "put there by hand, or left behind when the log was cut back with its catalogue "
                "rows: check against a head kept outside, --expect-head); it is not part of the "
                "evidence"
            ),
            name=f"{stray[:2]}/{stray}"[:100],
        )


# -- the head, quickly -------------------------------------------------------------------------


def current_head(vault: Vault) -> str:
    """``COUNT:HASH`` of the log, once the signed head is checked to name exactly the log's last
    record with a valid signature; the records themselves and the files are not checked (that
    is :func:`verify`'s work)."""
    key = vault.genesis_key()
    count, last = 0, GENESIS_PREV
    for seq, line in vault.records():
        if seq != count:
            break
        count, last = seq + 1, hashlib.sha256(line).hexdigest()
    try:
        head = Head.decode(vault.meta("custody_head") or "")
    except NotCanonical:
        head = None
    if (
        head is None
        or key is None
        or not head.signature_valid(key)
        or (head.count, head.hash) != (count, last)
    ):
        raise VaultIntegrityError(
            N_("The custody log does not end where its signed head says; run 'tainik vault verify'")
        )
    return format_head(count, last)
