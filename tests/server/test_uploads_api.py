"""The resumable upload API (docs/protocol.md), in process."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from starlette.testclient import TestClient

from backends import sealed_dir
from tainik import crypto
from tainik.core.manifest import Kind, Manifest
from tainik.core.segments import DEFAULT_SEGMENT_SIZE, SegmentPlan
from tainik.core.upload import MAX_SEGMENTS, MAX_UPLOAD_BYTES
from tainik.sealed.reader import SealedOpener
from tainik.sealed.writer import new_sealed_id
from tainik.server.app import source_app
from tainik.service import uploads
from tainik.service.instance import Instance
from tainik.service.maintenance import ServeLock, recover
from tainik.storage import schema

from .conftest import csrf, new_source

S = DEFAULT_SEGMENT_SIZE


class Upload:
    """A client-side sealed file, ready to send through the API."""

    def __init__(self, data: bytes, org: crypto.Identity, name: str = "clip.mp4") -> None:
        self.data = data
        self.org = org
        self.plan = SegmentPlan(len(data), S)
        self.slices = [
            data[self.plan.offset(i) : self.plan.offset(i) + self.plan.size_of(i)]
            for i in range(self.plan.count)
        ]
        self.manifest = Manifest(
            id=new_sealed_id(),
            kind=Kind.FILE,
            name=name.encode(),
            size=len(data),
            segment_size=S,
            sha256=hashlib.sha256(data).digest(),
            segment_hashes=tuple(hashlib.sha256(s).digest() for s in self.slices),
        )
        self.name = name

    def segment(self, index: int) -> bytes:
        return crypto.encrypt(self.slices[index], [self.org.recipient])

    def note(self, recipient: str) -> str:
        body = json.dumps(
            {
                "v": 1,
                "name": self.name,
                "size": len(self.data),
                "sha256": self.manifest.sha256.hex(),
                "kind": "file",
            }
        ).encode()
        return base64.b64encode(crypto.encrypt(body, [crypto.Recipient(recipient)])).decode()


def headers(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.cookies["tainik_csrf"]}


def create(client: TestClient, upload: Upload) -> Any:
    """POST /api/uploads for ``upload``, with a note to this session's reply recipient
    (POST /api/session: a new source's keys are derived when it is ready to send)."""
    session = client.post("/api/session", headers=headers(client)).json()
    return client.post(
        "/api/uploads",
        headers=headers(client),
        json={
            "id": upload.manifest.id,
            "segments": upload.plan.count,
            "note": upload.note(session["recipient"]),
        },
    )


def recipient(client: TestClient) -> str:
    """The session's reply recipient (derived now if the source is new)."""
    answer: str = client.post("/api/session", headers=headers(client)).json()["recipient"]
    return answer


def start(client: TestClient, upload: Upload) -> dict[str, object]:
    response = create(client, upload)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def put(client: TestClient, upload: Upload, index: int, body: bytes | None = None) -> int:
    response = client.put(
        f"/api/uploads/{upload.manifest.id}/segments/{index}",
        headers=headers(client),
        content=upload.segment(index) if body is None else body,
    )
    return response.status_code


def finish(client: TestClient, upload: Upload) -> int:
    assert (
        client.put(
            f"/api/uploads/{upload.manifest.id}/manifest",
            headers=headers(client),
            content=crypto.encrypt(upload.manifest.encode(), [upload.org.recipient]),
        ).status_code
        == 200
    )
    return client.post(
        f"/api/uploads/{upload.manifest.id}/complete", headers=headers(client)
    ).status_code


def all_but_complete(client: TestClient, upload: Upload) -> None:
    """Create ``upload`` and send its segments and manifest."""
    start(client, upload)
    for index in range(upload.plan.count):
        assert put(client, upload, index) == 200
    manifest = crypto.encrypt(upload.manifest.encode(), [upload.org.recipient])
    path = f"/api/uploads/{upload.manifest.id}/manifest"
    assert client.put(path, headers=headers(client), content=manifest).status_code == 200


@pytest.fixture
def source(client: TestClient) -> TestClient:
    new_source(client)
    csrf(client)
    return client


def test_resumable_upload_round_trip(
    source: TestClient, instance: Instance, org: crypto.Identity, tmp_path: Path
) -> None:
    upload = Upload(os.urandom(2 * S + 1000), org)
    view = start(source, upload)
    assert view["received"] == []
    assert put(source, upload, 2) == 200
    assert put(source, upload, 0) == 200
    assert put(source, upload, 0) == 200  # a retry: idempotent, replaces
    again = source.put(
        f"/api/uploads/{upload.manifest.id}/segments/2",
        headers=headers(source),
        content=upload.segment(2),
    )
    assert again.json() == {"stored": 2}  # the index: no listing of the folder per request
    listing = source.get("/api/uploads").json()["uploads"]
    assert listing[0]["received"] == [0, 2]
    assert listing[0]["note"]["name"] == "clip.mp4"
    missing = source.post(f"/api/uploads/{upload.manifest.id}/complete", headers=headers(source))
    assert missing.status_code == 400
    assert missing.json()["error"] == "incomplete"
    assert missing.json()["missing"] == [1]
    assert put(source, upload, 1) == 200
    assert finish(source, upload) == 200
    assert source.get("/api/uploads").json()["uploads"] == []
    assert (
        source.post(
            f"/api/uploads/{upload.manifest.id}/complete", headers=headers(source)
        ).status_code
        == 200
    )
    blob = sealed_dir(instance, upload.manifest.id, tmp_path / "blobs")
    opened = SealedOpener([org], jobs=1).open(blob, tmp_path)
    assert opened.path.read_bytes() == upload.data
    with instance.engine.begin() as db:
        kinds = db.execute(select(schema.submissions.c.kind)).scalars().all()
    assert kinds == ["file"]


def test_the_note_is_ciphertext_at_rest(
    source: TestClient, instance: Instance, org: crypto.Identity
) -> None:
    upload = Upload(b"x" * 10, org, name="secret-name-canary.mp4")
    start(source, upload)
    for path in instance.config.data_dir.rglob("*"):
        if path.is_file():
            assert b"secret-name-canary" not in path.read_bytes()


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("index beyond", 400, "segment_index"),
        ("not age", 400, "not_age"),
        ("short full segment", 400, "segment_size"),
        ("too large", 413, "too_large"),
    ],
)
def test_bad_segments_are_refused(
    source: TestClient, org: crypto.Identity, case: str, status: int, code: str, instance: Instance
) -> None:
    upload = Upload(os.urandom(S + 10), org)
    start(source, upload)
    target, body = 0, upload.segment(0)
    if case == "index beyond":
        target = 2
    elif case == "not age":
        body = b"hello" * 100
    elif case == "short full segment":
        body = crypto.encrypt(upload.slices[0][:-1], [org.recipient])
    elif case == "too large":
        body = body + os.urandom(70_000)
    response = source.put(
        f"/api/uploads/{upload.manifest.id}/segments/{target}",
        headers=headers(source),
        content=body,
    )
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert instance.uploads.received(upload.manifest.id) == []


