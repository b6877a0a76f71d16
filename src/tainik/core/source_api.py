"""The upload protocol's objects (docs/protocol.md, "The segment API"): one codec each, used
by the server that writes them (:mod:`tainik.service.uploads`, :mod:`tainik.server.source.api`)
and by ``tainik send`` that reads them.

- :class:`UploadObject`: ``UPLOAD``, an upload as the server holds it; :class:`UploadList`,
  ``{"uploads": [UPLOAD…]}``.
- :class:`SessionObject`: ``GET``/``POST /api/session``; :class:`NewCodename`,
  ``POST /api/sources``.
- :class:`ResumeNote`: the note a client encrypts to its own reply key when it creates an
  upload, and reads back to resume. The server cannot read it at rest and relays it, decrypted
  in memory, as an opaque JSON object (``UPLOAD``'s ``note``): it is the client's format, and
  only the client parses it.

Each is a frozen dataclass with ``to_json`` and a strict ``parse`` whose errors name the
field (:mod:`tainik.core.jsonfields`); times are the one UTC spelling.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import cast

from tainik.core.jsonfields import Fields, Json, JsonObject
from tainik.core.manifest import is_valid_id
from tainik.core.timestamps import format_utc
from tainik.core.upload import MAX_SEGMENTS

NOTE_VERSION = 1
NOTE_KINDS = ("file", "message")


def _upload_id(f: Fields) -> str:
    value = f.text("id")
    if not is_valid_id(value):
        raise f.invalid("id", "a sealed-file id")
    return value


@dataclass(frozen=True, slots=True)
class UploadObject:
    """``UPLOAD``: an upload as the protocol shows it."""

    id: str
    segments: int
    received: tuple[int, ...]  # the indexes the server holds, ascending
    manifest: bool
    note: JsonObject | None  # the resume note, decrypted in memory; null if it is not one
    expires: datetime

    def to_json(self) -> JsonObject:
        """The protocol's ``UPLOAD`` object."""
        received: list[Json] = list(self.received)
        return {
            "id": self.id,
            "segments": self.segments,
            "received": received,
            "manifest": self.manifest,
            "note": self.note,
            "expires": format_utc(self.expires),
        }

    @classmethod
    def parse(cls, value: object, record: str) -> UploadObject:
        """Read an ``UPLOAD`` strictly: ``received`` ascending and within ``segments``."""
        with Fields(value, record) as f:
            return cls.from_fields(f)

    @classmethod
    def from_fields(cls, f: Fields) -> UploadObject:
        """The fields of an ``UPLOAD`` (in a list, say)."""
        sealed_id = _upload_id(f)
        segments = f.integer("segments")
        if not 1 <= segments <= MAX_SEGMENTS:
            raise f.invalid("segments", f"1 to {MAX_SEGMENTS}")
        raw = f.raw("received")
        if (
            not isinstance(raw, list)
            or any(type(i) is not int or not 0 <= i < segments for i in raw)
            or any(a >= b for a, b in pairwise(raw))
        ):
            raise f.invalid("received", "segment indexes, ascending")
        manifest = f.boolean("manifest")
        note = f.optional_nested("note")
        opaque: JsonObject | None = None
        if note is not None:
            with note:
                opaque = {name: cast("Json", note.raw(name)) for name in note.names()}
        return cls(sealed_id, segments, tuple(raw), manifest, opaque, f.timestamp("expires"))


@dataclass(frozen=True, slots=True)
class UploadList:
    """``GET /api/uploads``: the source's unfinished uploads."""

    uploads: tuple[UploadObject, ...]

    def to_json(self) -> JsonObject:
        """The list as JSON data."""
        return {"uploads": [u.to_json() for u in self.uploads]}

    @classmethod
    def parse(cls, value: object, record: str) -> UploadList:
        """Read the list strictly."""
        with Fields(value, record) as f:
            return cls(f.objects("uploads", UploadObject.from_fields))


