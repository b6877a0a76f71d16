"""Resumable uploads (docs/protocol.md): the server side, holding only ciphertext.

Every function takes the source's session and only ever touches that source's uploads; an
upload of another source is reported as not found.

An upload moves only through its lifecycle's table (core/upload.py): each use case loads the
state the upload is in and runs its event on that state in one transaction, which writes the
new state only where the row still holds the loaded one (:func:`_move`). A request that lost
a race to another (a second complete, an abandon, another server process) loads again and
meets the state the winner left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tainik import crypto
from tainik.core.errors import N_, StorageError, StorageFullError, TainikError
from tainik.core.jsonfields import JsonObject, RecordError, load_json
from tainik.core.manifest import MAX_MANIFEST_CIPHERTEXT, Kind, is_valid_id
from tainik.core.source_api import UploadObject as UploadView
from tainik.core.units import human_bytes
from tainik.core.upload import (
    HEADER_PREFIX,
    MAX_SEGMENTS,
    MAX_UPLOAD_BYTES,
    MISSING_LISTED,
    PROTOCOL_SEGMENT_SIZE,
    UPLOAD_LIFECYCLE,
    IncompleteError,
    QuotaError,
    SegmentCountError,
    SegmentIndexError,
    UploadConflictError,
    UploadError,
    UploadEvent,
    UploadIdError,
    UploadNoteError,
    UploadState,
    UploadTooLargeError,
    check_segment_size,
    header_length,
    max_segment_bytes,
    missing_segments,
    plaintext_length,
    smallest_upload,
    transition,
)
from tainik.service.errors import NotFoundError
from tainik.service.instance import Instance
from tainik.service.sources import ACTIVITY_GRANULARITY, SourceSession, touch_in
from tainik.storage import locks, schema
from tainik.storage.blobs import Blobs
from tainik.storage.database import stored_time
from tainik.storage.uploads import Uploads

BASE_NOTE_BYTES = 64 * 1024
# A one-segment upload's note may carry a message's segment, sealed to the organisation, in
# base64 (docs/protocol.md), so that a page reloaded before the segment arrived still sends it:
# room for the longest message (MAX_MESSAGE_CHARS of up to 4 bytes each) and its age headers.
MESSAGE_NOTE_BYTES = 640 * 1024
# How often a use case loads an upload again after another request moved it meanwhile: each
# move is one of the few steps of its lifecycle, so a handful is plenty.
MOVE_ATTEMPTS = 5
T = TypeVar("T")


def max_note_bytes(segments: int) -> int:
    """The largest sealed note accepted for an upload of ``segments`` segments."""
    if segments == 1:
        return MESSAGE_NOTE_BYTES
    return BASE_NOTE_BYTES + 100 * max(0, segments - 256)


# The largest note of all (an upload of MAX_SEGMENTS segments): about 25 MiB.
MAX_NOTE_BYTES = max_note_bytes(MAX_SEGMENTS)


def _row(instance: Instance, session: SourceSession, sealed_id: str) -> Any:
    """This source's row of an unfinished upload (``NotFoundError`` when it has none)."""
    if not is_valid_id(sealed_id):
        raise NotFoundError()
    with instance.engine.begin() as db:
        row = _find(db, session.source_id, sealed_id)
    if row is None:
        raise NotFoundError()
    return row


def _find(db: Connection, source_id: int, sealed_id: str) -> Any:
    return db.execute(
        select(schema.uploads).where(
            schema.uploads.c.sealed_id == sealed_id,
            schema.uploads.c.source_id == source_id,
        )
    ).first()


@dataclass(frozen=True)
class _Stored:
    """An upload as a transaction found it: its state, and its row while it has one."""

    state: UploadState
    row: Any  # None once complete: only the submission is left


def _load(db: Connection, source_id: int, sealed_id: str) -> _Stored:
    """Where this source's upload ``sealed_id`` stands: its row's state, or ``complete`` for an
    id of one of the source's submissions. ``NotFoundError`` for anything else: an id never
    used, an upload abandoned or expired, another source's."""
    if not is_valid_id(sealed_id):
        raise NotFoundError()
    row = _find(db, source_id, sealed_id)
    if row is not None:
        return _Stored(UploadState(row.state), row)
    if _completed_in(db, source_id, sealed_id):
        return _Stored(UploadState.COMPLETE, None)
    raise NotFoundError()


