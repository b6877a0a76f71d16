"""All of Tainik's cryptography, over pyrage (the reference Rust age implementation).

This is the only module that imports pyrage (an import-linter contract enforces it). It adds
no primitive of its own: recipients, identities, passphrase-protected identity files and age
encryption are age's; the derivation of a source's keys from its codename is Argon2id
(argon2-cffi, docs/codenames.md). Keep it small enough to review in an afternoon.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO, ClassVar

import pyrage
from argon2.low_level import Type, hash_secret_raw
from pyrage import x25519

from tainik.core.codename import normalize
from tainik.core.errors import N_, IdentityError, IntegrityError, NotARecipientError, UsageError

IDENTITY_PREFIX = "AGE-SECRET-KEY-1"
RECIPIENT_PREFIX = "age1"
ENCRYPTED_IDENTITY_MARKER = "-----BEGIN AGE ENCRYPTED FILE-----"


class Secret:
    """A secret string whose repr never shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself; call only where it is used."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class Recipient:
    """An age X25519 recipient (a public key, ``age1…``)."""

    text: str

    @classmethod
    def parse(cls, text: str) -> Recipient:
        """Validate an ``age1…`` string."""
        text = text.strip()
        try:
            x25519.Recipient.from_str(text)
        except (pyrage.RecipientError, ValueError) as exc:
            raise UsageError(
                N_("'{text}' is not an age X25519 recipient (it should start with age1)"),
                text=text[:80],
            ) from exc
        return cls(text)

    def _native(self) -> x25519.Recipient:
        return x25519.Recipient.from_str(self.text)

    def __str__(self) -> str:
        return self.text


class Identity:
    """An age X25519 identity (a private key). Its repr hides the key."""

    __slots__ = ("_native", "_secret")

    def __init__(self, secret: Secret) -> None:
        try:
            self._native = x25519.Identity.from_str(secret.reveal())
        except (pyrage.IdentityError, ValueError) as exc:
            raise IdentityError(N_("the identity is not a valid age X25519 secret key")) from exc
        self._secret = secret

    @classmethod
    def generate(cls) -> Identity:
        """A fresh identity from the operating system's CSPRNG."""
        return cls(Secret(str(x25519.Identity.generate())))

    @classmethod
    def from_x25519_scalar(cls, scalar: bytes) -> Identity:
        """The identity whose secret key is the 32-byte ``scalar`` (e.g. from a KDF)."""
        if len(scalar) != 32:
            raise ValueError("an X25519 secret key is 32 bytes")
        return cls(Secret(_bech32_encode("age-secret-key-", scalar).upper()))

    @property
    def recipient(self) -> Recipient:
        """The public key matching this identity."""
        return Recipient(str(self._native.to_public()))

    @property
    def secret(self) -> Secret:
        """The ``AGE-SECRET-KEY-1…`` string, wrapped."""
        return self._secret

    def __repr__(self) -> str:
        return f"Identity(recipient={self.recipient.text!r})"


def encrypt(plaintext: bytes, recipients: Sequence[Recipient]) -> bytes:
    """One age v1 file (binary) of ``plaintext`` to ``recipients``."""
    if not recipients:
        raise UsageError(N_("at least one recipient is needed"))
    return bytes(pyrage.encrypt(plaintext, [r._native() for r in recipients]))


def decrypt(ciphertext: bytes, identities: Sequence[Identity], what: str) -> bytes:
    """Decrypt one age file; ``what`` names it in errors (e.g. "segment 3")."""
    try:
        return bytes(pyrage.decrypt(ciphertext, [i._native for i in identities]))
    except pyrage.DecryptError as exc:
        raise _decrypt_error(str(exc), what) from exc


def _decrypt_error(reason: str, what: str) -> IdentityError | IntegrityError:
    if "No matching keys" in reason:
        return NotARecipientError(what=what)
    return IntegrityError(
        N_("{what}: corrupt or truncated (authentication failed: {reason})"),
        what=what,
        reason=" ".join(reason.split()),
    )


def encrypt_stream(source: BinaryIO, sink: BinaryIO, recipients: Sequence[Recipient]) -> None:
    """Encrypt ``source`` into ``sink`` in bounded memory (age's 64 KiB STREAM chunks)."""
    pyrage.encrypt_io(source, sink, [r._native() for r in recipients])


def decrypt_stream(
    source: BinaryIO, sink: BinaryIO, identities: Sequence[Identity], what: str
) -> None:
    """Decrypt ``source`` into ``sink`` in bounded memory."""
    try:
        pyrage.decrypt_io(source, sink, [i._native for i in identities])
    except pyrage.DecryptError as exc:
        raise _decrypt_error(str(exc), what) from exc


# --- identity files -------------------------------------------------------------------------


def identity_file_text(identity: Identity, now: datetime | None = None) -> str:
    """The standard age identity file, as ``age-keygen`` writes it."""
    created = (now or datetime.now(UTC)).replace(microsecond=0).isoformat()
    return (
        f"# created: {created}\n"
        f"# public key: {identity.recipient.text}\n"
        f"{identity.secret.reveal()}\n"
    )


def seal_identity_file(text: str, passphrase: Secret) -> bytes:
    """Protect an identity file with a passphrase (age scrypt, armored).

    The stock ``age -d -i FILE`` recognises such a file and asks for the passphrase.
    """
    return bytes(pyrage.passphrase.encrypt(text.encode("utf-8"), passphrase.reveal(), True))


