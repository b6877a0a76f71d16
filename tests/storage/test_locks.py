"""Check-then-write on PostgreSQL sees its concurrent peers, as SQLite's one writer made it.

PostgreSQL runs transactions side by side (READ COMMITTED): a login attempt that records
itself and then counts the attempts before it would not see one committing at the same time.
Without the named lock (storage/locks.py) a burst of attempts at once all counted too few and
all got their password checked; with it, only the first :data:`FAILURES_BEFORE_GUARD` do.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backends import use_backend
from tainik import crypto
from tainik.config import init_instance, load_config
from tainik.crypto import FAST_TEST_PARAMS
from tainik.service.instance import Instance
from tainik.service.newsroom import auth
from tainik.service.newsroom.errors import StaffThrottledError
from tainik.storage import locks
from tainik.storage import newsroom_schema as ns

BURST = 12


@pytest.fixture(params=["sqlite", "pg"])
def instance(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Instance]:
    org = crypto.Identity.generate()
    config = init_instance(tmp_path / "instance", [org.recipient], kdf=FAST_TEST_PARAMS)
    use_backend(config.data_dir, request.param)
    opened = Instance.open(load_config(config.data_dir))
    yield opened
    opened.close()


def _burst(instance: Instance, name: str) -> tuple[int, int]:
    """``BURST`` attempts for ``name`` at once: how many were checked, and refused."""
    start = threading.Barrier(BURST)
    checked: list[int] = []
    refused: list[int] = []
    failures: list[BaseException] = []

    def attempt() -> None:
        start.wait()
        try:
            auth._begin_login(instance, name, "000000")
        except StaffThrottledError:
            refused.append(1)
        except BaseException as exc:
            failures.append(exc)
        else:
            checked.append(1)

    threads = [threading.Thread(target=attempt) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    return len(checked), len(refused)


def test_a_burst_of_login_attempts_gets_no_more_password_checks_than_the_guard_allows(
    instance: Instance,
) -> None:
    _burst(instance, "warm up")  # every connection of the pool open: the burst is at once
    for name in ("someone", "someone else", "a third"):
        checked, refused = _burst(instance, name)
        assert (checked, refused) == (
            auth.FAILURES_BEFORE_GUARD,
            BURST - auth.FAILURES_BEFORE_GUARD,
        ), name
    with instance.engine.begin() as db:
        kept = db.execute(select(func.count()).select_from(ns.login_failures)).scalar_one()
    assert kept == 4 * auth.FAILURES_BEFORE_GUARD  # a refused attempt leaves no trace


def test_lock_names_are_stable_64_bit_numbers() -> None:
    assert locks.lock_id("login attempts", "abc") == locks.lock_id("login attempts", "abc")
    assert locks.lock_id("login attempts", "abc") != locks.lock_id("upload quota", "abc")
    assert -(2**63) <= locks.lock_id("x", 1) < 2**63
