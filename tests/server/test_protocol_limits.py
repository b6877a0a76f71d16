"""The HTTP protocol of a real `tainik serve` bounds request heads (server/protocol.py).

Raw sockets, so that nothing between the test and the server's parser tidies the bytes up.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from live_server import LiveServer, make_instance
from tainik.server.app import bind
from tainik.server.protocol import MAX_HEAD_BYTES


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp_path: Path = tmp_path_factory.mktemp("protocol")
    data_dir, _identity, _recipient = make_instance(tmp_path)
    with LiveServer(data_dir, tmp_path / "logs") as live:
        yield live


def _connect(server: LiveServer) -> socket.socket:
    sock = socket.create_connection((server.host, server.source_port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read_response_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_a_head_that_never_ends_is_refused_and_the_connection_closed(server: LiveServer) -> None:
    sock = _connect(server)
    sent = 0
    with sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: ")
        try:
            # Far more than the limit, in small pieces, never ending the header block.
            while sent < 64 * MAX_HEAD_BYTES:
                sock.sendall(b"a" * 4096)
                sent += 4096
                time.sleep(0.0005)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection, as it should
        answer = _read_all(sock) if sent < 64 * MAX_HEAD_BYTES else _read_response_head(sock)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"X-Frame-Options: DENY" in answer
    assert b"connection: close" in answer.lower()
    # It stopped reading long before the client stopped sending.
    assert sent < 64 * MAX_HEAD_BYTES


def test_large_but_allowed_heads_pass_on_a_reused_connection(server: LiveServer) -> None:
    request = b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 8000 + b"\r\n\r\n"
    with _connect(server) as sock:
        for _ in range(3):  # the count starts again for every request on the connection
            sock.sendall(request)
            head = _read_response_head(sock)
            assert head.startswith(b"HTTP/1.1 200 "), head[:100]
            length = int(
                next(
                    line.split(b":", 1)[1]
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
            )
            body = head.split(b"\r\n\r\n", 1)[1]
            while len(body) < length:
                body += sock.recv(65536)


def test_headers_over_the_application_bound_get_431(server: LiveServer) -> None:
    request = b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 20_000 + b"\r\n\r\n"
    with _connect(server) as sock:
        sock.sendall(request)
        head = _read_response_head(sock)
    assert head.startswith(b"HTTP/1.1 431 ")


def test_a_request_with_a_large_body_in_its_first_read_is_not_mistaken_for_a_large_head(
    server: LiveServer,
) -> None:
    """Head and 200 KiB of body arrive together: only the head counts."""
    body = b"x" * (200 * 1024)
    request = (
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )
    with _connect(server) as sock:
        sock.sendall(request)
        head = _read_response_head(sock)
    status = int(head.split(b" ", 2)[1])
    assert status != 431
    assert 400 <= status < 500  # refused for what it is (no CSRF token, too large a form)


def test_connections_send_small_writes_at_once() -> None:
    """Accepted connections have TCP_NODELAY, else every two-write response waits 40 ms for
    the peer's delayed ACK (asyncio only sets it for sockets that name IPPROTO_TCP)."""
    listener = bind("127.0.0.1", 0)
    with listener, socket.create_connection(listener.getsockname()[:2]):
        accepted, _ = listener.accept()
        with accepted:
            assert accepted.proto == socket.IPPROTO_TCP
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
