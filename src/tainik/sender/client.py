"""A client of the source interface's JSON API (docs/protocol.md), on the one transport.

Retries, the proxy policy and the bounds on answers are :mod:`tainik.transport`'s; this
module adds the source's session: the anti-forgery token, and the refusals that retrying
will not change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from tainik.core.errors import N_, TainikError
from tainik.transport import (
    SLICE,
    Answer,
    OnWait,
    Response,
    RetryPolicy,
    Sent,
    Stopped,
    Transport,
    error_message,
)
from tainik.transport import answer as read_answer

__all__ = ["SLICE", "ClientSettings", "RefusedError", "ServerError", "SourceClient", "Stopped"]

# The largest answer the source API gives: an upload's view of 2^18 segments, its note
# holding a SHA-256 of each (about 18 MiB of JSON).
MAX_ANSWER = 64 * 1024 * 1024


class ServerError(TainikError):
    """The server answered what this client cannot use."""

    exit_code = 5


class RefusedError(ServerError):
    """A 4xx answer: retrying will not help."""

    exit_code = 2


@dataclass(frozen=True)
class ClientSettings:
    """Where and how to connect; a source's link may be down for a long while, so the
    sender gives up after ``give_up_after`` seconds without a successful request."""

    server: str
    proxy: str | None = None
    timeout: float = 120.0
    give_up_after: float = 1800.0
    first_backoff: float = 1.0
    max_backoff: float = 60.0
    #: Told of each failure that is tried again (the command line prints it).
    on_wait: OnWait | None = None

    @property
    def policy(self) -> RetryPolicy:
        """The transport's retry policy for these settings."""
        return RetryPolicy(
            first_backoff=self.first_backoff,
            max_backoff=self.max_backoff,
            give_up_after=self.give_up_after,
        )


class SourceClient:
    """A logged-in (or about to be) source talking to one server."""

    def __init__(
        self,
        settings: ClientSettings,
        cookies: dict[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.transport = Transport(
            settings.server,
            proxy=settings.proxy,
            timeout=settings.timeout,
            policy=settings.policy,
            headers={"User-Agent": "tainik-send"},
            cookies=cookies,
            sleep=sleep,
            on_wait=settings.on_wait,
        )
        self.http = self.transport.http
        # Set to stop: requests in flight stop between two slices, and none starts again.
        self.stop = self.transport.stop

    def close(self) -> None:
        """Close connections."""
        self.transport.close()

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
        json: object = None,
        content: bytes | memoryview | None = None,
        headers: dict[str, str] | None = None,
        on_sent: Sent | None = None,
        held: Callable[[], Answer | None] | None = None,
    ) -> Answer:
        """One request, retried on transient failure (:mod:`tainik.transport`, which asks
        ``held`` before sending a body again that may have arrived); an answer not in
        ``expect`` is refused."""

        def read(response: Response) -> Answer:
            if response.status_code not in expect:
                raise RefusedError(
                    N_("The server refused {what} ({status}): {message}"),
                    what=f"{method} {path.split('?', maxsplit=1)[0]}",
                    status=response.status_code,
                    message=error_message(response),
                )
            return read_answer(response, MAX_ANSWER, path)

        return self.transport.request(
            method,
            path,
            read,
            json=json,
            content=content,
            headers=headers,
            on_sent=on_sent,
            held=held,
        )

    def api(
        self,
        method: str,
        path: str,
        *,
        expect: tuple[int, ...] = (200,),
        json: object = None,
        content: bytes | memoryview | None = None,
        on_sent: Sent | None = None,
        held: Callable[[], Answer | None] | None = None,
    ) -> Answer:
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
            held=held,
        )
