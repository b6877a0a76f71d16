"""JSON request bodies, bounded before they are parsed, on both listeners.

A stranger's body costs at most its endpoint's size limit: a larger declared length is
refused (413) before a byte is read, and a body that runs past the limit is refused as soon
as it does. Nesting is bounded before the parser sees it (Python's parser recurses, and a
body of ``[`` × 100,000 would exhaust its stack): every body these APIs take is one flat
object, so a few levels and a few hundred arrays and objects are plenty.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request

from tainik.service.errors import BodyTooLargeError, RequestError

SMALL_JSON = 16 * 1024  # a login: a codename, or a name, password and one-time code
MAX_DEPTH = 32
MAX_CONTAINERS = 512  # arrays and objects in one body

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_INNERMOST = re.compile(rb"\[\]|\{\}")
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object: 413 past ``limit`` bytes, 400 unless a shallow object."""
    check_declared_length(request, limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLargeError()
    return parse_object(bytes(body))


def check_declared_length(request: Request, limit: int) -> None:
    """Refuse (413) a body whose declared length is over ``limit``, before reading any."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError()


def parse_object(raw: bytes) -> dict[str, Any]:
    """A UTF-8 JSON object, nested at most :data:`MAX_DEPTH` deep, or :class:`RequestError`."""
    if not shallow(raw):
        raise RequestError()
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RequestError() from exc
    if not isinstance(value, dict):
        raise RequestError()
    return value


def shallow(raw: bytes) -> bool:
    """True when the brackets of ``raw`` outside strings hold at most :data:`MAX_CONTAINERS`
    arrays and objects, nested at most :data:`MAX_DEPTH` deep, and balance.

    Brackets and quotes are ASCII, never part of a multi-byte UTF-8 character, so the bytes
    can be read before decoding. Every step is a C-speed pass over the body; the loop runs
    on at most ``2 × MAX_CONTAINERS`` bytes.
    """
    skeleton = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    if len(skeleton) > 2 * MAX_CONTAINERS:
        return False
    for _ in range(MAX_DEPTH):  # each pass removes one level: the innermost pairs
        if not skeleton:
            return True
        skeleton = _INNERMOST.sub(b"", skeleton)
    return not skeleton
