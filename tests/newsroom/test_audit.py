"""The audit log: who did what and when, and nothing that identifies a source."""

from __future__ import annotations

from sqlalchemy import select
from starlette.testclient import TestClient

from tainik.service.instance import Instance
from tainik.storage import newsroom_schema as ns
from tainik.storage import schema

from .conftest import SeededSource, csrf, item_ids


def test_staff_actions_are_logged_without_source_details(
    admin_client: TestClient, instance: Instance, source: SeededSource
) -> None:
    token = csrf(admin_client)
    reply_text = "REPLY-TEXT-IN-AUDIT?"
    admin_client.post(f"/sources/{source.id}/reply", data={"csrf": token, "text": reply_text})
    admin_client.post(f"/sources/{source.id}/star", data={"csrf": token, "starred": "1"})
    chosen = item_ids(admin_client.get(f"/sources/{source.id}").text)
    admin_client.post(
        f"/sources/{source.id}/items", data={"csrf": token, "action": "download", "item": chosen}
    )
    admin_client.post("/admin/users", data={"csrf": token, "name": "newbie"})
    admin_client.post(f"/sources/{source.id}/delete", data={"csrf": token, "confirm": "1"})
    with instance.engine.begin() as db:
        designation = db.execute(select(schema.sources.c.designation)).first()
        rows = db.execute(select(ns.audit_log).order_by(ns.audit_log.c.id)).all()
    assert designation is None  # deleted
    actions = [r.action for r in rows]
    assert actions == [
        "user-added", "login", "password-changed", "reply", "star", "download-selection",
        "user-added", "delete-source",
    ]  # fmt: skip
    assert {r.actor for r in rows} == {"(command line)", "ada"}
    logged = " ".join(str(value) for r in rows for value in r)
    assert reply_text not in logged
    assert source.message not in logged
    assert "evidence.bin" not in logged
    page = admin_client.get("/admin/audit").text
    assert page.count('class="entry"') == len(rows)
    assert "deleted a source and everything from it" in page


def test_the_audit_log_pages(admin_client: TestClient, instance: Instance) -> None:
    from tainik.service.newsroom import audit
    from tainik.service.newsroom.admin import AUDIT_PAGE_SIZE

    with instance.engine.begin() as db:
        for _ in range(AUDIT_PAGE_SIZE + 5):
            audit.record(db, instance.clock(), audit.CLI_ACTOR, "settings-changed")
    first = admin_client.get("/admin/audit").text
    assert first.count('class="entry"') == AUDIT_PAGE_SIZE
    older = first.split('href="/admin/audit?before=')[1].split('"')[0]
    second = admin_client.get(f"/admin/audit?before={older}").text
    assert second.count('class="entry"') == 5 + 3  # the account's first entries too
    assert 'id="older-entries"' not in second
