"""Building the two ASGI apps and serving them on two listeners.

The source interface and the newsroom interface are separate apps on separate ports, since
each becomes its own onion service. One uvicorn server holds both sockets; a dispatcher picks
the app by the port a connection arrived on.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from tainik.core.errors import N_, UsageError
from tainik.server import errors
from tainik.server.newsroom.interface import NewsroomInterface
from tainik.server.pages import Pages
from tainik.server.protocol import BoundedHttpToolsProtocol
from tainik.server.security import SecurityHeaders
from tainik.server.source.api import SourceApi
from tainik.server.source.routes import SourceInterface
from tainik.service.instance import Instance

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("tainik.server")


def _starlette(routes: list[Any], pages: Pages, staff_of: errors.StaffOf | None = None) -> ASGIApp:
    handlers: dict[Any, Any] = {}
    errors.install(handlers, pages, staff_of)
    app = Starlette(
        routes=[*routes, Mount("/static", app=StaticFiles(directory=STATIC), name="static")],
        exception_handlers=handlers,
    )
    return SecurityHeaders(QuietErrors(app))


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
    return _starlette([*interface.routes(), *api.routes()], interface.pages)


def newsroom_app(instance: Instance) -> ASGIApp:
    """The newsroom interface: staff pages and the workstation's API."""
    interface = NewsroomInterface(instance)
    return _starlette(interface.routes(), interface.pages, interface.staff_or_none)


@dataclass
class PortDispatcher:
    """Route each connection to the app of the port it arrived on."""

    apps: dict[int, ASGIApp]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        server = scope.get("server")
        app = self.apps.get(server[1]) if server else None
        if app is None:
            await send({"type": "http.response.start", "status": 421, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await app(scope, receive, send)


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


def serve(instance: Instance, host: str, source_port: int, newsroom_port: int) -> None:
    """Serve both interfaces until interrupted (SIGINT or SIGTERM)."""
    sockets = [bind(host, source_port), bind(host, newsroom_port)]
    ports = [s.getsockname()[1] for s in sockets]
    dispatcher = PortDispatcher(
        {
            ports[0]: source_app(instance),
            ports[1]: newsroom_app(instance),
        }
    )
    config = uvicorn.Config(
        dispatcher,
        log_config=None,
        access_log=False,  # an access log would hold addresses and user agents
        server_header=False,
        date_header=False,
        proxy_headers=False,
        # httptools, with the size of request heads bounded (server/protocol.py): a server on
        # the open Tor network must not buffer megabytes of headers per request.
        http=BoundedHttpToolsProtocol,
        timeout_keep_alive=30,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    print(f"source interface:   http://{shown}:{ports[0]}/", flush=True)
    print(f"newsroom interface: http://{shown}:{ports[1]}/", flush=True)
    asyncio.run(server.serve(sockets=sockets))