def test_last_segment_size_is_checked(source: TestClient, org: crypto.Identity) -> None:
    upload = Upload(os.urandom(S + 10), org)
    start(source, upload)
    good = crypto.encrypt(b"y" * 777, [org.recipient])
    assert put(source, upload, 1, good) == 200
    header = good[: good.index(b"\n--- ") + 1 + 48]
    # 65,569 payload bytes: one byte more than one full 64 KiB chunk can carry, too few for two.
    assert put(source, upload, 1, header + os.urandom(16 + 65_536 + 16 + 1)) == 400
    assert put(source, upload, 1, header + os.urandom(16 + 65_537 + 32)) == 200


def test_uploads_belong_to_their_source(
    client: TestClient, instance: Instance, org: crypto.Identity
) -> None:
    new_source(client)
    csrf(client)
    upload = Upload(b"mine", org)
    start(client, upload)
    with TestClient(source_app(instance)) as other:
        new_source(other)
        csrf(other)
        assert other.get(f"/api/uploads/{upload.manifest.id}").status_code == 404
        assert put(other, upload, 0) == 404
        taken = other.post(
            "/api/uploads",
            headers=headers(other),
            json={
                "id": upload.manifest.id,
                "segments": 1,
                "note": upload.note(recipient(other)),
            },
        )
        assert taken.status_code == 409
        assert (
            other.delete(f"/api/uploads/{upload.manifest.id}", headers=headers(other)).status_code
            == 404
        )
    again = client.post(
        "/api/uploads",
        headers=headers(client),
        json={
            "id": upload.manifest.id,
            "segments": 1,
            "note": upload.note(recipient(client)),
        },
    )
    assert again.status_code == 200


