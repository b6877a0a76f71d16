"""Canonical JSON: the one byte string a custody record has (docs/workstation.md).

Objects with keys sorted by code point, no insignificant whitespace, ASCII only (anything else
escaped as ``\\uXXXX``), and values limited to strings, integers, booleans, arrays and objects:
no floats and no null, whose text forms vary between encoders. A parser accepts a text only if
encoding what it parsed gives back the same bytes.
"""

from __future__ import annotations

import json
from typing import TypeAlias

JsonValue: TypeAlias = "str | int | bool | list[JsonValue] | dict[str, JsonValue]"
JsonObject: TypeAlias = "dict[str, JsonValue]"

MAX_INT = 2**53 - 1


class NotCanonical(ValueError):
    """The text is not canonical JSON of the allowed types."""


def _check(value: object, depth: int = 0) -> None:
    if depth > 16:
        raise NotCanonical("nested too deeply")
    if isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if not -MAX_INT <= value <= MAX_INT:
            raise NotCanonical("integer out of range")
        return
    if isinstance(value, list):
        for item in value:
            _check(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonical("object keys must be strings")
            _check(item, depth + 1)
        return
    raise NotCanonical(f"{type(value).__name__} is not allowed")


def encode(value: JsonValue) -> bytes:
    """The canonical bytes of ``value``."""
    _check(value)
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def _no_duplicates(pairs: list[tuple[str, JsonValue]]) -> JsonObject:
    result: JsonObject = {}
    for key, value in pairs:
        if key in result:
            raise NotCanonical(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_float(text: str) -> float:
    raise NotCanonical("floats are not allowed")


def _no_constant(text: str) -> float:
    raise NotCanonical(f"{text} is not allowed")


def decode_object(data: bytes) -> JsonObject:
    """Parse canonical JSON that must be an object; raises :class:`NotCanonical`."""
    try:
        text = data.decode("ascii")
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=_no_float,
            parse_constant=_no_constant,
        )
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise NotCanonical(str(exc)) from exc
    if not isinstance(value, dict):
        raise NotCanonical("not an object")
    if encode(value) != data:
        raise NotCanonical("not in canonical form")
    return value
