"""Database tables. No source identifier is stored: no address, agent, or codename.

A source is known only by the Argon2id lookup value of its codename and the public recipient
its replies are sealed to; the newsroom names it by a random designation.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = 1
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
    Column("lookup", LargeBinary(32), nullable=False, unique=True),
    Column("reply_recipient", Text, nullable=False),
    Column("designation", String(120), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_activity", DateTime(timezone=True), nullable=False),
    Column("starred", Boolean, nullable=False, default=False),
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("sealed_id", String(26), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # "message" or "file"
    Column("ciphertext_bytes", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("submissions_by_source", submissions.c.source_id, submissions.c.id)

replies = Table(
    "replies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("sealed_id", String(26), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("replies_by_source", replies.c.source_id, replies.c.id)

source_sessions = Table(
    "source_sessions",
    metadata,
    # SHA-256 of the session token: the token itself lives only in the source's cookie.
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    # The source's reply identity, age-encrypted to a key that lives only in the cookie.
    Column("sealed_reply_identity", LargeBinary, nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
)

uploads = Table(
    "uploads",
    metadata,
    # The sealed-file id the client chose; the upload's folder and, once complete, its blob.
    Column("sealed_id", String(26), primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("segments", Integer, nullable=False),
    # The client's resume note, age-encrypted to the source's reply recipient only.
    Column("sealed_note", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("uploads_by_source", uploads.c.source_id)
Index("uploads_by_age", uploads.c.updated_at)
