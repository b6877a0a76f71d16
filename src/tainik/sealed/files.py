"""Seal files from the local disk into sealed-file containers, on every core."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from types import TracebackType

from tainik import crypto
from tainik.core.errors import N_, StorageError
from tainik.core.manifest import Kind, Manifest
from tainik.core.segments import DEFAULT_SEGMENT_SIZE, SegmentPlan
from tainik.crypto import Recipient
from tainik.sealed import durable, layout, pool
from tainik.sealed.writer import DirectorySink, SegmentSealer, new_sealed_id

Progress = Callable[[int], None]
READ_CHUNK = 1024 * 1024


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
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> FileSealer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

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
            if self._jobs <= 1 or plan.count <= 2:
                sealer = SegmentSealer(
                    self._recipients,
                    sink,
                    kind=Kind.FILE,
                    name=name,
                    segment_size=self._segment_size,
                    sealed_id=sealed_id,
                )
                self._stream(source, sealer, progress)
                if sealer.size != before.st_size:
                    raise _changed(source)
            else:
                self._parallel(source, plan, sink, sealed_id, name, progress)
            after = os.stat(source)
            if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                raise _changed(source)
            return sink.commit()
        except BaseException:
            sink.abort()
            raise

    @staticmethod
    def _stream(source: Path, sealer: SegmentSealer, progress: Progress | None) -> None:
        try:
            with open(source, "rb", buffering=0) as handle:
                while chunk := handle.read(READ_CHUNK):
                    sealer.write(chunk)
                    if progress:
                        progress(len(chunk))
        except OSError as exc:
            raise durable.storage_error(exc, source) from exc
        sealer.finish()

    def _parallel(
        self,
        source: Path,
        plan: SegmentPlan,
        sink: DirectorySink,
        sealed_id: str,
        name: bytes,
        progress: Progress | None,
    ) -> None:
        if self._pool is None:
            self._pool = pool.make_pool(self._jobs, recipients=self._recipients)
        whole = _WholeHash(source)
        whole.start()
        hashes: list[bytes] = [b""] * plan.count
        pending: deque[tuple[int, Future[bytes]]] = deque()
        limit = self._jobs * 2
        for index in range(plan.count):
            pending.append(
                (
                    index,
                    self._pool.submit(
                        _seal_segment,
                        str(source),
                        index,
                        plan.offset(index),
                        plan.size_of(index),
                        str(sink.partial),
                    ),
                )
            )
            while len(pending) >= limit or (index == plan.count - 1 and pending):
                done_index, future = pending.popleft()
                hashes[done_index] = future.result()
                if progress:
                    progress(plan.size_of(done_index))
        digest = whole.result()
        manifest = Manifest(
            id=sealed_id,
            kind=Kind.FILE,
            name=name,
            size=plan.length,
            segment_size=plan.segment_size,
            sha256=digest,
            segment_hashes=tuple(hashes),
        )
        sink.put_manifest(crypto.encrypt(manifest.encode(), self._recipients))


def _seal_segment(path: str, index: int, offset: int, size: int, partial: str) -> bytes:
    """Worker: read one slice, hash it, encrypt it, write it durably; returns its hash."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise durable.storage_error(exc, path) from exc
    try:
        plaintext = pool.read_exactly(fd, size, offset)
    finally:
        os.close(fd)
    if len(plaintext) != size:
        raise _changed(Path(path))
    digest = crypto.sha256(plaintext)
    ciphertext = crypto.encrypt(plaintext, pool.worker_recipients())
    durable.write_file(Path(partial) / layout.segment_name(index), ciphertext)
    return digest


class _WholeHash(threading.Thread):
    """SHA-256 of a whole file, read in order beside the workers (hashlib frees the GIL)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self._path = path
        self._digest: bytes | None = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            digest = hashlib.sha256()
            buffer = bytearray(READ_CHUNK * 4)
            view = memoryview(buffer)
            with open(self._path, "rb", buffering=0) as handle:
                while read := handle.readinto(buffer):
                    digest.update(view[:read])
            self._digest = digest.digest()
        except BaseException as exc:
            self._error = exc

    def result(self) -> bytes:
        self.join()
        if self._error is not None:
            if isinstance(self._error, OSError):
                raise durable.storage_error(self._error, self._path) from self._error
            raise self._error
        assert self._digest is not None
        return self._digest


def _changed(path: Path) -> StorageError:
    return StorageError(N_("{path}: the file changed while it was being sealed"), path=str(path))
