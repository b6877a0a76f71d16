"""The newsroom interface's routing table: staff pages and, under /api/v1, the JSON API.

Every page handler is wrapped by :func:`~tainik.server.newsroom.common.guarded` (no session:
to the login page); authorisation itself is in the service functions, which the API shares.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tainik.server.language import get_fallback, language_route
from tainik.server.newsroom.account import AccountPages
from tainik.server.newsroom.admin import AdminPages
from tainik.server.newsroom.api import Api
from tainik.server.newsroom.common import credential, guarded
from tainik.server.newsroom.sources import SourcePages
from tainik.server.pages import Pages, logo_response
from tainik.service.instance import Instance
from tainik.service.newsroom import auth
from tainik.service.newsroom.auth import Staff


class NewsroomInterface:
    """The routes of the newsroom interface over one instance."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.pages = Pages("newsroom", lambda: instance.config.profile)
        self.account = AccountPages(instance, self.pages)
        self.sources = SourcePages(instance, self.pages)
        self.admin = AdminPages(instance, self.pages)
        self.api = Api(instance)

    def routes(self) -> list[Any]:
        """Pages, then the API mount."""
        a, s, m = self.account, self.sources, self.admin
        table = [
            ("/", a.root, "GET"),
            ("/login", a.login_page, "GET"),
            ("/login", a.login, "POST"),
            ("/logout", a.logout, "POST"),
            ("/account/password", a.password_page, "GET"),
            ("/account/password", a.change_password, "POST"),
            ("/inbox", s.inbox, "GET"),
            ("/sources/{source_id:int}", s.source, "GET"),
            ("/sources/{source_id:int}/reply", s.reply, "POST"),
            ("/sources/{source_id:int}/star", s.star, "POST"),
            ("/sources/{source_id:int}/items", s.selection, "POST"),
            ("/sources/{source_id:int}/delete", s.delete_source, "POST"),
            ("/submissions/{submission_id:int}/download", s.download_submission, "GET"),
            ("/replies/{reply_id:int}/download", s.download_reply, "GET"),
            ("/admin/users", m.users, "GET"),
            ("/admin/users", m.add_user, "POST"),
            ("/admin/users/{user_id:int}/{action}", m.account_action, "POST"),
            ("/admin/settings", m.settings_page, "GET"),
            ("/admin/settings", m.save_settings, "POST"),
            ("/admin/settings/keys", m.confirm_keys, "POST"),
            ("/admin/profile", m.save_profile, "POST"),
            ("/admin/logo", m.save_logo, "POST"),
            ("/admin/logo/delete", m.delete_logo, "POST"),
            ("/admin/audit", m.audit_log, "GET"),
        ]
        routes: list[Any] = [
            Route(path, guarded(handler), methods=[method]) for path, handler, method in table
        ]
        routes.append(language_route({"keys-confirm": m.confirm_again}))
        # The logo is on every page, the login page included: it is no secret.
        routes.append(Route("/logo", self.logo, methods=["GET"]))
        # A GET of a POST-only path (a reload, a bookmark, a language switch on the page a
        # POST showed) goes to the page it belongs to, never to a 405.
        routes.extend(
            get_fallback(path, target)
            for path, target in [
                ("/logout", "/"),
                ("/sources/{source_id:int}/reply", "/sources/{source_id}"),
                ("/sources/{source_id:int}/star", "/sources/{source_id}"),
                ("/sources/{source_id:int}/items", "/sources/{source_id}"),
                ("/sources/{source_id:int}/delete", "/sources/{source_id}"),
                ("/admin/users/{user_id:int}/{action}", "/admin/users"),
                ("/admin/profile", "/admin/settings"),
                ("/admin/settings/keys", "/admin/settings"),
                ("/admin/logo", "/admin/settings"),
                ("/admin/logo/delete", "/admin/settings"),
            ]
        )
        routes.append(self.api.mount())
        return routes

    async def logo(self, _request: Request) -> Response:
        """The organisation's logo."""
        return await logo_response(self.instance)

    async def staff_or_none(self, request: Request) -> Staff | None:
        """The staff member logged in on ``request``, for an error page's navigation; None
        when there is none, or when even that cannot be told (the page must still show)."""
        try:
            return await run_in_threadpool(auth.whoami, self.instance, credential(request))
        except Exception:  # an error page never fails for want of a menu
            return None
