"""The newsroom API's objects (docs/api.md, "Objects"): one codec each, used by the server
that writes them (:mod:`tainik.server.newsroom.api`) and by ``tainik pull`` that reads them.

Each is a frozen dataclass with ``to_json`` and a strict ``parse`` (every field of its type,
no unknown field, errors naming the field). On the workstation's side the server is not
trusted: a parsed object holds only what the format allows, and a ``download`` path only one
under the API that cannot climb out of it. Times are the one UTC spelling
(:mod:`tainik.core.timestamps`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from tainik.core.jsonfields import Fields, Json, JsonObject
from tainik.core.manifest import is_valid_id
from tainik.core.timestamps import format_utc

PREFIX = "/api/v1"
SUBMISSION_KINDS = ("message", "file")
SCOPES = ("read", "full")
MAX_ID = 2**63 - 1
_TOKEN = re.compile(r"[A-Za-z0-9_-]{40,64}")
_DOWNLOAD = re.compile(r"/api/v1/(submissions|replies)/[0-9]{1,19}/download")


def _count(f: Fields, name: str) -> int:
    value = f.integer(name)
    if not 0 <= value <= MAX_ID:
        raise f.invalid(name, "a whole number from 0")
    return value


def _sealed_id(f: Fields) -> str:
    value = f.text("sealed_id")
    if not is_valid_id(value):
        raise f.invalid("sealed_id", "a sealed-file id")
    return value


def _download(f: Fields) -> str:
    value = f.text("download")
    if not _DOWNLOAD.fullmatch(value):
        raise f.invalid("download", "a download path under /api/v1")
    return value


def _designation(f: Fields) -> str:
    value = f.text("designation")
    if not 0 < len(value) <= 200:
        raise f.invalid("designation", "1 to 200 characters")
    return value


@dataclass(frozen=True, slots=True)
class SourceObject:
    """A source (``GET /sources``, ``GET /sources/ID``)."""

    id: int
    designation: str
    created_at: datetime
    last_activity: datetime
    starred: bool
    submissions: int
    replies: int
    unread: int  # submissions and replies the token's staff member has not read
    uploading: int  # resumable uploads not yet complete

    def to_json(self) -> JsonObject:
        """The object as JSON data."""
        return {
            "id": self.id,
            "designation": self.designation,
            "created_at": format_utc(self.created_at),
            "last_activity": format_utc(self.last_activity),
            "starred": self.starred,
            "submissions": self.submissions,
            "replies": self.replies,
            "unread": self.unread,
            "uploading": self.uploading,
        }

    @classmethod
    def parse(cls, value: object, record: str) -> SourceObject:
        """Read a source strictly."""
        with Fields(value, record) as f:
            return cls(
                id=_count(f, "id"),
                designation=_designation(f),
                created_at=f.timestamp("created_at"),
                last_activity=f.timestamp("last_activity"),
                starred=f.boolean("starred"),
                submissions=_count(f, "submissions"),
                replies=_count(f, "replies"),
                unread=_count(f, "unread"),
                uploading=_count(f, "uploading"),
            )


@dataclass(frozen=True, slots=True)
class SubmissionObject:
    """A submission (``GET /submissions``)."""

    id: int
    source_id: int
    sealed_id: str
    kind: str  # "message" or "file": the uploading client's word
    size: int  # bytes of ciphertext
    created_at: datetime
    read: bool
    complete: bool  # false while it is still being uploaded
    download: str

    def to_json(self) -> JsonObject:
        """The object as JSON data."""
        return {
            "id": self.id,
            "source_id": self.source_id,
            "sealed_id": self.sealed_id,
            "kind": self.kind,
            "size": self.size,
            "created_at": format_utc(self.created_at),
            "read": self.read,
            "complete": self.complete,
            "download": self.download,
        }

    @classmethod
    def parse(cls, value: object, record: str) -> SubmissionObject:
        """Read a submission strictly."""
        with Fields(value, record) as f:
            return cls(
                id=_count(f, "id"),
                source_id=_count(f, "source_id"),
                sealed_id=_sealed_id(f),
                kind=f.choice("kind", SUBMISSION_KINDS),
                size=_count(f, "size"),
                created_at=f.timestamp("created_at"),
                read=f.boolean("read"),
                complete=f.boolean("complete"),
                download=_download(f),
            )


@dataclass(frozen=True, slots=True)
class ReplyObject:
    """A reply (``GET /replies``)."""

    id: int
    source_id: int
    sealed_id: str
    created_at: datetime
    author: str | None  # null once the author's account is deleted
    read: bool
    download: str

    def to_json(self) -> JsonObject:
        """The object as JSON data."""
        return {
            "id": self.id,
            "source_id": self.source_id,
            "sealed_id": self.sealed_id,
            "created_at": format_utc(self.created_at),
            "author": self.author,
            "read": self.read,
            "download": self.download,
        }

    @classmethod
    def parse(cls, value: object, record: str) -> ReplyObject:
        """Read a reply strictly."""
        with Fields(value, record) as f:
            return cls(
                id=_count(f, "id"),
                source_id=_count(f, "source_id"),
                sealed_id=_sealed_id(f),
                created_at=f.timestamp("created_at"),
                author=f.optional_text("author"),
                read=f.boolean("read"),
                download=_download(f),
            )


def download_path(kind: str, item_id: int) -> str:
    """The API path of a submission's (``kind`` "submission") or reply's download."""
    return f"{PREFIX}/{'replies' if kind == 'reply' else 'submissions'}/{item_id}/download"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing: its items (each read by its own codec) and the cursor of the
    next page, null on the last."""

    items: tuple[JsonObject, ...]
    next_cursor: str | None

    def to_json(self) -> JsonObject:
        """The page as JSON data."""
        items: list[Json] = list(self.items)
        return {"items": items, "next_cursor": self.next_cursor}

    @classmethod
    def parse(cls, value: object, record: str) -> Page:
        """Read a page's shape (its items are read by their codecs)."""
        with Fields(value, record) as f:
            items = f.objects("items", _opaque)
            cursor = f.optional_text("next_cursor")
        return cls(items, cursor or None)


def _opaque(f: Fields) -> JsonObject:
    """An item as it is, for its own codec (marks every field read)."""
    return {name: cast("Json", f.raw(name)) for name in f.names()}


@dataclass(frozen=True, slots=True)
class TokenObject:
    """A token the server issued (``POST /tokens``)."""

    token: str
    expires_at: datetime
    name: str
    is_admin: bool
    scope: str  # "read" or "full"

    def to_json(self) -> JsonObject:
        """The object as JSON data."""
        return {
            "token": self.token,
            "expires_at": format_utc(self.expires_at),
            "name": self.name,
            "is_admin": self.is_admin,
            "scope": self.scope,
        }

    @classmethod
    def parse(cls, value: object, record: str) -> TokenObject:
        """Read an issued token strictly."""
        with Fields(value, record) as f:
            token = f.text("token")
            if not _TOKEN.fullmatch(token):
                raise f.invalid("token", "40 to 64 letters, digits, - or _")
            return cls(
                token=token,
                expires_at=f.timestamp("expires_at"),
                name=f.text("name"),
                is_admin=f.boolean("is_admin"),
                scope=f.choice("scope", SCOPES),
            )
