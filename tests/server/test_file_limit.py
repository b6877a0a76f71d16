"""A server that may open few files, flooded with more connections than it has descriptors.

Before server/serving.py, asyncio's accept loop answered ``EMFILE`` with a traceback per
pending connection, thousands a second (454 MB of log in a minute), and neither listener
answered again. Now each listener's connections are capped to fit the file limit, and the
accept loop pauses, saying so a few times a minute at most.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from live_server import LiveServer, make_instance
from raw_http import read_until_closed, set_connections, stalled_body

FILES = 160
LOG_BOUND = 20_000  # bytes: start-up lines and a few warnings, whatever the flood


def limited(argv: list[str], files: int) -> list[str]:
    """``argv`` (a Python command line) run with at most ``files`` open files, hard limit too."""
    code = (
        "import os, resource, sys;"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({files}, {files}));"
        "os.execv(sys.executable, [sys.executable] + sys.argv[1:])"
    )
    return [argv[0], "-c", code, *argv[1:]]


class LimitedServer(LiveServer):
    """`tainik serve` under a low open-file limit that it cannot raise."""

    def argv(self) -> list[str]:
        return limited(super().argv(), FILES)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    data_dir, _identity, _recipient = make_instance(tmp_path)
    set_connections(
        data_dir, head_timeout_seconds=2, body_window_seconds=2, body_min_bytes_per_second=100
    )
    with LimitedServer(data_dir, tmp_path / "logs") as live:
        yield live


def test_more_connections_than_descriptors_then_both_listeners_recover(
    server: LiveServer,
) -> None:
    held: list[socket.socket] = []
    try:
        for _ in range(2 * FILES):
            held.append(stalled_body(server.source_port))
        # The newsroom keeps its own share of the descriptors.
        assert httpx.get(server.newsroom_url + "/login", timeout=10).status_code == 200
        # Past its cap, the source listener refuses at once, instead of queueing or failing.
        refused = 0
        for sock in held:
            answer = read_until_closed(sock)
            refused += answer.startswith(b"HTTP/1.1 503 ")
        assert refused > 0
    finally:
        for sock in held:
            sock.close()
    for url in (server.source_url + "/", server.newsroom_url + "/login"):
        assert httpx.get(url, timeout=10).status_code == 200
    log = server.log_text()
    assert f"open-file limit {FILES}: at most" in log
    assert "Traceback" not in log
    assert len(log.encode()) < LOG_BOUND, log[-2000:]


LISTENER = textwrap.dedent(
    """
    import asyncio, logging, resource, socket, sys
    from tainik.server import logs
    from tainik.server.serving import Listener

    logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    logs.install()
    resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))
    open_connections = set()

    class Echo(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport
            open_connections.add(self)

        def data_received(self, data):
            self.transport.write(data)

        def connection_lost(self, exc):
            open_connections.discard(self)

    async def main():
        sock = socket.create_server(("127.0.0.1", 0), backlog=256)
        print(sock.getsockname()[1], flush=True)
        Listener("test", sock, Echo, lambda: len(open_connections), 10_000)
        await asyncio.sleep(60)

    asyncio.run(main())
    """
)


def test_running_out_of_descriptors_pauses_accepting_and_logs_a_few_lines(
    tmp_path: Path,
) -> None:
    """A cap above the file limit (as when other work holds the descriptors): accept fails
    with EMFILE, the listener pauses and retries, and serves again once files are free."""
    log_path = tmp_path / "listener.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", LISTENER], stdout=subprocess.PIPE, stderr=log, text=True
        )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(100)]
        time.sleep(4)  # eight pauses, or so
        for sock in held:
            sock.close()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"ping")
            assert sock.recv(4) == b"ping"
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
    text = log_path.read_text()
    lines = [line for line in text.splitlines() if "cannot accept (EMFILE), pausing" in line]
    assert 1 <= len(lines) <= 5, text[-2000:]
    assert "Traceback" not in text
    assert len(text) < 2_000
