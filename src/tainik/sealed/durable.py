"""Durable writes: fsync files and directories, and rename into place only when complete.

Files of a sealed file being written may be flushed in the background (:class:`FlushGroup`):
the segments of one container are written at once and fsynced by a few flusher threads while
sealing goes on, and the container is renamed into place only after every one of them is on
disk. Sealing then runs at the speed of the slower of the CPU and the disk, not of their sum.

Large buffers that start on a page boundary (see :func:`aligned_buffer`) are written with
``O_DIRECT`` where the file system allows it: the bytes go from our buffer to the disk without
a copy into the page cache. That copy, with the page allocation and accounting behind it, cost
0.3-1.5 s of CPU per GiB on our machines against 0.1 s direct; evidence we just sealed is not
read again soon, so the cache gains nothing from it. Durability is unchanged: the file is still
fsynced before it counts as written (``O_DIRECT`` alone does not flush the disk's cache or the
file's metadata).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import mmap
import os
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from tainik.core.errors import N_, StorageError, StorageFullError, TainikError

# Files written but not yet flushed, across the process: bounds open descriptors and lets
# writers wait for a slow disk instead of running ahead of it without limit.
MAX_UNFLUSHED = 32
_flushing: tuple[int, ThreadPoolExecutor, threading.BoundedSemaphore] | None = None
_flushing_lock = threading.Lock()


def _forget_in_child() -> None:
    """A forked child starts with a free lock and no pools: another thread of the parent may
    have held ``_flushing_lock`` at the moment of the fork, and it would stay held for ever
    in the child, which has none of the parent's threads."""
    global _flushing_lock, _flushing, _staging  # noqa: PLW0603 - per-process state
    _flushing_lock = threading.Lock()
    _flushing = None
    _staging = None


os.register_at_fork(after_in_child=_forget_in_child)


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


# O_DIRECT needs the buffer's address, the file offset and the length to be multiples of the
# device's logical block size: 4096 covers every common one (512 and 4096).
DIRECT_ALIGNMENT = 4096
_O_DIRECT = getattr(os, "O_DIRECT", 0)
_no_direct: set[int] = set()  # devices (st_dev) whose file system refused O_DIRECT


def aligned_buffer(size: int) -> memoryview:
    """A writable, zeroed buffer of ``size`` bytes starting on a page boundary (an anonymous
    mapping), which :func:`write_file` can hand to the disk without a copy."""
    # MAP_PRIVATE: the default for an anonymous mmap is MAP_SHARED, which a forked child
    # would share with its parent (two processes sealing into the same bytes).
    return memoryview(mmap.mmap(-1, max(size, 1), flags=mmap.MAP_PRIVATE))[:size]


def _starts_aligned(view: memoryview) -> bool:
    if view.readonly or not view.c_contiguous or not len(view):
        return False
    address = ctypes.addressof(ctypes.c_char.from_buffer(view))
    return address % DIRECT_ALIGNMENT == 0


class _Staging:
    """A few aligned buffers shared by the whole process, into which data that arrived in
    pieces (a segment PUT, as the socket gave it) is gathered so that it can go to the disk
    with O_DIRECT. Bounded: when all are in use, the pieces are written through the cache."""

    COUNT = 4
    MIN_SIZE = 4 * 1024 * 1024 + 64 * 1024  # one default segment and its age overhead

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._free: list[memoryview] = []
        self._made = 0

    def take(self, size: int) -> memoryview | None:
        with self._lock:
            for i, buffer in enumerate(self._free):
                if len(buffer) >= size:
                    return self._free.pop(i)
            if self._made < self.COUNT:
                self._made += 1
                return aligned_buffer(max(size, self.MIN_SIZE))
            if self._free:  # all too small for this one: replace one with a larger buffer
                self._free.pop()
                return aligned_buffer(max(size, self.MIN_SIZE))
        return None

    def give(self, buffer: memoryview) -> None:
        with self._lock:
            self._free.append(buffer)


_staging: _Staging | None = None


def _stage(chunks: list[bytes], size: int) -> tuple[_Staging, memoryview] | None:
    """``chunks`` gathered into a free staging buffer of this process, if one is free; give
    the buffer back to the staging set when written."""
    global _staging  # noqa: PLW0603 - one set per process
    staging = _staging
    if staging is None or staging.pid != os.getpid():
        with _flushing_lock:
            if _staging is None or _staging.pid != os.getpid():
                _staging = _Staging()
            staging = _staging
    buffer = staging.take(size)
    if buffer is None:
        return None
    at = 0
    for chunk in chunks:
        buffer[at : at + len(chunk)] = chunk
        at += len(chunk)
    return staging, buffer


