"""Recovery at start: finish or remove what a crash left, under the instance lock.

Only the process holding the instance's serve lock may do this: another process opening the
instance (a maintenance command, a test) must never remove a running server's work.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from dataclasses import dataclass

from sqlalchemy import select

from tainik.core.errors import N_, UsageError
from tainik.service import sources, uploads
from tainik.service.instance import Instance
from tainik.storage import schema

LOCK_NAME = "serve.lock"


@dataclass
class Recovered:
    """What recovery did."""

    partials: int
    orphans: int
    expired_uploads: int
    empty_sources: int = 0
    # Sealed files recorded (submissions, replies) that the store no longer holds: kept as
    # rows (the newsroom shows them as missing), counted and logged for the operator.
    missing: int = 0


class ServeLock:
    """An exclusive lock on the instance for the life of one server process."""

    def __init__(self, instance: Instance) -> None:
        path = instance.config.data_dir / LOCK_NAME
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(self._fd)
            raise UsageError(
                N_("Another 'tainik serve' is already running on {path}"),
                path=str(instance.config.data_dir),
            ) from exc

    def release(self) -> None:
        """Let go of the lock."""
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def recover(instance: Instance, lock: ServeLock) -> Recovered:
    """Sweep partial containers, finish interrupted upload commits, drop unrecorded blobs."""
    assert lock is not None  # the caller proves it holds the lock
    with instance.engine.begin() as db:
        unfinished = set(db.execute(select(schema.uploads.c.sealed_id)).scalars())
    # An object store keeps unfinished uploads' parts beside the blobs': those stay.
    partials = instance.blobs.sweep_partials(keep=unfinished)
    uploads.reconcile(instance)
    expired = uploads.expire_uploads(instance)
    with instance.engine.begin() as db:
        known = set(db.execute(select(schema.submissions.c.sealed_id)).scalars())
        known |= set(db.execute(select(schema.replies.c.sealed_id)).scalars())
    orphans = 0
    present = set(instance.blobs.ids())
    missing = len(known - present)
    for sealed_id in present:
        if sealed_id not in known:
            # Renamed into place but never recorded: never acknowledged to anyone.
            instance.blobs.delete(sealed_id)
            orphans += 1
    sources.expire_sessions(instance)
    empty = sources.expire_empty(instance)
    instance.reserve.refill(keep_free=instance.config.min_free_bytes)
    return Recovered(partials, orphans, expired, empty, missing)


@dataclass
class Housekept:
    """What one round of housekeeping removed."""

    uploads: int
    sessions: int
    empty_sources: int


def housekeeping(instance: Instance) -> Housekept:
    """Periodic work (:data:`HOUSEKEEPING_SECONDS`): expire idle uploads and sessions, then
    sources left with nothing; forget old login attempts; refill the disk reserve."""
    from tainik.service.newsroom import auth  # noqa: PLC0415 - auth imports instance too

    with instance.engine.begin() as db:
        auth.forget_old_attempts(db, instance.clock())
    expired_uploads = uploads.expire_uploads(instance)
    expired_sessions = sources.expire_sessions(instance)
    empty = sources.expire_empty(instance)
    # The reserve comes back once the disk has room above the level kept free again.
    instance.reserve.refill(keep_free=instance.config.min_free_bytes)
    return Housekept(expired_uploads, expired_sessions, empty)


# Housekeeping runs this often (and recovery does its part at start): docs/threat-model.md.
HOUSEKEEPING_SECONDS = 3600


def run_housekeeping(
    instance: Instance, stop: threading.Event, every: float = HOUSEKEEPING_SECONDS
) -> None:
    """Call :func:`housekeeping` every ``every`` seconds until ``stop`` is set."""
    log = logging.getLogger("tainik.server")
    while not stop.wait(every):
        try:
            housekeeping(instance)
        except Exception as exc:
            log.error("housekeeping failed: %s", type(exc).__name__)
