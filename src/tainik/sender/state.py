"""The sender's resume state: which local file became which upload, and what is done.

Kept in a JSON file beside the path the user chose. It holds no plaintext and no key: paths,
sizes, modification times, sealed-file ids and plaintext hashes of segments (hashes of the
user's own files, on the user's own disk).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tainik.core.errors import N_, UsageError


@dataclass
class SendState:
    """What earlier runs did."""

    path: Path
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

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
        files = raw.get("files", {}) if isinstance(raw, dict) else {}
        return cls(path, files if isinstance(files, dict) else {})

    def save(self) -> None:
        """Write atomically (temporary file, fsync, rename)."""
        temp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}")
        data = json.dumps({"v": 1, "files": self.files}, indent=1).encode("utf-8")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, self.path)

    def entry(self, key: str, size: int, mtime_ns: int) -> dict[str, Any] | None:
        """The record of a file if it is unchanged since it was recorded."""
        entry = self.files.get(key)
        if entry and entry.get("size") == size and entry.get("mtime_ns") == mtime_ns:
            return entry
        return None
