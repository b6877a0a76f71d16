"""``vault import``: open and verify sealed files, store each original once, file it in a thread.

Nothing unverified enters: each sealed file is opened with :class:`SealedOpener`, which checks
every rule of docs/format.md "Reading" and names the plaintext (in the vault's staging folder)
only once the whole-file SHA-256 matches. The importer then hashes it with BLAKE3, links it
into the object store and, in one SQLite transaction, records source, object, item and the
signed ``import`` custody record. A kill at any moment leaves either no trace of the item or
a complete one; a re-run finishes what is missing and skips what is there.

Large sealed files are opened one at a time with their segments spread over the cores; small
ones (one or two segments: messages, replies, photos) are opened whole in a worker pool, one
file per worker, so many small files also use every core.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import blake3
from sqlalchemy import Connection, insert, select

from tainik.core.errors import N_, FormatError, IntegrityError, TainikError
from tainik.core.manifest import Manifest
from tainik.core.names import safe_name
from tainik.crypto import Identity
from tainik.sealed import durable, layout, pool, tarball
from tainik.sealed.reader import (
    OpenedFile,
    ProgressFactory,
    SealedOpener,
    read_manifest_ciphertext,
    read_small,
)
from tainik.workstation.vault import catalogue
from tainik.workstation.vault.canonical import JsonValue
from tainik.workstation.vault.custody import Action, FileRef
from tainik.workstation.vault.events import ImportObserver, ImportResult, Progress
from tainik.workstation.vault.objects import hash_file
from tainik.workstation.vault.pulled import (
    UNSORTED,
    PulledItem,
    SourceRef,
    discover,
    is_other_tar,
    parse_sidecar,
)
from tainik.workstation.vault.vault import VaultWriter

SMALL_SEGMENTS = 2  # at most this many segments, and
SMALL_BYTES = 16 * 1024 * 1024  # at most this much: opened in memory, one file per worker
QUEUE_PER_JOB = 4
BATCH_ITEMS = 128  # items recorded in one transaction (one fsync of the catalogue)
BATCH_S = 1.0  # or fewer, if opening them took this long


@dataclass(frozen=True, slots=True)
class _Opened:
    path: Path
    manifest: Manifest
    blake3: str
    size: int


@dataclass(frozen=True, slots=True)
class _Staged:
    """A verified plaintext waiting in the staging folder to be stored and recorded."""

    item: PulledItem
    manifest_hash: str
    opened: _Opened
    ref: FileRef


def open_into(
    opener: SealedOpener, path: Path, staging: Path, progress: ProgressFactory | None = None
) -> OpenedFile:
    """Open a sealed file, a directory or a sealed-file tar, into ``staging``.

    A tar's parts (ciphertext) are copied into a hidden folder in ``staging`` first, removed
    afterwards (docs/format.md, "Transport: the sealed-file tar").
    """
    with tarball.unpacked(path, staging, opener.identities) as containers:
        return opener.open(_only(containers, path), staging, progress=progress)


def open_small(container: Path, staging: Path, identities: Sequence[Identity]) -> _Opened:
    """Verify a small sealed file in memory (every rule of "Reading", by the same reader) and
    write the verified plaintext into the staging folder, flushed; hash it with BLAKE3.

    Only the file's data is flushed here: its name in the store is flushed per batch.
    """
    with tarball.unpacked(container, staging, identities) as containers:
        opened = read_small(_only(containers, container), identities, SMALL_BYTES)
    path = staging / f"small-{secrets.token_hex(8)}"
    durable.write_file(path, opened.data)
    digest = blake3.blake3(opened.data).hexdigest()
    return _Opened(path, opened.manifest, digest, len(opened.data))


def _only(containers: Sequence[tarball.Unpacked], path: Path) -> Path:
    """The one sealed file a path holds, or the error that refused it."""
    if len(containers) != 1:
        raise FormatError(N_("{path}: holds several sealed files"), path=str(path))
    if containers[0].error is not None:
        raise containers[0].error
    return containers[0].container


def _open_whole(container: str, staging: str) -> _Opened:
    """Worker: :func:`open_small` with the worker's identities."""
    return open_small(Path(container), Path(staging), pool.worker_identities())


