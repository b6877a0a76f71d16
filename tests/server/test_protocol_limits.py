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


CSRF = b"t" * 43
LOGINS = {  # both listeners' JSON logins, with what each needs besides the body
    "source": (b"/api/login", b"Cookie: tainik_csrf=" + CSRF + b"\r\nX-CSRF-Token: " + CSRF),
    "newsroom": (b"/api/v1/tokens", b"X-Padding: none"),
}


def _port(server: LiveServer, listener: str) -> int:
    return server.source_port if listener == "source" else server.newsroom_port


def _post_head(path: bytes, extra: bytes, framing: bytes) -> bytes:
    return (
        b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + extra + b"\r\n" + framing + b"\r\n\r\n"
    )  # fmt: skip


@pytest.mark.parametrize("listener", ["source", "newsroom"])
def test_a_huge_declared_login_body_is_refused_before_it_is_read(
    server: LiveServer, listener: str
) -> None:
    """32 MiB announced, 20 KiB sent: the answer (413) comes at once, without the rest."""
    path, extra = LOGINS[listener]
    with socket.create_connection((server.host, _port(server, listener)), timeout=5) as sock:
        sock.sendall(_post_head(path, extra, b"Content-Length: 33554432"))
        sock.sendall(b'{"codename": "' + b"a" * 20_000)
        head = _read_response_head(sock)  # times out (an error) if the server waits for more
    assert head.startswith(b"HTTP/1.1 413 "), head[:200]


@pytest.mark.parametrize("listener", ["source", "newsroom"])
def test_a_chunked_login_body_is_read_no_further_than_its_limit(
    server: LiveServer, listener: str
) -> None:
    """No length announced: once the body passes its bound the server answers 413, without
    waiting for a body that has not ended."""
    path, extra = LOGINS[listener]
    with socket.create_connection((server.host, _port(server, listener)), timeout=5) as sock:
        sock.sendall(_post_head(path, extra, b"Transfer-Encoding: chunked"))
        sock.sendall(b'e\r\n{"codename": "\r\n')
        for _ in range(16):  # 64 KiB, and no last chunk
            sock.sendall(b"1000\r\n" + b"a" * 4096 + b"\r\n")
        head = _read_response_head(sock)  # times out (an error) if the server waits for more
    assert head.startswith(b"HTTP/1.1 413 "), head[:200]


@pytest.mark.parametrize("listener", ["source", "newsroom"])
def test_deeply_nested_json_is_a_bad_request(server: LiveServer, listener: str) -> None:
    """``[`` × 100,000 made the parser recurse until it failed (a 500): now too large (413),
    and a body deep enough to break the parser but within the size bound is a 400."""
    path, extra = LOGINS[listener]
    for depth, status in ((100_000, b"413"), (16_000, b"400")):
        body = b"[" * depth
        with socket.create_connection((server.host, _port(server, listener)), timeout=10) as sock:
            sock.sendall(_post_head(path, extra, b"Content-Length: " + str(len(body)).encode()))
            sock.sendall(body)
            head = _read_response_head(sock)
        assert head.startswith(b"HTTP/1.1 " + status + b" "), (depth, head[:200])
