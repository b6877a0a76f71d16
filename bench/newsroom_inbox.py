"""Benchmark: the newsroom's inbox page and API listings at 1,000 vs 100,000 submissions.

Seeds two instances by inserting rows directly (fake sealed-file ids, no blobs: listings never
read them): a baseline of 1,000 submissions from 100 sources and a large one of 100,000 from
10,000 sources, each with half the submissions read by the staff member and a reply for every
tenth source. Then times, in process (Starlette's test client, SQLite in WAL mode on disk):

- ``GET /inbox`` (the first page) and ``GET /inbox?after=...`` (a later page: the 2nd, the
  baseline's last, and the 20th),
- ``GET /api/v1/sources?limit=100`` and ``GET /api/v1/submissions?since=...&limit=100``,

and prints the median of each, the large/baseline ratio (target: at most 2x) and the query
plans of the listings' statements (each must search an index, never scan a table).

Run: ``.venv/bin/python bench/newsroom_inbox.py [--runs 50]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
from sqlalchemy import event, insert, text
from starlette.testclient import TestClient

from tainik import crypto
from tainik.config import init_instance
from tainik.crypto import FAST_TEST_PARAMS, Secret
from tainik.sealed.writer import new_sealed_id
from tainik.server.app import newsroom_app
from tainik.service.instance import Instance
from tainik.service.newsroom import admin, auth
from tainik.storage import newsroom_schema as ns
from tainik.storage import schema

PASSWORD = "benchmark passphrase"
BATCH = 5_000


def seed(instance: Instance, sources: int, per_source: int, user_id: int) -> datetime:
    """Insert sources, submissions, read marks and replies; returns the middle time."""
    start = datetime.now(UTC) - timedelta(days=30)
    step = timedelta(days=30) / (sources * per_source)
    rows: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    moment = start
    with instance.engine.begin() as db:
        db.execute(
            insert(schema.sources),
            [
                {
                    "lookup": number.to_bytes(32, "big"),
                    "reply_recipient": "age1fake",
                    "designation": f"bench source-{number}",
                    "created_at": start,
                    "last_activity": start,
                    "starred": number % 50 == 0,
                }
                for number in range(sources)
            ],
        )
        for index in range(sources * per_source):
            moment += step
            sealed_id = new_sealed_id()
            source_id = index % sources + 1  # interleaved, like sources that come back
            rows.append(
                {
                    "source_id": source_id,
                    "sealed_id": sealed_id,
                    "kind": "file" if index % 3 else "message",
                    "ciphertext_bytes": 4096 + index,
                    "created_at": moment,
                }
            )
            if index % 2 == 0:
                marks.append({"user_id": user_id, "sealed_id": sealed_id, "read_at": moment})
            if len(rows) >= BATCH:
                db.execute(insert(schema.submissions), rows)
                rows.clear()
        if rows:
            db.execute(insert(schema.submissions), rows)
        for chunk in range(0, len(marks), BATCH):
            db.execute(insert(ns.read_marks), marks[chunk : chunk + BATCH])
        db.execute(
            insert(schema.replies),
            [
                {"source_id": s, "sealed_id": new_sealed_id(), "created_at": moment}
                for s in range(1, sources + 1, 10)
            ],
        )
        # Each source's last activity is its last submission, as the intake records it.
        db.execute(
            text(
                "UPDATE sources SET last_activity = (SELECT max(created_at) FROM submissions "
                "WHERE submissions.source_id = sources.id)"
            )
        )
    return start + (moment - start) / 2


class Newsroom:
    """One seeded instance, a logged-in client and an API token."""

    def __init__(
        self, folder: Path, sources: int, per_source: int, database_url: str | None = None
    ) -> None:
        org = crypto.Identity.generate()
        config = init_instance(folder, [org.recipient], kdf=FAST_TEST_PARAMS)
        if database_url is not None:  # PostgreSQL (bench/scale.py)
            config = dataclasses.replace(config, database_url=database_url)
        self.instance = Instance.open(config)
        made = admin.add_account_locally(self.instance, "bench", False)
        assert made.password is not None
        assert made.totp is not None
        totp = pyotp.TOTP(made.totp.secret.reveal())
        past = datetime.now(UTC) - timedelta(minutes=2)
        self.instance.clock = lambda: past
        cookie, staff = auth.login(self.instance, "bench", made.password, totp.at(past))
        session = auth.Credential.session(cookie.reveal())
        cookie = auth.change_password(
            self.instance, session, made.password, Secret(PASSWORD), Secret(PASSWORD)
        )
        later = past + timedelta(seconds=30)
        self.instance.clock = lambda: later
        token = auth.issue_token(self.instance, "bench", Secret(PASSWORD), totp.at(later))
        self.instance.clock = lambda: datetime.now(UTC)
        self.middle = seed(self.instance, sources, per_source, staff.id)
        self.client = TestClient(newsroom_app(self.instance), base_url="http://bench.test")
        self.client.cookies.set("tainik_staff", cookie.reveal(), domain="bench.test")
        self.headers = {"Authorization": f"Bearer {token.token.reveal()}"}
        # A later page: the last for the baseline (2 pages), the 20th for the large one.
        self.deep_cursor = self._cursor_of_page(min(20, sources // 50))

    def _cursor_of_page(self, page: int) -> str:
        url = "/inbox"
        for _ in range(page - 1):
            response = self.client.get(url, follow_redirects=False)
            assert response.status_code == 200, response.headers
            body = response.text
            found = re.search(r'href="(/inbox\?after=[^"]+)" id="next-page"', body)
            assert found, "fewer pages than expected"
            url = found.group(1)
        return url

    def requests(self) -> dict[str, Callable[[], Any]]:
        since = self.middle.isoformat()
        get = self.client.get
        return {
            "inbox page 1": lambda: get("/inbox"),
            "inbox later page": lambda: get(self.deep_cursor),
            "API sources": lambda: get("/api/v1/sources?limit=100", headers=self.headers),
            "API submissions since": lambda: get(
                "/api/v1/submissions", params={"since": since, "limit": "100"}, headers=self.headers
            ),
        }

    def close(self) -> None:
        self.client.close()
        self.instance.close()


def medians_ms(pair: tuple[Callable[[], Any], Callable[[], Any]], runs: int) -> list[float]:
    """Median times of two requests, run alternately so that load on the machine hits both."""
    times: list[list[float]] = [[], []]
    for round_number in range(runs + 3):
        for which, request in enumerate(pair):
            began = time.perf_counter()
            response = request()
            elapsed = time.perf_counter() - began
            assert response.status_code == 200, response.text[:500]
            if round_number >= 3:  # the first rounds warm the caches (pages, templates)
                times[which].append(elapsed)
    return [statistics.median(t) * 1000 for t in times]


def query_plans(newsroom: Newsroom) -> list[str]:
    """EXPLAIN QUERY PLAN of every statement the listings run."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(newsroom.instance.engine, "before_cursor_execute", capture)
    try:
        for request in newsroom.requests().values():
            request()
    finally:
        event.remove(newsroom.instance.engine, "before_cursor_execute", capture)
    plans = []
    with newsroom.instance.engine.connect() as db:
        raw = db.connection.driver_connection
        assert raw is not None
        for statement, parameters in statements:
            rows = raw.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            plans.append("\n".join(str(row[-1]) for row in rows))
    return plans


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tainik-bench-") as temp:
        began = time.perf_counter()
        small = Newsroom(Path(temp) / "small", sources=100, per_source=10)
        large = Newsroom(Path(temp) / "large", sources=10_000, per_source=10)
        print(f"seeded 1,000 and 100,000 submissions in {time.perf_counter() - began:.0f} s")
        try:
            print(f"{'request':<24}{'1,000 (ms)':>12}{'100,000 (ms)':>14}{'ratio':>8}")
            worst = 0.0
            for name, request in small.requests().items():
                base, big = medians_ms((request, large.requests()[name]), args.runs)
                worst = max(worst, big / base)
                print(f"{name:<24}{base:>12.2f}{big:>14.2f}{big / base:>7.2f}x")
            print(
                f"worst ratio {worst:.2f}x (target: at most 2x): {'OK' if worst <= 2 else 'OVER'}"
            )
            scans = [
                plan
                for plan in query_plans(large)
                if re.search(r"\bSCAN (sources|submissions|replies|read_marks)\b(?! USING)", plan)
            ]
            print(f"statements that scan a whole table: {len(scans)}")
            for plan in scans:
                print(plan)
        finally:
            small.close()
            large.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