@pytest.mark.parametrize(
    ("body", "recorded"),
    [
        (None, "file"),  # the browser page today: no body, recorded as before
        ({}, "file"),
        ({"kind": "file"}, "file"),
        ({"kind": "message"}, "message"),
    ],
)
def test_complete_records_the_kind_the_client_states(
    source: TestClient, instance: Instance, org: crypto.Identity, body: Any, recorded: str
) -> None:
    """Issue 14: the server cannot read the manifest, so the client states the kind."""
    upload = Upload(b"Camera 3, 14 March.", org)
    all_but_complete(source, upload)
    done = source.post(
        f"/api/uploads/{upload.manifest.id}/complete", headers=headers(source), json=body
    )
    assert done.json() == {"complete": True}
    with instance.engine.begin() as db:
        assert db.execute(select(schema.submissions.c.kind)).scalars().all() == [recorded]


@pytest.mark.parametrize(
    "body", [b'{"kind": "reply"}', b'{"kind": 1}', b'["message"]', b"message", b"{" * 2000]
)
def test_complete_refuses_a_kind_that_is_not_a_sources(
    source: TestClient, instance: Instance, org: crypto.Identity, body: bytes
) -> None:
    upload = Upload(b"x", org)
    all_but_complete(source, upload)
    done = source.post(
        f"/api/uploads/{upload.manifest.id}/complete", headers=headers(source), content=body
    )
    assert done.status_code in (400, 413), done.text
    with instance.engine.begin() as db:
        assert db.execute(select(schema.submissions.c.kind)).scalars().all() == []
    assert finish(source, upload) == 200  # the same upload, stated properly (or not at all)


def test_a_completed_upload_can_be_finished_again_by_its_source(
    source: TestClient, instance: Instance, org: crypto.Identity
) -> None:
    """A sender killed after the server committed, before it heard so, runs again from the
    start: creating the upload must say that everything is there (so nothing is sent again)
    and completing it again must succeed, never fail for ever on a "taken" id. Another
    source still gets 409."""
    upload = Upload(os.urandom(S + 10), org)
    start(source, upload)
    for index in range(upload.plan.count):
        assert put(source, upload, index) == 200
    assert finish(source, upload) == 200
    again = create(source, upload)
    assert again.status_code == 200, again.text
    view = again.json()
    assert view["received"] == list(range(upload.plan.count))
    assert view["manifest"] is True
    assert view["note"]["name"] == "clip.mp4"
    done = source.post(f"/api/uploads/{upload.manifest.id}/complete", headers=headers(source))
    assert done.json() == {"complete": True}
    assert not instance.uploads.ids(), "no new unfinished upload was made"
    with instance.engine.begin() as db:
        assert len(db.execute(select(schema.submissions.c.id)).all()) == 1
    with TestClient(source_app(instance)) as other:
        new_source(other)
        csrf(other)
        assert create(other, upload).status_code == 409


