"""The sender's resume state file (docs/protocol.md, "The sender's resume state"): its codec.

Format 3 (:class:`SendStateRecord`) holds the state's key, its owner mark and, per keyed
fingerprint, an upload id and whether it was delivered; nothing that describes a file.
:func:`parse_state` reads it strictly, and reads the formats before it (:class:`LegacyState`:
format 1, without owner, and format 2, which held each file's path, size, time and hashes)
only so far as to take their upload ids over; :mod:`tainik.sender.state` rewrites them as
format 3 at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from tainik.core.jsonfields import Fields, JsonObject

VERSION = 3
_HEX32 = re.compile(r"[0-9a-f]{32}")
# A sealed-file id (format 1 and 2 states were not checked: what they held is kept).
_UPLOAD_ID = re.compile(r"[0-9a-z]{1,64}")


@dataclass(frozen=True, slots=True)
class StateItem:
    """One file or message: its upload, and whether the server has committed it."""

    id: str
    done: bool = False

    def to_json(self) -> JsonObject:
        """The entry as stored."""
        return {"id": self.id, "done": self.done}


@dataclass(frozen=True, slots=True)
class SendStateRecord:
    """A resume state of format 3."""

    key: bytes  # 32 random bytes, for the fingerprints
    owner: str | None  # 32 hex digits: the codename's owner mark
    items: dict[str, StateItem] = field(default_factory=dict)  # fingerprint → item
    unconfirmed: bool = False  # a new codename whose first upload is not yet accepted

    def to_json(self) -> JsonObject:
        """The record as JSON data (items in fingerprint order; ``unconfirmed`` only when
        true)."""
        value: JsonObject = {
            "v": VERSION,
            "owner": self.owner,
            "key": self.key.hex(),
            "items": {fp: item.to_json() for fp, item in sorted(self.items.items())},
        }
        if self.unconfirmed:
            value["unconfirmed"] = True
        return value

    def encode(self) -> bytes:
        """The file's bytes."""
        return json.dumps(self.to_json(), indent=1).encode("utf-8")

    @classmethod
    def from_fields(cls, f: Fields) -> SendStateRecord:
        """The fields of a format-3 state (``v`` already read)."""
        owner = f.optional_text("owner")
        if owner is not None and not _HEX32.fullmatch(owner):
            raise f.invalid("owner", "32 hexadecimal digits")
        key = bytes.fromhex(f.hex("key", 64))
        items: dict[str, StateItem] = {}
        with f.nested("items") as entries:
            for fp in entries.names():
                with entries.nested(fp) as entry:
                    upload = entry.text("id")
                    if not _UPLOAD_ID.fullmatch(upload):
                        raise entry.invalid("id", "an upload id")
                    items[fp] = StateItem(upload, entry.boolean("done"))
        unconfirmed = f.boolean("unconfirmed") if f.has("unconfirmed") else False
        return cls(key, owner, items, unconfirmed)


@dataclass(frozen=True, slots=True)
class LegacyEntry:
    """An entry of a format 1 or 2 state: keyed by a file's absolute path (with its size and
    time), or by ``message:`` and the message's SHA-256."""

    key: str
    id: str
    done: bool
    size: int | None
    mtime_ns: int | None


@dataclass(frozen=True, slots=True)
class LegacyState:
    """A state of format 1 or 2, read only to take its upload ids over."""

    owner: str | None
    entries: tuple[LegacyEntry, ...]


def parse_state(value: object, record: str) -> SendStateRecord | LegacyState:
    """A state file's JSON value: format 3 strictly, or an earlier one."""
    with Fields(value, record) as f:
        version = f.integer("v") if f.has("v") else 1
        if version == VERSION:
            return SendStateRecord.from_fields(f)
        if version not in (1, 2):
            raise f.invalid("v", "1, 2 or 3")
        owner = f.optional_text("owner") if f.has("owner") else None
        with f.nested("files") as files:
            entries = tuple(_legacy(files, key) for key in files.names())
        return LegacyState(owner, tuple(e for e in entries if e is not None))


def _legacy(files: Fields, key: str) -> LegacyEntry | None:
    """An entry of an earlier format: its upload id and what identifies its file (the rest,
    hashes that resuming now takes from the server, is passed over; an entry that cannot be
    taken over is dropped, and its file is read again)."""
    with files.nested(key) as entry:
        fields = {name: entry.raw(name) for name in entry.names()}
    upload, done = fields.get("id"), fields.get("done", False)
    size, mtime_ns = fields.get("size"), fields.get("mtime_ns")
    if not isinstance(upload, str) or not isinstance(done, bool):
        return None
    if key.startswith("message:"):
        digest = key.removeprefix("message:")
        if len(digest) != 64 or digest.strip("0123456789abcdef"):
            return None
        return LegacyEntry(key, upload, done, None, None)
    if type(size) is not int or type(mtime_ns) is not int:
        return None
    return LegacyEntry(key, upload, done, size, mtime_ns)
