"""Serving the two interfaces: a thread, an event loop and a connection cap per listener.

The source interface faces anonymous strangers; the newsroom interface, staff. Whatever the
first is made to do must not slow the second down, so each listener gets

- **its own thread and event loop**, hence its own pool of worker threads (anyio's default
  limiter and asyncio's default executor both belong to a loop): a flood of source requests
  queues behind other source requests, never in front of a journalist's inbox;
- **its own connection cap**: past it, a new connection is answered ``503`` and closed at
  once, so held connections cannot exhaust the process's file descriptors for the other
  listener (the caps are lowered at start to fit the file limit, which is first raised to its
  hard maximum);
- **its own accept loop** (:class:`Listener`). asyncio's, on ``EMFILE``, logs a traceback for
  every pending connection and schedules one more retry for each, thousands a second; this
  one stops accepting for :data:`ACCEPT_PAUSE` seconds and says so once (rate-limited by
  :mod:`tainik.server.logs`).

The Argon2id work of the two sides is kept apart too (``Instance.staff_kdf_gate``), and what
each request may hold of a connection is bounded by :mod:`tainik.server.protocol`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import resource
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType

import anyio.to_thread
import uvicorn
from starlette.types import ASGIApp

from tainik.config import ConnectionLimits
from tainik.server.protocol import SERVICE_UNAVAILABLE, BoundedHttpToolsProtocol

log = logging.getLogger("tainik.server")

ACCEPT_PAUSE = 0.5  # seconds without accepting after the process ran out of descriptors
ACCEPT_BATCH = 64  # connections taken per wake-up, so one listener cannot hog the loop
THREADS = 40  # worker threads per listener (anyio's default, now one pool each)
# Descriptors kept for everything but client connections: the database and its WAL, sealed
# files being written, the sealing workers' pipes, the listeners, logs, a margin.
RESERVED_FDS = 64
RESOURCE_ERRORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
GRACEFUL_SHUTDOWN = 5  # seconds for requests in progress at SIGTERM


def raise_file_limit() -> int:
    """Raise the soft limit on open files to the hard limit; returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            log.warning("could not raise the open-file limit from %d", soft)
    return soft