class PositionalWriter:
    """Writes one open file at given offsets, from several threads at once.

    Runs that start on an aligned offset from an aligned buffer go to the disk with O_DIRECT
    through a second descriptor (O_DIRECT on the shared one would change every thread's
    writes); the rest, and everything where the file system refuses O_DIRECT, through ``fd``.
    Closing it leaves ``fd`` open; flush ``fd`` as before to make the file durable.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._direct: int | None = None
        device = os.fstat(fd).st_dev
        if _O_DIRECT and device not in _no_direct:
            try:
                self._direct = os.open(
                    f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_CLOEXEC | _O_DIRECT
                )
            except OSError as exc:  # no /proc, or no O_DIRECT here: plain writes
                if exc.errno == errno.EINVAL:
                    _no_direct.add(device)

    @property
    def direct(self) -> bool:
        """True when aligned runs can go to the disk with O_DIRECT."""
        return self._direct is not None

    def write(self, data: bytes | bytearray | memoryview, offset: int) -> None:
        """Write all of ``data`` at ``offset``."""
        view = memoryview(data).cast("B")
        direct = self._direct
        head = len(view) // DIRECT_ALIGNMENT * DIRECT_ALIGNMENT
        if direct is not None and head and offset % DIRECT_ALIGNMENT == 0 and _starts_aligned(view):
            try:
                while head:
                    written = os.pwrite(direct, view[:head], offset)
                    view, offset, head = view[written:], offset + written, head - written
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    raise
                _no_direct.add(os.fstat(self.fd).st_dev)
        while view:
            written = os.pwrite(self.fd, view, offset)
            view = view[written:]
            offset += written

    def close(self) -> None:
        """Close the O_DIRECT descriptor (not ``fd``)."""
        if self._direct is not None:
            os.close(self._direct)
            self._direct = None


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
    writer: PositionalWriter | None = None
    try:
        writer = PositionalWriter(fd)
        if isinstance(data, list):
            size = sum(len(chunk) for chunk in data)
            staged = _stage(data, size) if writer.direct and size >= DIRECT_ALIGNMENT else None
            if staged is None:
                _write_chunks(fd, data)
            else:
                staging, buffer = staged
                try:
                    writer.write(buffer[:size], 0)
                finally:
                    staging.give(buffer)
        else:
            writer.write(data, 0)
        if flush is None:
            os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        raise storage_error(exc, path) from exc
    except BaseException:
        os.close(fd)
        raise
    finally:
        if writer is not None:
            writer.close()
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


def move_into_place(
    temp: Path, path: Path, *, sync_file: bool = False, sync_folder: bool = True
) -> None:
    """Rename the complete file ``temp`` over ``path``, then fsync the folder: the one place
    where a finished file takes its final name (ruff bans ``os.replace`` everywhere else).

    ``temp`` must already be on disk; ``sync_file`` fsyncs it first, for files that other code
    (ffmpeg, c2pa) wrote without doing so. Both must be in the same folder. ``sync_folder``
    False skips the folder's fsync, for derived files that can be made again (a crash may
    then lose the new name, never leave a half-written file under it).
    """
    try:
        if sync_file:
            fd = os.open(temp, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(temp, path)
        if sync_folder:
            fsync_dir(path.parent)
    except OSError as exc:
        raise storage_error(exc, path) from exc


def replace_file(path: Path, data: bytes | list[bytes], *, sync_folder: bool = True) -> None:
    """Write ``data`` to ``path`` atomically and durably (mode 0600): a hidden temporary file
    beside it, written and fsynced, renamed over ``path``, and the folder fsynced. A crash
    leaves either the old file or the new one, never a mixture; the temporary file is
    removed on failure."""
    temp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
    try:
        write_file(temp, data)
        move_into_place(temp, path, sync_folder=sync_folder)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def replace_json(path: Path, value: object, *, indent: int = 1, sort_keys: bool = True) -> None:
    """:func:`replace_file` with ``value`` as UTF-8 JSON and a final newline."""
    text = json.dumps(value, indent=indent, sort_keys=sort_keys) + "\n"
    replace_file(path, text.encode("utf-8"))


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
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFullError(
            N_("{path}: no space left on the device"), path=str(path), errno=exc.errno
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
