"""The one mapping from exceptions to responses: a clear page, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from tainik.core.errors import N_, CodenameError, StorageError, StorageFullError, TainikError
from tainik.core.upload import UploadError
from tainik.server.pages import Pages
from tainik.service import errors
from tainik.service.newsroom import errors as newsroom_errors
from tainik.storage.space import is_disk_full

log = logging.getLogger("tainik.server")

STATUS: list[tuple[type[TainikError], int]] = [
    (newsroom_errors.StaffSessionError, 401),
    (newsroom_errors.ForbiddenError, 403),
    (newsroom_errors.ConflictError, 409),
    (errors.CsrfError, 403),
    (errors.SessionError, 403),
    (errors.LoginError, 403),
    (errors.ThrottledError, 429),
    (errors.TooLargeError, 413),
    (errors.NotFoundError, 404),
    (errors.LengthRequiredError, 411),
    (errors.RequestError, 400),
    (StorageError, 500),
]
HTTP_MESSAGES = {
    404: N_("Not found"),
    405: N_("That action is not available here"),
    400: N_("The request was malformed"),
}


def status_of(error: Exception) -> int:
    """The HTTP status for any error: ``507`` whenever storage is full, whatever layer said so
    (a file write, SQLite, PostgreSQL, a free-space check); ``500`` for other unexpected
    errors; the table above for user-facing ones."""
    if is_disk_full(error):
        return 507
    if not isinstance(error, TainikError):
        return 500
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 400


API_CODES: list[tuple[type[TainikError], str]] = [
    (errors.CsrfError, "csrf"),
    (errors.SessionError, "session"),
    (errors.LoginError, "unknown_codename"),
    (errors.ThrottledError, "throttled"),
    (errors.TooLargeError, "too_large"),
    (errors.NotFoundError, "not_found"),
    (CodenameError, "bad_codename"),
]
UPLOAD_STATUS = {"conflict": 409, "wrong_state": 409, "too_large": 413, "quota": 413}
# Storage failures are the server's: never "bad_request". Both listeners' APIs use these.
STORAGE_CODES = {507: "storage_full", 500: "internal"}


def is_api(request: Request) -> bool:
    """JSON endpoints answer errors in JSON."""
    return request.url.path.startswith("/api/")


def api_error(request: Request, pages: Pages, error: TainikError) -> JSONResponse:
    """The JSON form of a user-facing error (docs/protocol.md)."""
    _ = pages.gettext(request)
    status = status_of(error)
    code = "bad_request"
    if isinstance(error, UploadError):
        code = error.code
        status = UPLOAD_STATUS.get(code, 400)
    elif isinstance(error, StorageError):
        code = STORAGE_CODES.get(status, "internal")
    else:
        code = next((c for kind, c in API_CODES if isinstance(error, kind)), code)
    if isinstance(error, errors.SessionError):
        status = 401
    body: dict[str, object] = {"error": code}
    if isinstance(error, StorageError):
        body["message"] = _("The server could not store what you sent; try again later")
    else:
        body["message"] = _(error.template).format(**error.params)
    if "missing" in error.params:
        body["missing"] = error.params["missing"]
    return JSONResponse(body, status_code=status)


# The logged-in staff member of a request, or None: error pages of the newsroom keep its
# navigation (a person who meets an error is not thrown out of the newsroom).
StaffOf = Callable[[Request], Awaitable[Any]]


def install(
    app_handlers: dict[type[Exception] | int, object],
    pages: Pages,
    staff_of: StaffOf | None = None,
) -> None:
    """Register the handlers on a Starlette app's exception_handlers mapping."""

    async def error_page(request: Request, status: int, message: str) -> Response:
        if staff_of is None:
            return pages.render(request, "error.html", status=status, message=message)
        staff = await staff_of(request)
        return pages.render(
            request, "newsroom/error.html", status=status, message=message, staff=staff
        )

    async def tainik_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TainikError)
        if is_api(request):
            return api_error(request, pages, exc)
        status = status_of(exc)
        if status >= 500:
            log.error("storage failure: %s", type(exc).__name__)
        _ = pages.gettext(request)
        if isinstance(exc, StorageError):
            # Never show server paths; say what happened to what the person sent.
            message = _(
                "The server could not store what you sent (its storage may be full); nothing "
                "of this attempt was kept, and everything sent before is safe. Please try "
                "again later"
            )
        else:
            message = _(exc.template).format(**exc.params)
        return await error_page(request, status, message)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        _ = pages.gettext(request)
        text = HTTP_MESSAGES.get(exc.status_code, N_("The request was malformed"))
        if is_api(request):
            return JSONResponse({"error": "http", "message": _(text)}, status_code=exc.status_code)
        return await error_page(request, exc.status_code, _(text))

    async def unexpected(request: Request, exc: Exception) -> Response:
        if is_disk_full(exc):  # e.g. SQLite's "database or disk is full"
            return await tainik_error(request, StorageFullError())
        # Not logged here: Starlette raises the exception again once this page is sent, and
        # app.QuietErrors logs it then, once, by type only.
        _ = pages.gettext(request)
        if is_api(request):
            return JSONResponse(
                {"error": "internal", "message": _("Internal error")}, status_code=500
            )
        return await error_page(
            request,
            500,
            _(
                "Something went wrong on the server; nothing you sent was kept from "
                "this attempt. Please try again later"
            ),
        )

    async def disconnected(request: Request, exc: Exception) -> Response:
        # The client went away mid-request (closed the tab, lost its circuit, or was closed
        # for sending too slowly): a normal event, not an error. Nobody reads this answer.
        return Response(status_code=400)

    app_handlers[TainikError] = tainik_error
    app_handlers[HTTPException] = http_error
    app_handlers[ClientDisconnect] = disconnected
    app_handlers[Exception] = unexpected
