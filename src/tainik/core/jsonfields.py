"""Strict reading of the JSON records Tainik writes, with errors that name the field.

Each JSON format has one codec, used by the code that writes it and the code that reads it:
a frozen dataclass with ``to_json`` (plain JSON data) and a ``parse`` built on
:class:`Fields`, which hands out each field as its type and refuses what is missing, of the
wrong type, or not part of the format::

    with Fields(value, "report.json") as f:
        tool = f.text("tool")
        totals = Totals.from_fields(f.nested("totals"))

An error names the record and the path to the field (``report.json: ranking[3].clip.sha256
should be text``). Leaving the ``with`` block without an error checks that every field was
read: an unknown field is refused too, so a parsed record holds all there was.

JSON has one kind of number: a number field takes integers too, and keeps them as read (an
``int`` is a ``float`` to Python's typing), so that a record encodes back to the same bytes;
an integer field refuses ``2.0`` and ``true``. Python writes non-finite floats as ``NaN`` and
``Infinity``; they are read back as such.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import TypeAlias, TypeVar

from tainik.core.errors import N_, FormatError
from tainik.core.timestamps import parse_utc

Json: TypeAlias = "str | int | float | bool | list[Json] | dict[str, Json] | None"
JsonObject: TypeAlias = "dict[str, Json]"
Scalar: TypeAlias = str | int | float | bool | None

T = TypeVar("T")


class RecordError(FormatError):
    """A JSON record that does not follow its format."""

    template = N_("{record}: not a JSON object")


def reason_of(error: RecordError) -> str:
    """Why a record was refused, without the record's name (for a message that names it)."""
    return error.english().removeprefix(f"{error.params.get('record')}: ")


def load_json(data: bytes, record: str) -> object:
    """The JSON value in ``data`` (UTF-8); a key given twice in one object is refused."""
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:
        raise RecordError(
            N_("{record}: not JSON ({reason})"), record=record, reason=str(exc)
        ) from exc


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} is given twice")
        result[key] = value
    return result


