"""Bech32 (BIP 173) as age uses it for keys: ``age1…`` recipients, ``AGE-SECRET-KEY-1…`` identities.

age lifts BIP 173's 90-character limit; its keys are 62 and 74 characters, so nothing here
needs it. Decoding is strict: one case, a valid checksum, no stray padding bits.
"""

from __future__ import annotations

from collections.abc import Iterable

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_VALUES = {c: i for i, c in enumerate(_CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


class Bech32Error(ValueError):
    """Not a valid Bech32 string of the expected kind."""


def _polymod(values: Iterable[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= _GENERATOR[i] if ((top >> i) & 1) else 0
    return chk


def _expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def encode(hrp: str, data: bytes) -> str:
    """``hrp`` + ``1`` + the data in 5-bit words + a 6-word checksum, lower case."""
    acc, bits, words = 0, 0, []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            words.append((acc >> bits) & 31)
    if bits:
        words.append((acc << (5 - bits)) & 31)
    polymod = _polymod([*_expand(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[w] for w in [*words, *checksum])


def decode(text: str, hrp: str) -> bytes:
    """The data of ``text``, whose human-readable part must be ``hrp`` (any one case)."""
    if text != text.lower() and text != text.upper():
        raise Bech32Error("mixed case")
    text = text.lower()
    separator = text.rfind("1")
    if text[:separator] != hrp or len(text) - separator - 1 < 6:
        raise Bech32Error("wrong prefix or too short")
    try:
        words = [_VALUES[c] for c in text[separator + 1 :]]
    except KeyError as exc:
        raise Bech32Error("invalid character") from exc
    if _polymod([*_expand(hrp), *words]) != 1:
        raise Bech32Error("bad checksum")
    acc, bits, out = 0, 0, bytearray()
    for word in words[:-6]:
        acc = (acc << 5) | word
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if bits >= 5 or (acc & ((1 << bits) - 1)):
        raise Bech32Error("invalid padding")
    return bytes(out)