class _Moved(Exception):
    """The upload's stored state changed between a transaction's load and its write."""


def _move(
    db: Connection,
    stored: _Stored,
    event: UploadEvent,
    *where: ColumnElement[bool],
    **values: object,
) -> UploadState:
    """Run ``event`` on the loaded state (``wrong_state`` if the lifecycle refuses it) and
    store the state it leads to, in the caller's transaction: the row is updated (with
    ``values``), or deleted when the upload leaves the table, only where it still holds the
    loaded state (and ``where``). :class:`_Moved` when it no longer does."""
    after = transition(stored.state, event)
    if stored.row is None:  # complete: no row, and nothing leaves that state
        return after
    match = (
        schema.uploads.c.sealed_id == stored.row.sealed_id,
        schema.uploads.c.state == stored.state.value,
        *where,
    )
    if after in (UploadState.COMPLETE, UploadState.GONE):
        result = db.execute(delete(schema.uploads).where(*match))
    elif after is not stored.state or values:
        result = db.execute(update(schema.uploads).where(*match).values(state=after, **values))
    else:
        return after
    if result.rowcount != 1:
        raise _Moved()
    return after


def _transaction(
    instance: Instance,
    action: Callable[[Connection], T],
    retry: tuple[type[Exception], ...] = (_Moved,),
) -> T:
    """Run ``action`` in a transaction of its own; again, from a fresh load, when it finds the
    upload moved by another request (``retry``)."""
    for _attempt in range(MOVE_ATTEMPTS - 1):
        try:
            with instance.engine.begin() as db:
                return action(db)
        except retry:
            continue
    try:
        with instance.engine.begin() as db:
            return action(db)
    except _Moved:
        raise UploadConflictError(N_("Another request changed this upload; try again")) from None


def _note(session: SourceSession, sealed_note: bytes) -> JsonObject | None:
    """A resume note decrypted in memory with the session's reply identity (None if it is
    not one). The note is the client's format: relayed as the JSON object it is."""
    try:
        plain = crypto.decrypt(sealed_note, [session.reply_identity], what="note")
        loaded = load_json(plain, "note")
    except (TainikError, RecordError):
        return None
    return cast("JsonObject", loaded) if isinstance(loaded, dict) else None


def _view(instance: Instance, session: SourceSession, row: Any) -> UploadView:
    updated = stored_time(row.updated_at)
    received, manifest = _parts(instance, row)
    return UploadView(
        id=row.sealed_id,
        segments=int(row.segments),
        received=tuple(received),
        manifest=manifest,
        note=_note(session, row.sealed_note),
        expires=updated + timedelta(hours=instance.config.unfinished_upload_hours),
    )


def _parts(instance: Instance, row: Any) -> tuple[list[int], bool]:
    """The segments and manifest an upload holds. One that is committing held every part
    (its parts may be in the blob store already): its client sends nothing and completes
    again, which finishes a commit that a crash cut short."""
    if row.state == UploadState.COMMITTING:
        return list(range(int(row.segments))), True
    return instance.uploads.received(row.sealed_id), instance.uploads.has_manifest(row.sealed_id)


def _activity(instance: Instance, row: Any) -> dict[str, object]:
    """The values that push back an upload's expiry, when due: at most once per
    :data:`ACTIVITY_GRANULARITY`, since a write transaction (an fsync of the WAL) for every
    4 MiB segment would cost more than the segment. (None for an upload without a row.)"""
    now = instance.clock()
    if row is None or now - stored_time(row.updated_at) < ACTIVITY_GRANULARITY:
        return {}
    return {"updated_at": now}


