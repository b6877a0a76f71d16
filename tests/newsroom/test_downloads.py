"""Downloads: sealed-file tars streamed with HTTP Range, selections, and `tainik open` on them."""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from conftest import run_cli
from tainik import crypto
from tainik.service.instance import Instance
from tainik.storage import schema

from .conftest import Clock, SeededSource, Staffer, api_token, csrf, item_ids, seed_source


def submission_ids(instance: Instance, source_id: int) -> list[int]:
    with instance.engine.begin() as db:
        return list(
            db.execute(
                select(schema.submissions.c.id)
                .where(schema.submissions.c.source_id == source_id)
                .order_by(schema.submissions.c.id)
            ).scalars()
        )


def members(archive: bytes) -> list[str]:
    """The member names of a tar held in memory."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as opened:
        return opened.getnames()


def open_with_cli(
    archive: bytes, name: str, tmp_path: Path, org: crypto.Identity
) -> dict[str, bytes]:
    """Save an archive and open it with `tainik open`; returns {output name: plaintext}."""
    key = tmp_path / "org.key"
    if not key.exists():
        key.write_text(crypto.identity_file_text(org))
    saved = tmp_path / name
    saved.write_bytes(archive)
    out = tmp_path / f"plain-{name}"
    result = run_cli(["open", str(saved), "-i", str(key), "--out", str(out)])
    assert result.code == 0, result.stderr
    opened = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(result.stdout.splitlines()) == len(opened)
    return opened


@pytest.fixture
def big_source(instance: Instance) -> SeededSource:
    """A source whose file spans three segments (so the tar has several members)."""
    return seed_source(instance, "three segments follow", os.urandom(9 * 1024 * 1024))


def test_a_sealed_file_tar_opens_with_tainik_open(
    journalist_client: TestClient,
    instance: Instance,
    big_source: SeededSource,
    org: crypto.Identity,
    tmp_path: Path,
) -> None:
    message_id, file_id = submission_ids(instance, big_source.id)
    response = journalist_client.get(f"/submissions/{file_id}/download")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-tar"
    assert response.headers["accept-ranges"] == "bytes"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["cache-control"] == "no-store"
    # From the pages: a selection tar of the one sealed file after its pull metadata, named
    # after the source and the sealed file.
    disposition = response.headers["content-disposition"]
    [sealed_id] = re.findall(r'filename="[a-z-]+-([a-z2-7]{26})\.tar"$', disposition)
    assert members(response.content) == [f"{sealed_id}.json", f"{sealed_id}.sealed.tar"]
    with tarfile.open(fileobj=io.BytesIO(response.content)) as outer:
        link = json.loads(outer.extractfile(f"{sealed_id}.json").read())  # type: ignore[union-attr]
        inner = outer.extractfile(f"{sealed_id}.sealed.tar").read()  # type: ignore[union-attr]
    assert link["format"] == "tainik.org/pulled/v1"
    assert link["server"] == "http://newsroom.test"
    assert link["source"]["id"] == str(big_source.id)
    assert (link["sealed_id"], link["kind"]) == (sealed_id, "file")
    sealed = f"{sealed_id}.sealed"
    assert members(inner) == [
        sealed,
        f"{sealed}/manifest.age",
        *(f"{sealed}/segment-{i:08d}.age" for i in range(3)),
    ]
    assert open_with_cli(response.content, "file.tar", tmp_path, org) == {
        "evidence.bin": big_source.file
    }
    message = journalist_client.get(f"/submissions/{message_id}/download").content
    assert open_with_cli(message, "message.tar", tmp_path, org) == {
        "message.txt": big_source.message.encode()
    }


def test_ranges_resume_a_download(
    journalist_client: TestClient, instance: Instance, big_source: SeededSource
) -> None:
    file_id = submission_ids(instance, big_source.id)[1]
    url = f"/submissions/{file_id}/download"
    whole = journalist_client.get(url)
    body, size, etag = whole.content, len(whole.content), whole.headers["etag"]
    for header, (start, stop) in {
        "bytes=0-0": (0, 1),
        "bytes=0-511": (0, 512),
        "bytes=500-4999999": (500, 5_000_000),
        f"bytes={size - 10}-": (size - 10, size),
        "bytes=-1000": (size - 1000, size),
        f"bytes=4194000-{size + 100}": (4_194_000, size),
        f"bytes=-{size * 2}": (0, size),
    }.items():
        part = journalist_client.get(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.content == body[start:stop], header
        assert part.headers["content-range"] == f"bytes {start}-{stop - 1}/{size}", header
        assert int(part.headers["content-length"]) == stop - start
    for header in (f"bytes={size}-", f"bytes={size + 5}-{size + 9}", "bytes=-0"):
        refused = journalist_client.get(url, headers={"Range": header})
        assert refused.status_code == 416, header
        assert refused.headers["content-range"] == f"bytes */{size}"
    # Several ranges, other units, nonsense: ignored, the whole archive comes.
    for header in ("bytes=0-1,5-9", "items=0-1", "bytes=9-1", "bytes=abc"):
        ignored = journalist_client.get(url, headers={"Range": header})
        assert ignored.status_code == 200, header
        assert ignored.content == body
    # If-Range: the range only while the archive is the same one.
    same = journalist_client.get(url, headers={"Range": "bytes=10-", "If-Range": etag})
    assert same.status_code == 206
    other = journalist_client.get(url, headers={"Range": "bytes=10-", "If-Range": '"other"'})
    assert other.status_code == 200
    assert other.content == body


def test_any_range_marks_read(
    journalist_client: TestClient, instance: Instance, source: SeededSource
) -> None:
    file_id = submission_ids(instance, source.id)[1]
    url = f"/submissions/{file_id}/download"
    assert journalist_client.get(url, headers={"Range": "bytes=100-"}).status_code == 206
    assert journalist_client.get(f"/sources/{source.id}").text.count('class="item unread"') == 1


def test_a_selection_is_one_tar_of_sealed_file_tars(
    journalist_client: TestClient,
    instance: Instance,
    source: SeededSource,
    org: crypto.Identity,
    tmp_path: Path,
) -> None:
    from tainik.service import sources

    sources.add_reply(instance, source.id, "our reply")
    chosen = item_ids(journalist_client.get(f"/sources/{source.id}").text)
    response = journalist_client.post(
        f"/sources/{source.id}/items",
        data={"csrf": csrf(journalist_client), "action": "download", "item": chosen},
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith('.tar"')
    assert sorted(members(response.content)) == sorted(
        name for s in chosen for name in (f"{s}.sealed.tar", f"{s}.json")
    )
    opened = open_with_cli(response.content, "selection.tar", tmp_path, org)
    assert opened == {
        "message.txt": source.message.encode(),
        "evidence.bin": source.file,
        "reply.txt": b"our reply",
    }
    assert 'class="unread-count">0<' in journalist_client.get("/inbox").text  # all read now
    # "all=1" takes every item; nothing selected is nothing to download.
    everything = journalist_client.post(
        f"/sources/{source.id}/items",
        data={"csrf": csrf(journalist_client), "action": "download", "all": "1"},
    )
    assert len(members(everything.content)) == 2 * 3
    nothing = journalist_client.post(
        f"/sources/{source.id}/items", data={"csrf": csrf(journalist_client), "action": "download"}
    )
    assert nothing.status_code == 404


def test_reply_download(
    journalist_client: TestClient,
    instance: Instance,
    source: SeededSource,
    tmp_path: Path,
    org: crypto.Identity,
) -> None:
    from tainik.service import sources

    reply_id = sources.add_reply(instance, source.id, "sealed to both")
    archive = journalist_client.get(f"/replies/{reply_id}/download")
    assert archive.status_code == 200
    assert open_with_cli(archive.content, "reply.tar", tmp_path, org) == {
        "reply.txt": b"sealed to both"
    }


def test_api_downloads_with_ranges(
    client: TestClient,
    journalist: Staffer,
    clock: Clock,
    instance: Instance,
    big_source: SeededSource,
) -> None:
    from .conftest import log_in

    log_in(client, journalist, clock)
    headers = api_token(client, journalist, clock)
    listing = client.get("/api/v1/submissions", headers=headers).json()["items"]
    url = listing[1]["download"]
    whole = client.get(url, headers=headers)
    assert whole.status_code == 200
    size = len(whole.content)
    half = client.get(url, headers={**headers, "Range": f"bytes={size // 2}-"})
    assert half.status_code == 206
    assert whole.content[: size // 2] + half.content == whole.content
    beyond = client.get(url, headers={**headers, "Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    client.cookies.clear()
    assert client.get(url).status_code == 401


def test_a_missing_blob_is_not_found(
    journalist_client: TestClient, instance: Instance, source: SeededSource
) -> None:
    message_id = submission_ids(instance, source.id)[0]
    page = journalist_client.get(f"/sources/{source.id}").text
    sealed_id = item_ids(page)[0]
    instance.blobs.delete(sealed_id)
    assert journalist_client.get(f"/submissions/{message_id}/download").status_code == 404
    assert "missing from storage" in journalist_client.get(f"/sources/{source.id}").text


def test_head_is_no_download(
    journalist_client: TestClient, instance: Instance, source: SeededSource
) -> None:
    file_id = submission_ids(instance, source.id)[1]
    url = f"/submissions/{file_id}/download"
    head = journalist_client.head(url)
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == len(journalist_client.get(url).content)
    # Only the GET marked it read (one of the two items is read now).
    page = journalist_client.get(f"/sources/{source.id}").text
    assert page.count('class="item unread"') == 1


def test_head_alone_marks_nothing(
    journalist_client: TestClient, instance: Instance, source: SeededSource
) -> None:
    file_id = submission_ids(instance, source.id)[1]
    assert journalist_client.head(f"/submissions/{file_id}/download").status_code == 200
    page = journalist_client.get(f"/sources/{source.id}").text
    assert page.count('class="item unread"') == 2
