"""Streaming sealing: plaintext in, age-encrypted segments and manifest out, bounded memory.

:class:`SegmentSealer` is the one place that turns plaintext into a sealed file. It holds at
most one segment of plaintext; each full segment is hashed, encrypted and handed to a
:class:`SegmentSink` at once. The server's intake and the command line both use it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Protocol

from tainik import crypto
from tainik.core.errors import N_, UsageError
from tainik.core.manifest import MAX_NAME_BYTES, Kind, Manifest, encode_id
from tainik.core.segments import DEFAULT_SEGMENT_SIZE, check_segment_size
from tainik.crypto import Recipient
from tainik.sealed import durable, layout, pool


class SegmentSink(Protocol):
    """Where a sealer puts ciphertext. What it was given must be durable once its owner
    commits it (see :meth:`DirectorySink.commit`). A sink whose class sets ``threadsafe``
    takes segments from several threads at once (:class:`SegmentWorkers`)."""

    def put_segment(self, index: int, ciphertext: bytes | bytearray | memoryview) -> None:
        """Store the ciphertext of segment ``index``."""

    def put_manifest(self, ciphertext: bytes) -> None:
        """Store the manifest ciphertext (always last)."""


def new_sealed_id() -> str:
    """A fresh id: 16 bytes from the CSPRNG, as the manifest encodes it."""
    return encode_id(secrets.token_bytes(16))


class SegmentWorkers:
    """Threads that seal segments for many sealers at once (a server's intake).

    Hashing, encryption and writing release the GIL, so sealing in these threads uses every
    core while the server's event loop goes on receiving. At most ``in_flight`` segments
    (plaintext held in memory) wait or run at a time across all sealers, which bounds memory
    however many uploads arrive together.

    The workers hold no keys: each segment is sealed to the recipients of the sealer that
    submits it, so a change of the organisation's recipients reaches the next upload at once.
    """

    def __init__(self, jobs: int, in_flight: int) -> None:
        self._threads = pool.make_threads(jobs)
        self._slots = threading.BoundedSemaphore(in_flight)
        self._in_flight = in_flight
        self._free: list[bytearray] = []
        self._lock = threading.Lock()

    def buffer(self, size: int) -> bytearray:
        """A segment buffer of ``size`` bytes: a used one when there is one (no page faults)."""
        with self._lock:
            while self._free:
                found = self._free.pop()
                if len(found) == size:
                    return found
        return bytearray(size)

    def recycle(self, buffer: bytearray) -> None:
        """Take back a buffer from :meth:`buffer` that is no longer used."""
        with self._lock:
            if len(self._free) < self._in_flight:
                self._free.append(buffer)

    def submit(
        self,
        buffer: bytearray,
        length: int,
        index: int,
        sink: SegmentSink,
        recipients: Sequence[Recipient],
    ) -> Future[bytes]:
        """Seal the first ``length`` bytes of ``buffer`` as segment ``index`` to ``recipients``
        into ``sink``; the future gives its plaintext hash. The buffer belongs to the workers
        from now on (they reuse it once the segment is written)."""
        self._slots.acquire()
        try:
            future = self._threads.submit(
                seal_segment, memoryview(buffer)[:length], index, sink, recipients
            )
        except BaseException:
            self._slots.release()
            raise

        def done(_: Future[bytes]) -> None:
            self._slots.release()
            self.recycle(buffer)

        future.add_done_callback(done)
        return future

    def close(self) -> None:
        """Stop the threads, after the segments in progress."""
        self._threads.shutdown(cancel_futures=True)


def seal_segment(
    plaintext: bytes | memoryview, index: int, sink: SegmentSink, recipients: Sequence[Recipient]
) -> bytes:
    """Hash one segment, encrypt it into this thread's buffer and write it into ``sink``
    (flushed in the background; durable once the sink commits); returns its plaintext hash.
    Safe to run in many threads at once."""
    digest = crypto.sha256(plaintext)
    out = pool.scratch("sealed", crypto.encrypted_size(len(plaintext), len(recipients)))
    sink.put_segment(index, crypto.encrypt_buffer(plaintext, recipients, out))
    return digest


class SegmentSealer:
    """Seal a plaintext given in pieces of any size."""

    def __init__(
        self,
        recipients: Sequence[Recipient],
        sink: SegmentSink,
        *,
        kind: Kind = Kind.FILE,
        name: bytes = b"",
        segment_size: int = DEFAULT_SEGMENT_SIZE,
        sealed_id: str | None = None,
        workers: SegmentWorkers | None = None,
    ) -> None:
        if not recipients:
            raise UsageError(N_("At least one recipient is needed"))
        check_segment_size(segment_size)
        if len(name) > MAX_NAME_BYTES:
            name = name[:MAX_NAME_BYTES]
        self.sealed_id = sealed_id or new_sealed_id()
        self._recipients = tuple(recipients)
        self._sink = sink
        self._kind = kind
        self._name = name
        self._segment_size = segment_size
        # With workers, segments of this sealer in progress (at most two at a time).
        self._workers = workers if getattr(sink, "threadsafe", False) else None
        self._futures: deque[tuple[int, Future[bytes]]] = deque()
        # One segment of plaintext, filled in place (no reallocation as it grows).
        self._buffer = self._new_buffer()
        self._fill = 0
        self._whole = hashlib.sha256()
        self._hashes: list[bytes] = []
        self._size = 0
        self._finished = False

    @property
    def size(self) -> int:
        """Plaintext bytes accepted so far."""
        return self._size

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Accept more plaintext; seals every segment that becomes full."""
        if self._finished:
            raise RuntimeError("sealer already finished")
        view = memoryview(data).cast("B")
        while view:
            take = min(len(view), self._segment_size - self._fill)
            self._make_room(self._fill + take)
            self._buffer[self._fill : self._fill + take] = view[:take]
            self._fill += take
            view = view[take:]
            if self._fill == self._segment_size:
                self._emit()

    def finish(self) -> Manifest:
        """Seal the last segment and the manifest; returns the manifest."""
        if self._finished:
            raise RuntimeError("sealer already finished")
        if self._fill or not self._hashes:
            self._emit()
        while self._futures:
            self._collect()
        self._finished = True
        if self._workers is not None:
            self._workers.recycle(self._buffer)
        manifest = Manifest(
            id=self.sealed_id,
            kind=self._kind,
            name=self._name,
            size=self._size,
            segment_size=self._segment_size,
            sha256=self._whole.digest(),
            segment_hashes=tuple(self._hashes),
        )
        self._sink.put_manifest(crypto.encrypt(manifest.encode(), self._recipients))
        return manifest

    def _new_buffer(self) -> bytearray:
        if self._workers is not None:
            return self._workers.buffer(self._segment_size)
        # Without workers (replies, small messages, tests) start small and grow on demand.
        return bytearray(min(self._segment_size, 64 * 1024))

    def _make_room(self, needed: int) -> None:
        if needed > len(self._buffer):
            grown = min(self._segment_size, max(needed, 2 * len(self._buffer)))
            self._buffer.extend(bytes(grown - len(self._buffer)))

    def _emit(self) -> None:
        length, self._fill = self._fill, 0
        plaintext = memoryview(self._buffer)[:length]
        self._whole.update(plaintext)
        self._size += length
        index = len(self._hashes)
        if self._workers is not None:
            self._hashes.append(b"")
            plaintext.release()
            self._futures.append(
                (
                    index,
                    self._workers.submit(self._buffer, length, index, self._sink, self._recipients),
                )
            )
            self._buffer = self._new_buffer()
            while len(self._futures) > 2:
                self._collect()
            return
        self._hashes.append(crypto.sha256(plaintext))
        self._sink.put_segment(index, crypto.encrypt(plaintext, self._recipients))
        plaintext.release()  # the buffer may grow again for the next segment

    def _collect(self) -> None:
        index, future = self._futures.popleft()
        self._hashes[index] = future.result()

    def abandon(self) -> None:
        """Wait for segments in progress so their files can be removed."""
        while self._futures:
            _, future = self._futures.popleft()
            future.exception()


class DirectorySink:
    """Write a sealed file as ``ID.sealed/`` under ``parent``, atomically.

    Parts go to a hidden ``.ID.sealed.partial`` directory; :meth:`commit` flushes it and
    renames it into place, so a directory named ``ID.sealed`` is always complete.
    """

    threadsafe = True

    def __init__(self, parent: Path, sealed_id: str) -> None:
        self.final = parent / layout.container_name(sealed_id)
        self.partial = parent / f".{layout.container_name(sealed_id)}.partial"
        self.flush = durable.FlushGroup()
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.partial.mkdir(mode=0o700)
        except OSError as exc:
            raise durable.storage_error(exc, self.partial) from exc

    def put_segment(self, index: int, ciphertext: bytes | bytearray | memoryview) -> None:
        """Write one segment file (flushed in the background: see :meth:`commit`)."""
        durable.write_file(self.partial / layout.segment_name(index), ciphertext, self.flush)

    def put_manifest(self, ciphertext: bytes) -> None:
        """Write the manifest file (flushed in the background: see :meth:`commit`)."""
        durable.write_file(self.partial / layout.MANIFEST, ciphertext, self.flush)

    def commit(self) -> Path:
        """Wait until every part is on disk, then rename the container into place."""
        self.flush.wait()
        try:
            durable.fsync_dir(self.partial)
            if self.final.exists():
                raise FileExistsError(17, "exists", str(self.final))
            os.rename(self.partial, self.final)
            durable.fsync_dir(self.final.parent)
        except OSError as exc:
            raise durable.storage_error(exc, self.final) from exc
        return self.final

    def abort(self) -> None:
        """Remove whatever was written."""
        self.flush.discard()
        durable.remove_tree(self.partial)
