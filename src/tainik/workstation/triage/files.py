"""File helpers for the report folder: whole-file hashes and atomic writes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path

from tainik.sealed.durable import storage_error


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's contents, as lowercase hex."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise storage_error(exc, path) from exc


def temporary_name(path: Path) -> Path:
    """A fresh name beside ``path`` for writing before an atomic rename."""
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    Two processes writing the same name (two copies of one video) both succeed; the last
    rename wins, and both wrote the same bytes.
    """
    partial = temporary_name(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise storage_error(exc, path) from exc


def make_dirs(path: Path) -> Path:
    """Create ``path`` and its parents; map failures to a user-facing error."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(exc, path) from exc
    return path
