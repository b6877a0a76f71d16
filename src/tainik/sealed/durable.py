"""Durable writes: fsync files and directories, and rename into place only when complete."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from tainik.core.errors import N_, StorageError


def write_file(path: Path, data: bytes | bytearray | memoryview) -> None:
    """Create ``path`` (which must not exist), write ``data``, and fsync it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise storage_error(exc, path) from exc
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except OSError as exc:
        raise storage_error(exc, path) from exc
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (new names, renames) to stable storage."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_tree(path: Path) -> None:
    """Remove a directory of plain files (a partial sealed file), ignoring what is gone."""
    with contextlib.suppress(FileNotFoundError):
        for entry in path.iterdir():
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
        path.rmdir()


def storage_error(exc: OSError, path: Path | str) -> StorageError:
    """A user-facing error for a failed file operation."""
    if exc.errno == errno.ENOSPC:
        return StorageError(
            N_("{path}: no space left on the device"), path=str(path), errno=errno.ENOSPC
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return StorageError(N_("{path}: permission denied"), path=str(path))
    if exc.errno == errno.ENOENT:
        return StorageError(N_("{path}: no such file or directory"), path=str(path))
    if exc.errno == errno.EEXIST:
        return StorageError(N_("{path}: already exists"), path=str(path))
    return StorageError(
        N_("{path}: {reason}"), path=str(path), reason=exc.strerror or type(exc).__name__
    )
