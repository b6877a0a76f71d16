"""Ed25519 signatures for the workstation (the vault's custody log), over ``cryptography``.

age (tainik.crypto) encrypts and says nothing about who wrote; custody records need the
opposite: a statement anyone can check with a public key. Ed25519 (RFC 8032) is used as the
``cryptography`` package provides it; nothing here builds a primitive.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tainik.core.errors import N_, IdentityError

KEY_BYTES = 32
SIGNATURE_BYTES = 64
PUBLIC_PREFIX = "ed25519:"
PRIVATE_PREFIX = "TAINIK-VAULT-SIGNING-KEY-1 "


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str, size: int) -> bytes:
    """Canonical unpadded base64 of exactly ``size`` bytes, else ValueError."""
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64") from exc
    if len(raw) != size or _b64(raw) != text:
        raise ValueError("not canonical")
    return raw


class VerifyKey:
    """An Ed25519 public key: checks signatures. Text form ``ed25519:BASE64``."""

    __slots__ = ("_native", "raw")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != KEY_BYTES:
            raise ValueError("an Ed25519 public key is 32 bytes")
        self.raw = raw
        self._native = Ed25519PublicKey.from_public_bytes(raw)

    @classmethod
    def parse(cls, text: str) -> VerifyKey:
        """Parse ``ed25519:BASE64`` (canonical, unpadded)."""
        text = text.strip()
        if not text.startswith(PUBLIC_PREFIX):
            raise IdentityError(N_("'{text}' is not a vault public key"), text=text[:80])
        try:
            return cls(_unb64(text.removeprefix(PUBLIC_PREFIX), KEY_BYTES))
        except ValueError as exc:
            raise IdentityError(N_("'{text}' is not a vault public key"), text=text[:80]) from exc

    @property
    def text(self) -> str:
        """``ed25519:BASE64``."""
        return PUBLIC_PREFIX + _b64(self.raw)

    @property
    def fingerprint(self) -> str:
        """``SHA256:BASE64`` of the raw key, the form to write down and compare by eye."""
        return "SHA256:" + _b64(hashlib.sha256(self.raw).digest())

    def verify(self, signature: bytes, message: bytes) -> bool:
        """Whether ``signature`` is this key's signature of ``message``."""
        if len(signature) != SIGNATURE_BYTES:
            return False
        try:
            self._native.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"VerifyKey({self.text!r})"


class SigningKey:
    """An Ed25519 private key. Its repr shows only the public key."""

    __slots__ = ("_native",)

    def __init__(self, seed: bytes) -> None:
        if len(seed) != KEY_BYTES:
            raise ValueError("an Ed25519 private key is 32 bytes")
        self._native = Ed25519PrivateKey.from_private_bytes(seed)

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh key from the operating system's CSPRNG."""
        native = Ed25519PrivateKey.generate()
        return cls(
            native.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        )

    @property
    def verify_key(self) -> VerifyKey:
        """The matching public key."""
        return VerifyKey(
            self._native.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        )

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return self._native.sign(message)

    def to_text(self) -> str:
        """``TAINIK-VAULT-SIGNING-KEY-1 BASE64`` and a newline: the key file's plaintext."""
        seed = self._native.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return PRIVATE_PREFIX + _b64(seed) + "\n"

    @classmethod
    def from_text(cls, text: str) -> SigningKey:
        """Parse what :meth:`to_text` wrote."""
        line = text.strip()
        if not line.startswith(PRIVATE_PREFIX.strip()):
            raise IdentityError(N_("The vault key file holds no vault signing key"))
        try:
            return cls(_unb64(line[len(PRIVATE_PREFIX) :].strip(), KEY_BYTES))
        except ValueError as exc:
            raise IdentityError(N_("The vault key file holds no vault signing key")) from exc

    def __repr__(self) -> str:
        return f"SigningKey(public={self.verify_key.text!r})"
