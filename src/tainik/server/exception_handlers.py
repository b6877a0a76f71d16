"""The one mapping from exceptions to responses: a clear page or a JSON error, never a
traceback.

Both listeners (the source app and the newsroom app) register the same handlers
(:func:`install`), and their JSON APIs (the source's ``/api/``, the newsroom's ``/api/v1``)
are routes of those apps, not apps of their own: an error is answered the same way wherever
it is raised. What an error answers is the error's own (``status``, ``code``, ``hint`` in
``core/errors.py``); :func:`answer` adds only what no error can know:

- storage failures and unexpected exceptions never show their text (it may name server
  paths or quote the request), and "disk full", whoever says it, is ``507``; a database or
  object store that is away (restarting, unreachable) is ``503`` with ``Retry-After``;
- a page never answers ``401``, which asks for a challenge that a cookie session has none of:
  ``403`` instead; the newsroom API's ``401`` challenges ``Bearer`` (its tokens);
- a JSON error is ``{"error": CODE, "message": TEXT}``, with ``"hint"`` when the error has
  one and ``"missing"`` for an incomplete upload; a page shows the message and the hint. Both
  are in the request's language (``Pages.language``: the language cookie, else
  Accept-Language, else English).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from tainik.core.errors import (
    N_,
    Gettext,
    StorageError,
    StorageFullError,
    StorageUnavailableError,
    TainikError,
    english,
)
from tainik.server.pages import Pages
from tainik.service.newsroom.errors import StaffSessionError
from tainik.storage.availability import is_unavailable
from tainik.storage.space import is_disk_full

log = logging.getLogger("tainik.server")

# HTTP errors Starlette raises itself (no route, wrong method, a malformed request).
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
HTTP_MESSAGES = {
    404: N_("Not found"),
    405: N_("That action is not available here"),
    400: N_("The request was malformed"),
}
# What the server says of its own failures, instead of the exception's text.
STORAGE_MESSAGE = N_("The server could not store what you sent (its storage may be full)")
STORAGE_HINT = N_(
    "Nothing of this attempt was kept, and everything sent before is safe. Please try again later"
)
UNAVAILABLE_MESSAGE = N_("The server's storage is not reachable at the moment")
UNAVAILABLE_HINT = N_(
    "Nothing of this attempt was kept, and everything sent before is safe. Please try again in "
    "a minute"
)
# Seconds a client is asked to wait before it tries again when a backend is away.
RETRY_AFTER_SECONDS = 5
INTERNAL_MESSAGE = N_("Something went wrong on the server")
INTERNAL_HINT = N_("Nothing you sent was kept from this attempt. Please try again later")


@dataclass(frozen=True)
class Answer:
    """What the server answers an exception with, in the request's language."""

    status: int
    code: str
    message: str
    hint: str | None = None
    missing: list[int] | None = None
    headers: Mapping[str, str] | None = None

    def json(self) -> JSONResponse:
        """The JSON form (docs/protocol.md and docs/api.md, "Errors")."""
        body: dict[str, object] = {"error": self.code, "message": self.message}
        if self.hint is not None:
            body["hint"] = self.hint
        if self.missing is not None:
            body["missing"] = self.missing
        return JSONResponse(body, status_code=self.status, headers=self.headers)

    @property
    def page_status(self) -> int:
        """The status of the page form: never 401 (a page has no challenge to offer)."""
        return 403 if self.status == 401 else self.status


def answer(error: Exception, gettext: Gettext = english) -> Answer:
    """The answer to ``error``: the status, code, message and hint it declares, or the
    server's own for a failure of storage (``507`` when it is full, whoever says so) or an
    unexpected exception (``500``)."""
    if is_disk_full(error) and not isinstance(error, StorageFullError):
        error = StorageFullError()
    elif isinstance(error, StorageUnavailableError) or is_unavailable(error):
        return Answer(
            503,
            StorageUnavailableError.code,
            gettext(UNAVAILABLE_MESSAGE),
            gettext(UNAVAILABLE_HINT),
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(error, StorageError):
        return Answer(error.status, error.code, gettext(STORAGE_MESSAGE), gettext(STORAGE_HINT))
    if isinstance(error, TainikError):
        missing = error.params.get("missing")
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, StaffSessionError) else None
        return Answer(
            error.status,
            error.code,
            error.message(gettext),
            error.advice(gettext),
            missing=missing if isinstance(missing, list) else None,
            headers=headers,
        )
    if isinstance(error, HTTPException):
        status = error.status_code
        text = HTTP_MESSAGES.get(status, HTTP_MESSAGES[400])
        return Answer(
            status, HTTP_CODES.get(status, "bad_request"), gettext(text), headers=error.headers
        )
    return Answer(500, "internal", gettext(INTERNAL_MESSAGE), gettext(INTERNAL_HINT))


def is_api(request: Request) -> bool:
    """JSON endpoints (``/api/`` on the source listener, ``/api/v1/`` on the newsroom's)
    answer errors in JSON."""
    return request.url.path.startswith("/api/")


# The logged-in staff member of a request, or None: error pages of the newsroom keep its
# navigation (a person who meets an error is not thrown out of the newsroom).
StaffOf = Callable[[Request], Awaitable[Any]]
Handler = Callable[[Request, Exception], Awaitable[Response]]


def handlers(pages: Pages, staff_of: StaffOf | None = None) -> dict[Any, Handler]:
    """The exception handlers of one app (Starlette's ``exception_handlers``), looked up along
    the exception's MRO: every :class:`TainikError`, Starlette's HTTP errors, a client gone
    away, and anything else."""

    async def respond(request: Request, found: Answer) -> Response:
        if is_api(request):
            return found.json()
        status = found.page_status
        if staff_of is None:
            page = pages.render(
                request, "error.html", status=status, message=found.message, hint=found.hint
            )
        else:
            staff = await staff_of(request)
            page = pages.render(
                request,
                "newsroom/error.html",
                status=status,
                message=found.message,
                hint=found.hint,
                staff=staff,
            )
        if found.status == 503 and found.headers:  # a page says when to try again, too
            page.headers.update(found.headers)
        return page

    async def known(request: Request, exc: Exception) -> Response:
        found = answer(exc, pages.gettext(request))
        if found.status >= 500 and isinstance(exc, TainikError):
            # Unexpected exceptions are logged by app.QuietErrors, once Starlette re-raises.
            log.error("storage failure: %s", type(exc).__name__)
        return await respond(request, found)

    async def unexpected(request: Request, exc: Exception) -> Response:
        # Not logged here: Starlette raises the exception again once this answer is sent,
        # and app.QuietErrors logs it then, once, by type only.
        return await respond(request, answer(exc, pages.gettext(request)))

    async def disconnected(request: Request, exc: Exception) -> Response:
        # The client went away mid-request (closed the tab, lost its circuit, or was closed
        # for sending too slowly): a normal event, not an error. Nobody reads this answer.
        return Response(status_code=400)

    return {
        TainikError: known,
        HTTPException: known,
        ClientDisconnect: disconnected,
        Exception: unexpected,
    }
