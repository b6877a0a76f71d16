"""Databases as older releases of Tainik made them, for the upgrade tests with data."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from tainik.storage import migrations
from tainik.storage.database import open_database

# Version 4's tables and indexes, as its open_database made them (sqlite3 .dump, no rows but
# the schema version).
SCHEMA_4 = Path(__file__).parent / "storage" / "schema_4.sql"


def schema_4_database(path: Path) -> str:
    """An empty database of schema version 4 at ``path``; returns its SQLAlchemy URL."""
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA_4.read_text(encoding="utf-8"))
    return f"sqlite:///{path}"


def schema_5_database(url: str) -> None:
    """A new database at ``url`` as the last release before Alembic made it: revision 0001's
    tables only (the later revisions' tables would otherwise be there before they are made)."""
    migrations.upgrade(url, backups=None, now=datetime.now(UTC), to="0001")


def upgraded(url: str) -> Engine:
    """The database at ``url`` upgraded as ``tainik migrate`` does (no copy), then opened."""
    migrations.upgrade(url, backups=None, now=datetime.now(UTC))
    return open_database(url)
