"""Strict record reading: every field typed, named in errors, none unknown, none twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tainik.core.errors import ExitCode, FormatError
from tainik.core.jsonfields import Fields, RecordError, load_json


def test_a_key_given_twice_is_refused() -> None:
    with pytest.raises(RecordError, match=r"^r.json: not JSON \(the key 'a' is given twice\)$"):
        load_json(b'{"a": 1, "b": {}, "a": 2}', "r.json")


@pytest.mark.parametrize("data", [b"", b"{", b"\xff{}", b"{} {}"])
def test_what_is_not_json_is_refused(data: bytes) -> None:
    with pytest.raises(RecordError, match=r"^r.json: not JSON \("):
        load_json(data, "r.json")


def test_a_record_error_is_a_format_error() -> None:
    error = RecordError(record="r.json")
    assert isinstance(error, FormatError)
    assert error.exit_code == ExitCode.INTEGRITY
    assert error.english() == "r.json: not a JSON object"


@pytest.mark.parametrize("value", [[], "x", None, 3, {1: "a"}])
def test_a_record_is_an_object(value: object) -> None:
    with pytest.raises(RecordError, match=r"^r.json: not a JSON object$"):
        Fields(value, "r.json")


def test_types_are_strict() -> None:
    f = Fields({"n": True, "i": 2.0, "t": 1, "b": 0, "x": None, "l": {}}, "r")
    with pytest.raises(RecordError, match=r"^r: n should be a number$"):
        f.number("n")
    with pytest.raises(RecordError, match=r"^r: i should be a whole number$"):
        f.integer("i")
    with pytest.raises(RecordError, match=r"^r: t should be text$"):
        f.text("t")
    with pytest.raises(RecordError, match=r"^r: b should be true or false$"):
        f.boolean("b")
    with pytest.raises(RecordError, match=r"^r: x should be an object$"):
        f.nested("x")
    with pytest.raises(RecordError, match=r"^r: l should be a list$"):
        f.texts("l")
    with pytest.raises(RecordError, match=r"^r: gone is missing$"):
        f.text("gone")


def test_numbers_keep_integers_as_they_were_written() -> None:
    with Fields({"a": 3, "b": 3.0, "c": [1, 1.5]}, "r") as f:
        a, b, c = f.number("a"), f.number("b"), f.numbers("c")
    assert (type(a), type(b), [type(x) for x in c]) == (int, float, [int, float])


def test_unknown_fields_are_refused_on_leaving_the_block() -> None:
    with (
        pytest.raises(RecordError, match=r"^r: inner.b is not part of this format$"),
        Fields({"inner": {"a": 1, "b": 2}}, "r") as f,
        f.nested("inner") as inner,
    ):
        inner.integer("a")


def test_an_error_inside_the_block_is_the_one_raised() -> None:
    with (
        pytest.raises(RecordError, match=r"^r: a should be text$"),
        Fields({"a": 1, "unread": 2}, "r") as f,
    ):
        f.text("a")


def test_lists_of_objects_name_the_item() -> None:
    value = {"items": [{"n": 1}, {"n": "2"}]}
    with pytest.raises(RecordError, match=r"^r: items\[1\].n should be a whole number$"):
        Fields(value, "r").objects("items", lambda f: f.integer("n"))
    with pytest.raises(RecordError, match=r"^r: items\[0\].m is not part of this format$"):
        Fields({"items": [{"n": 1, "m": 2}]}, "r").objects("items", lambda f: f.integer("n"))


def test_maps_name_the_key() -> None:
    f = Fields({"peaks": {"motion": 0.5, "sound": "loud"}, "s": {"a": [1, None]}}, "r")
    with pytest.raises(RecordError, match=r"^r: peaks.sound should be a number$"):
        f.number_map("peaks")
    with pytest.raises(RecordError, match=r"^r: s.a\[1\] should be a number$"):
        f.numbers_map("s")
    with pytest.raises(RecordError, match=r"^r: p.x should be text, a number, true, false or"):
        Fields({"p": {"x": [1]}}, "r").scalar_map("p")


def test_constants_choices_and_digests() -> None:
    f = Fields({"format": "v2", "mode": "x", "sha": "AB"}, "r")
    with pytest.raises(RecordError, match=r"^r: format should be v1$"):
        f.constant("format", "v1")
    with pytest.raises(RecordError, match=r"^r: mode should be one of: a, b$"):
        f.choice("mode", ("a", "b"))
    with pytest.raises(RecordError, match=r"^r: sha should be 2 lowercase hexadecimal digits$"):
        f.hex("sha", 2)


def test_timestamps_read_every_utc_spelling() -> None:
    f = Fields({"a": "2026-12-06T04:57:03Z", "b": "2026-12-06T04:57:03+03:00"}, "r")
    assert f.timestamp("a") == datetime(2026, 12, 6, 4, 57, 3, tzinfo=UTC)
    with pytest.raises(RecordError, match=r"^r: b should be a UTC time like 2026-"):
        f.timestamp("b")