def fitted_caps(limits: ConnectionLimits, file_limit: int, in_use: int) -> tuple[int, int]:
    """(source, newsroom) connection caps that fit in ``file_limit`` descriptors, of which
    ``in_use`` are open already and :data:`RESERVED_FDS` are kept for other work: the
    configured caps when they fit, else shares of what there is (at least one each)."""
    wanted = limits.source_connections + limits.newsroom_connections
    room = max(2, file_limit - in_use - RESERVED_FDS)
    if wanted <= room:
        return limits.source_connections, limits.newsroom_connections
    newsroom = max(1, room * limits.newsroom_connections // wanted)
    return max(1, room - newsroom), newsroom


def open_files() -> int:
    """Descriptors this process has open now."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return RESERVED_FDS


class Listener:
    """One listening socket, accepted by hand: a cap on open connections, and a pause (not a
    flood of tracebacks) when the process runs out of descriptors.

    Has the two methods uvicorn's shutdown calls on a server: :meth:`close` and
    :meth:`wait_closed`.
    """

    def __init__(
        self,
        name: str,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.Protocol],
        open_connections: Callable[[], int],
        cap: int,
    ) -> None:
        self.name = name
        self._sock = sock
        self._factory = protocol_factory
        self._open = open_connections
        self.cap = cap
        self._starting = 0  # accepted, transport not made yet
        self._loop = asyncio.get_running_loop()
        self._resume: asyncio.TimerHandle | None = None
        self._closed = False
        sock.setblocking(False)
        self._loop.add_reader(sock.fileno(), self._accept)

    def _accept(self) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _address = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                self._pause(exc)
                return
            if self._open() + self._starting >= self.cap:
                _refuse(conn)
                log.warning("%s listener: %d connections open, refusing more", self.name, self.cap)
                continue
            conn.setblocking(False)
            self._starting += 1
            self._loop.create_task(self._connect(conn))

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._factory, conn)
        except OSError:
            conn.close()
        finally:
            self._starting -= 1

    def _pause(self, exc: OSError) -> None:
        """Stop accepting for a moment: pending connections wait in the kernel's backlog
        (descriptors come back as held connections time out)."""
        self._loop.remove_reader(self._sock.fileno())
        self._resume = self._loop.call_later(ACCEPT_PAUSE, self._restart)
        reason = errno.errorcode.get(exc.errno or 0, "error")
        if exc.errno in RESOURCE_ERRORS:
            log.error("%s listener: cannot accept (%s), pausing", self.name, reason)
        else:
            log.error("%s listener: accept failed (%s), pausing", self.name, reason)

    def _restart(self) -> None:
        self._resume = None
        if not self._closed:
            self._loop.add_reader(self._sock.fileno(), self._accept)

    def close(self) -> None:
        """Stop accepting (the socket itself is closed by uvicorn)."""
        if self._closed:
            return
        self._closed = True
        if self._resume is not None:
            self._resume.cancel()
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_reader(self._sock.fileno())

    async def wait_closed(self) -> None:
        """Nothing to wait for: connections are the server's to drain."""


def _refuse(conn: socket.socket) -> None:
    """503 and close, without reading a byte: the cheapest answer there is."""
    with contextlib.suppress(OSError):
        conn.setblocking(False)
        conn.send(SERVICE_UNAVAILABLE)
    conn.close()


class ListenerServer(uvicorn.Server):
    """A uvicorn server for one app on one listening socket, through a :class:`Listener`."""

    def __init__(
        self, name: str, app: ASGIApp, sock: socket.socket, limits: ConnectionLimits, cap: int
    ) -> None:
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,  # an access log would hold addresses and user agents
            server_header=False,
            date_header=False,
            proxy_headers=False,
            http=BoundedHttpToolsProtocol,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
            lifespan="off",
        )
        super().__init__(config)
        self.name = name
        self.sock = sock
        self.limits = limits
        self.cap = cap
        self.partner: ListenerServer | None = None
        self.failed = False
        # A worker of ``tainik serve --workers`` stops when its parent has gone.
        self.orphaned: Callable[[], bool] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        config = self.config
        if not config.loaded:
            config.load()
        await self.lifespan.startup()
        loop = asyncio.get_running_loop()
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS

        def protocol() -> asyncio.Protocol:
            return BoundedHttpToolsProtocol(
                config=config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
                _loop=loop,
                limits=self.limits,
            )

        state = self.server_state

        def count() -> int:
            return len(state.connections)

        listener = Listener(self.name, self.sock, protocol, count, self.cap)
        self.servers = [listener]  # type: ignore[list-item]
        self.started = True

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # serve_both handles signals for both servers; uvicorn's own handling would stop only
        # this one, then kill the process with the signal before the other had finished.
        yield

    async def on_tick(self, counter: int) -> bool:
        # Both listeners stop together, whichever was told (signals reach the main thread).
        partner = self.partner
        if partner is not None and (partner.should_exit or partner.failed):
            self.should_exit = True
        if self.orphaned is not None and counter % 10 == 0 and self.orphaned():
            log.warning("%s listener: the parent process has gone, stopping", self.name)
            self.should_exit = True
        return await super().on_tick(counter)

    def run_in_thread(self) -> None:
        """Serve in the calling (non-main) thread, on a loop of its own."""
        try:
            asyncio.run(self.serve(sockets=[self.sock]))
        except BaseException as exc:  # reported by type only, as everywhere; the other stops
            log.error("%s listener stopped: %s", self.name, type(exc).__name__)
        finally:
            self.failed = not self.should_exit


@dataclass(frozen=True)
class Interfaces:
    """The two apps and their listening sockets."""

    source_app: ASGIApp
    source_socket: socket.socket
    newsroom_app: ASGIApp
    newsroom_socket: socket.socket


def serve_both(
    interfaces: Interfaces,
    limits: ConnectionLimits,
    orphaned: Callable[[], bool] | None = None,
) -> None:
    """Serve the source interface in this thread and the newsroom in another, until a signal
    (SIGINT or SIGTERM) stops both, or ``orphaned()`` turns true (checked every second).

    The bounds here (threads, connection caps, the file limit) are this process's: a host
    running N worker processes (server/workers.py) holds up to N times as many."""
    file_limit = raise_file_limit()
    source_cap, newsroom_cap = fitted_caps(limits, file_limit, open_files())
    if (source_cap, newsroom_cap) != (limits.source_connections, limits.newsroom_connections):
        log.warning(
            "open-file limit %d: at most %d source and %d newsroom connections",
            file_limit,
            source_cap,
            newsroom_cap,
        )
    source = ListenerServer(
        "source", interfaces.source_app, interfaces.source_socket, limits, source_cap
    )
    newsroom = ListenerServer(
        "newsroom", interfaces.newsroom_app, interfaces.newsroom_socket, limits, newsroom_cap
    )
    source.partner, newsroom.partner = newsroom, source
    source.orphaned = newsroom.orphaned = orphaned

    def stop(signum: int, _frame: FrameType | None) -> None:
        for server in (source, newsroom):
            # A second Ctrl-C stops at once, without waiting for requests in progress.
            server.force_exit = server.should_exit and signum == signal.SIGINT
            server.should_exit = True

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    thread = threading.Thread(target=newsroom.run_in_thread, name="tainik-newsroom")
    thread.start()
    try:
        asyncio.run(source.serve(sockets=[interfaces.source_socket]))
    finally:
        newsroom.should_exit = True
        thread.join()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
