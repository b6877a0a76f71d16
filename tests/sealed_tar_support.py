"""A small sealed file and its tar's bytes, shared by the tar writer and reader tests."""

from __future__ import annotations

import os
from pathlib import Path

from tainik import crypto
from tainik.sealed import tarball
from tainik.sealed.files import FileSealer

SEGMENT = 65536


def seal_sample(folder: Path, size: int) -> tuple[Path, bytes, crypto.Identity]:
    """A sealed file of ``size`` random bytes in 64 KiB segments, its plaintext and key."""
    identity = crypto.Identity.generate()
    plaintext = os.urandom(size)
    (folder / "clip.mp4").write_bytes(plaintext)
    with FileSealer([identity.recipient], segment_size=SEGMENT, jobs=1) as sealer:
        container = sealer.seal(folder / "clip.mp4", folder / "out")
    return container, plaintext, identity


def whole(layout: tarball.TarLayout) -> bytes:
    """Every byte of a tar layout."""
    return b"".join(layout.stream())
