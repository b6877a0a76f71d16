"""Running segment work on every core: threads for segments, processes for whole files.

Sealing and opening segments runs in threads: OpenSSL's ChaCha20-Poly1305 (through
``cryptography``), hashlib and file I/O all release the GIL on large buffers, so threads use
every core with no plaintext copied between processes. Each thread reuses its own scratch
buffers (:func:`scratch`), so a gigabyte sealed does not fault in a gigabyte of fresh memory.

Work that is Python-heavy per file (the vault's import of many small sealed files) uses a
process pool whose workers receive their keys once, through the pool initializer.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import TypeVar

from tainik.core.segments import SegmentPlan
from tainik.crypto import Identity, Recipient, Secret
from tainik.sealed import durable

T = TypeVar("T")
_recipients: tuple[Recipient, ...] = ()
_identities: tuple[Identity, ...] = ()


def _init(recipient_texts: Sequence[str], identity_secrets: Sequence[str]) -> None:
    global _recipients, _identities  # noqa: PLW0603 - per-process worker state
    _recipients = tuple(Recipient(t) for t in recipient_texts)
    _identities = tuple(Identity(Secret(s)) for s in identity_secrets)


def worker_recipients() -> tuple[Recipient, ...]:
    """The recipients this worker process was started with."""
    return _recipients


def worker_identities() -> tuple[Identity, ...]:
    """The identities this worker process was started with."""
    return _identities


def default_jobs() -> int:
    """Worker processes to use by default: one per available core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def make_pool(
    jobs: int,
    recipients: Sequence[Recipient] = (),
    identities: Sequence[Identity] = (),
    *,
    method: str | None = None,
) -> ProcessPoolExecutor:
    """A pool of ``jobs`` workers holding the given keys.

    ``fork`` (the default on Linux) is cheap and lets workers share file descriptors; a
    long-running server with threads passes ``method="spawn"``.
    """
    if method is None:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context(method),
        initializer=_init,
        initargs=(
            [r.text for r in recipients],
            [i.secret.reveal() for i in identities],
        ),
    )


def make_threads(jobs: int) -> ThreadPoolExecutor:
    """Threads for segment work (see the module's docstring)."""
    return ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="tainik-segments")


_scratch = threading.local()


def scratch(slot: str, size: int) -> memoryview:
    """A buffer of at least ``size`` bytes owned by this thread, the same one call after call,
    starting on a page boundary (so that a segment sealed into it goes to disk without a copy,
    see :func:`durable.aligned_buffer`).

    Its contents last only until this thread asks for ``slot`` again.
    """
    buffer: memoryview | None = getattr(_scratch, slot, None)
    if buffer is None or len(buffer) < size:
        buffer = durable.aligned_buffer(size)
        setattr(_scratch, slot, buffer)
    return buffer


def readinto_exactly(fd: int, view: memoryview, offset: int) -> int:
    """Fill ``view`` from ``offset``; returns the bytes read (fewer only at end of file)."""
    got = 0
    while got < len(view):
        read = os.preadv(fd, [view[got:]], offset + got)
        if not read:
            break
        got += read
    return got


class FileShrank(Exception):
    """The file ended before the segment plan made from its size (it changed)."""


def map_segments(
    fd: int,
    plan: SegmentPlan,
    threads: ThreadPoolExecutor,
    depth: int,
    job: Callable[[memoryview, int], T],
    done: Callable[[int, T], None],
) -> bytes:
    """Read the file ``fd`` once, in order, into a ring of ``depth`` segment buffers; hash it
    whole here while ``job(segment, index)`` runs for each segment in ``threads``; call
    ``done(index, result)`` in order. Returns the whole file's SHA-256.

    A buffer is refilled only after the job on it finished, so memory stays at ``depth``
    segments. On any failure the jobs in progress finish before it propagates (their output
    may be removed then). Raises :class:`FileShrank`, or the read's :class:`OSError`.
    """
    ring = [bytearray(plan.segment_size) for _ in range(min(depth, plan.count))]
    whole = hashlib.sha256()
    pending: deque[tuple[int, Future[T]]] = deque()

    def collect() -> None:
        index, future = pending.popleft()
        done(index, future.result())

    try:
        for index in range(plan.count):
            if len(pending) == len(ring):
                collect()
            view = memoryview(ring[index % len(ring)])[: plan.size_of(index)]
            if readinto_exactly(fd, view, plan.offset(index)) != len(view):
                raise FileShrank
            whole.update(view)
            pending.append((index, threads.submit(job, view, index)))
        while pending:
            collect()
    finally:
        for _, future in pending:
            future.exception()
    return whole.digest()


def read_exactly(fd: int, size: int, offset: int) -> bytes:
    """``size`` bytes at ``offset``, or fewer only at end of file."""
    parts: list[bytes] = []
    remaining = size
    while remaining:
        chunk = os.pread(fd, remaining, offset)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
        offset += len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)
