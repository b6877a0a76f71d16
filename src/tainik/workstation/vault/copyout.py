"""Copying stored bytes out of the vault: never over an existing file, checked as written."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tainik.core.errors import N_, IntegrityError, StorageError
from tainik.core.names import numbered
from tainik.sealed import durable

CHUNK = 4 * 1024 * 1024


def create_new(out_dir: Path, name: str) -> tuple[int, Path]:
    """Create ``out_dir/name`` (or ``name (2)``…) exclusively; returns its descriptor and path."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise durable.storage_error(exc, out_dir) from exc
    for number in range(1, 10_000):
        candidate = out_dir / (name if number == 1 else numbered(name, number))
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            continue
        except OSError as exc:
            raise durable.storage_error(exc, candidate) from exc
        return fd, candidate
    raise StorageError(N_("{path}: every alternative name is taken"), path=str(out_dir / name))


def copy_verified(source: Path, out_dir: Path, name: str, sha256_hex: str) -> Path:
    """Copy ``source`` to a new file in ``out_dir``; its SHA-256 must be ``sha256_hex``.

    On a mismatch (the stored file changed) the copy is removed and an integrity error raised.
    """
    fd, target = create_new(out_dir, name)
    digest = hashlib.sha256()
    try:
        try:
            with open(source, "rb", buffering=0) as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if digest.hexdigest() != sha256_hex:
            raise IntegrityError(
                N_("{path}: the stored file does not match its SHA-256; run 'tainik vault verify'"),
                path=str(source),
            )
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise durable.storage_error(exc, target) from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target
