"""What a seized disk tells of *when*: source times kept coarse, blob files with a fixed time."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tainik import crypto
from tainik.service import sources
from tainik.service.instance import Instance
from tainik.storage.blobs import BlobStore
from tainik.storage.uploads import UploadStore

from .conftest import csrf
from .test_uploads_api import S, Upload, finish, put, start

# A moment with every field set, so that any precision kept shows.
MOMENT = datetime(2026, 5, 1, 13, 47, 29, 123456, tzinfo=UTC)
DAY, HOUR, MINUTE = "2026-05-01 00:00:00", "2026-05-01 13:00:00", "2026-05-01 13:47:00"
EXPECTED = {
    ("sources", "created_at"): DAY,
    ("sources", "last_activity"): HOUR,
    ("submissions", "created_at"): HOUR,
    ("replies", "created_at"): HOUR,
    ("source_sessions", "last_seen"): MINUTE,
    ("uploads", "created_at"): HOUR,
    ("uploads", "updated_at"): MINUTE,
}


@pytest.mark.embedded
def test_source_times_are_coarse_and_blob_files_timeless(
    client: TestClient, instance: Instance, org: crypto.Identity
) -> None:
    instance.clock = lambda: MOMENT
    source = client
    assert source.post("/generate", data={"csrf": csrf(source)}).status_code == 200
    response = source.post(
        "/submit",
        data={"csrf": csrf(source), "message": "a message"},
        files=[("files", ("a.bin", os.urandom(5000), "application/octet-stream"))],
        follow_redirects=False,
    )
    assert response.status_code == 303
    done = Upload(os.urandom(S + 10), org)
    start(source, done)
    assert put(source, done, 0) == 200
    assert put(source, done, 1) == 200
    assert finish(source, done) == 200
    unfinished = Upload(os.urandom(S + 10), org, name="later.mp4")
    start(source, unfinished)
    assert put(source, unfinished, 0) == 200
    sources.add_reply(instance, 1, "a reply")

    database = instance.config.data_dir / "tainik.db"
    with sqlite3.connect(database) as db:
        for (table, column), expected in EXPECTED.items():
            values = [row[0] for row in db.execute(f"SELECT {column} FROM {table}")]
            assert values, (table, column)
            for value in values:
                assert datetime.fromisoformat(value) == datetime.fromisoformat(expected), (
                    table,
                    column,
                    value,
                )
    for path in database.parent.glob("tainik.db*"):
        data = path.read_bytes()
        assert b"13:47:29" not in data, path
        assert b".123456" not in data, path

    assert isinstance(instance.blobs, BlobStore)
    assert isinstance(instance.uploads, UploadStore)
    stores = [instance.blobs.root, instance.uploads.root]
    paths: list[Path] = [*stores]
    for store in stores:
        paths += store.rglob("*")
    assert len(paths) > 8
    for path in paths:
        assert path.stat().st_mtime_ns == 0, path


def test_an_older_database_has_its_times_coarsened(tmp_path: Path) -> None:
    """Schema 1 kept times to the microsecond: opening it rounds them down, data kept."""
    from sqlalchemy import select

    from old_schemas import schema_5_database, upgraded
    from tainik.storage import migrations, schema

    url = f"sqlite:///{tmp_path / 'old.db'}"
    schema_5_database(url)
    precise = MOMENT.strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(tmp_path / "old.db") as db:  # as schema 1 wrote it
        db.execute("DROP TABLE alembic_version")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
        db.execute(
            "INSERT INTO sources (id, lookup, reply_recipient, designation, created_at,"
            " last_activity, starred) VALUES (7, ?, 'age1x', 'old friend', ?, ?, 0)",
            (b"x" * 32, precise, precise),
        )
        db.execute(
            "INSERT INTO source_sessions VALUES (?, 7, ?, ?)", (b"t" * 32, b"sealed", precise)
        )
    engine = upgraded(url)
    with engine.begin() as db:
        row = db.execute(select(schema.sources)).one()
        assert row.designation == "old friend"
        assert row.created_at == datetime.fromisoformat(DAY)
        assert row.last_activity == datetime.fromisoformat(HOUR)
        seen = db.execute(select(schema.source_sessions.c.last_seen)).scalar_one()
        assert seen == datetime.fromisoformat(MINUTE)
        version = db.execute(select(schema.meta.c.value)).scalar_one()
        assert (version, migrations.HISTORY.current(db)) == ("6", migrations.HISTORY.head)
    engine.dispose()
