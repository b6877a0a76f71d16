"""The one HTTP transport of the parts that reach a Tainik server from outside: ``tainik send``
(the source interface's API, docs/protocol.md) and ``tainik pull`` (the newsroom API,
docs/api.md). Both go through Tor, over links that break; both are specified in
docs/protocol.md, "Reaching the server", which this module follows:

- **One proxy policy** (:func:`check_proxy`): an ``.onion`` server only through a SOCKS5
  proxy (Tor's), refused at once without one (its name would go to the system's DNS: a leak of
  which onion service this computer looks for, and no answer); the host name is always handed
  to the proxy (``socks5h``; a ``socks5://`` proxy is used as ``socks5h://``); an HTTP proxy
  only for a server that is not an ``.onion``, since it would resolve the name itself.
- **Failures through Tor explained** (:mod:`tainik.socks`): when a connection through the
  SOCKS proxy fails, one CONNECT of our own reads Tor's reply code. Tor not running ends a run
  that has reached nothing yet; a missing or revoked client-authorization key, or an invalid
  onion address, ends it at once; the rest is retried, and each pause is reported
  (``on_wait``), so a run is never silent for long.
- **One retry policy** (:class:`RetryPolicy`): a dropped connection, a timeout, a proxy that
  answered oddly, and the statuses in :data:`RETRY_STATUSES` are tried again after an
  exponential backoff with jitter, at least as long as a ``Retry-After`` asks (up to the
  largest backoff), until a number of attempts or of seconds is spent.
- **Bounded answers** (:func:`read_at_most`): a server is not trusted to be finite; every body
  read into memory has a limit, and a longer one is refused, not read.

A run can be stopped (Ctrl-C): :attr:`Transport.stop` ends a pause at once, and a body given
as a memoryview is sent in :data:`SLICE`-sized slices so that a request in flight is dropped
between two of them (:class:`Stopped`).
"""

from __future__ import annotations

import email.utils
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias, TypeVar, cast
from urllib.parse import urlsplit

import httpx
from socksio.exceptions import ProtocolError

from tainik.core.errors import N_, ExitCode, TainikError, UsageError
from tainik.core.urls import is_url
from tainik.socks import (
    NoProxyForOnionError,
    OnionRefusedError,
    OnionUnreachableError,
    ProxyDownError,
    ProxyLostError,
    probe,
)

# An answer as the transport hands it to a reader (a streamed httpx response).
Response: TypeAlias = httpx.Response
T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
PROXY_SCHEMES = ("socks5h", "socks5")
# An HTTP proxy resolves the server's name itself: never for an onion service.
CLEAR_WEB_PROXY_SCHEMES = ("http", "https")
# A request body given as a memoryview goes out in slices of this size: progress is counted
# per slice, and a stopped run abandons a request between two slices.
SLICE = 256 * 1024
CHUNK = 1024 * 1024
MAX_ERROR_BODY = 64 * 1024  # read of an error answer, for its message

# Called with the bytes of a body as each slice leaves, and with the bytes of a failed
# attempt taken back (negative) before it is tried again.
Sent = Callable[[int], None]
# Told of each failure that will be tried again, with the pause before the next attempt.
OnWait = Callable[[TainikError, float], None]


class Stopped(Exception):
    """The run was stopped (Ctrl-C) while a request was under way; the request is dropped."""


class UnreachableError(TainikError):
    """The server could not be reached, or kept failing, for as long as the policy allows."""

    exit_code = ExitCode.IO
    template = N_(
        "Gave up on {what} ({reason}; attempts: {count}, over {seconds:.0f} s); run the same "
        "command again later to resume"
    )


class FailedAttempt(TainikError):
    """An attempt that failed and will be tried again (told to ``on_wait``)."""

    exit_code = ExitCode.IO
    template = N_("{what} failed ({reason})")


class Transient(Exception):
    """A failure worth another attempt: raise it from a reader (``Retry-After`` seconds, if
    the server said)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again, and when to stop (at ``attempts`` attempts, or once the next try
    would start ``give_up_after`` seconds after the first; either may be ``None``)."""

    first_backoff: float = 1.0
    max_backoff: float = 60.0
    attempts: int | None = None
    give_up_after: float | None = None

    def pause(self, backoff: float, retry_after: float | None) -> float:
        """The pause before the next attempt: ``backoff`` with jitter (half to all of it), and
        at least what ``Retry-After`` asked, up to ``max_backoff``."""
        pause = backoff * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not secrets
        if retry_after is not None:
            pause = max(pause, min(retry_after, self.max_backoff))
        return pause


def is_onion(url: str) -> bool:
    """Whether ``url``'s host is an onion service's name."""
    host = urlsplit(url).hostname or ""
    return host.rstrip(".").endswith(".onion")


