"""Sources that sent nothing are never listed, and sources left with nothing expire (issue 15, A).

The inbox (page and API) lists a source only while it has a submission or a reply. Rows with
neither — from a database older than "no row before the first submission", a source whose
every item was deleted, one whose only upload never completed — are removed by housekeeping
(hourly, and at start) once they have no unfinished upload and no live session.
"""

from __future__ import annotations

import base64
from datetime import timedelta

from sqlalchemy import func, insert, select
from starlette.testclient import TestClient

from tainik import crypto
from tainik.sealed.writer import new_sealed_id
from tainik.service import maintenance
from tainik.service.instance import Instance
from tainik.service.newsroom import actions
from tainik.service.newsroom.auth import Credential
from tainik.storage import schema

from .conftest import Clock, SeededSource, Staffer, api_token, log_in, seed_source

CSRF = "tainik_csrf"


def legacy_empty_source(instance: Instance, clock: Clock, number: int = 1) -> int:
    """A row as older versions wrote one for every codename generated: nothing sent."""
    with instance.engine.begin() as db:
        return int(
            db.execute(
                insert(schema.sources).values(
                    lookup=number.to_bytes(32, "big"),
                    reply_recipient=crypto.Identity.generate().recipient.text,
                    designation=f"empty source {number}",
                    created_at=clock.now,
                    last_activity=clock.now + timedelta(days=1),  # would top the inbox
                    starred=False,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )


def source_ids(instance: Instance) -> set[int]:
    with instance.engine.begin() as db:
        return set(db.execute(select(schema.sources.c.id)).scalars())


def start_upload_as_new_source(source_client: TestClient) -> str:
    """Through the real source API: a new codename whose only act is to start an upload."""
    token = source_client.get("/").cookies.get(CSRF) or source_client.cookies[CSRF]
    api = {"x-csrf-token": token}
    assert source_client.post("/api/sources", headers=api).status_code == 201
    recipient = source_client.post("/api/session", headers=api).json()["recipient"]
    sealed_id = new_sealed_id()
    note = base64.b64encode(crypto.encrypt(b'{"v": 1}', [crypto.Recipient(recipient)]))
    answer = source_client.post(
        "/api/uploads",
        headers=api,
        json={"id": sealed_id, "segments": 3, "note": note.decode()},
    )
    assert answer.status_code == 201, answer.text
    return sealed_id


def test_sources_that_sent_nothing_are_not_listed(
    client: TestClient,
    source_client: TestClient,
    instance: Instance,
    journalist: Staffer,
    clock: Clock,
    source: SeededSource,
) -> None:
    empty = legacy_empty_source(instance, clock)
    start_upload_as_new_source(source_client)
    uploading = max(source_ids(instance))
    log_in(client, journalist, clock)
    page = client.get("/inbox").text
    assert f'data-source-id="{source.id}"' in page
    assert f'data-source-id="{empty}"' not in page
    assert f'data-source-id="{uploading}"' not in page
    listed = client.get("/api/v1/sources", headers=api_token(client, journalist, clock)).json()
    assert [s["id"] for s in listed["items"]] == [source.id]


def test_a_source_with_only_replies_stays_listed(
    client: TestClient, instance: Instance, journalist: Staffer, clock: Clock
) -> None:
    seeded = seed_source(instance)
    log_in(client, journalist, clock)
    credential = Credential.session(client.cookies.get("tainik_staff"))
    actions.reply(instance, credential, seeded.id, "We read it; write again if you can.")
    with instance.engine.begin() as db:
        sealed = list(
            db.execute(
                select(schema.submissions.c.sealed_id).where(
                    schema.submissions.c.source_id == seeded.id
                )
            ).scalars()
        )
    actions.delete_items(instance, credential, seeded.id, sealed)
    assert f'data-source-id="{seeded.id}"' in client.get("/inbox").text
    clock.advance(timedelta(days=30).total_seconds())
    maintenance.housekeeping(instance)
    assert seeded.id in source_ids(instance)


def test_housekeeping_expires_sources_left_with_nothing(
    client: TestClient,
    source_client: TestClient,
    instance: Instance,
    journalist: Staffer,
    clock: Clock,
    source: SeededSource,
) -> None:
    empty = legacy_empty_source(instance, clock)
    sealed_id = start_upload_as_new_source(source_client)
    uploading = max(source_ids(instance))
    emptied = seed_source(instance)
    log_in(client, journalist, clock)
    credential = Credential.session(client.cookies.get("tainik_staff"))
    with instance.engine.begin() as db:
        items = list(
            db.execute(
                select(schema.submissions.c.sealed_id).where(
                    schema.submissions.c.source_id == emptied.id
                )
            ).scalars()
        )
    actions.delete_items(instance, credential, emptied.id, items)
    # At once: only the row with nothing, no upload and no session goes.
    first = maintenance.housekeeping(instance)
    assert first.empty_sources == 1
    assert source_ids(instance) == {source.id, uploading, emptied.id}
    # Once sessions have ended and the unfinished upload has expired, those go too.
    clock.advance(timedelta(hours=instance.config.unfinished_upload_hours + 1).total_seconds())
    later = maintenance.housekeeping(instance)
    assert later.uploads == 1
    assert later.empty_sources == 2
    assert source_ids(instance) == {source.id}
    assert not instance.uploads.exists(sealed_id)
    assert empty not in source_ids(instance)


def test_recovery_at_start_expires_legacy_empty_rows(instance: Instance, clock: Clock) -> None:
    kept = seed_source(instance)
    for number in range(1, 6):
        legacy_empty_source(instance, clock, number)
    lock = maintenance.ServeLock(instance)
    try:
        recovered = maintenance.recover(instance, lock)
    finally:
        lock.release()
    assert recovered.empty_sources == 5
    with instance.engine.begin() as db:
        assert db.execute(select(func.count()).select_from(schema.sources)).scalar_one() == 1
    assert source_ids(instance) == {kept.id}
