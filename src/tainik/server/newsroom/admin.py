"""Administration pages: staff accounts, instance settings, the audit log."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tainik.core.errors import N_
from tainik.server.newsroom.common import (
    credential,
    done_notice,
    page,
    path_id,
    query_int,
    read_form,
)
from tainik.server.pages import Pages, see_other
from tainik.service.errors import RequestError
from tainik.service.instance import Instance
from tainik.service.newsroom import admin, audit, settings
from tainik.service.newsroom.errors import SettingsError

NOTICES = {
    "deactivated": N_("The account is deactivated; its sessions and tokens have ended."),
    "activated": N_("The account is active again."),
    "settings": N_("The settings are saved and in force."),
}
ACCOUNT_ACTIONS = ("deactivate", "activate", "reset-2fa", "reset-password")


class AdminPages:
    """Handlers of the administration pages (the service checks the administrator)."""

    def __init__(self, instance: Instance, pages: Pages) -> None:
        self.instance = instance
        self.pages = pages

    async def users(self, request: Request) -> Response:
        found = await run_in_threadpool(admin.accounts, self.instance, credential(request))
        return page(
            self.pages,
            request,
            "newsroom/users.html",
            found.staff,
            accounts=found.accounts,
            notice=done_notice(request, NOTICES),
        )

    async def add_user(self, request: Request) -> Response:
        form = await read_form(request)
        made = await run_in_threadpool(
            admin.add_account,
            self.instance,
            credential(request),
            form.get("name")[:200],
            form.get("admin") == "1",
        )
        return _secrets_page(self.pages, request, made, new=True)

    async def account_action(self, request: Request) -> Response:
        user_id = path_id(request, "user_id")
        action = request.path_params["action"]
        if action not in ACCOUNT_ACTIONS:
            raise RequestError()
        await read_form(request)
        who = credential(request)
        if action in ("deactivate", "activate"):
            active = action == "activate"
            await run_in_threadpool(admin.set_active, self.instance, who, user_id, active)
            return see_other(f"/admin/users?done={action}d")
        reset = admin.reset_totp if action == "reset-2fa" else admin.reset_password
        made = await run_in_threadpool(reset, self.instance, who, user_id)
        return _secrets_page(self.pages, request, made, new=False)

    async def settings_page(self, request: Request) -> Response:
        found = await run_in_threadpool(settings.settings_page, self.instance, credential(request))
        return page(
            self.pages,
            request,
            "newsroom/settings.html",
            found.staff,
            settings=found.settings,
            form=None,
            error=None,
            notice=done_notice(request, NOTICES),
        )

    async def save_settings(self, request: Request) -> Response:
        form = await read_form(request)
        fields = {
            name: form.get(name)[:10_000]
            for name in ("recipients", "max_upload_bytes", "unfinished_upload_hours")
        }
        try:
            await run_in_threadpool(
                settings.update_settings, self.instance, credential(request), **fields
            )
        except SettingsError as error:
            _ = self.pages.gettext(request)
            return page(
                self.pages,
                request,
                "newsroom/settings.html",
                None,
                settings=None,
                form=fields,
                error=_(error.template).format(**error.params),
                notice=None,
                status=400,
            )
        return see_other("/admin/settings?done=settings")

    async def audit_log(self, request: Request) -> Response:
        found = await run_in_threadpool(
            admin.audit_page, self.instance, credential(request), query_int(request, "before")
        )
        return page(
            self.pages,
            request,
            "newsroom/audit.html",
            found.staff,
            log=found,
            actions=audit.ACTIONS,
        )


def _secrets_page(pages: Pages, request: Request, made: Any, *, new: bool) -> Response:
    """The one-time secrets of an account. It offers no language switch: switching would
    lose them (they are shown once and never stored in the clear), and posting them back
    through a form is not worth their exposure; the admin reads this page in the language
    of the form that asked for it."""
    return page(
        pages, request, "newsroom/secrets.html", None, made=made, new=new, language_switch=False
    )
