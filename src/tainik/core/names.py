"""Safe output names from untrusted original names (docs/format.md, "Output names").

An original name comes from an anonymous sender and must never steer where a reader writes.
:func:`safe_name` turns any bytes into one harmless path component.
"""

from __future__ import annotations

import re
import unicodedata

from tainik.core.manifest import Kind

MAX_NAME_BYTES = 200
MAX_EXTENSION_BYTES = 16
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_RESERVED_CHARS = str.maketrans({c: "_" for c in '<>:"|?*'})
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
_FALLBACK = {Kind.FILE: "unnamed", Kind.MESSAGE: "message.txt", Kind.REPLY: "reply.txt"}
_STRIP = " \t\n\r\v\f.\u00a0\u3000"


def safe_name(raw: bytes, kind: Kind = Kind.FILE) -> str:
    """One path component derived from ``raw`` that cannot leave its directory."""
    text = unicodedata.normalize("NFC", raw.decode("utf-8", errors="replace"))
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(c for c in text if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    text = text.translate(_RESERVED_CHARS).strip(_STRIP)
    # Whitespace of any kind (Zs) at either end is stripped, not only ASCII.
    while text and (text[0].isspace() or text[-1].isspace()):
        text = text.strip().strip(_STRIP)
    if text.split(".", 1)[0].upper() in _WINDOWS_DEVICES:
        text = "_" + text
    text = _truncate(text)
    return text or _FALLBACK[kind]


def _truncate(text: str) -> str:
    if len(text.encode("utf-8")) <= MAX_NAME_BYTES:
        return text
    stem, dot, ext = text.rpartition(".")
    if dot and stem and len(ext.encode("utf-8")) <= MAX_EXTENSION_BYTES:
        keep = MAX_NAME_BYTES - len(ext.encode("utf-8")) - 1
        return _cut(stem, keep).rstrip(_STRIP) + "." + ext
    return _cut(text, MAX_NAME_BYTES).rstrip(_STRIP)


def _cut(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` that is at most ``max_bytes`` of UTF-8."""
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def numbered(name: str, number: int) -> str:
    """``name`` with `` (number)`` before its extension: the n-th alternative when taken."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    suffix = f" ({number})"
    candidate = f"{stem}{suffix}.{ext}" if ext else f"{stem}{suffix}"
    if len(candidate.encode("utf-8")) > 255:
        room = 255 - len(candidate.encode("utf-8")) + len(stem.encode("utf-8"))
        stem = _cut(stem, room)
        candidate = f"{stem}{suffix}.{ext}" if ext else f"{stem}{suffix}"
    return candidate
