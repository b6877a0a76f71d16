"""Listings search indexes and never scan a whole table (bench/newsroom_inbox.py times them)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from tainik.service.instance import Instance

from .conftest import Clock, SeededSource, Staffer, api_token, log_in, seed_source

FULL_SCAN = re.compile(r"\bSCAN (\w+)\b(?! USING)")


@pytest.mark.embedded  # SQLite's EXPLAIN QUERY PLAN; PostgreSQL plans by statistics
def test_listing_statements_use_indexes(
    client: TestClient, instance: Instance, journalist: Staffer, clock: Clock, source: SeededSource
) -> None:
    for _ in range(3):
        seed_source(instance)
    log_in(client, journalist, clock)
    headers = api_token(client, journalist, clock)
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(instance.engine, "before_cursor_execute", capture)
    try:
        for response in (
            client.get("/inbox"),
            client.get("/inbox?starred=1"),
            client.get(f"/sources/{source.id}"),
            client.get("/api/v1/sources?limit=2", headers=headers),
            client.get("/api/v1/submissions?since=2000-01-01T00:00:00Z", headers=headers),
            client.get(f"/api/v1/submissions?source_id={source.id}", headers=headers),
            client.get("/api/v1/replies", headers=headers),
        ):
            assert response.status_code == 200
    finally:
        event.remove(instance.engine, "before_cursor_execute", capture)
    assert len(statements) > 10
    with instance.engine.connect() as db:
        raw = db.connection.driver_connection
        assert raw is not None
        for statement, parameters in statements:
            plan = "\n".join(
                str(row[-1])
                for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            )
            assert not FULL_SCAN.search(plan), f"{statement}\n{plan}"
    # The next pages of the API come from the cursor.
    page = client.get("/api/v1/sources?limit=2", headers=headers).json()
    assert page["next_cursor"]
