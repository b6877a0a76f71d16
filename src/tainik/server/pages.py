"""Rendering pages: Jinja2 templates in the request's language, with the CSRF token, and the
organisation's name and logo on every page (``core/profile.py``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tainik.core.profile import Profile
from tainik.server.formatting import hour_span, human_size
from tainik.server.page_language import LANG_COOKIE, SUPPORTED, negotiate, translations
from tainik.server.security import CSRF_COOKIE, csrf_token
from tainik.service import logo
from tainik.service.errors import NotFoundError, RequestError
from tainik.service.instance import Instance

TEMPLATES = Path(__file__).parent / "templates"
MAX_SMALL_FORM = 64 * 1024
COOKIE_FLAGS: dict[str, Any] = {"httponly": True, "samesite": "strict", "path": "/"}
CHOSEN_LANGUAGE = "tainik.language"  # request scope key: the language chosen by POST /language


class Pages:
    """The template environment of one interface."""

    def __init__(self, interface: str, profile: Callable[[], Profile] = Profile) -> None:
        self.interface = interface
        # The running instance's profile, read at each page: an administrator's change is
        # in force at once.
        self.profile = profile
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
        )
        self.env.filters["with_site_name"] = _with_site_name

    def language(self, request: Request) -> str:
        """The language of this request's pages."""
        chosen = request.scope.get(CHOSEN_LANGUAGE) or request.query_params.get("lang")
        if chosen in SUPPORTED:
            return str(chosen)
        return negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))

    def render(
        self, request: Request, name: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        """A page, with the CSRF cookie set when the browser has none yet."""
        lang = self.language(request)
        catalogue = translations(lang)
        csrf, fresh = csrf_token(request.cookies.get(CSRF_COOKIE))
        template = self.env.get_template(name)
        org = self.profile()
        # A page reached by GET switches language with a link back to itself; one reached by
        # POST cannot (a GET of its URL is not the same page, and may not exist): it offers a
        # small form to POST /language instead, which comes back to a page by GET, or
        # re-renders a page named in ``language_page`` from the fields in ``language_keep``.
        context.setdefault("language_form", request.method not in ("GET", "HEAD"))
        context.setdefault("language_back", request.url.path)
        context.setdefault("language_page", "")
        context.setdefault("language_keep", {})
        context.setdefault("language_switch", True)
        # The source pages link to the address check, except where leaving loses something
        # (the one showing of a new codename) and on the check page itself.
        context.setdefault("check_link", True)
        # ... and to the guide for places where Tor is blocked (docs/sources-censored.md).
        context.setdefault("tor_link", True)
        html = template.render(
            _=catalogue.gettext,
            gettext=catalogue.gettext,
            ngettext=catalogue.ngettext,
            lang=lang,
            other_languages=[x for x in SUPPORTED if x != lang],
            csrf=csrf,
            interface=self.interface,
            org=org,
            site_name=org.name or catalogue.gettext("Tainik"),
            size=partial(human_size, language=lang, gettext=catalogue.gettext),
            hour_span=partial(hour_span, language=lang, gettext=catalogue.gettext),
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        if fresh:
            response.set_cookie(CSRF_COOKIE, csrf, **COOKIE_FLAGS)
        if request.query_params.get("lang") in SUPPORTED or request.scope.get(CHOSEN_LANGUAGE):
            response.set_cookie(LANG_COOKIE, lang, **COOKIE_FLAGS)
        return response

    def gettext(self, request: Request) -> Any:
        """The translate function of this request's language."""
        return translations(self.language(request)).gettext


def _with_site_name(title: str, site_name: str) -> Markup:
    """A page's title (rendered, so already escaped) followed by the site's name, or just the
    name when the page has no title of its own."""
    words = Markup(" ").join(escape(title).split())
    return words + Markup(" · ") + escape(site_name) if words else escape(site_name)


async def form_pairs(request: Request, max_bytes: int, max_fields: int) -> list[tuple[str, str]]:
    """The fields of a URL-encoded body (never multipart) read into memory, in order; a body
    over ``max_bytes`` or ``max_fields``, or not UTF-8, is a :class:`RequestError`."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", ""):
        raise RequestError()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise RequestError()
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=max_fields)
    except (UnicodeDecodeError, ValueError) as exc:
        raise RequestError() from exc


async def small_form(request: Request) -> dict[str, str]:
    """A URL-encoded form of at most 64 KiB and 50 fields."""
    return dict(await form_pairs(request, MAX_SMALL_FORM, 50))


def see_other(path: str) -> RedirectResponse:
    """Redirect after a POST."""
    return RedirectResponse(path, status_code=303)


async def logo_response(instance: Instance) -> Response:
    """The organisation's logo from the instance folder (both interfaces show it), or 404."""
    config = instance.config
    found = await run_in_threadpool(logo.read, config.data_dir, config.profile.logo)
    if found is None:
        raise NotFoundError()
    data, media_type = found
    return Response(data, media_type=media_type)
