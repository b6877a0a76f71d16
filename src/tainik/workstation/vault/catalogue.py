"""The vault's SQLite catalogue (SQLAlchemy Core): sources, items, objects, custody log.

The catalogue is an index that :mod:`.verify` checks against the custody log and the stored
files; it is never the only witness of anything. Triggers make the evidence tables
append-only, which stops mistakes, not an attacker with the file (the signatures do that);
they are made by the revisions (:mod:`.migrations`), as every change of the schema is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)

# A change here needs an Alembic revision in workstation/vault/migrations/versions
# (CONTRIBUTING.md); tests/workstation/vault/test_migrations.py fails until they agree.
metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    # "server-host/remote-id" for pulled sources, "unsorted" for bare sealed files.
    Column("key", Text, nullable=False, unique=True),
    Column("designation", Text, nullable=False),
    Column("created_at", Text, nullable=True),
)

objects = Table(
    "objects",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("blake3", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("custody_seq", Integer, nullable=False),  # the record that first stored it
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False),
    Column("sealed_id", String(26), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("name", LargeBinary, nullable=False),  # the original name's bytes, untrusted
    Column("display_name", Text, nullable=False),  # made safe (docs/format.md)
    Column("sent_at", Text, nullable=True),  # the server's time, when pull recorded it
    Column("sent_order", Integer, nullable=True),  # the server's order within a source
    Column("manifest_sha256", String(64), nullable=False),  # of manifest.age (ciphertext)
    Column("sha256", String(64), ForeignKey("objects.sha256"), nullable=False),
    Column("custody_seq", Integer, nullable=False),
)
Index("items_by_source", items.c.source_id, items.c.sent_at, items.c.sent_order, items.c.id)

derivations = Table(
    "derivations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("original_sha256", String(64), ForeignKey("objects.sha256"), nullable=False),
    Column("derived_sha256", String(64), ForeignKey("objects.sha256"), nullable=False),
    Column("method", Text, nullable=False),
    Column("custody_seq", Integer, nullable=False),
)

custody = Table(
    "custody",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("record", LargeBinary, nullable=False),  # the canonical line, exactly as signed
)

perceptual = Table(
    "perceptual",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("algorithm", String(32), nullable=False),
    Column("data", LargeBinary, nullable=False),
)


def connect(path: Path) -> Engine:
    """An engine on the catalogue at ``path`` (WAL, full fsync, foreign keys)."""
    engine = create_engine(f"sqlite:///{path}", future=True)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    return engine
