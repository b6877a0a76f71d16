"""The test services themselves (tests/backends.py): a real PostgreSQL and a real SeaweedFS
on loopback, a fresh database and bucket per test, passwords kept out of what is printed."""

from __future__ import annotations

from pathlib import Path

import obstore
import pytest
import sqlalchemy as sa

from backends import PostgresCluster, SeaweedS3, free_port
from conftest import run_cli
from tainik import crypto
from tainik.config import init_instance, set_key, shown_url

pytestmark = pytest.mark.pg


def test_each_test_gets_an_empty_database(postgres: PostgresCluster, pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    try:
        with engine.begin() as db:
            assert db.execute(sa.text("SELECT current_user")).scalar() == "tainik"
            tables = db.execute(
                sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar()
            assert tables == 0
            db.execute(sa.text("CREATE TABLE here (x int)"))
        assert postgres.password not in repr(engine)
    finally:
        engine.dispose()
    other = postgres.new_database()
    assert other != pg_url
    assert postgres.password in pg_url
    assert postgres.password not in shown_url(pg_url)
    assert shown_url(pg_url).startswith("postgresql+psycopg://tainik:***@127.0.0.1:")


def test_buckets_are_apart(seaweed: SeaweedS3, s3_bucket: str) -> None:
    store = seaweed.store(s3_bucket)
    obstore.put(store, "a/b", b"ciphertext")
    assert obstore.get(store, "a/b").bytes() == b"ciphertext"
    other = seaweed.store(seaweed.new_bucket())
    assert [page for page in obstore.list(other) if page] == []


def test_a_database_that_is_not_there_is_said_plainly_without_its_password(
    tmp_path: Path, postgres: PostgresCluster
) -> None:
    """``tainik users list`` (any command that opens the instance) on a PostgreSQL that does
    not answer: a clear message naming the database, its password left out."""
    org = crypto.Identity.generate()
    config = init_instance(tmp_path / "i", [org.recipient])
    url = postgres.url("nowhere").replace(str(postgres.port), str(free_port()))
    path = config.data_dir / "tainik.toml"
    path.write_text(set_key(path.read_text(), "database", "url", url))
    result = run_cli(["users", "list", "--data", str(config.data_dir)])
    assert result.code != 0
    assert "is not reachable; is it running?" in result.stderr
    assert "tainik:***@127.0.0.1" in result.stderr
    assert postgres.password not in result.stderr + result.stdout
