"""The one transport of ``tainik send`` and ``tainik pull`` (tainik/transport.py): both retry
the same failures the same way, honour ``Retry-After`` within their bound, read no answer
without a bound, and follow one proxy policy.

Each client talks to a real HTTP server on loopback whose answers the test scripts; pauses
are recorded instead of slept.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tainik.core.errors import UsageError
from tainik.crypto import Secret
from tainik.sender import client as send_client
from tainik.sender.client import ClientSettings, RefusedError, SourceClient
from tainik.transport import SLICE, TooLargeError, UnreachableError, check_proxy, check_server
from tainik.transport import Answer as WholeAnswer
from tainik.workstation.pull.client import ApiClient, PullError, PullSettings

Answer = tuple[int, dict[str, str], bytes]


class Scripted:
    """A loopback HTTP server answering from a script, then 200 ``{}`` for ever; status 0
    reads the request and hangs up without an answer."""

    def __init__(self, script: list[Answer]) -> None:
        self.script = list(script)
        self.requests: list[str] = []
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                fake.requests.append(f"{self.command} {self.path}")
                length = int(self.headers.get("content-length", "0"))
                self.rfile.read(length)
                status, headers, body = fake.script.pop(0) if fake.script else (200, {}, b"{}")
                if status == 0:  # the body arrived, and the connection broke before the answer
                    self.close_connection = True
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Transfer-Encoding" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # a bounded client hangs up
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Scripted:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


Client = Callable[[str, list[float]], Callable[[], object]]


def send_client_get(url: str, pauses: list[float]) -> Callable[[], object]:
    settings = ClientSettings(url, first_backoff=0.01, max_backoff=30.0, give_up_after=600.0)

    def get() -> object:
        client = SourceClient(settings, sleep=pauses.append)
        try:
            return client.request("GET", "/api/session").json()
        finally:
            client.close()

    return get


def pull_client_get(url: str, pauses: list[float]) -> Callable[[], object]:
    settings = PullSettings(url, Secret("t"), first_backoff=0.01, max_backoff=30.0, attempts=8)

    def get() -> object:
        client = ApiClient(settings, sleep=pauses.append)
        try:
            return client.get_json("/me")
        finally:
            client.close()

    return get


CLIENTS = pytest.mark.parametrize("make", [send_client_get, pull_client_get], ids=["send", "pull"])


@CLIENTS
def test_both_retry_the_same_statuses(make: Client) -> None:
    script: list[Answer] = [(status, {}, b"") for status in (429, 500, 502, 503, 504)]
    pauses: list[float] = []
    with Scripted(script) as fake:
        assert make(fake.url, pauses)() == {}
        assert len(fake.requests) == 6
    assert len(pauses) == 5


@CLIENTS
def test_both_honour_retry_after_within_their_bound(make: Client) -> None:
    script: list[Answer] = [(503, {"Retry-After": "7"}, b""), (429, {"Retry-After": "3600"}, b"")]
    pauses: list[float] = []
    with Scripted(script) as fake:
        assert make(fake.url, pauses)() == {}
    # At least what the server asked, however short the backoff; never past the largest.
    assert pauses == [7.0, 30.0]


@CLIENTS
def test_neither_retries_a_refusal(make: Client) -> None:
    pauses: list[float] = []
    with Scripted([(404, {}, b'{"message": "no such thing"}')]) as fake:
        with pytest.raises((RefusedError, PullError), match="no such thing"):
            make(fake.url, pauses)()
        assert len(fake.requests) == 1
    assert pauses == []


def test_pull_gives_up_after_its_attempts() -> None:
    with Scripted([(503, {}, b"")] * 10) as fake:
        client = ApiClient(PullSettings(fake.url, Secret("t"), attempts=3), sleep=lambda _: None)
        with client.transport, pytest.raises(PullError, match="attempts: 3"):
            client.get_json("/me")
        assert len(fake.requests) == 3


def test_send_gives_up_when_the_server_asks_for_more_time_than_is_left() -> None:
    pauses: list[float] = []
    with Scripted([(503, {"Retry-After": "50"}, b"")] * 10) as fake:
        settings = ClientSettings(fake.url, give_up_after=20.0, max_backoff=60.0)
        client = SourceClient(settings, sleep=pauses.append)
        with client.transport, pytest.raises(UnreachableError, match="attempts: 1,"):
            client.request("GET", "/api/session")
        assert len(fake.requests) == 1
    assert pauses == []


def endless(total: int) -> Answer:
    """A chunked JSON body of ``total`` bytes (its length never announced)."""
    piece = b" " * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(total // len(piece)))
    return 200, {"Transfer-Encoding": "chunked"}, b"2\r\n{}\r\n" + chunks + b"0\r\n\r\n"


def test_send_reads_no_answer_without_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(send_client, "MAX_ANSWER", 1024 * 1024)
    with Scripted([endless(4 * 1024 * 1024)]) as fake:
        client = SourceClient(ClientSettings(fake.url), sleep=lambda _: None)
        with client.transport, pytest.raises(TooLargeError, match="more than 1048576 bytes"):
            client.request("GET", "/api/session")


@pytest.mark.parametrize(
    ("proxy", "server", "used"),
    [
        ("socks5h://127.0.0.1:9050", "http://abc.onion", "socks5h://127.0.0.1:9050"),
        # Used as socks5h: the name is handed to the proxy (and the command line says so).
        ("socks5://127.0.0.1:9150", "http://abc.onion", "socks5h://127.0.0.1:9150"),
        ("http://127.0.0.1:8080", "http://abc.onion", "--proxy must be"),
        ("https://proxy.example:443", "http://abc.ONION.", "--proxy must be"),
        ("http://127.0.0.1:8080", "https://news.example", "http://127.0.0.1:8080"),
        ("socks4://127.0.0.1:9050", "https://news.example", "--proxy must be"),
        ("tor", "http://abc.onion", "--proxy must be"),
        (None, "https://news.example", None),
        (None, "http://abc.onion", "is an onion service: it is reached only through Tor"),
        (None, "http://ABC.Onion.:8080", "is an onion service: it is reached only through Tor"),
    ],
)
def test_one_proxy_policy(proxy: str | None, server: str, used: str | None) -> None:
    if used is None or "://" in used:
        assert check_proxy(proxy, check_server(server)) == used
    else:
        with pytest.raises(UsageError, match=used):
            check_proxy(proxy, check_server(server))


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tainik", *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=cwd,
        )

    return run


@pytest.mark.parametrize("command", ["send", "pull"])
def test_neither_command_takes_an_http_proxy_to_an_onion(
    command: str, cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """An HTTP proxy would look the .onion name up itself: ``send`` once took one."""
    (tmp_path / "note.txt").write_text("x")
    (tmp_path / "c.txt").write_text("acorn blade cider dune ember fable gusto\n")
    (tmp_path / "token").write_text("t" * 43 + "\n")
    tail = (
        ["--codename-file", "c.txt", "note.txt"]
        if command == "send"
        else ["--token-file", "token", "--out", "pulled"]
    )
    done = cli(
        command,
        "--server",
        "http://abc.onion",
        "--proxy",
        "http://127.0.0.1:9",
        *tail,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert "--proxy must be a socks5h:// address" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("arrived", [True, False])
def test_a_body_sent_whole_and_unanswered_is_asked_about_before_it_goes_again(
    arrived: bool,
) -> None:
    """Tor killed just after a segment left whole: the server may hold it, and a resumed
    link re-sends what was missing, not what was in flight (tests/test_through_tor.py)."""
    body = memoryview(b"s" * (3 * SLICE + 5))
    asked: list[int] = []
    progress: list[int] = []

    def held() -> WholeAnswer | None:
        asked.append(1)
        return WholeAnswer(200, {}, b'{"stored": 0}') if arrived else None

    with Scripted([(0, {}, b"")]) as fake:
        settings = ClientSettings(fake.url, first_backoff=0.01)
        client = SourceClient(settings, sleep=lambda _: None)
        with client.transport:
            got = client.request("PUT", "/seg", content=body, held=held, on_sent=progress.append)
    assert asked == [1]
    assert got.status_code == 200
    assert fake.requests == ["PUT /seg"] * (1 if arrived else 2)
    assert sum(progress) == len(body)  # taken back after the loss, then counted once
