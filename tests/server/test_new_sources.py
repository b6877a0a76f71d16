"""A codename costs nothing kept until it sends something (issue 15, A): no row, no Argon2id.

Generating a codename writes no row and runs no derivation; the source's row and keys come
with its first submission (a message or file through the form, or its first resumable
upload). A login with a codename that never sent anything is refused with a clear message and
writes nothing.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from starlette.testclient import TestClient

from tainik import crypto
from tainik.server.app import source_app
from tainik.service.instance import Instance
from tainik.service.kdf_gate import KdfGate
from tainik.storage import schema

from .conftest import csrf, known_source, new_source
from .test_uploads_api import Upload, headers, start

SESSION = "tainik_source"


def rows(instance: Instance, table: str = "sources") -> int:
    with instance.engine.begin() as db:
        return int(
            db.execute(select(func.count()).select_from(schema.metadata.tables[table])).scalar_one()
        )


def use_cookie(client: TestClient, value: str) -> None:
    """Make ``value`` the only session cookie the client sends."""
    client.cookies.delete(SESSION)
    client.cookies.set(SESSION, value)


def send_message(client: TestClient, message: str) -> str:
    response = client.post(
        "/submit",
        data={"csrf": csrf(client), "message": message},
        files=[("files", ("", b"", "application/octet-stream"))],
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def test_a_flood_of_new_codenames_writes_nothing_and_derives_nothing(
    client: TestClient, instance: Instance
) -> None:
    # A gate that refuses every derivation (no queue): any Argon2id run would answer 429.
    instance.kdf_gate = KdfGate(queue=0)
    token = csrf(client)
    for _ in range(100):
        assert client.post("/generate", data={"csrf": token}).status_code == 200
        answer = client.post("/api/sources", headers={"x-csrf-token": token})
        assert answer.status_code == 201
        assert len(answer.json()["codename"].split()) == 7
    assert client.get("/lookup").status_code == 200
    assert client.get("/api/uploads").json() == {"uploads": []}
    assert rows(instance) == 0
    assert rows(instance, "source_sessions") == 0
    # The one thing written: the key of this epoch's cookies (shared by every process).
    assert rows(instance, "cookie_keys") == 1


def test_a_new_source_is_written_with_its_first_message(
    client: TestClient, instance: Instance
) -> None:
    codename = new_source(client)
    cookie = client.cookies[SESSION]
    assert codename.split()[0] not in cookie  # sealed, not readable
    page = client.get("/lookup")
    assert 'id="new-source"' in page.text
    assert send_message(client, "") == "/lookup?sent=0"  # nothing sent: nothing written
    assert rows(instance) == 0
    assert send_message(client, "the first thing I send") == "/lookup?sent=1"
    assert rows(instance) == 1
    assert rows(instance, "submissions") == 1
    assert client.cookies[SESSION] != cookie  # now a live session of a stored source
    for path in instance.config.data_dir.glob("tainik.db*"):  # stored: never the codename
        assert max(codename.split(), key=len).encode() not in path.read_bytes()
    assert 'id="new-source"' not in client.get("/lookup").text
    assert send_message(client, "and a second") == "/lookup?sent=1"
    assert rows(instance) == 1
    assert rows(instance, "submissions") == 2
    # The codename now logs in, to the same source.
    client.post("/logout", data={"csrf": csrf(client)})
    answer = client.post(
        "/login", data={"csrf": csrf(client), "codename": codename}, follow_redirects=False
    )
    assert answer.headers["location"] == "/lookup"
    assert rows(instance) == 1


def test_a_codename_that_never_sent_anything_is_refused_clearly(
    client: TestClient, instance: Instance
) -> None:
    codename = new_source(client)
    client.post("/logout", data={"csrf": csrf(client)})
    answer = client.post("/login", data={"csrf": csrf(client), "codename": codename})
    assert answer.status_code == 403
    assert "kept only once something has been sent with it" in answer.text
    api = {"x-csrf-token": csrf(client)}
    refused = client.post("/api/login", json={"codename": codename}, headers=api)
    assert refused.status_code == 403
    assert refused.json()["error"] == "unknown_codename"
    assert rows(instance) == 0
    # tainik send holds a codename it got and never sent with: it may say so ("new").
    accepted = client.post("/api/login", json={"codename": codename, "new": True}, headers=api)
    assert accepted.status_code == 204
    session = client.get("/api/session").json()
    assert session["new"] is True
    assert session["recipient"].startswith("age1")  # derived at login
    assert rows(instance) == 0


def test_a_known_source_logs_in_even_when_it_says_new(
    client: TestClient, instance: Instance
) -> None:
    codename = known_source(client)
    client.cookies.delete(SESSION)
    api = {"x-csrf-token": csrf(client)}
    assert (
        client.post("/api/login", json={"codename": codename, "new": True}, headers=api)
    ).status_code == 204
    assert client.get("/api/session").json()["new"] is False
    assert rows(instance) == 1


def test_the_api_writes_a_source_at_its_first_upload(
    client: TestClient, instance: Instance, org: crypto.Identity
) -> None:
    token = csrf(client)
    assert client.post("/api/sources", headers={"x-csrf-token": token}).status_code == 201
    assert client.get("/api/uploads").json() == {"uploads": []}
    assert client.post("/api/session", headers=headers(client)).json()["recipient"]
    assert rows(instance) == 0
    new_cookie = client.cookies[SESSION]
    upload = Upload(b"evidence", org)
    start(client, upload)
    assert rows(instance) == 1
    assert rows(instance, "uploads") == 1
    assert client.cookies[SESSION] != new_cookie
    assert [u["id"] for u in client.get("/api/uploads").json()["uploads"]] == [upload.manifest.id]
    # An answer lost on the way: the client still holds the new source's cookie and asks
    # again; it reaches the same source and the same upload (nothing doubled).
    use_cookie(client, new_cookie)
    again = client.post(
        "/api/uploads",
        headers=headers(client),
        json={"id": upload.manifest.id, "segments": 1, "note": upload.note(org.recipient.text)},
    )
    assert again.status_code == 200
    assert rows(instance) == 1
    assert rows(instance, "uploads") == 1


def test_a_malformed_first_upload_writes_no_source(client: TestClient, instance: Instance) -> None:
    new_source(client)
    answer = client.post(
        "/api/uploads",
        headers=headers(client),
        json={"id": "not-an-id", "segments": 1, "note": "YWdl"},
    )
    assert answer.status_code == 400
    assert rows(instance) == 0


def test_logging_out_ends_a_new_source_cookie(client: TestClient, instance: Instance) -> None:
    new_source(client)
    cookie = client.cookies[SESSION]
    assert client.post("/logout", data={"csrf": csrf(client)}).status_code == 200
    use_cookie(client, cookie)
    assert client.get("/lookup", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/session").status_code == 401


def test_a_new_sources_cookie_opens_in_every_process_until_its_key_is_gone(
    client: TestClient, instance: Instance
) -> None:
    """Another process (a worker, another host, a restart) opens the cookie: the key is in
    the database. Two epochs on, the key is deleted and the cookie opens nowhere."""
    new_source(client)
    cookie = client.cookies[SESSION]
    other = Instance.open(instance.config)  # another process: only the database in common
    try:
        with TestClient(source_app(other), base_url="http://testserver") as after:
            after.cookies.set(SESSION, cookie)
            assert after.get("/lookup").status_code == 200
            assert 'id="new-source"' in after.get("/lookup").text
        # Two lifetimes on, a new codename is given: the first key is deleted with it.
        later = instance.clock() + 2 * timedelta(minutes=instance.config.session_idle_minutes)
        other.clock = lambda: later
        with TestClient(source_app(other), base_url="http://testserver") as after:
            assert after.post("/generate", data={"csrf": csrf(after)}).status_code == 200
            assert rows(other, "cookie_keys") == 1
            after.cookies.clear()
            after.cookies.set(SESSION, cookie)
            assert after.get("/lookup", follow_redirects=False).headers["location"] == "/login"
    finally:
        other.close()


def test_a_logout_ends_a_new_sources_cookie_in_every_process(
    client: TestClient, instance: Instance
) -> None:
    new_source(client)
    cookie = client.cookies[SESSION]
    other = Instance.open(instance.config)
    try:
        with TestClient(source_app(other), base_url="http://testserver") as after:
            after.cookies.set(SESSION, cookie)
            assert after.get("/lookup").status_code == 200
            assert after.post("/logout", data={"csrf": csrf(after)}).status_code == 200
        use_cookie(client, cookie)
        assert client.get("/lookup", follow_redirects=False).headers["location"] == "/login"
        assert rows(instance, "revoked_cookies") == 1
    finally:
        other.close()


def test_forged_new_source_cookies_are_refused(client: TestClient) -> None:
    new_source(client)
    cookie = client.cookies[SESSION]
    for forged in ("n." + "A" * 200, cookie[:-4] + "AAAA", "n.", "n." + "x" * 1000):
        use_cookie(client, forged)
        assert client.get("/api/session").status_code == 401


def test_concurrent_first_submissions_of_one_codename_make_one_source(
    client: TestClient, instance: Instance, tmp_path: Path
) -> None:
    new_source(client)
    cookie, token = client.cookies[SESSION], csrf(client)
    statuses: list[int] = []

    def first_submission() -> None:
        with TestClient(source_app(instance), base_url="http://testserver") as other:
            other.cookies.set(SESSION, cookie)
            other.cookies.set("tainik_csrf", token)
            statuses.append(
                other.post(
                    "/submit",
                    data={"csrf": token, "message": "at once"},
                    files=[("files", ("", b"", "application/octet-stream"))],
                    follow_redirects=False,
                ).status_code
            )

    threads = [threading.Thread(target=first_submission) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [303] * 4
    assert rows(instance) == 1
    assert rows(instance, "submissions") == 4
