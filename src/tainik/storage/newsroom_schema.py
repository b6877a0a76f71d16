"""Tables of the newsroom: staff accounts, their sessions and tokens, read marks, the audit log.

Defined on :data:`tainik.storage.schema.metadata`, beside the source interface's tables; the
revisions (storage/migrations) make them. Nothing here identifies a source: staff see a source
only by its random designation, and the audit log names submissions and replies by their random
sealed-file id and sources by their row number.

Also here: the indexes the newsroom's listings need on the source interface's tables (sources by
last activity, submissions and replies by time). Databases get them, like every table, from the
revisions (storage/migrations).
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
    String,
    Table,
    Text,
)

from tainik.storage.schema import metadata, replies, sources, submissions

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    # Argon2id (argon2-cffi's PHC string, parameters included).
    Column("password_hash", Text, nullable=False),
    # The TOTP shared secret (RFC 6238, base32). Useless without the password.
    Column("totp_secret", String(64), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    # Where the account stands (core/staff_account.py, AccountState; moved only by its table):
    # "pending" (a one-time password, to be replaced at the next login), "active",
    # "deactivated", or "deactivated_pending" (deactivated while pending).
    Column("state", String(20), nullable=False, server_default="pending"),
    Column("password_changed_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True), nullable=True),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    # SHA-256 of the session token; the token itself lives only in the staff member's cookie.
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
    # SHA-256 of the bearer token; the token is shown once, to the workstation that asked.
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # What the token may do: "read" (list, download) or "full" (also reply, delete).
    Column("scope", String(8), nullable=False, server_default="read"),
)
Index("api_tokens_by_user", api_tokens.c.user_id)

# TOTP time steps already accepted per account: a code is good once (RFC 6238 section 5.2).
totp_used = Table(
    "totp_used",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("used_at", DateTime(timezone=True), nullable=False),
)

# Failed logins by account name (known or not, so that throttling reveals no account).
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

# What each staff member has read, by sealed-file id (random, never reused, unlike row ids).
read_marks = Table(
    "read_marks",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("sealed_id", String(26), primary_key=True),
    Column("read_at", DateTime(timezone=True), nullable=False),
)

# Who wrote a reply (the replies table belongs to the source interface).
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

# Listings: the inbox by last activity (all, or starred only), changes since a time, and the
# unread counts of a source (covering: the sealed ids of its items without reading the rows).
NEWSROOM_INDEXES = (
    Index("sources_by_activity", sources.c.last_activity, sources.c.id),
    Index("sources_starred_by_activity", sources.c.starred, sources.c.last_activity, sources.c.id),
    Index("submissions_by_time", submissions.c.created_at, submissions.c.id),
    Index("replies_by_time", replies.c.created_at, replies.c.id),
    Index("submissions_sealed_by_source", submissions.c.source_id, submissions.c.sealed_id),
    Index("replies_sealed_by_source", replies.c.source_id, replies.c.sealed_id),
)
