"""Names of the parts of a sealed file on disk (docs/format.md, "Container layout")."""

from __future__ import annotations

import re
from pathlib import Path

from tainik.core.errors import N_, FormatError
from tainik.core.manifest import is_valid_id

SUFFIX = ".sealed"
MANIFEST = "manifest.age"
_SEGMENT_RE = re.compile(r"segment-(0[0-9]{7}|[1-9][0-9]{7,})\.age")


def container_name(sealed_id: str) -> str:
    """``ID.sealed``."""
    return sealed_id + SUFFIX


def segment_name(index: int) -> str:
    """``segment-DDDDDDDD.age``: the index zero-padded to at least 8 digits."""
    return f"segment-{index:08d}.age"


def segment_index(name: str) -> int | None:
    """The index a canonical segment file name carries, else None."""
    match = _SEGMENT_RE.fullmatch(name)
    return int(match.group(1)) if match else None


def id_from_container(path: Path) -> str | None:
    """The id in a container directory's name, when it has the canonical form."""
    name = path.name
    if name.endswith(SUFFIX) and is_valid_id(name[: -len(SUFFIX)]):
        return name[: -len(SUFFIX)]
    return None


def list_segments(container: Path) -> dict[int, Path]:
    """The segment files of ``container`` by index; anything unexpected is an error."""
    found: dict[int, Path] = {}
    for entry in container.iterdir():
        if entry.name == MANIFEST:
            continue
        index = segment_index(entry.name)
        if index is None or not entry.is_file():
            raise FormatError(
                N_("{container}: unexpected entry '{entry}' in the sealed file"),
                container=str(container),
                entry=entry.name[:100],
            )
        found[index] = entry
    return found
