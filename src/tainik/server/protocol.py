"""The HTTP/1.1 protocol the server speaks: uvicorn's httptools protocol, with bounded heads,
a deadline for each head and a minimum rate for each body.

httptools (llhttp, in C) parses request bodies several times faster than h11, whose pure-Python
buffering copied every byte of an upload twice. But neither llhttp nor uvicorn bounds what a
client may hold: a head may grow for ever, a connection may send nothing, and a body may
arrive one byte a minute. On the open Tor network each is a way to hold the server's memory
and file descriptors for nothing. :class:`BoundedHttpToolsProtocol` adds three bounds:

- **Head size.** It counts the bytes of each request until its head is complete and answers
  ``431`` and closes the connection once they pass :data:`MAX_HEAD_BYTES`. A head is checked
  before each read is parsed, so at most one read (asyncio reads at most 256 KiB) beyond the
  limit is ever buffered. Requests whose head fits but whose headers still exceed the
  application's own bound get the same answer from :class:`tainik.server.security.SecurityHeaders`.
- **Head deadline.** A request's line and headers must be complete within
  ``head_timeout_seconds`` of the connection (for its first request) or of the request's first
  byte (for later ones on a kept-alive connection), else ``408`` and the connection is closed.
  Between requests, uvicorn's keep-alive timeout closes idle connections.
- **Body rate.** While a body is being received, every window of ``body_window_seconds`` must
  bring at least ``body_min_bytes_per_second`` × the window, else ``408`` (when no response
  has started) and the connection is closed; the application sees a disconnect. A window in
  which the server itself stopped reading (its buffer was full because the application was
  busy) does not count against the client. There is no deadline for a whole body: a trove of
  gigabytes through Tor takes hours, and is welcome.

The numbers, and why they suit slow Tor circuits, are in :class:`tainik.config.ConnectionLimits`
and docs/threat-model.md.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from tainik.config import ConnectionLimits
from tainik.server.security import HEADERS, MAX_REQUEST_HEADERS, TOO_LARGE

# The request line and the header block together; headers alone are bounded at 16 KiB.
MAX_HEAD_BYTES = MAX_REQUEST_HEADERS + 8 * 1024
TIMED_OUT = "Request timed out / Время ожидания запроса истекло\n".encode()
BUSY = "Server busy, try again / Сервер занят, попробуйте ещё раз\n".encode()


def plain_response(status: bytes, text: bytes, *extra: bytes) -> bytes:
    """A whole ``connection: close`` response with the security headers, written by hand
    (for answers given before, or instead of, the application)."""
    head = [b"HTTP/1.1 " + status + b"\r\n"]
    for name, value in HEADERS.items():
        head.append(f"{name}: {value}\r\n".encode("latin-1"))
    head.extend(extra)
    head.append(b"content-type: text/plain; charset=utf-8\r\n")
    head.append(f"content-length: {len(text)}\r\n".encode("ascii"))
    head.append(b"connection: close\r\n\r\n")
    return b"".join(head) + text


HEAD_TOO_LARGE = plain_response(b"431 Request Header Fields Too Large", TOO_LARGE)
REQUEST_TIMEOUT = plain_response(b"408 Request Timeout", TIMED_OUT)
SERVICE_UNAVAILABLE = plain_response(b"503 Service Unavailable", BUSY, b"retry-after: 10\r\n")


class _WatchedFlow(FlowControl):
    """uvicorn's flow control, noting when the server stops reading (a window in which it
    did is not the client's fault)."""

    def __init__(self, transport: asyncio.Transport, protocol: BoundedHttpToolsProtocol) -> None:
        super().__init__(transport)
        self._protocol = protocol

    def pause_reading(self) -> None:
        self._protocol.window_excused = True
        super().pause_reading()


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded heads, head deadlines and body rates."""

    _head_bytes = 0
    _in_head = True
    _refused = False

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        limits: ConnectionLimits | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits or ConnectionLimits()
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._window_bytes = 0
        self.window_excused = False

    # -- connection life ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.flow = _WatchedFlow(transport, self)
        self._arm_head_timer()  # a connection that never sends a byte is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(HEAD_TOO_LARGE)
                return
            self._head_bytes += len(data)
        elif self._body_timer is not None:
            self._window_bytes += len(data)
        super().data_received(data)

    # -- parser callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        self._window_bytes = 0
        self.window_excused = False
        self._body_timer = self.loop.call_later(
            self.limits.body_window_seconds, self._check_body_rate
        )
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._cancel_body_timer()
        # The next request on this connection starts with a fresh count.
        self._in_head = True
        self._head_bytes = 0

    # -- the bounds -----------------------------------------------------------------------

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(
            self.limits.head_timeout_seconds, self._head_timed_out
        )

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A response is still being sent (a long download) while the next request's
            # head waits behind it: that head's clock starts once the response is done.
            self._arm_head_timer()
            return
        self._refuse(REQUEST_TIMEOUT)

    def _check_body_rate(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        window = self.limits.body_window_seconds
        enough = self._window_bytes >= self.limits.body_min_bytes_per_second * window
        if enough or self.window_excused or self.flow.read_paused:
            self._window_bytes = 0
            self.window_excused = False
            self._body_timer = self.loop.call_later(window, self._check_body_rate)
            return
        started = self.cycle is not None and self.cycle.response_started
        self._refuse(None if started else REQUEST_TIMEOUT)

    def _refuse(self, answer: bytes | None) -> None:
        """Answer (unless a response has begun), close, and read nothing more."""
        self._refused = True
        self._cancel_timers()
        if answer is not None:
            self.transport.write(answer)
        self.transport.close()
        if self.cycle is not None and not self.cycle.response_complete:
            # Tell the application now, not when the transport reports the loss.
            self.cycle.disconnected = True
            self.cycle.message_event.set()

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head_timer()
        self._cancel_body_timer()
