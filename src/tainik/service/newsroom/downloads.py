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

from sqlalchemy import literal, select
from sqlalchemy.engine import Connection

from tainik import crypto
from tainik.core.pulled import SourceLink, api_time
from tainik.sealed import tarball
from tainik.sealed.tarball import TarLayout
from tainik.service.errors import NotFoundError
from tainik.service.instance import Instance
from tainik.service.newsroom import audit
from tainik.service.newsroom.actions import mark_read, select_items
from tainik.service.newsroom.auth import Credential, Staff, authenticate
from tainik.service.newsroom.ranges import ByteRange
from tainik.storage import schema
from tainik.storage.database import stored_time

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
    origin: str | None = None,
) -> Download:
    """The sealed-file tar of one submission or reply (``kind``), or the range asked for.

    With ``origin`` (the newsroom's address as the staff member's browser reached it), a
    selection tar of that one sealed file after its pull metadata instead, so that ``vault
    import`` files it in its source's thread (docs/format.md, "Transport").

    The bytes it will serve are logged and the item marked read; ``head`` (an HTTP HEAD: the
    headers only) is logged as such and marks nothing read.
    """
    table = KINDS[kind]
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, reading=True)
        sealed_id = db.execute(select(table.c.sealed_id).where(table.c.id == item_id)).scalar()
        links = _links(db, origin, [sealed_id]) if origin and sealed_id else {}
    if sealed_id is None or not instance.blobs.exists(sealed_id):
        raise NotFoundError()
    layout = instance.blobs.tar(sealed_id)
    filename = f"{sealed_id}.sealed.tar"
    etag = f'"{sealed_id}-{layout.size}"'
    if origin is not None:
        link = links[sealed_id]
        layout = tarball.selection_tar([(sealed_id, layout)], {sealed_id: link.encode()})
        filename = f"{_slug(link.designation)}-{sealed_id}.tar"
        etag = f'"{sealed_id}-{layout.size}-{crypto.sha256(link.encode()).hex()[:16]}"'
    span = None
    if wanted is not None and (if_range is None or if_range.strip() == etag):
        span = wanted.resolve(layout.size)
        if span is None:
            return Download(staff, layout, filename, etag, None, True)
    start, stop = span or (0, layout.size)
    served = served_range(start, stop, layout.size)
    now = instance.clock()
    with instance.engine.begin() as db:
        authenticate(db, instance, credential, reading=True)
        if not head:
            mark_read(db, staff, [sealed_id], now)
        action = "download-head" if head else "download"
        audit.record(db, now, audit.Actor.of(staff), action, kind, sealed_id, served)
    return Download(staff, layout, filename, etag, span)


def _links(db: Connection, origin: str, sealed_ids: Sequence[str]) -> dict[str, SourceLink]:
    """The pull metadata of each sealed file, as ``tainik pull`` would write it from ``origin``
    (docs/workstation.md); sealed ids with no row are left out."""
    sources = schema.sources
    found: dict[str, SourceLink] = {}
    for table in (schema.submissions, schema.replies):
        kind = table.c.kind if table is schema.submissions else literal("reply")
        for chunk in (sealed_ids[i : i + 500] for i in range(0, len(sealed_ids), 500)):
            rows = db.execute(
                select(
                    table.c.id,
                    table.c.sealed_id,
                    table.c.created_at,
                    table.c.source_id,
                    kind.label("kind"),
                    sources.c.designation,
                )
                .join(sources, sources.c.id == table.c.source_id)
                .where(table.c.sealed_id.in_(chunk))
            ).all()
            for row in rows:
                found[row.sealed_id] = SourceLink(
                    server=origin,
                    source_id=str(row.source_id),
                    designation=row.designation,
                    sealed_id=row.sealed_id,
                    kind=str(row.kind),
                    created_at=api_time(stored_time(row.created_at)),
                    order=int(row.id),
                )
    return found


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
    origin: str | None = None,
) -> Download:
    """One tar of the chosen items of a source (every item for None), as sealed-file tars,
    each after its pull metadata when ``origin`` (the newsroom's address) is given."""
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, reading=True)
        chosen = select_items(db, source_id, sealed_ids).sealed_ids
        designation = db.execute(
            select(schema.sources.c.designation).where(schema.sources.c.id == source_id)
        ).scalar_one()
        links = _links(db, origin, chosen) if origin else {}
    present = [s for s in chosen if instance.blobs.exists(s)]
    if not present:
        raise NotFoundError()
    layout = tarball.selection_tar(
        [(s, instance.blobs.tar(s)) for s in present],
        {s: link.encode() for s, link in links.items()},
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