def check_room(
    instance: Instance, store: Blobs | Uploads, size: int, *, started: bool = False
) -> None:
    """Refuse (``507``) to write ``size`` more bytes into ``store`` when less than the
    instance's ``min_free_bytes`` would stay free: new uploads stop there, leaving the rest to
    staff. Uploads already under way may go on into the first half of that margin, so that
    most can finish, never into the second. (An object store does not tell its free space:
    it answers "full" itself, and that is ``507`` too.)"""
    keep = instance.config.min_free_bytes // (2 if started else 1)
    free = store.free_bytes()
    if free is not None and free - size < keep:
        raise StorageFullError(N_("The server's storage is nearly full"))


def reserved_bytes(segments: int) -> int:
    """What an unfinished upload of ``segments`` segments may come to hold: its quota claim."""
    return segments * PROTOCOL_SEGMENT_SIZE


def _check_quota(db: Connection, instance: Instance, session: SourceSession, segments: int) -> None:
    """Refuse (``413 quota``) a new upload that would take the source's unfinished uploads
    past ``max_unfinished_bytes`` of declared size (one new upload of a source at a time, so
    that concurrent ones see each other's claim)."""
    locks.hold(db, "upload quota", session.source_id)
    claimed = db.execute(
        select(func.coalesce(func.sum(schema.uploads.c.segments), 0)).where(
            schema.uploads.c.source_id == session.source_id
        )
    ).scalar_one()
    limit = instance.config.max_unfinished_bytes
    if reserved_bytes(int(claimed) + segments) > limit:
        raise QuotaError(
            N_(
                "Your unfinished uploads would hold more than this server keeps for one "
                "source ({limit}); finish or abandon some first"
            ),
            limit=human_bytes(limit),
        )


def check_new_upload(sealed_id: str, segments: int, sealed_note: bytes) -> None:
    """Refuse a malformed request to create an upload (before a new source is written)."""
    if not is_valid_id(sealed_id):
        raise UploadIdError(N_("The upload id is not a sealed-file id"))
    if not 1 <= segments <= MAX_SEGMENTS:
        raise SegmentCountError(N_("The number of segments is out of range"))
    if not sealed_note or len(sealed_note) > max_note_bytes(segments):
        raise UploadNoteError(N_("The upload note is missing or too large"))
    if not sealed_note.startswith(b"age-encryption.org/v1\n"):
        raise UploadNoteError(N_("The upload note is not an age file"))


def create_upload(
    instance: Instance, session: SourceSession, sealed_id: str, segments: int, sealed_note: bytes
) -> tuple[UploadView, bool]:
    """Create an upload, or return the existing one of this source; (view, created).

    An id this source already completed answers as an upload holding everything: a client
    that lost the answer to ``complete`` (a dropped circuit, a killed sender) then sends
    nothing and completes again (idempotent), instead of failing for ever on a taken id."""
    check_new_upload(sealed_id, segments, sealed_note)
    now = instance.clock()
    with instance.engine.begin() as db:
        row = db.execute(
            select(schema.uploads).where(schema.uploads.c.sealed_id == sealed_id)
        ).first()
        if row is not None:
            if row.source_id != session.source_id:
                raise UploadConflictError(N_("That upload id is taken"))
            existing = row
        else:
            taken = db.execute(
                select(schema.submissions.c.source_id).where(
                    schema.submissions.c.sealed_id == sealed_id
                )
            ).first()
            if taken is not None and taken.source_id == session.source_id:
                return _delivered(session, sealed_id, segments, sealed_note, now), False
            if taken is not None or instance.blobs.exists(sealed_id):
                raise UploadConflictError(N_("That upload id is taken"))
            # New uploads only: one already delivered stays delivered, and an unfinished
            # one meets the limit at its last segment.
            _check_limit(instance, smallest_upload(segments))
            _check_quota(db, instance, session, segments)
            check_room(instance, instance.uploads, 0)
            db.execute(
                insert(schema.uploads).values(
                    sealed_id=sealed_id,
                    source_id=session.source_id,
                    state=UPLOAD_LIFECYCLE.initial,
                    segments=segments,
                    sealed_note=sealed_note,
                    created_at=now,
                    updated_at=now,
                )
            )
            existing = None
    if existing is not None:
        return _view(instance, session, existing), False
    instance.uploads.create(sealed_id)
    return _view(instance, session, _row(instance, session, sealed_id)), True


