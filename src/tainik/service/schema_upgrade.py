"""Upgrading an instance's database to this code's schema: ``tainik migrate``, and ``tainik
serve`` at start, both under the instance's serve lock.

Why ``serve`` upgrades rather than refuses: the instance holds evidence that sources are
waiting to have received, and an upgrade of the package (by hand or unattended) followed by a
restart should bring the service back, not leave it down until someone reads a log. That is
safe because (1) the serve lock means no other ``serve`` or ``migrate`` on this instance runs
the old code against the new schema, and PostgreSQL's advisory lock keeps two hosts from
upgrading at once; (2) an SQLite database is copied first, in ``DATA/backups/``; (3) the whole
upgrade is one transaction, so a failure leaves the database as it was and the server does not
start. A database newer than the code is refused by both: nothing is ever downgraded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from tainik.service.instance import Instance
from tainik.service.maintenance import ServeLock
from tainik.storage import migrations
from tainik.storage.migrations import Found, Upgraded

BACKUPS_NAME = "backups"


def upgrade_database(
    instance: Instance,
    lock: ServeLock,
    *,
    now: datetime,
    on_start: Callable[[Found, Path | None], None] = lambda _found, _backup: None,
    on_step: Callable[[str, str], None] = lambda _what, _doc: None,
) -> Upgraded:
    """Bring the instance's database to the newest revision; ``lock`` proves the caller holds
    the instance (opened with ``upgrading``). An SQLite database is copied into
    ``DATA/backups`` first."""
    assert lock is not None  # the caller proves it holds the lock
    config = instance.config
    return migrations.upgrade(
        config.database_url,
        backups=config.data_dir / BACKUPS_NAME,
        now=now,
        on_start=on_start,
        on_step=on_step,
    )
