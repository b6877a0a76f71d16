"""A scripted source over plain HTTP (httpx), and the helpers end-to-end tests share.

Import it as ``from source_client import SourceClient`` (``tests/`` is on ``sys.path``, the same
way ``from live_server import LiveServer`` works). Everything here keeps plaintext in memory:
nothing a test sends is written to disk by these helpers, so storage scans stay meaningful.

- :class:`SourceClient`: ``generate()``, ``login(codename)``, ``submit(message, files)``,
  ``lookup()``, ``logout()``, with the CSRF cookie handled for you.
- :class:`RawUpload`: a multipart ``POST /submit`` written by hand on a socket, to send a body
  slowly, partly, or to break the connection in the middle.
- :func:`open_sealed`: ``tainik open`` as a subprocess; returns what it wrote
  (:func:`open_sealed_paths`: only the paths, for files too large to read whole).
- :func:`blob_state`: the complete and the partial containers of an instance's blob store.
"""

from __future__ import annotations

import html
import re
import secrets
import socket
import sqlite3
import struct
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import httpx
import sqlalchemy

from tainik.config import load_config

CSRF_COOKIE = "tainik_csrf"
SESSION_COOKIE = "tainik_source"
DEFAULT_USER_AGENT = "TainikTestSource/1.0"
CODENAME_WORDS = 7

_CODENAME_RE = re.compile(r'<p[^>]*\bid="codename"[^>]*>(.*?)</p>', re.S)
_SPAN_RE = re.compile(r"<span>(.*?)</span>", re.S)
_SENT_RE = re.compile(r'<p[^>]*\bid="sent"[^>]*>(.*?)</p>', re.S)

FileSpec = tuple[str, bytes]  # (file name as the browser sends it, content)


class SourceError(AssertionError):
    """The server did not answer as a working source interface would."""


def parse_codename(page: str) -> list[str]:
    """The words of the codename shown on the codename page."""
    match = _CODENAME_RE.search(page)
    if match is None:
        raise SourceError(f"no #codename on the page:\n{page[:2000]}")
    return [html.unescape(word).strip() for word in _SPAN_RE.findall(match.group(1))]


def parse_sent_notice(page: str) -> str | None:
    """The text of the thank-you notice (#sent) of the lookup page, if there is one."""
    match = _SENT_RE.search(page)
    return html.unescape(match.group(1)).strip() if match else None


