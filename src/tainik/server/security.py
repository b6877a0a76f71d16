"""Security headers on every response, and the anti-forgery (CSRF) token.

CSRF uses a double-submit token: a random HttpOnly, SameSite=Strict cookie that every form
repeats in a hidden field. It identifies no one and lives only as long as the browser keeps
it.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tainik.service.errors import CsrfError

CSRF_COOKIE = "tainik_csrf"
CSRF_FIELD = "csrf"

# Scripts and fetches only from this origin: the bundled uploader (static/upload.js), which
# only adds to pages that work without it.
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


MAX_REQUEST_HEADERS = 16 * 1024
TOO_LARGE = "Request headers too large / Заголовки запроса слишком велики\n".encode()


class SecurityHeaders:
    """ASGI middleware adding :data:`HEADERS` to every HTTP response, and refusing requests
    whose headers exceed :data:`MAX_REQUEST_HEADERS` (431)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        if size > MAX_REQUEST_HEADERS:
            headers = [(b"content-type", b"text/plain; charset=utf-8")]
            headers += [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
            await send({"type": "http.response.start", "status": 431, "headers": headers})
            await send({"type": "http.response.body", "body": TOO_LARGE})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


MAX_TOKEN = 128


def csrf_token(cookie: str | None) -> tuple[str, bool]:
    """The token to put in forms: the browser's own, or a fresh one (then ``True``: set it)."""
    if cookie and len(cookie) <= MAX_TOKEN:
        return cookie, False
    return secrets.token_urlsafe(32), True


def check_csrf(cookie: str | None, submitted: str | None) -> None:
    """Raise :class:`CsrfError` unless the form repeats the cookie's token."""
    if not cookie or not submitted or len(submitted) > MAX_TOKEN:
        raise CsrfError()
    if not hmac.compare_digest(cookie.encode(), submitted.encode()):
        raise CsrfError()
