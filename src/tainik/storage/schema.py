"""Database tables. No source identifier is stored: no address, agent, or codename.

A source is known only by the Argon2id lookup value of its codename and the public recipient
its replies are sealed to; the newsroom names it by a random designation.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
)

from tainik.storage.coarse import DAY, HOUR, MINUTE, CoarseTime

# A change here needs an Alembic revision in storage/migrations/versions (CONTRIBUTING.md);
# tests/storage/test_migrations.py fails until the revisions make what these tables say.
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
    # By the day: staff need to know roughly when a source first came, not the minute.
    Column("created_at", CoarseTime(DAY), nullable=False),
    # By the hour: the inbox lists sources by it (ties: by id, newest first).
    Column("last_activity", CoarseTime(HOUR), nullable=False),
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
    # By the hour; the id gives the order within it.
    Column("created_at", CoarseTime(HOUR), nullable=False),
)
Index("submissions_by_source", submissions.c.source_id, submissions.c.id)

replies = Table(
    "replies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("sealed_id", String(26), nullable=False, unique=True),
    # By the hour; the id gives the order within it.
    Column("created_at", CoarseTime(HOUR), nullable=False),
    # Whether the source's page has shown it: until then the page announces a new reply. One
    # bit, no time: a seized database learns that the source came back after it, not when.
    Column("seen_by_source", Boolean, nullable=False, default=False, server_default=false()),
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
    # By the minute: the inactivity limit needs it, and the row ends with the session.
    Column("last_seen", CoarseTime(MINUTE), nullable=False),
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
    # Where the upload stands: "receiving" or "committing" (core/upload.py, UploadState; moved
    # only by its table). Completed, abandoned and expired uploads have no row.
    Column("state", String(12), nullable=False, server_default="receiving"),
    # Rows of unfinished uploads only (deleted when the upload completes or expires).
    Column("created_at", CoarseTime(HOUR), nullable=False),
    # By the minute: expiry counts hours, and writes of it are a minute apart at most.
    Column("updated_at", CoarseTime(MINUTE), nullable=False),
)
Index("uploads_by_source", uploads.c.source_id)
Index("uploads_by_age", uploads.c.updated_at)

# The keys that seal new sources' cookies (service/new_source.py), shared by every server
# process of the instance: one random key per epoch (an epoch is one session lifetime long),
# deleted once every cookie it sealed has expired, two epochs on. A key names no source and no
# visitor; the row says only that somebody asked for a codename within that epoch.
cookie_keys = Table(
    "cookie_keys",
    metadata,
    Column("epoch", Integer, primary_key=True, autoincrement=False),
    Column("key", LargeBinary(32), nullable=False),
)

# New sources' cookies refused since their logout, by the random id the cookie carries (never
# the codename), until the epoch after the one they were issued in has passed.
revoked_cookies = Table(
    "revoked_cookies",
    metadata,
    Column("cookie_id", LargeBinary(16), primary_key=True),
    Column("epoch", Integer, nullable=False),
)
Index("revoked_cookies_by_epoch", revoked_cookies.c.epoch)
