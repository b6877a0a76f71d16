"""Which routes of the API a read-only token may use (docs/api.md, "Scopes").

Decided by the method, so that a route added later is closed to read-only tokens unless it only
reads: every method but ``GET`` and ``HEAD`` needs a ``full`` token, except the two routes of
:data:`OPEN_TO_READ_TOKENS`. The service functions check the scope again
(:func:`tainik.service.newsroom.auth.authenticate`).
"""

from __future__ import annotations

# Methods that only read: any token may use them.
READING_METHODS = frozenset({"GET", "HEAD"})
# Routes that change state but are open to a read-only token: getting a token (none is
# involved yet) and revoking the token of the request (which only takes power away). Paths are
# relative to /api/v1.
OPEN_TO_READ_TOKENS = frozenset({("POST", "/tokens"), ("DELETE", "/tokens/current")})


def needs_full_scope(method: str, path: str) -> bool:
    """Whether ``method`` on ``path`` (relative to ``/api/v1``) needs a ``full`` token."""
    method = method.upper()
    return method not in READING_METHODS and (method, path) not in OPEN_TO_READ_TOKENS