class Importer:
    """Imports sealed files into a vault through its writer."""

    def __init__(
        self,
        writer: VaultWriter,
        identities: Sequence[Identity],
        *,
        jobs: int | None = None,
        observer: ImportObserver | None = None,
    ) -> None:
        self._writer = writer
        self._vault = writer.vault
        self._identities = tuple(identities)
        self._jobs = jobs or pool.default_jobs()
        self._observer = observer or ImportObserver()
        self._recipients: list[JsonValue] = [i.recipient.text for i in self._identities]
        self._batch: list[_Staged] = []
        self._batch_started = 0.0
        self._sources: dict[str, int] = {}
        # sealed id -> (item number, manifest hash), for what is in the vault or queued
        self._present_ids: dict[str, tuple[int, str]] = {}

    def run(self, paths: Sequence[Path]) -> list[ImportResult]:
        """Import every sealed file found in ``paths``; failures do not stop the others."""
        staging = self._fresh_staging()
        self._load_present()
        with contextlib.ExitStack() as unpacked:
            results = self._run(paths, staging, unpacked)
        durable.remove_tree(staging)
        return results

    def _expand(
        self,
        paths: Sequence[Path],
        staging: Path,
        unpacked: contextlib.ExitStack,
        results: list[ImportResult],
    ) -> Iterator[PulledItem]:
        """The items in ``paths``; a selection tar is unpacked, and each of its sealed files
        filed by the pull metadata the tar carries for it (a tar downloaded from the newsroom's
        pages), else unsorted."""
        for item in discover(paths):
            if not is_other_tar(item.container):
                yield item
                continue
            try:
                containers = unpacked.enter_context(
                    tarball.unpacked(item.container, staging, self._identities)
                )
            except TainikError as error:
                results.append(self._report(ImportResult(item.container, "failed", error=error)))
                continue
            for one in containers:
                if one.error is not None:
                    failed = ImportResult(Path(one.label), "failed", error=one.error)
                    results.append(self._report(failed))
                    continue
                if one.sidecar is None:
                    yield PulledItem(one.container, UNSORTED, None, None, None)
                    continue
                try:
                    yield parse_sidecar(one.container, one.sidecar, label=one.label)
                except TainikError as error:
                    failed = ImportResult(Path(one.label), "failed", error=error)
                    results.append(self._report(failed))

    def _run(
        self, paths: Sequence[Path], staging: Path, unpacked: contextlib.ExitStack
    ) -> list[ImportResult]:
        results: list[ImportResult] = []
        small: list[tuple[PulledItem, str]] = []
        large: list[tuple[PulledItem, str]] = []
        for item in self._expand(paths, staging, unpacked, results):
            try:
                manifest_hash = self._manifest_hash(item.container)
                present = self._present(item, manifest_hash)
            except TainikError as error:
                results.append(self._report(ImportResult(item.container, "failed", error=error)))
                continue
            if present is not None:
                results.append(self._report(present))
                continue
            if item.sealed_id is not None:
                self._present_ids[item.sealed_id] = (0, manifest_hash)  # the same file twice
            segments, size = _extent(item.container)
            is_small = segments <= SMALL_SEGMENTS and size <= SMALL_BYTES
            (small if is_small else large).append((item, manifest_hash))
        self._observer.begin(len(small) + len(large))
        results.extend(self._import_small(small, staging))
        results.extend(self._flush())
        for item, manifest_hash in large:
            results.extend(self._import_large(item, manifest_hash, staging))
            results.extend(self._flush())
        return results

    # -- the two ways of opening ------------------------------------------------------------

    def _import_small(
        self, items: list[tuple[PulledItem, str]], staging: Path
    ) -> Iterator[ImportResult]:
        if not items:
            return
        if self._jobs <= 1 or len(items) == 1:
            for item, manifest_hash in items:
                try:
                    done = open_small(item.container, staging, self._identities)
                except TainikError as error:
                    yield self._report(ImportResult(item.container, "failed", error=error))
                    continue
                yield from self._settle(item, manifest_hash, done)
            return
        with pool.make_pool(self._jobs, identities=self._identities) as workers:
            pending: list[tuple[PulledItem, str, Future[_Opened]]] = []
            queue = iter(items)
            limit = self._jobs * QUEUE_PER_JOB
            exhausted = False
            while pending or not exhausted:
                while not exhausted and len(pending) < limit:
                    nxt = next(queue, None)
                    if nxt is None:
                        exhausted = True
                        break
                    future = workers.submit(_open_whole, str(nxt[0].container), str(staging))
                    pending.append((nxt[0], nxt[1], future))
                if not pending:
                    break
                item, manifest_hash, future = pending.pop(0)
                try:
                    done = future.result()
                except TainikError as error:
                    yield self._report(ImportResult(item.container, "failed", error=error))
                    continue
                yield from self._settle(item, manifest_hash, done)

    def _import_large(
        self, item: PulledItem, manifest_hash: str, staging: Path
    ) -> list[ImportResult]:
        opener = SealedOpener(self._identities, jobs=self._jobs)

        def progress(manifest: Manifest) -> Progress:
            return self._observer.large_file(item.container, manifest.size) or _ignore

        try:
            try:
                opened = open_into(opener, item.container, staging, progress)
                ref = hash_file(opened.path, sha256=False)
            finally:
                self._observer.large_file_done()
        except TainikError as error:
            return [self._report(ImportResult(item.container, "failed", error=error))]
        return self._settle(
            item, manifest_hash, _Opened(opened.path, opened.manifest, ref.blake3, ref.size)
        )

    # -- storing and recording --------------------------------------------------------------

    def _settle(self, item: PulledItem, manifest_hash: str, opened: _Opened) -> list[ImportResult]:
        """Queue a verified plaintext for storing; returns the results of a flushed batch."""
        manifest = opened.manifest
        ref = FileRef(manifest.sha256.hex(), opened.blake3, opened.size)
        if not self._batch:
            self._batch_started = time.monotonic()
        self._batch.append(_Staged(item, manifest_hash, opened, ref))
        if len(self._batch) >= BATCH_ITEMS or time.monotonic() - self._batch_started > BATCH_S:
            return self._flush()
        return []

    def _flush(self) -> list[ImportResult]:
        """Store the queued files, then record them all in one transaction.

        The files are linked into the store and their folders flushed before the transaction
        commits, so a committed item always has its file; a kill before the commit leaves
        stored files without rows, which the next run takes in (after checking them).
        """
        batch, self._batch = self._batch, []
        if not batch:
            return []
        try:
            with self._vault.engine.connect() as db:
                wanted = list({s.ref.sha256 for s in batch})
                known = {
                    str(r.sha256)
                    for r in db.execute(
                        select(catalogue.objects.c.sha256).where(
                            catalogue.objects.c.sha256.in_(wanted)
                        )
                    )
                }
            new: set[str] = set()
            folders: set[Path] = set()
            for staged in batch:
                sha = staged.ref.sha256
                if sha not in known and sha not in new:
                    self._vault.objects.drop_stray(staged.ref)
                    new.add(sha)
                self._vault.objects.add(staged.opened.path, staged.ref, sync=False)
                folders.add(self._vault.objects.path(sha).parent)
            for folder in folders:
                durable.fsync_dir(folder)
            recorded: set[str] = set()
            results = []
            with self._writer.transaction() as db:
                for staged in batch:
                    first = staged.ref.sha256 in new and staged.ref.sha256 not in recorded
                    recorded.add(staged.ref.sha256)
                    results.append(self._record(db, staged, first))
        except TainikError as error:
            for staged in batch:
                staged.opened.path.unlink(missing_ok=True)
            return [
                self._report(ImportResult(s.item.container, "failed", error=error)) for s in batch
            ]
        for result in results:
            self._present_ids[result.sealed_id] = (result.item_id or 0, result.manifest_sha256)
        return [self._report(r) for r in results]

    def _record(self, db: Connection, staged: _Staged, new_object: bool) -> ImportResult:
        item, manifest, ref = staged.item, staged.opened.manifest, staged.ref
        source_id = self._source_id(db, item.source)
        details: dict[str, JsonValue] = {
            "kind": manifest.kind.value,
            "source": item.source.key,
            "sent_at": item.sent_at or "",
            "opened_with": self._recipients,
            "stored": new_object,
        }
        warning = _kind_disagreement(item, manifest)
        if warning is not None:
            details["server_kind"] = str(warning.params["claimed"])
        record = self._writer.append(
            db,
            Action.IMPORT,
            inputs=[{"sealed_id": manifest.id, "manifest_sha256": staged.manifest_hash}],
            outputs=[ref.to_json()],
            details=details,
        )
        if new_object:
            db.execute(
                insert(catalogue.objects).values(
                    sha256=ref.sha256, blake3=ref.blake3, size=ref.size, custody_seq=record.seq
                )
            )
        item_id = db.execute(
            insert(catalogue.items).values(
                source_id=source_id,
                sealed_id=manifest.id,
                kind=manifest.kind.value,
                name=manifest.name,
                display_name=safe_name(manifest.name, manifest.kind),
                sent_at=item.sent_at,
                sent_order=item.sent_order,
                manifest_sha256=staged.manifest_hash,
                sha256=ref.sha256,
                custody_seq=record.seq,
            )
        ).inserted_primary_key
        assert item_id is not None
        return ImportResult(
            item.container,
            "imported",
            int(item_id[0]),
            ref.sha256,
            new_object,
            sealed_id=manifest.id,
            manifest_sha256=staged.manifest_hash,
            warning=warning,
        )

    def _source_id(self, db: Connection, source: SourceRef) -> int:
        if source.key not in self._sources:
            self._sources[source.key] = _source_id(db, source)
        return self._sources[source.key]

    def _present(self, item: PulledItem, manifest_hash: str) -> ImportResult | None:
        """The result for a sealed file already in the vault (or earlier in this run)."""
        sealed_id = item.sealed_id
        if sealed_id is None or sealed_id not in self._present_ids:
            return None
        item_id, known_hash = self._present_ids[sealed_id]
        if known_hash != manifest_hash:
            raise IntegrityError(
                N_(
                    "another sealed file with the id {id} is already in the vault (item "
                    "{item}); this one differs from it"
                ),
                id=sealed_id,
                item=item_id,
            )
        return ImportResult(item.container, "present", item_id or None)

    def _load_present(self) -> None:
        i = catalogue.items
        with self._vault.engine.connect() as db:
            rows = db.execute(select(i.c.sealed_id, i.c.id, i.c.manifest_sha256)).all()
        self._present_ids = {str(r.sealed_id): (int(r.id), str(r.manifest_sha256)) for r in rows}

    # -- helpers ------------------------------------------------------------------------------

    def _fresh_staging(self) -> Path:
        """An empty staging folder for this run; leftovers of killed runs are removed."""
        root = self._vault.paths.staging
        try:
            root.mkdir(mode=0o700, exist_ok=True)
            for old in root.iterdir():
                if old.is_dir():
                    durable.remove_tree(old)
                else:
                    old.unlink()
            run = root / f"run-{secrets.token_hex(6)}"
            run.mkdir(mode=0o700)
        except OSError as exc:
            raise durable.storage_error(exc, root) from exc
        return run

    @staticmethod
    def _manifest_hash(container: Path) -> str:
        if container.is_file():
            return hashlib.sha256(tarball.manifest_ciphertext(container)).hexdigest()
        return hashlib.sha256(read_manifest_ciphertext(container)).hexdigest()

    def _report(self, result: ImportResult) -> ImportResult:
        self._observer.result(result)
        return result


