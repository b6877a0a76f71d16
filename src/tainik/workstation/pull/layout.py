"""The pulled folder (docs/workstation.md): paths built only from checked values.

Everything the server sends is untrusted: a source id must be a decimal integer and a sealed
id a canonical sealed-file id before either becomes part of a path, so no answer from the
server can make pull write outside its folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tainik.core import pulled
from tainik.core.errors import N_, FormatError
from tainik.core.manifest import is_valid_id
from tainik.sealed import durable, layout
from tainik.sealed.tarball import TAR_SUFFIX

STATE_FILE = "pull.json"
SOURCES = "sources"
PULL_FORMAT = pulled.FORMAT
_SOURCE_ID = re.compile(r"(0|[1-9][0-9]{0,17})")


def check_source_id(value: object) -> str:
    """A source id (an integer, or its canonical decimal text), as text; else a format error."""
    if type(value) is int:
        text = str(value) if value >= 0 else ""
    else:
        text = value if isinstance(value, str) else ""
    if not _SOURCE_ID.fullmatch(text):
        raise FormatError(N_("the server sent a malformed source id"))
    return text


def check_sealed_id(value: object) -> str:
    """A canonical sealed-file id; else a format error."""
    if not isinstance(value, str) or not is_valid_id(value):
        raise FormatError(N_("the server sent a malformed sealed-file id"))
    return value


@dataclass(frozen=True, slots=True)
class PulledPaths:
    """Where things go inside the pulled folder ``root``."""

    root: Path

    @property
    def state(self) -> Path:
        """``pull.json``: which server this folder holds."""
        return self.root / STATE_FILE

    def source_dir(self, source_id: object) -> Path:
        """``sources/ID``."""
        return self.root / SOURCES / check_source_id(source_id)

    def source_file(self, source_id: object) -> Path:
        """``sources/ID/source.json``."""
        return self.source_dir(source_id) / "source.json"

    def tar(self, source_id: object, sealed_id: object) -> Path:
        """``sources/ID/SEALED.sealed.tar``: a complete download."""
        name = layout.container_name(check_sealed_id(sealed_id)) + TAR_SUFFIX
        return self.source_dir(source_id) / name

    def partial(self, source_id: object, sealed_id: object) -> Path:
        """``sources/ID/.SEALED.sealed.tar.part``: a download in progress."""
        final = self.tar(source_id, sealed_id)
        return final.with_name(f".{final.name}.part")

    def partial_state(self, source_id: object, sealed_id: object) -> Path:
        """``sources/ID/.SEALED.sealed.tar.part.json``: the ETag and size being resumed."""
        part = self.partial(source_id, sealed_id)
        return part.with_name(part.name + ".json")

    def sidecar(self, source_id: object, sealed_id: object) -> Path:
        """``sources/ID/SEALED.json``: what the server said about the sealed file."""
        return self.source_dir(source_id) / f"{check_sealed_id(sealed_id)}.json"


def write_json_atomically(path: Path, value: object) -> None:
    """Write ``value`` as JSON to ``path``: a hidden temporary file, fsync, rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        durable.replace_json(path, value, indent=2)
    except OSError as exc:
        raise durable.storage_error(exc, path) from exc
