"""The running instance's dependencies, built once at start and passed down explicitly."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from tainik.instance import InstanceConfig
from tainik.sealed.writer import SegmentWorkers
from tainik.service.errors import ThrottledError
from tainik.storage.blobs import BlobStore
from tainik.storage.database import open_database
from tainik.storage.uploads import UploadStore


def utc_now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


class LoginThrottle:
    """A global budget of failed codename logins (a token bucket). Stores no address.

    Codenames carry 90 bits, so guessing is hopeless; this bounds the CPU and memory an
    attacker can make the server spend on Argon2id.
    """

    def __init__(self, per_minute: int = 30, monotonic: Callable[[], float] = time.monotonic):
        self._capacity = float(per_minute)
        self._tokens = float(per_minute)
        self._rate = per_minute / 60.0
        self._clock = monotonic
        self._last = monotonic()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
        self._last = now

    def check(self) -> None:
        """Raise :class:`ThrottledError` when the failure budget is spent."""
        with self._lock:
            self._refill()
            if self._tokens < 1:
                raise ThrottledError()

    def failed(self) -> None:
        """Spend one token for a failed attempt."""
        with self._lock:
            self._refill()
            self._tokens = max(0.0, self._tokens - 1)


@dataclass
class Instance:
    """Configuration plus the resources built from it."""

    config: InstanceConfig
    engine: Engine
    blobs: BlobStore
    uploads: UploadStore
    # Worker processes that seal no-JavaScript uploads on every core (set by the server).
    segment_workers: SegmentWorkers | None = None
    clock: Callable[[], datetime] = utc_now
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    # Argon2id at 64 MiB each: at most this many derivations at once.
    kdf_slots: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(2)
    )
    # One upload commit at a time in this process (a rename and a row: milliseconds), so
    # that concurrent completes of one upload see each other's result, not half of it.
    commits: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, config: InstanceConfig) -> Instance:
        """Open the database and stores. Recovery after a crash is the server's job
        (:func:`tainik.service.maintenance.recover`), under its lock."""
        return cls(
            config,
            open_database(config.database_url),
            BlobStore(config.blobs_dir),
            UploadStore(config.uploads_dir),
        )

    def close(self) -> None:
        """Release the database."""
        self.engine.dispose()