@dataclass(frozen=True, slots=True)
class SessionObject:
    """``GET`` or ``POST /api/session``: what a client needs to send."""

    csrf: str
    recipient: str | None  # the reply recipient; null for a new source not ready to send
    new: bool
    organisation: tuple[str, ...]  # the organisation's recipients
    segment_size: int
    max_upload_bytes: int

    def to_json(self) -> JsonObject:
        """The session as JSON data."""
        return {
            "csrf": self.csrf,
            "recipient": self.recipient,
            "new": self.new,
            "organisation": list(self.organisation),
            "segment_size": self.segment_size,
            "max_upload_bytes": self.max_upload_bytes,
        }

    @classmethod
    def parse(cls, value: object, record: str) -> SessionObject:
        """Read a session strictly."""
        with Fields(value, record) as f:
            csrf = f.text("csrf")
            recipient = f.optional_text("recipient")
            new = f.boolean("new")
            organisation = f.texts("organisation")
            if not organisation:
                raise f.invalid("organisation", "a list of the organisation's recipients")
            segment_size = f.integer("segment_size")
            if segment_size < 1:
                raise f.invalid("segment_size", "a size in bytes")
            limit = f.integer("max_upload_bytes")
            if limit < 0:
                raise f.invalid("max_upload_bytes", "a size in bytes")
            return cls(csrf, recipient, new, organisation, segment_size, limit)


@dataclass(frozen=True, slots=True)
class NewCodename:
    """``POST /api/sources``: a new codename (its session rides in the cookie)."""

    codename: str

    def to_json(self) -> JsonObject:
        """The answer as JSON data."""
        return {"codename": self.codename}

    @classmethod
    def parse(cls, value: object, record: str) -> NewCodename:
        """Read the answer strictly."""
        with Fields(value, record) as f:
            return cls(f.text("codename"))


@dataclass(frozen=True, slots=True)
class ResumeNote:
    """The resume note's plaintext (docs/protocol.md): what a client needs to go on with an
    upload after a reload or a re-run, and nothing the server may read."""

    name: str
    size: int
    segment_size: int
    sha256: str  # the whole plaintext's, hex
    segments: tuple[str, ...]  # each segment's SHA-256, hex
    kind: str = "file"  # "file" or "message"
    # A message's one segment sealed to the organisation, base64: the browser page's, so that
    # a reload before the segment arrived still sends it (docs/protocol.md).
    sealed: str | None = None

    def to_json(self) -> JsonObject:
        """The note as JSON data."""
        segments: list[Json] = list(self.segments)
        return {
            "v": NOTE_VERSION,
            "name": self.name,
            "size": self.size,
            "segment_size": self.segment_size,
            "sha256": self.sha256,
            "segments": segments,
            "kind": self.kind,
            **({} if self.sealed is None else {"sealed": self.sealed}),
        }

    def encode(self) -> bytes:
        """The note's bytes, before encryption (compact UTF-8 JSON)."""
        return json.dumps(self.to_json(), separators=(",", ":")).encode("utf-8")

    @classmethod
    def parse(cls, value: object, record: str) -> ResumeNote:
        """Read a note strictly (``kind`` absent from notes of early versions: a file)."""
        with Fields(value, record) as f:
            version = f.integer("v")
            if version != NOTE_VERSION:
                raise f.invalid("v", str(NOTE_VERSION))
            name = f.text("name")
            size = f.integer("size")
            segment_size = f.integer("segment_size")
            if size < 0 or segment_size < 1:
                raise f.invalid("size" if size < 0 else "segment_size", "a size in bytes")
            sha256 = f.hex("sha256", 64)
            segments = f.texts("segments")
            for index, digest in enumerate(segments):
                if len(digest) != 64 or digest.strip("0123456789abcdef"):
                    raise f.invalid(f"segments[{index}]", "64 lowercase hexadecimal digits")
            kind = f.choice("kind", NOTE_KINDS) if f.has("kind") else "file"
            sealed = f.text("sealed") if f.has("sealed") else None
            return cls(name, size, segment_size, sha256, segments, kind, sealed)