def _delivered(
    session: SourceSession, sealed_id: str, segments: int, sealed_note: bytes, now: datetime
) -> UploadView:
    """The view of an upload this source already completed: every part present."""
    return UploadView(
        id=sealed_id,
        segments=segments,
        received=tuple(range(segments)),
        manifest=True,
        note=_note(session, sealed_note),
        expires=now,
    )


def get_upload(instance: Instance, session: SourceSession, sealed_id: str) -> UploadView:
    """One upload of this source."""
    return _view(instance, session, _row(instance, session, sealed_id))


def list_uploads(instance: Instance, session: SourceSession) -> list[UploadView]:
    """The source's unfinished uploads, notes decrypted in memory."""
    with instance.engine.begin() as db:
        rows = db.execute(
            select(schema.uploads)
            .where(schema.uploads.c.source_id == session.source_id)
            .order_by(schema.uploads.c.created_at)
        ).all()
    return [_view(instance, session, row) for row in rows]


def put_segment(
    instance: Instance, session: SourceSession, sealed_id: str, index: int, body: list[bytes]
) -> None:
    """Store segment ``index``, given as the chunks it arrived in (never joined: a segment
    is written as it came). Says nothing of the other segments: counting them would list
    the upload's folder on every request, thousands of entries for a large trove.

    The state is checked (and the expiry pushed back) in one transaction before the write;
    a complete that commits the upload meanwhile moves its folder away, and the write then
    finds that the upload no longer receives."""

    def check(db: Connection) -> None:
        stored = _load(db, session.source_id, sealed_id)
        _move(db, stored, UploadEvent.SEGMENT, **_activity(instance, stored.row))
        segments = int(stored.row.segments)
        if not 0 <= index < segments:
            raise SegmentIndexError(
                N_("Segment {index} is beyond the upload's {count}"),
                index=index,
                count=segments,
            )
        size = sum(len(chunk) for chunk in body)
        if size > max_segment_bytes():
            raise UploadTooLargeError(
                N_("Segment {index} is larger than any valid segment"), index=index
            )
        header = header_length(_prefix(body, HEADER_PREFIX), index)
        check_segment_size(index, segments, size, header)
        if index == segments - 1:  # now the exact size is known
            last = plaintext_length(size - header, PROTOCOL_SEGMENT_SIZE)
            _check_limit(instance, smallest_upload(segments, last))

    _transaction(instance, check)
    check_room(instance, instance.uploads, sum(len(chunk) for chunk in body), started=True)
    _receive(
        instance,
        session,
        sealed_id,
        UploadEvent.SEGMENT,
        lambda: instance.uploads.put_segment(sealed_id, index, body),
    )


def _receive(
    instance: Instance,
    session: SourceSession,
    sealed_id: str,
    event: UploadEvent,
    write: Callable[[], None],
) -> None:
    """Write a part of an upload whose state allowed ``event``. A write that fails because
    the folder has gone meanwhile (committed or abandoned by another request) says what the
    upload is now: ``wrong_state``, or not found."""
    try:
        write()
    except (OSError, StorageError):
        with instance.engine.begin() as db:
            transition(_load(db, session.source_id, sealed_id).state, event)
        raise


def upload_limit(instance: Instance) -> int:
    """The most plaintext bytes one upload through the API may carry: the instance's limit
    (the no-JS form's), or the protocol's :data:`MAX_UPLOAD_BYTES` if that is lower."""
    limit = instance.config.max_upload_bytes
    return min(limit, MAX_UPLOAD_BYTES) if limit else MAX_UPLOAD_BYTES


def _check_limit(instance: Instance, size: int) -> None:
    """Refuse an upload certainly larger than the instance's limit (``413 too_large``): the
    same limit the no-JS form has, for each file uploaded through the API."""
    limit = instance.config.max_upload_bytes
    if limit and size > limit:
        raise UploadTooLargeError(
            N_("The upload is larger than this server accepts ({limit})"),
            limit=human_bytes(limit),
        )


