"""Unfinished uploads: :class:`Uploads` is what the services use; :class:`UploadStore` keeps
them on disk, ``DATA/uploads/ID/`` holding segments and the manifest (``storage/objects.py``
keeps them in an S3 bucket).

Each part is written to a temporary name, fsynced and renamed, so a part is wholly present or
absent whatever happens. Completing renames the folder into the blob store. Parts and folders
carry a fixed modification time (:func:`tainik.storage.coarse.fix_times`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Protocol

from tainik.core.errors import N_, IntegrityError
from tainik.core.manifest import is_valid_id
from tainik.sealed import durable, layout
from tainik.storage.blobs import Blobs, BlobStore
from tainik.storage.coarse import fix_times
from tainik.storage.space import free_bytes

TEMP_PREFIX = ".incoming-"


class Uploads(Protocol):
    """The parts of unfinished uploads by sealed id (ciphertext only). Each part is wholly
    present or absent, whatever happens; writing one again replaces it atomically."""

    def create(self, sealed_id: str) -> None:
        """Make room for an upload (no error if there is)."""

    def put_segment(self, sealed_id: str, index: int, data: bytes | list[bytes]) -> None:
        """Store segment ``index`` durably."""

    def put_manifest(self, sealed_id: str, data: bytes) -> None:
        """Store the manifest durably."""

    def received(self, sealed_id: str) -> list[int]:
        """Indexes of the segments present, ascending."""

    def has_manifest(self, sealed_id: str) -> bool:
        """True when the manifest is present."""

    def exists(self, sealed_id: str) -> bool:
        """True when the store holds the upload (parts or only its place)."""

    def clear_temporaries(self, sealed_id: str) -> None:
        """Remove half-written parts left by a crash."""

    def commit(self, sealed_id: str, blobs: Blobs) -> None:
        """Make the upload's parts the complete sealed file ``sealed_id`` of ``blobs``,
        durably and atomically (the caller has checked every part is present)."""

    def remove(self, sealed_id: str) -> None:
        """Delete an unfinished upload's parts (never a sealed file already complete)."""

    def ids(self) -> list[str]:
        """Ids of the uploads the store holds."""

    def free_bytes(self) -> int | None:
        """Bytes the store may still take, when it can tell (None: it cannot)."""


class UploadStore:
    """Folders of unfinished uploads under one root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def folder(self, sealed_id: str) -> Path:
        """The folder of an upload (validated id, always inside the root)."""
        if not is_valid_id(sealed_id):
            raise IntegrityError(N_("Not a sealed-file id"))
        return self.root / sealed_id

    def create(self, sealed_id: str) -> None:
        """Make the folder (no error if it exists)."""
        self.folder(sealed_id).mkdir(exist_ok=True, mode=0o700)
        fix_times(self.folder(sealed_id), self.root)

    def put(self, sealed_id: str, name: str, data: bytes | list[bytes]) -> None:
        """Write one part durably, replacing any previous version atomically."""
        folder = self.folder(sealed_id)
        temp = folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
        try:
            durable.write_file(temp, data)
            fix_times(temp)
            durable.move_into_place(temp, folder / name, sync_folder=False)
            fix_times(folder)
            durable.fsync_dir(folder)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def put_segment(self, sealed_id: str, index: int, data: bytes | list[bytes]) -> None:
        """Store segment ``index``."""
        self.put(sealed_id, layout.segment_name(index), data)

    def put_manifest(self, sealed_id: str, data: bytes) -> None:
        """Store the manifest."""
        self.put(sealed_id, layout.MANIFEST, data)

    def received(self, sealed_id: str) -> list[int]:
        """Indexes of the segments present, ascending."""
        folder = self.folder(sealed_id)
        try:
            with os.scandir(folder) as entries:
                found = [layout.segment_index(entry.name) for entry in entries]
        except (FileNotFoundError, NotADirectoryError):
            # No such upload, or one that another server process has just completed (renamed
            # into the blob store) between our looking and our listing: nothing is here.
            return []
        return sorted(i for i in found if i is not None)

    def has_manifest(self, sealed_id: str) -> bool:
        """True when the manifest is present."""
        return (self.folder(sealed_id) / layout.MANIFEST).is_file()

    def clear_temporaries(self, sealed_id: str) -> None:
        """Remove half-written parts left by a crash."""
        folder = self.folder(sealed_id)
        for entry in folder.glob(f"{TEMP_PREFIX}*"):
            entry.unlink(missing_ok=True)
        if folder.is_dir():
            fix_times(folder)

    def move_to(self, sealed_id: str, destination: Path) -> None:
        """Rename the folder to ``destination`` (the complete sealed file) durably."""
        folder = self.folder(sealed_id)
        self.clear_temporaries(sealed_id)
        durable.fsync_dir(folder)
        os.rename(folder, destination)
        # A part still being written (its request checked the upload's state just before the
        # commit began) may have made its temporary file after the clearing: it came along,
        # and its own rename into place now fails. A sealed file holds nothing but its parts
        # (a stray entry makes it unreadable), so it goes.
        strays = list(destination.glob(f"{TEMP_PREFIX}*"))
        for stray in strays:
            stray.unlink(missing_ok=True)
        if strays:
            durable.fsync_dir(destination)
        fix_times(destination, destination.parent, self.root)
        durable.fsync_dir(destination.parent)
        durable.fsync_dir(self.root)

    def exists(self, sealed_id: str) -> bool:
        """True when the upload's folder is there."""
        return self.folder(sealed_id).is_dir()

    def commit(self, sealed_id: str, blobs: Blobs) -> None:
        """Rename the folder into ``blobs`` (a :class:`BlobStore` on the same file system)."""
        assert isinstance(blobs, BlobStore)
        self.move_to(sealed_id, blobs.path_of(sealed_id))

    def free_bytes(self) -> int | None:
        """Free bytes on the folder's file system."""
        return free_bytes(self.root)

    def remove(self, sealed_id: str) -> None:
        """Delete an upload's folder and everything in it."""
        durable.remove_tree(self.folder(sealed_id))
        fix_times(self.root)

    def ids(self) -> list[str]:
        """Ids of the folders present."""
        return [e.name for e in os.scandir(self.root) if is_valid_id(e.name)]
