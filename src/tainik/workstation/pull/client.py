"""The newsroom API over HTTP (docs/api.md), through a SOCKS5 proxy (Tor) when asked.

Transient failures (a dropped connection, a timeout, 5xx, 429) are retried with exponential
backoff and jitter; a download resumes where its partial file ends, with ``Range`` and
``If-Range`` so that a changed archive is fetched again from the start rather than spliced.

The server is not trusted to be finite (docs/threat-model.md, "What the workstation accepts"):
a JSON answer is read up to :data:`MAX_JSON` bytes, a listing up to :data:`MAX_PAGES` pages of
at most the :data:`PAGE_ITEMS` asked for and :data:`MAX_LISTED` items, never coming back to a
cursor it already gave, and a download up to the bound its caller gives (from the size the
listing announced), however long the server goes on sending.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from socksio.exceptions import ProtocolError

from tainik import __version__
from tainik.core.errors import N_, IdentityError, StorageError, UsageError
from tainik.core.urls import is_url
from tainik.crypto import Secret
from tainik.sealed import durable
from tainik.workstation.pull.events import Downloaded, Progress, Start

API = "/api/v1"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CHUNK = 1024 * 1024
PAGE_ITEMS = 500  # what a page is asked for (the API's largest page)
MAX_LISTED = 1_000_000  # items in one listing
MAX_PAGES = 4_000  # pages in one listing, empty ones included
MAX_JSON = 16 * 1024 * 1024  # one JSON answer (a page of 500 items is about 150 KB)
MAX_ERROR_BODY = 64 * 1024  # read of an error answer, for its message
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
_UNSATISFIED = re.compile(r"bytes \*/(\d+)")


class PullError(StorageError):
    """The server could not be reached, or answered what pull cannot use."""


class TokenRefusedError(IdentityError):
    """401 or 403: the token is wrong, expired or revoked."""

    template = N_(
        "the server refused the token ({status}): get a new one with 'tainik pull login' "
        "(or POST /api/v1/tokens, docs/api.md)"
    )


class LoginRefusedError(IdentityError):
    """403 to a token request: a wrong name, password or code, or a code used before."""

    template = N_(
        "the name, password or code is wrong, or the code was used already. Wait for the next "
        "code and try again"
    )


class LoginThrottledError(IdentityError):
    """429 to a token request: the name is guarded after failed logins."""

    template = N_(
        "too many failed logins for this account; type the password again with the next code"
        " from your authenticator app"
    )


@dataclass(frozen=True)
class IssuedToken:
    """A token the server issued (``POST /api/v1/tokens``)."""

    token: Secret
    expires_at: str
    name: str
    scope: str


_TOKEN = re.compile(r"[A-Za-z0-9_-]{40,64}")


def request_token(
    server: str,
    proxy: str | None,
    name: str,
    password: Secret,
    code: str,
    scope: str = "read",
    timeout: float = 120.0,
) -> IssuedToken:
    """A new API token from name, password and TOTP code (once: a code is good only once)."""
    body = {"name": name, "password": password.reveal(), "code": code, "scope": scope}
    try:
        with (
            httpx.Client(
                base_url=server,
                proxy=proxy,
                timeout=httpx.Timeout(timeout, connect=min(60.0, timeout)),
                headers={"User-Agent": f"tainik-pull/{__version__}"},
                follow_redirects=False,
            ) as http,
            http.stream("POST", API + "/tokens", json=body) as response,
        ):
            if response.status_code == 403:
                raise LoginRefusedError()
            if response.status_code == 429:
                raise LoginThrottledError()
            if response.status_code != 201:
                raise PullError(
                    N_("{path}: the server answered {status}: {message}"),
                    path="/tokens",
                    status=response.status_code,
                    message=_message(response),
                )
            data = _read_at_most(response, MAX_ERROR_BODY, "/tokens")
    except (httpx.TransportError, ProtocolError) as exc:
        raise PullError(
            N_("cannot reach {server} ({reason})"), server=server, reason=type(exc).__name__
        ) from exc
    try:
        value = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        value = None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("token"), str)
        or not _TOKEN.fullmatch(value["token"])
        or not isinstance(value.get("expires_at"), str)
        or value.get("scope") != scope
    ):
        raise PullError(N_("{path}: the server did not answer a token"), path="/tokens")
    return IssuedToken(Secret(value["token"]), value["expires_at"][:40], name, scope)


@dataclass(frozen=True)
class PullSettings:
    """Where and how to connect."""

    server: str
    token: Secret
    proxy: str | None = None
    timeout: float = 120.0
    attempts: int = 8
    first_backoff: float = 1.0
    max_backoff: float = 60.0


def check_server(url: str) -> str:
    """An ``http://`` or ``https://`` base URL without a trailing slash."""
    if not is_url(url, ("http", "https")):
        raise UsageError(N_("--server must be an http:// or https:// address, not {url}"), url=url)
    return str(httpx.URL(url)).rstrip("/")