def _prefix(chunks: list[bytes], size: int) -> bytes:
    """The first ``size`` bytes of the chunks (fewer if there are fewer)."""
    taken: list[bytes] = []
    have = 0
    for chunk in chunks:
        if have >= size:
            break
        taken.append(chunk[: size - have])
        have += len(taken[-1])
    return b"".join(taken)


def put_manifest(instance: Instance, session: SourceSession, sealed_id: str, body: bytes) -> None:
    """Store the sealed manifest (the state checked as for a segment)."""

    def check(db: Connection) -> None:
        stored = _load(db, session.source_id, sealed_id)
        _move(db, stored, UploadEvent.MANIFEST, **_activity(instance, stored.row))
        if len(body) > MAX_MANIFEST_CIPHERTEXT:
            raise UploadTooLargeError(N_("The manifest is too large"))
        header_length(body, -1)

    _transaction(instance, check)
    _receive(
        instance,
        session,
        sealed_id,
        UploadEvent.MANIFEST,
        lambda: instance.uploads.put_manifest(sealed_id, body),
    )


def complete(
    instance: Instance, session: SourceSession, sealed_id: str, kind: Kind = Kind.FILE
) -> None:
    """Check every part is present, then commit the upload as a submission of ``kind``;
    idempotent. The session is marked active in the transaction that decides.

    ``kind`` is the client's word (the server cannot read the manifest): it decides how the
    newsroom lists the submission; the workstation checks it against the manifest.

    Completes of one upload may arrive together (a client's retry while the first is still
    running, two tabs): one at a time in this process (``instance.commits``), and across
    processes through the stored state: the first moves the upload from ``receiving`` to
    ``committing``; every other finds it committing (and helps it finish, idempotently) or
    complete, and answers as the committer did (:func:`_commit`)."""
    with instance.commits:
        state = _transaction(instance, lambda db: _begin_commit(db, instance, session, sealed_id))
        if state is UploadState.COMMITTING:
            _commit(instance, sealed_id, session.source_id, kind, session)


def _begin_commit(
    db: Connection, instance: Instance, session: SourceSession, sealed_id: str
) -> UploadState:
    """The complete event on the upload's stored state: ``receiving`` (every part checked
    present) becomes ``committing``; ``committing`` stays so, for this caller to finish;
    ``complete`` stays so, and the session is marked active at once."""
    stored = _load(db, session.source_id, sealed_id)
    if stored.state is UploadState.RECEIVING:
        try:
            _check_present(instance, sealed_id, int(stored.row.segments))
        except UploadError:
            # Another request may have begun the commit since we loaded, and moved the parts.
            if _load(db, session.source_id, sealed_id).state is not stored.state:
                raise _Moved() from None
            raise
    after = _move(db, stored, UploadEvent.COMPLETE, **_activity(instance, stored.row))
    if after is UploadState.COMPLETE:
        touch_in(db, instance, session)
    return after


def _completed_in(db: Connection, source_id: int, sealed_id: str) -> bool:
    """True when ``sealed_id`` is already a submission of this source."""
    done = db.execute(
        select(schema.submissions.c.source_id).where(schema.submissions.c.sealed_id == sealed_id)
    ).first()
    return done is not None and done.source_id == source_id


def _check_present(instance: Instance, sealed_id: str, segments: int) -> None:
    """Raise ``incomplete`` unless the manifest and segments ``0 … segments−1`` are there."""
    # The count comes from a request: walk what is present, never a set of every index.
    absent, listed = missing_segments(
        instance.uploads.received(sealed_id), segments, MISSING_LISTED
    )
    manifest = instance.uploads.has_manifest(sealed_id)
    if absent or not manifest:
        raise IncompleteError(
            N_("The upload is not complete; parts missing: {count}"),
            count=absent + (0 if manifest else 1),
            missing=listed,
        )


