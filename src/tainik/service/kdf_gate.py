"""The gate in front of Argon2id: a bound on concurrent work, never a count of failures.

Every Argon2id run (a codename login or a new source, a staff login, a password being set)
costs tens of MiB and a fraction of a second, so at most :data:`SLOTS` run at once and at most
:data:`QUEUE` requests wait for a slot, each for at most :data:`WAIT_SECONDS`. A request that
finds the queue full, or waits too long, is refused (:class:`ThrottledError`, HTTP 429) and
may come back at once.

Nothing is counted and nothing is remembered: when a flood stops, the next request finds the
gate as if nothing had happened. That is deliberate. A budget of *failures* is a lock-out
tool: anybody can fail for free, and the server keeps no address to tell them from a real
source, so a stranger could spend the budget and keep every returning source out. Here, input
that is refused before any derivation (a codename that is not seven words of the list, a
request without a session or an anti-forgery token) never reaches the gate, and a request that
does reach it is served in its turn.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tainik.service.errors import ThrottledError

SLOTS = 2  # Argon2id at 64 MiB each
QUEUE = 8
WAIT_SECONDS = 10.0


class KdfGate:
    """At most ``slots`` derivations at once, at most ``queue`` requests waiting for one."""

    def __init__(
        self, slots: int = SLOTS, queue: int = QUEUE, wait_seconds: float = WAIT_SECONDS
    ) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._queue = queue
        self._wait = wait_seconds
        self._waiting = 0
        self._lock = threading.Lock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for one derivation; :class:`ThrottledError` when the server is saturated."""
        with self._lock:
            if self._waiting >= self._queue:
                raise ThrottledError()
            self._waiting += 1
        try:
            acquired = self._slots.acquire(timeout=self._wait)
        finally:
            with self._lock:
                self._waiting -= 1
        if not acquired:
            raise ThrottledError()
        try:
            yield
        finally:
            self._slots.release()
