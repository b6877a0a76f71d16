"""The server database's migrations: an instance made by the last release before Alembic, with
data, upgrades with every row kept and serves its data unchanged; a database newer than the code
is refused; the models and the revisions agree.

One test per revision below the ``# revision NNNN`` comments: each upgrades a database filled
with data as the revision before left it, and checks that data.
"""

from __future__ import annotations

import gettext
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import text

from live_server import LiveServer, tainik_cli
from source_client import SourceClient, open_sealed
from tainik.cli import main as cli_main
from tainik.cli.context import Context
from tainik.storage import migrations, schema
from tainik.storage.database import open_database

# Made by tests/storage/make_main_instance.py with main at c451245 (schema version 5).
MAIN = Path(__file__).parent / "fixtures" / "main-2026-12-06"
HEAD = migrations.HISTORY.head
KEEP = ("meta", "alembic_version")  # bookkeeping: checked apart


def copy_main(tmp_path: Path) -> Path:
    """A copy of the fixture instance (the original stays as it was made)."""
    data = tmp_path / "instance"
    shutil.copytree(MAIN / "instance", data)
    (data / "uploads").mkdir(exist_ok=True)  # empty folders are not in git
    os.chmod(data, 0o700)
    return data


def every_row(
    path: Path, like: dict[str, list[str]] | None = None
) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the bookkeeping ones, as SQLite stores it; only the
    columns of ``like`` (:func:`columns` of an older database), when given, so that a later
    revision's new columns leave the comparison alone."""
    found = like or columns(path)
    with sqlite3.connect(path) as db:
        return {
            table: sorted(db.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall())
            for table, names in found.items()
        }


def columns(path: Path) -> dict[str, list[str]]:
    """The columns of each table but the bookkeeping ones."""
    with sqlite3.connect(path) as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name not in KEEP
        ]
        return {t: [row[1] for row in db.execute(f"PRAGMA table_info({t})")] for t in tables}


def recorded(path: Path) -> tuple[str, str | None]:
    """``(meta.schema_version, Alembic's revision or None)``."""
    with sqlite3.connect(path) as db:
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        has = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone()
        revision = db.execute("SELECT version_num FROM alembic_version").fetchone() if has else None
    return version, revision[0] if revision else None


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """``tainik ARGS`` in this process (English), as a finished process would report it."""
    out, err = io.StringIO(), io.StringIO()
    code = cli_main.run(list(args), Context(gettext.NullTranslations(), stdout=out, stderr=err))
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    """``tainik ARGS`` as its own process."""
    return subprocess.run(tainik_cli(*args), capture_output=True, text=True, check=False)


# -- revision 0001 (the baseline): from schema version 5, the last release before Alembic ------


def test_an_instance_of_main_migrates_with_every_row_kept_and_a_copy(tmp_path: Path) -> None:
    data = copy_main(tmp_path)
    before = every_row(data / "tainik.db")
    assert sum(map(len, before.values())) > 30
    filled = (
        "sources", "users", "submissions", "replies", "source_sessions", "api_tokens",
        "staff_sessions", "totp_used", "audit_log", "read_marks", "reply_authors",
    )  # fmt: skip
    assert all(before[table] for table in filled)
    assert recorded(data / "tainik.db") == ("5", None)
    # Refused before the upgrade, saying what to do.
    refused = run("users", "list", "--data", str(data))
    assert refused.returncode == 5, refused.stderr
    assert "schema version 5" in refused.stderr
    assert "tainik migrate" in refused.stderr

    old = columns(data / "tainik.db")
    done = run("migrate", "--data", str(data))
    assert done.returncode == 0, done.stderr
    copies = list((data / "backups").iterdir())
    assert [p.suffix for p in copies] == [".sqlite"]
    assert f"Copied to {copies[0]}" in done.stderr
    assert "schema version 5." in done.stderr
    assert f"Upgraded to revision {HEAD}" in done.stderr
    assert every_row(data / "tainik.db", old) == before
    assert recorded(data / "tainik.db") == ("6", HEAD)
    # The copy is the database as it was: rows and version.
    assert every_row(copies[0]) == before
    assert recorded(copies[0]) == ("5", None)
    assert copies[0].stat().st_mode & 0o777 == 0o600

    again = run("migrate", "--data", str(data))
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stderr
    assert len(list((data / "backups").iterdir())) == 1
    listed = run("users", "list", "--data", str(data))
    assert listed.returncode == 0, listed.stderr
    assert {"ada", "jo", "pending-pat"} <= set(listed.stdout.split())


