"""Acceptance: staff and returning sources keep working while strangers flood the source side.

40 strangers each ask for a new codename (an Argon2id derivation), open a submission whose body
stalls after one byte, keep it, and start again, never pausing. Meanwhile a staff member's
inbox and a source's codename login must keep answering (bench/flood.py measures how fast;
this test asserts only that they answer, within a generous bound). Before the listeners were
isolated, the inbox took a second and the login got 429.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx

from live_server import LiveServer, make_instance
from newsroom.live import ready_staffer, web_login
from source_client import SourceClient, SourceError

STRANGERS = 40
BOUND = 30.0  # seconds: generous, for a busy two-core test machine


def stranger(base_url: str, stop: threading.Event, held: list[socket.socket]) -> None:
    while not stop.is_set():
        try:
            with SourceClient(base_url, timeout=60) as source:
                response = source.http.post("/generate", data={"csrf": source.csrf})
                if response.status_code != 200:
                    continue  # 429: at once again
                sock = socket.create_connection(
                    (source.http.base_url.host, source.http.base_url.port)
                )
                sock.sendall(
                    b"POST /submit HTTP/1.1\r\nHost: x\r\nCookie: "
                    + source.cookie_header().encode()
                    + b"\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                    b"Content-Length: 1000000\r\n\r\n-"
                )
                held.append(sock)
        except (httpx.HTTPError, OSError, SourceError):
            pass  # refused (503 at the connection cap, 429 at the gate): at once again


def test_inbox_and_source_login_answer_during_a_flood(tmp_path: Path) -> None:
    data_dir, _identity, _recipient = make_instance(tmp_path)
    staffer = ready_staffer(data_dir, "jo")
    with LiveServer(data_dir, tmp_path / "logs") as server:
        returning = SourceClient(server.source_url, timeout=BOUND)
        codename = returning.generate()
        returning.submit_ok(message="first")  # a codename is kept once it has sent something
        stop, held = threading.Event(), list[socket.socket]()
        threads = [
            threading.Thread(target=stranger, args=(server.source_url, stop, held), daemon=True)
            for _ in range(STRANGERS)
        ]
        try:
            with web_login(server.newsroom_url, staffer) as staff:
                for thread in threads:
                    thread.start()
                time.sleep(3)  # the gate's queue is full, bodies are held
                for _ in range(3):
                    began = time.monotonic()
                    assert staff.get("/inbox", timeout=BOUND).status_code == 200
                    assert time.monotonic() - began < BOUND
                    began = time.monotonic()
                    login = returning.login(codename)
                    assert login.status_code == 303, login.text[:500]
                    assert time.monotonic() - began < BOUND
                assert held, "the flood held no body"
        finally:
            stop.set()
            for thread in threads:
                thread.join(BOUND)
            for sock in held:
                sock.close()
            returning.close()
