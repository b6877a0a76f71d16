"""Opening the database: SQLite in WAL mode by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Engine,
    bindparam,
    create_engine,
    event,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.pool import ConnectionPoolEntry

from tainik.core.errors import N_, StorageError
from tainik.storage import newsroom_schema, schema  # noqa: F401 - registers the newsroom's tables
from tainik.storage.coarse import CoarseTime


def _coarsen_stored_times(connection: Connection) -> None:
    """Schema 1 to 2: times tied to sources became coarse; round those already stored down
    (writing a value back through its :class:`CoarseTime` column rounds it)."""
    for table in schema.metadata.sorted_tables:
        coarse = [c for c in table.columns if isinstance(c.type, CoarseTime)]
        if not coarse:
            continue
        keys = list(table.primary_key.columns)
        for row in connection.execute(select(*keys, *coarse)).all():
            found = row._mapping
            connection.execute(
                update(table)
                .where(*(key == found[key] for key in keys))
                .values({column.name: found[column] for column in coarse})
            )


def _scope_tokens(connection: Connection) -> None:
    """Schema 2 to 3: API tokens gained a scope. A token issued before may only read (it
    ends within hours anyway; a full one is a new login away). A table made by this release's
    ``create_all`` (a database older than the newsroom) has the column already."""
    columns = {c["name"] for c in inspect(connection).get_columns("api_tokens")}
    if "scope" not in columns:
        connection.execute(
            text("ALTER TABLE api_tokens ADD COLUMN scope VARCHAR(8) DEFAULT 'read' NOT NULL")
        )


def _add_seen_by_source(connection: Connection) -> None:
    """Schema 3 to 4: ``replies.seen_by_source``. Replies already there count as unseen, so
    a source is told of them once more rather than never. (A database made by this version
    and marked older already has the column.)"""
    columns = {column["name"] for column in inspect(connection).get_columns("replies")}
    if "seen_by_source" not in columns:
        connection.execute(
            text("ALTER TABLE replies ADD COLUMN seen_by_source BOOLEAN NOT NULL DEFAULT false")
        )


def _store_lifecycles(connection: Connection) -> None:
    """Schema 4 to 5: the lifecycles are stored, so that their tables govern (core/upload.py,
    core/staff_account.py).

    ``uploads.state``: every row of schema 4 is an unfinished upload, so ``receiving``. A row
    whose commit a crash cut short (renamed into the blob store, not recorded) is one too as far
    as the database can tell; recovery finds its blob before the server serves and completes it
    (service/uploads.py, ``reconcile``).

    ``users.state`` replaces ``active`` and ``must_change_password``: an active account with
    its one-time password is ``pending``, an inactive one ``deactivated_pending``, and so on.
    (A table made by this version's ``create_all`` has ``state`` and neither boolean.)"""
    found = {column["name"] for column in inspect(connection).get_columns("uploads")}
    if "state" not in found:
        connection.execute(
            text("ALTER TABLE uploads ADD COLUMN state VARCHAR(12) DEFAULT 'receiving' NOT NULL")
        )
    found = {column["name"] for column in inspect(connection).get_columns("users")}
    if "active" not in found:
        return
    if "state" not in found:
        connection.execute(
            text("ALTER TABLE users ADD COLUMN state VARCHAR(20) DEFAULT 'pending' NOT NULL")
        )
    # Booleans are 0/1 in SQLite and true/false in PostgreSQL: compare them as booleans.
    connection.execute(
        text(
            "UPDATE users SET state = CASE"
            " WHEN active = :yes AND must_change_password = :yes THEN 'pending'"
            " WHEN active = :yes THEN 'active'"
            " WHEN must_change_password = :yes THEN 'deactivated_pending'"
            " ELSE 'deactivated' END"
        ).bindparams(bindparam("yes", True, type_=Boolean()))
    )
    connection.execute(text("ALTER TABLE users DROP COLUMN active"))
    connection.execute(text("ALTER TABLE users DROP COLUMN must_change_password"))


# Each step takes a database from the version it is listed under to the next.
UPGRADES: dict[int, Callable[[Connection], None]] = {
    1: _coarsen_stored_times,
    2: _scope_tokens,
    3: _add_seen_by_source,
    4: _store_lifecycles,
}


def open_database(url: str) -> Engine:
    """An engine with the schema in place (created on first use)."""
    is_sqlite = url.startswith("sqlite")
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30} if is_sqlite else {},
        pool_pre_ping=not is_sqlite,
    )
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    schema.metadata.create_all(engine)
    with engine.begin() as connection:
        version = connection.execute(
            select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
        ).scalar()
        if version is None:
            connection.execute(
                schema.meta.insert().values(key="schema_version", value=str(schema.SCHEMA_VERSION))
            )
        elif int(version) != schema.SCHEMA_VERSION:
            _upgrade(connection, int(version))
    return engine


def _upgrade(connection: Connection, version: int) -> None:
    """Bring an older database to :data:`schema.SCHEMA_VERSION`, in the caller's transaction."""
    found = version
    while version < schema.SCHEMA_VERSION and version in UPGRADES:
        UPGRADES[version](connection)
        version += 1
    if version != schema.SCHEMA_VERSION:
        raise StorageError(
            N_("The database has schema version {found}; this Tainik expects {expected}"),
            found=found,
            expected=schema.SCHEMA_VERSION,
        )
    connection.execute(
        update(schema.meta)
        .where(schema.meta.c.key == "schema_version")
        .values(value=str(schema.SCHEMA_VERSION))
    )


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