def check_server(url: str) -> str:
    """An ``http://`` or ``https://`` base URL, without a trailing slash; else a usage error."""
    if not is_url(url, ("http", "https")):
        raise UsageError(
            N_("--server must be an http:// or https:// address, such as http://abc...xyz.onion")
        )
    return str(httpx.URL(url)).rstrip("/")


def check_proxy(proxy: str | None, server: str) -> str | None:
    """The proxy to use for ``server``, if the policy allows (see the module docstring): a
    ``socks5://`` one comes back as ``socks5h://``, which is how it is used."""
    if proxy is None:
        if is_onion(server):
            raise NoProxyForOnionError(server=urlsplit(server).hostname or server)
        return None
    if is_url(proxy, PROXY_SCHEMES):
        return "socks5h://" + proxy.split("://", 1)[1]
    if is_url(proxy, CLEAR_WEB_PROXY_SCHEMES):
        if is_onion(server):
            raise UsageError(
                N_(
                    "--proxy must be a socks5h:// address (Tor's SOCKS port) for an .onion "
                    "server: an HTTP proxy would look the name up itself"
                )
            )
        return proxy
    raise UsageError(
        N_(
            "--proxy must be a socks5h:// address such as socks5h://127.0.0.1:9050 (Tor), or "
            "an http:// one for a server that is not an .onion"
        )
    )


