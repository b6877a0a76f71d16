"""Custody records: who did what to which bytes, when; hash-chained and Ed25519-signed.

The normative description is docs/workstation.md, "Custody records". In short, a record's
*body* is a canonical JSON object (:mod:`.canonical`) with the fields ``v``, ``seq``, ``time``,
``actor``, ``action``, ``inputs``, ``outputs``, ``details`` and ``prev``; its signature is
Ed25519 over ``SIGNATURE_CONTEXT || body``; the stored *line* is the body with ``sig`` added;
the record's hash is SHA-256 of the line, and the next record's ``prev`` is that hash.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tainik.core.timestamps import format_utc
from tainik.workstation.signing import SIGNATURE_BYTES, SigningKey, VerifyKey
from tainik.workstation.vault import canonical
from tainik.workstation.vault.canonical import JsonObject, JsonValue, NotCanonical

VERSION = 1
SIGNATURE_CONTEXT = b"tainik.org/custody/v1\n"
HEAD_CONTEXT = b"tainik.org/custody/v1 head\n"
GENESIS_PREV = "0" * 64
BODY_FIELDS = frozenset(
    {"v", "seq", "time", "actor", "action", "inputs", "outputs", "details", "prev"}
)


class Action:
    """The actions a record can name."""

    INIT = "vault.init"
    IMPORT = "import"
    COPY = "copy"
    DERIVE = "derive"
    EXPORT = "export"
    ACQUIRE = "acquire"
    MIGRATE = "vault.migrate"  # the catalogue's schema upgraded (workstation/vault/upgrade.py)
    ALL = frozenset({INIT, IMPORT, COPY, DERIVE, EXPORT, ACQUIRE, MIGRATE})


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file as custody records name it: both hashes and the size."""

    sha256: str
    blake3: str
    size: int

    def to_json(self) -> JsonObject:
        """``{"blake3": …, "sha256": …, "size": …}``."""
        return {"sha256": self.sha256, "blake3": self.blake3, "size": self.size}

    @classmethod
    def from_json(cls, value: JsonValue) -> FileRef | None:
        """The reference in ``value``, or None when it is not a file reference."""
        if not isinstance(value, dict):
            return None
        sha, b3, size = value.get("sha256"), value.get("blake3"), value.get("size")
        if isinstance(sha, str) and isinstance(b3, str) and type(size) is int:
            return cls(sha, b3, size)
        return None


def format_time(moment: datetime) -> str:
    """UTC with microseconds and a ``Z``: ``2025-05-01T12:00:00.000000Z`` (the one spelling,
    :func:`tainik.core.timestamps.format_utc`)."""
    return format_utc(moment)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    if _b64(raw) != text:
        raise ValueError("not canonical base64")
    return raw