@pytest.mark.parametrize("processes", [False, True])
def test_concurrent_completes_commit_once_and_all_say_so(
    source: TestClient, instance: Instance, org: crypto.Identity, processes: bool
) -> None:
    """A client that retries ``complete`` (a slow circuit, two tabs, a sender run twice) may
    have several in flight at once: exactly one commits, and every caller hears that the
    upload is complete. (Four at once had told three of them it was incomplete, or failed.)
    With ``processes``, each caller reaches its own app over its own instance (its own
    database connections and commit lock), as with several server processes."""
    upload = Upload(os.urandom(S + 10), org)
    start(source, upload)
    for index in range(upload.plan.count):
        assert put(source, upload, index) == 200
    manifest = crypto.encrypt(upload.manifest.encode(), [org.recipient])
    path = f"/api/uploads/{upload.manifest.id}"
    assert source.put(f"{path}/manifest", headers=headers(source), content=manifest).is_success
    callers = 4
    barrier = threading.Barrier(callers)
    answers: list[tuple[int, Any]] = []

    def call() -> None:
        server = Instance.open(instance.config) if processes else instance
        try:
            with TestClient(source_app(server)) as client:
                client.cookies.update(source.cookies)
                barrier.wait()
                response = client.post(f"{path}/complete", headers=headers(client))
                answers.append((response.status_code, response.json()))
        finally:
            if processes:
                server.close()

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == [(200, {"complete": True})] * callers
    with instance.engine.begin() as db:
        assert len(db.execute(select(schema.submissions.c.id)).all()) == 1
        assert db.execute(select(schema.uploads.c.sealed_id)).all() == []
    assert instance.blobs.exists(upload.manifest.id)
    assert not instance.uploads.ids()


def test_the_size_limit_holds_for_api_uploads(
    source: TestClient, instance: Instance, org: crypto.Identity
) -> None:
    """The organisation's limit is not only the no-JS form's: an upload through the API that
    is certainly larger is refused at creation (by its segment count), and one whose last
    segment makes it larger is refused at that segment, which is not kept."""
    object.__setattr__(instance.config, "max_upload_bytes", 2 * S + 100)
    too_many = Upload(os.urandom(3 * S + 1), org)  # at least 2 S + 1 bytes: over
    response = create(source, too_many)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert "larger than this server accepts" in response.json()["message"]
    assert not instance.uploads.ids()

    just_over = Upload(os.urandom(2 * S + 101), org)  # 3 segments, possible until the last
    start(source, just_over)
    assert put(source, just_over, 0) == 200
    assert put(source, just_over, 1) == 200
    assert put(source, just_over, 2) == 413
    assert source.get(f"/api/uploads/{just_over.manifest.id}").json()["received"] == [0, 1]

    at_limit = Upload(os.urandom(2 * S + 100), org)
    start(source, at_limit)
    for index in range(at_limit.plan.count):
        assert put(source, at_limit, index) == 200
    assert finish(source, at_limit) == 200


def test_segment_counts_are_bounded_and_completing_walks_only_what_is_present(
    source: TestClient, instance: Instance, org: crypto.Identity
) -> None:
    """2^24 segments were accepted, and ``complete`` then built a set of every index (about
    2 GB). The count is bounded (1 TiB at 4 MiB segments); at the bound, an incomplete
    upload's answer lists the first 1,000 missing parts and counts all, in little memory."""
    object.__setattr__(instance.config, "max_unfinished_bytes", MAX_UPLOAD_BYTES)
    upload = Upload(b"x", org)
    note = upload.note(recipient(source))
    for count in (0, MAX_SEGMENTS + 1, 2**24):
        body = {"id": upload.manifest.id, "segments": count, "note": note}
        response = source.post("/api/uploads", headers=headers(source), json=body)
        assert response.status_code == 400, (count, response.text)
        assert response.json()["error"] == "bad_segments"
    body = {"id": upload.manifest.id, "segments": MAX_SEGMENTS, "note": note}
    assert source.post("/api/uploads", headers=headers(source), json=body).status_code == 201
    assert put(source, upload, 1, crypto.encrypt(b"y" * S, [org.recipient])) == 200
    tracemalloc.start()
    try:
        response = source.post(
            f"/api/uploads/{upload.manifest.id}/complete", headers=headers(source)
        )
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 400
    answer = response.json()
    assert answer["error"] == "incomplete"
    assert answer["missing"] == [0, *range(2, 1001)]
    assert f": {MAX_SEGMENTS}" in answer["message"]  # every segment but one, and the manifest
    assert peak < 4 * 1024 * 1024, peak


