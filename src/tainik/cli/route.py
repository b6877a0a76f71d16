"""How ``tainik send`` and ``tainik pull`` say which way they reach the server, and what goes
wrong on the way (docs/protocol.md, "Reaching the server"): a run is never silent for long."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from tainik.cli.context import Context
from tainik.core.errors import TainikError

# The same trouble is told again at most this often (many requests fail together).
REPEAT_SECONDS = 30.0


def say_route(ctx: Context, server: str, given: str | None, used: str | None) -> None:
    """Say that a ``socks5://`` proxy is used as ``socks5h://``, and that an onion service
    can take a while to answer."""
    if given and used and given != used and given.startswith("socks5://"):
        ctx.say(
            ctx._(
                "Note: --proxy {given} is used as {used}: the server's name is handed to Tor, "
                "never looked up on this computer."
            ).format(given=given, used=used)
        )
    if used:
        ctx.say(
            ctx._(
                "Connecting to {host} through {proxy}. The first connection to an onion "
                "service can take a minute."
            ).format(host=urlsplit(server).hostname, proxy=urlsplit(used).netloc)
        )


class Waits:
    """Prints each failure that is tried again, with the pause before the next try; the same
    trouble at most every :data:`REPEAT_SECONDS` (threads share one)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._last: tuple[str, float] | None = None

    def __call__(self, problem: TainikError, pause: float) -> None:
        text = problem.message(self._ctx._)
        now = time.monotonic()
        if self._last and self._last[0] == text and now - self._last[1] < REPEAT_SECONDS:
            return
        self._last = (text, now)
        self._ctx.say(
            self._ctx._("{problem}. Trying again in {seconds} s.").format(
                problem=text.rstrip("."), seconds=max(1, round(pause))
            )
        )
