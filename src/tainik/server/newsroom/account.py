"""Logging in and out, and setting one's password."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tainik.core.errors import N_
from tainik.crypto import Secret
from tainik.server.newsroom.common import (
    SESSION_COOKIE,
    credential,
    done_notice,
    page,
    read_form,
)
from tainik.server.pages import COOKIE_FLAGS, Pages, see_other
from tainik.service.errors import RequestError
from tainik.service.instance import Instance
from tainik.service.newsroom import auth
from tainik.service.newsroom.errors import StaffLoginError, StaffSessionError
from tainik.service.newsroom.errors import StaffThrottledError as Throttled

MAX_FIELD = 1024
NOTICES = {"logout": N_("You are logged out. Close the browser if others use this computer.")}


class AccountPages:
    """Login, logout and password handlers."""

    def __init__(self, instance: Instance, pages: Pages) -> None:
        self.instance = instance
        self.pages = pages

    async def root(self, request: Request) -> Response:
        try:
            await run_in_threadpool(auth.whoami, self.instance, credential(request))
        except StaffSessionError:
            return see_other("/login")
        return see_other("/inbox")

    async def login_page(self, request: Request) -> Response:
        notice = done_notice(request, NOTICES)
        return page(self.pages, request, "newsroom/login.html", None, error=None, notice=notice)

    async def login(self, request: Request) -> Response:
        form = await read_form(request)
        fields = [form.get(name) for name in ("name", "password", "code")]
        if any(len(value) > MAX_FIELD for value in fields):
            raise RequestError()
        name, password, code = fields
        try:
            cookie, staff = await run_in_threadpool(
                auth.login, self.instance, name, Secret(password), code
            )
        except (StaffLoginError, Throttled) as error:
            _ = self.pages.gettext(request)
            return page(
                self.pages,
                request,
                "newsroom/login.html",
                None,
                error=error.message(_),
                status=429 if isinstance(error, Throttled) else 403,
            )
        response = see_other("/account/password" if staff.must_change_password else "/inbox")
        response.set_cookie(SESSION_COOKIE, cookie.reveal(), **COOKIE_FLAGS)
        return response

    async def logout(self, request: Request) -> Response:
        await read_form(request)
        await run_in_threadpool(auth.logout, self.instance, credential(request))
        response = see_other("/login?done=logout")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def password_page(self, request: Request) -> Response:
        staff = await run_in_threadpool(auth.whoami, self.instance, credential(request))
        return page(self.pages, request, "newsroom/password.html", staff, error=None)

    async def change_password(self, request: Request) -> Response:
        form = await read_form(request)
        fields = [form.get(name) for name in ("current", "new", "repeat")]
        if any(len(value) > MAX_FIELD * 2 for value in fields):
            raise RequestError()
        current, new, repeat = (Secret(value) for value in fields)
        try:
            cookie = await run_in_threadpool(
                auth.change_password, self.instance, credential(request), current, new, repeat
            )
        except (RequestError, StaffLoginError, Throttled) as error:
            _ = self.pages.gettext(request)
            return page(
                self.pages,
                request,
                "newsroom/password.html",
                None,
                error=error.message(_),
                status=429 if isinstance(error, Throttled) else 400,
            )
        response = see_other("/inbox?done=password")
        response.set_cookie(SESSION_COOKIE, cookie.reveal(), **COOKIE_FLAGS)
        return response
