"""The sender's resume state: which local file became which upload, and what is done.

Kept in a JSON file beside the path the user chose. It holds no plaintext and no key: paths,
sizes, modification times, sealed-file ids and plaintext hashes of segments (hashes of the
user's own files, on the user's own disk), and the *owner*: a hash of the codename, so that the
state of one codename is never taken for another's. Without it a state file left beside a new
codename would report files as "sent by an earlier run" that this source never sent.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tainik.core.codename import normalize
from tainik.core.errors import N_, UsageError
from tainik.crypto import Secret
from tainik.sealed import durable

VERSION = 2


def owner_of(codename: Secret) -> str:
    """The owner mark of a codename's state: a domain-separated SHA-256 (a 90-bit secret
    cannot be recovered from it, and it names nothing the server knows)."""
    canonical = normalize(codename.reveal()).encode("utf-8")  # however the file spells it
    digest = hashlib.sha256(b"tainik send state owner\x00" + canonical)
    return digest.hexdigest()[:32]


@dataclass
class SendState:
    """What earlier runs did."""

    path: Path
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    owner: str | None = None
    # True from getting a new codename until its first upload was accepted: until then the
    # server knows nothing of the codename (it stores a source only once it sends something).
    unconfirmed: bool = False

    @classmethod
    def load(cls, path: Path) -> SendState:
        """Read the state file, or start empty."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as exc:
            raise UsageError(
                N_("{path}: the resume state is unreadable ({reason}); move it away to start over"),
                path=str(path),
                reason=str(exc),
            ) from exc
        if not isinstance(raw, dict):
            raw = {}
        files, owner = raw.get("files", {}), raw.get("owner")
        return cls(
            path,
            files if isinstance(files, dict) else {},
            owner if isinstance(owner, str) else None,
            raw.get("unconfirmed") is True,
        )

    def is_empty(self) -> bool:
        """True when no earlier run recorded anything here."""
        return not self.files and not self.unconfirmed

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

    def save(self) -> None:
        """Write atomically (temporary file, fsync, rename)."""
        record: dict[str, Any] = {"v": VERSION, "owner": self.owner, "files": self.files}
        if self.unconfirmed:
            record["unconfirmed"] = True
        durable.replace_file(self.path, json.dumps(record, indent=1).encode("utf-8"))

    def entry(self, key: str, size: int, mtime_ns: int) -> dict[str, Any] | None:
        """The record of a file if it is unchanged since it was recorded."""
        entry = self.files.get(key)
        if entry and entry.get("size") == size and entry.get("mtime_ns") == mtime_ns:
            return entry
        return None
