"""Schema versions 1 to 5: the steps that upgraded a database before Alembic kept its history.

A database made before this release records ``meta.schema_version`` (1 to 5) and no Alembic
revision. :func:`to_baseline` brings it to schema 5, which is exactly the baseline revision
(:mod:`.schema_5`), and the caller then stamps that revision. The steps are not revisions
before the baseline because they never had one starting point: each release's
``open_database`` first created whatever tables it knew and lacked, then ran the steps, so a
"schema 2" database could be any of several shapes. The steps inspect what is there and act on
that; they run in the upgrade's one transaction, on the frozen schema 5 tables, never on the
live models (which later revisions change).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Boolean, Connection, bindparam, inspect, select, text, update

from tainik.storage.migrations import schema_5

# meta.schema_version of the last release before Alembic.
LAST_VERSION = 5
# What meta.schema_version says once Alembic keeps the history: a release before this one
# refuses it ("this Tainik expects 5") instead of opening a schema it does not know.
FENCE = "6"


def _coarsen_stored_times(connection: Connection) -> None:
    """Schema 1 to 2: times tied to sources became coarse; round those already stored down
    (writing a value back through its :class:`CoarseTime` column rounds it)."""
    from tainik.storage.coarse import CoarseTime  # noqa: PLC0415 - only this step needs it

    for table in schema_5.metadata.sorted_tables:
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
    ends within hours anyway; a full one is a new login away). A table made by that release's
    ``create_all`` (a database older than the newsroom) has the column already."""
    columns = {c["name"] for c in inspect(connection).get_columns("api_tokens")}
    if "scope" not in columns:
        connection.execute(
            text("ALTER TABLE api_tokens ADD COLUMN scope VARCHAR(8) DEFAULT 'read' NOT NULL")
        )


def _add_seen_by_source(connection: Connection) -> None:
    """Schema 3 to 4: ``replies.seen_by_source``. Replies already there count as unseen, so
    a source is told of them once more rather than never."""
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
    its one-time password is ``pending``, an inactive one ``deactivated_pending``, and so on."""
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
STEPS: dict[int, Callable[[Connection], None]] = {
    1: _coarsen_stored_times,
    2: _scope_tokens,
    3: _add_seen_by_source,
    4: _store_lifecycles,
}

SUMMARIES: dict[Callable[[Connection], None], str] = {
    _coarsen_stored_times: "times tied to sources stored coarse",
    _scope_tokens: "API tokens gain a scope (those issued before may only read)",
    _add_seen_by_source: "replies.seen_by_source",
    _store_lifecycles: "uploads.state, and users.state in place of two booleans",
}


def recorded_version(connection: Connection) -> int | None:
    """``meta.schema_version`` as an old release wrote it, or None (no such table or row)."""
    if "meta" not in inspect(connection).get_table_names():
        return None
    value = connection.execute(
        select(schema_5.meta.c.value).where(schema_5.meta.c.key == "schema_version")
    ).scalar()
    return None if value is None else int(value)


def to_baseline(connection: Connection, version: int) -> None:
    """Bring a database of schema ``version`` (1 to 5) to schema 5, as the release that made
    it would have on its next open: the tables it lacked, the steps, the indexes it lacked."""
    schema_5.metadata.create_all(connection, checkfirst=True)
    while version < LAST_VERSION:
        STEPS[version](connection)
        version += 1
    for table in schema_5.metadata.sorted_tables:
        for index in table.indexes:
            index.create(connection, checkfirst=True)
    connection.execute(
        update(schema_5.meta).where(schema_5.meta.c.key == "schema_version").values(value=FENCE)
    )
