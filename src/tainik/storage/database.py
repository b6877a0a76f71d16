"""Opening the database: SQLite in WAL mode by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import ConnectionPoolEntry

from tainik.storage import migrations, newsroom_schema  # noqa: F401 - registers its tables


def open_database(url: str, *, upgrading: bool = False) -> Engine:
    """An engine on a database at the newest revision (created on first use); with
    ``upgrading``, on the database as it is, for the holder of the instance lock to upgrade
    (:mod:`tainik.service.schema_upgrade`) before anything reads it."""
    is_sqlite = url.startswith("sqlite")
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30} if is_sqlite else {},
        pool_pre_ping=not is_sqlite,
    )
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    # Created at the newest revision when new; refused, saying what to do, when older or
    # newer than this code: only 'tainik migrate' and 'tainik serve' upgrade, under the lock.
    if not upgrading:
        migrations.require_current(engine)
    return engine


def _sqlite_pragmas(connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = connection.cursor()
    # WAL: readers never block the writer; synchronous=FULL: a commit survives power loss.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


# The largest row id the database holds (ids are INTEGER columns: 64-bit in SQLite, 32-bit
# in PostgreSQL): a larger number from a request names no row, and would overflow the column.
MAX_ROW_ID = 2**31 - 1


def stored_time(moment: datetime) -> datetime:
    """A time read from the database, as timezone-aware UTC.

    Every time is stored in UTC; SQLite hands it back naive, PostgreSQL aware.
    """
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
