"""The source's session cookie, shared by the pages and the JSON API."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from tainik.service import sources
from tainik.service.instance import Instance

SESSION_COOKIE = "tainik_source"


async def source_session(instance: Instance, request: Request) -> sources.SourceSession:
    """The live session the request's cookie names, or :class:`SessionError`."""
    return await run_in_threadpool(sources.resume, instance, request.cookies.get(SESSION_COOKIE))
