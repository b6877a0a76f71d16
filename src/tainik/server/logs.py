"""The server's log: no tracebacks, no request data, and no more than a few lines a minute for
any one kind of message, whatever a stranger does.

A log that grows with what strangers send is a second denial of service, by disk: asyncio's
accept loop once wrote 454 MB of identical ``Too many open files`` tracebacks in a minute. So
every record that reaches the server's handlers passes :class:`QuietLog`, which

- drops the exception's text and traceback (the text may quote request data) and keeps its
  type and the place it was raised, which is what someone fixing a bug needs first;
- lets at most :data:`BURST` records of one kind (logger, level and message template) through
  per :data:`INTERVAL` seconds, and says how many it held back on the first record of that
  kind after the interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

INTERVAL = 60.0
BURST = 5
KINDS = 1024  # message kinds remembered at once; the code has far fewer


@dataclass
class _Seen:
    since: float
    count: int = 0
    held: int = 0


class QuietLog(logging.Filter):
    """A handler filter: exceptions by type and place only, repeats rate-limited."""

    def __init__(
        self,
        interval: float = INTERVAL,
        burst: int = BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.interval = interval
        self.burst = burst
        self._clock = clock
        self._seen: dict[tuple[str, int, str], _Seen] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            _strip_exception(record)
        key = (record.name, record.levelno, str(record.msg))
        with self._lock:
            now = self._clock()
            seen = self._seen.get(key)
            if seen is None or now - seen.since >= self.interval:
                held = seen.held if seen is not None else 0
                if seen is None and len(self._seen) >= KINDS:
                    self._seen.clear()
                self._seen[key] = _Seen(now, 1)
                if held:
                    record.msg = f"{record.msg} [{held} more like this were not logged]"
                return True
            seen.count += 1
            if seen.count <= self.burst:
                return True
            seen.held += 1
            return False


def _strip_exception(record: logging.LogRecord) -> None:
    kind, exc, tb = record.exc_info or (None, None, None)
    where = ""
    while tb is not None:
        if tb.tb_next is None:
            code = tb.tb_frame.f_code
            where = f" at {code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno} in {code.co_name}"
        tb = tb.tb_next
    name = kind.__name__ if kind is not None else type(exc).__name__
    suffix = f" ({name}{where})"
    # A message with arguments is %-formatted later: the suffix must not take part.
    record.msg = f"{record.msg}{suffix.replace('%', '%%') if record.args else suffix}"
    record.exc_info = None
    record.exc_text = None
    record.stack_info = None


def install(logger: logging.Logger | None = None) -> QuietLog:
    """Put one :class:`QuietLog` on every handler of ``logger`` (the root logger by default)."""
    quiet = QuietLog()
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(found, QuietLog) for found in handler.filters):
            handler.addFilter(quiet)  # once per handler, however often this is called
    return quiet
