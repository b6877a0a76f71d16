"""The server's log: a client going away is not an error, an error is logged once, and no kind
of message is written more than a few times a minute, never with a traceback."""

from __future__ import annotations

import logging
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from live_server import LiveServer, make_instance
from raw_http import read_until_closed, set_connections
from source_client import RawUpload, SourceClient
from tainik.server import app, logs
from tainik.server.pages import Pages
from tainik.service.instance import Instance


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp_path = tmp_path_factory.mktemp("quiet")
    data_dir, _identity, _recipient = make_instance(tmp_path)
    set_connections(data_dir, body_window_seconds=2, body_min_bytes_per_second=100)
    with LiveServer(data_dir, tmp_path / "logs") as live:
        yield live


def reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a lost circuit or a killed client does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_clients_that_go_away_mid_upload_leave_nothing_in_the_log(server: LiveServer) -> None:
    before = server.log_text()
    with SourceClient(server.source_url) as source:
        source.generate()
        source.submit_ok(message="first")  # a known source: its uploads are looked up
        # The no-JavaScript form, cut in the middle of a file.
        form = RawUpload(source, filename="clip.mp4", file_size=8_000_000)
        form.send(b"x" * 1_000_000)
        time.sleep(0.3)
        form.abort()
        # A segment of the upload API (as `tainik send` or the browser sends it), cut.
        segment = socket.create_connection((server.host, server.source_port), timeout=10)
        segment.sendall(
            b"PUT /api/uploads/" + b"a" * 26 + b"/segments/0 HTTP/1.1\r\nHost: x\r\n"
            b"Cookie: " + source.cookie_header().encode() + b"\r\n"
            b"X-CSRF-Token: " + source.csrf.encode() + b"\r\n"
            b"Content-Length: 4000000\r\n\r\n" + b"y" * 200_000
        )
        time.sleep(0.3)
        reset(segment)
        # A segment that stalls until the server closes it for being too slow.
        with socket.create_connection((server.host, server.source_port), timeout=30) as slow:
            slow.sendall(
                b"PUT /api/uploads/" + b"b" * 26 + b"/segments/0 HTTP/1.1\r\nHost: x\r\n"
                b"Cookie: " + source.cookie_header().encode() + b"\r\n"
                b"X-CSRF-Token: " + source.csrf.encode() + b"\r\n"
                b"Content-Length: 4000000\r\n\r\n" + b"z" * 100
            )
            assert read_until_closed(slow).startswith(b"HTTP/1.1 408 ")
        time.sleep(0.5)
        assert source.lookup().status_code == 200  # and the server is fine
    added = server.log_text()[len(before) :]
    assert "Traceback" not in added
    assert "ClientDisconnect" not in added
    assert " ERROR " not in added, added
    assert " WARNING " not in added, added


def test_an_unexpected_error_is_logged_once_by_type(
    instance: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("text that may quote what the client sent")

    pages = Pages("source")
    broken_app = app._starlette(instance, [Route("/broken", broken)], pages)
    with (
        caplog.at_level(logging.INFO, logger="tainik.server"),
        TestClient(broken_app, raise_server_exceptions=False) as client,
    ):
        assert client.get("/broken").status_code == 500
    records = [r for r in caplog.records if r.name == "tainik.server"]
    assert [r.getMessage() for r in records] == ["internal error: RuntimeError"]
    assert "quote" not in caplog.text


def test_repeats_are_held_back_and_counted(tmp_path: Path) -> None:
    now = [0.0]
    logger = logging.getLogger("tainik.test.quiet")
    logger.propagate = False
    handler = logging.FileHandler(tmp_path / "log", encoding="utf-8")
    logger.addHandler(handler)
    handler.addFilter(logs.QuietLog(interval=60, burst=5, clock=lambda: now[0]))
    try:
        for _ in range(1000):
            logger.error("listener: cannot accept (%s), pausing", "EMFILE")
        logger.error("another kind of message")
        now[0] = 61.0
        logger.error("listener: cannot accept (%s), pausing", "EMFILE")
        try:
            raise OSError(24, "Too many open files: /secret/path")
        except OSError:
            logger.exception("accept failed")
    finally:
        logger.removeHandler(handler)
        handler.close()
    lines = (tmp_path / "log").read_text().splitlines()
    assert lines[:5] == ["listener: cannot accept (EMFILE), pausing"] * 5
    assert lines[5] == "another kind of message"
    assert lines[6] == (
        "listener: cannot accept (EMFILE), pausing [995 more like this were not logged]"
    )
    assert lines[7].startswith("accept failed (OSError at test_quiet_log.py:")
    assert len(lines) == 8  # no traceback, and not the exception's text
