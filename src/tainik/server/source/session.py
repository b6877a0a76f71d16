"""The source's session cookie, shared by the pages and the JSON API.

The cookie names either a live session of a source that has sent something, or a new source
(a codename that has sent nothing, carried sealed in the cookie: service/new_source.py).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tainik.crypto import Secret
from tainik.server.pages import COOKIE_FLAGS
from tainik.service import sources
from tainik.service.errors import NotFoundError
from tainik.service.instance import Instance
from tainik.service.new_source import NewSource

SESSION_COOKIE = "tainik_source"


async def who(instance: Instance, request: Request) -> sources.SourceSession | NewSource:
    """The live session or the new source the request's cookie names, or
    :class:`SessionError`."""
    return await run_in_threadpool(sources.identify, instance, request.cookies.get(SESSION_COOKIE))


async def source_session(instance: Instance, request: Request) -> sources.SourceSession:
    """The live session the request's cookie names, or :class:`SessionError`; a new source
    has nothing yet, so whatever it asks of its submissions is :class:`NotFoundError`."""
    found = await who(instance, request)
    if isinstance(found, NewSource):
        raise NotFoundError()
    return found


def set_session_cookie(response: Response, cookie: Secret) -> None:
    """Give the browser its (new) session cookie."""
    response.set_cookie(SESSION_COOKIE, cookie.reveal(), **COOKIE_FLAGS)
