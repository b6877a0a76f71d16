"""Seal files from the local disk into sealed-file containers, on every core, reading once."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
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
        """Read the file once, in order, hashing it whole; seal its segments in threads
        (:func:`tainik.sealed.pool.map_segments`, ``RING_PER_JOB`` segments per thread)."""
        if self._threads is None:
            self._threads = pool.make_threads(self._jobs)
        hashes: list[bytes] = [b""] * plan.count

        def done(index: int, digest: bytes) -> None:
            hashes[index] = digest
            if progress:
                progress(plan.size_of(index))

        try:
            fd = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise durable.storage_error(exc, source) from exc
        try:
            whole = pool.map_segments(
                fd,
                plan,
                self._threads,
                RING_PER_JOB * self._jobs,
                lambda view, index: seal_segment(view, index, sink, self._recipients),
                done,
            )
        except pool.FileShrank:
            raise _changed(source) from None
        except OSError as exc:
            raise durable.storage_error(exc, source) from exc
        finally:
            os.close(fd)
        manifest = Manifest(
            id=sealed_id,
            kind=Kind.FILE,
            name=name,
            size=plan.length,
            segment_size=plan.segment_size,
            sha256=whole,
            segment_hashes=tuple(hashes),
        )
        sink.put_manifest(crypto.encrypt(manifest.encode(), self._recipients))


def _changed(path: Path) -> StorageError:
    return StorageError(N_("{path}: the file changed while it was being sealed"), path=str(path))
