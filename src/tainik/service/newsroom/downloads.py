"""Downloads for staff: one sealed file as a sealed-file tar, or a selection as one tar.

Archives are layouts (:mod:`tainik.sealed.tarball`): nothing is built on disk, and the web
layer streams them in constant memory. A download that includes the first byte marks the items
read for the staff member and goes into the audit log; the later ranges of a resumed download
do not repeat that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from tainik.sealed import tarball
from tainik.sealed.tarball import TarLayout
from tainik.service.errors import NotFoundError
from tainik.service.instance import Instance
from tainik.service.newsroom import audit
from tainik.service.newsroom.actions import mark_read, select_items
from tainik.service.newsroom.auth import Credential, Staff, authenticate
from tainik.service.newsroom.ranges import ByteRange
from tainik.storage import schema

KINDS = {"submission": schema.submissions, "reply": schema.replies}


@dataclass(frozen=True)
class Download:
    """An archive to send, and which bytes of it."""

    staff: Staff
    layout: TarLayout
    filename: str
    etag: str
    span: tuple[int, int] | None  # [start, stop) of a partial response; None for all of it
    unsatisfiable: bool = False


def download_one(
    instance: Instance,
    credential: Credential,
    kind: str,
    item_id: int,
    wanted: ByteRange | None = None,
    if_range: str | None = None,
    *,
    head: bool = False,
) -> Download:
    """The sealed-file tar of one submission or reply (``kind``), or the range asked for.

    The bytes it will serve are logged and the item marked read; ``head`` (an HTTP HEAD: the
    headers only) is logged as such and marks nothing read.
    """
    table = KINDS[kind]
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, reading=True)
        sealed_id = db.execute(select(table.c.sealed_id).where(table.c.id == item_id)).scalar()
    if sealed_id is None or not instance.blobs.exists(sealed_id):
        raise NotFoundError()
    layout = tarball.sealed_file_tar(instance.blobs.path_of(sealed_id))
    etag = f'"{sealed_id}-{layout.size}"'
    span = None
    if wanted is not None and (if_range is None or if_range.strip() == etag):
        span = wanted.resolve(layout.size)
        if span is None:
            return Download(staff, layout, f"{sealed_id}.sealed.tar", etag, None, True)
    start, stop = span or (0, layout.size)
    served = served_range(start, stop, layout.size)
    now = instance.clock()
    with instance.engine.begin() as db:
        authenticate(db, instance, credential, reading=True)
        if not head:
            mark_read(db, staff, [sealed_id], now)
        action = "download-head" if head else "download"
        audit.record(db, now, audit.Actor.of(staff), action, kind, sealed_id, served)
    return Download(staff, layout, f"{sealed_id}.sealed.tar", etag, span)


def served_range(start: int, stop: int, size: int) -> str:
    """The bytes ``[start, stop)`` of an archive of ``size`` bytes, as the audit log names them:
    ``Content-Range``'s form (``bytes 0-99/5120``); ``bytes 0-0/0`` never occurs (an archive
    has at least its end blocks)."""
    return f"bytes {start}-{stop - 1}/{size}"


def _slug(designation: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", designation.lower()).strip("-") or "source"


def download_selection(
    instance: Instance,
    credential: Credential,
    source_id: int,
    sealed_ids: Sequence[str] | None,
) -> Download:
    """One tar of the chosen items of a source (every item for None), as sealed-file tars."""
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, reading=True)
        chosen = select_items(db, source_id, sealed_ids).sealed_ids
        designation = db.execute(
            select(schema.sources.c.designation).where(schema.sources.c.id == source_id)
        ).scalar_one()
    present = [s for s in chosen if instance.blobs.exists(s)]
    if not present:
        raise NotFoundError()
    layout = tarball.selection_tar(
        [(s, tarball.sealed_file_tar(instance.blobs.path_of(s))) for s in present]
    )
    now = instance.clock()
    with instance.engine.begin() as db:
        authenticate(db, instance, credential, reading=True)
        mark_read(db, staff, present, now)
        audit.record(
            db,
            now,
            audit.Actor.of(staff),
            "download-selection",
            "source",
            source_id,
            f"{len(present)} items",
        )
    etag = f'"selection-{len(present)}-{layout.size}"'
    return Download(staff, layout, f"{_slug(designation)}.tar", etag, None)