def is_passphrase_protected(data: bytes) -> bool:
    """True for an identity file encrypted with a passphrase."""
    return data.lstrip().startswith((ENCRYPTED_IDENTITY_MARKER.encode(), b"age-encryption.org/"))


def parse_identity_file(data: bytes, passphrase: Secret | None) -> list[Identity]:
    """The identities in an identity file, decrypting it first if it is protected."""
    if is_passphrase_protected(data):
        if passphrase is None:
            raise IdentityError(N_("the identity file is protected by a passphrase"))
        try:
            data = bytes(pyrage.passphrase.decrypt(data, passphrase.reveal()))
        except pyrage.DecryptError as exc:
            raise IdentityError(N_("wrong passphrase, or the identity file is damaged")) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IdentityError(N_("the identity file is not text")) from exc
    keys = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not keys or not all(k.startswith(IDENTITY_PREFIX) for k in keys):
        raise IdentityError(N_("the identity file holds no age X25519 secret key"))
    return [Identity(Secret(k)) for k in keys]


# --- source keys (docs/codenames.md) ---------------------------------------------------------

MIN_SALT_BYTES = 16
_KDF_OUTPUT_BYTES = 64


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id cost: passes over memory, memory in KiB, lanes (docs/codenames.md)."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 1

    # Cheap parameters for tests only; a real instance never uses them.
    FAST_TEST_PARAMS: ClassVar[KdfParams]

    def __post_init__(self) -> None:
        if self.time_cost < 1 or self.parallelism < 1 or self.memory_kib < 8 * self.parallelism:
            raise ValueError("Argon2id needs t >= 1, p >= 1 and m >= 8 * p KiB")


KdfParams.FAST_TEST_PARAMS = KdfParams(time_cost=1, memory_kib=1024, parallelism=1)
DEFAULT_KDF_PARAMS = KdfParams()
FAST_TEST_PARAMS = KdfParams.FAST_TEST_PARAMS


@dataclass(frozen=True, eq=False, slots=True)
class SourceKeys:
    """What a codename derives: the database lookup value and the source's reply identity.

    Both are secret while the codename is: the repr shows only the public recipient, and
    there is no ``==`` (compare lookups with :meth:`matches`, in constant time).
    """

    lookup: bytes
    identity: Identity

    @property
    def recipient(self) -> Recipient:
        """The source's reply recipient (``age1…``): stored, public."""
        return self.identity.recipient

    def matches(self, stored_lookup: bytes) -> bool:
        """Whether ``stored_lookup`` is this lookup value, compared in constant time."""
        return hmac.compare_digest(self.lookup, stored_lookup)

    def __repr__(self) -> str:
        return f"SourceKeys(lookup=<hidden>, recipient={self.recipient.text!r})"


def derive_source_keys(
    codename: Secret, salt: bytes, params: KdfParams = DEFAULT_KDF_PARAMS
) -> SourceKeys:
    """The source's keys: Argon2id(normalized codename, salt), split into lookup and identity.

    ``salt`` is the instance's salt (at least 16 bytes). Callers check the words first
    (:func:`tainik.core.codename.check_words`); this only normalizes.
    """
    if len(salt) < MIN_SALT_BYTES:
        raise ValueError(f"the codename salt must be at least {MIN_SALT_BYTES} bytes")
    out = hash_secret_raw(
        secret=normalize(codename.reveal()).encode("utf-8"),
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=_KDF_OUTPUT_BYTES,
        type=Type.ID,
        version=19,
    )
    # X25519 clamps the scalar itself (RFC 7748), so the raw 32 bytes are the secret key.
    return SourceKeys(lookup=out[:32], identity=Identity.from_x25519_scalar(out[32:]))


# --- hashing ----------------------------------------------------------------------------------


def sha256(data: bytes | memoryview) -> bytes:
    """SHA-256 digest (hashlib releases the GIL on large inputs)."""
    return hashlib.sha256(data).digest()


# --- bech32 (BIP 173), only to render a derived scalar as an age secret key ---------------------

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_polymod(values: Iterable[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= generator[i] if ((top >> i) & 1) else 0
    return chk


def _bech32_encode(hrp: str, data: bytes) -> str:
    acc, bits, words = 0, 0, []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            words.append((acc >> bits) & 31)
    if bits:
        words.append((acc << (5 - bits)) & 31)
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    polymod = _bech32_polymod([*expanded, *words, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[w] for w in [*words, *checksum])


# --- passphrase-protected blobs (the workstation vault's signing key) -------------------------


def seal_with_passphrase(data: bytes, passphrase: Secret) -> bytes:
    """Protect ``data`` with a passphrase (age scrypt, armored), as identity files are."""
    return bytes(pyrage.passphrase.encrypt(data, passphrase.reveal(), True))


def open_with_passphrase(data: bytes, passphrase: Secret, what: str) -> bytes:
    """Undo :func:`seal_with_passphrase`; ``what`` names the file in errors."""
    try:
        return bytes(pyrage.passphrase.decrypt(data, passphrase.reveal()))
    except pyrage.DecryptError as exc:
        raise IdentityError(
            N_("{what}: wrong passphrase, or the file is damaged"), what=what
        ) from exc
