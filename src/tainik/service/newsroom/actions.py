"""What staff do to sources: reply, star, mark read or unread, delete.

Deleting removes the rows in one transaction (audited), then the sealed files' directories:
a crash between the two leaves ciphertext with no row, never a row with no file. On a full disk
the other way round, if it must (see :func:`_deleting`): deleting is how staff free a full disk.
What deletion can and cannot guarantee on SSDs is in docs/threat-model.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from tainik.core.errors import N_
from tainik.core.manifest import is_valid_id
from tainik.service import sources
from tainik.service.errors import NotFoundError, RequestError
from tainik.service.instance import Instance
from tainik.service.newsroom import audit
from tainik.service.newsroom.auth import Credential, Staff, authenticate
from tainik.storage import newsroom_schema as ns
from tainik.storage import schema
from tainik.storage.space import is_disk_full

# A reply is at most this many characters; at four UTF-8 bytes each it stays well under what the
# source interface will open (sources.MAX_REPLY_BYTES).
MAX_REPLY_CHARS = 100_000
MAX_SELECTION = 10_000
_CHUNK = 500
log = logging.getLogger("tainik.server")


class ReplyEmptyError(RequestError):
    """A reply with nothing in it."""

    template = N_("Write something to reply")


class ReplyTooLongError(RequestError):
    """A reply over the limit."""

    template = N_("A reply has at most {limit} characters")


@dataclass(frozen=True)
class Selection:
    """Submissions and replies of one source, by (row id, sealed id)."""

    submissions: list[tuple[int, str]]
    replies: list[tuple[int, str]]

    @property
    def sealed_ids(self) -> list[str]:
        """Every sealed id selected."""
        return [s for _, s in self.submissions] + [s for _, s in self.replies]


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _source_exists(db: Connection, source_id: int) -> None:
    found = db.execute(select(schema.sources.c.id).where(schema.sources.c.id == source_id)).first()
    if found is None:
        raise NotFoundError()


def select_items(db: Connection, source_id: int, sealed_ids: Sequence[str] | None) -> Selection:
    """The source's items among ``sealed_ids`` (all of them for None), inside a transaction."""
    _source_exists(db, source_id)
    sub, rep = schema.submissions, schema.replies
    if sealed_ids is None:
        every = Selection([], [])
        for table, into in ((sub, every.submissions), (rep, every.replies)):
            rows = db.execute(
                select(table.c.id, table.c.sealed_id)
                .where(table.c.source_id == source_id)
                .order_by(table.c.id)
            ).all()
            into.extend((int(r.id), str(r.sealed_id)) for r in rows)
        return every
    wanted = sorted({s for s in sealed_ids if is_valid_id(s)})
    if len(wanted) > MAX_SELECTION:
        raise RequestError()
    found = Selection([], [])
    for chunk in _chunks(wanted):
        for table, into in ((sub, found.submissions), (rep, found.replies)):
            rows = db.execute(
                select(table.c.id, table.c.sealed_id).where(
                    table.c.source_id == source_id, table.c.sealed_id.in_(chunk)
                )
            ).all()
            into.extend((int(r.id), str(r.sealed_id)) for r in rows)
    found.submissions.sort()
    found.replies.sort()
    return found


def mark_read(db: Connection, staff: Staff, sealed_ids: Sequence[str], now: datetime) -> None:
    """Mark items read for ``staff`` (those already marked stay as they are)."""
    marks = ns.read_marks
    for chunk in _chunks(list(sealed_ids)):
        present = set(
            db.execute(
                select(marks.c.sealed_id).where(
                    marks.c.user_id == staff.id, marks.c.sealed_id.in_(chunk)
                )
            ).scalars()
        )
        missing = [s for s in chunk if s not in present]
        if missing:
            db.execute(
                insert(marks),
                [{"user_id": staff.id, "sealed_id": s, "read_at": now} for s in missing],
            )


def _forget(db: Connection, sealed_ids: Sequence[str]) -> None:
    for chunk in _chunks(list(sealed_ids)):
        db.execute(delete(ns.read_marks).where(ns.read_marks.c.sealed_id.in_(chunk)))


def reply(instance: Instance, credential: Credential, source_id: int, text: str) -> int:
    """Seal a reply to the source and the organisation; returns the reply's id."""
    text = text.replace("\r\n", "\n")
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential)
        _source_exists(db, source_id)
    if not text.strip():
        raise ReplyEmptyError()
    if len(text) > MAX_REPLY_CHARS:
        raise ReplyTooLongError(limit=MAX_REPLY_CHARS)
    reply_id = sources.add_reply(instance, source_id, text)
    now = instance.clock()
    with instance.engine.begin() as db:
        sealed_id = db.execute(
            select(schema.replies.c.sealed_id).where(schema.replies.c.id == reply_id)
        ).scalar_one()
        db.execute(insert(ns.reply_authors).values(sealed_id=sealed_id, user_id=staff.id))
        mark_read(db, staff, [sealed_id], now)
        audit.record(db, now, audit.Actor.of(staff), "reply", "source", source_id, sealed_id)
    return reply_id


def star(instance: Instance, credential: Credential, source_id: int, starred: bool) -> None:
    """Star or unstar a source (for everyone in the newsroom)."""
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential)
        _source_exists(db, source_id)
        db.execute(
            update(schema.sources).where(schema.sources.c.id == source_id).values(starred=starred)
        )
        action = "star" if starred else "unstar"
        audit.record(db, instance.clock(), audit.Actor.of(staff), action, "source", source_id)


