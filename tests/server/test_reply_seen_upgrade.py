"""Schema 2 to 3: replies gain ``seen_by_source``; the replies already there are kept and will
be announced to their source once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import inspect, select

from old_schemas import schema_5_database, upgraded
from tainik.storage import migrations, schema


def test_a_schema_2_database_gains_seen_by_source_with_its_replies_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    schema_5_database(f"sqlite:///{path}")
    with sqlite3.connect(path) as db:  # as schema 2 left it: no such column, two replies
        db.execute("DROP TABLE alembic_version")  # made before Alembic kept the history
        db.execute("ALTER TABLE replies DROP COLUMN seen_by_source")
        db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
        db.execute(
            "INSERT INTO sources (id, lookup, reply_recipient, designation, created_at,"
            " last_activity, starred) VALUES (7, ?, 'age1x', 'old friend', ?, ?, 0)",
            (b"x" * 32, "2026-01-02 00:00:00", "2026-01-02 03:00:00"),
        )
        for reply_id, sealed_id in ((1, "a" * 26), (2, "b" * 26)):
            db.execute(
                "INSERT INTO replies (id, source_id, sealed_id, created_at) VALUES (?, 7, ?, ?)",
                (reply_id, sealed_id, "2026-01-02 03:00:00"),
            )
    engine = upgraded(f"sqlite:///{path}")
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("replies")}
        assert "seen_by_source" in columns
        with engine.begin() as db:
            rows = db.execute(
                select(
                    schema.replies.c.id, schema.replies.c.sealed_id, schema.replies.c.seen_by_source
                ).order_by(schema.replies.c.id)
            ).all()
            version = db.execute(select(schema.meta.c.value)).scalar_one()
            revision = migrations.HISTORY.current(db)
        assert [tuple(row) for row in rows] == [(1, "a" * 26, False), (2, "b" * 26, False)]
        assert (version, revision) == ("6", migrations.HISTORY.head)
    finally:
        engine.dispose()
    # Opening it again changes nothing.
    schema_5_database(f"sqlite:///{path}")