def _kind_disagreement(item: PulledItem, manifest: Manifest) -> TainikError | None:
    """The warning when the server's label (the sidecar's kind) is not the manifest's.

    The server cannot read a manifest: its kind is the uploading client's word, and a client
    that states none (the browser page before it could) is listed as a file. The manifest is
    signed into every segment's hash, so it decides; refusing the item would drop evidence
    over a label, so the import goes on and the disagreement is recorded and told.
    """
    if item.kind is None or item.kind == manifest.kind:
        return None
    return TainikError(
        N_(
            "the server listed it as a {claimed}, but the sealed file is a {kind}: "
            "imported as a {kind}"
        ),
        claimed=item.kind.value,
        kind=manifest.kind.value,
    )


def _extent(container: Path) -> tuple[int, int]:
    """How many segments a sealed file has, and their ciphertext bytes (before opening)."""
    try:
        if container.is_file():
            [sealed] = tarball.index(container)
            sizes = [member.size for member in sealed.segments]
        else:
            sizes = [e.stat().st_size for e in container.iterdir() if e.name != layout.MANIFEST]
    except (OSError, TainikError, ValueError):
        return 0, 0  # the reader reports the problem
    return len(sizes), sum(sizes)


def _source_id(db: Connection, source: SourceRef) -> int:
    row = db.execute(
        select(catalogue.sources.c.id).where(catalogue.sources.c.key == source.key)
    ).first()
    if row is not None:
        return int(row.id)
    key = db.execute(
        insert(catalogue.sources).values(key=source.key, designation=source.designation)
    ).inserted_primary_key
    assert key is not None
    return int(key[0])


def _ignore(count: int) -> None:
    """A progress callback that does nothing."""
