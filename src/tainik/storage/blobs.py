"""The blob store: sealed files as ``ID.sealed`` directories in one folder.

Paths are built only from sealed-file ids, which are validated; a stray name can never point
outside the store. Incomplete writes live in hidden ``.ID.sealed.partial`` directories and
are swept at start: they were never acknowledged. Committed containers, their files and the
root carry a fixed modification time (:func:`tainik.storage.coarse.fix_times`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from tainik.core.errors import N_, IntegrityError
from tainik.core.manifest import is_valid_id
from tainik.sealed import durable, layout
from tainik.sealed.writer import DirectorySink
from tainik.storage.coarse import fix_container_times, fix_times


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

    def sweep_partials(self) -> int:
        """Remove incomplete containers left by a crash; returns how many."""
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
