"""The newsroom's tables and indexes appear in a database made before them, data kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, inspect, select, text

from old_schemas import schema_4_database, schema_5_database, upgraded
from tainik.storage import migrations, schema
from tainik.storage import newsroom_schema as ns
from tainik.storage.database import open_database

NEWSROOM_TABLES = {
    "users", "staff_sessions", "api_tokens", "totp_used", "login_failures", "audit_log",
    "read_marks", "reply_authors",
}  # fmt: skip


def test_an_older_database_gains_the_newsroom(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    schema_5_database(url)
    engine = open_database(url, upgrading=True)
    now = datetime.now(UTC)
    with engine.begin() as db:
        db.execute(
            insert(schema.sources).values(
                lookup=b"x" * 32, reply_recipient="age1x", designation="old friend",
                created_at=now, last_activity=now, starred=False,
            )
        )  # fmt: skip
        # What a database of the source-interface release looked like: no newsroom at all,
        # and no revision (its meta.schema_version, 6 now, was then 2).
        db.execute(text("DROP TABLE alembic_version"))
        db.execute(text("UPDATE meta SET value = '2' WHERE key = 'schema_version'"))
        for table in sorted(NEWSROOM_TABLES):
            db.execute(text(f"DROP TABLE {table}"))
        for index in ns.NEWSROOM_INDEXES:
            db.execute(text(f"DROP INDEX {index.name}"))
    engine.dispose()
    engine = upgraded(url)
    found = inspect(engine)
    assert set(found.get_table_names()) >= NEWSROOM_TABLES
    indexes = {i["name"] for table in ("sources", "submissions", "replies")
               for i in found.get_indexes(table)}  # fmt: skip
    assert {str(index.name) for index in ns.NEWSROOM_INDEXES} <= indexes
    with engine.begin() as db:
        assert db.execute(select(schema.sources.c.designation)).scalar_one() == "old friend"
    engine.dispose()


def test_tokens_of_schema_2_become_read_only(tmp_path: Path) -> None:
    """Schema 2 had no token scopes: opening it adds the column, and a token issued before
    may only read."""
    import sqlite3

    url = schema_4_database(tmp_path / "old.db")  # its users table, as schema 2 had it
    now = datetime.now(UTC).isoformat(sep=" ")
    with sqlite3.connect(tmp_path / "old.db") as db:  # as schema 2 made the table
        db.execute("DROP TABLE api_tokens")
        db.execute(
            "CREATE TABLE api_tokens (token_hash BLOB PRIMARY KEY, user_id INTEGER NOT NULL"
            " REFERENCES users (id) ON DELETE CASCADE, created_at DATETIME NOT NULL,"
            " expires_at DATETIME NOT NULL)"
        )
        db.execute(
            "INSERT INTO users (id, name, password_hash, totp_secret, is_admin, active,"
            " must_change_password, password_changed_at, created_at)"
            " VALUES (1, 'jo', 'x', 'y', 0, 1, 0, ?, ?)",
            (now, now),
        )
        db.execute("INSERT INTO api_tokens VALUES (?, 1, ?, ?)", (b"h" * 32, now, now))
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    engine = upgraded(url)
    with engine.begin() as db:
        assert db.execute(select(ns.api_tokens.c.scope)).scalar_one() == "read"
        version = db.execute(select(schema.meta.c.value)).scalar_one()
        assert (version, migrations.HISTORY.current(db)) == ("6", migrations.HISTORY.head)
    engine.dispose()