def test_revision_0001_records_schema_5_as_it_is(tmp_path: Path) -> None:
    """Exactly revision 0001 (the next revisions' tests start where this one ends)."""
    path = copy_main(tmp_path) / "tainik.db"
    before = every_row(path)
    done = migrations.upgrade(f"sqlite:///{path}", backups=None, now=datetime.now(UTC), to="0001")
    assert done.steps == [("0001", "recorded as the baseline revision (schema 5)")]
    assert every_row(path) == before  # every column of every row
    assert recorded(path) == ("6", "0001")


# -- revision 0002: new sources' cookie keys and logouts, shared by every server process ------


def test_revision_0002_keeps_every_row_and_adds_the_cookie_tables_empty(tmp_path: Path) -> None:
    path = copy_main(tmp_path) / "tainik.db"
    url = f"sqlite:///{path}"
    migrations.upgrade(url, backups=None, now=datetime.now(UTC), to="0001")
    before, old = every_row(path), columns(path)
    done = migrations.upgrade(url, backups=None, now=datetime.now(UTC), to="0002")
    assert [what for what, _doc in done.steps] == ["0002"]
    assert every_row(path, old) == before
    added = {"cookie_keys": ["epoch", "key"], "revoked_cookies": ["cookie_id", "epoch"]}
    assert {table: columns(path)[table] for table in added} == added
    assert every_row(path, added) == {"cookie_keys": [], "revoked_cookies": []}
    with sqlite3.connect(path) as db:
        index = "SELECT 1 FROM sqlite_master WHERE name = 'revoked_cookies_by_epoch'"
        assert db.execute(index).fetchone() == (1,)
    assert recorded(path) == ("6", "0002")


@pytest.mark.slow
def test_an_instance_of_main_served_after_serve_upgrades_it_gives_its_data_unchanged(
    tmp_path: Path,
) -> None:
    data = copy_main(tmp_path)
    known = json.loads((MAIN / "known.json").read_text(encoding="utf-8"))
    with LiveServer(data, tmp_path) as server:
        assert f"Upgraded to revision {HEAD}" in server.stderr_text()
        # Staff: a new token from the stored password and TOTP secret; every submission.
        jo = known["staff"]["jo"]
        issued = httpx.post(
            f"{server.newsroom_url}/api/v1/tokens",
            json={"name": "jo", "password": jo["password"],
                  "code": pyotp.TOTP(jo["totp_secret"]).now()},
        )  # fmt: skip
        assert issued.status_code == 201, issued.text
        headers = {"Authorization": f"Bearer {issued.json()['token']}"}
        items = httpx.get(f"{server.newsroom_url}/api/v1/submissions", headers=headers).json()
        assert [(i["source_id"], i["kind"]) for i in items["items"]] == [
            (1, "message"), (1, "file"), (2, "message"), (2, "file")
        ]  # fmt: skip
        containers = []
        for number, item in enumerate(items["items"]):
            got = httpx.get(f"{server.newsroom_url}{item['download']}", headers=headers)
            assert got.status_code == 200
            containers.append(tmp_path / f"{number}.tar")
            containers[-1].write_bytes(got.content)
        opened = open_sealed(containers, MAIN / "org.key", tmp_path / "opened")
        digests = sorted(hashlib.sha256(content).hexdigest() for content in opened.values())
        sent = [s["file_sha256"] for s in known["sources"]] + [
            hashlib.sha256(s["message"].encode()).hexdigest() for s in known["sources"]
        ]
        assert digests == sorted(sent)
        starred = httpx.get(f"{server.newsroom_url}/api/v1/sources/2", headers=headers).json()
        assert starred["starred"] is True
        # The source: its codename still opens its page, with the newsroom's reply.
        first = known["sources"][0]
        with SourceClient(server.source_url) as source:
            assert source.login(first["codename"]).status_code == 303
            page = source.lookup()
            assert page.status_code == 200
            assert first["reply"] in page.text


