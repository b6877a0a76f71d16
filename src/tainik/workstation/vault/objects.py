"""The content-addressed store: each original once, named by its SHA-256, read-only.

An object enters by a hard link from the staging folder (same file system), which fails rather
than replaces when the name exists: a stored object is never written again. Files are mode
0444 and their fan-out folders 0555, opened for writing only for the moment a link is added.
(Permissions stop mistakes by ordinary users; root ignores them. The hashes are the real
protection, checked by ``tainik vault verify``.)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

import blake3

from tainik.sealed import durable
from tainik.workstation.vault.custody import FileRef
from tainik.workstation.vault.layout import VaultPaths

READ_CHUNK = 4 * 1024 * 1024
OBJECT_MODE = 0o444
DIR_MODE = 0o555
OPEN_DIR_MODE = 0o700  # only while a link is added or a stray removed
Progress = Callable[[int], None]


def hash_file(
    path: Path,
    *,
    sha256: bool = True,
    progress: Progress | None = None,
    threads: bool = True,
) -> FileRef:
    """SHA-256 (unless ``sha256`` is False: then the field is empty), BLAKE3 and size.

    ``threads`` lets BLAKE3 use its thread pool; pass False in forked worker processes: a
    child forked after the parent started that pool would wait for threads it does not have.
    """
    whole = hashlib.sha256() if sha256 else None
    tree = blake3.blake3(max_threads=blake3.blake3.AUTO if threads else 1)
    size = 0
    buffer = bytearray(READ_CHUNK)
    view = memoryview(buffer)
    try:
        with open(path, "rb", buffering=0) as handle:
            while read := handle.readinto(buffer):
                chunk = view[:read]
                if whole is not None:
                    whole.update(chunk)
                tree.update(chunk)
                size += read
                if progress:
                    progress(read)
    except OSError as exc:
        raise durable.storage_error(exc, path) from exc
    return FileRef(whole.hexdigest() if whole else "", tree.hexdigest(), size)


class ObjectStore:
    """The objects of one vault."""

    def __init__(self, paths: VaultPaths) -> None:
        self._paths = paths

    def path(self, sha256_hex: str) -> Path:
        """Where the object lives (whether or not it exists)."""
        return self._paths.object_path(sha256_hex)

    def exists(self, sha256_hex: str) -> bool:
        """Whether an object file with this hash is present."""
        return self.path(sha256_hex).is_file()

    def add(self, staged: Path, ref: FileRef, *, sync: bool = True) -> bool:
        """Link the verified file ``staged`` in as ``ref``; False if it was already stored.

        ``staged`` is removed either way. The caller has checked that its content hashes to
        ``ref`` (the sealed-file reader verified the SHA-256 before naming it). With ``sync``
        False the caller flushes the object's folder itself (once for many objects).
        """
        target = self.path(ref.sha256)
        folder = target.parent
        try:
            os.chmod(staged, OBJECT_MODE)
            folder.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                folder.mkdir(mode=OPEN_DIR_MODE)
            os.chmod(folder, OPEN_DIR_MODE)
            try:
                os.link(staged, target)
                added = True
            except FileExistsError:
                added = False
            finally:
                os.chmod(folder, DIR_MODE)
            if added and sync:
                durable.fsync_dir(folder)
            staged.unlink()
        except OSError as exc:
            raise durable.storage_error(exc, target) from exc
        return added

    def drop_stray(self, ref: FileRef) -> None:
        """Remove a file at ``ref``'s place that the catalogue does not know, unless it is
        exactly ``ref`` (a kill between linking and committing leaves such a file)."""
        target = self.path(ref.sha256)
        if not target.exists():
            return
        found = hash_file(target)
        if found == ref:
            return
        try:
            os.chmod(target.parent, OPEN_DIR_MODE)
            try:
                target.unlink()
            finally:
                os.chmod(target.parent, DIR_MODE)
        except OSError as exc:
            raise durable.storage_error(exc, target) from exc

    def add_bytes(self, data: bytes, ref: FileRef) -> bool:
        """Store ``data`` (a small derived file) as ``ref``; False if already stored."""
        staged = self._paths.staging / f"bytes-{ref.sha256}"
        staged.unlink(missing_ok=True)
        durable.write_file(staged, data)
        return self.add(staged, ref)

    def is_read_only(self, sha256_hex: str) -> bool:
        """Whether the object's mode has no write bit."""
        mode = self.path(sha256_hex).stat().st_mode
        return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)

    def stored_hashes(self) -> set[str]:
        """Every object file name present on disk (for finding strays)."""
        found: set[str] = set()
        if not self._paths.objects.is_dir():
            return found
        for folder in self._paths.objects.iterdir():
            if folder.is_dir():
                found.update(entry.name for entry in folder.iterdir())
            else:
                found.add(folder.name)
        return found
