"""The source interface over HTTP, in process: flows, safety headers, bad input."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.testclient import TestClient

from backends import sealed_dir, stored_entries
from source_client import multipart_file_head, multipart_tail
from tainik import crypto
from tainik.sealed.reader import SealedOpener
from tainik.server.security import HEADERS
from tainik.service import sources
from tainik.service.instance import Instance
from tainik.storage import schema

from .conftest import csrf, known_source, new_source


def count(instance: Instance, table: str) -> int:
    with instance.engine.begin() as db:
        return int(
            db.execute(select(func.count()).select_from(schema.metadata.tables[table])).scalar_one()
        )


def submit(
    client: TestClient,
    token: str,
    message: str = "",
    files: list[tuple[str, bytes]] | None = None,
    **extra: str,
) -> int:
    # As a browser does, an empty file part when no file is chosen.
    multipart = [
        ("files", (name, data, "application/octet-stream")) for name, data in (files or [("", b"")])
    ]
    response = client.post(
        "/submit",
        data={"csrf": token, "message": message, **extra},
        files=multipart,
        follow_redirects=False,
    )
    return response.status_code


def test_headers_on_every_kind_of_page(client: TestClient) -> None:
    first = client.get("/")
    for response in [
        first,
        client.get("/login"),
        client.get("/nowhere"),
        client.post("/generate", data={"csrf": "wrong"}),
        client.get("/static/style.css"),
    ]:
        for name, value in HEADERS.items():
            assert response.headers[name] == value, (response.url, name)
    cookie = first.headers.get("set-cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie


def test_full_flow_and_stored_files_open(
    client: TestClient, instance: Instance, org: crypto.Identity, tmp_path: Path
) -> None:
    codename = new_source(client)
    token = csrf(client)
    assert codename.split()[0] not in str(client.cookies)
    data = os.urandom(300_000)
    status = submit(client, token, "привет", [("clip.mp4", data), ("notes.txt", b"n")])
    assert status == 303
    assert count(instance, "submissions") == 3
    page = client.get("/lookup?sent=3")
    assert "We received 3 items" in page.text
    opener = SealedOpener([org], jobs=1)
    out = tmp_path / "out"
    blobs = [sealed_dir(instance, i, tmp_path / "blobs") for i in instance.blobs.ids()]
    opened = {opener.open(p, out).path.name for p in blobs}
    assert opened == {"clip.mp4", "notes.txt", "message.txt"}
    assert (out / "clip.mp4").read_bytes() == data
    assert (out / "message.txt").read_text() == "привет"
    # log out, log back in, read and delete a reply
    client.post("/logout", data={"csrf": token})
    assert client.get("/lookup", follow_redirects=False).headers["location"] == "/login"
    response = client.post(
        "/login", data={"csrf": token, "codename": codename.upper() + " "}, follow_redirects=False
    )
    assert response.status_code == 303
    with instance.engine.begin() as db:
        source_id = db.execute(select(schema.sources.c.id)).scalar_one()
    sources.add_reply(instance, source_id, "Спасибо, мы получили <видео>")
    page = client.get("/lookup")
    assert "Спасибо, мы получили &lt;видео&gt;" in page.text
    reply_id = page.text.split("/replies/")[1].split("/")[0]
    assert (
        client.post(
            f"/replies/{reply_id}/delete", data={"csrf": token}, follow_redirects=False
        ).status_code
        == 303
    )
    assert "No replies yet" in client.get("/lookup").text
    assert count(instance, "replies") == 0


def test_the_database_holds_no_codename(client: TestClient, instance: Instance) -> None:
    codename = new_source(client)
    db_files = list((instance.config.data_dir).glob("tainik.db*"))
    for path in db_files:
        content = path.read_bytes()
        assert codename.encode() not in content
        assert max(codename.split(), key=len).encode() not in content


@pytest.mark.parametrize("path", ["/generate", "/login", "/logout"])
def test_csrf_is_required(client: TestClient, path: str) -> None:
    csrf(client)
    assert client.post(path, data={}).status_code == 403
    assert client.post(path, data={"csrf": "forged"}).status_code == 403


def test_csrf_is_required_to_submit_and_delete(client: TestClient, instance: Instance) -> None:
    new_source(client)
    assert submit(client, "forged", "hello") == 403
    response = client.post("/submit", files=[("files", ("a", b"x"))], follow_redirects=False)
    assert response.status_code == 403
    assert count(instance, "submissions") == 0
    assert client.post("/replies/1/delete", data={"csrf": "x"}).status_code == 403
    assert stored_entries(instance) == []


def test_no_session_no_submission(client: TestClient) -> None:
    token = csrf(client)
    assert submit(client, token, "hello") == 403


def test_bad_codenames(client: TestClient) -> None:
    token = csrf(client)
    for typed in ["", "one two three", "x" * 2000, "a b c d e f g"]:
        response = client.post("/login", data={"csrf": token, "codename": typed})
        assert response.status_code == 403
        assert "codename" in response.text
        assert typed not in response.text or not typed


def test_junk_logins_do_not_lock_a_source_out(client: TestClient, instance: Instance) -> None:
    """Junk is refused before any Argon2id run and counted nowhere: a flood of it (which once
    spent a global budget of failures) leaves a returning source free to log in."""
    codename = known_source(client)
    client.cookies.delete("tainik_session")
    token = csrf(client)
    api = {"x-csrf-token": token}
    for i in range(100):
        junk = f"not a codename {i}"
        assert client.post("/login", data={"csrf": token, "codename": junk}).status_code == 403
        assert client.post("/api/login", json={"codename": junk}, headers=api).status_code == 400
    # Well-formed wrong codenames cost a derivation each, and are refused as unknown, not
    # throttled: nothing counts them either.
    words = codename.split()
    wrong = " ".join([words[1], words[0], *words[2:]])
    statuses = {
        client.post("/login", data={"csrf": token, "codename": wrong}).status_code
        for _ in range(35)
    }
    assert statuses == {403}
    response = client.post(
        "/login", data={"csrf": token, "codename": codename}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/lookup"
    client.cookies.delete("tainik_session")
    assert client.post("/api/login", json={"codename": codename}, headers=api).status_code == 204
    assert client.get("/lookup").status_code == 200


def test_session_expires_after_inactivity(client: TestClient, instance: Instance) -> None:
    new_source(client)
    assert client.get("/lookup").status_code == 200
    later = instance.clock() + timedelta(minutes=instance.config.session_idle_minutes + 1)
    instance.clock = lambda: later
    assert client.get("/lookup", follow_redirects=False).headers["location"] == "/login"


def test_honeypot_keeps_nothing(client: TestClient, instance: Instance) -> None:
    new_source(client)
    assert submit(client, csrf(client), "spam", website="http://spam.example") == 303
    assert count(instance, "submissions") == 0
    assert stored_entries(instance) == []


def test_message_too_long(client: TestClient, instance: Instance) -> None:
    new_source(client)
    response = client.post(
        "/submit",
        data={"csrf": csrf(client), "message": "я" * 100_001},
        files=[("files", ("", b""))],
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert "longer than 100000 characters" in response.text
    assert count(instance, "submissions") == 0


def test_upload_limit(client: TestClient, instance: Instance) -> None:
    object.__setattr__(instance.config, "max_upload_bytes", 100_000)
    new_source(client)
    assert submit(client, csrf(client), files=[("big.bin", os.urandom(200_000))]) == 413
    assert count(instance, "submissions") == 0
    assert stored_entries(instance) == []


def test_the_limit_is_said_in_units_and_a_refused_form_keeps_its_message(
    client: TestClient, instance: Instance
) -> None:
    """Issue 14, item 4: the page says the limit as people read it, in its language; a form
    over it (by its declared length) is refused before a file byte is read and shown again
    with the message typed in."""
    object.__setattr__(instance.config, "max_upload_bytes", 10_485_760)
    new_source(client)
    token = csrf(client)
    assert "Largest upload this server accepts: 10.5 MB." in client.get("/lookup").text
    russian = client.get("/lookup", headers={"Accept-Language": "ru"}).text
    assert "не больше 10,5\u00a0МБ." in russian or "не больше 10,5 МБ." in russian
    big = [("files", ("big.bin", b"\0" * 10_500_000, "application/octet-stream"))]
    message = "Keep <this>, please:\nsecond line"
    response = client.post(
        "/submit", data={"csrf": token, "message": message}, files=big, follow_redirects=False
    )
    assert response.status_code == 413
    assert "Nothing was sent: the files are larger than this server accepts (10.5 MB" in (
        response.text
    )
    assert "Your message is still below" in response.text
    assert ">\nKeep &lt;this&gt;, please:\nsecond line</textarea>" in response.text
    assert count(instance, "submissions") == 0
    assert stored_entries(instance) == []
    # Without the form's token, the page says no more than the limit, and echoes nothing.
    response = client.post("/submit", data={"message": message}, files=big)
    assert response.status_code in (403, 413)
    assert "Keep &lt;this&gt;" not in response.text


def test_a_form_with_no_declared_length_over_the_limit_keeps_its_message(
    client: TestClient, instance: Instance
) -> None:
    """A body sent without a length (not a browser's form) is refused when it passes the limit;
    the fields before the files were parsed by then (a batch is 1 MiB), and are shown again."""
    object.__setattr__(instance.config, "max_upload_bytes", 1_500_000)
    new_source(client)
    boundary = "tainik-test-boundary"
    head = multipart_file_head(
        boundary, [("csrf", csrf(client)), ("message", "still here")], "big.bin"
    )

    def chunked() -> Iterator[bytes]:  # a generator: sent without Content-Length
        yield head
        for _ in range(40):
            yield b"\0" * 50_000
        yield multipart_tail(boundary)

    response = client.post(
        "/submit",
        content=chunked(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert ">\nstill here</textarea>" in response.text
    assert "(1.5 MB for one sending)" in response.text
    assert count(instance, "submissions") == 0


@pytest.mark.embedded
def test_full_disk_is_a_clear_error_and_loses_nothing(
    client: TestClient, instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_source(client)
    token = csrf(client)
    assert submit(client, token, "first, kept") == 303
    real = os.pwrite
    calls = {"n": 0}

    def failing_write(fd: int, data: bytes | memoryview, offset: int) -> int:
        calls["n"] += 1
        if calls["n"] > 1:
            raise OSError(28, "No space left on device")
        written: int = real(fd, data, offset)
        return written

    # Files are written at offsets (durable.PositionalWriter), O_DIRECT or not.
    monkeypatch.setattr("tainik.sealed.durable.os.pwrite", failing_write)
    response = client.post(
        "/submit", data={"csrf": token}, files=[("files", ("f.bin", os.urandom(5_000_000)))]
    )
    monkeypatch.undo()
    assert response.status_code == 507
    assert "storage may be full" in response.text
    assert "/instance" not in response.text  # no server paths
    assert count(instance, "submissions") == 1
    assert len(stored_entries(instance)) == 1


RAW_BODIES = {
    "no content type": (None, b"x"),
    "not multipart": ("text/plain", b"x"),
    "missing boundary": ("multipart/form-data", b"--x\r\n"),
    "garbage": ("multipart/form-data; boundary=zzz", b"\x00\xff" * 100),
    "truncated": (
        "multipart/form-data; boundary=zzz",
        b'--zzz\r\nContent-Disposition: form-data; name="message"\r\n\r\nhel',
    ),
    "no closing boundary": (
        "multipart/form-data; boundary=zzz",
        b'--zzz\r\nContent-Disposition: form-data; name="message"\r\n\r\nhi\r\n',
    ),
    "no disposition": (
        "multipart/form-data; boundary=zzz",
        b"--zzz\r\nContent-Type: text/plain\r\n\r\nhi\r\n--zzz--\r\n",
    ),
    "huge part header": (
        "multipart/form-data; boundary=zzz",
        b"--zzz\r\nX-Junk: " + b"a" * 40_000 + b"\r\n\r\nhi\r\n--zzz--\r\n",
    ),
    "long boundary": ("multipart/form-data; boundary=" + "b" * 300, b"x"),
}


@pytest.mark.parametrize("case", list(RAW_BODIES))
def test_malformed_bodies_get_a_clear_4xx(
    case: str, client: TestClient, instance: Instance
) -> None:
    new_source(client)
    content_type, body = RAW_BODIES[case]
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/submit", content=body, headers=headers)
    assert 400 <= response.status_code < 500, response.status_code
    assert "Traceback" not in response.text
    assert "Something is wrong" in response.text
    assert count(instance, "submissions") == 0
    assert stored_entries(instance) == []


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=3000))
def test_fuzzed_bodies_never_cause_a_server_error(client: TestClient, body: bytes) -> None:
    new_source(client)
    response = client.post(
        "/submit",
        content=b"--zzz\r\n" + body,
        follow_redirects=False,
        headers={"content-type": "multipart/form-data; boundary=zzz"},
    )
    assert response.status_code < 500


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.text(min_size=1, max_size=300).filter(
        lambda n: "\x00" not in n and '"' not in n and "\r" not in n and "\n" not in n
    )
)
def test_hostile_file_names_are_stored_safely(
    client: TestClient, instance: Instance, org: crypto.Identity, name: str, tmp_path: Path
) -> None:
    new_source(client)
    before = set(instance.blobs.ids())
    assert submit(client, csrf(client), files=[(name, b"data")]) == 303
    [sealed_id] = set(instance.blobs.ids()) - before
    out = tmp_path / "safe"
    container = sealed_dir(instance, sealed_id, tmp_path / "blobs")
    opened = SealedOpener([org], jobs=1).open(container, out)
    assert opened.path.resolve().parent == out.resolve()
    for extra in out.iterdir():
        extra.unlink()


def test_pages_in_russian(client: TestClient) -> None:
    page = client.get("/", headers={"accept-language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert '<html lang="ru">' in page.text
    assert "кодов" in page.text.lower()
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text
    assert client.cookies.get("tainik_lang") == "en"


@pytest.mark.embedded
def test_database_file_is_private(instance: Instance) -> None:
    sqlite3.connect(instance.config.data_dir / "tainik.db").close()
    assert oct(instance.config.data_dir.stat().st_mode & 0o777) == oct(0o700)


def test_oversized_request_headers_are_refused(client: TestClient) -> None:
    response = client.get("/", headers={"x-padding": "a" * 20_000})
    assert response.status_code == 431
    assert response.headers["x-frame-options"] == "DENY"
    assert client.get("/", headers={"x-padding": "a" * 8_000}).status_code == 200


def test_internal_errors_show_a_page_and_log_no_exception_text(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    known_source(client)

    def broken(*_args: object) -> None:
        raise ValueError("SECRET-REQUEST-DATA")

    monkeypatch.setattr(sources, "list_replies", broken)
    response = client.get("/lookup")
    assert response.status_code == 500
    assert "SECRET" not in response.text
    assert "Traceback" not in response.text
    assert "ValueError" in caplog.text
    assert "SECRET-REQUEST-DATA" not in caplog.text
