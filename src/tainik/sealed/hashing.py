"""Whole-file SHA-256: the one reader of a file's bytes for a hash, for every part that needs it.

(The vault's :func:`tainik.workstation.vault.objects.hash_file` also takes BLAKE3 and the size
in the same pass; everything else that wants only the SHA-256 of a file comes here.)
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tainik.sealed.durable import storage_error


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's contents, as lowercase hex; a :class:`StorageError` when the
    file cannot be read."""
    try:
        with path.open("rb", buffering=0) as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise storage_error(exc, path) from exc
