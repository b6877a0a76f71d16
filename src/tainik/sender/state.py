"""The sender's resume state: which upload each local file became, and what is done.

Kept in a JSON file beside the codename (or where ``--state`` says). A source's disk may be
seized, so the state keeps only what resuming needs and nothing that describes the leak
(docs/protocol.md, "The sender's resume state"):

- ``key``: 32 random bytes made with the state, for the fingerprints below;
- ``owner``: a hash of the codename, so that the state of one codename is never taken for
  another's (a state left beside a new codename would otherwise report files as "sent by an
  earlier run" that this source never sent);
- ``items``: for each file or message, a *fingerprint* (HMAC-SHA-256 under ``key`` of what
  identifies it locally: a file's absolute path, size and modification time; a message's
  SHA-256), its upload id (16 random bytes, chosen here) and whether it was delivered.

No path, name, size, time or content hash is stored. The segment hashes a resume needs come
back from the server, in the note the source encrypted to itself (docs/protocol.md).
A state of format 2 (which held paths, sizes, times and every hash) is rewritten in this form
when it is loaded.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from tainik.core.codename import normalize
from tainik.core.errors import N_, UsageError
from tainik.core.jsonfields import RecordError, load_json, reason_of
from tainik.core.send_state import (
    VERSION,
    LegacyEntry,
    LegacyState,
    SendStateRecord,
    StateItem,
    parse_state,
)
from tainik.crypto import Secret
from tainik.sealed import durable

__all__ = ["VERSION", "Item", "SendState", "owner_of"]


def owner_of(codename: Secret) -> str:
    """The owner mark of a codename's state: a domain-separated SHA-256 (a 90-bit secret
    cannot be recovered from it, and it names nothing the server knows)."""
    canonical = normalize(codename.reveal()).encode("utf-8")  # however the file spells it
    digest = hashlib.sha256(b"tainik send state owner\x00" + canonical)
    return digest.hexdigest()[:32]


@dataclass
class Item:
    """One file or message: its upload and whether the server has committed it."""

    id: str
    done: bool = False


@dataclass
class SendState:
    """What earlier runs did."""

    path: Path
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    items: dict[str, Item] = field(default_factory=dict)
    owner: str | None = None
    migrated: bool = False  # loaded from a format that said more: save soon
    # True from getting a new codename until its first upload was accepted: until then the
    # server knows nothing of the codename (it stores a source only once it sends something).
    unconfirmed: bool = False

    @classmethod
    def load(cls, path: Path) -> SendState:
        """Read the state file (:mod:`tainik.core.send_state`), or start empty."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            raise _unreadable(path, exc.strerror or str(exc)) from exc
        try:
            record = parse_state(load_json(data, str(path)), str(path))
        except RecordError as exc:
            raise _unreadable(path, reason_of(exc)) from exc
        if isinstance(record, LegacyState):
            state = cls(path, owner=record.owner)
            state._adopt(record.entries)
            return state
        return cls(
            path,
            key=record.key,
            items={fp: Item(item.id, item.done) for fp, item in record.items.items()},
            owner=record.owner,
            unconfirmed=record.unconfirmed,
        )

    def _adopt(self, entries: tuple[LegacyEntry, ...]) -> None:
        """Take over the entries of a format 1 or 2 state, keeping only id and done."""
        for entry in entries:
            if entry.size is None or entry.mtime_ns is None:  # a message
                digest = bytes.fromhex(entry.key.removeprefix("message:"))
                fp = self._fingerprint(b"message", digest)
            else:
                fp = self._file_fingerprint(entry.key, entry.size, entry.mtime_ns)
            self.items[fp] = Item(entry.id, entry.done)
        self.migrated = True

    def is_empty(self) -> bool:
        """True when no earlier run recorded anything here."""
        return not self.items and not self.unconfirmed

    def claim(self, codename: Secret) -> None:
        """Bind this state to ``codename``; refuse a state that belongs to another one.

        A state written before owners were recorded (format 1) is adopted by the first
        codename that uses it, as it was before."""
        owner = owner_of(codename)
        if self.owner is not None and self.owner != owner:
            raise UsageError(
                N_(
                    "{path} holds the resume state of another codename; give this one its own "
                    "--state file (keep that one: it is needed to resume the other codename's "
                    "uploads)"
                ),
                path=str(self.path),
            )
        self.owner = owner
        if self.migrated:
            self.save()  # the old form described the files: do not leave it a moment longer

    def save(self) -> None:
        """Write atomically (temporary file, fsync, rename)."""
        record = SendStateRecord(
            key=self.key,
            owner=self.owner,
            items={fp: StateItem(item.id, item.done) for fp, item in self.items.items()},
            unconfirmed=self.unconfirmed,
        )
        durable.replace_file(self.path, record.encode())
        self.migrated = False

    def forget(self) -> None:
        """Delete the state file (once everything is delivered)."""
        self.path.unlink(missing_ok=True)
        self.items.clear()

    def _fingerprint(self, kind: bytes, data: bytes) -> str:
        return hmac.new(self.key, kind + b"\x00" + data, hashlib.sha256).hexdigest()[:32]

    def _file_fingerprint(self, path: str, size: int, mtime_ns: int) -> str:
        return self._fingerprint(b"file", os.fsencode(path) + f"\x00{size}\x00{mtime_ns}".encode())

    def file_fingerprint(self, path: Path, stat: os.stat_result) -> str:
        """The fingerprint of a file as it is now (another, once it is moved or changed)."""
        return self._file_fingerprint(str(path.resolve()), stat.st_size, stat.st_mtime_ns)

    def message_fingerprint(self, text: str) -> str:
        """The fingerprint of a message."""
        return self._fingerprint(b"message", hashlib.sha256(text.encode("utf-8")).digest())

    def undelivered(self) -> int:
        """How many recorded items the server has not committed yet."""
        return sum(not item.done for item in self.items.values())


def _unreadable(path: Path, reason: str) -> UsageError:
    return UsageError(
        N_("{path}: the resume state is unreadable ({reason}); move it away to start over"),
        path=str(path),
        reason=reason,
    )
