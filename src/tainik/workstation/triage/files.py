"""File helpers for the report folder: temporary names, atomic writes, folders."""

from __future__ import annotations

import secrets
from pathlib import Path

from tainik.sealed import durable
from tainik.sealed.durable import storage_error


def temporary_name(path: Path) -> Path:
    """A fresh name beside ``path`` for writing before an atomic rename."""
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    Two processes writing the same name (two copies of one video) both succeed; the last
    rename wins, and both wrote the same bytes.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(exc, path) from exc
    # Reports, caches and thumbnails can be made again: no folder fsync for each of them.
    durable.replace_file(path, data, sync_folder=False)


def make_dirs(path: Path) -> Path:
    """Create ``path`` and its parents; map failures to a user-facing error."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(exc, path) from exc
    return path
