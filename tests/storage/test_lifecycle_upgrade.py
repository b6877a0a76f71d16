"""Schema 4 to 5: the lifecycles' states are stored, filled from what each row was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import inspect, select

from old_schemas import schema_4_database, upgraded
from tainik.storage import migrations, schema
from tainik.storage import newsroom_schema as ns
from tainik.storage.database import open_database

T = "2026-01-02 03:00:00"


def test_schema_4_gains_stored_states_with_its_rows_kept(tmp_path: Path) -> None:
    path = tmp_path / "v4.db"
    url = schema_4_database(path)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO sources (id, lookup, reply_recipient, designation, created_at,"
            " last_activity, starred) VALUES (7, ?, 'age1x', 'old friend', ?, ?, 0)",
            (b"x" * 32, T, T),
        )
        for sealed_id, segments in (("a" * 26, 3), ("b" * 26, 1)):
            db.execute(
                "INSERT INTO uploads (sealed_id, source_id, segments, sealed_note, created_at,"
                " updated_at) VALUES (?, 7, ?, ?, ?, ?)",
                (sealed_id, segments, b"age-encryption.org/v1\nnote", T, T),
            )
        # Every pair of the two booleans a version 4 account had.
        for user_id, name, active, must_change in (
            (1, "new", 1, 1),
            (2, "settled", 1, 0),
            (3, "left", 0, 0),
            (4, "never-came", 0, 1),
        ):
            db.execute(
                "INSERT INTO users (id, name, password_hash, totp_secret, is_admin, active,"
                " must_change_password, password_changed_at, created_at)"
                " VALUES (?, ?, 'hash', 'secret', 0, ?, ?, ?, ?)",
                (user_id, name, active, must_change, T, T),
            )
        db.execute(
            "INSERT INTO staff_sessions VALUES (?, 2, ?, ?, ?)", (b"s" * 32, T, T, T)
        )  # a row that refers to an account survives the users table's change
    engine = upgraded(url)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("users")}
        assert "state" in columns
        assert not columns & {"active", "must_change_password"}
        with engine.begin() as db:
            uploads = db.execute(
                select(
                    schema.uploads.c.sealed_id, schema.uploads.c.segments, schema.uploads.c.state
                ).order_by(schema.uploads.c.sealed_id)
            ).all()
            users = db.execute(
                select(ns.users.c.name, ns.users.c.state, ns.users.c.password_hash).order_by(
                    ns.users.c.id
                )
            ).all()
            sessions = db.execute(select(ns.staff_sessions.c.user_id)).scalars().all()
            version = db.execute(select(schema.meta.c.value)).scalar_one()
            revision = migrations.HISTORY.current(db)
        assert [tuple(row) for row in uploads] == [
            ("a" * 26, 3, "receiving"),
            ("b" * 26, 1, "receiving"),
        ]
        assert [tuple(row) for row in users] == [
            ("new", "pending", "hash"),
            ("settled", "active", "hash"),
            ("left", "deactivated", "hash"),
            ("never-came", "deactivated_pending", "hash"),
        ]
        assert sessions == [2]
        assert (version, revision) == ("6", migrations.HISTORY.head)
    finally:
        engine.dispose()
    # Opening it again changes nothing.
    open_database(url).dispose()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT state FROM users ORDER BY id").fetchall() == [
            ("pending",), ("active",), ("deactivated",), ("deactivated_pending",)
        ]  # fmt: skip


def test_a_new_database_and_an_upgraded_one_have_the_same_columns(tmp_path: Path) -> None:
    """The upgrade leaves the tables as the baseline revision makes them."""
    fresh = open_database(f"sqlite:///{tmp_path / 'new.db'}")
    moved = upgraded(schema_4_database(tmp_path / "old.db"))
    try:
        for table in ("uploads", "users"):
            made = {
                (c["name"], str(c["type"]), c["nullable"])
                for c in inspect(fresh).get_columns(table)
            }
            kept = {
                (c["name"], str(c["type"]), c["nullable"])
                for c in inspect(moved).get_columns(table)
            }
            assert made == kept, table
    finally:
        fresh.dispose()
        moved.dispose()
