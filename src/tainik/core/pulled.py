"""The pulled folder's records (docs/workstation.md, "The pulled folder"): one codec each, for
the writers and the reader alike.

- :class:`Sidecar` (``ID.json``): which source sent a sealed file. ``tainik pull`` writes it
  beside each download, with facts about the download (:class:`DownloadFacts`); the newsroom
  puts the same record, without them, before each sealed file of a tar downloaded from its
  pages, so that ``vault import`` files a hand-downloaded tar in its source's thread as it does
  a pulled one. ``vault import`` parses both with :meth:`Sidecar.decode`.
- :class:`FolderClaim` (``pull.json``): which server a pulled folder holds.
- :class:`SourceRecord` (``sources/ID/source.json``): the source's pseudonym, for people.

A sidecar is the server's claim, read on the offline workstation: :meth:`Sidecar.parse` is
strict (every field of its type, no control characters in texts, no unknown field). It keeps
times as the text read (checked by the one UTC reader), so a record encodes back to the
bytes it came from and a vault records the server's time as the server wrote it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from tainik.core.jsonfields import Fields, JsonObject, load_json
from tainik.core.manifest import is_valid_id
from tainik.core.timestamps import format_utc, parse_utc

FORMAT = "tainik.org/pulled/v1"
KINDS = ("message", "file", "reply")
# Texts of the server's (its address, a designation): no control characters, at most 200.
_TEXT = re.compile(r"[^\x00-\x1f\x7f]{1,200}")
_SOURCE_ID = re.compile(r"(0|[1-9][0-9]{0,17})")


def api_time(moment: datetime) -> str:
    """A time as the API and the pulled records write it: the one UTC spelling."""
    return format_utc(moment)


def _label(f: Fields, name: str) -> str:
    value = f.text(name)
    if not _TEXT.fullmatch(value):
        raise f.invalid(name, "1 to 200 characters, no control characters")
    return value


def _utc_text(f: Fields, name: str, value: str) -> str:
    try:
        parse_utc(value)
    except ValueError as exc:
        raise f.invalid(name, "a UTC time like 2026-12-06T04:57:03.250017Z") from exc
    return value


def _source_id(f: Fields, name: str) -> str:
    """A source id: canonical decimal text (an integer in records of early versions)."""
    value = f.raw(name)
    text = str(value) if type(value) is int else value
    if not isinstance(text, str) or not _SOURCE_ID.fullmatch(text):
        raise f.invalid(name, "a decimal source id")
    return text


def _dumps(value: JsonObject) -> bytes:
    """A record as its file holds it: UTF-8 JSON, two-space indent, a final newline."""
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass(frozen=True, slots=True)
class SourceLink:
    """What ties a sealed file to its source on one newsroom: the server's claim, which decides
    only where the vault files the item, never what it holds."""

    server: str  # the newsroom's address, as the workstation reached it
    source_id: str  # the source's number on that newsroom (not an identity)
    designation: str
    sealed_id: str
    kind: str  # "message", "file" or "reply"
    created_at: str | None  # the server's time of receipt, as the API lists it
    order: int | None = None  # the item's number on the server: an order among equal times

    def to_json(self) -> JsonObject:
        """The link's fields, in the record's order."""
        return {
            "format": FORMAT,
            "server": self.server,
            "source": {"id": self.source_id, "designation": self.designation},
            "sealed_id": self.sealed_id,
            "kind": self.kind,
            "created_at": self.created_at,
            "order": self.order,
        }

    def encode(self) -> bytes:
        """The metadata file's bytes (a tar member): the same link gives the same bytes."""
        return Sidecar(self).encode()

    @classmethod
    def from_fields(cls, f: Fields) -> SourceLink:
        """The link's fields of a sidecar (``format`` included)."""
        f.constant("format", FORMAT)
        server = _label(f, "server")
        with f.nested("source") as source:
            source_id = _source_id(source, "id")
            designation = _label(source, "designation")
        sealed_id = f.text("sealed_id")
        if not is_valid_id(sealed_id):
            raise f.invalid("sealed_id", "a sealed-file id")
        kind = f.choice("kind", KINDS)
        # Both absent from the sidecars of early versions.
        created = f.optional_text("created_at") if f.has("created_at") else None
        order = f.optional_integer("order") if f.has("order") else None
        return cls(
            server=server,
            source_id=source_id,
            designation=designation,
            sealed_id=sealed_id,
            kind=kind,
            created_at=None if created is None else _utc_text(f, "created_at", created),
            order=order,
        )


@dataclass(frozen=True, slots=True)
class DownloadFacts:
    """What ``tainik pull`` adds about its download, for the record."""

    tar_size: int
    tar_sha256: str
    etag: str
    pulled_at: str

    def to_json(self) -> JsonObject:
        """The facts' fields."""
        return {
            "tar_size": self.tar_size,
            "tar_sha256": self.tar_sha256,
            "etag": self.etag,
            "pulled_at": self.pulled_at,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> DownloadFacts:
        """The facts' fields of a sidecar."""
        size = f.integer("tar_size")
        if size < 0:
            raise f.invalid("tar_size", "a size in bytes")
        return cls(
            tar_size=size,
            tar_sha256=f.hex("tar_sha256", 64),
            etag=f.text("etag"),
            pulled_at=_utc_text(f, "pulled_at", f.text("pulled_at")),
        )


@dataclass(frozen=True, slots=True)
class Sidecar:
    """``ID.json``, or the metadata member before a sealed file in a newsroom tar."""

    link: SourceLink
    download: DownloadFacts | None = None

    def to_json(self) -> JsonObject:
        """The record as JSON data."""
        value = self.link.to_json()
        if self.download is not None:
            value.update(self.download.to_json())
        return value

    def encode(self) -> bytes:
        """The record's bytes."""
        return _dumps(self.to_json())

    @classmethod
    def parse(cls, value: object, record: str) -> Sidecar:
        """Check a sidecar strictly; ``record`` names it in errors."""
        with Fields(value, record) as f:
            link = SourceLink.from_fields(f)
            download = DownloadFacts.from_fields(f) if f.has("tar_size") else None
        return cls(link, download)

    @classmethod
    def decode(cls, data: bytes, record: str) -> Sidecar:
        """:meth:`parse` of a file's bytes."""
        return cls.parse(load_json(data, record), record)


@dataclass(frozen=True, slots=True)
class FolderClaim:
    """``pull.json``: the server whose files a pulled folder holds."""

    server: str

    def to_json(self) -> JsonObject:
        """The record as JSON data."""
        return {"format": FORMAT, "server": self.server}

    @classmethod
    def parse(cls, value: object, record: str) -> FolderClaim:
        """Read ``pull.json``."""
        with Fields(value, record) as f:
            f.constant("format", FORMAT)
            return cls(f.text("server"))


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """``sources/ID/source.json``: a source as the newsroom named it."""

    id: str
    designation: str
    created_at: str | None

    def to_json(self) -> JsonObject:
        """The record as JSON data."""
        return {"id": self.id, "designation": self.designation, "created_at": self.created_at}

    @classmethod
    def parse(cls, value: object, record: str) -> SourceRecord:
        """Read ``source.json``."""
        with Fields(value, record) as f:
            source_id = _source_id(f, "id")
            designation = _label(f, "designation")
            created = f.optional_text("created_at")
            return cls(
                source_id,
                designation,
                None if created is None else _utc_text(f, "created_at", created),
            )


__all__ = [
    "FORMAT",
    "DownloadFacts",
    "FolderClaim",
    "Sidecar",
    "SourceLink",
    "SourceRecord",
    "api_time",
]
