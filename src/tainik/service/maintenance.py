"""Recovery at start: finish or remove what a crash left, under the instance lock.

Only a process holding the instance lock exclusive may do this: another process serving the
instance, or a maintenance command, must never have its work removed. Every process serving
the instance holds the lock shared (storage/locks.py: a file lock on SQLite, an advisory lock
on PostgreSQL), so recovery runs when a server starts with no other serving, and is skipped
(it would be unsafe) when one starts beside others: a worker restarted after a crash, a second
host. What a killed process leaves behind is safe meanwhile: an upload cut short in its
commit is finished by its client's next complete, and a partial sealed file or a sealed file
never recorded was never acknowledged to anyone; they are removed at the next start alone.

Housekeeping runs in every server (one thread per host), one round at a time across all of
them (the job lock); a round that finds the lock taken is skipped.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import select

from tainik.config import InstanceConfig
from tainik.core.errors import N_, UsageError
from tainik.service import new_source, sources, uploads
from tainik.service.instance import Instance
from tainik.storage import schema
from tainik.storage.locks import instance_lock, job_lock


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
    """The instance lock of one server process, for its life: exclusive (nobody else serves;
    recovery may run), or shared with the other processes serving the instance."""

    def __init__(self, instance: Instance | InstanceConfig, *, share: bool = False) -> None:
        # An InstanceConfig before the instance is opened: 'migrate' and 'serve' upgrade the
        # database under this lock first (service/schema_upgrade.py).
        config = instance.config if isinstance(instance, Instance) else instance
        self._lock = instance_lock(config.database_url, config.data_dir)
        self.exclusive = self._lock.try_exclusive()
        if self.exclusive:
            return
        if not share:
            self._lock.release()
            raise UsageError(
                N_("Another 'tainik serve' is already running on {path}"),
                path=str(config.data_dir),
            )
        self._lock.share()

    @classmethod
    def serving(cls, instance: Instance | InstanceConfig) -> ServeLock:
        """The lock of a server about to serve: exclusive when no other process serves the
        instance (then upgrade, :func:`recover`, and :meth:`share`), else shared at once."""
        return cls(instance, share=True)

    def share(self) -> None:
        """Let other server processes in (after recovery)."""
        self._lock.share()
        self.exclusive = False

    def keep(self) -> bool:
        """Take the lock again if it was lost (False then): see :func:`run_lock_keeper`."""
        return self._lock.keep()

    def release(self) -> None:
        """Let go of the lock."""
        self._lock.release()


# How often a server checks that it still holds the instance lock.
LOCK_CHECK_SECONDS = 5.0


def run_lock_keeper(
    lock: ServeLock, stop: threading.Event, every: float = LOCK_CHECK_SECONDS
) -> None:
    """Check every ``every`` seconds that ``lock`` is still held, until ``stop`` is set.

    On PostgreSQL the lock lives in a database session, and a restart of the database ends
    it: until it is taken again, a server starting elsewhere would find nobody serving and run
    recovery beside this one (removing sealed files this one is about to record). So it is
    taken again, shared, as soon as the database answers."""
    log = logging.getLogger("tainik.server")
    while not stop.wait(every):
        try:
            if not lock.keep():
                log.warning("the instance lock was lost (the database restarted): taken again")
        except Exception as exc:
            log.error("the instance lock could not be checked: %s", type(exc).__name__)


def recover(instance: Instance, lock: ServeLock) -> Recovered:
    """Sweep partial containers, finish interrupted upload commits, drop unrecorded blobs."""
    assert lock.exclusive  # the caller proves it holds the lock, and nobody else serves
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
        new_source.forget_expired(db, instance.new_sources.epoch(instance.clock()))
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
            with job_lock(instance.engine, instance.config.data_dir) as mine:
                if mine:  # else another server process is at it: this round is theirs
                    housekeeping(instance)
        except Exception as exc:
            log.error("housekeeping failed: %s", type(exc).__name__)
