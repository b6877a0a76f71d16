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

Two gates, not one: sources' (:data:`SLOTS`) and staff's (:data:`STAFF_SLOTS`), so that no flood
on the public source interface can take the slots a journalist's login needs. In the sources'
gate a returning source (a codename login) waits ahead of new sources: strangers asking for
codenames, however many, delay a returning source by at most the derivations already running.
Each kind has its own bound on waiting requests, so one cannot fill the other's queue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tainik.service.errors import ThrottledError

SLOTS = 2  # Argon2id at 64 MiB each
STAFF_SLOTS = 1  # staff are few; their gate is theirs alone
QUEUE = 8  # waiting requests, per kind (returning, new)
WAIT_SECONDS = 10.0


class KdfGate:
    """At most ``slots`` derivations at once; at most ``queue`` requests of each kind (with
    ``priority`` or without) waiting for one, those with priority served first."""

    def __init__(
        self, slots: int = SLOTS, queue: int = QUEUE, wait_seconds: float = WAIT_SECONDS
    ) -> None:
        self._free = slots
        self._queue = queue
        self._wait = wait_seconds
        self._waiting = {False: 0, True: 0}  # by priority
        self._changed = threading.Condition()

    def _may_start(self, priority: bool) -> bool:
        return self._free > 0 and (priority or self._waiting[True] == 0)

    @contextmanager
    def slot(self, *, priority: bool = False) -> Iterator[None]:
        """Hold a slot for one derivation; :class:`ThrottledError` when the server is saturated."""
        with self._changed:
            if not self._may_start(priority):
                self._await_turn(priority)
            self._free -= 1
        try:
            yield
        finally:
            with self._changed:
                self._free += 1
                self._changed.notify_all()

    def _await_turn(self, priority: bool) -> None:
        """Wait (holding the condition) until a slot is ours to take, or refuse."""
        if self._waiting[priority] >= self._queue:
            raise ThrottledError()
        self._waiting[priority] += 1
        deadline = time.monotonic() + self._wait
        try:
            while not self._may_start(priority):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ThrottledError()
                self._changed.wait(remaining)
        finally:
            self._waiting[priority] -= 1
            # A request with priority that gives up may unblock those without.
            self._changed.notify_all()
