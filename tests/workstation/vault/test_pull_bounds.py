"""``tainik pull`` against a hostile server: nothing it sends is read without a bound.

A fake newsroom API (a real HTTP server on loopback) sends a listing that never ends, loops
back to a page it sent, pages larger than asked, an endless JSON answer, and downloads larger
than the listing announced. The fake stops by itself after a while, so that a client without
bounds finishes (and the test fails) instead of hanging the suite.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tainik.crypto import Secret
from tainik.workstation.pull import client as pull_client
from tainik.workstation.pull.client import ApiClient, PullError, PullSettings
from tainik.workstation.pull.layout import PulledPaths
from tainik.workstation.pull.sync import Puller

SEALED_ID = "a" * 26
CAP = 8 * 1024 * 1024  # the most the fake sends in one answer, bounded or not
Handler = Callable[[BaseHTTPRequestHandler], None]


class FakeApi:
    """A loopback HTTP server whose answers ``route`` writes; counts requests."""

    def __init__(self, route: Handler) -> None:
        self.requests = 0
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                fake.requests += 1
                route(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def send_json(handler: BaseHTTPRequestHandler, value: object) -> None:
    body = json.dumps(value).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def send_chunked(handler: BaseHTTPRequestHandler, piece: bytes, total: int) -> None:
    """``total`` bytes of ``piece`` repeated, chunked (the length is not announced)."""
    sent = 0
    try:
        while sent < total:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
        handler.wfile.write(b"0\r\n\r\n")
    except OSError:
        pass  # the client hung up: what a bounded client does


@pytest.fixture
def connect() -> Iterator[Callable[[FakeApi], ApiClient]]:
    clients: list[ApiClient] = []

    def make(fake: FakeApi) -> ApiClient:
        settings = PullSettings(fake.url, Secret("t"), timeout=10.0, attempts=1)
        clients.append(ApiClient(settings, sleep=lambda _s: None))
        return clients[-1]

    yield make
    for made in clients:
        made.close()


def test_an_endless_listing_is_cut_off(
    connect: Callable[[FakeApi], ApiClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pull_client, "MAX_LISTED", 2_000, raising=False)

    def route(handler: BaseHTTPRequestHandler) -> None:
        page = fake.requests
        send_json(handler, {"items": [{}] * 500, "next_cursor": None if page > 40 else str(page)})

    with FakeApi(route) as fake:
        with pytest.raises(PullError, match="past 2000 items"):
            list(connect(fake).pages("/submissions"))
        assert fake.requests == 5


def test_empty_pages_without_end_are_cut_off(
    connect: Callable[[FakeApi], ApiClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pull_client, "MAX_PAGES", 30, raising=False)

    def route(handler: BaseHTTPRequestHandler) -> None:
        page = fake.requests
        send_json(handler, {"items": [], "next_cursor": None if page > 100 else f"c{page}"})

    with FakeApi(route) as fake:
        with pytest.raises(PullError, match="past 30 pages"):
            list(connect(fake).pages("/submissions"))
        assert fake.requests == 30


def test_a_listing_that_loops_back_is_refused(connect: Callable[[FakeApi], ApiClient]) -> None:
    def route(handler: BaseHTTPRequestHandler) -> None:
        send_json(handler, {"items": [], "next_cursor": None if fake.requests > 100 else "same"})

    with FakeApi(route) as fake:
        with pytest.raises(PullError, match="came back to a page"):
            list(connect(fake).pages("/submissions"))
        assert fake.requests == 2


def test_a_page_larger_than_asked_is_refused(connect: Callable[[FakeApi], ApiClient]) -> None:
    def route(handler: BaseHTTPRequestHandler) -> None:
        send_json(handler, {"items": [{}] * 501, "next_cursor": None})

    with FakeApi(route) as fake, pytest.raises(PullError, match="more items than asked"):
        list(connect(fake).pages("/submissions"))


def test_an_endless_json_answer_is_cut_off(
    connect: Callable[[FakeApi], ApiClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pull_client, "MAX_JSON", 1024 * 1024, raising=False)

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.wfile.write(b'4\r\n{"a"\r\n')
        send_chunked(handler, b" " * 65536, CAP)

    with FakeApi(route) as fake, pytest.raises(PullError, match="more than 1048576 bytes"):
        connect(fake).get_json("/me")


def _listing_then(download: Handler, size: int) -> Handler:
    """A newsroom with one submission of ``size`` bytes of ciphertext; ``download`` answers
    its download."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?", 1)[0]
        if path == "/api/v1/submissions":
            item = {
                "id": 1,
                "source_id": 7,
                "sealed_id": SEALED_ID,
                "kind": "file",
                "size": size,
                "created_at": "2026-12-01T10:00:00Z",
                "read": False,
                "complete": True,
                "download": "/api/v1/submissions/1/download",
            }
            send_json(handler, {"items": [item], "next_cursor": None})
        elif path == "/api/v1/replies":
            send_json(handler, {"items": [], "next_cursor": None})
        elif path == "/api/v1/sources/7":
            source = {
                "id": 7,
                "designation": "quiet owl",
                "created_at": "2026-12-01T09:00:00Z",
                "last_activity": "2026-12-01T10:00:00Z",
                "starred": False,
                "submissions": 1,
                "replies": 0,
                "unread": 1,
                "uploading": 0,
            }
            send_json(handler, source)
        else:
            download(handler)

    return route


