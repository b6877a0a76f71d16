"""The one ustar layout Tainik writes, and the strict reader that accepts nothing else.

docs/format.md, "Transport: the sealed-file tar", fixes every byte of a header. This module
is the codec for both directions: :func:`encode_header` writes a header and
:func:`decode_header` reads one back, refusing any header that does not re-encode to the exact
same 512 bytes. Python's :mod:`tarfile` is deliberately not used to read: archives come from a
networked machine, and tarfile loops for ever on a negative base-256 size (CVE-2025-8194),
expands GNU sparse members before anything can check them, and accepts pax, GNU long names and
links that a sealed-file tar never holds.

:func:`members` walks an archive (or a region of one: a selection tar's member) through a
``read(offset, length)`` function, so that it never reads beyond the region, never goes
backwards (each header lies at least 512 bytes after the previous one) and stops at a bounded
number of members.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tainik.core.errors import N_, FormatError

BLOCK = 512
END_OF_ARCHIVE = bytes(2 * BLOCK)
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
MAX_MEMBER_SIZE = 8**11 - 1  # eleven octal digits
_MAGIC = b"ustar\x0000"
_NAME_RE = re.compile(rb"[0-9a-z][0-9a-z./-]{0,99}")
_OCTAL_SIZE_RE = re.compile(rb"[0-7]{11}\x00")
_CHECKSUM_RE = re.compile(rb"[0-7]{6}\x00 ")
_TYPES = {b"0": False, b"5": True}  # typeflag -> is a directory

Read = Callable[[int, int], bytes]


class TarFormatError(FormatError):
    """An archive that is not exactly what docs/format.md lets a reader accept."""

    template = N_("{archive}: not a sealed-file tar ({problem})")


def bad(archive: str, problem: str, **params: object) -> TarFormatError:
    """The error for ``archive``; ``problem`` is English with ``{}`` fields from ``params``."""
    return TarFormatError(archive=archive, problem=problem.format(**params))


@dataclass(frozen=True, slots=True)
class Member:
    """One member of an archive: its content is bytes ``[offset, offset + size)``."""

    name: str
    directory: bool
    offset: int
    size: int


def padded(size: int) -> int:
    """``size`` rounded up to whole blocks."""
    return size + -size % BLOCK


def _octal(value: int, width: int) -> bytes:
    return b"%0*o\x00" % (width - 1, value)


def encode_header(name: str, size: int, *, directory: bool = False) -> bytes:
    """The 512-byte header docs/format.md specifies for a part, a member or the folder."""
    raw_name = name.encode("ascii")
    if not 0 < len(raw_name) <= 100 or not 0 <= size <= MAX_MEMBER_SIZE:
        raise ValueError("a name or size that the sealed-file tar cannot carry")
    header = bytearray(BLOCK)
    header[0:100] = raw_name.ljust(100, b"\x00")
    header[100:108] = _octal(DIRECTORY_MODE if directory else FILE_MODE, 8)
    header[108:116] = header[116:124] = _octal(0, 8)
    header[124:136] = _octal(0 if directory else size, 12)
    header[136:148] = _octal(0, 12)
    header[148:156] = b" " * 8
    header[156:157] = b"5" if directory else b"0"
    header[257:265] = _MAGIC
    header[148:156] = b"%06o\x00 " % sum(header)
    return bytes(header)


def decode_header(block: bytes, archive: str) -> tuple[str, int, bool]:
    """``(name, size, is a directory)`` of a header that :func:`encode_header` would write.

    Each check names what it found, the most telling first; the last one re-encodes the header
    and compares, so that no field can hold anything the writer would not put there.
    """
    raw_name = block[0:100].split(b"\x00", 1)[0]
    shown = raw_name[:100].decode("ascii", "replace")
    if not _CHECKSUM_RE.fullmatch(block[148:156]):
        raise bad(archive, "a header checksum that is not six octal digits")
    if int(block[148:154], 8) != sum(block[:148]) + 8 * 0x20 + sum(block[156:]):
        raise bad(archive, "a header checksum does not match")
    typeflag = block[156:157]
    if typeflag not in _TYPES:
        raise bad(
            archive,
            "unexpected member '{name}' of type {type} (links, devices, sparse, long-name and "
            "pax members are refused)",
            name=shown,
            type=repr(typeflag.decode("latin-1")),
        )
    if block[257:265] != _MAGIC:
        raise bad(archive, "a member header that is not ustar")
    if block[124] & 0x80:
        raise bad(archive, "'{name}' has a base-256 size", name=shown)
    if not _OCTAL_SIZE_RE.fullmatch(block[124:136]):
        raise bad(archive, "'{name}' has a malformed size", name=shown)
    if not _NAME_RE.fullmatch(raw_name):
        raise bad(archive, "unexpected member '{name}'", name=shown)
    name, size, directory = raw_name.decode("ascii"), int(block[124:135], 8), _TYPES[typeflag]
    if encode_header(name, size, directory=directory) != block:
        raise bad(
            archive, "the header of '{name}' is not the one docs/format.md specifies", name=name
        )
    return name, size, directory


def members(
    read: Read, start: int, end: int, archive: str, *, max_members: int, max_size: int
) -> Iterator[Member]:
    """The members of the archive that fills bytes ``[start, end)``, checked as they come.

    The archive must end with exactly two zero blocks at ``end``; every member's content, and
    the zero padding after it, must lie before them. A member larger than ``max_size`` is
    refused before anything of it is read.
    """
    position, count = start, 0
    while True:
        if end - position < BLOCK:
            raise bad(archive, "it is truncated")
        block = read(position, BLOCK)
        if len(block) != BLOCK:
            raise bad(archive, "it is truncated")
        if block == END_OF_ARCHIVE[:BLOCK]:
            if end - position != len(END_OF_ARCHIVE) or read(position + BLOCK, BLOCK) != bytes(
                BLOCK
            ):
                raise bad(archive, "something other than the end follows the end marker")
            return
        name, size, directory = decode_header(block, archive)
        if size > max_size:
            raise bad(archive, "'{name}' is larger than any valid part", name=name)
        content = position + BLOCK
        following = content + padded(size)
        if following + len(END_OF_ARCHIVE) > end:
            raise bad(archive, "'{name}' runs past the end of the archive", name=name)
        if size % BLOCK and read(content + size, BLOCK - size % BLOCK) != bytes(
            BLOCK - size % BLOCK
        ):
            raise bad(archive, "the padding after '{name}' is not zero", name=name)
        count += 1
        if count > max_members:
            raise bad(archive, "it has more members than any sealed file")
        yield Member(name, directory, content, size)
        position = following