def mark(
    instance: Instance,
    credential: Credential,
    source_id: int,
    sealed_ids: Sequence[str] | None,
    read: bool,
) -> int:
    """Mark items of a source (all for None) read or unread for this staff member."""
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential)
        chosen = select_items(db, source_id, sealed_ids).sealed_ids
        if read:
            mark_read(db, staff, chosen, instance.clock())
        else:
            marks = ns.read_marks
            for chunk in _chunks(chosen):
                db.execute(
                    delete(marks).where(marks.c.user_id == staff.id, marks.c.sealed_id.in_(chunk))
                )
    return len(chosen)


def _delete_rows(db: Connection, staff: Staff, chosen: Selection, now: datetime) -> None:
    sub, rep = schema.submissions, schema.replies
    for row_id, sealed_id in chosen.submissions:
        db.execute(delete(sub).where(sub.c.id == row_id))
        audit.record(db, now, audit.Actor.of(staff), "delete-submission", "submission", sealed_id)
    for row_id, sealed_id in chosen.replies:
        db.execute(delete(rep).where(rep.c.id == row_id))
        audit.record(db, now, audit.Actor.of(staff), "delete-reply", "reply", sealed_id)
    _forget(db, chosen.sealed_ids)


def _delete_blobs(instance: Instance, sealed_ids: Iterable[str]) -> None:
    for sealed_id in sealed_ids:
        instance.blobs.delete(sealed_id)


def _deleting(
    instance: Instance,
    credential: Credential,
    record: Callable[[], Selection],
    collect: Callable[[Connection], tuple[Selection, list[str]]],
    uploads: Callable[[], list[str]],
) -> Selection:
    """Run ``record`` (the rows' deletion and its audit entry, one transaction), then remove
    the files; returns what went.

    On a full disk the transaction draws on the reserve (storage/space.py); with none left,
    the files are removed first, to make the room the record needs: they were to go anyway,
    and if the record still fails the staff member sees the error and the items, marked
    incomplete, and may try again."""
    try:
        chosen = instance.reserve.retry(record)
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        log.warning("the disk is full: files removed before their rows, to make room")
        with instance.engine.connect() as db:
            authenticate(db, instance, credential, touch=False)  # read only: who asks
            early, early_uploads = collect(db)
        _delete_blobs(instance, early.sealed_ids)
        for sealed_id in early_uploads:
            instance.uploads.remove(sealed_id)
        chosen = record()
    _delete_blobs(instance, chosen.sealed_ids)
    for sealed_id in uploads():
        instance.uploads.remove(sealed_id)
    return chosen


def delete_items(
    instance: Instance, credential: Credential, source_id: int, sealed_ids: Sequence[str]
) -> int:
    """Delete the chosen submissions and replies of a source; returns how many."""

    def record() -> Selection:
        with instance.engine.begin() as db:
            staff = authenticate(db, instance, credential)
            chosen = select_items(db, source_id, sealed_ids)
            _delete_rows(db, staff, chosen, instance.clock())
            return chosen

    def collect(db: Connection) -> tuple[Selection, list[str]]:
        return select_items(db, source_id, sealed_ids), []

    chosen = _deleting(instance, credential, record, collect, list)
    return len(chosen.sealed_ids)


def delete_one(instance: Instance, credential: Credential, kind: str, item_id: int) -> int:
    """Delete one submission (``kind`` "submission") or reply ("reply"); returns its source."""
    table = schema.submissions if kind == "submission" else schema.replies
    found: list[int] = []

    def collect(db: Connection) -> tuple[Selection, list[str]]:
        row = db.execute(
            select(table.c.source_id, table.c.sealed_id).where(table.c.id == item_id)
        ).first()
        if row is None:
            raise NotFoundError()
        found[:] = [int(row.source_id)]
        pair = [(item_id, str(row.sealed_id))]
        return (Selection(pair, []) if kind == "submission" else Selection([], pair)), []

    def record() -> Selection:
        with instance.engine.begin() as db:
            staff = authenticate(db, instance, credential)
            chosen, _none = collect(db)
            _delete_rows(db, staff, chosen, instance.clock())
            return chosen

    _deleting(instance, credential, record, collect, list)
    return found[0]


def delete_source(instance: Instance, credential: Credential, source_id: int) -> None:
    """Delete a source: its submissions, replies, unfinished uploads and sessions, then it."""
    up = schema.uploads
    uploads: list[str] = []

    def collect(db: Connection) -> tuple[Selection, list[str]]:
        chosen = select_items(db, source_id, None)
        uploads[:] = db.execute(select(up.c.sealed_id).where(up.c.source_id == source_id)).scalars()
        return chosen, list(uploads)

    def record() -> Selection:
        with instance.engine.begin() as db:
            staff = authenticate(db, instance, credential)
            chosen, _uploads = collect(db)
            _forget(db, chosen.sealed_ids)
            for table in (schema.submissions, schema.replies, up, schema.source_sessions):
                db.execute(delete(table).where(table.c.source_id == source_id))
            db.execute(delete(schema.sources).where(schema.sources.c.id == source_id))
            detail = f"{len(chosen.submissions)} submissions, {len(chosen.replies)} replies"
            audit.record(
                db,
                instance.clock(),
                audit.Actor.of(staff),
                "delete-source",
                "source",
                source_id,
                detail,
            )
            return chosen

    _deleting(instance, credential, record, collect, lambda: uploads)
