"""Alembic, driven from code, for Tainik's two databases: the server's and the vault catalogue.

Each database keeps its revisions inside the package (``storage/migrations/versions`` and
``workstation/vault/migrations/versions``): nothing is read from an ``alembic.ini`` at run
time. A whole upgrade, however many revisions, is one transaction: on SQLite that needs the
driver told to leave transactions to us (``BEGIN IMMEDIATE``, the write lock taken at once),
and foreign keys off, because rebuilding a table (``batch_alter_table``) drops the old one, and
with foreign keys on, SQLite would first delete every row that refers to it, ``ON DELETE
CASCADE`` included. A foreign-key check runs before the commit instead. On PostgreSQL DDL is
transactional already; an advisory lock held to the commit keeps two hosts from upgrading
one database at once.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext, MigrationStep
from alembic.operations import Operations
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, inspect, text

from tainik.core.errors import N_, StorageError
from tainik.sealed import durable

# Any fixed number: the key of the PostgreSQL advisory lock held while a database is upgraded.
_ADVISORY_LOCK = 0x7461696E696B  # "tainik"


@dataclass(frozen=True, slots=True)
class Applied:
    """One revision applied: its id and its one-line description."""

    revision: str
    doc: str


class SchemaHistory:
    """The revisions of one database, in the folder ``root`` (``root/versions``)."""

    def __init__(self, root: Path) -> None:
        self.script = ScriptDirectory(str(root))

    @property
    def head(self) -> str:
        """The newest revision this code knows."""
        head = self.script.get_current_head()
        assert head is not None  # a history always has its baseline
        return head

    @property
    def base(self) -> str:
        """The first revision: the schema as it was when the history began."""
        base = self.script.get_base()
        assert base is not None
        return base

    def knows(self, revision: str) -> bool:
        """Whether ``revision`` is one of this code's."""
        return any(script.revision == revision for script in self.script.walk_revisions())

    def current(self, db: Connection) -> str | None:
        """The revision the database records, or None when it records none."""
        return MigrationContext.configure(db).get_current_revision()

    def pending(self, current: str | None) -> list[Script]:
        """The revisions after ``current`` up to the head, oldest first."""
        lower = current or "base"
        scripts = list(self.script.iterate_revisions(self.head, lower))
        return [s for s in reversed(scripts) if s.revision != current]

    def upgrade(
        self, db: Connection, *, on_applied: Callable[[Applied], None], to: str | None = None
    ) -> list[Applied]:
        """Apply every pending revision up to ``to`` (the head) in the caller's transaction."""
        done: list[Applied] = []
        target = to or self.head

        def steps(heads: tuple[str, ...], _ctx: MigrationContext) -> Iterable[MigrationStep]:
            # What alembic.command.upgrade runs (it passes the current heads as they are).
            return self.script._upgrade_revs(target, heads)  # type: ignore[arg-type]

        def applied(*, step: Any, **_kw: Any) -> None:
            revision = str(step.up_revision_id)
            script = self.script.get_revision(revision)
            item = Applied(revision, (script.doc if script else "") or "")
            done.append(item)
            on_applied(item)

        context = MigrationContext.configure(db, opts={"fn": steps, "on_version_apply": (applied,)})
        with Operations.context(context):
            context.run_migrations()
        return done

    def stamp(self, db: Connection, revision: str) -> None:
        """Record ``revision`` without running it (a database already of that schema)."""
        context = MigrationContext.configure(db)
        context.stamp(self.script, revision)

    def differences(self, db: Connection, metadata: MetaData) -> list[Any]:
        """What autogenerate would write to bring the database to ``metadata`` (none when the
        models and the revisions agree)."""
        from alembic.autogenerate import compare_metadata  # noqa: PLC0415 - tests and tools only

        context = MigrationContext.configure(
            db, opts={"compare_type": True, "compare_server_default": False}
        )
        return [
            diff
            for diff in compare_metadata(context, metadata)
            if not (isinstance(diff, tuple) and diff[0] == "remove_table"
                    and diff[1].name == "alembic_version")
        ]  # fmt: skip


def migration_engine(url: str) -> Engine:
    """An engine for upgrading the database at ``url`` in one transaction (see the module)."""
    is_sqlite = url.startswith("sqlite")
    engine = create_engine(url, connect_args={"timeout": 30} if is_sqlite else {})
    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _manual(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # no implicit BEGIN or COMMIT
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA secure_delete=ON")  # a dropped column leaves nothing
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextmanager
def upgrade_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction for a whole upgrade: the write lock first; the foreign keys checked
    last (SQLite), or an advisory lock to the end (PostgreSQL)."""
    with engine.begin() as db:
        if db.dialect.name == "postgresql":
            db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
        yield db
        if db.dialect.name == "sqlite":
            broken = db.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise StorageError(
                    N_("The upgrade would leave rows that refer to missing rows ({rows}): undone"),
                    rows=", ".join(f"{row[0]} {row[1]}" for row in broken[:5]),
                )


def is_empty(db: Connection) -> bool:
    """Whether the database has no tables at all (a new one)."""
    return not inspect(db).get_table_names()


def backup_sqlite(db: Connection, folder: Path, name: str) -> Path:
    """Copy the SQLite database of ``db`` to ``folder/NAME.sqlite`` (``NAME-2.sqlite``… when
    that exists) with SQLite's backup API (which
    includes what the write-ahead log holds, unlike a file copy), flushed to disk before it
    takes its name.

    Called inside the upgrade's transaction, before anything changes: that transaction holds
    the write lock, so the copy, read through a second connection, is exactly what the
    upgrade starts from. (The backup API cannot read through the connection that holds it.)"""
    database = db.engine.url.database
    assert database, "an SQLite database in a file"
    target = folder / f"{name}.sqlite"
    for again in range(2, 1000):  # never over an earlier copy
        if not target.exists():
            break
        target = folder / f"{name}-{again}.sqlite"
    partial = folder / f".{target.name}.partial"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        source = sqlite3.connect(f"file:{Path(database).resolve()}?mode=ro", uri=True, timeout=30)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
            # One self-contained file: no write-ahead log beside it when it is opened.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
            source.close()
        os.chmod(partial, 0o600)
        durable.move_into_place(partial, target, sync_file=True)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise durable.storage_error(exc, target) from exc
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(N_("{path}: {reason}"), path=str(target), reason=str(exc)) from exc
    return target


def backup_name(stem: str, found: str, moment: datetime) -> str:
    """``STEM-before-FOUND-YYYYMMDDTHHMMSSZ``: sorts by time, says what it was."""
    return f"{stem}-before-{found}-{moment.strftime('%Y%m%dT%H%M%SZ')}"


def run_env(context: Any, history: SchemaHistory, metadata: MetaData) -> None:
    """The body of a history's ``env.py``: for the developer's ``alembic revision
    --autogenerate`` (CONTRIBUTING.md), against a scratch SQLite database brought to the head
    first, so that what it writes is exactly what the models add. Never used at run time."""
    with tempfile.TemporaryDirectory() as folder:
        engine = migration_engine(f"sqlite:///{folder}/scratch.sqlite")
        try:
            with upgrade_transaction(engine) as db:
                history.upgrade(db, on_applied=lambda _item: None)
            with engine.connect() as db:
                context.configure(
                    connection=db,
                    target_metadata=metadata,
                    render_as_batch=True,  # ALTERs that SQLite lacks become table rebuilds
                    compare_type=True,
                )
                with context.begin_transaction():
                    context.run_migrations()
        finally:
            engine.dispose()
