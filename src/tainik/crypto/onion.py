"""Tor's v3 onion service keys and client-authorization keys, in the files tor reads.

- An **onion service key** is an ed25519 key. Tor keeps it in ``hs_ed25519_secret_key``: a
  32-byte header (``== ed25519v1-secret: type0 ==`` padded with NULs) and the 64-byte
  *expanded* secret key (SHA-512 of the seed, the first half clamped, as ed25519 signs
  with). The address is ``base32(PUBKEY | CHECKSUM | VERSION) + ".onion"``, with
  ``CHECKSUM = SHA3-256(".onion checksum" | PUBKEY | VERSION)[:2]`` and ``VERSION = 3``
  (tor's rend-spec-v3, section 6). We make the key ourselves so that the address is known
  before tor first runs (``tainik onion show``, the staff's client-auth lines).
- A **client-authorization key** is an X25519 key pair. The service's tor holds the public
  half in ``authorized_clients/NAME.auth`` (``descriptor:x25519:PUB``); the staff member's
  Tor Browser holds the private half as one ``.auth_private`` line
  (``ADDRESS-WITHOUT-.onion:descriptor:x25519:PRIV``). Both halves are unpadded base32.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tainik.core.errors import N_, IntegrityError

SECRET_HEADER = b"== ed25519v1-secret: type0 ==".ljust(32, b"\0")
PUBLIC_HEADER = b"== ed25519v1-public: type0 ==".ljust(32, b"\0")
VERSION = b"\x03"
_ADDRESS = re.compile(r"[a-z2-7]{56}\.onion")
_RAW = serialization.Encoding.Raw


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def onion_address(public_key: bytes) -> str:
    """The v3 onion address (with ``.onion``) of an ed25519 public key."""
    checksum = hashlib.sha3_256(b".onion checksum" + public_key + VERSION).digest()[:2]
    return _b32(public_key + checksum + VERSION).lower() + ".onion"


@dataclass(frozen=True)
class OnionServiceKey:
    """A v3 onion service's key as tor stores it (the expanded secret and the public key)."""

    expanded_secret: bytes
    public_key: bytes

    @classmethod
    def generate(cls) -> OnionServiceKey:
        """A new random key."""
        seed = os.urandom(32)
        digest = bytearray(hashlib.sha512(seed).digest())
        digest[0] &= 248
        digest[31] &= 127
        digest[31] |= 64
        public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        return cls(bytes(digest), public)

    @property
    def address(self) -> str:
        """The onion address, ``…\u200b.onion``."""
        return onion_address(self.public_key)

    def secret_file(self) -> bytes:
        """The bytes of ``hs_ed25519_secret_key``."""
        return SECRET_HEADER + self.expanded_secret

    def public_file(self) -> bytes:
        """The bytes of ``hs_ed25519_public_key``."""
        return PUBLIC_HEADER + self.public_key


def address_from_public_file(data: bytes) -> str:
    """The onion address held by an ``hs_ed25519_public_key`` file's bytes."""
    if len(data) != 64 or not data.startswith(PUBLIC_HEADER):
        raise IntegrityError(N_("The onion service's public key file is damaged"))
    return onion_address(data[32:])


def is_onion_address(text: str) -> bool:
    """Whether ``text`` is a v3 onion address (lower case, with ``.onion``)."""
    return _ADDRESS.fullmatch(text) is not None


@dataclass(frozen=True)
class ClientAuthKey:
    """One staff member's client-authorization key pair (base32 halves)."""

    private: str
    public: str

    @classmethod
    def generate(cls) -> ClientAuthKey:
        """A new random X25519 key pair."""
        key = X25519PrivateKey.generate()
        private = key.private_bytes(
            _RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        public = key.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)
        return cls(_b32(private), _b32(public))

    def public_line(self) -> str:
        """What the service's tor reads from ``authorized_clients/NAME.auth``."""
        return f"descriptor:x25519:{self.public}"

    def private_line(self, address: str) -> str:
        """The ``.auth_private`` line a client's tor (or Tor Browser) needs for ``address``."""
        return f"{address.removesuffix('.onion')}:descriptor:x25519:{self.private}"
