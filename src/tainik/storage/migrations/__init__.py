"""The server database's schema history: Alembic revisions in ``versions/`` (the first, ``0001``,
is schema 5, the last of the releases before Alembic), and the steps those releases ran
(:mod:`.legacy`), which bring an older database to that baseline before it is stamped.

:func:`upgrade` is what ``tainik migrate`` and ``tainik serve`` run, under the instance lock:
one transaction, after an SQLite database has been copied. :func:`require_current` is what
every other opening runs: it creates a new database at the newest revision and refuses one
that is older or newer than this code, saying which and what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from tainik.core.errors import N_, StorageError
from tainik.migrating import (
    Applied,
    SchemaHistory,
    backup_name,
    backup_sqlite,
    is_empty,
    migration_engine,
    upgrade_transaction,
)
from tainik.storage.migrations import legacy

HISTORY = SchemaHistory(Path(__file__).parent)


class DatabaseBehindError(StorageError):
    """The database is older than this code: ``tainik migrate`` (or ``serve``) upgrades it."""

    template = N_("The database is at revision {found}; this Tainik needs revision {expected}")
    hint = N_(
        "Upgrade it with 'tainik migrate --data DIR' (an SQLite database is copied first), "
        "or start 'tainik serve', which upgrades it before serving."
    )


class DatabaseAheadError(StorageError):
    """The database was upgraded by a newer Tainik: this code refuses it, and never downgrades."""

    template = N_(
        "The database is at revision {found}, which this Tainik does not know: a newer Tainik "
        "has upgraded it (this one goes up to revision {expected})"
    )
    hint = N_(
        "Run the newer Tainik. To go back to this one, restore the copy the upgrade took "
        "(in the instance's backups folder): a database is never downgraded."
    )


class UpgradeFailedError(StorageError):
    """A step failed: the transaction was rolled back, the database is as it was."""

    template = N_("The upgrade failed and was undone; the database is as it was: {reason}")
    hint = N_(
        "Nothing was changed. Keep the database and the copy in the backups folder, and "
        "report the message to Tainik's developers."
    )


@dataclass(frozen=True, slots=True)
class Found:
    """What a database records of its schema."""

    revision: str | None = None  # Alembic's
    legacy_version: int | None = None  # meta.schema_version of a release before Alembic
    empty: bool = False

    def short(self) -> str:
        """For a file name: ``0001``, ``schema4``, ``new``."""
        if self.revision is not None:
            return self.revision
        return f"schema{self.legacy_version}" if self.legacy_version is not None else "new"


def found(db: Connection) -> Found:
    """What the database at ``db`` records."""
    if is_empty(db):
        return Found(empty=True)
    revision = HISTORY.current(db)
    if revision is not None:
        return Found(revision=revision)
    return Found(legacy_version=legacy.recorded_version(db))


def _check_known(state: Found) -> None:
    """Refuse a database newer than this code (or not a Tainik database at all)."""
    newer = (state.revision is not None and not HISTORY.knows(state.revision)) or (
        state.revision is None
        and not state.empty
        and (state.legacy_version is None or state.legacy_version > legacy.LAST_VERSION)
    )
    if newer:
        if state.revision is not None:
            raise DatabaseAheadError(found=state.revision, expected=HISTORY.head)
        raise DatabaseAheadError(
            N_(
                "The database has schema version {found}, which this Tainik does not know "
                "(it goes up to revision {expected})"
            ),
            found=state.legacy_version if state.legacy_version is not None else "?",
            expected=HISTORY.head,
        )


@dataclass
class Upgraded:
    """What :func:`upgrade` found and did."""

    before: Found
    after: str
    backup: Path | None = None
    # (what, description): "schema 4 → 5" for a step before Alembic, a revision id after.
    steps: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return bool(self.steps)


def upgrade(
    url: str,
    *,
    backups: Path | None,
    now: datetime,
    on_start: Callable[[Found, Path | None], None] = lambda _found, _backup: None,
    on_step: Callable[[str, str], None] = lambda _what, _doc: None,
    to: str | None = None,
) -> Upgraded:
    """Bring the database at ``url`` to the newest revision (or ``to``: the tests of each
    revision), in one transaction.

    An SQLite database that holds anything is first copied into ``backups`` (when given), with
    SQLite's backup API, inside the same write lock: the copy is exactly what was upgraded. A
    failure anywhere rolls everything back. The caller holds the instance lock. ``on_start``
    hears what was found and where it was copied, before the first change; ``on_step`` each
    step once done (in the transaction: nothing is committed before the last)."""
    engine = migration_engine(url)
    try:
        return _upgrade(engine, backups, now, on_start, on_step, to or HISTORY.head)
    except SQLAlchemyError as exc:
        raise UpgradeFailedError(reason=str(exc.orig if hasattr(exc, "orig") else exc)) from exc
    finally:
        engine.dispose()


def _upgrade(
    engine: Engine,
    backups: Path | None,
    now: datetime,
    on_start: Callable[[Found, Path | None], None],
    on_step: Callable[[str, str], None],
    to: str,
) -> Upgraded:
    """:func:`upgrade`'s work, in one transaction."""
    with upgrade_transaction(engine) as db:
        before = found(db)
        _check_known(before)
        done = Upgraded(before, to)
        if before.revision == to:
            return done
        if backups is not None and not before.empty and db.dialect.name == "sqlite":
            stem = Path(engine.url.database or "database").stem
            done.backup = backup_sqlite(db, backups, backup_name(stem, before.short(), now))
        on_start(before, done.backup)
        if before.legacy_version is not None:
            for version in range(before.legacy_version, legacy.LAST_VERSION):
                step = legacy.STEPS[version]
                what = f"schema {version} → {version + 1}"
                done.steps.append((what, legacy.SUMMARIES[step]))
            legacy.to_baseline(db, before.legacy_version)
            for what, doc in done.steps:
                on_step(what, doc)
            HISTORY.stamp(db, HISTORY.base)
            stamped = (HISTORY.base, "recorded as the baseline revision (schema 5)")
            done.steps.append(stamped)
            on_step(*stamped)

        def applied(item: Applied) -> None:
            done.steps.append((item.revision, item.doc))
            on_step(item.revision, item.doc)

        HISTORY.upgrade(db, on_applied=applied, to=to)
    return done


def require_current(engine: Engine) -> None:
    """Let the database of ``engine`` be opened: create a new one at the newest revision;
    refuse one that is behind (:class:`DatabaseBehindError`) or ahead
    (:class:`DatabaseAheadError`)."""
    with engine.connect() as db:
        state = found(db)
    if state.empty:
        creator = migration_engine(engine.url.render_as_string(hide_password=False))
        try:
            with upgrade_transaction(creator) as db:
                state = found(db)
                if state.empty:  # not made meanwhile by another process
                    HISTORY.upgrade(db, on_applied=lambda _item: None)
                    return
        finally:
            creator.dispose()
    _check_known(state)
    if state.revision is None:
        raise DatabaseBehindError(
            N_(
                "The database has schema version {found}, from before this Tainik kept "
                "revisions; it needs revision {expected}"
            ),
            found=state.legacy_version,
            expected=HISTORY.head,
        )
    if state.revision != HISTORY.head:
        raise DatabaseBehindError(found=state.revision, expected=HISTORY.head)
