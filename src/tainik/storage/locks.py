"""Locks: named locks held for the rest of a transaction, and locks shared by every server
process of an instance.

**Transaction locks** (:func:`hold`): what SQLite's one writer gives for free. SQLite lets
one transaction write at a time: a transaction that writes first and then reads (a login
attempt recorded, then the attempts counted) sees every concurrent one, and two that read and
then write are serialised or one fails. PostgreSQL runs them side by side (READ COMMITTED), so
a check-then-write that must see its concurrent peers (the login throttle, a source's upload
quota, a TOTP step spent once) first takes :func:`hold` on the same name: a transaction-level
advisory lock (``pg_advisory_xact_lock``), let go at commit or rollback. On SQLite
:func:`hold` does nothing; the database's write lock does the same work.

**Process locks** (:func:`instance_lock`, :func:`job_lock`). Several processes may serve one
instance: ``tainik serve --workers N`` on one host, and several hosts on one PostgreSQL
database and one object store. Two things must still happen in one process at a time:

- **recovery at start** (service/maintenance.py) removes what no row owns: it must run only
  while no other process serves, or it would remove a sealed file another process has put in
  place and is about to record. Every serving process holds the *instance lock* shared; a
  process that starts may take it exclusive (no other holds it), recover, and then share it.
- **periodic jobs** (housekeeping: expiries) need not run twice at once: a *job lock* is
  tried, and a process that does not get it skips that round.

These live where the database lives, so that they cover every process that shares the data:
on SQLite (one host by nature) a ``flock`` on a file in the instance folder; on PostgreSQL a
session-level advisory lock in the two-key space (``pg_advisory_lock_shared(TAINIK, 1)`` and
friends; the transaction locks use the one-key space, which never overlaps it), held by a
connection of its own for as long as the lock is held, so that it ends with the process
however it ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, create_engine, func, make_url, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError


def lock_id(*name: object) -> int:
    """A 64-bit signed number for ``name`` (its parts joined), stable across processes."""
    text = "\x1f".join(str(part) for part in name).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big", signed=True)


def hold(db: Connection, *name: object) -> None:
    """Hold the lock ``name`` until ``db``'s transaction ends (waiting for it if another
    transaction holds it). Only on PostgreSQL; SQLite serialises writers itself."""
    if db.dialect.name == "postgresql":
        db.execute(select(func.pg_advisory_xact_lock(lock_id(*name))))


# The advisory lock keys: (TAINIK, what). 0x7461696e is "tain" in ASCII.
TAINIK = 0x7461696E
INSTANCE_KEY = 1
HOUSEKEEPING_KEY = 2
INSTANCE_FILE = "serve.lock"
HOUSEKEEPING_FILE = "housekeeping.lock"


class InstanceLock(Protocol):
    """Held by every process serving an instance: shared, or exclusive by one alone."""

    def try_exclusive(self) -> bool:
        """Take the lock exclusive if no other process holds it at all; False otherwise."""

    def share(self) -> None:
        """Hold the lock shared (waiting while another holds it exclusive); from exclusive,
        this lets others in."""

    def keep(self) -> bool:
        """Check that the lock is still held, and take it shared again if not; False when it
        had been lost (PostgreSQL restarted: the session that held it ended)."""

    def release(self) -> None:
        """Let go of the lock."""


class FileInstanceLock:
    """:class:`InstanceLock` as a ``flock`` on a file (one host: SQLite's case)."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def try_exclusive(self) -> bool:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def share(self) -> None:
        # From exclusive, flock converts (not atomically: another process may take it
        # exclusive in between, recover, and share it in turn, which is harmless here).
        fcntl.flock(self._fd, fcntl.LOCK_SH)

    def keep(self) -> bool:
        return True  # a lock on an open file lasts as long as the process

    def release(self) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


class PostgresInstanceLock:
    """:class:`InstanceLock` as a session-level advisory lock on a connection of its own."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection = engine.connect()
        self._exclusive = False

    def _ask(self, sql: str) -> object:
        value = self._connection.execute(text(sql), {"a": TAINIK, "b": INSTANCE_KEY}).scalar_one()
        self._connection.commit()  # session-level locks outlive the transaction
        return value

    def try_exclusive(self) -> bool:
        self._exclusive = bool(self._ask("SELECT pg_try_advisory_lock(:a, :b)"))
        return self._exclusive

    def share(self) -> None:
        # Shared first, then the exclusive let go: an atomic downgrade (both held meanwhile).
        self._ask("SELECT pg_advisory_lock_shared(:a, :b) IS NULL")
        if self._exclusive:
            self._ask("SELECT pg_advisory_unlock(:a, :b)")
            self._exclusive = False

    def keep(self) -> bool:
        try:
            held = self._connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND pid = pg_backend_pid() AND classid = :a AND objid = :b"
                ),
                {"a": TAINIK, "b": INSTANCE_KEY},
            ).scalar_one()
            self._connection.commit()
            if held:
                return True
        except DBAPIError:
            with contextlib.suppress(DBAPIError):
                self._connection.close()
        self._connection = self._engine.connect()  # raises while the database is away
        self._exclusive = False
        self.share()
        return False

    def release(self) -> None:
        self._connection.close()  # ends the session, and every lock it held
        self._engine.dispose()


def is_postgres(engine: Engine) -> bool:
    """True when the instance's database is PostgreSQL."""
    return engine.dialect.name == "postgresql"


def instance_lock(url: str, folder: Path) -> InstanceLock:
    """The instance lock for the database at ``url`` whose instance folder is ``folder``: taken
    before the instance is opened (the database may need upgrading first), so on PostgreSQL
    through an engine of its own, one connection held for the life of the lock."""
    if make_url(url).get_backend_name() == "postgresql":
        return PostgresInstanceLock(create_engine(url, pool_size=1, pool_pre_ping=True))
    return FileInstanceLock(folder / INSTANCE_FILE)


@contextlib.contextmanager
def job_lock(engine: Engine, folder: Path) -> Iterator[bool]:
    """Try the housekeeping lock: yields True while this process holds it, False (at once)
    when another process holds it."""
    if is_postgres(engine):
        with engine.connect() as connection:
            keys = {"a": TAINIK, "b": HOUSEKEEPING_KEY}
            held = bool(
                connection.execute(text("SELECT pg_try_advisory_lock(:a, :b)"), keys).scalar_one()
            )
            connection.commit()
            try:
                yield held
            finally:
                if held:
                    connection.execute(text("SELECT pg_advisory_unlock(:a, :b)"), keys)
                    connection.commit()
        return
    fd = os.open(folder / HOUSEKEEPING_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the lock