def check_proxy(url: str | None) -> str | None:
    """Only SOCKS5 proxies (Tor's): ``socks5h://`` resolves names at the proxy."""
    if url is None:
        return None
    if not url.startswith(("socks5h://", "socks5://")):
        raise UsageError(N_("--proxy must be a socks5h:// address (Tor's SOCKS port)"))
    return url


class ApiClient:
    """A token-bearing client of one newsroom API."""

    def __init__(self, settings: PullSettings, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self._sleep = sleep
        self.http = httpx.Client(
            base_url=settings.server,
            proxy=settings.proxy,
            timeout=httpx.Timeout(settings.timeout, connect=min(60.0, settings.timeout)),
            headers={
                "Authorization": f"Bearer {settings.token.reveal()}",
                "User-Agent": f"tainik-pull/{__version__}",
            },
            follow_redirects=False,
        )

    def close(self) -> None:
        """Close connections."""
        self.http.close()

    def _retrying(self, what: str, attempt: Callable[[], Any]) -> Any:
        backoff = self.settings.first_backoff
        for number in range(1, self.settings.attempts + 1):
            try:
                return attempt()
            except (httpx.TransportError, ProtocolError, _Transient) as exc:
                reason = str(exc) if isinstance(exc, _Transient) else type(exc).__name__
                if number == self.settings.attempts:
                    raise PullError(
                        N_(
                            "gave up on {what} after {count} attempts ({reason}); run the same "
                            "command again to resume"
                        ),
                        what=what,
                        count=number,
                        reason=reason,
                    ) from exc
            self._sleep(backoff * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not secrets
            backoff = min(backoff * 2, self.settings.max_backoff)
        raise AssertionError("unreachable")

    def get_json(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """GET a JSON object."""

        def attempt() -> dict[str, Any]:
            with self.http.stream("GET", API + path, params=params) as response:
                _raise_for(response, path)
                body = _read_at_most(response, MAX_JSON, path)
            try:
                value = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise PullError(N_("{path}: the server did not answer JSON"), path=path) from exc
            if not isinstance(value, dict):
                raise PullError(N_("{path}: the server did not answer a JSON object"), path=path)
            return value

        result: dict[str, Any] = self._retrying(f"GET {path}", attempt)
        return result

    def pages(self, path: str, params: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a paged listing (``items`` and ``next_cursor``)."""
        query = dict(params or {})
        query.setdefault("limit", str(PAGE_ITEMS))
        asked = int(query["limit"])
        cursors: set[str] = set()
        listed = 0
        for _page in range(MAX_PAGES):
            page = self.get_json(path, query)
            items = page.get("items")
            if not isinstance(items, list):
                raise PullError(N_("{path}: the listing has no items"), path=path)
            if len(items) > asked:
                raise PullError(
                    N_("{path}: a page of the listing has more items than asked for"), path=path
                )
            listed += len(items)
            if listed > MAX_LISTED:
                raise PullError(
                    N_("{path}: the listing goes on past {count} items; refusing the rest"),
                    path=path,
                    count=MAX_LISTED,
                )
            for item in items:
                if isinstance(item, dict):
                    yield item
            cursor = page.get("next_cursor")
            if not cursor:
                return
            if str(cursor) in cursors:
                raise PullError(
                    N_("{path}: the listing came back to a page it had already sent"), path=path
                )
            cursors.add(str(cursor))
            query["cursor"] = str(cursor)
        raise PullError(
            N_("{path}: the listing goes on past {count} pages; refusing the rest"),
            path=path,
            count=MAX_PAGES,
        )

    def download(
        self, path: str, part: Path, state: Path, limit: int, start: Start | None = None
    ) -> Downloaded:
        """Fetch ``path`` into ``part``, resuming what ``part`` already holds.

        The archive must not be larger than ``limit`` bytes: a server that announces more is
        refused before anything is written, and one that sends more than it announced is cut
        off where it passes its own announcement.
        """
        started = _size(part)
        return self._retrying(  # type: ignore[no-any-return]
            f"GET {path}", lambda: self._download_once(path, part, state, started, limit, start)
        )

    def _download_once(
        self, path: str, part: Path, state: Path, started: int, limit: int, start: Start | None
    ) -> Downloaded:
        offset = _size(part)
        etag, total = _read_state(state)
        headers = {}
        if offset and etag:
            headers = {"Range": f"bytes={offset}-", "If-Range": etag}
        with self.http.stream("GET", API + path, headers=headers) as response:
            if response.status_code == 416:
                match = _UNSATISFIED.fullmatch(response.headers.get("content-range", ""))
                if match and int(match.group(1)) == offset and etag:
                    return Downloaded(offset, etag, started)
                _truncate(part)
                state.unlink(missing_ok=True)
                raise _Transient("the partial download did not fit the archive; starting again")
            _raise_for(response, path)
            etag = response.headers.get("etag", "")
            if response.status_code == 206:
                match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", ""))
                if not match or int(match.group(1)) != offset:
                    raise PullError(N_("{path}: the server answered another range"), path=path)
                total = int(match.group(3))
            elif response.status_code == 200:
                offset = 0  # a new or changed archive: start again
                total = int(response.headers.get("content-length", "-1"))
            else:
                raise PullError(
                    N_("{path}: unexpected answer {status}"), path=path, status=response.status_code
                )
            if not etag or total < 0:
                raise PullError(N_("{path}: the server sent no ETag or length"), path=path)
            if total > limit or offset > total:
                _truncate(part)
                state.unlink(missing_ok=True)
                raise PullError(
                    N_("{path}: the server announced {size} bytes where at most {limit} can be"),
                    path=path,
                    size=total,
                    limit=limit,
                )
            _write_state(state, etag, total)
            _append(response, part, offset, total, path, start(offset, total) if start else None)
        size = _size(part)
        if size != total:
            raise _Transient(f"the connection ended at {size} of {total} bytes")
        return Downloaded(size, etag, started)


class _Transient(Exception):
    """A failure worth another attempt (internal)."""


def _raise_for(response: httpx.Response, path: str) -> None:
    status = response.status_code
    if status in (200, 206):
        return
    if status in RETRY_STATUSES:
        raise _Transient(f"HTTP {status}")
    if status in (401, 403):
        raise TokenRefusedError(status=status)
    raise PullError(
        N_("{path}: the server answered {status}: {message}"),
        path=path.split("?", maxsplit=1)[0],
        status=status,
        message=_message(response),
    )


def _read_at_most(response: httpx.Response, limit: int, path: str) -> bytes:
    """The body, which must not pass ``limit`` bytes (no more is read)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes(CHUNK):
        size += len(chunk)
        if size > limit:
            raise PullError(
                N_("{path}: the server answered more than {limit} bytes"),
                path=path.split("?", maxsplit=1)[0],
                limit=limit,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _message(response: httpx.Response) -> str:
    try:
        body = b""
        for chunk in response.iter_bytes(CHUNK):
            body += chunk
            if len(body) > MAX_ERROR_BODY:
                return ""
        value = json.loads(body)
        return str(value.get("message", ""))[:200] if isinstance(value, dict) else ""
    except (ValueError, httpx.HTTPError, httpx.StreamError):
        return ""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _truncate(path: Path) -> None:
    path.unlink(missing_ok=True)


def _read_state(path: Path) -> tuple[str, int]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
        return str(value["etag"]), int(value["size"])
    except (OSError, ValueError, KeyError, TypeError):
        return "", -1


def _write_state(path: Path, etag: str, size: int) -> None:
    try:
        path.write_text(json.dumps({"etag": etag, "size": size}), encoding="utf-8")
    except OSError as exc:
        raise durable.storage_error(exc, path) from exc


def _append(
    response: httpx.Response,
    part: Path,
    offset: int,
    total: int,
    path: str,
    progress: Progress | None,
) -> None:
    """Write the body at ``offset`` (truncating anything after it), flushing as it goes; the
    body must end at ``total`` bytes (a longer one is cut off, and the part removed)."""
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise durable.storage_error(exc, part) from exc
    try:
        os.ftruncate(fd, offset)
        os.lseek(fd, offset, os.SEEK_SET)
        for chunk in response.iter_bytes(CHUNK):
            offset += len(chunk)
            if offset > total:
                os.ftruncate(fd, 0)
                part.unlink(missing_ok=True)
                raise PullError(
                    N_("{path}: the server sent more bytes than it announced"), path=path
                )
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
            if progress:
                progress(len(chunk))
        os.fsync(fd)
    except OSError as exc:
        raise durable.storage_error(exc, part) from exc
    finally:
        os.close(fd)
