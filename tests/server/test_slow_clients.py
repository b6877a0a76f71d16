"""Slow and idle clients against a real `tainik serve` (server/protocol.py, server/serving.py).

Raw sockets on loopback, with the instance's ``[connections]`` settings shortened so that the
deadlines pass within seconds. Each test would hang or fail on a server without the bound it
checks: connections holding a one-byte body stayed open for ever, and nothing capped them.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from live_server import LiveServer, make_instance
from raw_http import read_until_closed, set_connections, stalled_body

HEAD_TIMEOUT = 2
BODY_WINDOW = 2
MIN_RATE = 100  # bytes a second


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp_path = tmp_path_factory.mktemp("slow")
    data_dir, _identity, _recipient = make_instance(tmp_path)
    set_connections(
        data_dir,
        head_timeout_seconds=HEAD_TIMEOUT,
        body_window_seconds=BODY_WINDOW,
        body_min_bytes_per_second=MIN_RATE,
    )
    with LiveServer(data_dir, tmp_path / "logs") as live:
        yield live


def answers(url: str) -> int:
    return httpx.get(url, timeout=10).status_code


def test_stalled_bodies_are_closed_after_their_window_while_others_are_served(
    server: LiveServer,
) -> None:
    held = [stalled_body(server.source_port) for _ in range(110)]
    began = time.monotonic()
    try:
        # While they are held, both listeners answer everyone else at once.
        assert answers(server.source_url + "/") == 200
        assert answers(server.newsroom_url + "/login") == 200
        for sock in held:
            answer = read_until_closed(sock)
            assert answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer[:100]
        elapsed = time.monotonic() - began
    finally:
        for sock in held:
            sock.close()
    # Closed after one or two windows (the first check may come just before a window ends).
    assert BODY_WINDOW * 0.9 <= elapsed <= 3 * BODY_WINDOW + 5, elapsed
    assert answers(server.source_url + "/") == 200


@pytest.mark.parametrize("sent", [b"", b"GET / HTTP/1.1\r\nHost: x\r\n"])
def test_a_head_that_does_not_arrive_in_time_gets_408(server: LiveServer, sent: bytes) -> None:
    with socket.create_connection(("127.0.0.1", server.source_port), timeout=30) as sock:
        began = time.monotonic()
        sock.sendall(sent)
        answer = read_until_closed(sock)
        elapsed = time.monotonic() - began
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:100]
    assert b"X-Frame-Options: DENY" in answer
    assert HEAD_TIMEOUT * 0.9 <= elapsed <= HEAD_TIMEOUT + 5


def test_a_slow_but_steady_body_is_served(server: LiveServer) -> None:
    """Four times the floor, for three windows: the request completes and is answered."""
    body = b'{"codename": "' + b"a" * (4 * MIN_RATE * 3 * BODY_WINDOW - 20) + b'"}'
    with socket.create_connection(("127.0.0.1", server.newsroom_port), timeout=30) as sock:
        sock.sendall(
            b"POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
        )
        piece = 4 * MIN_RATE // 10
        for start in range(0, len(body), piece):
            sock.sendall(body[start : start + piece])
            time.sleep(0.1)
        answer = read_until_closed(sock)
    status = int(answer.split(b" ", 2)[1])
    assert status != 408
    assert 400 <= status < 500  # read whole and refused for what it is (no such account)


def test_keeping_a_connection_alive_between_requests_still_works(server: LiveServer) -> None:
    """The head clock of a second request starts with its first byte, not at the connection."""
    with httpx.Client(base_url=server.source_url, timeout=10) as client:
        assert client.get("/").status_code == 200
        time.sleep(HEAD_TIMEOUT + 0.5)  # idle, but within the keep-alive time
        assert client.get("/").status_code == 200


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp_path = tmp_path_factory.mktemp("capped")
    data_dir, _identity, _recipient = make_instance(tmp_path)
    set_connections(data_dir, source_connections=20, newsroom_connections=5)
    with LiveServer(data_dir, tmp_path / "logs") as live:
        time.sleep(0.5)  # the start-up probes' connections are closed (they count until then)
        yield live


def test_connections_past_the_cap_are_refused_at_once(capped: LiveServer) -> None:
    held = [stalled_body(capped.source_port) for _ in range(20)]
    try:
        time.sleep(0.5)  # all accepted
        with socket.create_connection(("127.0.0.1", capped.source_port), timeout=5) as extra:
            began = time.monotonic()
            answer = read_until_closed(extra)
            assert time.monotonic() - began < 2
        assert answer.startswith(b"HTTP/1.1 503 "), answer[:100]
        assert b"retry-after: 10" in answer.lower()
        # The newsroom has a cap of its own, untouched by the source side's.
        assert answers(capped.newsroom_url + "/login") == 200
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 10
    while answers(capped.source_url + "/") != 200:
        assert time.monotonic() < deadline, "the source listener did not recover"
        time.sleep(0.1)
    log = capped.log_text()
    assert "source listener: 20 connections open, refusing more" in log
    assert "Traceback" not in log
