"""Disk space: recognising "disk full", free space, and the reserve kept for staff.

"Disk full" has several faces: ``ENOSPC`` (no space) and ``EDQUOT`` (over quota) from a file
operation, SQLite's ``SQLITE_FULL`` ("database or disk is full"), PostgreSQL's ``disk_full``
(SQLSTATE 53100), and our own :class:`~tainik.core.errors.StorageFullError`.
:func:`is_disk_full` recognises all of them anywhere in an exception's chain, so that the
server answers every one with ``507`` (``tainik.server.exception_handlers``).

The **reserve** is a few files of zeros in the data folder, allocated when there is room. When
a write that must not fail (a staff login, a deletion) finds the disk full, one of them is
given up and the write tried again (:meth:`Reserve.retry`): staff can still sign in and delete
what fills the disk. Housekeeping allocates them again once there is room. CockroachDB keeps an
"emergency ballast" file for the same reason.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tainik.core.errors import StorageError, StorageFullError

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
POSTGRES_DISK_FULL = "53100"
RESERVE_FILES = 4
RESERVE_PREFIX = "reserve-"
log = logging.getLogger("tainik.server")
T = TypeVar("T")


def is_disk_full(error: BaseException | None) -> bool:
    """True when ``error``, or an exception it was raised from, means "no space left"."""
    seen = 0
    while error is not None and seen < 16:
        if isinstance(error, StorageFullError):
            return True
        if isinstance(error, OSError) and error.errno in FULL_ERRNOS:
            return True
        if isinstance(error, StorageError) and error.params.get("errno") in FULL_ERRNOS:
            return True
        if isinstance(error, sqlite3.Error) and (
            getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or "database or disk is full" in str(error)
        ):
            return True
        if getattr(error, "sqlstate", None) == POSTGRES_DISK_FULL:  # psycopg's DiskFull
            return True
        # SQLAlchemy keeps the driver's exception in ``orig``.
        orig = getattr(error, "orig", None)
        error = orig if isinstance(orig, BaseException) else (error.__cause__ or error.__context__)
        seen += 1
    return False


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged process may still write on the file system of ``path``."""
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def unless_full(action: Callable[[], object]) -> bool:
    """Run a write that may be skipped on a full disk (refreshing a last-seen time); False
    when it was skipped. Give it its own transaction: SQLite reports a full disk at commit."""
    try:
        action()
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        return False
    return True


class Reserve:
    """Files of zeros kept so that essential writes succeed on a full disk."""

    def __init__(self, folder: Path, total_bytes: int) -> None:
        self.folder = folder
        self.piece = total_bytes // RESERVE_FILES
        # Threads of this process; other processes of the instance are told apart by the
        # files themselves (created exclusively, released by one unlink each).
        self._lock = threading.Lock()

    def _paths(self) -> list[Path]:
        return [self.folder / f"{RESERVE_PREFIX}{i}" for i in range(RESERVE_FILES)]

    def held(self) -> int:
        """How many pieces of the reserve are in place."""
        return sum(1 for path in self._paths() if path.is_file())

    def refill(self, keep_free: int) -> int:
        """Allocate the missing pieces while ``keep_free`` bytes stay free besides; returns
        how many were allocated."""
        if self.piece <= 0:
            return 0
        made = 0
        with self._lock:
            for path in self._paths():
                if path.is_file():
                    continue
                if free_bytes(self.folder) < keep_free + self.piece:
                    break
                try:
                    _allocate(path, self.piece)
                except FileExistsError:
                    # Another server process of the instance is allocating this piece: it is
                    # theirs to finish (removing it here would undo their work).
                    continue
                except OSError:
                    with contextlib.suppress(OSError):
                        path.unlink()
                    break
                made += 1
        return made

    def release_one(self) -> bool:
        """Give up one piece; False when none is left."""
        with self._lock:
            for path in reversed(self._paths()):
                try:
                    path.unlink()
                except FileNotFoundError:
                    continue
                log.warning("the disk is full: one piece of the reserve was released")
                return True
        return False

    def retry(self, action: Callable[[], T]) -> T:
        """``action()``; if it fails for want of space, release pieces of the reserve one at
        a time and try again while any is left."""
        while True:
            try:
                return action()
            except Exception as exc:
                if not is_disk_full(exc) or not self.release_one():
                    raise


def _allocate(path: Path, size: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        try:
            os.posix_fallocate(fd, 0, size)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise
            block = b"\0" * (1024 * 1024)
            for offset in range(0, size, len(block)):
                os.pwrite(fd, block[: size - offset], offset)
        os.fsync(fd)
    finally:
        os.close(fd)
