"""The age v1 file format (https://age-encryption.org/v1) for X25519 recipients, over OpenSSL.

Why this exists beside pyrage: pyrage's ChaCha20-Poly1305 runs at about 400-650 MB/s on one
core, OpenSSL's (through ``cryptography``) at about 2.6 GB/s, and every byte of evidence
passes through it. This module composes only standard primitives exactly as the age
specification says (X25519, HKDF-SHA-256, HMAC-SHA-256, ChaCha20-Poly1305, the STREAM
construction with 64 KiB chunks); it invents nothing. Its output is checked against the stock
``age`` CLI and, differentially, against pyrage (tests/test_age_format.py): every file either
writes, the other reads, and a mutated file this reader accepts, pyrage accepts with the same
plaintext.

It works on whole files in memory: the sealed format keeps each age file to one segment
(4 MiB by default), so memory stays bounded by the segment size.

Only X25519 stanzas are understood; other stanzas are skipped, as the specification requires.
Passphrase (scrypt) files stay with pyrage (see :mod:`tainik.crypto`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

VERSION_LINE = b"age-encryption.org/v1\n"
X25519_LABEL = b"age-encryption.org/v1/X25519"
CHUNK = 64 * 1024
TAG = 16
NONCE = 16
FILE_KEY = 16
MAX_HEADER = 1024 * 1024  # a header with thousands of recipients still fits
_WRAP_NONCE = bytes(12)
_B64_LINE = 64
_B64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


class AgeError(Exception):
    """The input is not a valid age file, or it was altered; ``reason`` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoMatchingIdentity(AgeError):
    """The file is well formed, but none of the identities is one of its recipients."""

    def __init__(self) -> None:
        super().__init__("no identity matches any of the file's recipients")


