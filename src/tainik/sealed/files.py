"""Seal files from the local disk into sealed-file containers, on every core, reading once."""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from tainik import crypto
from tainik.core.errors import N_, StorageError
from tainik.core.manifest import Kind, Manifest
from tainik.core.segments import DEFAULT_SEGMENT_SIZE, SegmentPlan
from tainik.crypto import Recipient
from tainik.sealed import durable, layout, pool
from tainik.sealed.writer import DirectorySink, new_sealed_id, seal_segment

Progress = Callable[[int], None]
RING_PER_JOB = 4  # segments read ahead per worker thread


class FileSealer:
    """Seals local files to a fixed set of recipients. Use as a context manager."""

    def __init__(
        self,
        recipients: Sequence[Recipient],
        *,
        segment_size: int = DEFAULT_SEGMENT_SIZE,
        jobs: int | None = None,
    ) -> None:
        self._recipients = tuple(recipients)
        self._segment_size = segment_size
        self._jobs = jobs or pool.default_jobs()
        self._threads: ThreadPoolExecutor | None = None

    def __enter__(self) -> FileSealer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._threads is not None:
            self._threads.shutdown(cancel_futures=True)

    def seal(self, source: Path, out_dir: Path, progress: Progress | None = None) -> Path:
        """Seal ``source`` into a new ``ID.sealed`` directory in ``out_dir``; returns it."""
        try:
            before = os.stat(source)
        except OSError as exc:
            raise durable.storage_error(exc, source) from exc
        plan = SegmentPlan(before.st_size, self._segment_size)
        sink = DirectorySink(out_dir, new_sealed_id())
        sealed_id = sink.final.name.removesuffix(layout.SUFFIX)
        name = os.fsencode(source.name)
        try:
            self._seal_segments(source, plan, sink, sealed_id, name, progress)
            after = os.stat(source)
            if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                raise _changed(source)
            return sink.commit()
        except BaseException:
            sink.abort()
            raise

    def _seal_segments(
        self,
        source: Path,
        plan: SegmentPlan,
        sink: DirectorySink,
        sealed_id: str,
        name: bytes,
        progress: Progress | None,
    ) -> None:
        """Read the file once, in order: hash it whole here, seal its segments in threads.

        Segments are read into a ring of ``RING_PER_JOB × jobs`` buffers; a buffer is refilled only
        after the segment in it was sealed, so memory stays at the ring's size.
        """
        if self._threads is None:
            self._threads = pool.make_threads(self._jobs)
        ring = [
            bytearray(plan.segment_size) for _ in range(min(RING_PER_JOB * self._jobs, plan.count))
        ]
        whole = hashlib.sha256()
        hashes: list[bytes] = [b""] * plan.count
        pending: deque[tuple[int, Future[bytes]]] = deque()

        def collect() -> None:
            index, future = pending.popleft()
            hashes[index] = future.result()
            if progress:
                progress(plan.size_of(index))

        try:
            fd = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise durable.storage_error(exc, source) from exc
        try:
            for index in range(plan.count):
                if len(pending) == len(ring):
                    collect()
                view = memoryview(ring[index % len(ring)])[: plan.size_of(index)]
                try:
                    read = pool.readinto_exactly(fd, view, plan.offset(index))
                except OSError as exc:
                    raise durable.storage_error(exc, source) from exc
                if read != len(view):
                    raise _changed(source)
                whole.update(view)
                pending.append(
                    (
                        index,
                        self._threads.submit(seal_segment, view, index, sink, self._recipients),
                    )
                )
            while pending:
                collect()
        finally:
            os.close(fd)
            # On failure, let segments in progress finish before their folder is removed.
            for _, future in pending:
                future.exception()
        manifest = Manifest(
            id=sealed_id,
            kind=Kind.FILE,
            name=name,
            size=plan.length,
            segment_size=plan.segment_size,
            sha256=whole.digest(),
            segment_hashes=tuple(hashes),
        )
        sink.put_manifest(crypto.encrypt(manifest.encode(), self._recipients))


def _changed(path: Path) -> StorageError:
    return StorageError(N_("{path}: the file changed while it was being sealed"), path=str(path))
