"""Switching language on a page reached by POST, without losing what it shows (issue 14).

A page reached by GET switches with a link to itself (``?lang=ru``). A page reached by POST
cannot: a GET of its URL is another page or none (``405``), and what it showed would be lost;
the one time a source sees a new codename is such a page. Those pages offer a small form
instead (``base.html``) that posts the language, the CSRF token, the path it came from and,
for a page that can be shown again, that page's name and fields. ``POST /language`` shows
that page again in the chosen language, or sends the browser back to the path by GET (a
POST-only path answers a GET with a redirect to the page it belongs to: :func:`get_fallback`).
Nothing is stored on the server: a codename travels only in the form, as it did in the page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tainik.server.page_language import LANG_COOKIE, SUPPORTED
from tainik.server.pages import CHOSEN_LANGUAGE, COOKIE_FLAGS, see_other, small_form
from tainik.server.security import CSRF_COOKIE, CSRF_FIELD, check_csrf
from tainik.service.errors import RequestError

# page name -> a renderer of that page from the switch form's fields
Renderer = Callable[[Request, Mapping[str, str]], Awaitable[Response]]
MAX_BACK = 2000


def language_route(pages_again: Mapping[str, Renderer], home: str = "/") -> Route:
    """``POST /language`` for one interface, which can show ``pages_again`` again."""

    async def switch(request: Request) -> Response:
        form = await small_form(request)
        check_csrf(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD))
        lang = form.get("lang", "")
        if lang not in SUPPORTED:
            raise RequestError()
        request.scope[CHOSEN_LANGUAGE] = lang
        again = pages_again.get(form.get("page", ""))
        if again is not None:
            return await again(request, form)
        response = see_other(_local_path(form.get("back", ""), home))
        response.set_cookie(LANG_COOKIE, lang, **COOKIE_FLAGS)
        return response

    return Route("/language", switch, methods=["POST"])


def get_fallback(path: str, target: str) -> Route:
    """A ``GET`` of POST-only ``path`` answered with ``303`` to ``target`` (formatted with the
    path's parameters): a reload, a bookmark or a language switch never meets a ``405``."""

    async def redirect(request: Request) -> Response:
        return see_other(target.format(**request.path_params))

    return Route(path, redirect, methods=["GET"])


def _local_path(back: str, home: str) -> str:
    """``back`` when it is a path on this site, else ``home`` (no open redirect)."""
    if (
        not back.startswith("/")
        or back.startswith("//")
        or len(back) > MAX_BACK
        or any(c in back for c in "\\?#")
        or not back.isprintable()
    ):
        return home
    return back
