"""Every answer that serves bytes of a download is audited with its range and marks the item
read; a HEAD is audited as such and marks nothing; a 416 serves nothing and is not logged.

Real HTTP against a live ``tainik serve``, through the pages (session) and the API (a
read-only token, as ``tainik pull`` holds).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from live_server import LiveServer, make_instance
from source_client import SourceClient
from tainik.config import load_config
from tainik.service.instance import Instance
from tainik.storage import newsroom_schema as ns

from .live import LiveStaffer, past_token, ready_staffer, web_login


@dataclass
class Served:
    server: LiveServer
    data_dir: Path
    staffer: LiveStaffer
    read_token: dict[str, str]  # a read-only token, as `tainik pull` holds


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("audit")
    data_dir, _identity, _recipient = make_instance(tmp)
    staffer = ready_staffer(data_dir, "jo")
    read = {"Authorization": f"Bearer {past_token(data_dir, staffer, 'read', steps_ago=1)}"}
    with LiveServer(data_dir, tmp / "logs") as server:
        yield Served(server, data_dir, staffer, read)


def new_file(served: Served, size: int = 300_000) -> tuple[int, str]:
    """A source sends one file; its (submission id, sealed id) as the API lists it."""
    with SourceClient(served.server.source_url) as source:
        source.generate()
        source.submit_ok("", [("cam.mp4", os.urandom(size))])
    headers = {"Authorization": f"Bearer {served.staffer.api_token}"}
    items = httpx.get(f"{served.server.newsroom_url}/api/v1/submissions", headers=headers).json()[
        "items"
    ]
    newest = max(items, key=lambda item: item["id"])
    assert newest["kind"] == "file"
    return newest["id"], newest["sealed_id"]


def entries(served: Served, sealed_id: str) -> list[tuple[str, str | None]]:
    """(action, detail) of the audit entries about ``sealed_id``, oldest first."""
    instance = Instance.open(load_config(served.data_dir))
    try:
        with instance.engine.begin() as db:
            rows = db.execute(
                select(ns.audit_log.c.action, ns.audit_log.c.detail)
                .where(ns.audit_log.c.object_ref == sealed_id)
                .order_by(ns.audit_log.c.id)
            ).all()
    finally:
        instance.close()
    return [(row.action, row.detail) for row in rows]


def is_read(served: Served, headers: dict[str, str], submission_id: int) -> bool:
    items = httpx.get(f"{served.server.newsroom_url}/api/v1/submissions", headers=headers).json()[
        "items"
    ]
    return next(item["read"] for item in items if item["id"] == submission_id) is True


def test_a_range_from_the_pages_is_audited_and_marks_read(served: Served) -> None:
    submission_id, sealed_id = new_file(served)
    full = {"Authorization": f"Bearer {served.staffer.api_token}"}
    with web_login(served.server.newsroom_url, served.staffer) as staff:
        url = f"/submissions/{submission_id}/download"
        part = staff.get(url, headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206
        size = int(part.headers["content-range"].rsplit("/", 1)[1])
        assert is_read(served, full, submission_id)  # a range that skips byte 0 reads too
        tail = staff.get(url, headers={"Range": "bytes=-100"})
        assert tail.status_code == 206
        whole = staff.get(url)
        assert whole.status_code == 200
        assert len(whole.content) == size
        beyond = staff.get(url, headers={"Range": f"bytes={size}-"})
        assert beyond.status_code == 416  # serves nothing: not logged
    assert entries(served, sealed_id) == [
        ("download", f"bytes 1000-1999/{size}"),
        ("download", f"bytes {size - 100}-{size - 1}/{size}"),
        ("download", f"bytes 0-{size - 1}/{size}"),
    ]


def test_head_is_audited_and_marks_nothing_read(served: Served) -> None:
    submission_id, sealed_id = new_file(served)
    read_token = served.read_token
    url = f"{served.server.newsroom_url}/api/v1/submissions/{submission_id}/download"
    head = httpx.head(url, headers={**read_token, "Range": "bytes=10-"})
    assert head.status_code == 206
    assert head.content == b""
    size = int(head.headers["content-range"].rsplit("/", 1)[1])
    assert not is_read(served, read_token, submission_id)
    assert entries(served, sealed_id) == [("download-head", f"bytes 10-{size - 1}/{size}")]


def test_an_api_resume_with_a_read_token_is_audited_piece_by_piece(served: Served) -> None:
    submission_id, sealed_id = new_file(served, 2_000_000)
    read_token = served.read_token
    url = f"{served.server.newsroom_url}/api/v1/submissions/{submission_id}/download"
    got = b""
    with httpx.Client(headers=read_token) as client:
        first = client.get(url, headers={"Range": "bytes=0-699999"})
        etag = first.headers["etag"]
        got += first.content
        size = int(first.headers["content-range"].rsplit("/", 1)[1])
        second = client.get(url, headers={"Range": f"bytes={len(got)}-", "If-Range": etag})
        assert second.status_code == 206
        got += second.content
        assert len(got) == size
    assert is_read(served, read_token, submission_id)
    assert entries(served, sealed_id) == [
        ("download", f"bytes 0-699999/{size}"),
        ("download", f"bytes 700000-{size - 1}/{size}"),
    ]
