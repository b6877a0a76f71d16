"""New sources cost a stranger nothing, so their first submissions held open at once are bounded.

A codename and its session are free to make (nothing is derived or stored until a first
submission), so one stranger can open a first submission, stall its body, and start again
without pause. Unbounded, those stalled bodies filled the source listener's connection cap and
every returning source got 503 at login (bench/flood.py showed it: 8 of 8 logins refused).
Past FIRST_SUBMISSIONS held at once, a new source's submission is answered 429 before its body
is read, and the listener keeps room for everyone else.
"""

from __future__ import annotations

import socket
from pathlib import Path

from live_server import LiveServer, make_instance
from raw_http import read_until_closed
from source_client import SourceClient
from tainik.service.instance import FIRST_SUBMISSIONS

EXTRA = 8


def stalled_first_submission(source: SourceClient, host: str, port: int) -> socket.socket:
    """A new source's form submission whose body stops after one byte."""
    sock = socket.create_connection((host, port), timeout=30)
    sock.sendall(
        b"POST /submit HTTP/1.1\r\nHost: x\r\nCookie: "
        + source.cookie_header().encode()
        + b"\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        b"Content-Length: 1000000\r\n\r\n-"
    )
    return sock


def test_stalled_first_submissions_cannot_take_the_listener(tmp_path: Path) -> None:
    data_dir, _identity, _recipient = make_instance(tmp_path)
    with (
        LiveServer(data_dir, tmp_path / "logs") as server,
        SourceClient(server.source_url) as returning,
    ):
        codename = returning.generate()
        returning.submit_ok(message="first")
        returning.logout()
        host, port = server.host, server.source_port
        held: list[socket.socket] = []
        refused = 0
        try:
            for _ in range(FIRST_SUBMISSIONS + EXTRA):
                with SourceClient(server.source_url) as stranger:
                    stranger.generate()
                    sock = stalled_first_submission(stranger, host, port)
                sock.settimeout(1.5)
                try:
                    answer = sock.recv(65536)  # nothing while the server waits for the body
                except TimeoutError:
                    held.append(sock)
                    continue
                assert answer.startswith(b"HTTP/1.1 429 "), answer[:200]
                refused += 1
                sock.close()
            assert len(held) <= FIRST_SUBMISSIONS
            assert refused >= EXTRA
            # The returning source is let in and can send while the strangers hold theirs.
            login = returning.login(codename)
            assert login.status_code == 303, login.text[:300]
            assert returning.submit_ok(message="second") == 1
        finally:
            for sock in held:
                sock.close()
        # Once they are gone, new sources are taken in again.
        with SourceClient(server.source_url) as later:
            later.generate()
            assert later.submit_ok(message="hello") == 1


def test_the_busy_answer_reads_nothing_of_the_body(tmp_path: Path) -> None:
    """With FIRST_SUBMISSIONS held, one more is answered 429 while its body is still unsent.

    A held submission is one the server has not answered within a second and a half: some of
    those opened may be answered 429 by the KDF gate instead, which frees their place, so the
    test opens them until the bound is really reached."""
    data_dir, _identity, _recipient = make_instance(tmp_path)
    with LiveServer(data_dir, tmp_path / "logs") as server:
        held: list[socket.socket] = []
        try:
            for _ in range(3 * FIRST_SUBMISSIONS):
                if len(held) == FIRST_SUBMISSIONS:
                    break
                with SourceClient(server.source_url) as stranger:
                    stranger.generate()
                    sock = stalled_first_submission(stranger, server.host, server.source_port)
                sock.settimeout(1.5)
                try:
                    sock.recv(65536)
                except TimeoutError:
                    held.append(sock)
                else:
                    sock.close()
            assert len(held) == FIRST_SUBMISSIONS
            with SourceClient(server.source_url) as one_more:
                one_more.generate()
                sock = stalled_first_submission(one_more, server.host, server.source_port)
            try:
                answer = read_until_closed(sock)
            finally:
                sock.close()
            assert answer.startswith(b"HTTP/1.1 429 "), answer[:200]
        finally:
            for sock in held:
                sock.close()
