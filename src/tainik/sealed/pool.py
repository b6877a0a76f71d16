"""A process pool for sealing and opening segments on every core.

pyrage holds the GIL while it encrypts, so threads would not help: segments are sealed and
opened in worker processes that read and write their own files (no plaintext crosses a pipe).
Keys reach the workers once, through the pool initializer, over an in-memory pipe.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from tainik.crypto import Identity, Recipient, Secret

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


def write_all(fd: int, data: bytes, offset: int) -> None:
    """Write all of ``data`` at ``offset``."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written
