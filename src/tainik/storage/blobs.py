"""The blob store: sealed files, complete and recorded or about to be.

:class:`Blobs` is what the services use; :class:`BlobStore` keeps them as ``ID.sealed``
directories in one folder (the embedded default), ``storage/objects.py`` as objects in an S3
bucket. Either way a sealed file is complete or absent: :meth:`Blobs.exists` never sees half
of one, and what a sink wrote is durable once its :meth:`BlobSink.commit` returns.

Paths are built only from sealed-file ids, which are validated; a stray name can never point
outside the store. Incomplete writes live in hidden ``.ID.sealed.partial`` directories and
are swept at start: they were never acknowledged. Committed containers, their files and the
root carry a fixed modification time (:func:`tainik.storage.coarse.fix_times`).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from tainik.core.errors import N_, IntegrityError
from tainik.core.manifest import is_valid_id
from tainik.crypto import Identity
from tainik.sealed import durable, layout, reader, tarball
from tainik.sealed.reader import OpenedBytes
from tainik.sealed.tarball import TarLayout
from tainik.sealed.writer import DirectorySink, SegmentSink
from tainik.storage.coarse import fix_container_times, fix_times
from tainik.storage.space import free_bytes


class BlobSink(SegmentSink, Protocol):
    """A sealed file being written: complete and durable once :meth:`commit` returns."""

    def commit(self) -> object:
        """Make the parts durable, then the sealed file complete (atomically)."""

    def abort(self) -> None:
        """Remove whatever was written."""


class Blobs(Protocol):
    """Complete sealed files by id (ciphertext only)."""

    def new_sink(self, sealed_id: str) -> BlobSink:
        """A sink that writes ``sealed_id`` and commits it atomically."""

    def exists(self, sealed_id: str) -> bool:
        """True when the complete sealed file is present."""

    def size_of(self, sealed_id: str) -> int:
        """Total bytes of its parts."""

    def delete(self, sealed_id: str) -> None:
        """Remove a sealed file: it stops being complete first, then its parts go."""

    def sweep_partials(self, keep: Collection[str] = ()) -> int:
        """Remove incomplete sealed files left by a crash (but those in ``keep``: unfinished
        uploads, where a store keeps them beside the blobs); returns how many."""

    def ids(self) -> Iterator[str]:
        """Ids of the complete sealed files."""

    def tar(self, sealed_id: str) -> TarLayout:
        """Its sealed-file tar (docs/format.md, "Transport"), streamed from the store."""

    def read_small(
        self, sealed_id: str, identities: Sequence[Identity], max_bytes: int
    ) -> OpenedBytes:
        """A small sealed file (a reply) verified and opened in memory."""

    def free_bytes(self) -> int | None:
        """Bytes the store may still take, when it can tell (None: it cannot)."""


class _BlobSink(DirectorySink):
    """A sink whose container, once in place, shows no time of its making."""

    def commit(self) -> Path:
        final = super().commit()
        fix_container_times(final)
        fix_times(final.parent)
        return final


class BlobStore:
    """Sealed files under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def path_of(self, sealed_id: str) -> Path:
        """The container of ``sealed_id`` (which need not exist)."""
        if not is_valid_id(sealed_id):
            raise IntegrityError(N_("Not a sealed-file id"))
        path = self.root / layout.container_name(sealed_id)
        assert path.parent == self.root
        return path

    def new_sink(self, sealed_id: str) -> DirectorySink:
        """A sink that writes ``sealed_id`` and commits it atomically."""
        self.path_of(sealed_id)  # validates
        return _BlobSink(self.root, sealed_id)

    def exists(self, sealed_id: str) -> bool:
        """True when the complete container is present."""
        return self.path_of(sealed_id).is_dir()

    def size_of(self, sealed_id: str) -> int:
        """Total bytes of the container's files."""
        return sum(p.stat().st_size for p in self.path_of(sealed_id).iterdir())

    def delete(self, sealed_id: str) -> None:
        """Remove a container (what this can guarantee on SSDs: see the threat model)."""
        path = self.path_of(sealed_id)
        durable.remove_tree(path)
        fix_times(self.root)
        durable.fsync_dir(self.root)

    def sweep_partials(self, keep: Collection[str] = ()) -> int:
        """Remove incomplete containers left by a crash; returns how many. (Unfinished uploads
        live in another folder: ``keep`` is not needed here.)"""
        count = 0
        for entry in self.root.iterdir():
            if entry.name.startswith(".") and entry.name.endswith(".partial") and entry.is_dir():
                durable.remove_tree(entry)
                count += 1
        return count

    def ids(self) -> Iterator[str]:
        """Ids of the complete containers."""
        for entry in os.scandir(self.root):
            name = entry.name
            if name.endswith(layout.SUFFIX) and is_valid_id(name[: -len(layout.SUFFIX)]):
                yield name[: -len(layout.SUFFIX)]

    def tar(self, sealed_id: str) -> TarLayout:
        """The sealed-file tar of the container."""
        return tarball.sealed_file_tar(self.path_of(sealed_id))

    def read_small(
        self, sealed_id: str, identities: Sequence[Identity], max_bytes: int
    ) -> OpenedBytes:
        """A small sealed file opened in memory."""
        return reader.read_small(self.path_of(sealed_id), identities, max_bytes)

    def free_bytes(self) -> int | None:
        """Free bytes on the folder's file system."""
        return free_bytes(self.root)
