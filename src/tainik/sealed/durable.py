"""Durable writes: fsync files and directories, and rename into place only when complete.

Files of a sealed file being written may be flushed in the background (:class:`FlushGroup`):
the segments of one container are written at once and fsynced by a few flusher threads while
sealing goes on, and the container is renamed into place only after every one of them is on
disk. Sealing then runs at the speed of the slower of the CPU and the disk, not of their sum.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from tainik.core.errors import N_, StorageError, TainikError

# Files written but not yet flushed, across the process: bounds open descriptors and lets
# writers wait for a slow disk instead of running ahead of it without limit.
MAX_UNFLUSHED = 32
_flushing: tuple[int, ThreadPoolExecutor, threading.BoundedSemaphore] | None = None
_flushing_lock = threading.Lock()


def _flushers() -> tuple[ThreadPoolExecutor, threading.BoundedSemaphore]:
    """This process's flusher threads and their bound, made anew in a forked child (which
    inherits neither the parent's threads nor a meaningful count of its permits)."""
    global _flushing  # noqa: PLW0603 - one pool per process
    with _flushing_lock:
        if _flushing is None or _flushing[0] != os.getpid():
            _flushing = (
                os.getpid(),
                ThreadPoolExecutor(max_workers=2, thread_name_prefix="tainik-fsync"),
                threading.BoundedSemaphore(MAX_UNFLUSHED),
            )
        return _flushing[1], _flushing[2]


class FlushGroup:
    """Files being flushed in the background; :meth:`wait` returns once all are durable."""

    def __init__(self) -> None:
        self._pending: deque[Future[None]] = deque()
        self._lock = threading.Lock()

    def add(self, fd: int, path: Path) -> None:
        """Take over ``fd`` (written, not yet flushed): fsync it, then close it."""
        flushers, unflushed = _flushers()
        unflushed.acquire()
        try:
            future = flushers.submit(_flush_and_close, fd, path, unflushed)
        except BaseException:
            unflushed.release()
            os.close(fd)
            raise
        with self._lock:
            self._pending.append(future)
            while self._pending and self._pending[0].done():
                self._pending.popleft().result()  # an earlier failure surfaces here

    def wait(self) -> None:
        """Block until every file added is on disk; raises the first failure."""
        while True:
            with self._lock:
                if not self._pending:
                    return
                future = self._pending.popleft()
            future.result()

    def discard(self) -> None:
        """Wait for the flushes in progress, ignoring their failures (before a removal)."""
        while True:
            try:
                self.wait()
            except StorageError:
                continue
            return


def _flush_and_close(fd: int, path: Path, unflushed: threading.BoundedSemaphore) -> None:
    try:
        os.fsync(fd)
    except OSError as exc:
        raise storage_error(exc, path) from exc
    finally:
        os.close(fd)
        unflushed.release()


def write_file(
    path: Path,
    data: bytes | bytearray | memoryview | list[bytes],
    flush: FlushGroup | None = None,
) -> None:
    """Create ``path`` (which must not exist), write ``data`` (a buffer, or a list of chunks
    written in order without joining them), and fsync it: here, or in the background when
    ``flush`` is given (then it is durable after ``flush.wait()``)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise storage_error(exc, path) from exc
    try:
        if isinstance(data, list):
            _write_chunks(fd, data)
        else:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        if flush is None:
            os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        raise storage_error(exc, path) from exc
    except BaseException:
        os.close(fd)
        raise
    if flush is None:
        os.close(fd)
    else:
        flush.add(fd, path)


class BackgroundSync:
    """Flushes a file that is still being written, every ``every`` bytes, in a thread.

    The kernel would otherwise keep a whole opened file dirty in memory and write it only at
    the final fsync, leaving the disk idle while we compute and the CPU idle while it writes.
    A failed flush raises from :meth:`wrote` or :meth:`close` (Linux reports a write-back error
    to one fsync only, so none may be ignored).
    """

    def __init__(self, fd: int, path: Path, every: int = 64 * 1024 * 1024) -> None:
        self._fd = fd
        self._path = path
        self._every = every
        self._since = 0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tainik-sync")
        self._running: Future[None] | None = None

    def wrote(self, size: int) -> None:
        """``size`` more bytes were written; start a flush if enough have piled up."""
        self._since += size
        if self._since < self._every:
            return
        if self._running is not None:
            if not self._running.done():
                return
            self._running.result()
        self._since = 0
        self._running = self._thread.submit(self._sync)

    def _sync(self) -> None:
        try:
            # fdatasync where there is one (Linux, the BSDs); fsync elsewhere (macOS).
            getattr(os, "fdatasync", os.fsync)(self._fd)
        except OSError as exc:
            raise storage_error(exc, self._path) from exc

    def close(self) -> None:
        """Wait for the flush in progress (raising its failure) and stop the thread."""
        try:
            if self._running is not None:
                self._running.result()
        finally:
            self._thread.shutdown()


_IOV_MAX = 1024


def _write_chunks(fd: int, chunks: list[bytes]) -> None:
    """Write ``chunks`` in order with as few system calls as possible (writev)."""
    views = [memoryview(c) for c in chunks if c]
    while views:
        written = os.writev(fd, views[:_IOV_MAX])
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if written:
            views[0] = views[0][written:]


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


def read_bounded(path: Path, limit: int, too_large: TainikError) -> bytes:
    """All of a small file that must not exceed ``limit`` bytes (never more is read);
    ``too_large`` is raised when it does, a :class:`StorageError` when it cannot be read."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise storage_error(exc, path) from exc
    if len(data) > limit:
        raise too_large
    return data


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
