"""Addresses typed by people (a server, a proxy): checked before any connection is tried, so
that a mistyped one is an error at once, not half an hour of retries or a traceback."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_url(text: str, schemes: tuple[str, ...]) -> bool:
    """True for an absolute URL with one of ``schemes``, a host and, if any, a valid port."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return False
    return parts.scheme in schemes and bool(parts.hostname)