@dataclass(frozen=True, slots=True)
class CustodyRecord:
    """One signed record of the custody log."""

    seq: int
    time: str
    actor: str
    action: str
    inputs: tuple[JsonObject, ...]
    outputs: tuple[JsonObject, ...]
    details: JsonObject
    prev: str
    signature: bytes = field(default=b"", repr=False)

    def body(self) -> JsonObject:
        """The signed fields, as a JSON object."""
        return {
            "v": VERSION,
            "seq": self.seq,
            "time": self.time,
            "actor": self.actor,
            "action": self.action,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "details": self.details,
            "prev": self.prev,
        }

    def body_bytes(self) -> bytes:
        """The canonical body: what is signed (after :data:`SIGNATURE_CONTEXT`)."""
        return canonical.encode(self.body())

    def line(self) -> bytes:
        """The stored form: the body with ``sig`` (base64 of the signature) added."""
        whole = self.body()
        whole["sig"] = _b64(self.signature)
        return canonical.encode(whole)

    @property
    def hash(self) -> str:
        """``hex(SHA-256(line))``: what the next record's ``prev`` holds."""
        return hashlib.sha256(self.line()).hexdigest()

    def signed(self, key: SigningKey) -> CustodyRecord:
        """This record with its signature."""
        signature = key.sign(SIGNATURE_CONTEXT + self.body_bytes())
        return CustodyRecord(
            self.seq,
            self.time,
            self.actor,
            self.action,
            self.inputs,
            self.outputs,
            self.details,
            self.prev,
            signature,
        )

    def signature_valid(self, key: VerifyKey) -> bool:
        """Whether the signature is ``key``'s over this body."""
        return key.verify(self.signature, SIGNATURE_CONTEXT + self.body_bytes())

    def file_refs(self, which: Sequence[JsonObject]) -> list[FileRef]:
        """The file references among ``which`` (inputs or outputs)."""
        return [ref for ref in (FileRef.from_json(v) for v in which) if ref is not None]

    @classmethod
    def parse(cls, line: bytes) -> CustodyRecord:
        """Parse a stored line strictly; raises :class:`NotCanonical` on any deviation."""
        whole = canonical.decode_object(line)
        if set(whole) != BODY_FIELDS | {"sig"}:
            raise NotCanonical("unexpected or missing fields")
        sig = whole.pop("sig")
        v, seq = whole["v"], whole["seq"]
        time, actor, action, prev = whole["time"], whole["actor"], whole["action"], whole["prev"]
        inputs, outputs, details = whole["inputs"], whole["outputs"], whole["details"]
        if v != VERSION or type(seq) is not int or seq < 0:
            raise NotCanonical("bad version or sequence number")
        if not (
            isinstance(time, str)
            and isinstance(actor, str)
            and isinstance(action, str)
            and isinstance(prev, str)
            and isinstance(sig, str)
        ):
            raise NotCanonical("a text field is not text")
        if not isinstance(inputs, list) or not isinstance(outputs, list):
            raise NotCanonical("inputs and outputs must be arrays")
        if not all(isinstance(x, dict) for x in (*inputs, *outputs)):
            raise NotCanonical("inputs and outputs must hold objects")
        if not isinstance(details, dict):
            raise NotCanonical("details must be an object")
        try:
            signature = _unb64(sig)
        except (ValueError, binascii.Error) as exc:
            raise NotCanonical("the signature is not canonical base64") from exc
        if len(signature) != SIGNATURE_BYTES:
            raise NotCanonical("the signature is not 64 bytes")
        return cls(
            seq,
            time,
            actor,
            action,
            tuple(x for x in inputs if isinstance(x, dict)),
            tuple(x for x in outputs if isinstance(x, dict)),
            details,
            prev,
            signature,
        )


@dataclass(frozen=True, slots=True)
class Head:
    """The signed statement "the log has ``count`` records and the last one hashes to …"."""

    count: int
    hash: str
    signature: bytes = field(default=b"", repr=False)

    def body_bytes(self) -> bytes:
        """What is signed (after :data:`HEAD_CONTEXT`)."""
        return canonical.encode({"count": self.count, "hash": self.hash})

    def signed(self, key: SigningKey) -> Head:
        """This head with its signature."""
        return Head(self.count, self.hash, key.sign(HEAD_CONTEXT + self.body_bytes()))

    def signature_valid(self, key: VerifyKey) -> bool:
        """Whether the signature is ``key``'s."""
        return key.verify(self.signature, HEAD_CONTEXT + self.body_bytes())

    def encode(self) -> str:
        """The stored text."""
        return canonical.encode(
            {"count": self.count, "hash": self.hash, "sig": _b64(self.signature)}
        ).decode("ascii")

    @classmethod
    def decode(cls, text: str) -> Head:
        """Parse the stored text; raises :class:`NotCanonical`."""
        value = canonical.decode_object(text.encode("ascii", errors="replace"))
        count, digest, sig = value.get("count"), value.get("hash"), value.get("sig")
        if type(count) is not int or not isinstance(digest, str) or not isinstance(sig, str):
            raise NotCanonical("not a custody head")
        try:
            return cls(count, digest, _unb64(sig))
        except (ValueError, binascii.Error) as exc:
            raise NotCanonical("the head signature is not base64") from exc


def new_record(
    *,
    seq: int,
    prev: str,
    moment: datetime,
    actor: str,
    action: str,
    inputs: Sequence[JsonObject] = (),
    outputs: Sequence[JsonObject] = (),
    details: JsonObject | None = None,
) -> CustodyRecord:
    """An unsigned record; sign it with :meth:`CustodyRecord.signed`."""
    if action not in Action.ALL:
        raise ValueError(f"unknown custody action {action!r}")
    return CustodyRecord(
        seq=seq,
        time=format_time(moment),
        actor=actor,
        action=action,
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        details=dict(details or {}),
        prev=prev,
    )