def _commit(
    instance: Instance,
    sealed_id: str,
    source_id: int,
    kind: Kind = Kind.FILE,
    session: SourceSession | None = None,
) -> None:
    """Finish a commit the upload's state says has begun: rename into the blob store, then
    record (docs/protocol.md, "Completing").

    Either step may find it done already: by a commit that a crash cut short (recovery), or
    by another process completing the same upload at the same moment. The record is one
    transaction: the submission, the upload's row gone (``record``), the source's activity
    and the completing session's."""
    if not instance.blobs.exists(sealed_id):
        try:
            instance.uploads.commit(sealed_id, instance.blobs)
        except OSError:
            if not instance.blobs.exists(sealed_id):  # not by someone else: a real failure
                raise

    def record(db: Connection) -> None:
        stored = _load(db, source_id, sealed_id)
        if stored.state is UploadState.COMPLETE:  # recorded by another process meanwhile
            _move(db, stored, UploadEvent.COMPLETE)
        else:
            _move(db, stored, UploadEvent.RECORD)
            now = instance.clock()
            db.execute(
                insert(schema.submissions).values(
                    source_id=source_id,
                    sealed_id=sealed_id,
                    kind=kind.value,
                    ciphertext_bytes=instance.blobs.size_of(sealed_id),
                    created_at=now,
                )
            )
            db.execute(
                update(schema.sources)
                .where(schema.sources.c.id == source_id)
                .values(last_activity=now)
            )
        if session is not None:
            touch_in(db, instance, session)

    # The sealed id is unique: an IntegrityError is another process's record of it.
    _transaction(instance, record, retry=(_Moved, IntegrityError))


def abandon(instance: Instance, session: SourceSession, sealed_id: str) -> None:
    """Remove an unfinished upload."""
    _transaction(
        instance, lambda db: _move(db, _load(db, session.source_id, sealed_id), UploadEvent.ABANDON)
    )
    instance.uploads.remove(sealed_id)


def expire_uploads(instance: Instance) -> int:
    """Remove uploads idle past the instance's limit; returns how many. (One committing is
    left to its completes, or to recovery at the next start.)"""
    cutoff = instance.clock() - timedelta(hours=instance.config.unfinished_upload_hours)
    up = schema.uploads
    with instance.engine.begin() as db:
        stale = db.execute(
            select(up.c.sealed_id, up.c.source_id).where(
                up.c.updated_at < cutoff, up.c.state == UploadState.RECEIVING
            )
        ).all()
    expired = 0
    for sealed_id, source_id in stale:

        def expire(db: Connection, sealed_id: str = sealed_id, source_id: int = source_id) -> bool:
            try:
                stored = _load(db, source_id, sealed_id)
                # Not if a request came since we looked.
                _move(db, stored, UploadEvent.EXPIRE, up.c.updated_at < cutoff)
            except (_Moved, UploadError, NotFoundError):
                return False
            return True

        if _transaction(instance, expire):
            instance.uploads.remove(sealed_id)
            expired += 1
    return expired


def reconcile(instance: Instance) -> None:
    """After a crash, before serving: finish commits that were renamed but not recorded, put
    back to ``receiving`` those that were not renamed (their clients were never told, and
    complete again), and drop stray folders."""
    up = schema.uploads
    with instance.engine.begin() as db:
        rows = db.execute(select(up.c.sealed_id, up.c.source_id, up.c.state)).all()
    known = set()
    for sealed_id, source_id, state in rows:
        known.add(sealed_id)
        if instance.blobs.exists(sealed_id):
            instance.uploads.remove(sealed_id)  # a folder made again after the rename
            if state == UploadState.RECEIVING:  # a commit cut short by a release before states
                _advance(instance, source_id, sealed_id, UploadEvent.COMPLETE)
            _commit(instance, sealed_id, int(source_id))
            continue
        instance.uploads.create(sealed_id)  # a folder lost to a crash is recreated empty
        instance.uploads.clear_temporaries(sealed_id)
        if state == UploadState.COMMITTING:
            _advance(instance, source_id, sealed_id, UploadEvent.RECOVER)
    for sealed_id in instance.uploads.ids():
        if sealed_id not in known:
            instance.uploads.remove(sealed_id)


def _advance(instance: Instance, source_id: int, sealed_id: str, event: UploadEvent) -> None:
    _transaction(instance, lambda db: _move(db, _load(db, source_id, sealed_id), event))
