"""``vault acquire``: a drive's files (or its image) into the vault, with a forensic record.

A **folder** is walked without following links (links are recorded, not read) and without
crossing into other mounts; folders and files are opened read-only with ``O_NOATIME`` (where
the kernel allows it: the file's owner, or root), relative to their folder's descriptor. Each
regular file is read once: the same pass computes SHA-256 (on a second thread) and BLAKE3 and
writes the copy into the vault's staging folder. Its status is taken before and after; a file
whose size, modification or change time moved meanwhile is reported as *changed* and not
stored. An error while opening or reading makes the entry *unreadable*, with the error and the
byte it happened at, and the walk goes on. A raw **image** file or a **block device** is one
sequential read of the same kind, stored as one original.

**Journal.** Each stored file is flushed, linked into the object store and its folder flushed
before a line naming it is appended (and flushed) to ``journal/acquire-KEY.jsonl``, ``KEY``
derived from the medium's path, ``--from`` and ``--note``. A re-run of the same command finds
the journal and does not read again a file whose size, modification and change times are the
journal's and whose stored copy is present; so a kill at any moment loses at most the files
being read. Objects stored but not yet recorded are *stray* files until the end (``verify``
warns about them, as after an interrupted import).

**The end** is one SQLite transaction: the manifest (every entry, in walk order) is stored as
an original; the signed ``acquire`` record names it; the thread, the new stored files and one
item per stored entry (and one for the manifest) are recorded. The journal is then removed. A
kill between the commit and the removal is recognised by the run's random token in the record.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import blake3
from sqlalchemy import Connection, insert, select

from tainik import __version__
from tainik.core.errors import N_, TainikError
from tainik.core.names import safe_name
from tainik.core.timestamps import format_utc
from tainik.sealed import durable
from tainik.workstation.vault import acquired, canonical, catalogue, medium
from tainik.workstation.vault.acquired import (
    CHANGED,
    DIR,
    FILE,
    IMAGE,
    LINK,
    MOUNT,
    OTHER,
    STORED,
    UNREADABLE,
    format_ns,
    path_fields,
)
from tainik.workstation.vault.canonical import JsonObject, JsonValue
from tainik.workstation.vault.custody import Action, CustodyRecord, FileRef
from tainik.workstation.vault.errors import VaultUsageError
from tainik.workstation.vault.vault import VaultWriter

CHUNK = 1024 * 1024
JOURNAL_FORMAT = "tainik.org/acquire-journal/v1"
BATCH_FILES = 256  # stored files per journal flush
BATCH_BYTES = 256 * 1024 * 1024  # or this many bytes
_O_NOATIME = getattr(os, "O_NOATIME", 0)
_READ_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
_INSERT_ROWS = 500

Progress = Callable[[int], None]


class AcquireObserver:
    """Hooks for what an acquisition reports as it goes; the default does nothing."""

    def begin(self, files: int, total: int, already: int) -> None:
        """``files`` regular files of ``total`` bytes, ``already`` bytes of them stored by an
        earlier run (not read again)."""

    def progress(self, count: int) -> None:
        """``count`` more bytes read."""

    def warning(self, warning: TainikError) -> None:
        """Something the person should know (a read-write mount)."""

    def problem(self, entry: JsonObject) -> None:
        """An entry that is unreadable or changed while read (it is in the manifest)."""


@dataclass(frozen=True, slots=True)
class AcquireResult:
    """What an acquisition made (or found already made)."""

    seq: int
    source_key: str
    manifest: FileRef
    counts: JsonObject
    reused: int = 0  # files not read again: stored by an interrupted run
    already: bool = False  # the acquisition had been committed by an earlier run


@dataclass
class _Journal:
    """The resumable state of one acquisition on disk."""

    path: Path
    header: dict[str, object]
    done: dict[bytes, dict[str, object]] = field(default_factory=dict)
    handle: IO[bytes] | None = None


def _request_key(path: str, from_text: str, note: str) -> str:
    text = canonical.encode({"from": from_text, "note": note, "path": path})
    return hashlib.sha256(text).hexdigest()


def _describe_error(exc: OSError) -> str:
    name = os.strerror(exc.errno) if exc.errno else type(exc).__name__
    code = f" ({errno_name(exc.errno)})" if exc.errno else ""
    return f"{name}{code}"


def errno_name(number: int) -> str:
    """``EIO`` for 5."""
    return errno.errorcode.get(number, str(number))


@dataclass(frozen=True, slots=True)
class _Found:
    """One thing the walk found: its folder's descriptor, name, path from the root, and its
    status (or the error getting it); for a folder, the error opening or listing it."""

    folder: int
    name: bytes
    rel: bytes
    st: os.stat_result | OSError
    list_error: OSError | None = None


def _names(fd: int) -> list[bytes]:
    """The names in an open folder, in byte order."""
    return sorted(os.fsencode(n) for n in os.listdir(fd))


class _ReadError(Exception):
    def __init__(self, offset: int, exc: OSError) -> None:
        super().__init__(str(exc))
        self.offset = offset
        self.exc = exc


class _Copier:
    """One read pass: SHA-256 on a second thread, BLAKE3 and the copy on this one, two buffers
    so that the next read overlaps the SHA-256 of the last."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tainik-sha256")
        self._buffers = [memoryview(bytearray(CHUNK)), memoryview(bytearray(CHUNK))]

    def close(self) -> None:
        self._pool.shutdown()

    def copy(self, source: int, target: int, progress: Progress) -> FileRef:
        whole = hashlib.sha256()
        tree = blake3.blake3(max_threads=1)
        pending: Future[None] | None = None
        size, which = 0, 0
        try:
            while True:
                buffer = self._buffers[which]
                try:
                    count = os.readv(source, [buffer])
                except OSError as exc:
                    raise _ReadError(size, exc) from exc
                if pending is not None:
                    pending.result()
                    pending = None
                if count == 0:
                    break
                chunk = buffer[:count]
                pending = self._pool.submit(whole.update, chunk)
                tree.update(chunk)
                written = 0
                while written < count:
                    written += os.write(target, chunk[written:])
                size += count
                progress(count)
                which ^= 1
        finally:
            if pending is not None:
                with contextlib.suppress(Exception):
                    pending.result()
        return FileRef(whole.hexdigest(), tree.hexdigest(), size)


