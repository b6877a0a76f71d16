"""The sealed-file tar: one file that carries a sealed file (docs/format.md, "Transport").

Writing produces a :class:`TarLayout`, the list of pieces (tar headers, regions of the sealed
file's parts, zero padding) whose concatenation is the archive. Every field of the archive is
fixed (mode, owner, time, order), so its length and the place of each byte are known before a
byte is read: a server streams any byte range of it in constant memory, and never builds the
archive on disk. A *selection tar* holds several sealed-file tars as members, each one maybe
after its pull metadata (``ID.json``, docs/workstation.md), which says which source sent it.

Reading never uses Python's tarfile: the strict reader of :mod:`tainik.sealed.ustar` accepts
only the layout writers produce (every header re-encodes to the same bytes, names and order are
the fixed ones, sizes are bounded). :func:`unpacked` checks the whole archive that way, then
copies each sealed file's manifest (ciphertext) into a hidden folder in the output directory,
decrypts it, and copies only the segments it lists, for the ordinary reader to apply every rule
of "Reading"; the folder is removed afterwards.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tainik.core.errors import N_, FormatError, IntegrityError, StorageError, TainikError
from tainik.core.manifest import MAX_MANIFEST_CIPHERTEXT, is_valid_id
from tainik.core.segments import MAX_SEGMENT_SIZE, MIN_SEGMENT_SIZE
from tainik.crypto import Identity
from tainik.sealed import durable, layout, regular, ustar
from tainik.sealed.reader import check_segment_set, decode_manifest, max_segment_ciphertext

BLOCK = ustar.BLOCK
END_OF_ARCHIVE = ustar.END_OF_ARCHIVE
TAR_SUFFIX = ".tar"
MEMBER_SUFFIX = layout.SUFFIX + TAR_SUFFIX  # "ID.sealed.tar" inside a selection tar
SIDECAR_SUFFIX = ".json"  # "ID.json": the pull metadata of ID, just before "ID.sealed.tar"
MAX_SIDECAR = 64 * 1024
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


@dataclass(frozen=True, slots=True)
class Streamed:
    """``size`` bytes that ``read(begin, end)`` streams from elsewhere (an object store)."""

    size: int
    read: Callable[[int, int], Iterator[bytes]]


Piece = Inline | FileRegion | Streamed


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
            elif isinstance(piece, Streamed):
                yield from piece.read(begin, end)
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


def _padding(size: int) -> Inline:
    return Inline(bytes(-size % BLOCK))


def _member(name: str, content: Sequence[Piece], size: int) -> list[Piece]:
    return [Inline(ustar.encode_header(name, size)), *content, _padding(size)]


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
    regions: list[Piece] = [FileRegion(part, size) for part, size in zip(parts, sizes, strict=True)]
    return sealed_tar_of(
        sealed_id, [(part.name, region) for part, region in zip(parts, regions, strict=True)]
    )


def sealed_tar_of(sealed_id: str, parts: Sequence[tuple[str, Piece]]) -> TarLayout:
    """The sealed-file tar of ``sealed_id`` from its parts, each ``(name, content)``: the
    manifest first, then the segments in order (where the parts live is the caller's)."""
    folder = layout.container_name(sealed_id)
    pieces: list[Piece] = [Inline(ustar.encode_header(folder + "/", 0, directory=True))]
    for name, content in parts:
        pieces += _member(f"{folder}/{name}", [content], content.size)
    pieces.append(Inline(END_OF_ARCHIVE))
    return TarLayout(pieces)


def max_sealed_tar_size(ciphertext_bytes: int) -> int:
    """The largest sealed-file tar whose parts hold ``ciphertext_bytes`` bytes in all.

    Every segment but the last holds at least 64 KiB of plaintext, so there are at most
    ``2 + ciphertext_bytes // 65536`` parts (with the manifest), each adding one header and at
    most 511 bytes of padding; the folder's header and the end add 1,536.
    """
    parts = 2 + ciphertext_bytes // MIN_SEGMENT_SIZE
    return ciphertext_bytes + 3 * BLOCK + parts * (2 * BLOCK - 1)


def selection_tar(
    members: Sequence[tuple[str, TarLayout]], sidecars: Mapping[str, bytes] | None = None
) -> TarLayout:
    """A tar whose members are sealed-file tars, named ``ID.sealed.tar``, each after its pull
    metadata ``ID.json`` where ``sidecars`` has it."""
    pieces: list[Piece] = []
    for sealed_id, inner in members:
        if not is_valid_id(sealed_id):
            raise FormatError(N_("Not a sealed-file id"))
        sidecar = (sidecars or {}).get(sealed_id)
        if sidecar is not None:
            if len(sidecar) > MAX_SIDECAR:
                raise FormatError(N_("The pull metadata of {id} is too large"), id=sealed_id)
            pieces += _member(sealed_id + SIDECAR_SUFFIX, [Inline(sidecar)], len(sidecar))
        pieces += _member(sealed_id + MEMBER_SUFFIX, inner.pieces, inner.size)
    pieces.append(Inline(END_OF_ARCHIVE))
    return TarLayout(pieces)


# --- reading ---------------------------------------------------------------------------------
# Never with Python's tarfile (see tainik.sealed.ustar): the archive comes from a networked
# machine, and is read by the strict reader of the one layout writers produce.

_MAX_PART = max(MAX_MANIFEST_CIPHERTEXT, max_segment_ciphertext(MAX_SEGMENT_SIZE))
# Members of one archive, all sealed files of a selection together: with 4 MiB segments, 4 TiB.
MAX_MEMBERS = 1024 * 1024


@dataclass(frozen=True, slots=True)
class SealedTarIndex:
    """Where the parts of one sealed file lie in an archive (checked names, bounded sizes)."""

    sealed_id: str
    label: str  # the archive, and the member for one inside a selection tar
    manifest: ustar.Member
    segments: tuple[ustar.Member, ...]  # segment i is segments[i]
    sidecar: ustar.Member | None = None  # its ``ID.json`` in a selection tar, if any


class _Archive:
    """An archive opened for reading: a regular file, never a link, read by offset."""

    def __init__(self, path: Path) -> None:
        self.label = str(path)
        try:
            self.fd = regular.open_regular(path)
        except OSError as exc:
            raise durable.storage_error(exc, path) from exc
        self.size = os.fstat(self.fd).st_size
        self.members = 0

    def read(self, offset: int, length: int) -> bytes:
        try:
            return os.pread(self.fd, length, offset)
        except OSError as exc:
            raise durable.storage_error(exc, self.label) from exc

    def walk(self, start: int, end: int, label: str, max_size: int) -> Iterator[ustar.Member]:
        for member in ustar.members(
            self.read,
            start,
            end,
            label,
            max_members=MAX_MEMBERS - self.members,
            max_size=max_size,
        ):
            self.members += 1
            yield member

    def close(self) -> None:
        os.close(self.fd)


def _sealed_index(archive: _Archive, start: int, end: int, label: str) -> SealedTarIndex:
    """The one sealed file in bytes ``[start, end)``: the folder ``ID.sealed/``, then
    ``manifest.age``, then segments 0, 1, 2… in order, nothing else (docs/format.md)."""
    walk = archive.walk(start, end, label, _MAX_PART)
    first = next(walk, None)
    if first is None:
        raise ustar.bad(label, "it is empty")
    top = first.name.removesuffix("/")
    sealed_id = layout.id_from_container(Path(top)) if top.endswith(layout.SUFFIX) else None
    if not first.directory or first.name != top + "/" or sealed_id is None:
        raise ustar.bad(label, "unexpected member '{name}'", name=first.name)
    manifest: ustar.Member | None = None
    segments: list[ustar.Member] = []
    seen: set[str] = set()
    for member in walk:
        folder, _, part = member.name.partition("/")
        if folder != top and folder.endswith(layout.SUFFIX):
            raise ustar.bad(label, "members of two sealed files")
        valid_part = part == layout.MANIFEST or layout.segment_index(part) is not None
        if member.directory or folder != top or not valid_part:
            raise ustar.bad(label, "unexpected member '{name}'", name=member.name)
        if part in seen:
            raise ustar.bad(label, "'{name}' appears twice", name=member.name)
        seen.add(part)
        expected = layout.MANIFEST if manifest is None else layout.segment_name(len(segments))
        if part != expected:
            raise ustar.bad(
                label, "'{name}' is out of order (expected '{expected}')",
                name=member.name, expected=expected,
            )  # fmt: skip
        if manifest is None:
            manifest = member
        else:
            segments.append(member)
    if manifest is not None and manifest.size > MAX_MANIFEST_CIPHERTEXT:
        raise FormatError(N_("{path}: the manifest is too large"), path=label)
    if manifest is None:
        raise IntegrityError(
            N_("{path}: the manifest is missing (an incomplete sealed file)"), path=label
        )
    return SealedTarIndex(sealed_id, label, manifest, tuple(segments))


def _index(archive: _Archive) -> list[SealedTarIndex]:
    """Every sealed file in the archive: itself, or each member of a selection tar."""
    label = archive.label
    first = archive.read(0, ustar.BLOCK)
    is_selection = (
        len(first) == ustar.BLOCK
        and first[156:157] == b"0"
        and "/" not in (first[:100].split(b"\x00", 1)[0].decode("ascii", "replace"))
    )
    if not is_selection:
        return [_sealed_index(archive, 0, archive.size, label)]
    found: list[SealedTarIndex] = []
    seen: set[str] = set()
    sidecar: ustar.Member | None = None  # an ``ID.json`` waiting for its ``ID.sealed.tar``
    for member in list(archive.walk(0, archive.size, label, ustar.MAX_MEMBER_SIZE)):
        if member.name.endswith(SIDECAR_SUFFIX) and not member.directory and sidecar is None:
            if not is_valid_id(member.name.removesuffix(SIDECAR_SUFFIX)):
                raise ustar.bad(label, "unexpected member '{name}'", name=member.name)
            if member.size > MAX_SIDECAR:
                raise ustar.bad(label, "'{name}' is too large", name=member.name)
            sidecar = member
            continue
        member_id = member.name.removesuffix(MEMBER_SUFFIX)
        if (
            member.directory
            or not member.name.endswith(MEMBER_SUFFIX)
            or not (is_valid_id(member_id))
            or (sidecar is not None and sidecar.name != member_id + SIDECAR_SUFFIX)
        ):
            raise ustar.bad(label, "unexpected member '{name}'", name=member.name)
        if member_id in seen:
            raise ustar.bad(label, "'{name}' appears twice", name=member.name)
        seen.add(member_id)
        inner = _sealed_index(
            archive, member.offset, member.offset + member.size, f"{label}: {member.name}"
        )
        if inner.sealed_id != member_id:
            raise ustar.bad(label, "members of two sealed files")
        found.append(dataclasses.replace(inner, sidecar=sidecar))
        sidecar = None
    if sidecar is not None:
        raise ustar.bad(label, "unexpected member '{name}'", name=sidecar.name)
    if not found:
        raise ustar.bad(label, "it is empty")
    return found


def _copy(archive: _Archive, member: ustar.Member, target: Path) -> None:
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise durable.storage_error(exc, target) from exc
    try:
        offset, left = member.offset, member.size
        while left:
            chunk = archive.read(offset, min(READ_CHUNK, left))
            if not chunk:
                raise ustar.bad(archive.label, "it became shorter while it was read")
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
            offset += len(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise durable.storage_error(exc, target) from exc
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class Unpacked:
    """A sealed-file container ready for the reader, or why one in an archive was refused."""

    container: Path
    label: str
    error: TainikError | None = None
    sidecar: bytes | None = None  # the pull metadata the selection tar carried for it


def _unpack(
    archive: _Archive, sealed: SealedTarIndex, into: Path, identities: Sequence[Identity]
) -> Unpacked:
    """Copy the manifest, decrypt it, then copy only the segments it lists (rules 1-4 first).

    A sealed file whose manifest fails a rule keeps only its manifest here, and the error: no
    segment of it is copied.
    """
    container = into / layout.container_name(sealed.sealed_id)
    sidecar = None
    if sealed.sidecar is not None:
        sidecar = archive.read(sealed.sidecar.offset, sealed.sidecar.size)
    try:
        container.mkdir(mode=0o700)
    except FileExistsError as exc:
        raise ustar.bad(sealed.label, "members of two sealed files") from exc
    except OSError as exc:
        raise durable.storage_error(exc, container) from exc
    _copy(archive, sealed.manifest, container / layout.MANIFEST)
    try:
        ciphertext = archive.read(sealed.manifest.offset, sealed.manifest.size)
        manifest = decode_manifest(ciphertext, identities, container)
        check_segment_set(range(len(sealed.segments)), manifest.plan.count)
    except TainikError as error:
        return Unpacked(container, sealed.label, error, sidecar)
    for index, member in enumerate(sealed.segments):
        _copy(archive, member, container / layout.segment_name(index))
    return Unpacked(container, sealed.label, sidecar=sidecar)


def index(path: Path) -> list[SealedTarIndex]:
    """Check ``path``'s structure (a sealed-file tar or a selection tar); nothing is copied."""
    archive = _Archive(path)
    try:
        return _index(archive)
    finally:
        archive.close()


def check_sealed_tar(path: Path, sealed_id: str) -> SealedTarIndex:
    """``path`` must be the sealed-file tar of ``sealed_id`` (structure only: no key here)."""
    found = index(path)
    if len(found) != 1 or found[0].sealed_id != sealed_id:
        raise FormatError(
            N_("{path}: not the sealed-file tar of {id}"), path=str(path), id=sealed_id
        )
    return found[0]


def manifest_ciphertext(path: Path) -> bytes:
    """The ``manifest.age`` of the sealed-file tar ``path`` (ciphertext, size-checked)."""
    archive = _Archive(path)
    try:
        found = _index(archive)
        if len(found) != 1:
            raise FormatError(N_("{path}: holds several sealed files"), path=str(path))
        named = path.name.removesuffix(MEMBER_SUFFIX)
        if path.name.endswith(MEMBER_SUFFIX) and is_valid_id(named) and named != found[0].sealed_id:
            raise FormatError(
                N_("{path}: not the sealed-file tar of {id}"), path=str(path), id=named
            )
        member = found[0].manifest
        if member.size > MAX_MANIFEST_CIPHERTEXT:
            raise FormatError(N_("{path}: the manifest is too large"), path=str(path))
        return archive.read(member.offset, member.size)
    finally:
        archive.close()


@contextlib.contextmanager
def unpacked(
    path: Path, work_dir: Path, identities: Sequence[Identity]
) -> Iterator[list[Unpacked]]:
    """The sealed-file containers that ``path`` names.

    A file named ``*.tar``, a sealed-file tar or a selection tar, is checked whole by the
    strict reader, then each sealed file in it is copied (ciphertext only) into a hidden folder
    in ``work_dir``, removed when the block ends: its manifest first, and its segments only once
    the manifest decrypts with ``identities`` and lists exactly them. Anything else is itself,
    for the reader to judge.
    """
    if not (path.name.endswith(TAR_SUFFIX) and path.is_file()):
        yield [Unpacked(path, str(path))]
        return
    folder = work_dir / f"{UNPACKING_PREFIX}{secrets.token_hex(8)}"
    try:
        folder.mkdir(mode=0o700, parents=True)
    except OSError as exc:
        raise durable.storage_error(exc, folder) from exc
    try:
        archive = _Archive(path)
        try:
            containers = [_unpack(archive, s, folder, identities) for s in _index(archive)]
        finally:
            archive.close()
        yield containers
    finally:
        shutil.rmtree(folder, ignore_errors=True)
