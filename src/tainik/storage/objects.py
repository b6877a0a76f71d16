"""Sealed files and unfinished uploads in an S3 bucket (SeaweedFS, or any S3 service).

The client is ``obstore`` (the Python binding of the Rust ``object_store`` crate that Arrow
and DataFusion use): one wheel with no Python dependencies, a synchronous API that releases
the GIL, path-style requests and plain HTTP on loopback when asked, bounded retries.

Keys, under the bucket's optional prefix ``P`` (``s3://BUCKET/P``)::

    P parts/ID/manifest.age              the parts of a sealed file (ciphertext, as on disk:
    P parts/ID/segment-00000000.age      docs/format.md), written by an intake or an upload
    P complete/ID                        empty: ID is a complete sealed file

An S3 PUT is atomic (an object is wholly there or not) and acknowledged only once the store
holds it, so each part is written once, where it stays: an unfinished upload keeps one object
per segment (no multipart upload: a segment is at most a few MiB, and a part must survive the
upload's pauses of days), and completing it writes the ``complete/ID`` marker, the one atomic
step a folder rename is on disk. Deleting removes the marker first, then the parts, so that a
crash in between leaves parts no marker vouches for, which recovery removes.

Every error of the store but "not found" is :class:`StorageUnavailableError` (``503``): the
request failed, nothing it wrote counts, and the client tries again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import timedelta
from typing import Literal, TypeVar

import obstore
from obstore.exceptions import AlreadyExistsError, PreconditionError
from obstore.exceptions import BaseError as ObstoreError
from obstore.exceptions import NotFoundError as ObjectNotFound
from obstore.store import S3Store

from tainik.core.errors import N_, IntegrityError, StorageError, StorageUnavailableError
from tainik.core.manifest import is_valid_id
from tainik.crypto import Identity
from tainik.sealed import layout, reader, tarball
from tainik.sealed.reader import OpenedBytes
from tainik.sealed.tarball import Piece, Streamed, TarLayout
from tainik.storage.blobs import Blobs, BlobSink

PARTS = "parts/"
COMPLETE = "complete/"
READ_CHUNK = 1024 * 1024
T = TypeVar("T")


def _calling(action: Callable[[], T]) -> T:
    """Run one request; any failure of the store but "not found" and a refused condition
    becomes ``503``."""
    try:
        return action()
    except (ObjectNotFound, FileNotFoundError, AlreadyExistsError, PreconditionError):
        raise
    except (ObstoreError, OSError) as exc:
        # The store's message may quote the endpoint and keys' names, never a secret; it is
        # kept as the cause for the log's type name only.
        raise StorageUnavailableError(N_("The object store did not answer")) from exc


def open_bucket(
    bucket: str, *, endpoint: str, region: str, access_key_id: str, secret_access_key: str
) -> S3Store:
    """An obstore client on ``bucket``: path-style, HTTP allowed only for an ``http://``
    endpoint, short timeouts and few retries (a client retries, not us)."""
    return S3Store(
        bucket,
        endpoint=endpoint,
        access_key_id=access_key_id or None,
        secret_access_key=secret_access_key or None,
        region=region,
        virtual_hosted_style_request=False,
        client_options={
            "allow_http": endpoint.startswith("http://"),
            "connect_timeout": timedelta(seconds=5),
            "timeout": timedelta(seconds=120),
        },
        retry_config={
            "max_retries": 2,
            "retry_timeout": timedelta(seconds=10),
            "backoff": {
                "init_backoff": timedelta(milliseconds=100),
                "max_backoff": timedelta(seconds=2),
                "base": 2,
            },
        },
    )


class Bucket:
    """The keys of one instance in one bucket."""

    def __init__(self, store: S3Store, prefix: str = "") -> None:
        self.store = store
        self.prefix = prefix

    def part(self, sealed_id: str, name: str) -> str:
        """The key of one part (validated id)."""
        if not is_valid_id(sealed_id):
            raise IntegrityError(N_("Not a sealed-file id"))
        return f"{self.prefix}{PARTS}{sealed_id}/{name}"

    def marker(self, sealed_id: str) -> str:
        """The key that says ``sealed_id`` is complete."""
        if not is_valid_id(sealed_id):
            raise IntegrityError(N_("Not a sealed-file id"))
        return f"{self.prefix}{COMPLETE}{sealed_id}"

    def put(
        self, key: str, data: bytes | bytearray | memoryview | list[bytes], *, create: bool = False
    ) -> bool:
        """One PUT: the object is there, whole, once it returns. With ``create``, only if no
        object has the key (``If-None-Match: *``): False, and nothing written, if one has."""
        body = b"".join(data) if isinstance(data, list) else bytes(data)
        mode: Literal["create", "overwrite"] = "create" if create else "overwrite"
        try:
            _calling(lambda: obstore.put(self.store, key, body, mode=mode, use_multipart=False))
        except (AlreadyExistsError, PreconditionError):
            return False
        return True

    def present(self, key: str) -> bool:
        """Whether ``key`` exists."""
        try:
            _calling(lambda: obstore.head(self.store, key))
        except (ObjectNotFound, FileNotFoundError):
            return False
        return True

    def parts(self, sealed_id: str) -> dict[str, int]:
        """The parts of ``sealed_id`` by name, with their sizes."""
        start = self.part(sealed_id, "")
        found: dict[str, int] = {}
        pages = _calling(lambda: list(obstore.list(self.store, prefix=start, chunk_size=1000)))
        for page in pages:
            for meta in page:
                found[meta["path"][len(start) :]] = int(meta["size"])
        return found

    def delete_parts(self, sealed_id: str) -> None:
        """Delete every part of ``sealed_id``."""
        keys = [self.part(sealed_id, name) for name in self.parts(sealed_id)]
        for chunk in (keys[i : i + 1000] for i in range(0, len(keys), 1000)):
            self._delete(chunk)

    def _delete(self, keys: list[str]) -> None:
        _calling(lambda: obstore.delete(self.store, keys))

    def loose_ids(self) -> set[str]:
        """Ids that have parts and no marker: unfinished uploads, and what a crash left."""
        candidates = self.part_ids() - self.complete_ids()
        return {sealed_id for sealed_id in candidates if self.parts(sealed_id)}

    def part_ids(self) -> set[str]:
        """Ids that have, or had, parts (a store may keep a key's "folder" once empty)."""
        start = f"{self.prefix}{PARTS}"
        listed = _calling(lambda: obstore.list_with_delimiter(self.store, prefix=start))
        found = set()
        for folder in listed["common_prefixes"]:
            name = folder[len(start) :].strip("/")
            if is_valid_id(name):
                found.add(name)
        return found

    def complete_ids(self) -> set[str]:
        """Ids marked complete."""
        start = f"{self.prefix}{COMPLETE}"
        pages = _calling(lambda: list(obstore.list(self.store, prefix=start, chunk_size=1000)))
        names = (meta["path"][len(start) :] for page in pages for meta in page)
        return {name for name in names if is_valid_id(name)}

    def read(self, key: str, begin: int, end: int) -> Iterator[bytes]:
        """Bytes ``[begin, end)`` of an object, streamed in chunks."""
        if begin >= end:
            return
        result = _calling(lambda: obstore.get(self.store, key, options={"range": (begin, end)}))
        stream = result.stream(min_chunk_size=READ_CHUNK)
        while True:
            try:
                chunk = _calling(lambda: next(stream))
            except StopIteration:
                return
            yield bytes(chunk)

    def get(self, key: str) -> bytes:
        """A whole (small) object."""
        return bytes(_calling(lambda: obstore.get(self.store, key).bytes()))


class ObjectSink:
    """A sealed file written into the bucket: its parts as they come, the marker at commit."""

    threadsafe = True

    def __init__(self, bucket: Bucket, sealed_id: str) -> None:
        self.bucket = bucket
        self.sealed_id = sealed_id

    def put_segment(self, index: int, ciphertext: bytes | bytearray | memoryview) -> None:
        """Write one segment object."""
        self.bucket.put(self.bucket.part(self.sealed_id, layout.segment_name(index)), ciphertext)

    def put_manifest(self, ciphertext: bytes) -> None:
        """Write the manifest object."""
        self.bucket.put(self.bucket.part(self.sealed_id, layout.MANIFEST), ciphertext)

    def commit(self) -> str:
        """Every part is stored (each PUT returned): mark the sealed file complete."""
        self.bucket.put(self.bucket.marker(self.sealed_id), b"")
        return self.sealed_id

    def abort(self) -> None:
        """Remove whatever was written (a crash leaves it to recovery)."""
        self.bucket.delete_parts(self.sealed_id)


class ObjectBlobs:
    """Complete sealed files in the bucket (:class:`tainik.storage.blobs.Blobs`)."""

    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket

    def new_sink(self, sealed_id: str) -> BlobSink:
        """A sink for a new sealed file."""
        self.bucket.part(sealed_id, "")  # validates
        return ObjectSink(self.bucket, sealed_id)

    def exists(self, sealed_id: str) -> bool:
        """Whether ``sealed_id`` is marked complete."""
        return self.bucket.present(self.bucket.marker(sealed_id))

    def size_of(self, sealed_id: str) -> int:
        """Total bytes of the parts."""
        return sum(self._parts(sealed_id).values())

    def delete(self, sealed_id: str) -> None:
        """The marker first (no longer complete), then the parts."""
        _calling(lambda: obstore.delete(self.bucket.store, self.bucket.marker(sealed_id)))
        self.bucket.delete_parts(sealed_id)

    def sweep_partials(self, keep: Collection[str] = ()) -> int:
        """Delete parts that no marker vouches for and no unfinished upload (``keep``) owns."""
        strays = self.bucket.loose_ids() - set(keep)
        for sealed_id in strays:
            self.bucket.delete_parts(sealed_id)
        return len(strays)

    def ids(self) -> Iterator[str]:
        """Ids of the complete sealed files."""
        yield from sorted(self.bucket.complete_ids())

    def _parts(self, sealed_id: str) -> dict[str, int]:
        """The canonical parts (manifest, segments) of a complete sealed file."""
        found = self.bucket.parts(sealed_id)
        return {
            name: size
            for name, size in found.items()
            if name == layout.MANIFEST or layout.segment_index(name) is not None
        }

    def tar(self, sealed_id: str) -> TarLayout:
        """The sealed-file tar, its parts streamed from the bucket by range."""
        found = self._parts(sealed_id)
        names = sorted(
            (n for n in found if n != layout.MANIFEST), key=lambda n: layout.segment_index(n) or 0
        )
        parts: list[tuple[str, Piece]] = []
        if layout.MANIFEST not in found:
            raise IntegrityError(N_("The sealed file is incomplete"))
        for name in [layout.MANIFEST, *names]:
            parts.append((name, Streamed(found[name], self._reader(sealed_id, name))))
        return tarball.sealed_tar_of(sealed_id, parts)

    def _reader(self, sealed_id: str, name: str) -> Callable[[int, int], Iterator[bytes]]:
        key = self.bucket.part(sealed_id, name)

        def read(begin: int, end: int) -> Iterator[bytes]:
            return self.bucket.read(key, begin, end)

        return read

    def read_small(
        self, sealed_id: str, identities: Sequence[Identity], max_bytes: int
    ) -> OpenedBytes:
        """A small sealed file fetched into memory (ciphertext), then opened and verified."""
        found = self._parts(sealed_id)
        if layout.MANIFEST not in found:
            raise IntegrityError(N_("The sealed file is incomplete"))
        manifest = self.bucket.get(self.bucket.part(sealed_id, layout.MANIFEST))
        segments: dict[int, bytes] = {}
        for name in found:
            index = layout.segment_index(name)
            if index is not None:
                segments[index] = self.bucket.get(self.bucket.part(sealed_id, name))
        return reader.read_small_parts(
            layout.container_name(sealed_id), manifest, segments, identities, max_bytes
        )

    def free_bytes(self) -> int | None:
        """An S3 store does not say."""
        return None


class ObjectUploads:
    """Unfinished uploads in the bucket (:class:`tainik.storage.uploads.Uploads`): their parts
    where the complete sealed file will have them."""

    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket

    def create(self, sealed_id: str) -> None:
        """Nothing to make: a bucket has no folders."""
        self.bucket.part(sealed_id, "")  # validates

    def put_segment(self, sealed_id: str, index: int, data: bytes | list[bytes]) -> None:
        """One PUT of segment ``index`` (replacing an earlier one whole)."""
        self._put_part(sealed_id, layout.segment_name(index), data)

    def put_manifest(self, sealed_id: str, data: bytes) -> None:
        """One PUT of the manifest."""
        self._put_part(sealed_id, layout.MANIFEST, data)

    def _put_part(self, sealed_id: str, name: str, data: bytes | list[bytes]) -> None:
        """A part is written only where none is (``If-None-Match``). Where one is, the upload
        may be complete already: a part sent late (its request checked the state just before
        a complete) is refused then and never replaces a part of a committed sealed file, as
        on disk its rename finds the folder gone. Otherwise it is a client's retry, written
        over the earlier one whole."""
        key = self.bucket.part(sealed_id, name)
        if self.bucket.put(key, data, create=True):
            return
        if self.bucket.present(self.bucket.marker(sealed_id)):
            raise StorageError(N_("The upload is complete; the part was not written"))
        self.bucket.put(key, data)

    def received(self, sealed_id: str) -> list[int]:
        """Indexes of the segments present."""
        names = self.bucket.parts(sealed_id)
        return sorted(i for i in map(layout.segment_index, names) if i is not None)

    def has_manifest(self, sealed_id: str) -> bool:
        """Whether the manifest is there."""
        return self.bucket.present(self.bucket.part(sealed_id, layout.MANIFEST))

    def exists(self, sealed_id: str) -> bool:
        """Whether unfinished parts of ``sealed_id`` are there."""
        return bool(self.bucket.parts(sealed_id)) and not self.bucket.present(
            self.bucket.marker(sealed_id)
        )

    def clear_temporaries(self, sealed_id: str) -> None:
        """Nothing: a PUT leaves no half-written object."""

    def commit(self, sealed_id: str, blobs: Blobs) -> None:
        """Mark the parts a complete sealed file: one PUT of its marker."""
        assert isinstance(blobs, ObjectBlobs)
        assert blobs.bucket.prefix == self.bucket.prefix
        self.bucket.put(self.bucket.marker(sealed_id), b"")

    def remove(self, sealed_id: str) -> None:
        """Delete an unfinished upload's parts; never those of a complete sealed file."""
        if self.bucket.present(self.bucket.marker(sealed_id)):
            return
        self.bucket.delete_parts(sealed_id)

    def ids(self) -> list[str]:
        """Ids with parts and no marker."""
        return sorted(self.bucket.loose_ids())

    def free_bytes(self) -> int | None:
        """An S3 store does not say."""
        return None


def open_stores(
    bucket: str,
    prefix: str = "",
    *,
    endpoint: str,
    region: str,
    access_key_id: str,
    secret_access_key: str,
) -> tuple[ObjectBlobs, ObjectUploads]:
    """The blob and upload stores of an instance whose ``[store]`` names a bucket (its keys
    under ``prefix``); one request checks at once that the bucket answers with these keys."""
    client = open_bucket(
        bucket,
        endpoint=endpoint,
        region=region,
        access_key_id=access_key_id,
        secret_access_key=secret_access_key,
    )
    keys = Bucket(client, prefix)
    probe = f"{prefix}tainik-store"
    keys.put(probe, b"Tainik: sealed files (ciphertext only) live under parts/ and complete/\n")
    return ObjectBlobs(keys), ObjectUploads(keys)