# --- primitives -------------------------------------------------------------------------------


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def _b64encode(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _b64decode(text: bytes) -> bytes:
    """Strict, canonical, unpadded standard base64 (the spec forbids any other form)."""
    if not _B64_ALPHABET.issuperset(text) or len(text) % 4 == 1:
        raise AgeError("invalid base64 in the header")
    try:
        data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise AgeError("invalid base64 in the header") from exc
    if _b64encode(data) != text:
        raise AgeError("non-canonical base64 in the header")
    return data


def _chunk_nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _raw(key: X25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


# --- writing ----------------------------------------------------------------------------------


def _x25519_stanza(file_key: bytes, recipient: bytes) -> bytes:
    ephemeral = X25519PrivateKey.generate()
    share = _raw(ephemeral.public_key())
    secret = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    wrap_key = _hkdf(secret, share + recipient, X25519_LABEL)
    body = ChaCha20Poly1305(wrap_key).encrypt(_WRAP_NONCE, file_key, None)
    # A 32-byte body is 43 base64 characters: one line, shorter than 64, as the spec wants.
    return b"-> X25519 " + _b64encode(share) + b"\n" + _b64encode(body) + b"\n"


# "age-encryption.org/v1\n", then per recipient "-> X25519 " + 43 + "\n" + 43 + "\n",
# then "--- " + 43 + "\n".
_X25519_STANZA_SIZE = 10 + 43 + 1 + 43 + 1
_MAC_LINE_SIZE = 4 + 43 + 1


def encrypted_size(plaintext_size: int, recipients: int) -> int:
    """The exact size of the age file :func:`encrypt` writes."""
    chunks = max(1, -(-plaintext_size // CHUNK))
    header = len(VERSION_LINE) + recipients * _X25519_STANZA_SIZE + _MAC_LINE_SIZE
    return header + NONCE + plaintext_size + TAG * chunks


def encrypt(
    plaintext: bytes | bytearray | memoryview,
    recipients: Sequence[bytes],
    out: bytearray | memoryview | None = None,
) -> bytearray | memoryview:
    """One binary age file of ``plaintext`` to the raw 32-byte X25519 ``recipients``.

    Written into ``out`` when it is large enough (a buffer reused segment after segment: no
    fresh memory to fault in), and returned as a view of it; otherwise into a new bytearray.
    """
    if not recipients:
        raise ValueError("at least one recipient is needed")
    file_key = os.urandom(FILE_KEY)
    header = VERSION_LINE + b"".join(_x25519_stanza(file_key, r) for r in recipients) + b"---"
    mac = hmac.digest(_hkdf(file_key, b"", b"header"), header, "sha256")
    header += b" " + _b64encode(mac) + b"\n"
    nonce = os.urandom(NONCE)
    aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))

    source = memoryview(plaintext).cast("B")
    size = encrypted_size(len(source), len(recipients))
    target = memoryview(out)[:size] if out is not None and len(out) >= size else None
    result: bytearray | memoryview = bytearray(size) if target is None else target
    target = memoryview(result)
    target[: len(header)] = header
    target[len(header) : len(header) + NONCE] = nonce
    position = len(header) + NONCE
    chunks = max(1, -(-len(source) // CHUNK))
    for counter in range(chunks):
        piece = source[counter * CHUNK : (counter + 1) * CHUNK]
        end = position + len(piece) + TAG
        aead.encrypt_into(
            _chunk_nonce(counter, counter == chunks - 1), piece, None, target[position:end]
        )
        position = end
    assert position == size
    return result


# --- reading ----------------------------------------------------------------------------------


class _Truncated(Exception):
    """The header continues beyond the bytes looked at so far."""


def _line(head: bytes, start: int) -> tuple[bytes, int]:
    """The header line at ``start`` (without its newline) and the offset after it."""
    end = head.find(b"\n", start)
    if end < 0:
        raise _Truncated
    line = head[start:end]
    if any(byte < 0x20 or byte > 0x7E for byte in line):
        raise AgeError("the header holds a character it must not")
    return line, end + 1


def _parse_header(data: memoryview) -> tuple[list[tuple[list[bytes], bytes]], bytes, bytes, int]:
    """Stanzas (arguments, body), the bytes the MAC covers, the MAC, and the payload offset.

    Looks at a small prefix first and widens it only for a header with many stanzas, so a
    segment's payload is never copied.
    """
    size = 4096
    while True:
        head = bytes(data[:size])
        try:
            return _parse_header_in(head)
        except _Truncated:
            if size >= len(data) or size >= MAX_HEADER:
                raise AgeError("the header is truncated or too long") from None
            size *= 4


def _parse_header_in(head: bytes) -> tuple[list[tuple[list[bytes], bytes]], bytes, bytes, int]:
    if not head.startswith(VERSION_LINE):
        if len(head) < len(VERSION_LINE) and VERSION_LINE.startswith(head):
            raise _Truncated
        raise AgeError("not an age v1 file (the version line is missing)")
    position = len(VERSION_LINE)
    stanzas: list[tuple[list[bytes], bytes]] = []
    while True:
        line_start = position
        line, position = _line(head, position)
        if line.startswith(b"--- "):
            mac = _b64decode(line[4:])
            if len(mac) != 32:
                raise AgeError("the header MAC has the wrong length")
            return stanzas, head[: line_start + 3], mac, position
        if not line.startswith(b"-> "):
            raise AgeError("malformed header line")
        arguments = line[3:].split(b" ")
        if any(not argument for argument in arguments):
            raise AgeError("empty stanza argument")
        body = b""
        while True:
            text, position = _line(head, position)
            if len(text) > _B64_LINE:
                raise AgeError("a stanza body line is too long")
            body += text
            if len(text) < _B64_LINE:
                break
        stanzas.append((arguments, _b64decode(body)))


def _unwrap(
    stanzas: Sequence[tuple[list[bytes], bytes]], identities: Sequence[X25519PrivateKey]
) -> bytes:
    for arguments, body in stanzas:
        if arguments[0] != b"X25519":
            continue  # another kind of recipient: not ours to read
        if len(arguments) != 2:
            raise AgeError("malformed X25519 stanza")
        share = _b64decode(arguments[1])
        if len(share) != 32 or len(body) != FILE_KEY + TAG:
            raise AgeError("malformed X25519 stanza")
        for identity in identities:
            try:
                secret = identity.exchange(X25519PublicKey.from_public_bytes(share))
            except ValueError as exc:  # an all-zero shared secret: a low-order point
                raise AgeError("X25519 stanza with a low-order share") from exc
            recipient = _raw(identity.public_key())
            wrap_key = _hkdf(secret, share + recipient, X25519_LABEL)
            try:
                return ChaCha20Poly1305(wrap_key).decrypt(_WRAP_NONCE, body, None)
            except InvalidTag:
                continue
    raise NoMatchingIdentity


def decrypt(
    ciphertext: bytes | bytearray | memoryview,
    identities: Sequence[X25519PrivateKey],
    out: bytearray | memoryview | None = None,
) -> bytearray | memoryview:
    """The plaintext of one binary age file, verified chunk by chunk; raises :class:`AgeError`.

    Written into ``out`` when it is large enough (then a view of it is returned). On an error,
    ``out`` may hold plaintext of the chunks before the bad one: callers discard it.
    """
    data = memoryview(ciphertext).cast("B")
    stanzas, covered, mac, position = _parse_header(data)
    file_key = _unwrap(stanzas, identities)
    expected = hmac.digest(_hkdf(file_key, b"", b"header"), covered, "sha256")
    if not hmac.compare_digest(expected, mac):
        raise AgeError("the header MAC does not match: the header was altered")
    nonce = bytes(data[position : position + NONCE])
    if len(nonce) != NONCE:
        raise AgeError("the file is truncated (no payload)")
    payload = data[position + NONCE :]
    if not payload:
        raise AgeError("the file is truncated (no payload)")
    stride = CHUNK + TAG
    chunks = -(-len(payload) // stride)
    last_size = len(payload) - (chunks - 1) * stride
    if last_size < TAG:
        raise AgeError("the file is truncated (a chunk is shorter than its tag)")
    if last_size == TAG and chunks > 1:
        raise AgeError("the last chunk is empty, which only an empty file may have")
    aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
    size = len(payload) - TAG * chunks
    result: bytearray | memoryview = (
        memoryview(out)[:size] if out is not None and len(out) >= size else bytearray(size)
    )
    target = memoryview(result)
    for counter in range(chunks):
        piece = payload[counter * stride : (counter + 1) * stride]
        start = counter * CHUNK
        try:
            aead.decrypt_into(
                _chunk_nonce(counter, counter == chunks - 1),
                piece,
                None,
                target[start : start + len(piece) - TAG],
            )
        except InvalidTag as exc:
            raise AgeError(
                f"chunk {counter} failed authentication (altered, truncated or reordered)"
            ) from exc
    return result
