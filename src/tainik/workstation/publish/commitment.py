"""The published commitment to the original: hiding until the organisation opens it.

A publication must tie the redacted copy to one specific original (for a court) without
letting anyone who holds candidate originals (the institution the footage came from, with its
own exports) test which copy it was. The bare SHA-256 of the original did the first and
failed the second. The manifest carries instead (docs/redaction.md, "What publication
commits to")::

    commitment = SHA-256( "tainik.org/commitment/v1" || LF || salt || original )

where ``salt`` is 32 bytes from the operating system's CSPRNG, drawn afresh for each
publication, and ``original`` is the 32-byte SHA-256 digest of the original file (the raw
digest, not its hexadecimal text). It is written as 64 lowercase hexadecimal characters.

The *opening* is the pair (salt, original SHA-256). It is kept only in the vault, in the
publication's custody record. Without the salt, testing a candidate copy means guessing 256
random bits; with the opening, anyone can recompute the commitment and see that it names that
original, and the original's own SHA-256 names the file.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, TypeGuard

SCHEME = "tainik.org/commitment/v1"
TAG = SCHEME.encode("ascii") + b"\n"
SALT_BYTES = 32
OPENING_FORMAT = "tainik.org/commitment-opening/v1"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def is_hex64(text: object) -> TypeGuard[str]:
    """64 lowercase hexadecimal characters."""
    return isinstance(text, str) and _HEX64.fullmatch(text) is not None


def commit(salt: bytes, original_sha256: str) -> str:
    """``hex(SHA-256(TAG || salt || original digest))``."""
    if len(salt) != SALT_BYTES or not is_hex64(original_sha256):
        raise ValueError("a commitment needs a 32-byte salt and a SHA-256 in lowercase hex")
    return hashlib.sha256(TAG + salt + bytes.fromhex(original_sha256)).hexdigest()


@dataclass(frozen=True)
class Opening:
    """What opens a commitment: the salt and the original's SHA-256 (lowercase hex)."""

    salt: bytes = field(repr=False)
    original_sha256: str

    @classmethod
    def new(cls, original_sha256: str) -> Opening:
        """A fresh salt for ``original_sha256``."""
        opening = cls(secrets.token_bytes(SALT_BYTES), original_sha256)
        opening.commitment()  # checks the hash's form
        return opening

    def commitment(self) -> str:
        """The commitment this opening opens."""
        return commit(self.salt, self.original_sha256)

    def opens(self, commitment: str) -> bool:
        """Whether this opening opens ``commitment`` (compared in constant time)."""
        try:
            mine = self.commitment()
        except ValueError:
            return False
        return hmac.compare_digest(mine, commitment)

    def to_json(self) -> dict[str, str]:
        """The opening as ``open-commitment`` prints it (and the custody record keeps it)."""
        return {
            "format": OPENING_FORMAT,
            "scheme": SCHEME,
            "commitment": self.commitment(),
            "salt": self.salt.hex(),
            "original_sha256": self.original_sha256,
        }

    @classmethod
    def from_json(cls, value: Any) -> Opening:
        """Parse an opening document; raises ValueError when it is not one.

        Its ``commitment`` member is for people; a verifier recomputes the commitment from the
        salt and hash and compares it with the published one, never with the document's."""
        if not isinstance(value, dict) or value.get("scheme") != SCHEME:
            raise ValueError(f"not a {SCHEME} opening")
        salt, original = value.get("salt"), value.get("original_sha256")
        if not is_hex64(salt) or not is_hex64(original):
            raise ValueError("the salt and the original's SHA-256 must be 64 lowercase hex digits")
        return cls(bytes.fromhex(salt), original)