@dataclass(frozen=True)
class Answer:
    """A whole answer read into memory (within its bound)."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        """The body as JSON (for a codec's ``parse``)."""
        return json.loads(self.content)


class Transport:
    """HTTP to one server, through the proxy the policy allows, retried by ``policy``."""

    def __init__(
        self,
        server: str,
        *,
        proxy: str | None = None,
        timeout: float = 120.0,
        policy: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: OnWait | None = None,
    ) -> None:
        self.server = server.rstrip("/")
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self.on_wait = on_wait
        self.proxy = check_proxy(proxy, self.server)
        # Whether any request got through: until then Tor not running ends the run.
        self.reached = False
        # Set to stop: requests in flight stop between two slices, and none starts again.
        self.stop = threading.Event()
        self.http = httpx.Client(
            base_url=self.server,
            proxy=self.proxy,
            timeout=httpx.Timeout(timeout, connect=min(60.0, timeout)),
            cookies=dict(cookies or {}),
            headers=dict(headers or {}),
            follow_redirects=False,
        )

    def close(self) -> None:
        """Close connections."""
        self.http.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def retrying(self, what: str, attempt: Callable[[], T], on_retry: Callable[[], None]) -> T:
        """``attempt()`` until it succeeds; :class:`Transient`, a transport failure and a
        proxy's odd answer are tried again under the policy, then :class:`UnreachableError`."""
        policy = self.policy
        started = time.monotonic()
        backoff = policy.first_backoff
        number = 0
        while True:
            if self.stop.is_set():
                raise Stopped
            number += 1
            retry_after = None
            problem: TainikError | None = None
            try:
                result = attempt()
                self.reached = True
                return result
            except (httpx.TransportError, ProtocolError) as exc:
                # socksio's ProtocolError: a proxy that answered oddly (e.g. while Tor
                # rebuilds a circuit) is as transient as a dropped connection.
                reason = type(exc).__name__
                cause: Exception = exc
                problem = self.explain(exc)
            except Transient as exc:
                reason, retry_after, cause = exc.reason, exc.retry_after, exc
            on_retry()
            pause = policy.pause(backoff, retry_after)
            spent = time.monotonic() - started
            if (policy.attempts is not None and number >= policy.attempts) or (
                policy.give_up_after is not None and spent + pause > policy.give_up_after
            ):
                raise UnreachableError(
                    what=what, count=number, seconds=spent, reason=problem or reason
                ) from cause
            if self.on_wait is not None:
                self.on_wait(problem or FailedAttempt(what=what, reason=reason), pause)
            if self._sleep is time.sleep:
                self.stop.wait(pause)  # a stop ends the wait at once
            else:
                self._sleep(pause)
            backoff = min(backoff * 2, policy.max_backoff)

    def explain(self, exc: Exception) -> TainikError | None:
        """What a failure to connect through the SOCKS proxy means (:func:`tainik.socks.probe`),
        or None (no SOCKS proxy, a failure after connecting, or Tor connects now).

        Raises what will not change by trying again: a refused onion (client authorization,
        a bad address), and Tor not running before anything got through."""
        if self.proxy is None or not self.proxy.startswith("socks5"):
            return None
        if not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.ProxyError) and (
            not isinstance(exc, ProtocolError)
        ):
            return None
        url = httpx.URL(self.server)
        try:
            probe(self.proxy, url.host, url.port or (443 if url.scheme == "https" else 80))
        except OnionRefusedError:
            raise
        except ProxyDownError as error:
            if not self.reached:
                raise
            return ProxyLostError(proxy=error.params["proxy"], reason=error.params["reason"])
        except OnionUnreachableError as error:
            return error
        return None

    def request(
        self,
        method: str,
        path: str,
        read: Callable[[Response], T],
        *,
        json: object = None,
        content: bytes | memoryview | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        on_sent: Sent | None = None,
        held: Callable[[], T | None] | None = None,
    ) -> T:
        """One request, retried: ``read`` gets each answer whose status is not in
        :data:`RETRY_STATUSES` while it streams, and may raise :class:`Transient` too.

        A memoryview body is sent in slices with its length declared: no copy of it is made
        for each attempt. ``on_sent`` hears of each slice as it leaves, and of a failed
        attempt's bytes taken back (negative) before the request is tried again.

        When an attempt sent the whole body and the connection broke before the answer (Tor
        killed, a circuit lost), the server may hold it all the same: ``held`` is asked before
        the body goes again, and what it returns (not None) is the request's result.
        """
        if isinstance(content, memoryview):
            headers = {**(headers or {}), "Content-Length": str(len(content))}
        sent = [0]
        unanswered = [False]  # the last attempt sent the whole body and heard nothing

        def attempt() -> T:
            if unanswered[0] and held is not None and isinstance(content, memoryview):
                unanswered[0] = False
                known = held()
                if known is not None:
                    if on_sent:
                        on_sent(len(content))  # taken back after the failure: it arrived
                    return known
            sent[0] = 0
            body: bytes | Iterator[memoryview] | None = (
                self._slices(content, sent, on_sent) if isinstance(content, memoryview) else content
            )
            try:
                with self.http.stream(
                    method,
                    path,
                    json=json,
                    # httpx sends any re-iterable of buffers; its annotation says bytes.
                    content=cast(Iterable[bytes] | bytes | None, body),
                    headers=headers,
                    params=params,
                ) as response:
                    if response.status_code in RETRY_STATUSES:
                        raise Transient(f"HTTP {response.status_code}", retry_after_of(response))
                    return read(response)
            except (httpx.TransportError, ProtocolError):
                unanswered[0] = isinstance(content, memoryview) and sent[0] == len(content)
                raise

        def taken_back() -> None:
            if on_sent and sent[0]:
                on_sent(-sent[0])  # those bytes were not received: they go again
            sent[0] = 0

        return self.retrying(f"{method} {path.split('?', maxsplit=1)[0]}", attempt, taken_back)

    def once(
        self,
        method: str,
        path: str,
        read: Callable[[Response], T],
        *,
        json: object = None,
    ) -> T:
        """One attempt, not retried (a login code is good only once): ``read`` gets the answer
        whatever its status; a failure to connect is :class:`UnreachableError`."""
        try:
            with self.http.stream(method, path, json=json) as response:
                return read(response)
        except (httpx.TransportError, ProtocolError) as exc:
            raise UnreachableError(
                what=f"{method} {path}",
                count=1,
                seconds=0.0,
                reason=self.explain(exc) or type(exc).__name__,
            ) from exc

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


def retry_after_of(response: Response) -> float | None:
    """``Retry-After`` in seconds (a number of seconds, or an HTTP date), if valid."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


class TooLargeError(TainikError):
    """An answer longer than its bound: refused, not read further."""

    exit_code = ExitCode.INTEGRITY
    template = N_("{path}: the server answered more than {limit} bytes")


def read_at_most(response: Response, limit: int, path: str) -> bytes:
    """The body, which must not pass ``limit`` bytes (no more is read)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes(CHUNK):
        size += len(chunk)
        if size > limit:
            raise TooLargeError(path=path.split("?", maxsplit=1)[0], limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def answer(response: Response, limit: int, path: str) -> Answer:
    """The whole answer, its body read within ``limit`` bytes."""
    body = read_at_most(response, limit, path)
    return Answer(response.status_code, dict(response.headers), body)


def error_message(response: Response, limit: int = 300) -> str:
    """The ``message`` of a JSON error answer (read within :data:`MAX_ERROR_BODY`), or the
    reason phrase."""
    try:
        body = read_at_most(response, MAX_ERROR_BODY, "")
        value = json.loads(body)
    except (TainikError, ValueError, httpx.HTTPError, httpx.StreamError):
        return response.reason_phrase
    if isinstance(value, dict) and isinstance(value.get("message"), str):
        return str(value["message"])[:limit]
    return response.reason_phrase
