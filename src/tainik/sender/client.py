"""An HTTP client for the source interface's JSON API, through Tor if asked.

Retries transient failures (connection errors, timeouts, 5xx, 429) with exponential backoff
and jitter; gives up after ``give_up_after`` seconds without a successful request.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import httpx
from socksio.exceptions import ProtocolError

from tainik.core.errors import N_, TainikError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A segment's body goes out in slices of this size: progress is counted per slice, and a
# stopped run abandons a request between two slices.
SLICE = 256 * 1024

Sent = Callable[[int], None]


class Stopped(Exception):
    """The run was stopped (Ctrl-C) while a request was under way; the request is dropped."""


class ServerError(TainikError):
    """The server refused a request, or could not be reached for too long."""

    exit_code = 5


class RefusedError(ServerError):
    """A 4xx answer: retrying will not help."""

    exit_code = 2


@dataclass(frozen=True)
class ClientSettings:
    """Where and how to connect."""

    server: str
    proxy: str | None = None
    timeout: float = 120.0
    give_up_after: float = 1800.0
    first_backoff: float = 1.0
    max_backoff: float = 60.0


class SourceClient:
    """A logged-in (or about to be) source talking to one server."""

    def __init__(
        self,
        settings: ClientSettings,
        cookies: dict[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        # Set to stop: requests in flight stop between two slices, and none starts again.
        self.stop = threading.Event()
        self.http = httpx.Client(
            base_url=settings.server.rstrip("/"),
            proxy=settings.proxy,
            timeout=httpx.Timeout(settings.timeout, connect=min(60.0, settings.timeout)),
            cookies=cookies or {},
            headers={"User-Agent": "tainik-send"},
            follow_redirects=False,
        )

    def close(self) -> None:
        """Close connections."""
        self.http.close()

    @property
    def cookies(self) -> dict[str, str]:
        """The session's cookies (to hand to worker processes)."""
        return {name: value for name, value in self.http.cookies.items()}

    def csrf(self) -> str:
        """The anti-forgery token (the value of the CSRF cookie), fetching it if needed."""
        token = self.http.cookies.get("tainik_csrf")
        if not token:
            self.request("GET", "/login", expect=(200,))
            token = self.http.cookies.get("tainik_csrf")
        if not token:
            raise ServerError(
                N_("The server sent no anti-forgery token; is this a Tainik source interface?")
            )
        return token

    def request(
        self,
        method: str,
        path: str,
        *,
        expect: tuple[int, ...] = (200,),
        json: Any = None,
        content: bytes | memoryview | None = None,
        headers: dict[str, str] | None = None,
        on_sent: Sent | None = None,
    ) -> httpx.Response:
        """One request, retried on transient failure.

        A memoryview body is sent in slices with its length declared: no copy of a whole
        segment is made for each request (nor kept by the allocator afterwards). ``on_sent``
        hears of each slice as it leaves, and of a failed attempt's bytes taken back
        (negative) before the request is tried again.
        """
        if isinstance(content, memoryview):
            headers = {**(headers or {}), "Content-Length": str(len(content))}
        backoff = self.settings.first_backoff
        deadline = time.monotonic() + self.settings.give_up_after
        while True:
            if self.stop.is_set():
                raise Stopped
            sent = [0]
            body: bytes | Iterator[memoryview] | None = (
                self._slices(content, sent, on_sent) if isinstance(content, memoryview) else content
            )
            try:
                response = self.http.request(
                    method,
                    path,
                    json=json,
                    # httpx sends any re-iterable of buffers; its annotation says bytes.
                    content=cast(Iterable[bytes] | bytes | None, body),
                    headers=headers,
                )
            except (httpx.TransportError, ProtocolError) as exc:
                # socksio's ProtocolError: a proxy that answered oddly (e.g. while Tor
                # rebuilds a circuit) is as transient as a dropped connection.
                reason = type(exc).__name__
            else:
                if response.status_code in expect:
                    return response
                if response.status_code not in RETRY_STATUSES:
                    raise RefusedError(
                        N_("The server refused {what} ({status}): {message}"),
                        what=f"{method} {path.split('?', maxsplit=1)[0]}",
                        status=response.status_code,
                        message=_message(response),
                    )
                reason = f"HTTP {response.status_code}"
            if on_sent and sent[0]:
                on_sent(-sent[0])  # those bytes were not received: they go again
            if time.monotonic() + backoff > deadline:
                raise ServerError(
                    N_(
                        "Gave up reaching the server after {seconds:.0f} s ({reason}); run the "
                        "same command again later to resume"
                    ),
                    seconds=self.settings.give_up_after,
                    reason=reason,
                )
            pause = backoff * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not secrets
            if self._sleep is time.sleep:
                self.stop.wait(pause)  # a stop ends the wait at once
            else:
                self._sleep(pause)
            backoff = min(backoff * 2, self.settings.max_backoff)

    def _slices(
        self, content: memoryview, sent: list[int], on_sent: Sent | None
    ) -> Iterator[memoryview]:
        """``content`` in slices, counting each once it has been handed to the connection."""
        for start in range(0, len(content), SLICE):
            if self.stop.is_set():
                raise Stopped
            piece = content[start : start + SLICE]
            yield piece
            sent[0] += len(piece)
            if on_sent:
                on_sent(len(piece))

    def api(
        self,
        method: str,
        path: str,
        *,
        expect: tuple[int, ...] = (200,),
        json: Any = None,
        content: bytes | memoryview | None = None,
        on_sent: Sent | None = None,
    ) -> httpx.Response:
        """A JSON API call carrying the anti-forgery header."""
        headers = {"X-CSRF-Token": self.csrf()}
        if content is not None:
            headers["Content-Type"] = "application/octet-stream"
        return self.request(
            method,
            path,
            expect=expect,
            json=json,
            content=content,
            headers=headers,
            on_sent=on_sent,
        )


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])[:300]
    return response.reason_phrase
