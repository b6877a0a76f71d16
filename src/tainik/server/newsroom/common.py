"""What the newsroom's page handlers share: the session cookie, forms, guards, rendering."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tainik.server.pages import Pages, form_pairs, see_other
from tainik.server.security import CSRF_COOKIE, CSRF_FIELD, check_csrf
from tainik.service.errors import NotFoundError, RequestError
from tainik.service.newsroom.auth import Credential, Staff
from tainik.service.newsroom.errors import PasswordChangeRequiredError, StaffSessionError
from tainik.storage.database import MAX_ROW_ID

SESSION_COOKIE = "tainik_staff"
MAX_FORM = 512 * 1024  # a selection of a few thousand items
MAX_FIELDS = 10_000
MAX_ID = MAX_ROW_ID  # larger path numbers are no row of ours (and would overflow the database)
log = logging.getLogger("tainik.server")

Handler = Callable[[Request], Awaitable[Response]]


class Form:
    """A URL-encoded form; a field may repeat (the items of a selection)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def get(self, name: str, default: str = "") -> str:
        """The first value of ``name``."""
        return next((value for key, value in self._pairs if key == name), default)

    def getlist(self, name: str) -> list[str]:
        """Every value of ``name``, in order."""
        return [value for key, value in self._pairs if key == name]


async def read_form(request: Request) -> Form:
    """The URL-encoded body (never multipart), at most 512 KiB, CSRF token checked."""
    pairs = await form_pairs(request, MAX_FORM, MAX_FIELDS)
    form = Form(pairs)
    check_csrf(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD) or None)
    return form


def credential(request: Request) -> Credential:
    """The session cookie of the request (maybe none)."""
    return Credential.session(request.cookies.get(SESSION_COOKIE))


def path_id(request: Request, name: str) -> int:
    """A numeric path parameter, or :class:`NotFoundError` when no row can have it."""
    value = int(request.path_params[name])
    if value > MAX_ID:
        raise NotFoundError()
    return value


def query_int(request: Request, name: str) -> int | None:
    """An optional numeric query parameter."""
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    if not text.isdigit() or len(text) > 18:
        raise RequestError()
    return int(text)


def guarded(handler: Handler) -> Handler:
    """Send a visitor with no session to the login page, and a new account to set a password."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except PasswordChangeRequiredError:
            return see_other("/account/password")
        except StaffSessionError:
            response = see_other("/login")
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response

    return wrapper


def page(
    pages: Pages, request: Request, name: str, staff: Staff | None, **context: Any
) -> Response:
    """A newsroom page; ``staff`` fills the navigation."""
    status = context.pop("status", 200)
    return pages.render(request, name, status=status, staff=staff, **context)


def done_notice(request: Request, notices: dict[str, str]) -> str | None:
    """The message of a ``?done=`` redirect after a form (an English template, or None)."""
    return notices.get(request.query_params.get("done", ""))
