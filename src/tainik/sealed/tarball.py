"""The sealed-file tar: one file that carries a sealed file (docs/format.md, "Transport").

Writing produces a :class:`TarLayout`, the list of pieces (tar headers, regions of the sealed
file's parts, zero padding) whose concatenation is the archive. Every field of the archive is
fixed (mode, owner, time, order), so its length and the place of each byte are known before a
byte is read: a server streams any byte range of it in constant memory, and never builds the
archive on disk. A *selection tar* holds several sealed-file tars as members.

Reading (:func:`unpacked`) checks every member's type and name, copies the parts (ciphertext
only) into a hidden folder in the output directory, and hands the containers to the ordinary
reader, which applies every rule of "Reading"; the folder is removed afterwards.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import secrets
import shutil
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tainik.core.errors import N_, FormatError, StorageError
from tainik.core.manifest import MAX_MANIFEST_CIPHERTEXT, is_valid_id
from tainik.core.segments import MAX_SEGMENT_SIZE
from tainik.sealed import durable, layout
from tainik.sealed.reader import max_segment_ciphertext

BLOCK = 512
END_OF_ARCHIVE = bytes(2 * BLOCK)
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
TAR_SUFFIX = ".tar"
MEMBER_SUFFIX = layout.SUFFIX + TAR_SUFFIX  # "ID.sealed.tar" inside a selection tar
READ_CHUNK = 1024 * 1024
UNPACKING_PREFIX = ".tainik-unpacking-"


@dataclass(frozen=True, slots=True)
class Inline:
    """Bytes held in memory: a header or padding."""

    data: bytes

    @property
    def size(self) -> int:
        """Length in bytes."""
        return len(self.data)


@dataclass(frozen=True, slots=True)
class FileRegion:
    """The first ``size`` bytes of a file on disk."""

    path: Path
    size: int


Piece = Inline | FileRegion


class TarLayout:
    """An archive as pieces: its size is known, and any byte range can be streamed."""

    def __init__(self, pieces: Sequence[Piece]) -> None:
        self.pieces = tuple(p for p in pieces if p.size)
        self._starts: list[int] = []
        offset = 0
        for piece in self.pieces:
            self._starts.append(offset)
            offset += piece.size
        self.size = offset

    def stream(self, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """Bytes ``[start, stop)`` of the archive, in chunks of at most 1 MiB."""
        stop = self.size if stop is None else stop
        if not 0 <= start <= stop <= self.size:
            raise ValueError("byte range outside the archive")
        index = max(0, bisect.bisect_right(self._starts, start) - 1)
        position = start
        while position < stop and index < len(self.pieces):
            piece, piece_start = self.pieces[index], self._starts[index]
            begin = position - piece_start
            end = min(piece.size, stop - piece_start)
            if isinstance(piece, Inline):
                yield piece.data[begin:end]
            else:
                yield from _file_bytes(piece, begin, end)
            position = piece_start + end
            index += 1


def _file_bytes(region: FileRegion, begin: int, end: int) -> Iterator[bytes]:
    try:
        with open(region.path, "rb", buffering=0) as handle:
            handle.seek(begin)
            left = end - begin
            while left:
                chunk = handle.read(min(READ_CHUNK, left))
                if not chunk:
                    raise StorageError(
                        N_("{path}: the file became shorter while it was sent"),
                        path=str(region.path),
                    )
                left -= len(chunk)
                yield chunk
    except OSError as exc:
        raise durable.storage_error(exc, region.path) from exc


def _header(name: str, size: int, *, directory: bool = False) -> bytes:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.size = 0 if directory else size
    info.mode = DIRECTORY_MODE if directory else FILE_MODE
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info.tobuf(format=tarfile.USTAR_FORMAT, encoding="ascii", errors="strict")


def _padding(size: int) -> Inline:
    return Inline(bytes(-size % BLOCK))


def _member(name: str, content: Sequence[Piece], size: int) -> list[Piece]:
    return [Inline(_header(name, size)), *content, _padding(size)]


def sealed_file_tar(container: Path) -> TarLayout:
    """The sealed-file tar of a complete ``ID.sealed`` directory (sizes read now)."""
    sealed_id = layout.id_from_container(container)
    if sealed_id is None:
        raise FormatError(N_("{path}: not a sealed-file directory"), path=str(container))
    try:
        segments = layout.list_segments(container)
        parts = [container / layout.MANIFEST] + [segments[i] for i in sorted(segments)]
        sizes = [part.stat().st_size for part in parts]
    except OSError as exc:
        raise durable.storage_error(exc, container) from exc
    pieces: list[Piece] = [Inline(_header(container.name, 0, directory=True))]
    for part, size in zip(parts, sizes, strict=True):
        pieces += _member(f"{container.name}/{part.name}", [FileRegion(part, size)], size)
    pieces.append(Inline(END_OF_ARCHIVE))
    return TarLayout(pieces)


def selection_tar(members: Sequence[tuple[str, TarLayout]]) -> TarLayout:
    """A tar whose members are sealed-file tars, named ``ID.sealed.tar``."""
    pieces: list[Piece] = []
    for sealed_id, inner in members:
        if not is_valid_id(sealed_id):
            raise FormatError(N_("not a sealed-file id"))
        pieces += _member(sealed_id + MEMBER_SUFFIX, inner.pieces, inner.size)
    pieces.append(Inline(END_OF_ARCHIVE))
    return TarLayout(pieces)


# --- reading ---------------------------------------------------------------------------------

_MAX_PART = max(MAX_MANIFEST_CIPHERTEXT, max_segment_ciphertext(MAX_SEGMENT_SIZE))


def _bad(archive: str, problem: str, **params: object) -> FormatError:
    return FormatError(
        N_("{archive}: not a sealed-file tar ({problem})"),
        archive=archive,
        problem=problem.format(**params),
    )


def _copy(source: IO[bytes], target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(source, out, READ_CHUNK)


def _unpack_one(archive: tarfile.TarFile, label: str, into: Path) -> Path:
    """Copy the parts of the one sealed file in ``archive`` into ``into/ID.sealed``."""
    sealed_id: str | None = None
    seen: set[str] = set()
    container: Path | None = None
    for member in archive:
        top, _, part = member.name.partition("/")
        member_id = top.removesuffix(layout.SUFFIX) if top.endswith(layout.SUFFIX) else None
        if member_id is None or not is_valid_id(member_id):
            raise _bad(label, "unexpected member '{name}'", name=member.name[:100])
        if sealed_id is None:
            sealed_id, container = member_id, into / top
            container.mkdir(mode=0o700)
        elif member_id != sealed_id:
            raise _bad(label, "members of two sealed files")
        assert container is not None
        if member.isdir() and not part:
            continue
        valid_part = part == layout.MANIFEST or layout.segment_index(part) is not None
        if not member.isreg() or not valid_part:
            raise _bad(label, "unexpected member '{name}'", name=member.name[:100])
        if part in seen:
            raise _bad(label, "'{name}' appears twice", name=member.name[:100])
        if member.size > _MAX_PART:
            raise _bad(label, "'{name}' is larger than any valid part", name=member.name[:100])
        seen.add(part)
        stream = archive.extractfile(member)
        assert stream is not None
        _copy(stream, container / part)
    if container is None:
        raise _bad(label, "it is empty")
    return container


def _unpack(path: Path, into: Path) -> list[Path]:
    label = str(path)
    try:
        with tarfile.open(path, mode="r:") as archive:
            names = archive.getnames()
            if names and all(n.endswith(MEMBER_SUFFIX) and "/" not in n for n in names):
                return _unpack_selection(archive, label, into)
            return [_unpack_one(archive, label, into)]
    except tarfile.TarError as exc:
        raise _bad(label, "{reason}", reason=str(exc)[:200]) from exc


def _unpack_selection(archive: tarfile.TarFile, label: str, into: Path) -> list[Path]:
    containers = []
    for member in archive.getmembers():
        if not member.isreg():
            raise _bad(label, "unexpected member '{name}'", name=member.name[:100])
        inner = archive.extractfile(member)
        assert inner is not None
        with tarfile.open(fileobj=inner, mode="r:") as nested:
            containers.append(_unpack_one(nested, f"{label}: {member.name}", into))
    return containers


@contextlib.contextmanager
def unpacked(path: Path, work_dir: Path) -> Iterator[list[Path]]:
    """The sealed-file containers that ``path`` names.

    A file named ``*.tar``, a sealed-file tar or a selection tar, is unpacked (ciphertext only)
    into a hidden folder in ``work_dir``, which is removed when the block ends. Anything else is
    itself, for the reader to judge.
    """
    if not (path.name.endswith(TAR_SUFFIX) and path.is_file()):
        yield [path]
        return
    folder = work_dir / f"{UNPACKING_PREFIX}{secrets.token_hex(8)}"
    try:
        folder.mkdir(mode=0o700, parents=True)
    except OSError as exc:
        raise durable.storage_error(exc, folder) from exc
    try:
        try:
            containers = _unpack(path, folder)
        except OSError as exc:
            raise durable.storage_error(exc, path) from exc
        yield containers
    finally:
        shutil.rmtree(folder, ignore_errors=True)
