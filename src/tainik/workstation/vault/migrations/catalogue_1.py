"""The vault catalogue's schema 1, frozen: the Alembic baseline (revision ``0001``).

A copy, on purpose, of the tables of ``workstation/vault/catalogue.py`` and of the triggers
that make the evidence tables append-only, as they were when Alembic took over. The baseline
revision creates them for a new vault; a vault made before it (``meta.schema`` = 1, no revision)
has exactly these and is stamped. The live models move on through revisions; this file never
changes.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

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

APPEND_ONLY = ("custody", "items", "objects", "derivations")


def triggers() -> list[str]:
    """The statements that make the evidence tables append-only."""
    statements = []
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON "
                f"{table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    return statements
