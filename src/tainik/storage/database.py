"""Opening the database: SQLite in WAL mode by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, select, text, update
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


# Each step takes a database from the version it is listed under to the next.
UPGRADES: dict[int, Callable[[Connection], None]] = {
    1: _coarsen_stored_times,
    2: _scope_tokens,
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
            N_("the database has schema version {found}; this Tainik expects {expected}"),
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


# The largest row id the database holds (SQLite and PostgreSQL integers are 64-bit signed):
# a larger number from a request names no row, and would overflow the driver.
MAX_ROW_ID = 2**62


def stored_time(moment: datetime) -> datetime:
    """A time read from the database, as timezone-aware UTC.

    Every time is stored in UTC; SQLite hands it back naive, PostgreSQL aware.
    """
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
