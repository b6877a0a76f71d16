"""What staff read: the inbox of sources, a source's page, and the API's change listings.

Every listing is a keyset page over an index (sources by last activity; submissions and
replies by source, or by time), so a page costs the same with a thousand submissions or a
hundred thousand. Counts are per source on the page, never over the whole inbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, exists, func, select, true, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from tainik.service.errors import NotFoundError, RequestError
from tainik.service.instance import Instance
from tainik.service.newsroom.auth import Credential, Staff, authenticate
from tainik.storage import newsroom_schema as ns
from tainik.storage import schema
from tainik.storage.database import MAX_ROW_ID, stored_time

INBOX_PAGE = 50
ITEMS_PAGE = 100
REPLIES_SHOWN = 500
API_DEFAULT_LIMIT = 100
API_MAX_LIMIT = 500
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
T = TypeVar("T")


@dataclass(frozen=True)
class Cursor:
    """A position in a listing ordered by (time, id): opaque text in URLs."""

    at: datetime
    id: int

    def encode(self) -> str:
        """``MICROSECONDS.ID``."""
        return f"{(stored_time(self.at) - _EPOCH) // _MICROSECOND}.{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """The cursor in ``text`` (None for none), or :class:`RequestError`."""
        if not text:
            return None
        micros, dot, row = text.partition(".")
        if not dot or not micros.isdigit() or not row.isdigit() or len(text) > 40:
            raise RequestError()
        if int(row) > MAX_ROW_ID:  # no row has it, and the driver would overflow
            raise RequestError()
        try:
            return cls(_EPOCH + int(micros) * _MICROSECOND, int(row))
        except OverflowError as exc:
            raise RequestError() from exc


@dataclass(frozen=True)
class SourceSummary:
    """A source as the inbox shows it: by its designation, never anything of its codename."""

    id: int
    designation: str
    created_at: datetime
    last_activity: datetime
    starred: bool
    submissions: int
    replies: int
    unread: int  # submissions and replies this staff member has not read
    uploading: int  # resumable uploads not yet complete


@dataclass(frozen=True)
class InboxPage:
    """A page of sources, most recently active first."""

    staff: Staff
    sources: list[SourceSummary]
    next_cursor: str | None
    starred_only: bool


@dataclass(frozen=True)
class Item:
    """A submission (a message or a file): ciphertext only, read or not by this staff member."""

    id: int
    source_id: int
    sealed_id: str
    kind: str
    size: int
    created_at: datetime
    read: bool
    complete: bool


@dataclass(frozen=True)
class ReplyItem:
    """A reply (sealed to the source and the organisation) and who wrote it."""

    id: int
    source_id: int
    sealed_id: str
    created_at: datetime
    author: str | None
    read: bool


@dataclass(frozen=True)
class Upload:
    """A resumable upload still in progress."""

    sealed_id: str
    segments: int
    received: int
    updated_at: datetime


@dataclass(frozen=True)
class SourcePage:
    """Everything about one source, for one staff member."""

    staff: Staff
    source: SourceSummary
    items: list[Item]
    next_after: int | None
    replies: list[ReplyItem]
    uploads: list[Upload]


@dataclass(frozen=True)
class Changes(Generic[T]):
    """A page of what changed since a time, oldest first, and where to continue."""

    staff: Staff
    items: list[T]
    next_cursor: str | None


def _unread(user_id: int, sealed_id: Any) -> ColumnElement[bool]:
    marks = ns.read_marks
    return ~exists().where(marks.c.user_id == user_id, marks.c.sealed_id == sealed_id)


def has_sent(source_id: Any) -> ColumnElement[bool]:
    """True for a source that has sent something and of which something remains (a
    submission, or a reply to one): the only sources staff see listed. A codename that never
    sent anything has no row at all (service/new_source.py); a row without either (an upload
    never completed, everything deleted, a row from before) is expired by housekeeping."""
    sub, rep = schema.submissions, schema.replies
    return exists().where(sub.c.source_id == source_id) | exists().where(
        rep.c.source_id == source_id
    )


def _summaries(user_id: int) -> Select[Any]:
    src, sub, rep, up = schema.sources, schema.submissions, schema.replies, schema.uploads

    def count(table: Any, *where: ColumnElement[bool]) -> Any:
        return (
            select(func.count())
            .select_from(table)
            .where(table.c.source_id == src.c.id, *where)
            .scalar_subquery()
        )

    return select(
        src.c.id,
        src.c.designation,
        src.c.created_at,
        src.c.last_activity,
        src.c.starred,
        count(sub).label("submissions"),
        count(rep).label("replies"),
        (
            count(sub, _unread(user_id, sub.c.sealed_id))
            + count(rep, _unread(user_id, rep.c.sealed_id))
        ).label("unread"),
        count(up).label("uploading"),
    )


def _summary(row: Any) -> SourceSummary:
    return SourceSummary(
        int(row.id),
        row.designation,
        stored_time(row.created_at),
        stored_time(row.last_activity),
        bool(row.starred),
        int(row.submissions),
        int(row.replies),
        int(row.unread),
        int(row.uploading),
    )


def inbox(
    instance: Instance,
    credential: Credential,
    cursor: str | None = None,
    *,
    starred_only: bool = False,
) -> InboxPage:
    """A page of the inbox: sources, most recently active first."""
    position = Cursor.decode(cursor)
    src = schema.sources
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, reading=True)
        query = (
            _summaries(staff.id)
            .where(has_sent(src.c.id))
            .order_by(src.c.last_activity.desc(), src.c.id.desc())
        )
        if starred_only:
            query = query.where(src.c.starred == true())
        if position is not None:
            query = query.where(
                tuple_(src.c.last_activity, src.c.id) < tuple_(position.at, position.id)
            )
        rows = db.execute(query.limit(INBOX_PAGE + 1)).all()
    sources = [_summary(r) for r in rows[:INBOX_PAGE]]
    more = len(rows) > INBOX_PAGE
    after = Cursor(sources[-1].last_activity, sources[-1].id).encode() if more else None
    return InboxPage(staff, sources, after, starred_only)


def _source(db: Connection, user_id: int, source_id: int) -> SourceSummary:
    row = db.execute(_summaries(user_id).where(schema.sources.c.id == source_id)).first()
    if row is None:
        raise NotFoundError()
    return _summary(row)


def _items(instance: Instance, db: Connection, user_id: int, query: Select[Any]) -> list[Item]:
    sub = schema.submissions
    rows = db.execute(
        query.add_columns(sub, (~_unread(user_id, sub.c.sealed_id)).label("is_read")).select_from(
            sub
        )
    ).all()
    return [
        Item(
            int(r.id),
            int(r.source_id),
            r.sealed_id,
            r.kind,
            int(r.ciphertext_bytes),
            stored_time(r.created_at),
            bool(r.is_read),
            instance.blobs.exists(r.sealed_id),
        )
        for r in rows
    ]


def _replies(db: Connection, user_id: int, query: Select[Any]) -> list[ReplyItem]:
    rep, authors, users = schema.replies, ns.reply_authors, ns.users
    rows = db.execute(
        query.add_columns(
            rep, users.c.name.label("author"), (~_unread(user_id, rep.c.sealed_id)).label("is_read")
        )
        .select_from(rep)
        .outerjoin(authors, authors.c.sealed_id == rep.c.sealed_id)
        .outerjoin(users, users.c.id == authors.c.user_id)
    ).all()
    return [
        ReplyItem(
            int(r.id),
            int(r.source_id),
            r.sealed_id,
            stored_time(r.created_at),
            r.author,
            bool(r.is_read),
        )
        for r in rows
    ]


def source_page(
    instance: Instance, credential: Credential, source_id: int, after: int | None = None
) -> SourcePage:
    """One source: its submissions (a page at a time, oldest first), replies and uploads."""
    sub, rep, up = schema.submissions, schema.replies, schema.uploads
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, reading=True)
        source = _source(db, staff.id, source_id)
        query = select().where(sub.c.source_id == source_id).order_by(sub.c.id)
        if after is not None:
            query = query.where(sub.c.id > after)
        items = _items(instance, db, staff.id, query.limit(ITEMS_PAGE + 1))
        replies = _replies(
            db,
            staff.id,
            select()
            .where(rep.c.source_id == source_id)
            .order_by(rep.c.id.desc())
            .limit(REPLIES_SHOWN),
        )
        upload_rows = db.execute(
            select(up.c.sealed_id, up.c.segments, up.c.updated_at)
            .where(up.c.source_id == source_id)
            .order_by(up.c.created_at)
        ).all()
    uploads = [
        Upload(
            r.sealed_id,
            int(r.segments),
            len(instance.uploads.received(r.sealed_id)),
            stored_time(r.updated_at),
        )
        for r in upload_rows
    ]
    more = len(items) > ITEMS_PAGE
    items = items[:ITEMS_PAGE]
    return SourcePage(
        staff, source, items, items[-1].id if more else None, list(reversed(replies)), uploads
    )


def _limit(limit: int | None) -> int:
    if limit is None:
        return API_DEFAULT_LIMIT
    if not 1 <= limit <= API_MAX_LIMIT:
        raise RequestError()
    return limit


def _since(since: datetime | None) -> datetime:
    return stored_time(since).astimezone(UTC) if since is not None else _EPOCH


def changed_sources(
    instance: Instance,
    credential: Credential,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Changes[SourceSummary]:
    """Sources active at or after ``since``, least recently active first."""
    count, position, src = _limit(limit), Cursor.decode(cursor), schema.sources
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, reading=True)
        query = (
            _summaries(staff.id)
            .where(src.c.last_activity >= _since(since), has_sent(src.c.id))
            .order_by(src.c.last_activity, src.c.id)
        )
        if position is not None:
            query = query.where(
                tuple_(src.c.last_activity, src.c.id) > tuple_(position.at, position.id)
            )
        rows = db.execute(query.limit(count + 1)).all()
    found = [_summary(r) for r in rows[:count]]
    more = len(rows) > count
    return Changes(
        staff, found, Cursor(found[-1].last_activity, found[-1].id).encode() if more else None
    )


def _by_time(table: Any, since: datetime | None, position: Cursor | None) -> Select[Any]:
    query = select().where(table.c.created_at >= _since(since))
    if position is not None:
        query = query.where(
            tuple_(table.c.created_at, table.c.id) > tuple_(position.at, position.id)
        )
    return query.order_by(table.c.created_at, table.c.id)


def changed_submissions(
    instance: Instance,
    credential: Credential,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
    source_id: int | None = None,
) -> Changes[Item]:
    """Submissions received at or after ``since``, oldest first (of one source, if given)."""
    return _changed_by_time(
        instance,
        credential,
        schema.submissions,
        lambda db, user_id, query: _items(instance, db, user_id, query),
        since,
        cursor,
        limit,
        source_id,
    )


def changed_replies(
    instance: Instance,
    credential: Credential,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
    source_id: int | None = None,
) -> Changes[ReplyItem]:
    """Replies written at or after ``since``, oldest first (to one source, if given)."""
    return _changed_by_time(
        instance, credential, schema.replies, _replies, since, cursor, limit, source_id
    )


Timed = TypeVar("Timed", Item, ReplyItem)


def _changed_by_time(
    instance: Instance,
    credential: Credential,
    table: Any,
    fetch: Callable[[Connection, int, Select[Any]], list[Timed]],
    since: datetime | None,
    cursor: str | None,
    limit: int | None,
    source_id: int | None,
) -> Changes[Timed]:
    """One page of ``table``'s rows created at or after ``since``, in (time, id) order."""
    count, position = _limit(limit), Cursor.decode(cursor)
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, reading=True)
        query = _by_time(table, since, position)
        if source_id is not None:
            query = query.where(table.c.source_id == source_id)
        found = fetch(db, staff.id, query.limit(count + 1))
    more = len(found) > count
    found = found[:count]
    return Changes(
        staff, found, Cursor(found[-1].created_at, found[-1].id).encode() if more else None
    )


def source(
    instance: Instance, credential: Credential, source_id: int
) -> tuple[Staff, SourceSummary]:
    """One source's summary."""
    with instance.engine.begin() as db:
        staff = authenticate(db, instance, credential, reading=True)
        return staff, _source(db, staff.id, source_id)