def _pull(fake: FakeApi, connect: Callable[[FakeApi], ApiClient], out: Path) -> str:
    report = Puller(connect(fake), out).run()
    assert report.fetched == []
    [(_entry, error)] = report.failed
    return error.english()


def test_a_download_larger_than_the_listing_said_is_refused_unread(
    connect: Callable[[FakeApi], ApiClient], tmp_path: Path
) -> None:
    def download(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("ETag", '"e"')
        handler.send_header("Content-Length", str(10**12))
        handler.end_headers()
        try:
            for _ in range(CAP // 65536):
                handler.wfile.write(bytes(65536))
        except OSError:
            pass
        handler.close_connection = True

    with FakeApi(_listing_then(download, 1000)) as fake:
        message = _pull(fake, connect, tmp_path / "pulled")
    assert "announced 1000000000000 bytes" in message
    part = PulledPaths(tmp_path / "pulled").partial("7", SEALED_ID)
    assert not part.exists()


def test_a_download_longer_than_it_announced_is_cut_off(
    connect: Callable[[FakeApi], ApiClient], tmp_path: Path
) -> None:
    paths = PulledPaths(tmp_path / "pulled")
    part, state = paths.partial("7", SEALED_ID), paths.partial_state("7", SEALED_ID)
    part.parent.mkdir(parents=True)
    part.write_bytes(bytes(100))
    state.write_text(json.dumps({"etag": '"e"', "size": 2000}))

    def download(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(206)
        handler.send_header("ETag", '"e"')
        handler.send_header("Content-Range", "bytes 100-1999/2000")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        send_chunked(handler, bytes(65536), CAP)
        handler.close_connection = True

    with FakeApi(_listing_then(download, 1000)) as fake:
        message = _pull(fake, connect, tmp_path / "pulled")
    assert "more bytes than it announced" in message
    assert not part.exists() or part.stat().st_size <= 2000


def test_the_bound_follows_the_announced_size() -> None:
    from tainik.sealed import tarball

    # One 64 KiB segment of ciphertext and its manifest: the writer's own archive fits.
    assert tarball.max_sealed_tar_size(0) >= 512 * 3 + 2 * 512
    for size in (0, 1, 65536, 10 * 65536 + 5, 4 * 1024**3):
        assert size < tarball.max_sealed_tar_size(size) <= size + 1536 + (2 + size // 65536) * 1023
