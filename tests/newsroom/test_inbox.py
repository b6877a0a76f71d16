"""The inbox and a source's page: designations, counts, read marks, stars, replies, deletion."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, insert, select
from starlette.testclient import TestClient

from tainik.server.app import newsroom_app
from tainik.service import sources
from tainik.service.instance import Instance
from tainik.service.newsroom.inbox import INBOX_PAGE
from tainik.storage import newsroom_schema as ns
from tainik.storage import schema

from .conftest import (
    Clock,
    SeededSource,
    Staffer,
    csrf,
    item_ids,
    log_in,
    seed_source,
)


def designation(instance: Instance, source_id: int) -> str:
    with instance.engine.begin() as db:
        return str(
            db.execute(
                select(schema.sources.c.designation).where(schema.sources.c.id == source_id)
            ).scalar_one()
        )


def unread_in_inbox(client: TestClient, source_id: int) -> int:
    page = client.get("/inbox").text
    row = page.split(f'data-source-id="{source_id}"')[1].split("</tr>")[0]
    return int(row.split('class="unread-count">')[1].split("<")[0])


def count(instance: Instance, table: object) -> int:
    with instance.engine.begin() as db:
        return int(db.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_inbox_shows_designations_counts_and_unread_per_staff_member(
    journalist_client: TestClient,
    instance: Instance,
    source: SeededSource,
    admin_user: Staffer,
    clock: Clock,
) -> None:
    page = journalist_client.get("/inbox")
    assert page.status_code == 200
    assert designation(instance, source.id) in page.text
    assert re.fullmatch(r"[a-z-]+ [a-z-]+", designation(instance, source.id))
    assert unread_in_inbox(journalist_client, source.id) == 2
    message_id = item_ids(journalist_client.get(f"/sources/{source.id}").text)[0]
    with instance.engine.begin() as db:
        submission = db.execute(
            select(schema.submissions.c.id).where(schema.submissions.c.sealed_id == message_id)
        ).scalar_one()
    assert journalist_client.get(f"/submissions/{submission}/download").status_code == 200
    assert unread_in_inbox(journalist_client, source.id) == 1
    # Read marks are per staff member: the administrator has read nothing.
    with TestClient(newsroom_app(instance), follow_redirects=False) as other:
        log_in(other, admin_user, clock)
        assert unread_in_inbox(other, source.id) == 2


def test_mark_read_and_unread(
    journalist_client: TestClient, instance: Instance, source: SeededSource
) -> None:
    token = csrf(journalist_client)
    page = journalist_client.get(f"/sources/{source.id}").text
    chosen = item_ids(page)
    assert len(chosen) == 2
    assert page.count('class="item unread"') == 2
    response = journalist_client.post(
        f"/sources/{source.id}/items", data={"csrf": token, "action": "read", "item": chosen}
    )
    assert response.headers["location"] == f"/sources/{source.id}?done=read"
    assert unread_in_inbox(journalist_client, source.id) == 0
    journalist_client.post(
        f"/sources/{source.id}/items", data={"csrf": token, "action": "unread", "item": chosen[:1]}
    )
    assert unread_in_inbox(journalist_client, source.id) == 1
    # Items of another source are not touched through this one.
    other = seed_source(instance)
    theirs = item_ids(journalist_client.get(f"/sources/{other.id}").text)
    journalist_client.post(
        f"/sources/{source.id}/items", data={"csrf": token, "action": "read", "item": theirs}
    )
    assert unread_in_inbox(journalist_client, other.id) == 2


def test_star_and_the_starred_filter(
    journalist_client: TestClient, instance: Instance, source: SeededSource
) -> None:
    other = seed_source(instance)
    token = csrf(journalist_client)
    response = journalist_client.post(
        f"/sources/{other.id}/star", data={"csrf": token, "starred": "1", "back": "inbox"}
    )
    assert response.headers["location"] == "/inbox?done=star"
    starred = journalist_client.get("/inbox?starred=1").text
    assert f'data-source-id="{other.id}"' in starred
    assert f'data-source-id="{source.id}"' not in starred
    journalist_client.post(f"/sources/{other.id}/star", data={"csrf": token, "starred": "0"})
    assert 'id="no-sources"' in journalist_client.get("/inbox?starred=1").text


def test_inbox_pages_through_every_source_once_newest_first(
    journalist_client: TestClient, instance: Instance, clock: Clock
) -> None:
    total = INBOX_PAGE * 2 + 7
    with instance.engine.begin() as db:
        for number in range(total):
            moment = clock.now - timedelta(minutes=number // 3)  # ties in time, too
            source_id = db.execute(
                insert(schema.sources).values(
                    lookup=number.to_bytes(32, "big"),
                    reply_recipient="age1x",
                    designation=f"source number-{number}",
                    created_at=moment,
                    last_activity=moment,
                    starred=number % 2 == 0,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            # Only sources that sent something are listed.
            db.execute(
                insert(schema.submissions).values(
                    source_id=source_id,
                    sealed_id=f"{number:026d}".translate(str.maketrans("0123456789", "abcdefghij")),
                    kind="message",
                    ciphertext_bytes=1,
                    created_at=moment,
                )
            )
    for query, expected in (("", total), ("&starred=1", (total + 1) // 2)):
        seen: list[int] = []
        url = "/inbox?" + query.lstrip("&")
        while url:
            page = journalist_client.get(url).text
            seen += [int(n) for n in re.findall(r'data-source-id="(\d+)"', page)]
            found = re.search(r'href="(/inbox\?after=[^"]+)" id="next-page"', page)
            url = found.group(1).replace("&amp;", "&") if found else ""
        assert len(seen) == expected
        assert len(set(seen)) == expected
    assert journalist_client.get("/inbox?after=garbage").status_code == 400


def test_reply_reaches_the_source(
    journalist_client: TestClient,
    instance: Instance,
    source: SeededSource,
    source_client: TestClient,
) -> None:
    text = "Thank you. Please do not reply from your work computer <b>really</b>."
    response = journalist_client.post(
        f"/sources/{source.id}/reply", data={"csrf": csrf(journalist_client), "text": text}
    )
    assert response.headers["location"] == f"/sources/{source.id}?done=reply"
    page = journalist_client.get(f"/sources/{source.id}?done=reply").text
    assert 'id="notice"' in page
    assert 'class="author">jo<' in page
    assert text not in page  # staff see the reply as ciphertext to download, not its text
    source_client.cookies.set("tainik_source", source.cookie, domain="source.test")
    lookup = source_client.get("/lookup").text
    assert "Please do not reply from your work computer &lt;b&gt;really&lt;/b&gt;." in lookup
    # Empty and overlong replies are refused.
    token = csrf(journalist_client)
    assert (
        journalist_client.post(
            f"/sources/{source.id}/reply", data={"csrf": token, "text": "  \r\n "}
        ).status_code
        == 400
    )
    assert (
        journalist_client.post(
            f"/sources/{source.id}/reply", data={"csrf": token, "text": "x" * 100_001}
        ).status_code
        == 400
    )
    assert (
        journalist_client.post(
            "/sources/999/reply", data={"csrf": token, "text": "hello"}
        ).status_code
        == 404
    )
    assert count(instance, schema.replies) == 1


def test_delete_selected_items_removes_rows_marks_and_blobs(
    journalist_client: TestClient, instance: Instance, source: SeededSource
) -> None:
    sources.add_reply(instance, source.id, "a reply")
    token = csrf(journalist_client)
    chosen = item_ids(journalist_client.get(f"/sources/{source.id}").text)
    assert len(chosen) == 3
    journalist_client.post(
        f"/sources/{source.id}/items", data={"csrf": token, "action": "read", "item": chosen}
    )
    unconfirmed = journalist_client.post(
        f"/sources/{source.id}/items", data={"csrf": token, "action": "delete", "item": chosen}
    )
    assert unconfirmed.status_code == 400
    assert set(instance.blobs.ids()) == set(chosen)
    deleted = journalist_client.post(
        f"/sources/{source.id}/items",
        data={"csrf": token, "action": "delete", "item": chosen[1:], "confirm": "1"},
    )
    assert deleted.headers["location"] == f"/sources/{source.id}?done=deleted"
    assert set(instance.blobs.ids()) == {chosen[0]}
    assert item_ids(journalist_client.get(f"/sources/{source.id}").text) == chosen[:1]
    with instance.engine.begin() as db:
        marks = db.execute(select(ns.read_marks.c.sealed_id)).scalars().all()
    assert marks == [chosen[0]]


def test_delete_a_source_and_everything_from_it(
    journalist_client: TestClient,
    instance: Instance,
    source: SeededSource,
    source_client: TestClient,
) -> None:
    keep = seed_source(instance)
    sources.add_reply(instance, source.id, "a reply")
    token = csrf(journalist_client)
    assert (
        journalist_client.post(f"/sources/{source.id}/delete", data={"csrf": token}).status_code
        == 400
    )
    response = journalist_client.post(
        f"/sources/{source.id}/delete", data={"csrf": token, "confirm": "1"}
    )
    assert response.headers["location"] == "/inbox?done=deleted-source"
    assert journalist_client.get(f"/sources/{source.id}").status_code == 404
    assert count(instance, schema.sources) == 1
    assert count(instance, schema.submissions) == 2
    assert count(instance, schema.replies) == 0
    assert len(list(instance.blobs.ids())) == 2
    # The source's session is gone: it is logged out.
    source_client.cookies.set("tainik_source", source.cookie, domain="source.test")
    assert source_client.get("/lookup", follow_redirects=False).headers["location"] == "/login"
    source_client.cookies.set("tainik_source", keep.cookie, domain="source.test")
    assert source_client.get("/lookup", follow_redirects=False).status_code == 200


def test_uploads_in_progress_are_shown(
    journalist_client: TestClient, instance: Instance, source: SeededSource, clock: Clock
) -> None:
    sealed_id = "a" * 26
    with instance.engine.begin() as db:
        db.execute(
            insert(schema.uploads).values(
                sealed_id=sealed_id,
                source_id=source.id,
                segments=5,
                sealed_note=b"age-encryption.org/v1\n",
                created_at=clock.now,
                updated_at=clock.now,
            )
        )
    instance.uploads.create(sealed_id)
    instance.uploads.put_segment(sealed_id, 0, b"ciphertext")
    instance.uploads.put_segment(sealed_id, 3, b"ciphertext")
    page = journalist_client.get(f"/sources/{source.id}").text
    assert "2 of 5 parts received" in page
    assert "(1 upload in progress)" in journalist_client.get("/inbox").text


def test_unknown_sources_and_huge_numbers_are_not_found(journalist_client: TestClient) -> None:
    for path in ("/sources/12345", f"/sources/{2**70}", f"/submissions/{2**64}/download"):
        assert journalist_client.get(path).status_code == 404, path


def test_a_page_position_beyond_any_row_is_a_bad_request(journalist_client: TestClient) -> None:
    for after in (f"1.{2**63}", f"{10**30}.1"):
        assert journalist_client.get("/inbox", params={"after": after}).status_code == 400, after


def test_pages_come_in_russian(journalist_client: TestClient, source: SeededSource) -> None:
    page = journalist_client.get("/inbox", headers={"Accept-Language": "ru"})
    assert '<html lang="ru">' in page.text
    switched = journalist_client.get("/inbox?lang=en", headers={"Accept-Language": "ru"})
    assert '<html lang="en">' in switched.text