class Fields:
    """The fields of one JSON object of a record (see the module docstring)."""

    def __init__(self, value: object, record: str, where: str = "") -> None:
        self.record = record
        self.where = where
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            if where:
                raise self._error(N_("{record}: {field} should be an object"), where)
            raise RecordError(record=record)
        self._value: Mapping[str, object] = value
        self._read: set[str] = set()

    def __enter__(self) -> Fields:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.done()

    def done(self) -> None:
        """Refuse the fields that were not read (the first one, in name order)."""
        unknown = sorted(set(self._value) - self._read)
        if unknown:
            raise self._error(
                N_("{record}: {field} is not part of this format"), self._path(unknown[0])
            )

    # --- one field -------------------------------------------------------------------------

    def _path(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def _error(self, template: str, field: str) -> RecordError:
        return RecordError(template, record=self.record, field=field)

    def _get(self, name: str) -> object:
        self._read.add(name)
        if name not in self._value:
            raise self._error(N_("{record}: {field} is missing"), self._path(name))
        return self._value[name]

    def has(self, name: str) -> bool:
        """Whether the object has the field ``name``."""
        return name in self._value

    def names(self) -> tuple[str, ...]:
        """The object's field names, sorted."""
        return tuple(sorted(self._value))

    def raw(self, name: str) -> object:
        """A field of any JSON type, for a codec that checks it itself (an opaque object it
        relays, an id that may be text or a number)."""
        return self._get(name)

    def text(self, name: str) -> str:
        """A string."""
        return _text(self._get(name), self, self._path(name))

    def optional_text(self, name: str) -> str | None:
        """A string, or null."""
        value = self._get(name)
        return None if value is None else _text(value, self, self._path(name))

    def invalid(self, name: str, expected: str) -> RecordError:
        """The error for a field ``name`` that is not ``expected`` (a literal, a pattern)."""
        return RecordError(
            N_("{record}: {field} should be {expected}"),
            record=self.record,
            field=self._path(name),
            expected=expected,
        )

    def constant(self, name: str, expected: str) -> str:
        """The string ``expected`` and nothing else (a format's name, a fixed description)."""
        value = self.text(name)
        if value != expected:
            raise self.invalid(name, expected)
        return value

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        """One of the strings ``allowed``."""
        value = self.text(name)
        if value not in allowed:
            raise RecordError(
                N_("{record}: {field} should be one of: {allowed}"),
                record=self.record,
                field=self._path(name),
                allowed=", ".join(allowed),
            )
        return value

    def integer(self, name: str) -> int:
        """An integer (not a boolean, not ``2.0``)."""
        return _integer(self._get(name), self, self._path(name))

    def optional_integer(self, name: str) -> int | None:
        """An integer, or null."""
        value = self._get(name)
        return None if value is None else _integer(value, self, self._path(name))

    def number(self, name: str) -> float:
        """A number (an integer stays one)."""
        return _number(self._get(name), self, self._path(name))

    def optional_number(self, name: str) -> float | None:
        """A number, or null."""
        value = self._get(name)
        return None if value is None else _number(value, self, self._path(name))

    def boolean(self, name: str) -> bool:
        """``true`` or ``false``."""
        value = self._get(name)
        if not isinstance(value, bool):
            raise self._error(N_("{record}: {field} should be true or false"), self._path(name))
        return value

    def hex(self, name: str, digits: int) -> str:
        """``digits`` lowercase hexadecimal digits (a SHA-256 has 64)."""
        value = self.text(name)
        if len(value) != digits or value.strip("0123456789abcdef"):
            raise RecordError(
                N_("{record}: {field} should be {digits} lowercase hexadecimal digits"),
                record=self.record,
                field=self._path(name),
                digits=digits,
            )
        return value

    def timestamp(self, name: str) -> datetime:
        """A UTC timestamp in any spelling :func:`~tainik.core.timestamps.parse_utc` reads."""
        value = self.text(name)
        try:
            return parse_utc(value)
        except ValueError as exc:
            raise self._error(
                N_("{record}: {field} should be a UTC time like 2026-12-06T04:57:03.250017Z"),
                self._path(name),
            ) from exc

    def nested(self, name: str) -> Fields:
        """A nested object (read it in a ``with`` block too)."""
        return Fields(self._get(name), self.record, self._path(name))

    def optional_nested(self, name: str) -> Fields | None:
        """A nested object, or null."""
        value = self._get(name)
        return None if value is None else Fields(value, self.record, self._path(name))

    # --- lists and maps --------------------------------------------------------------------

    def _list(self, name: str) -> list[object]:
        value = self._get(name)
        if not isinstance(value, list):
            raise self._error(N_("{record}: {field} should be a list"), self._path(name))
        return value

    def objects(self, name: str, read: Callable[[Fields], T]) -> tuple[T, ...]:
        """A list of objects, each turned into a value by ``read`` (which must read all of
        its fields: each is checked for unknown ones after ``read`` returns)."""
        values = []
        for index, item in enumerate(self._list(name)):
            with Fields(item, self.record, f"{self._path(name)}[{index}]") as fields:
                values.append(read(fields))
        return tuple(values)

    def texts(self, name: str) -> tuple[str, ...]:
        """A list of strings."""
        path = self._path(name)
        return tuple(_text(v, self, f"{path}[{i}]") for i, v in enumerate(self._list(name)))

    def numbers(self, name: str) -> tuple[float, ...]:
        """A list of numbers."""
        path = self._path(name)
        return tuple(_number(v, self, f"{path}[{i}]") for i, v in enumerate(self._list(name)))

    def _map(self, name: str) -> Iterator[tuple[str, object, str]]:
        value = self._get(name)
        path = self._path(name)
        if not isinstance(value, Mapping):
            raise self._error(N_("{record}: {field} should be an object"), path)
        for key in sorted(value):
            yield key, value[key], f"{path}.{key}"

    def number_map(self, name: str) -> dict[str, float]:
        """An object whose values are numbers, keyed by any names."""
        return {key: _number(v, self, path) for key, v, path in self._map(name)}

    def text_map(self, name: str) -> dict[str, str]:
        """An object whose values are strings, keyed by any names."""
        return {key: _text(v, self, path) for key, v, path in self._map(name)}

    def scalar_map(self, name: str) -> dict[str, Scalar]:
        """An object whose values are strings, numbers, booleans or null, kept as read."""
        result: dict[str, Scalar] = {}
        for key, v, path in self._map(name):
            if v is not None and not isinstance(v, str | int | float | bool):
                raise self._error(
                    N_("{record}: {field} should be text, a number, true, false or null"), path
                )
            result[key] = v
        return result

    def numbers_map(self, name: str) -> dict[str, tuple[float, ...]]:
        """An object whose values are lists of numbers, keyed by any names."""
        result: dict[str, tuple[float, ...]] = {}
        for key, v, path in self._map(name):
            if not isinstance(v, list):
                raise self._error(N_("{record}: {field} should be a list"), path)
            result[key] = tuple(_number(x, self, f"{path}[{i}]") for i, x in enumerate(v))
        return result


def _text(value: object, fields: Fields, path: str) -> str:
    if not isinstance(value, str):
        raise fields._error(N_("{record}: {field} should be text"), path)
    return value


def _integer(value: object, fields: Fields, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fields._error(N_("{record}: {field} should be a whole number"), path)
    return value


def _number(value: object, fields: Fields, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fields._error(N_("{record}: {field} should be a number"), path)
    return value
