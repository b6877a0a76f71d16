"""The running instance's dependencies, built once at start and passed down explicitly."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from tainik.config import CONFIG_NAME, InstanceConfig, load_config, shown_url
from tainik.core.errors import N_, StorageUnavailableError, TainikError
from tainik.sealed.writer import SegmentWorkers
from tainik.service.kdf_gate import STAFF_SLOTS, KdfGate
from tainik.service.new_source import NewSourceSeal
from tainik.storage.availability import is_unavailable
from tainik.storage.blobs import Blobs, BlobStore
from tainik.storage.database import open_database
from tainik.storage.space import Reserve
from tainik.storage.uploads import Uploads, UploadStore


def utc_now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


FIRST_SUBMISSIONS = 32


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells a file's versions apart: its inode (files are replaced by a rename), its
    modification time and its size; None when it cannot be read."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


@dataclass
class Instance:
    """Configuration plus the resources built from it."""

    config: InstanceConfig
    engine: Engine
    blobs: Blobs
    uploads: Uploads
    # Worker processes that seal no-JavaScript uploads on every core (set by the server).
    segment_workers: SegmentWorkers | None = None
    clock: Callable[[], datetime] = utc_now
    # Argon2id runs: bounded in number at once, never by a count of failures. Sources' and
    # staff's apart, so that a flood on the source side never takes the staff's slots.
    kdf_gate: KdfGate = field(default_factory=KdfGate)
    staff_kdf_gate: KdfGate = field(default_factory=lambda: KdfGate(slots=STAFF_SLOTS))
    # The keys that seal new sources' cookies (in the database: every process opens them).
    new_sources: NewSourceSeal = field(init=False)
    # One upload commit at a time in this process (a rename and a row: milliseconds), so
    # that concurrent completes of one upload see each other's result, not half of it.
    commits: threading.Lock = field(default_factory=threading.Lock)
    # New sources' first submissions being received at once (each may hold a connection for
    # as long as its body trickles in): bounded well below the source listener's cap.
    first_submissions: threading.Semaphore = field(
        default_factory=lambda: threading.Semaphore(FIRST_SUBMISSIONS)
    )
    # Space held back on the data disk for staff logins and deletions (storage/space.py).
    reserve: Reserve = field(init=False)
    # What tainik.toml was when ``config`` was read: another process of this host (a worker)
    # may change it from the newsroom, and every process then reads it again.
    _config_stamp: tuple[int, int, int] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.reserve = Reserve(self.config.data_dir, self.config.reserve_bytes)
        self._config_stamp = _stamp(self.config.data_dir / CONFIG_NAME)
        lifetime = timedelta(minutes=self.config.session_idle_minutes)
        self.new_sources = NewSourceSeal(self.engine, lifetime)

    @classmethod
    def open(cls, config: InstanceConfig, *, upgrading: bool = False) -> Instance:
        """Open the database and stores. Recovery after a crash is the server's job
        (:func:`tainik.service.maintenance.recover`), under its lock; so is upgrading the
        database (``upgrading``: opened as it is, :mod:`tainik.service.schema_upgrade`)."""
        blobs: Blobs
        uploads: Uploads
        if config.store.is_s3:
            from tainik.storage import objects  # noqa: PLC0415 - obstore only where it is used

            store = config.store
            blobs, uploads = objects.open_stores(
                store.bucket,
                store.prefix,
                endpoint=store.endpoint,
                region=store.region,
                access_key_id=store.access_key_id,
                secret_access_key=store.secret_access_key,
            )
        else:
            blobs, uploads = BlobStore(config.blobs_dir), UploadStore(config.uploads_dir)
        try:
            engine = open_database(config.database_url, upgrading=upgrading)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            # Said with the URL's password left out (config.shown_url), never the driver's text.
            raise StorageUnavailableError(
                N_("The database at {url} is not reachable; is it running?"),
                url=shown_url(config.database_url),
            ) from exc
        return cls(config, engine, blobs, uploads)

    def refresh_config(self) -> None:
        """Read tainik.toml again if it changed since it was read (every request does this
        first: a stat). So a change made through the newsroom of one worker process, the
        recipients above all, holds in every process of the host from the next request."""
        path = self.config.data_dir / CONFIG_NAME
        stamp = _stamp(path)
        if stamp == self._config_stamp:
            return
        self._config_stamp = stamp  # a file that does not load is not read again and again
        try:
            self.config = load_config(self.config.data_dir)
        except TainikError as exc:
            logging.getLogger("tainik.server").error(
                "%s changed and does not load (%s): the settings read before stay in force",
                CONFIG_NAME,
                type(exc).__name__,
            )

    def close(self) -> None:
        """Release the database."""
        self.engine.dispose()