def _times(st: os.stat_result) -> JsonObject:
    return {
        "mtime": format_ns(st.st_mtime_ns),
        "ctime": format_ns(st.st_ctime_ns),
        "atime": format_ns(st.st_atime_ns),
    }


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


class Acquirer:
    """Acquires one medium into a vault through its writer."""

    def __init__(self, writer: VaultWriter, observer: AcquireObserver | None = None) -> None:
        self._writer = writer
        self._vault = writer.vault
        self._observer = observer or AcquireObserver()
        self._statx = medium.statx()
        self._known: set[str] = set()  # SHA-256 of the objects the catalogue has
        self._ours: set[str] = set()  # stored by this acquisition (this run or the journal)
        self._without_noatime = 0
        self._flush = durable.FlushGroup()
        self._pending_lines: list[bytes] = []
        self._pending_store: list[tuple[Path, FileRef]] = []
        self._pending_bytes = 0
        self._staged = 0
        self._reused = 0

    # -- the whole run ----------------------------------------------------------------------

    def run(self, path: Path, from_text: str, note: str = "") -> AcquireResult:
        """Acquire the folder, image file or block device at ``path``."""
        try:
            target = Path(os.path.realpath(path))
            st = os.stat(target)
        except OSError as exc:
            raise durable.storage_error(exc, path) from exc
        if stat.S_ISDIR(st.st_mode):
            kind = "folder"
        elif stat.S_ISREG(st.st_mode):
            kind = "image"
        elif stat.S_ISBLK(st.st_mode):
            kind = "device"
        else:
            raise VaultUsageError(
                N_("{path} is not a folder, an image file or a block device"), path=str(path)
            )
        vault_root = Path(os.path.realpath(self._vault.paths.root))
        if kind == "folder" and (target == vault_root or target in vault_root.parents):
            raise VaultUsageError(
                N_("{path} holds the vault itself: acquire the medium, not the workstation"),
                path=str(path),
            )
        key = _request_key(str(target), from_text, note)
        journal = self._open_journal(key, target)
        try:
            done = self._committed(key, journal)
        except VaultUsageError:
            self._close_journal(journal, remove=not journal.done)
            raise
        if done is not None:
            self._close_journal(journal, remove=True)
            return done
        staging = self._fresh_staging()
        copier = _Copier()
        try:
            self._known = self._catalogue_objects()
            self._ours = {str(e["entry"]["sha256"]) for e in journal.done.values()}  # type: ignore[index]
            entries = staging / "entries.jsonl"
            with entries.open("wb") as out:
                if kind == "folder":
                    header = self._folder(target, journal, staging, copier, out)
                else:
                    header = self._image(target, kind == "device", journal, staging, copier, out)
            self._flush_batch(journal)
            result = self._commit(journal, header, entries, staging, key, from_text, note)
        finally:
            copier.close()
            self._flush.discard()
            self._close_journal(journal, remove=False)
        self._close_journal(journal, remove=True)
        durable.remove_tree(staging)
        return result

    # -- the journal ------------------------------------------------------------------------

    def _open_journal(self, key: str, target: Path) -> _Journal:
        folder = self._vault.paths.journal
        path = folder / f"acquire-{key[:32]}.jsonl"
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            data = path.read_bytes() if path.exists() else b""
        except OSError as exc:
            raise durable.storage_error(exc, path) from exc
        header: dict[str, object] | None = None
        done: dict[bytes, dict[str, object]] = {}
        good = 0
        for line in data.split(b"\n")[:-1]:  # a last line without LF was cut by a kill
            try:
                value = json.loads(line)
            except ValueError:
                break
            if header is None:
                if not isinstance(value, dict) or value.get("journal") != JOURNAL_FORMAT:
                    break
                header = value
            elif isinstance(value, dict) and isinstance(value.get("entry"), dict):
                done[acquired.raw_path(value["entry"])] = value
            good += len(line) + 1
        try:
            if header is None:
                header = {
                    "journal": JOURNAL_FORMAT,
                    "key": key,
                    "run": secrets.token_hex(16),
                    "started": format_utc(self._vault.clock()),
                    "path": str(target),
                }
                handle: IO[bytes] = path.open("wb")
                handle.write(json.dumps(header, sort_keys=True).encode() + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
                durable.fsync_dir(folder)
            else:
                handle = path.open("r+b")
                handle.truncate(good)
                handle.seek(good)
        except OSError as exc:
            raise durable.storage_error(exc, path) from exc
        return _Journal(path, header, done, handle)

    @staticmethod
    def _close_journal(journal: _Journal, *, remove: bool) -> None:
        if journal.handle is not None:
            journal.handle.close()
            journal.handle = None
        if remove:
            journal.path.unlink(missing_ok=True)

    def _committed(self, key: str, journal: _Journal) -> AcquireResult | None:
        """The result of this acquisition if an earlier run committed it (killed before it
        removed its journal); a usage error if the same medium was acquired before with the
        same --from and --note, by another run."""
        run = str(journal.header["run"])
        for seq, record in self._acquire_records():
            if record.details.get("key") != key:
                continue
            manifest = acquired.record_manifest(record)
            counts = record.details.get("counts")
            if record.details.get("run") == run and manifest is not None:
                return AcquireResult(
                    seq,
                    str(record.details.get("source")),
                    manifest,
                    counts if isinstance(counts, dict) else {},
                    already=True,
                )
            raise VaultUsageError(
                N_(
                    "This medium was already acquired from the same person with the same note "
                    "(custody record {seq}). To acquire it again, give a --note that tells the "
                    "two apart"
                ),
                seq=seq,
            )
        return None

    def _acquire_records(self) -> Iterator[tuple[int, CustodyRecord]]:
        for seq, line in self._vault.records():
            if b'"action":"acquire"' not in line:
                continue
            with contextlib.suppress(ValueError):
                yield seq, CustodyRecord.parse(line)

    # -- reading a folder -------------------------------------------------------------------

    @staticmethod
    def _walk(root_fd: int, root_dev: int) -> Iterator[_Found]:
        """Everything under the root, in byte order of names, each folder before its
        contents. Folders are opened with ``O_NOATIME`` and read by descriptor; other mounts
        are not entered."""
        try:
            top = _names(root_fd)
        except OSError as exc:
            raise durable.storage_error(exc, "PATH") from exc
        stack: list[tuple[int, bytes, Iterator[bytes]]] = [(root_fd, b"", iter(top))]
        while stack:
            fd, prefix, names = stack[-1]
            name = next(names, None)
            if name is None:
                stack.pop()
                if fd != root_fd:
                    os.close(fd)
                continue
            rel = prefix + name
            try:
                st: os.stat_result | OSError = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except OSError as exc:
                st = exc
            if not (
                isinstance(st, os.stat_result)
                and stat.S_ISDIR(st.st_mode)
                and st.st_dev == root_dev
            ):
                yield _Found(fd, name, rel, st)
                continue
            try:
                child = _open_read_only(name, fd, os.O_DIRECTORY)[0]
            except OSError as exc:
                yield _Found(fd, name, rel, st, exc)
                continue
            try:
                listed = _names(child)
            except OSError as exc:
                os.close(child)
                yield _Found(fd, name, rel, st, exc)
                continue
            yield _Found(fd, name, rel, st)
            stack.append((child, rel + b"/", iter(listed)))

    def _folder(
        self, root: Path, journal: _Journal, staging: Path, copier: _Copier, out: IO[bytes]
    ) -> JsonObject:
        description, mount = medium.describe_folder(root)
        if mount is not None and not mount.read_only:
            self._observer.warning(
                TainikError(
                    N_(
                        "{path} is on a file system mounted read-write ({mount}): the system may "
                        "still change it while it is read (a journal replayed, access times). "
                        "Use a write-blocker, or remount it read-only first: "
                        "sudo mount -o remount,ro {mount}"
                    ),
                    path=str(root),
                    mount=mount.point,
                )
            )
        try:
            root_fd, _ = _open_read_only(os.fsencode(root), None, os.O_DIRECTORY)
            root_st = os.fstat(root_fd)
        except OSError as exc:
            raise durable.storage_error(exc, root) from exc
        try:
            files = total = already = 0
            for found in self._walk(root_fd, root_st.st_dev):
                st = found.st
                if isinstance(st, os.stat_result) and stat.S_ISREG(st.st_mode):
                    files += 1
                    total += st.st_size
                    if self._reusable(journal, found.rel, st) is not None:
                        already += st.st_size
            self._observer.begin(files, total, already)
            for found in self._walk(root_fd, root_st.st_dev):
                entry = self._entry(found, root_st.st_dev, journal, staging, copier)
                out.write(acquired.encode_line(entry))
        finally:
            os.close(root_fd)
        description["opened_without_noatime"] = self._without_noatime
        return description

    def _reusable(self, journal: _Journal, rel: bytes, st: os.stat_result) -> JsonObject | None:
        """The journal's entry for a file stored by an earlier run and unchanged since."""
        done = journal.done.get(rel)
        if done is None or done.get("identity") != list(_identity(st)):
            return None
        entry = done["entry"]
        assert isinstance(entry, dict)
        try:
            stored = self._vault.objects.path(str(entry["sha256"])).stat()
        except (OSError, ValueError):
            return None
        return entry if stored.st_size == entry["size"] else None

    def _entry(
        self, found: _Found, root_dev: int, journal: _Journal, staging: Path, copier: _Copier
    ) -> JsonObject:
        fd, name, rel, st = found.folder, found.name, found.rel, found.st
        base: dict[str, JsonValue] = dict(path_fields(rel))
        if isinstance(st, OSError):
            base.update({"type": OTHER, "status": UNREADABLE, "error": _describe_error(st)})
            self._observer.problem(base)
            return base
        base["mode"] = st.st_mode
        base.update(_times(st))
        mode = st.st_mode
        if stat.S_ISLNK(mode):
            base["type"] = LINK
            try:
                target = os.readlink(name, dir_fd=fd)
                base.update({"target" + k[4:]: v for k, v in path_fields(target).items()})
            except OSError as exc:
                base["error"] = _describe_error(exc)
            return base
        if stat.S_ISDIR(mode):
            base["type"] = DIR if st.st_dev == root_dev else MOUNT
            if found.list_error is not None:
                base.update({"status": UNREADABLE, "error": _describe_error(found.list_error)})
                self._observer.problem(base)
            return base
        if not stat.S_ISREG(mode):
            base["type"] = OTHER
            base["kind"] = _file_kind(mode)
            return base
        base["type"] = FILE
        base["size"] = st.st_size
        reused = self._reusable(journal, rel, st)
        if reused is not None:
            self._reused += 1
            self._observer.progress(0)
            return reused
        entry = self._read_file(base, name, fd, st, staging, copier)
        if entry.get("status") == STORED:
            self._journal_line(journal, rel, st, entry)
        else:
            self._observer.problem(entry)
        return entry

    def _read_file(
        self,
        base: dict[str, JsonValue],
        name: bytes,
        dir_fd: int | None,
        before: os.stat_result,
        staging: Path,
        copier: _Copier,
    ) -> JsonObject:
        """Read one file (or image) into staging; the entry says how it went. A stored copy
        waits, flushing in the background, to be linked in by the next batch."""
        try:
            fd, noatime = _open_read_only(name, dir_fd, 0)
        except OSError as exc:
            return {**base, "status": UNREADABLE, "error": _describe_error(exc), "at": 0}
        if not noatime:
            self._without_noatime += 1
        self._staged += 1
        staged = staging / f"file-{self._staged}"
        out = -1
        try:
            try:
                opened = os.fstat(fd)
            except OSError as exc:
                return {**base, "status": UNREADABLE, "error": _describe_error(exc), "at": 0}
            if (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino) or not (
                stat.S_ISREG(opened.st_mode) or stat.S_ISBLK(opened.st_mode)
            ):
                return {**base, "status": CHANGED, "error": "replaced before it was opened"}
            birth, why = self._statx.birth_ns(fd)
            if birth is not None:
                base["btime"] = format_ns(birth)
            else:
                base["btime_unknown"] = why
            try:
                out = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                ref = copier.copy(fd, out, self._observer.progress)
            except _ReadError as failure:
                return {
                    **base,
                    "status": UNREADABLE,
                    "error": _describe_error(failure.exc),
                    "at": failure.offset,
                }
            except OSError as exc:
                raise durable.storage_error(exc, staged) from exc
            try:
                after = os.fstat(fd)
            except OSError as exc:
                return {**base, "status": UNREADABLE, "error": _describe_error(exc), "at": 0}
            if stat.S_ISREG(opened.st_mode) and (
                _identity(after) != _identity(opened) or ref.size != opened.st_size
            ):
                return {
                    **base,
                    "status": CHANGED,
                    "error": "changed while it was read (size, modification or change time)",
                    "read_size": ref.size,
                }
            self._flush.add(out, staged)
            out = -1
            self._pending_store.append((staged, ref))
            self._pending_bytes += ref.size
            return {**base, **ref.to_json(), "status": STORED}
        finally:
            os.close(fd)
            if out >= 0:
                os.close(out)
                staged.unlink(missing_ok=True)

    # -- storing ----------------------------------------------------------------------------

    def _journal_line(
        self, journal: _Journal, rel: bytes, st: os.stat_result, entry: JsonObject
    ) -> None:
        line = {"identity": list(_identity(st)), "entry": entry}
        self._pending_lines.append(json.dumps(line, sort_keys=True).encode() + b"\n")
        if len(self._pending_store) >= BATCH_FILES or self._pending_bytes >= BATCH_BYTES:
            self._flush_batch(journal)

    def _flush_batch(self, journal: _Journal) -> None:
        """Once the staged copies are flushed: link them into the store, flush their
        folders, then note them in the journal (flushed too)."""
        self._flush.wait()
        objects = self._vault.objects
        folders: set[Path] = set()
        for staged, ref in self._pending_store:
            if ref.sha256 not in self._known and ref.sha256 not in self._ours:
                objects.drop_stray(ref)  # left by a kill, or put there by hand
            objects.add(staged, ref, sync=False)
            self._ours.add(ref.sha256)
            folders.add(objects.path(ref.sha256).parent)
        for folder in folders:
            durable.fsync_dir(folder)
        self._pending_store.clear()
        self._pending_bytes = 0
        if not self._pending_lines or journal.handle is None:
            return
        try:
            journal.handle.write(b"".join(self._pending_lines))
            journal.handle.flush()
            os.fsync(journal.handle.fileno())
        except OSError as exc:
            raise durable.storage_error(exc, journal.path) from exc
        self._pending_lines.clear()

    # -- an image or a device -----------------------------------------------------------------

    def _image(
        self,
        path: Path,
        is_device: bool,
        journal: _Journal,
        staging: Path,
        copier: _Copier,
        out: IO[bytes],
    ) -> JsonObject:
        description: dict[str, JsonValue] = {"kind": "device" if is_device else "image"}
        description["path"] = str(path)
        try:
            st = os.stat(path)
            size = st.st_size
            if is_device:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                try:
                    size = os.lseek(fd, 0, os.SEEK_END)
                finally:
                    os.close(fd)
        except OSError as exc:
            raise durable.storage_error(exc, path) from exc
        description["size"] = size
        name = os.fsencode(path.name)
        base: dict[str, JsonValue] = {**path_fields(name), "type": IMAGE, "size": size}
        base.update({"mode": st.st_mode, **_times(st)})
        reused = self._reusable(journal, name, st) if not is_device else None
        self._observer.begin(1, size, size if reused else 0)
        if reused is not None:
            self._reused += 1
            entry = reused
        else:
            entry = self._read_file(base, os.fsencode(path), None, st, staging, copier)
            if entry.get("status") == STORED:
                if not is_device:
                    self._journal_line(journal, name, st, entry)
            else:
                self._observer.problem(entry)
        out.write(acquired.encode_line(entry))
        self._flush_batch(journal)
        ref = acquired.entry_ref(entry)
        # The file system is probed in the stored copy, never in the evidence (blkid reads
        # without O_NOATIME); lsblk asks the kernel and udev about a device, not the device.
        if ref is not None:
            description.update(medium.blkid(self._vault.objects.path(ref.sha256)))
        if is_device:
            description.update(medium.lsblk(str(path)))
        return description

    # -- the end -----------------------------------------------------------------------------

    def _commit(
        self,
        journal: _Journal,
        description: JsonObject,
        entries_path: Path,
        staging: Path,
        key: str,
        from_text: str,
        note: str,
    ) -> AcquireResult:
        """Store the manifest, then record everything in one transaction. The entries are
        streamed from the staging file (memory does not grow with the number of files, but
        for the set of distinct new stored files)."""
        self._flush.wait()
        counter = acquired.Counter()
        new_objects: dict[str, FileRef] = {}  # stored files the catalogue does not have yet
        for _, entry in _entries(entries_path):
            counter.add(entry)
            stored = acquired.entry_ref(entry)
            if stored is not None and stored.sha256 not in self._known:
                new_objects.setdefault(stored.sha256, stored)
        counts = counter.result()
        header: JsonObject = {
            "format": acquired.FORMAT,
            "medium": description,
            "from": from_text,
            "note": note,
            "actor": self._writer.actor,
            "started": str(journal.header["started"]),
            "finished": format_utc(self._vault.clock()),
            "tool": f"tainik {__version__}",
            "counts": counts,
        }
        staged = staging / "manifest"
        whole, tree, size = hashlib.sha256(), blake3.blake3(), 0
        try:
            with staged.open("wb") as out, entries_path.open("rb") as body:
                chunk = acquired.encode_line(header)
                while chunk:
                    whole.update(chunk)
                    tree.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                    chunk = body.read(CHUNK)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise durable.storage_error(exc, staged) from exc
        ref = FileRef(whole.hexdigest(), tree.hexdigest(), size)
        if ref.sha256 not in self._known and ref.sha256 not in self._ours:
            self._vault.objects.drop_stray(ref)
        self._vault.objects.add(staged, ref)
        source = acquired.source_key(ref.sha256)
        details: dict[str, JsonValue] = {
            "medium": str(description.get("kind")),
            "from": from_text,
            "note": note,
            "source": source,
            "counts": counts,
            "key": key,
            "run": str(journal.header["run"]),
        }
        with self._writer.transaction() as db:
            record = self._writer.append(
                db, Action.ACQUIRE, inputs=[description], outputs=[ref.to_json()], details=details
            )
            new_objects.setdefault(ref.sha256, ref)
            self._record_rows(db, record.seq, source, from_text, ref, new_objects, entries_path)
        return AcquireResult(record.seq, source, ref, counts, reused=self._reused)

    def _record_rows(
        self,
        db: Connection,
        seq: int,
        source: str,
        from_text: str,
        manifest_ref: FileRef,
        new_objects: dict[str, FileRef],
        entries_path: Path,
    ) -> None:
        """The thread, the stored files first stored now, and an item a stored entry."""
        inserted = db.execute(
            insert(catalogue.sources).values(key=source, designation=from_text or source)
        ).inserted_primary_key
        assert inserted is not None
        source_id = int(inserted[0])
        known = _existing(db, list(new_objects))
        rows = [
            {"sha256": r.sha256, "blake3": r.blake3, "size": r.size, "custody_seq": seq}
            for sha, r in new_objects.items()
            if sha not in known
        ]
        for start in range(0, len(rows), _INSERT_ROWS):
            db.execute(insert(catalogue.objects), rows[start : start + _INSERT_ROWS])
        items = [_item_row(source_id, seq, 0, None, manifest_ref, manifest_ref)]
        for line, entry in _entries(entries_path):
            ref = acquired.entry_ref(entry)
            if ref is None:
                continue
            items.append(_item_row(source_id, seq, line, entry, ref, manifest_ref))
            if len(items) >= _INSERT_ROWS:
                db.execute(insert(catalogue.items), items)
                items = []
        if items:
            db.execute(insert(catalogue.items), items)

    # -- helpers ------------------------------------------------------------------------------

    def _catalogue_objects(self) -> set[str]:
        with self._vault.engine.connect() as db:
            return {str(r.sha256) for r in db.execute(select(catalogue.objects.c.sha256))}

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
            run = root / f"acquire-{secrets.token_hex(6)}"
            run.mkdir(mode=0o700)
        except OSError as exc:
            raise durable.storage_error(exc, root) from exc
        return run


def _open_read_only(name: bytes, dir_fd: int | None, extra: int) -> tuple[int, bool]:
    """Open read-only, not following a link, with ``O_NOATIME`` where the kernel allows it
    (the file's owner or root); returns the descriptor and whether ``O_NOATIME`` was used."""
    flags = _READ_FLAGS | extra
    if _O_NOATIME:
        try:
            return os.open(name, flags | _O_NOATIME, dir_fd=dir_fd), True
        except PermissionError:
            pass
    return os.open(name, flags, dir_fd=dir_fd), False


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    return "unknown"


def _existing(db: Connection, shas: list[str]) -> set[str]:
    found: set[str] = set()
    o = catalogue.objects
    for start in range(0, len(shas), _INSERT_ROWS):
        chunk = shas[start : start + _INSERT_ROWS]
        found.update(
            str(r.sha256) for r in db.execute(select(o.c.sha256).where(o.c.sha256.in_(chunk)))
        )
    return found


def _entries(path: Path) -> Iterator[tuple[int, JsonObject]]:
    """``(line number, entry)`` of the entries written so far (line 1 is the first)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            yield number, json.loads(line)


def _item_row(
    source_id: int, seq: int, line: int, entry: JsonObject | None, ref: FileRef, manifest: FileRef
) -> dict[str, object]:
    """An acquired item's catalogue row (``entry`` None: the manifest itself)."""
    name = acquired.MANIFEST_NAME.encode() if entry is None else acquired.raw_path(entry)
    mtime = None if entry is None else entry.get("mtime")
    return {
        "source_id": source_id,
        "sealed_id": acquired.item_id(seq, line),
        "kind": "file",
        "name": name,
        "display_name": safe_name(name),
        "sent_at": _microseconds(mtime) if isinstance(mtime, str) else None,
        "sent_order": line,
        "manifest_sha256": manifest.sha256,
        "sha256": ref.sha256,
        "custody_seq": seq,
    }


def _microseconds(text: str) -> str:
    """``…:05.123456789Z`` -> ``…:05.123456Z`` (the catalogue's one spelling of a time)."""
    return text[:26] + "Z" if len(text) == 30 else text
