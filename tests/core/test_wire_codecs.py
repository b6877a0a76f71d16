"""The codecs of the formats at the ends of the transport: the upload protocol's objects, the
newsroom API's objects, the pulled folder's records and the send state.

For each: any value encodes and parses back to itself (Hypothesis), the files main's code
wrote before the codecs existed still parse (tests/vectors/wire, made by make_old_wire.py),
and a broken record is refused with an error that names the field.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tainik.core.jsonfields import JsonObject, RecordError, load_json
from tainik.core.newsroom_api import (
    Page,
    ReplyObject,
    SourceObject,
    SubmissionObject,
    TokenObject,
    download_path,
)
from tainik.core.pulled import DownloadFacts, FolderClaim, Sidecar, SourceLink, SourceRecord
from tainik.core.send_state import (
    LegacyState,
    SendStateRecord,
    StateItem,
    parse_state,
)
from tainik.core.source_api import (
    NewCodename,
    ResumeNote,
    SessionObject,
    UploadList,
    UploadObject,
)
from tainik.core.timestamps import format_utc

WIRE = Path(__file__).parents[1] / "vectors" / "wire"

ids = st.integers(min_value=0, max_value=2**63 - 1)
small = st.integers(min_value=0, max_value=2**40)
moments = st.datetimes(
    min_value=datetime(2, 1, 1),
    max_value=datetime(9998, 12, 31),
    timezones=st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)
# Base32 ids of 16 bytes: 25 free letters and a last one whose low bits are zero.
sealed_ids = st.builds(
    lambda body, last: body + last,
    st.text("abcdefghijklmnopqrstuvwxyz234567", min_size=25, max_size=25),
    st.sampled_from("aeimquy4"),
)
labels = st.text(
    st.characters(codec="utf-8", blacklist_characters="\x7f", min_codepoint=32),
    min_size=1,
    max_size=200,
)
hex64 = st.text("0123456789abcdef", min_size=64, max_size=64)
json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
json_objects: st.SearchStrategy[JsonObject] = st.dictionaries(
    st.text(max_size=10),
    st.recursive(
        json_scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=8,
    ),
    max_size=5,
)


def through_json(value: JsonObject) -> object:
    """What the other end reads: the value as bytes, and back."""
    return load_json(json.dumps(value).encode("utf-8"), "test")


def same_moment(original: datetime, back: datetime) -> bool:
    return back == original and back.utcoffset() == timedelta(0)


# --- the upload protocol ---------------------------------------------------------------------


@st.composite
def uploads(draw: st.DrawFn) -> UploadObject:
    segments = draw(st.integers(min_value=1, max_value=300))
    received = tuple(sorted(draw(st.sets(st.integers(0, segments - 1), max_size=20))))
    return UploadObject(
        id=draw(sealed_ids),
        segments=segments,
        received=received,
        manifest=draw(st.booleans()),
        note=draw(st.none() | json_objects),
        expires=draw(moments),
    )


@given(uploads())
def test_an_upload_round_trips(upload: UploadObject) -> None:
    back = UploadObject.parse(through_json(upload.to_json()), "UPLOAD")
    assert back.to_json() == upload.to_json()
    assert same_moment(upload.expires, back.expires)


@given(st.lists(uploads(), max_size=3))
def test_an_upload_list_round_trips(items: list[UploadObject]) -> None:
    listed = UploadList(tuple(items))
    assert UploadList.parse(through_json(listed.to_json()), "uploads").to_json() == listed.to_json()


@given(
    st.text(min_size=1, max_size=50),
    st.none() | st.text(min_size=1, max_size=80),
    st.booleans(),
    st.lists(st.text(min_size=1, max_size=80), min_size=1, max_size=3),
    st.integers(1, 2**30),
    small,
)
def test_a_session_round_trips(
    csrf: str, recipient: str | None, new: bool, org: list[str], size: int, limit: int
) -> None:
    session = SessionObject(csrf, recipient, new, tuple(org), size, limit)
    assert SessionObject.parse(through_json(session.to_json()), "session") == session
    made = NewCodename(csrf)
    assert NewCodename.parse(through_json(made.to_json()), "sources") == made


@given(
    st.text(max_size=50),
    small,
    st.integers(1, 2**30),
    hex64,
    st.lists(hex64, max_size=5),
    st.sampled_from(("file", "message")),
    st.none() | st.text("ABCxyz0189+/=", max_size=40),
)
def test_a_resume_note_round_trips(
    name: str,
    size: int,
    segment_size: int,
    whole: str,
    segments: list[str],
    kind: str,
    sealed: str | None,
) -> None:
    note = ResumeNote(name, size, segment_size, whole, tuple(segments), kind, sealed)
    assert ResumeNote.parse(load_json(note.encode(), "note"), "note") == note


def test_old_upload_objects_parse() -> None:
    one = UploadObject.parse(load_json((WIRE / "upload.json").read_bytes(), "u"), "u")
    assert one.received == (0, 2)
    assert one.expires == datetime(2026, 12, 6, 4, 57, 3, tzinfo=UTC)
    assert one.note is not None
    note = ResumeNote.parse(one.note, "note")
    assert (note.name, note.size, note.kind) == ("clip.mp4", 5, "file")
    listed = UploadList.parse(load_json((WIRE / "uploads.json").read_bytes(), "l"), "l")
    assert [u.manifest for u in listed.uploads] == [False, True]
    assert listed.uploads[1].note is None


def test_a_note_from_before_kinds_is_a_file() -> None:
    value = {"v": 1, "name": "a", "size": 1, "segment_size": 4, "sha256": "0" * 64, "segments": []}
    assert ResumeNote.parse(value, "note").kind == "file"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"received": [2, 0]}, "received"),
        ({"received": [0, 3]}, "received"),
        ({"received": [True]}, "received"),
        ({"segments": 0}, "segments"),
        ({"id": "../etc"}, "id"),
        ({"expires": "2026-12-06 04:57:03"}, "expires"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_broken_upload_is_refused_naming_the_field(change: JsonObject, field: str) -> None:
    value = json.loads((WIRE / "upload.json").read_text())
    value.update(change)
    with pytest.raises(RecordError, match=rf"UPLOAD: {field}"):
        UploadObject.parse(value, "UPLOAD")


# --- the newsroom API -------------------------------------------------------------------------


sources = st.builds(
    SourceObject,
    id=ids,
    designation=st.text(min_size=1, max_size=200),
    created_at=moments,
    last_activity=moments,
    starred=st.booleans(),
    submissions=small,
    replies=small,
    unread=small,
    uploading=small,
)
submissions = st.builds(
    lambda i, **kw: SubmissionObject(id=i, download=download_path("submission", i), **kw),
    ids,
    source_id=ids,
    sealed_id=sealed_ids,
    kind=st.sampled_from(("message", "file")),
    size=small,
    created_at=moments,
    read=st.booleans(),
    complete=st.booleans(),
)
replies = st.builds(
    lambda i, **kw: ReplyObject(id=i, download=download_path("reply", i), **kw),
    ids,
    source_id=ids,
    sealed_id=sealed_ids,
    created_at=moments,
    author=st.none() | st.text(max_size=50),
    read=st.booleans(),
)
tokens = st.builds(
    TokenObject,
    token=st.text("abcXYZ0189_-", min_size=40, max_size=64),
    expires_at=moments,
    name=st.text(max_size=50),
    is_admin=st.booleans(),
    scope=st.sampled_from(("read", "full")),
)


@given(st.one_of(sources, submissions, replies, tokens))
def test_an_api_object_round_trips(
    value: SourceObject | SubmissionObject | ReplyObject | TokenObject,
) -> None:
    back = type(value).parse(through_json(value.to_json()), "api")
    assert back.to_json() == value.to_json()


@given(st.lists(submissions, max_size=4), st.none() | st.text(min_size=1, max_size=40))
def test_a_page_round_trips(items: list[SubmissionObject], cursor: str | None) -> None:
    page = Page(tuple(i.to_json() for i in items), cursor)
    back = Page.parse(through_json(page.to_json()), "page")
    assert back == page
    assert [SubmissionObject.parse(i, "item") for i in back.items] == [
        SubmissionObject.parse(i.to_json(), "item") for i in items
    ]


def test_old_api_answers_parse() -> None:
    def read(name: str) -> object:
        return load_json((WIRE / f"api-{name}.json").read_bytes(), name)

    source = SourceObject.parse(read("source"), "source")
    assert (source.id, source.designation, source.unread) == (7, "quiet owl", 1)
    page = Page.parse(read("submissions-page"), "submissions")
    first, waiting = (SubmissionObject.parse(i, "item") for i in page.items)
    assert first.download == "/api/v1/submissions/11/download"
    assert first.complete
    assert not waiting.complete
    assert page.next_cursor
    answered = Page.parse(read("replies-page"), "replies")
    assert [ReplyObject.parse(i, "r").author for i in answered.items] == ["jo", None]
    listed = Page.parse(read("sources-page"), "sources")
    assert SourceObject.parse(listed.items[0], "s") == source
    assert TokenObject.parse(read("token"), "token").scope == "read"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"download": "/api/v1/../../etc"}, "download"),
        ({"download": "https://elsewhere/api/v1/submissions/1/download"}, "download"),
        ({"sealed_id": "../x"}, "sealed_id"),
        ({"kind": "reply"}, "kind"),
        ({"size": -1}, "size"),
        ({"id": True}, "id"),
        ({"created_at": "yesterday"}, "created_at"),
    ],
)
def test_a_hostile_listing_entry_is_refused(change: JsonObject, field: str) -> None:
    page = json.loads((WIRE / "api-submissions-page.json").read_text())
    entry = page["items"][0] | change
    with pytest.raises(RecordError, match=rf"listing: {field}"):
        SubmissionObject.parse(entry, "listing")


# --- the pulled folder ------------------------------------------------------------------------


links = st.builds(
    SourceLink,
    server=labels,
    source_id=st.integers(0, 10**18 - 1).map(str),
    designation=labels,
    sealed_id=sealed_ids,
    kind=st.sampled_from(("message", "file", "reply")),
    created_at=st.none() | moments.map(format_utc),
    order=st.none() | ids,
)
facts = st.builds(
    DownloadFacts,
    tar_size=small,
    tar_sha256=hex64,
    etag=st.text(max_size=40),
    pulled_at=moments.map(format_utc),
)


@given(links, st.none() | facts)
def test_a_sidecar_round_trips_to_its_bytes(
    link: SourceLink, download: DownloadFacts | None
) -> None:
    sidecar = Sidecar(link, download)
    data = sidecar.encode()
    back = Sidecar.decode(data, "ID.json")
    assert back == sidecar
    assert back.encode() == data


@given(labels, st.integers(0, 10**18 - 1).map(str), labels, st.none() | moments.map(format_utc))
def test_the_folder_records_round_trip(
    server: str, source_id: str, name: str, at: str | None
) -> None:
    assert (
        FolderClaim.parse(through_json(FolderClaim(server).to_json()), "pull.json").server == server
    )
    record = SourceRecord(source_id, name, at)
    assert SourceRecord.parse(through_json(record.to_json()), "source.json") == record


@pytest.mark.parametrize(
    "name", ["pulled-from-tar.json", "pulled-sidecar.json", "pulled-reply-no-order.json"]
)
def test_old_sidecars_parse(name: str) -> None:
    data = (WIRE / name).read_bytes()
    sidecar = Sidecar.decode(data, name)
    assert sidecar.link.source_id in ("7", "8")
    assert (sidecar.download is not None) == (name == "pulled-sidecar.json")
    if name != "pulled-sidecar.json":  # the newsroom's own bytes: the codec writes them alike
        assert sidecar.encode() == data
    claim = load_json((WIRE / "pull-folder.json").read_bytes(), "pull.json")
    assert FolderClaim.parse(claim, "pull.json").server == "http://newsroom.example.onion"


def test_sidecars_of_early_versions_parse() -> None:
    """Without ``created_at`` and ``order``, with the source id as a number."""
    value = json.loads((WIRE / "pulled-from-tar.json").read_text())
    del value["created_at"], value["order"]
    value["source"]["id"] = 7
    link = Sidecar.parse(value, "ID.json").link
    assert (link.source_id, link.created_at, link.order) == ("7", None, None)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"format": "tainik.org/pulled/v2"}, "format"),
        ({"server": "http://x\n.onion"}, "server"),
        ({"source": {"id": "07", "designation": "a"}}, "source.id"),
        ({"source": {"id": "7", "designation": "a\x1b[31m"}}, "source.designation"),
        ({"kind": "video"}, "kind"),
        ({"order": 1.5}, "order"),
        ({"created_at": "2026-12-06T04:57:03+03:00"}, "created_at"),
        ({"tar_size": 1}, "tar_sha256"),
    ],
)
def test_a_broken_sidecar_is_refused_naming_the_field(change: JsonObject, field: str) -> None:
    value = json.loads((WIRE / "pulled-from-tar.json").read_text()) | change
    with pytest.raises(RecordError, match=rf"ID.json: {field}"):
        Sidecar.parse(value, "ID.json")


# --- the send state ---------------------------------------------------------------------------


@given(
    st.binary(min_size=32, max_size=32),
    st.none() | st.text("0123456789abcdef", min_size=32, max_size=32),
    st.dictionaries(
        st.text("0123456789abcdef", min_size=32, max_size=32),
        st.builds(StateItem, sealed_ids, st.booleans()),
        max_size=5,
    ),
    st.booleans(),
)
def test_a_send_state_round_trips_to_its_bytes(
    key: bytes, owner: str | None, items: dict[str, StateItem], unconfirmed: bool
) -> None:
    record = SendStateRecord(key, owner, items, unconfirmed)
    data = record.encode()
    back = parse_state(load_json(data, "state"), "state")
    assert back == record
    assert isinstance(back, SendStateRecord)
    assert back.encode() == data


@pytest.mark.parametrize("name", ["send-state-v3.json", "send-state-v3-unconfirmed.json"])
def test_old_send_states_of_format_3_parse_to_their_bytes(name: str) -> None:
    data = (WIRE / name).read_bytes()
    record = parse_state(load_json(data, name), name)
    assert isinstance(record, SendStateRecord)
    assert record.encode() == data
    assert record.unconfirmed == ("unconfirmed" in name)


def test_a_send_state_of_format_2_gives_its_upload_ids() -> None:
    data = (WIRE / "send-state-v2.json").read_bytes()
    record = parse_state(load_json(data, "v2"), "v2")
    assert isinstance(record, LegacyState)
    assert record.owner == "97674def93d20b9a28d3622cef80f8af"
    file, message = sorted(record.entries, key=lambda e: e.key)
    assert (file.id, file.done, file.size) == ("aeaqcaibaeaqcaibaeaqcaibae", True, 1048576)
    assert (message.id, message.done, message.size) == ("aibaeaqcaibaeaqcaibaeaqcai", False, None)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"key": "00"}, "key"),
        ({"owner": "someone"}, "owner"),
        ({"items": {"x": {"id": "a", "done": "yes"}}}, r"items.x.done"),
        ({"v": 4}, "v"),
        ({"paths": []}, "paths"),
    ],
)
def test_a_broken_send_state_is_refused_naming_the_field(change: JsonObject, field: str) -> None:
    value = json.loads((WIRE / "send-state-v3.json").read_text()) | change
    with pytest.raises(RecordError, match=rf"state: {field}"):
        parse_state(value, "state")
