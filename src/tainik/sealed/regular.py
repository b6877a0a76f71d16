"""Open files that came from elsewhere: regular files only, never through a link, read bounded.

The parts of a sealed file, a sealed-file tar and pull metadata reach the workstation from a
networked machine. A part that is a symbolic link to ``/dev/zero`` would be read for ever, a
FIFO would block the open itself, a link to another file would bring in bytes from outside the
folder. So they are opened with ``O_NOFOLLOW`` (a link is refused, not followed) and
``O_NONBLOCK`` (a FIFO does not block the open), then accepted only if ``fstat`` of the open
descriptor says it is a regular file: the check and the read concern the same file, whatever
is renamed meanwhile.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from tainik.core.errors import N_, StorageError
from tainik.sealed.durable import storage_error

_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def not_regular(path: Path | str) -> StorageError:
    """The error for a link, device, FIFO or folder where a regular file was expected."""
    return StorageError(
        N_("{path}: not a regular file (a link, a device or a pipe): refused"), path=str(path)
    )


def open_regular(path: Path) -> int:
    """A read-only descriptor of ``path``, which must be a regular file and not a link.

    Raises :class:`FileNotFoundError` when there is nothing at ``path`` (callers often have a
    message of their own for that), a :class:`StorageError` for anything else.
    """
    try:
        fd = os.open(path, _FLAGS)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):  # a link; a socket
            raise not_regular(path) from exc
        raise storage_error(exc, path) from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise not_regular(path)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_at_most(fd: int, limit: int) -> bytes:
    """Up to ``limit`` bytes from the start of ``fd`` (fewer only at its end)."""
    chunks: list[bytes] = []
    offset = 0
    while offset < limit:
        chunk = os.pread(fd, min(limit - offset, 1024 * 1024), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)
