"""The vault catalogue's schema history: Alembic revisions in ``versions/``; the first, ``0001``,
is schema 1, which every vault made before Alembic has (``meta.schema`` = 1, no revision). Such
a vault counts as being at ``0001``: it is read as it is, and stamped at its next upgrade.

Opening a vault (:func:`require_current`) refuses a catalogue older or newer than this code;
``tainik vault migrate`` upgrades it (:mod:`tainik.workstation.vault.upgrade`), which needs
the vault key, because the custody log records the upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from tainik.core.errors import N_, StorageError
from tainik.migrating import SchemaHistory, is_empty, migration_engine, upgrade_transaction
from tainik.workstation.vault.migrations import catalogue_1

HISTORY = SchemaHistory(Path(__file__).parent)
LEGACY_SCHEMA = "1"  # meta.schema of every vault made before Alembic


class CatalogueBehindError(StorageError):
    """The catalogue is older than this code: ``tainik vault migrate`` upgrades it."""

    template = N_(
        "{path}: the vault's catalogue is at revision {found}; this Tainik needs revision "
        "{expected}"
    )
    hint = N_(
        "Upgrade it with 'tainik vault migrate VAULT' (it needs the vault key; the catalogue "
        "is copied first, and the custody log records the upgrade)."
    )


class CatalogueAheadError(StorageError):
    """The catalogue was upgraded by a newer Tainik; never downgraded."""

    template = N_(
        "{path}: the vault's catalogue is at revision {found}, which this Tainik does not "
        "know: a newer Tainik has upgraded it (this one goes up to revision {expected})"
    )
    hint = N_(
        "Use the newer Tainik with this vault. A vault is never downgraded; the copy taken "
        "before the upgrade is in the vault's backups folder."
    )


@dataclass(frozen=True, slots=True)
class Found:
    """What a catalogue records: a revision, or schema 1 of the vaults before Alembic."""

    revision: str | None
    legacy: bool

    @property
    def effective(self) -> str | None:
        """The revision it is at: schema 1 is the baseline."""
        return HISTORY.base if self.legacy else self.revision

    def label(self) -> str:
        """``0001``, or ``schema 1`` for a catalogue not yet stamped."""
        return f"schema {LEGACY_SCHEMA}" if self.legacy else str(self.revision)


def found(db: Connection) -> Found:
    """What the catalogue at ``db`` records."""
    revision = HISTORY.current(db)
    if revision is not None or is_empty(db):
        return Found(revision, legacy=False)
    schema = db.execute(
        select(catalogue_1.meta.c.value).where(catalogue_1.meta.c.key == "schema")
    ).scalar()
    return Found(None, legacy=schema == LEGACY_SCHEMA)


def check(state: Found, path: Path) -> None:
    """Refuse a catalogue newer than this code, or not a catalogue of any release."""
    effective = state.effective
    if effective is None or not HISTORY.knows(effective):
        raise CatalogueAheadError(
            path=str(path), found=state.label() if effective else "?", expected=HISTORY.head
        )


def require_current(engine: Engine, path: Path) -> None:
    """Let the vault at ``path`` be used: refuse a catalogue behind or ahead of this code."""
    with engine.connect() as db:
        state = found(db)
    check(state, path)
    if state.effective != HISTORY.head:
        raise CatalogueBehindError(path=str(path), found=state.label(), expected=HISTORY.head)


def create(catalogue: Path) -> None:
    """Make a new catalogue at the newest revision."""
    engine = migration_engine(f"sqlite:///{catalogue}")
    try:
        with upgrade_transaction(engine) as db:
            HISTORY.upgrade(db, on_applied=lambda _item: None)
    finally:
        engine.dispose()
