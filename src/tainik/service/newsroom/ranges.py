"""HTTP byte ranges (RFC 9110 section 14): one range per request, as download resumption needs.

A header this does not understand (another unit, several ranges, bad syntax) is ignored, as
the RFC allows: the whole representation is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SINGLE = re.compile(r"bytes=(?:(\d{1,19})-(\d{0,19})|-(\d{1,19}))")


@dataclass(frozen=True)
class ByteRange:
    """``first-last`` (``last`` may be open) or, with ``first`` None, the last ``suffix`` bytes."""

    first: int | None
    last: int | None
    suffix: int | None = None

    def resolve(self, total: int) -> tuple[int, int] | None:
        """``(start, stop)`` with ``stop`` exclusive, or None when unsatisfiable."""
        if self.first is None:
            length = min(self.suffix or 0, total)
            return (total - length, total) if length > 0 else None
        if self.first >= total:
            return None
        last = total - 1 if self.last is None else min(self.last, total - 1)
        return self.first, last + 1


def parse_range(header: str | None) -> ByteRange | None:
    """The one range a ``Range`` header asks for, or None to send everything."""
    if not header:
        return None
    match = _SINGLE.fullmatch(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last, suffix = match.groups()
    if suffix is not None:
        return ByteRange(None, None, int(suffix))
    if last and int(last) < int(first):
        return None  # an invalid range-spec: ignore the header
    return ByteRange(int(first), int(last) if last else None)
