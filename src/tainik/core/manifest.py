"""The sealed-file manifest: its data type and canonical text encoding (docs/format.md)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from enum import StrEnum

from tainik.core.errors import N_, FormatError
from tainik.core.segments import MAX_LENGTH, SegmentPlan, check_segment_size

VERSION_LINE = "tainik.org/sealed/v1"
MAX_NAME_BYTES = 65_536
MAX_MANIFEST_CIPHERTEXT = 64 * 1024 * 1024

_ID_RE = re.compile(r"[a-z2-7]{26}")
_HEX64_RE = re.compile(r"[0-9a-f]{64}")
_DECIMAL_RE = re.compile(r"0|[1-9][0-9]{0,15}")
_B64_RE = re.compile(r"[A-Za-z0-9+/]*")


class Kind(StrEnum):
    """What the plaintext of a sealed file is."""

    FILE = "file"
    MESSAGE = "message"
    REPLY = "reply"


def encode_id(raw: bytes) -> str:
    """The manifest ``id`` for 16 random bytes: lowercase base32, no padding."""
    if len(raw) != 16:
        raise ValueError("a sealed-file id is 16 bytes")
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def is_valid_id(text: str) -> bool:
    """True when ``text`` is a canonical sealed-file id."""
    if not _ID_RE.fullmatch(text):
        return False
    raw = base64.b32decode(text.upper() + "======")
    return encode_id(raw) == text


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    if not _B64_RE.fullmatch(text) or len(text) % 4 == 1:
        raise FormatError(N_("Manifest: the name is not canonical base64"))
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise FormatError(N_("Manifest: the name is not canonical base64")) from exc
    if _b64encode(raw) != text:
        raise FormatError(N_("Manifest: the name is not canonical base64"))
    return raw


@dataclass(frozen=True, slots=True)
class Manifest:
    """The decrypted manifest of a sealed file."""

    id: str
    kind: Kind
    name: bytes
    size: int
    segment_size: int
    sha256: bytes
    segment_hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not is_valid_id(self.id):
            raise FormatError(N_("Manifest: the id is not canonical"))
        if len(self.name) > MAX_NAME_BYTES:
            raise FormatError(N_("Manifest: the name is longer than 65,536 bytes"))
        check_segment_size(self.segment_size)
        if not 0 <= self.size <= MAX_LENGTH:
            raise FormatError(N_("Size {size} is out of range"), size=self.size)
        if len(self.sha256) != 32 or any(len(h) != 32 for h in self.segment_hashes):
            raise FormatError(N_("Manifest: a hash is not 32 bytes"))
        if len(self.segment_hashes) != self.plan.count:
            raise FormatError(
                N_("Manifest: {found} segment hashes for a size that needs {needed}"),
                found=len(self.segment_hashes),
                needed=self.plan.count,
            )

    @property
    def plan(self) -> SegmentPlan:
        """The segment layout this manifest describes."""
        return SegmentPlan(self.size, self.segment_size)

    def encode(self) -> bytes:
        """The canonical manifest plaintext."""
        lines = [
            VERSION_LINE,
            f"id {self.id}",
            f"kind {self.kind.value}",
            f"name {_b64encode(self.name)}",
            f"size {self.size}",
            f"segment-size {self.segment_size}",
            f"sha256 {self.sha256.hex()}",
            *(f"segment {h.hex()}" for h in self.segment_hashes),
            "end",
        ]
        return ("\n".join(lines) + "\n").encode("ascii")

    @classmethod
    def decode(cls, data: bytes) -> Manifest:
        """Parse a manifest plaintext, rejecting anything not canonical."""
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError as exc:
            raise FormatError(N_("Manifest: not ASCII text")) from exc
        if not text.endswith("\n"):
            raise FormatError(N_("Manifest: does not end with a line feed"))
        lines = text[:-1].split("\n")
        if lines[0] != VERSION_LINE:
            raise FormatError(
                N_("Manifest: unknown format version (expected {expected})"),
                expected=VERSION_LINE,
            )
        if len(lines) < 9 or lines[-1] != "end":
            raise FormatError(N_("Manifest: truncated (no final 'end' line)"))
        fields = iter(lines[1:7])
        ident = _field(next(fields), "id")
        kind_text = _field(next(fields), "kind")
        name_text = _field(next(fields), "name")
        size = _decimal(_field(next(fields), "size"), "size")
        segment_size = _decimal(_field(next(fields), "segment-size"), "segment-size")
        whole = _hex64(_field(next(fields), "sha256"), "sha256")
        if not is_valid_id(ident):
            raise FormatError(N_("Manifest: the id is not canonical"))
        try:
            kind = Kind(kind_text)
        except ValueError as exc:
            raise FormatError(N_("Manifest: unknown kind")) from exc
        hashes = tuple(_hex64(_field(line, "segment"), "segment") for line in lines[7:-1])
        manifest = cls(
            id=ident,
            kind=kind,
            name=_b64decode(name_text),
            size=size,
            segment_size=segment_size,
            sha256=whole,
            segment_hashes=hashes,
        )
        if manifest.encode() != data:  # the last word on canonical form
            raise FormatError(N_("Manifest: not in canonical form"))
        return manifest


def _field(line: str, keyword: str) -> str:
    prefix = keyword + " "
    if not line.startswith(prefix):
        raise FormatError(N_("Manifest: expected the '{keyword}' line"), keyword=keyword)
    return line[len(prefix) :]


def _decimal(text: str, keyword: str) -> int:
    if not _DECIMAL_RE.fullmatch(text):
        raise FormatError(N_("Manifest: '{keyword}' is not a canonical number"), keyword=keyword)
    return int(text)


def _hex64(text: str, keyword: str) -> bytes:
    if not _HEX64_RE.fullmatch(text):
        raise FormatError(N_("Manifest: '{keyword}' is not a lowercase SHA-256"), keyword=keyword)
    return bytes.fromhex(text)
