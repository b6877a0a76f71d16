"""The newsroom API over HTTP (docs/api.md), on the one transport (:mod:`tainik.transport`:
its retry policy, its proxy policy, its bounds on answers).

A download resumes where its partial file ends, with ``Range`` and ``If-Range`` so that a
changed archive is fetched again from the start rather than spliced.

The server is not trusted to be finite (docs/threat-model.md, "What the workstation accepts"):
a JSON answer is read up to :data:`MAX_JSON` bytes, a listing up to :data:`MAX_PAGES` pages of
at most the :data:`PAGE_ITEMS` asked for and :data:`MAX_LISTED` items, never coming back to a
cursor it already gave, and a download up to the bound its caller gives (from the size the
listing announced), however long the server goes on sending. What it answers is read by the
API's codecs (:mod:`tainik.core.newsroom_api`).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tainik import __version__
from tainik.core.errors import N_, IdentityError, StorageError
from tainik.core.jsonfields import JsonObject, RecordError, load_json
from tainik.core.newsroom_api import Page, TokenObject
from tainik.core.timestamps import format_utc
from tainik.crypto import Secret
from tainik.sealed import durable
from tainik.transport import (
    RETRY_STATUSES,
    OnWait,
    Response,
    RetryPolicy,
    TooLargeError,
    Transient,
    Transport,
    UnreachableError,
    check_proxy,
    check_server,
    error_message,
    read_at_most,
    retry_after_of,
)
from tainik.workstation.pull.events import Downloaded, Progress, Start

__all__ = ["ApiClient", "PullError", "PullSettings", "check_proxy", "check_server"]

API = "/api/v1"
CHUNK = 1024 * 1024
PAGE_ITEMS = 500  # what a page is asked for (the API's largest page)
MAX_LISTED = 1_000_000  # items in one listing
MAX_PAGES = 4_000  # pages in one listing, empty ones included
MAX_JSON = 16 * 1024 * 1024  # one JSON answer (a page of 500 items is about 150 KB)
MAX_TOKEN_JSON = 64 * 1024
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
_UNSATISFIED = re.compile(r"bytes \*/(\d+)")
T = TypeVar("T")


class PullError(StorageError):
    """The server could not be reached, or answered what pull cannot use."""


class TokenRefusedError(IdentityError):
    """401 or 403: the token is wrong, expired or revoked."""

    template = N_(
        "The server refused the token ({status}): get a new one with 'tainik pull login' "
        "(or POST /api/v1/tokens, docs/api.md)"
    )


class LoginRefusedError(IdentityError):
    """403 to a token request: a wrong name, password or code, or a code used before."""

    template = N_(
        "The name, password or code is wrong, or the code was used already. Wait for the next "
        "code and try again"
    )


class LoginThrottledError(IdentityError):
    """429 to a token request: the name is guarded after failed logins."""

    template = N_(
        "Too many failed logins for this account; type the password again with the next code"
        " from your authenticator app"
    )


@dataclass(frozen=True)
class IssuedToken:
    """A token the server issued (``POST /api/v1/tokens``)."""

    token: Secret
    expires_at: str
    name: str
    scope: str


def _agent() -> dict[str, str]:
    return {"User-Agent": f"tainik-pull/{__version__}"}


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

    def read(response: Response) -> bytes:
        if response.status_code == 403:
            raise LoginRefusedError()
        if response.status_code == 429:
            raise LoginThrottledError()
        if response.status_code != 201:
            raise PullError(
                N_("{path}: the server answered {status}: {message}"),
                path="/tokens",
                status=response.status_code,
                message=error_message(response, 200),
            )
        return read_at_most(response, MAX_TOKEN_JSON, "/tokens")

    with Transport(server, proxy=proxy, timeout=timeout, headers=_agent()) as transport:
        try:
            data = transport.once("POST", API + "/tokens", read, json=body)
            issued = TokenObject.parse(load_json(data, "/tokens"), "/tokens")
        except UnreachableError as exc:
            raise PullError(
                N_("Cannot reach {server} ({reason})"), server=server, reason=exc.params["reason"]
            ) from exc
        except (TooLargeError, RecordError) as exc:
            raise PullError(N_("{path}: the server did not answer a token"), path="/tokens") from (
                exc
            )
    if issued.scope != scope:
        raise PullError(N_("{path}: the server did not answer a token"), path="/tokens")
    return IssuedToken(Secret(issued.token), format_utc(issued.expires_at), name, scope)


@dataclass(frozen=True)
class PullSettings:
    """Where and how to connect: a pull gives up on a request after ``attempts`` attempts."""

    server: str
    token: Secret
    proxy: str | None = None
    timeout: float = 120.0
    attempts: int = 8
    first_backoff: float = 1.0
    max_backoff: float = 60.0
    #: Told of each failure that is tried again (the command line prints it).
    on_wait: OnWait | None = None


class ApiClient:
    """A token-bearing client of one newsroom API."""

    def __init__(self, settings: PullSettings, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.transport = Transport(
            settings.server,
            proxy=settings.proxy,
            timeout=settings.timeout,
            policy=RetryPolicy(
                first_backoff=settings.first_backoff,
                max_backoff=settings.max_backoff,
                attempts=settings.attempts,
            ),
            headers={"Authorization": f"Bearer {settings.token.reveal()}", **_agent()},
            sleep=sleep,
            on_wait=settings.on_wait,
        )

    def close(self) -> None:
        """Close connections."""
        self.transport.close()

    def _get(
        self,
        path: str,
        read: Callable[[Response], T],
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> T:
        """GET ``path`` under the API, retried; a give-up is this item's :class:`PullError`."""
        try:
            return self.transport.request("GET", API + path, read, params=params, headers=headers)
        except UnreachableError as exc:
            raise PullError(exc.template, **exc.params) from exc
        except TooLargeError as exc:
            raise PullError(exc.template, **exc.params) from exc

    def get_json(self, path: str, params: dict[str, str] | None = None) -> JsonObject:
        """GET a JSON object (read within :data:`MAX_JSON` bytes)."""

        def read(response: Response) -> bytes:
            _raise_for(response, path)
            return read_at_most(response, MAX_JSON, path)

        body = self._get(path, read, params)
        try:
            value = load_json(body, path)
        except RecordError as exc:
            raise PullError(N_("{path}: the server did not answer JSON"), path=path) from exc
        if not isinstance(value, dict):
            raise PullError(N_("{path}: the server did not answer a JSON object"), path=path)
        return value

    def pages(self, path: str, params: dict[str, str] | None = None) -> Iterator[JsonObject]:
        """Every item of a paged listing (``items`` and ``next_cursor``), each for its codec."""
        query = dict(params or {})
        query.setdefault("limit", str(PAGE_ITEMS))
        asked = int(query["limit"])
        cursors: set[str] = set()
        listed = 0
        for _page in range(MAX_PAGES):
            try:
                page = Page.parse(self.get_json(path, query), path)
            except RecordError as exc:
                raise PullError(N_("{path}: the listing has no items"), path=path) from exc
            if len(page.items) > asked:
                raise PullError(
                    N_("{path}: a page of the listing has more items than asked for"), path=path
                )
            listed += len(page.items)
            if listed > MAX_LISTED:
                raise PullError(
                    N_("{path}: the listing goes on past {count} items; refusing the rest"),
                    path=path,
                    count=MAX_LISTED,
                )
            yield from page.items
            cursor = page.next_cursor
            if not cursor:
                return
            if cursor in cursors:
                raise PullError(
                    N_("{path}: the listing came back to a page it had already sent"), path=path
                )
            cursors.add(cursor)
            query["cursor"] = cursor
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
        try:
            return self.transport.retrying(
                f"GET {path}",
                lambda: self._download_once(path, part, state, started, limit, start),
                lambda: None,
            )
        except UnreachableError as exc:
            raise PullError(exc.template, **exc.params) from exc

    def _download_once(
        self, path: str, part: Path, state: Path, started: int, limit: int, start: Start | None
    ) -> Downloaded:
        offset = _size(part)
        etag, total = _read_state(state)
        headers = {}
        if offset and etag:
            headers = {"Range": f"bytes={offset}-", "If-Range": etag}
        with self.transport.http.stream("GET", API + path, headers=headers) as response:
            if response.status_code == 416:
                match = _UNSATISFIED.fullmatch(response.headers.get("content-range", ""))
                if match and int(match.group(1)) == offset and etag:
                    return Downloaded(offset, etag, started)
                _truncate(part)
                state.unlink(missing_ok=True)
                raise Transient("the partial download did not fit the archive; starting again")
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
            raise Transient(f"the connection ended at {size} of {total} bytes")
        return Downloaded(size, etag, started)


def _raise_for(response: Response, path: str) -> None:
    status = response.status_code
    if status in (200, 206):
        return
    if status in RETRY_STATUSES:
        raise Transient(f"HTTP {status}", retry_after_of(response))
    if status in (401, 403):
        raise TokenRefusedError(status=status)
    raise PullError(
        N_("{path}: the server answered {status}: {message}"),
        path=path.split("?", maxsplit=1)[0],
        status=status,
        message=error_message(response, 200),
    )


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
    response: Response,
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
