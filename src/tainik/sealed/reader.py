"""Open sealed files: verify every rule of docs/format.md "Reading", then release plaintext.

Plaintext is written into an unnamed file (O_TMPFILE) in the output directory and linked under
its safe name only after the whole-plaintext hash matches, so a failure, even a kill, leaves
nothing behind. Where O_TMPFILE is unavailable a hidden temporary name is used and removed on
failure.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from tainik import crypto
from tainik.core.errors import N_, FormatError, IntegrityError, NotARecipientError, StorageError
from tainik.core.manifest import MAX_MANIFEST_CIPHERTEXT, Manifest
from tainik.core.names import numbered, safe_name
from tainik.core.segments import CHUNK
from tainik.crypto import Identity
from tainik.sealed import durable, layout, pool, regular

Progress = Callable[[int], None]
ProgressFactory = Callable[[Manifest], Progress]
MAX_HEADER = 1024 * 1024  # generous bound on an age header with many recipients
TAG = 16
RING_PER_JOB = 4  # segments opened ahead per worker thread


@dataclass(frozen=True, slots=True)
class OpenedFile:
    """A verified plaintext written to disk."""

    path: Path
    manifest: Manifest


def max_segment_ciphertext(segment_size: int) -> int:
    """An upper bound on the size of a segment's age file (reject anything larger unread)."""
    return MAX_HEADER + segment_size + TAG * (segment_size // CHUNK + 1)


def read_manifest(container: Path, identities: Sequence[Identity]) -> Manifest:
    """Rules 1-4: decrypt and parse the manifest, check the id and the set of segments."""
    if not container.is_dir():
        raise StorageError(N_("{path}: not a sealed-file directory"), path=str(container))
    ciphertext = read_manifest_ciphertext(container)
    manifest = decode_manifest(ciphertext, identities, container)
    check_segment_set(layout.list_segments(container), manifest.plan.count)
    return manifest


def read_manifest_ciphertext(container: Path) -> bytes:
    """The bytes of ``container``'s ``manifest.age``: a regular file (never through a link),
    read up to its bound; ``IntegrityError`` when it is missing."""
    manifest_path = container / layout.MANIFEST
    try:
        fd = regular.open_regular(manifest_path)
    except FileNotFoundError as exc:
        raise IntegrityError(
            N_("{path}: the manifest is missing (an incomplete sealed file)"), path=str(container)
        ) from exc
    try:
        if os.fstat(fd).st_size > MAX_MANIFEST_CIPHERTEXT:
            raise FormatError(N_("{path}: the manifest is too large"), path=str(container))
        ciphertext = regular.read_at_most(fd, MAX_MANIFEST_CIPHERTEXT + 1)
    except OSError as exc:
        raise durable.storage_error(exc, manifest_path) from exc
    finally:
        os.close(fd)
    if len(ciphertext) > MAX_MANIFEST_CIPHERTEXT:
        raise FormatError(N_("{path}: the manifest is too large"), path=str(container))
    return ciphertext


def decode_manifest(ciphertext: bytes, identities: Sequence[Identity], container: Path) -> Manifest:
    """Rules 1-3: decrypt and parse a manifest; its id must be the one ``container`` names."""
    manifest = Manifest.decode(bytes(crypto.decrypt(ciphertext, identities, what="manifest")))
    expected_id = layout.id_from_container(container)
    if expected_id is not None and manifest.id != expected_id:
        raise IntegrityError(
            N_("{path}: the manifest belongs to another sealed file ({other})"),
            path=str(container),
            other=manifest.id,
        )
    return manifest


def check_segment_set(found: Iterable[int], count: int) -> None:
    """Rule 4: the segments present are exactly ``0 … count − 1``."""
    present = set(found)
    for index in range(count):
        if index not in present:
            raise IntegrityError(N_("Segment {index} is missing"), index=index)
    extra = sorted(present - set(range(count)))
    if extra:
        raise IntegrityError(
            N_("Segment {index} should not exist: the manifest lists {count} segments"),
            index=extra[0],
            count=count,
        )


def _read_segment(segment_path: Path, index: int, max_ciphertext: int) -> memoryview:
    """A segment's ciphertext, in this thread's scratch buffer; refuses oversized files."""
    try:
        fd = regular.open_regular(segment_path)
    except OSError as exc:
        raise durable.storage_error(exc, segment_path) from exc
    try:
        size = os.fstat(fd).st_size
        if size > max_ciphertext:
            raise IntegrityError(
                N_("Segment {index} is larger than any valid segment"), index=index
            )
        view = memoryview(pool.scratch("ciphertext", size))[:size]
        view = view[: pool.readinto_exactly(fd, view, 0)]
    except OSError as exc:
        raise durable.storage_error(exc, segment_path) from exc
    finally:
        os.close(fd)
    return view


def open_segment(
    identities: Sequence[Identity],
    segment_path: Path,
    index: int,
    expected_size: int,
    expected_hash: bytes,
    max_ciphertext: int,
    out: bytearray | memoryview | None = None,
) -> bytearray | memoryview:
    """Rules 5-7 for one segment: its verified plaintext (in ``out`` when that is given)."""
    ciphertext = _read_segment(segment_path, index, max_ciphertext)
    return verify_segment(identities, ciphertext, index, expected_size, expected_hash, out)


def verify_segment(
    identities: Sequence[Identity],
    ciphertext: bytes | memoryview,
    index: int,
    expected_size: int,
    expected_hash: bytes,
    out: bytearray | memoryview | None = None,
) -> bytearray | memoryview:
    """Rules 5-7 for one segment's ciphertext held in memory: its verified plaintext."""
    try:
        plaintext = crypto.decrypt_into(ciphertext, identities, f"segment {index}", out)
    except NotARecipientError as exc:
        raise IntegrityError(
            N_(
                "Segment {index} is not encrypted to this identity although the manifest is: "
                "it was replaced or its header was tampered with"
            ),
            index=index,
        ) from exc
    if len(plaintext) != expected_size:
        raise IntegrityError(
            N_("Segment {index} holds {found} bytes where the manifest says {expected}"),
            index=index,
            found=len(plaintext),
            expected=expected_size,
        )
    if crypto.sha256(plaintext) != expected_hash:
        raise IntegrityError(
            N_(
                "Segment {index} does not match the manifest: it was replaced by another "
                "segment (reordered, or from another sealed file)"
            ),
            index=index,
        )
    return plaintext


class SealedOpener:
    """Verifies and opens sealed files with a fixed set of identities."""

    def __init__(self, identities: Sequence[Identity], *, jobs: int | None = None) -> None:
        self._identities = tuple(identities)
        self._jobs = jobs or pool.default_jobs()

    @property
    def identities(self) -> tuple[Identity, ...]:
        """The identities it opens sealed files with."""
        return self._identities

    def open(
        self, container: Path, out_dir: Path, progress: ProgressFactory | None = None
    ) -> OpenedFile:
        """Verify ``container`` completely, then write its plaintext into ``out_dir``.

        ``progress``, given the manifest, returns a callback that receives byte counts.
        """
        manifest = read_manifest(container, self._identities)
        segments = layout.list_segments(container)
        output = _PendingOutput(out_dir)
        try:
            tick = progress(manifest) if progress else None
            whole = self._write_segments(manifest, segments, output.fd, out_dir, tick)
            if whole != manifest.sha256:
                raise IntegrityError(
                    N_("The whole-file hash does not match the manifest"),
                )
            path = output.publish(safe_name(manifest.name, manifest.kind))
        finally:
            output.discard()
        return OpenedFile(path, manifest)

    def _write_segments(
        self,
        manifest: Manifest,
        segments: dict[int, Path],
        fd: int,
        out_dir: Path,
        progress: Progress | None,
    ) -> bytes:
        """Open segments in threads, each into a ring buffer; hash the whole here, in order.

        A buffer is reused only after its segment was written and absorbed into the whole
        hash, so memory stays at ``RING_PER_JOB × jobs`` segments however large the file.
        """
        plan = manifest.plan
        limit = max_segment_ciphertext(plan.segment_size)
        ring = [
            durable.aligned_buffer(plan.segment_size)
            for _ in range(min(RING_PER_JOB * self._jobs, plan.count))
        ]
        whole = hashlib.sha256()
        pending: deque[tuple[int, Future[memoryview | bytearray]]] = deque()

        def absorb() -> None:
            index, future = pending.popleft()
            whole.update(future.result())
            flushing.wrote(plan.size_of(index))
            if progress:
                progress(plan.size_of(index))

        def open_into(index: int) -> memoryview | bytearray:
            plaintext = open_segment(
                self._identities,
                segments[index],
                index,
                plan.size_of(index),
                manifest.segment_hashes[index],
                limit,
                ring[index % len(ring)],
            )
            writer.write(plaintext, plan.offset(index))
            return plaintext

        writer = durable.PositionalWriter(fd)
        flushing = durable.BackgroundSync(fd, out_dir)
        try:
            with pool.make_threads(self._jobs) as threads:
                try:
                    for index in range(plan.count):
                        if len(pending) == len(ring):
                            absorb()
                        pending.append((index, threads.submit(open_into, index)))
                    while pending:
                        absorb()
                finally:
                    threads.shutdown(cancel_futures=True)
        except BaseException:
            with contextlib.suppress(StorageError):
                flushing.close()
            raise
        finally:
            writer.close()
        flushing.close()
        return whole.digest()


class _PendingOutput:
    """An output file that has no name until :meth:`publish`."""

    def __init__(self, out_dir: Path) -> None:
        self._dir = out_dir
        self._temp: Path | None = None
        flags = os.O_RDWR | os.O_CLOEXEC
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            try:
                self.fd = os.open(out_dir, flags | os.O_TMPFILE, 0o600)
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                    raise
                self._temp = out_dir / f".tainik-opening-{secrets.token_hex(8)}"
                self.fd = os.open(self._temp, flags | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise durable.storage_error(exc, out_dir) from exc
        # Workers of the fork-based pool share this descriptor (fork keeps every fd).
        self._closed = False

    def publish(self, name: str) -> Path:
        """fsync, then give the file ``name`` (or ``name (2)``…) without replacing anything."""
        try:
            os.fsync(self.fd)
            for number in range(1, 10_000):
                candidate = self._dir / (name if number == 1 else numbered(name, number))
                try:
                    self._link(candidate)
                except FileExistsError:
                    continue
                durable.fsync_dir(self._dir)
                return candidate
        except OSError as exc:
            raise durable.storage_error(exc, self._dir / name) from exc
        raise StorageError(
            N_("{path}: every alternative name is taken"), path=str(self._dir / name)
        )

    def _link(self, target: Path) -> None:
        """Give the file the name ``target``; fails (never replaces) if it exists."""
        if self._temp is not None:
            os.link(self._temp, target)
            return
        # linkat(2) of /proc/self/fd/N with AT_SYMLINK_FOLLOW names an O_TMPFILE file. Passing
        # a directory fd makes Python call linkat (plain link(2) would link the magic symlink).
        proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.link(str(self.fd), target, src_dir_fd=proc, follow_symlinks=True)
        finally:
            os.close(proc)

    def discard(self) -> None:
        """Close, and remove the temporary name if there is one."""
        if self._closed:
            return
        self._closed = True
        os.close(self.fd)
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)


def read_small_parts(
    label: str,
    manifest_ciphertext: bytes,
    segments: Mapping[int, bytes],
    identities: Sequence[Identity],
    max_bytes: int,
) -> OpenedBytes:
    """:func:`read_small` for a sealed file whose parts are held in memory (fetched from an
    object store): the same rules, ``label`` naming it in errors (``ID.sealed``)."""
    if len(manifest_ciphertext) > MAX_MANIFEST_CIPHERTEXT:
        raise FormatError(N_("{path}: the manifest is too large"), path=label)
    manifest = decode_manifest(manifest_ciphertext, identities, Path(label))
    check_segment_set(segments, manifest.plan.count)
    if manifest.size > max_bytes:
        raise IntegrityError(N_("The sealed file is larger than expected"))
    plan = manifest.plan
    limit = max_segment_ciphertext(plan.segment_size)
    parts = []
    for i in range(plan.count):
        if len(segments[i]) > limit:
            raise IntegrityError(N_("Segment {index} is larger than any valid segment"), index=i)
        found = verify_segment(
            identities, segments[i], i, plan.size_of(i), manifest.segment_hashes[i]
        )
        parts.append(bytes(found))
    data = b"".join(parts)
    if crypto.sha256(data) != manifest.sha256:
        raise IntegrityError(N_("The whole-file hash does not match the manifest"))
    return OpenedBytes(data, manifest)


def read_small(container: Path, identities: Sequence[Identity], max_bytes: int) -> OpenedBytes:
    """Verify and return a small sealed plaintext (a message, a reply) held in memory."""
    manifest = read_manifest(container, identities)
    if manifest.size > max_bytes:
        raise IntegrityError(N_("The sealed file is larger than expected"))
    plan = manifest.plan
    segments = layout.list_segments(container)
    limit = max_segment_ciphertext(plan.segment_size)
    parts = [
        bytes(
            open_segment(
                identities, segments[i], i, plan.size_of(i), manifest.segment_hashes[i], limit
            )
        )
        for i in range(plan.count)
    ]
    data = b"".join(parts)
    if crypto.sha256(data) != manifest.sha256:
        raise IntegrityError(N_("The whole-file hash does not match the manifest"))
    return OpenedBytes(data, manifest)


@dataclass(frozen=True, slots=True)
class OpenedBytes:
    """A verified plaintext held in memory."""

    data: bytes
    manifest: Manifest
