"""``tainik vault migrate``: upgrade a vault's catalogue to this code's schema, with the custody
log recording it.

A vault is evidence, so the upgrade keeps its trail: it runs under the writer's lock and key;
the catalogue is first copied to ``VAULT/backups/`` (SQLite's backup API, flushed); the
revisions and a signed ``vault.migrate`` custody record (from which revision, to which, and the
copy's name and SHA-256) are committed in one transaction with the new signed head, so the
log and the catalogue cannot disagree after a crash, and a failure leaves the vault as it was.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from tainik.core.errors import N_, StorageError
from tainik.migrating import backup_name, backup_sqlite, migration_engine, upgrade_transaction
from tainik.workstation.vault import migrations
from tainik.workstation.vault.custody import Action, CustodyRecord
from tainik.workstation.vault.vault import VaultWriter


@dataclass
class CatalogueUpgraded:
    """What :func:`upgrade` found and did."""

    before: str  # "schema 1" or a revision
    after: str
    backup: Path | None = None
    steps: list[tuple[str, str]] = field(default_factory=list)
    record: CustodyRecord | None = None


def upgrade(writer: VaultWriter, now: datetime) -> CatalogueUpgraded:
    """Bring the catalogue of ``writer``'s vault to the newest revision (see the module)."""
    paths = writer.vault.paths
    engine = migration_engine(f"sqlite:///{paths.catalogue}")
    try:
        with upgrade_transaction(engine) as db:
            state = migrations.found(db)
            migrations.check(state, paths.root)
            done = CatalogueUpgraded(state.label(), migrations.HISTORY.head)
            if state.revision == migrations.HISTORY.head:
                return done
            short = "schema1" if state.legacy else str(state.revision)
            done.backup = backup_sqlite(db, paths.backups, backup_name("catalogue", short, now))
            if state.legacy:
                migrations.HISTORY.stamp(db, migrations.HISTORY.base)
                done.steps.append((migrations.HISTORY.base, "stamped: schema 1 is the baseline"))
            migrations.HISTORY.upgrade(
                db, on_applied=lambda item: done.steps.append((item.revision, item.doc))
            )
            digest = hashlib.sha256(done.backup.read_bytes()).hexdigest()
            done.record = writer.append(
                db,
                Action.MIGRATE,
                details={
                    "from": done.before,
                    "to": done.after,
                    "revisions": [what for what, _doc in done.steps],
                    "backup": f"{paths.backups.name}/{done.backup.name}",
                    "backup_sha256": digest,
                },
            )
        return done
    except SQLAlchemyError as exc:
        raise StorageError(
            N_("{path}: the upgrade of the catalogue failed and was undone: {reason}"),
            path=str(paths.root),
            reason=str(getattr(exc, "orig", None) or exc),
        ) from exc
    finally:
        engine.dispose()