def test_notes_and_json_bodies_are_bounded(source: TestClient, org: crypto.Identity) -> None:
    """A note over its bound is refused, and a body announced larger than the largest
    possible one is refused (413) before the session is even looked up."""
    upload = Upload(b"x", org)
    big_note = base64.b64encode(b"age-encryption.org/v1\n" + b"x" * uploads.max_note_bytes(1))
    body = {"id": upload.manifest.id, "segments": 1, "note": big_note.decode()}
    response = source.post("/api/uploads", headers=headers(source), json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_note"
    with TestClient(source.app) as stranger:  # no session, no CSRF token
        response = stranger.post(
            "/api/uploads",
            content=b"{}",
            headers={"Content-Type": "application/json", "Content-Length": str(40 * 2**20)},
        )
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "too_large"


def test_the_session_states_the_largest_upload(source: TestClient, instance: Instance) -> None:
    """No instance limit still means at most 1 TiB per upload: clients compare before they
    hash. An instance limit below that is given as it is."""
    assert source.get("/api/session").json()["max_upload_bytes"] == MAX_UPLOAD_BYTES
    object.__setattr__(instance.config, "max_upload_bytes", 5_000_000)
    assert source.get("/api/session").json()["max_upload_bytes"] == 5_000_000


@pytest.mark.embedded
def test_a_full_disk_has_its_own_error_code(
    source: TestClient, instance: Instance, org: crypto.Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """507 says the server's storage is full, never "bad_request" (the client did nothing
    wrong, and should retry later)."""
    upload = Upload(b"x" * 10, org)
    start(source, upload)

    def full(*_args: object) -> int:
        raise OSError(28, "No space left on device")

    # Parts are written at offsets (O_DIRECT) or as gathered chunks, by file system.
    monkeypatch.setattr("tainik.sealed.durable.os.pwrite", full)
    monkeypatch.setattr("tainik.sealed.durable.os.writev", full)
    response = source.put(
        f"/api/uploads/{upload.manifest.id}/segments/0",
        headers=headers(source),
        content=upload.segment(0),
    )
    monkeypatch.undo()
    assert response.status_code == 507
    assert response.json()["error"] == "storage_full"
    assert instance.uploads.received(upload.manifest.id) == []


def test_csrf_and_session_are_required(client: TestClient, org: crypto.Identity) -> None:
    csrf(client)
    assert client.get("/api/uploads").status_code == 401
    new_source(client)
    upload = Upload(b"x", org)
    response = client.post(
        "/api/uploads", json={"id": upload.manifest.id, "segments": 1, "note": "eA=="}
    )
    assert response.status_code == 403
    assert response.json()["error"] == "csrf"


def test_abandon_and_expiry(source: TestClient, instance: Instance, org: crypto.Identity) -> None:
    first, second = Upload(b"a" * 5, org), Upload(b"b" * 5, org)
    start(source, first)
    start(source, second)
    put(source, second, 0)
    assert (
        source.delete(f"/api/uploads/{first.manifest.id}", headers=headers(source)).status_code
        == 204
    )
    assert not instance.uploads.exists(first.manifest.id)
    later = instance.clock() + timedelta(hours=instance.config.unfinished_upload_hours + 1)
    instance.clock = lambda: later
    assert uploads.expire_uploads(instance) == 1
    assert not instance.uploads.exists(second.manifest.id)
    with instance.engine.begin() as db:
        assert db.execute(select(schema.uploads)).all() == []


def test_recovery_finishes_a_commit_cut_short(
    source: TestClient, instance: Instance, org: crypto.Identity, tmp_path: Path
) -> None:
    upload = Upload(os.urandom(1000), org)
    start(source, upload)
    put(source, upload, 0)
    source.put(
        f"/api/uploads/{upload.manifest.id}/manifest",
        headers=headers(source),
        content=crypto.encrypt(upload.manifest.encode(), [org.recipient]),
    )
    # The crash: renamed into the blob store, not yet recorded.
    instance.uploads.commit(upload.manifest.id, instance.blobs)
    stray = new_sealed_id()
    instance.blobs.new_sink(stray).commit()  # a complete container with no record at all
    lock = ServeLock(instance)
    try:
        recovered = recover(instance, lock)
    finally:
        lock.release()
    assert recovered.orphans == 1
    assert not instance.blobs.exists(stray)
    blob = sealed_dir(instance, upload.manifest.id, tmp_path / "blobs")
    opened = SealedOpener([org], jobs=1).open(blob, tmp_path)
    assert opened.path.read_bytes() == upload.data


def test_session_info(source: TestClient, instance: Instance, org: crypto.Identity) -> None:
    """A new source's session says so, and has no recipient until it is ready to send
    (POST /api/session derives its keys, once); its first upload makes it a source."""
    info = source.get("/api/session").json()
    assert info["new"] is True
    assert info["recipient"] is None
    assert info["organisation"] == [r.text for r in instance.config.recipients]
    assert info["segment_size"] == S
    assert info["csrf"] == source.cookies["tainik_csrf"]
    ready = source.post("/api/session", headers=headers(source)).json()
    assert ready["recipient"].startswith("age1")
    assert ready["new"] is True
    assert source.get("/api/session").json()["recipient"] == ready["recipient"]
    start(source, Upload(b"first", org))
    live = source.get("/api/session").json()
    assert live["new"] is False
    assert live["recipient"] == ready["recipient"]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _clean_4xx(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert "error" in response.json(), response.text


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        JSON,
        st.fixed_dictionaries(
            {"id": JSON | st.just(new_sealed_id()), "segments": JSON, "note": JSON | st.text()}
        ),
    ),
    raw=st.binary(max_size=200),
)
def test_fuzzed_api_requests_never_cause_a_server_error(
    source: TestClient, body: Any, raw: bytes
) -> None:
    """Whatever JSON (or bytes) a client sends to the source API, the answer is a 2xx or a 4xx
    with an error code, never a 500: create, login, and segment and manifest bodies."""
    _clean_4xx(source.post("/api/uploads", headers=headers(source), json=body))
    _clean_4xx(source.post("/api/uploads", headers=headers(source), content=raw))
    _clean_4xx(source.post("/api/login", headers=headers(source), json=body))
    given_id = body.get("id") if isinstance(body, dict) else None
    # Any text as the id, quoted into the path: the server must refuse it cleanly.
    sealed_id = quote(given_id, safe="") if isinstance(given_id, str) and given_id else "x"
    for path in (f"/api/uploads/{sealed_id}/segments/0", f"/api/uploads/{sealed_id}/manifest"):
        _clean_4xx(source.put(path, headers=headers(source), content=raw))
    _clean_4xx(source.post(f"/api/uploads/{sealed_id}/complete", headers=headers(source)))


def test_an_upload_completed_by_another_process_while_listed_has_no_parts(
    instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race behind a 500 seen once in CI: a complete in one process checks the upload's
    folder while another process renames it into the blob store; listing the folder then
    finds it gone. That is "nothing here", and the complete goes on to find the blob."""
    from tainik.core.manifest import encode_id

    sealed_id = encode_id(bytes(16))
    instance.uploads.create(sealed_id)

    def gone(path: object) -> object:
        raise FileNotFoundError(2, "No such file or directory", str(path))

    monkeypatch.setattr(os, "scandir", gone)
    assert instance.uploads.received(sealed_id) == []


def test_unfinished_uploads_have_a_quota_per_source(
    source: TestClient, instance: Instance, org: crypto.Identity
) -> None:
    """What a source's unfinished uploads may claim (their declared size) is bounded; finishing
    or abandoning one gives its claim back. Another source has its own."""
    object.__setattr__(instance.config, "max_unfinished_bytes", 5 * S)
    first, second = Upload(b"a" * (2 * S), org), Upload(b"b" * (2 * S), org)
    start(source, first)
    start(source, second)  # 4 segments claimed of 5
    third = Upload(b"c" * (S + 1), org)  # 2 more: over
    refused = create(source, third)
    assert refused.status_code == 413
    assert refused.json()["error"] == "quota"
    assert "finish or abandon" in refused.json()["message"]
    assert (
        source.delete(f"/api/uploads/{first.manifest.id}", headers=headers(source)).status_code
        == 204
    )
    assert create(source, third).status_code == 201
    with TestClient(source_app(instance)) as other:
        new_source(other)
        csrf(other)
        assert create(other, Upload(b"d" * (2 * S), org)).status_code == 201