class SourceClient:
    """One source using the no-JS forms of the source interface through httpx.

    Redirects are not followed, so tests see the 303 that acknowledges a submission.
    """

    def __init__(
        self,
        base_url: str,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        accept_language: str = "en",
        timeout: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(
            base_url=self.base_url,
            headers={"User-Agent": user_agent, "Accept-Language": accept_language},
            timeout=timeout,
            follow_redirects=False,
        )

    # -- cookies ----------------------------------------------------------------------------

    @property
    def csrf(self) -> str:
        """The anti-forgery token (fetching the index page first when there is none)."""
        token = self.http.cookies.get(CSRF_COOKIE)
        if token is None:
            self.expect(self.http.get("/"), 200)
            token = self.http.cookies.get(CSRF_COOKIE)
            if token is None:
                raise SourceError("GET / set no CSRF cookie")
        return token

    @property
    def session_cookie(self) -> str | None:
        """The session cookie's value, while logged in."""
        return self.http.cookies.get(SESSION_COOKIE)

    def cookie_header(self) -> str:
        """A ``Cookie`` header value with the CSRF and (if any) session cookies."""
        parts = [f"{CSRF_COOKIE}={self.csrf}"]
        if self.session_cookie is not None:
            parts.append(f"{SESSION_COOKIE}={self.session_cookie}")
        return "; ".join(parts)

    # -- the forms --------------------------------------------------------------------------

    def generate(self) -> str:
        """Get a new codename (POST /generate); returns its seven words joined by spaces."""
        response = self.expect(self.http.post("/generate", data={"csrf": self.csrf}), 200)
        words = parse_codename(response.text)
        if len(words) != CODENAME_WORDS or not all(words):
            raise SourceError(f"expected {CODENAME_WORDS} codename words, got {words!r}")
        if self.session_cookie is None:
            raise SourceError("POST /generate set no session cookie")
        return " ".join(words)

    def login(self, codename: str) -> httpx.Response:
        """Log in with a codename (POST /login); a success answers 303 to /lookup."""
        return self.http.post("/login", data={"csrf": self.csrf, "codename": codename})

    def submit(
        self, message: str = "", files: Sequence[FileSpec] = (), *, honeypot: str = ""
    ) -> httpx.Response:
        """POST /submit as the no-JS form does: csrf, message, website, then files."""
        fields = {"csrf": self.csrf, "message": message, "website": honeypot}
        parts = [("files", (name, content, "application/octet-stream")) for name, content in files]
        if not parts:  # a browser sends an empty file part when no file is chosen
            parts = [("files", ("", b"", "application/octet-stream"))]
        # httpx writes the data fields before the files, as the form's order requires.
        return self.http.post("/submit", data=fields, files=parts)

    def submit_ok(self, message: str = "", files: Sequence[FileSpec] = ()) -> int:
        """Submit and require the acknowledgement (303 to /lookup?sent=N); returns N."""
        response = self.expect(self.submit(message, files), 303)
        location = response.headers.get("location", "")
        match = re.fullmatch(r"/lookup\?sent=(\d+)", location)
        if match is None:
            raise SourceError(f"unexpected redirect after a submission: {location!r}")
        return int(match.group(1))

    def lookup(self, query: str = "") -> httpx.Response:
        """GET /lookup (the source's page)."""
        return self.http.get("/lookup" + (f"?{query}" if query else ""))

    def logout(self) -> httpx.Response:
        """POST /logout."""
        return self.expect(self.http.post("/logout", data={"csrf": self.csrf}), 200)

    # -- plumbing ---------------------------------------------------------------------------

    @staticmethod
    def expect(response: httpx.Response, status: int) -> httpx.Response:
        """``response``, or :class:`SourceError` naming what came instead of ``status``."""
        if response.status_code != status:
            raise SourceError(
                f"{response.request.method} {response.request.url.path}: expected {status}, "
                f"got {response.status_code}\n{response.text[:2000]}"
            )
        return response

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> SourceClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# -- a hand-written upload --------------------------------------------------------------------


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def multipart_file_head(boundary: str, fields: Sequence[tuple[str, str]], filename: str) -> bytes:
    """The body up to the first byte of one file part named ``files`` (fields go first)."""
    out = bytearray()
    for name, value in fields:
        disposition = f'form-data; name="{_quote(name)}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += value.encode("utf-8") + b"\r\n"
    out += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="{_quote(filename)}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    return bytes(out)


def multipart_tail(boundary: str) -> bytes:
    """What ends the last part and the body."""
    return f"\r\n--{boundary}--\r\n".encode()


class RawUpload:
    """``POST /submit`` of one file, written on a plain socket by the test.

    The request head declares a body holding one file of ``file_size`` bytes (after the
    csrf, message and honeypot fields); the constructor sends the head and the fields. The
    test then sends the file's bytes in whatever pieces and at whatever pace it likes with
    :meth:`send`, and either ends the body (:meth:`finish`) or breaks the connection
    (:meth:`abort`, a TCP reset). :attr:`sent` counts body bytes sent, fields included.
    """

    def __init__(
        self,
        client: SourceClient,
        *,
        filename: str,
        file_size: int,
        message: str = "",
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: float = 60.0,
    ) -> None:
        url = urlsplit(client.base_url)
        host, port = url.hostname or "127.0.0.1", url.port or 80
        self.boundary = "----tainik-test-" + secrets.token_hex(12)
        self.head = multipart_file_head(
            self.boundary, [("csrf", client.csrf), ("message", message), ("website", "")], filename
        )
        self.tail = multipart_tail(self.boundary)
        self.content_length = len(self.head) + file_size + len(self.tail)
        self.sent = 0
        self.sock = socket.create_connection((host, port), timeout=timeout)
        request = (
            f"POST /submit HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\n"
            f"User-Agent: {user_agent}\r\n"
            f"Cookie: {client.cookie_header()}\r\n"
            f"Content-Type: multipart/form-data; boundary={self.boundary}\r\n"
            f"Content-Length: {self.content_length}\r\n"
            f"\r\n"
        )
        self.sock.sendall(request.encode("ascii"))
        self.send(self.head)

    def send(self, data: bytes) -> None:
        """Send more of the body."""
        self.sock.sendall(data)
        self.sent += len(data)

    def finish(self) -> bytes:
        """Send the closing boundary; returns the response's status line and headers."""
        self.send(self.tail)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            received += chunk
        self.sock.close()
        return received.split(b"\r\n\r\n")[0]

    def abort(self) -> None:
        """Break the connection abruptly: close with a TCP reset, mid-body."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        """Close the socket (idempotent)."""
        self.sock.close()


# -- looking at what the server stored --------------------------------------------------------


@dataclass(frozen=True)
class BlobState:
    """The containers in a blob store: complete ``ID.sealed`` and hidden partial ones."""

    complete: frozenset[str]  # sealed ids
    partial: tuple[Path, ...]  # .ID.sealed.partial directories (in a bucket: ids with parts)

    def begun(self) -> bool:
        """Whether an incomplete container holds a part already."""
        return any(not p.is_absolute() or any(p.iterdir()) for p in self.partial)


def blob_state(data_dir: Path) -> BlobState:
    """What ``DIR/blobs`` holds now (or the instance's bucket: its complete sealed files, and
    as "partial" the ids whose parts no marker vouches for, by id)."""
    config = load_config(data_dir)
    if config.store.is_s3:
        from tainik.storage import objects

        store = config.store
        blobs, _uploads = objects.open_stores(
            store.bucket,
            store.prefix,
            endpoint=store.endpoint,
            region=store.region,
            access_key_id=store.access_key_id,
            secret_access_key=store.secret_access_key,
        )
        done = blobs.bucket.complete_ids()
        loose = blobs.bucket.loose_ids()
        return BlobState(frozenset(done), tuple(Path(i) for i in sorted(loose)))
    complete: set[str] = set()
    partial: list[Path] = []
    for entry in (data_dir / "blobs").iterdir():
        if entry.name.startswith(".") and entry.name.endswith(".partial"):
            partial.append(entry)
        elif entry.name.endswith(".sealed"):
            complete.add(entry.name[: -len(".sealed")])
    return BlobState(frozenset(complete), tuple(sorted(partial)))


def query_db(data_dir: Path, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
    """Rows of a read query on the instance's database: SQLite (WAL: safe while serving), or
    the PostgreSQL database its ``tainik.toml`` names (``?`` placeholders either way)."""
    url = load_config(data_dir).database_url
    if not url.startswith("sqlite"):
        engine = sqlalchemy.create_engine(url)
        try:
            with engine.connect() as db:
                found = db.exec_driver_sql(sql.replace("?", "%s"), tuple(params)).all()
                return [tuple(row) for row in found]
        finally:
            engine.dispose()
    connection = sqlite3.connect(data_dir / "tainik.db", timeout=30)
    try:
        return list(connection.execute(sql, tuple(params)).fetchall())
    finally:
        connection.close()


def open_sealed(containers: Sequence[Path], identity: Path, out: Path) -> dict[str, bytes]:
    """Run ``tainik open CONTAINERS --identity IDENTITY --out OUT``; returns {name: bytes}.

    Fails the test (with the command's output) unless it exits 0 and prints one path per
    container.
    """
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tainik",
            "open",
            *map(str, containers),
            "--identity",
            str(identity),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    printed = [line for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0 or len(printed) != len(containers):
        raise SourceError(
            f"tainik open exited {result.returncode}, printed {len(printed)} path(s) for "
            f"{len(containers)} container(s)\n--- stdout ---\n{result.stdout}"
            f"\n--- stderr ---\n{result.stderr}"
        )
    return {Path(line).name: Path(line).read_bytes() for line in printed}


def open_sealed_paths(containers: Sequence[Path], identity: Path, out: Path) -> list[Path]:
    """Like :func:`open_sealed`, but returns the paths written without reading them.

    For large files: the caller hashes them in a stream rather than loading them whole.
    """
    argv = [sys.executable, "-m", "tainik", "open", *map(str, containers)]
    result = subprocess.run(
        [*argv, "--identity", str(identity), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    printed = [Path(line) for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0 or len(printed) != len(containers):
        raise SourceError(
            f"tainik open exited {result.returncode}, printed {len(printed)} path(s) for "
            f"{len(containers)} container(s)\n--- stdout ---\n{result.stdout}"
            f"\n--- stderr ---\n{result.stderr}"
        )
    return printed
