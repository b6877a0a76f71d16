"""The two login factors of staff: an Argon2id-hashed password and a TOTP code (RFC 6238).

Passwords are hashed with argon2-cffi's PasswordHasher at the instance's Argon2id cost (the same
``kdf_*`` settings as codenames); TOTP is pyotp's, with 30-second steps, 6 digits, SHA-1, as
every authenticator app expects. Nothing here touches the database.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO, StringIO

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tainik.crypto import KdfParams, Secret
from tainik.service.newsroom.errors import AccountNameError

ISSUER = "Tainik"
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
# A step before and after the current one: clocks of phones drift.
TOTP_WINDOW = 1
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_CODE = re.compile(r"[0-9]{6}")


def hasher(kdf: KdfParams) -> PasswordHasher:
    """An Argon2id password hasher at the instance's cost."""
    return PasswordHasher(
        time_cost=kdf.time_cost, memory_cost=kdf.memory_kib, parallelism=kdf.parallelism
    )


def hash_password(kdf: KdfParams, password: Secret) -> str:
    """The PHC string to store."""
    return hasher(kdf).hash(password.reveal())


def verify_password(kdf: KdfParams, stored: str, password: Secret) -> bool:
    """Whether ``password`` matches ``stored`` (constant time inside argon2)."""
    try:
        return hasher(kdf).verify(stored, password.reveal())
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def dummy_hash(kdf: KdfParams) -> str:
    """A hash to verify against for unknown accounts, so that they take as long."""
    return hash_password(kdf, Secret(secrets.token_urlsafe(16)))


def one_time_password() -> Secret:
    """A random first password: 20 base32 characters (100 bits) in groups of five."""
    text = base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()
    return Secret("-".join(text[i : i + 5] for i in range(0, len(text), 5)))


def check_name(name: str) -> str:
    """The account name, lowercased, or :class:`AccountNameError`."""
    normal = name.strip().lower()
    if not _NAME.fullmatch(normal):
        raise AccountNameError()
    return normal


def new_totp_secret() -> Secret:
    """A fresh TOTP secret: 160 random bits in base32, as RFC 4226 recommends."""
    return Secret(pyotp.random_base32())


def totp_step(secret: Secret, code: str, now: datetime) -> int | None:
    """The time step ``code`` is valid for, within the window around ``now``; else None."""
    code = code.strip().replace(" ", "")
    if not _CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret.reveal())
    current = totp.timecode(now)
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


@dataclass(frozen=True)
class Provisioning:
    """What a new staff member's authenticator app needs, shown once."""

    name: str
    secret: Secret

    @property
    def uri(self) -> Secret:
        """The ``otpauth://totp/...`` URI for authenticator apps (a secret: it holds the key)."""
        return Secret(
            pyotp.TOTP(self.secret.reveal()).provisioning_uri(name=self.name, issuer_name=ISSUER)
        )

    def terminal_qr(self) -> str:
        """The URI as a QR code drawn with block characters, for a terminal."""
        out = StringIO()
        segno.make(self.uri.reveal(), error="m").terminal(out=out, compact=True)
        return out.getvalue()

    def svg_qr(self) -> str:
        """The URI as an inline SVG element (no script, no style: fits the pages' CSP)."""
        out = BytesIO()
        segno.make(self.uri.reveal(), error="m").save(
            out, kind="svg", xmldecl=False, svgns=True, scale=5, nl=False, light="white"
        )
        return out.getvalue().decode("ascii")
