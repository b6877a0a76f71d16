"""Building the two ASGI apps and serving them on two listeners.

The source interface and the newsroom interface are separate apps on separate ports, since
each becomes its own onion service. Each listener is served by its own uvicorn server, thread
and event loop in one process (server/serving.py), so that load on one does not queue the
other's requests.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from tainik.core.errors import N_, UsageError
from tainik.server import exception_handlers, logs
from tainik.server.newsroom.interface import NewsroomInterface
from tainik.server.pages import Pages
from tainik.server.security import SecurityHeaders
from tainik.server.serving import Interfaces, serve_both
from tainik.server.source.api import SourceApi
from tainik.server.source.routes import SourceInterface
from tainik.service import onion
from tainik.service.instance import Instance

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("tainik.server")


def _starlette(
    instance: Instance,
    routes: list[Any],
    pages: Pages,
    staff_of: exception_handlers.StaffOf | None = None,
) -> ASGIApp:
    app = Starlette(
        routes=[*routes, Mount("/static", app=StaticFiles(directory=STATIC), name="static")],
        exception_handlers=exception_handlers.handlers(pages, staff_of),
    )
    return SecurityHeaders(FreshSettings(QuietErrors(app), instance))


@dataclass
class FreshSettings:
    """Read tainik.toml again before a request if another process has changed it (several
    worker processes serve one instance: server/workers.py)."""

    app: ASGIApp
    instance: Instance

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.instance.refresh_config()
        await self.app(scope, receive, send)


def routing_of(app: ASGIApp) -> Starlette:
    """The Starlette app inside our middleware (tests read its routing table)."""
    while not isinstance(app, Starlette):
        app = app.app  # type: ignore[attr-defined]
    return app


@dataclass
class QuietErrors:
    """Keep exception text out of the log.

    Starlette renders the 500 page and then re-raises, and uvicorn would log the traceback
    with the exception's message, which may quote request data. The page is already sent:
    log the type only and stop here.
    """

    app: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:  # reported by type only, deliberately
            log.error("internal error: %s", type(exc).__name__)


def source_app(instance: Instance) -> ASGIApp:
    """The source interface."""
    interface = SourceInterface(instance)
    api = SourceApi(instance)
    return _starlette(instance, [*interface.routes(), *api.routes()], interface.pages)


def newsroom_app(instance: Instance) -> ASGIApp:
    """The newsroom interface: staff pages and the workstation's API."""
    interface = NewsroomInterface(instance)
    return _starlette(instance, interface.routes(), interface.pages, interface.staff_or_none)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket whose connections send small writes at once (TCP_NODELAY).

    asyncio sets TCP_NODELAY only on sockets whose protocol is IPPROTO_TCP, and a socket made
    with the default protocol 0 does not say so: Nagle's algorithm then held back the second
    write of every response (headers, then body) until the client's delayed ACK, 40 ms on
    Linux, per request. Naming the protocol, and setting the option on the listener (which
    Linux copies to accepted connections), removes that stall.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            N_("Cannot listen on {host}:{port}: {reason}"),
            host=host,
            port=port,
            reason=exc.strerror or str(exc),
        ) from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def listen(host: str, source_port: int, newsroom_port: int) -> tuple[socket.socket, socket.socket]:
    """The two listening sockets (source, newsroom)."""
    return bind(host, source_port), bind(host, newsroom_port)


@contextlib.contextmanager
def published(
    instance: Instance, host: str, sockets: tuple[socket.socket, socket.socket]
) -> Iterator[None]:
    """Within the block, the two listeners are announced, and with [tor] enabled published as
    onion services first; if either cannot be, tor is stopped and nothing is served
    (service/onion.py). Once per host: the parent of ``--workers`` publishes, workers serve."""
    ports = [s.getsockname()[1] for s in sockets]
    try:
        tor = onion.publish(instance, host, (ports[0], ports[1]))
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    try:
        shown = f"[{host}]" if ":" in host else host
        print(f"source interface:   http://{shown}:{ports[0]}/", flush=True)
        print(f"newsroom interface: http://{shown}:{ports[1]}/", flush=True)
        if tor is not None:
            print(f"source onion:       http://{tor.addresses.source}/", flush=True)
            print(f"newsroom onion:     http://{tor.addresses.newsroom}/", flush=True)
        yield
    finally:
        if tor is not None:
            tor.stop()


def serve(instance: Instance, host: str, source_port: int, newsroom_port: int) -> None:
    """Serve both interfaces until interrupted (SIGINT or SIGTERM): each on its own listener,
    thread and event loop, with the bounds of the instance's ``[connections]`` settings
    (server/serving.py)."""
    sockets = listen(host, source_port, newsroom_port)
    with published(instance, host, sockets):
        serve_on(instance, sockets)


def serve_on(
    instance: Instance,
    sockets: tuple[socket.socket, socket.socket],
    orphaned: Callable[[], bool] | None = None,
) -> None:
    """Serve both interfaces on listening ``sockets`` (source, newsroom) until interrupted,
    or until ``orphaned()`` (a worker whose parent has gone: server/workers.py)."""
    logs.install()
    interfaces = Interfaces(source_app(instance), sockets[0], newsroom_app(instance), sockets[1])
    serve_both(interfaces, instance.config.connections, orphaned)