# -- every revision -----------------------------------------------------------------------------


def test_the_models_and_the_revisions_agree(tmp_path: Path) -> None:
    """What autogenerate would write is nothing: a column added to the models without a
    revision fails here (for a new database and for one upgraded from schema version 5)."""
    fresh = open_database(f"sqlite:///{tmp_path / 'new.db'}")
    data = copy_main(tmp_path)
    assert run("migrate", "--data", str(data)).returncode == 0
    upgraded = open_database(f"sqlite:///{data / 'tainik.db'}")
    try:
        for engine in (fresh, upgraded):
            with engine.connect() as db:
                assert migrations.HISTORY.differences(db, schema.metadata) == []
    finally:
        fresh.dispose()
        upgraded.dispose()


def test_a_column_without_a_revision_is_a_difference(tmp_path: Path) -> None:
    """The check above can fail: a model with one more column than the revisions make."""
    from sqlalchemy import Column, Integer, MetaData

    engine = open_database(f"sqlite:///{tmp_path / 'new.db'}")
    grown = MetaData()
    for table in schema.metadata.sorted_tables:
        table.to_metadata(grown)
    grown.tables["sources"].append_column(Column("new_count", Integer, nullable=True))
    try:
        with engine.connect() as db:
            found = migrations.HISTORY.differences(db, grown)
        assert [(d[0], d[2], d[3].name) for d in found] == [("add_column", "sources", "new_count")]
    finally:
        engine.dispose()


def test_a_database_newer_than_this_code_is_refused_by_every_way_in(tmp_path: Path) -> None:
    data = copy_main(tmp_path)
    assert run("migrate", "--data", str(data)).returncode == 0
    with sqlite3.connect(data / "tainik.db") as db:  # as a later release would leave it
        db.execute("UPDATE alembic_version SET version_num = '0099_later'")
    before = every_row(data / "tainik.db")
    serve = ("serve", "--data", str(data), "--source-port", "0", "--newsroom-port", "0")
    for refused in (run("migrate", "--data", str(data)), run("users", "list", "--data", str(data)),
                    run_process(*serve)):  # fmt: skip
        assert refused.returncode == 5, refused
        assert "revision 0099_later" in refused.stderr, refused
        assert f"goes up to revision {HEAD}" in refused.stderr
        assert "Run the newer Tainik" in refused.stderr
    assert every_row(data / "tainik.db") == before
    assert len(list((data / "backups").iterdir())) == 1  # the first migrate's, no other


def test_a_failed_upgrade_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    """One transaction: a step that fails (here a row the schema 4 to 5 step cannot keep)
    undoes the steps before it, and the database stays at its old version."""
    data = copy_main(tmp_path)
    with sqlite3.connect(data / "tainik.db") as db:  # schema 4 with a NULL the step refuses
        db.execute("ALTER TABLE users ADD COLUMN active BOOLEAN")
        db.execute("ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT 0")
        db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
        db.execute("ALTER TABLE replies DROP COLUMN seen_by_source")
        db.execute("CREATE TRIGGER no_state BEFORE UPDATE OF state ON users "
                   "BEGIN SELECT RAISE(ABORT, 'refused by a test'); END")  # fmt: skip
    before = every_row(data / "tainik.db")
    failed = run("migrate", "--data", str(data))
    assert failed.returncode == 5
    assert "The upgrade failed and was undone" in failed.stderr
    assert "refused by a test" in failed.stderr
    assert every_row(data / "tainik.db") == before
    assert recorded(data / "tainik.db") == ("3", None)
    with sqlite3.connect(data / "tainik.db") as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(replies)")]
    assert "seen_by_source" not in columns  # the step 3 to 4 was undone too


def test_a_new_database_is_created_at_the_newest_revision(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        with engine.connect() as db:
            assert migrations.HISTORY.current(db) == migrations.HISTORY.head
            version = db.execute(text("SELECT value FROM meta")).scalar_one()
        assert version == "6"  # releases before Alembic refuse it ("expects 5")
    finally:
        engine.dispose()
