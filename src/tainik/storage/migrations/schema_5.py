"""The server's schema at version 5, frozen: the Alembic baseline (revision ``0001``).

A copy, on purpose, of the tables of ``storage/schema.py`` and ``storage/newsroom_schema.py``
as they were when Alembic took over (without comments). The baseline revision creates these
for a new database, and the steps of :mod:`.legacy` complete an older one to them. The live
models move on through revisions; this file never changes.
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
    false,
)

from tainik.storage.coarse import DAY, HOUR, MINUTE, CoarseTime

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
    Column("created_at", CoarseTime(DAY), nullable=False),
    Column("last_activity", CoarseTime(HOUR), nullable=False),
    Column("starred", Boolean, nullable=False, default=False),
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("sealed_id", String(26), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("ciphertext_bytes", Integer, nullable=False),
    Column("created_at", CoarseTime(HOUR), nullable=False),
)
Index("submissions_by_source", submissions.c.source_id, submissions.c.id)

replies = Table(
    "replies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("sealed_id", String(26), nullable=False, unique=True),
    Column("created_at", CoarseTime(HOUR), nullable=False),
    Column("seen_by_source", Boolean, nullable=False, default=False, server_default=false()),
)
Index("replies_by_source", replies.c.source_id, replies.c.id)

source_sessions = Table(
    "source_sessions",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("sealed_reply_identity", LargeBinary, nullable=False),
    Column("last_seen", CoarseTime(MINUTE), nullable=False),
)

uploads = Table(
    "uploads",
    metadata,
    Column("sealed_id", String(26), primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("segments", Integer, nullable=False),
    Column("sealed_note", LargeBinary, nullable=False),
    Column("state", String(12), nullable=False, server_default="receiving"),
    Column("created_at", CoarseTime(HOUR), nullable=False),
    Column("updated_at", CoarseTime(MINUTE), nullable=False),
)
Index("uploads_by_source", uploads.c.source_id)
Index("uploads_by_age", uploads.c.updated_at)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("totp_secret", String(64), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("state", String(20), nullable=False, server_default="pending"),
    Column("password_changed_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True), nullable=True),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
Index("staff_sessions_by_user", staff_sessions.c.user_id)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("scope", String(8), nullable=False, server_default="read"),
)
Index("api_tokens_by_user", api_tokens.c.user_id)

totp_used = Table(
    "totp_used",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("used_at", DateTime(timezone=True), nullable=False),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
Index("login_failures_by_account", login_failures.c.account, login_failures.c.at)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor_id", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("actor", String(64), nullable=False),
    Column("action", String(40), nullable=False),
    Column("object_kind", String(20), nullable=True),
    Column("object_ref", String(64), nullable=True),
    Column("detail", String(500), nullable=True),
)

read_marks = Table(
    "read_marks",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("sealed_id", String(26), primary_key=True),
    Column("read_at", DateTime(timezone=True), nullable=False),
)

reply_authors = Table(
    "reply_authors",
    metadata,
    Column(
        "sealed_id",
        String(26),
        ForeignKey("replies.sealed_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
)

NEWSROOM_INDEXES = (
    Index("sources_by_activity", sources.c.last_activity, sources.c.id),
    Index("sources_starred_by_activity", sources.c.starred, sources.c.last_activity, sources.c.id),
    Index("submissions_by_time", submissions.c.created_at, submissions.c.id),
    Index("replies_by_time", replies.c.created_at, replies.c.id),
    Index("submissions_sealed_by_source", submissions.c.source_id, submissions.c.sealed_id),
    Index("replies_sealed_by_source", replies.c.source_id, replies.c.sealed_id),
)
