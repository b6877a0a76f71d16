"""What triage reads (items), and the two hooks through which the evidence vault joins in.

Triage works on plain video files today. The vault (docs/triage.md, "Vault interface") plugs
in with two small objects and no change here:

- an :class:`ItemSource` turns a command-line argument that names a vault item into
  :class:`TriageItem` values: a readable file and the SHA-256 the vault vouches for;
- a :class:`ResultRecorder` receives each video's result, keyed by that hash, to record it
  against the item (the vault's own catalogue and custody log).

Whatever the source, every result is also written to ``REPORT_DIR/videos/SHA256.json``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tainik.core.errors import N_, StorageError
from tainik.workstation.triage.results import NearCopy

if TYPE_CHECKING:
    from tainik.workstation.triage.results import VideoResult

#: File name endings taken when a folder is given (explicit file arguments are always tried).
VIDEO_SUFFIXES = frozenset(
    {
        ".264", ".265", ".3gp", ".asf", ".avi", ".dav", ".flv", ".h264", ".h265", ".m2ts",
        ".m4v", ".mkv", ".mov", ".mp4", ".mpeg", ".mpg", ".mts", ".mxf", ".ogv", ".ts",
        ".vob", ".webm", ".wmv",
    }
)  # fmt: skip


@dataclass(frozen=True)
class TriageItem:
    """One video to triage.

    ``label`` is what the report shows (a file name, or the vault's name for the item).
    ``sha256`` is None for a plain file (triage hashes it) or the hash a vault vouches for.
    ``near_copies`` are videos of the same footage that are not analysed (:mod:`trove`).
    """

    path: Path
    label: str
    sha256: str | None = None
    origin: str = "file"
    near_copies: tuple[NearCopy, ...] = ()


class ItemSource(Protocol):
    """Turns a command-line argument into items, or returns None when it is not its kind."""

    def resolve(self, argument: str) -> Sequence[TriageItem] | None:
        """The items ``argument`` names, or None to let the next source try."""
        ...


class ResultRecorder(Protocol):
    """Records a video's triage result against the item's hash (implemented by the vault)."""

    def record(self, result: VideoResult, result_file: Path) -> None:
        """Called once per analysed video, after ``result_file`` is written."""
        ...


class PlainFiles:
    """Plain files, and the video files found in folders (recursively, in name order).

    Folder walks skip ``exclude`` (the report folder: its clips are videos too).
    """

    def __init__(self, exclude: Sequence[Path] = ()) -> None:
        self._exclude = [folder.resolve() for folder in exclude]

    def resolve(self, argument: str) -> Sequence[TriageItem] | None:
        """A file becomes one item; a folder, one item per video file inside it."""
        path = Path(argument)
        if path.is_dir():
            return [
                _item(found)
                for found in _videos_under(path)
                if not any(found.resolve().is_relative_to(e) for e in self._exclude)
            ]
        if path.is_file():
            return [_item(path)]
        if not path.exists():
            raise StorageError(N_("{path}: no such file or directory"), path=argument)
        raise StorageError(N_("{path}: not a regular file"), path=argument)


def resolve_items(arguments: Iterable[str], sources: Sequence[ItemSource]) -> list[TriageItem]:
    """Every item the arguments name, in order, each file once; the first source that knows an
    argument wins."""
    items: list[TriageItem] = []
    seen: set[Path] = set()
    for argument in arguments:
        for source in sources:
            found = source.resolve(argument)
            if found is not None:
                break
        else:
            raise StorageError(N_("{path}: not a video file or vault item"), path=argument)
        for item in found:
            key = item.path.resolve()
            if key not in seen:
                seen.add(key)
                items.append(item)
    return items


def _item(path: Path) -> TriageItem:
    return TriageItem(path=path, label=path.name)


def _videos_under(folder: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if not name.startswith(".") and path.suffix.lower() in VIDEO_SUFFIXES:
                found.append(path)
    return found
