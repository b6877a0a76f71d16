"""Resumable uploads (docs/protocol.md): the server side, holding only ciphertext.

Every function takes the source's session and only ever touches that source's uploads; an
upload of another source is reported as not found.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tainik import crypto
from tainik.core.errors import N_, StorageFullError, TainikError
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
from tainik.service.sources import ACTIVITY_GRANULARITY, SourceSession
from tainik.storage import schema
from tainik.storage.database import stored_time
from tainik.storage.space import free_bytes

BASE_NOTE_BYTES = 64 * 1024
# A one-segment upload's note may carry a message's segment, sealed to the organisation, in
# base64 (docs/protocol.md), so that a page reloaded before the segment arrived still sends it:
# room for the longest message (MAX_MESSAGE_CHARS of up to 4 bytes each) and its age headers.
MESSAGE_NOTE_BYTES = 640 * 1024


def max_note_bytes(segments: int) -> int:
    """The largest sealed note accepted for an upload of ``segments`` segments."""
    if segments == 1:
        return MESSAGE_NOTE_BYTES
    return BASE_NOTE_BYTES + 100 * max(0, segments - 256)


# The largest note of all (an upload of MAX_SEGMENTS segments): about 25 MiB.
MAX_NOTE_BYTES = max_note_bytes(MAX_SEGMENTS)


def _row(instance: Instance, session: SourceSession, sealed_id: str) -> Any:
    if not is_valid_id(sealed_id):
        raise NotFoundError()
    with instance.engine.begin() as db:
        row = db.execute(
            select(schema.uploads).where(
                schema.uploads.c.sealed_id == sealed_id,
                schema.uploads.c.source_id == session.source_id,
            )
        ).first()
    if row is None:
        raise NotFoundError()
    return row


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
    return UploadView(
        id=row.sealed_id,
        segments=int(row.segments),
        received=tuple(instance.uploads.received(row.sealed_id)),
        manifest=instance.uploads.has_manifest(row.sealed_id),
        note=_note(session, row.sealed_note),
        expires=updated + timedelta(hours=instance.config.unfinished_upload_hours),
    )


def _touch(instance: Instance, row: Any) -> None:
    """Push back the upload's expiry, at most once per :data:`ACTIVITY_GRANULARITY`: a write
    transaction (an fsync of the WAL) for every 4 MiB segment would cost more than the
    segment."""
    now = instance.clock()
    if now - stored_time(row.updated_at) < ACTIVITY_GRANULARITY:
        return
    sealed_id = row.sealed_id
    with instance.engine.begin() as db:
        db.execute(
            update(schema.uploads)
            .where(schema.uploads.c.sealed_id == sealed_id)
            .values(updated_at=now)
        )


def check_room(instance: Instance, folder: Path, size: int, *, started: bool = False) -> None:
    """Refuse (``507``) to write ``size`` more bytes under ``folder`` when less than the
    instance's ``min_free_bytes`` would stay free: new uploads stop there, leaving the rest to
    staff. Uploads already under way may go on into the first half of that margin, so that
    most can finish, never into the second."""
    keep = instance.config.min_free_bytes // (2 if started else 1)
    if free_bytes(folder) - size < keep:
        raise StorageFullError(N_("The server's storage is nearly full"))


def reserved_bytes(segments: int) -> int:
    """What an unfinished upload of ``segments`` segments may come to hold: its quota claim."""
    return segments * PROTOCOL_SEGMENT_SIZE


def _check_quota(db: Connection, instance: Instance, session: SourceSession, segments: int) -> None:
    """Refuse (``413 quota``) a new upload that would take the source's unfinished uploads
    past ``max_unfinished_bytes`` of declared size."""
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
            check_room(instance, instance.uploads.root, 0)
            db.execute(
                insert(schema.uploads).values(
                    sealed_id=sealed_id,
                    source_id=session.source_id,
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
    the upload's folder on every request, thousands of entries for a large trove."""
    row = _row(instance, session, sealed_id)
    transition(UploadState.RECEIVING, UploadEvent.SEGMENT)
    if not 0 <= index < row.segments:
        raise SegmentIndexError(
            N_("Segment {index} is beyond the upload's {count}"),
            index=index,
            count=row.segments,
        )
    size = sum(len(chunk) for chunk in body)
    if size > max_segment_bytes():
        raise UploadTooLargeError(
            N_("Segment {index} is larger than any valid segment"), index=index
        )
    header = header_length(_prefix(body, HEADER_PREFIX), index)
    check_segment_size(index, int(row.segments), size, header)
    if index == row.segments - 1:  # now the exact size is known
        last = plaintext_length(size - header, PROTOCOL_SEGMENT_SIZE)
        _check_limit(instance, smallest_upload(int(row.segments), last))
    check_room(instance, instance.uploads.root, size, started=True)
    instance.uploads.put_segment(sealed_id, index, body)
    _touch(instance, row)


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
    """Store the sealed manifest."""
    row = _row(instance, session, sealed_id)
    transition(UploadState.RECEIVING, UploadEvent.MANIFEST)
    if len(body) > MAX_MANIFEST_CIPHERTEXT:
        raise UploadTooLargeError(N_("The manifest is too large"))
    header_length(body, -1)
    instance.uploads.put_manifest(sealed_id, body)
    _touch(instance, row)


def complete(
    instance: Instance, session: SourceSession, sealed_id: str, kind: Kind = Kind.FILE
) -> None:
    """Check every part is present, then commit the upload as a submission of ``kind``;
    idempotent.

    ``kind`` is the client's word (the server cannot read the manifest): it decides how the
    newsroom lists the submission; the workstation checks it against the manifest.

    Completes of one upload may arrive together (a client's retry while the first is still
    running, two tabs): one at a time in this process (``instance.commits``), each finds
    the upload either still receiving or committed, and every one that finds it committed
    answers as the committer did. Across processes the rename and the unique sealed id
    decide, and the loser reads the winner's result (:func:`_commit`)."""
    with instance.commits:
        if _completed(instance, session.source_id, sealed_id):
            transition(UploadState.COMPLETE, UploadEvent.COMPLETE)
            return
        try:
            row = _row(instance, session, sealed_id)
        except NotFoundError:  # committed by another process since we looked
            if not _completed(instance, session.source_id, sealed_id):
                raise
            transition(UploadState.COMPLETE, UploadEvent.COMPLETE)
            return
        # Once renamed into the blob store (by a commit cut short, or under way in another
        # process) the parts are no longer in the upload's folder: only the record is left.
        try:
            if not instance.blobs.exists(sealed_id):
                _check_present(instance, sealed_id, int(row.segments))
        except UploadError:
            if not instance.blobs.exists(sealed_id):  # (renamed while we counted)
                raise
        transition(UploadState.RECEIVING, UploadEvent.COMPLETE)
        _commit(instance, sealed_id, session.source_id, kind)


def _completed(instance: Instance, source_id: int, sealed_id: str) -> bool:
    """True when ``sealed_id`` is already a submission of this source."""
    with instance.engine.begin() as db:
        done = db.execute(
            select(schema.submissions.c.source_id).where(
                schema.submissions.c.sealed_id == sealed_id
            )
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


def _commit(instance: Instance, sealed_id: str, source_id: int, kind: Kind = Kind.FILE) -> None:
    """Rename into the blob store, then record (docs/protocol.md, "Completing").

    Either step may find it done already: by a commit that a crash cut short (recovery), or
    by another process completing the same upload at the same moment."""
    destination = instance.blobs.path_of(sealed_id)
    if not destination.exists():
        try:
            instance.uploads.move_to(sealed_id, destination)
        except OSError:
            if not destination.exists():  # not renamed by someone else: a real failure
                raise
    now = instance.clock()
    try:
        with instance.engine.begin() as db:
            db.execute(
                insert(schema.submissions).values(
                    source_id=source_id,
                    sealed_id=sealed_id,
                    kind=kind.value,
                    ciphertext_bytes=instance.blobs.size_of(sealed_id),
                    created_at=now,
                )
            )
            db.execute(delete(schema.uploads).where(schema.uploads.c.sealed_id == sealed_id))
            db.execute(
                update(schema.sources)
                .where(schema.sources.c.id == source_id)
                .values(last_activity=now)
            )
    except IntegrityError:  # the sealed id is unique: recorded by another process
        if not _completed(instance, source_id, sealed_id):
            raise


def abandon(instance: Instance, session: SourceSession, sealed_id: str) -> None:
    """Remove an unfinished upload."""
    _row(instance, session, sealed_id)
    transition(UploadState.RECEIVING, UploadEvent.ABANDON)
    _remove(instance, sealed_id)


def _remove(instance: Instance, sealed_id: str) -> None:
    with instance.engine.begin() as db:
        db.execute(delete(schema.uploads).where(schema.uploads.c.sealed_id == sealed_id))
    instance.uploads.remove(sealed_id)


def expire_uploads(instance: Instance) -> int:
    """Remove uploads idle past the instance's limit; returns how many."""
    cutoff = instance.clock() - timedelta(hours=instance.config.unfinished_upload_hours)
    with instance.engine.begin() as db:
        stale = (
            db.execute(
                select(schema.uploads.c.sealed_id).where(schema.uploads.c.updated_at < cutoff)
            )
            .scalars()
            .all()
        )
    for sealed_id in stale:
        transition(UploadState.RECEIVING, UploadEvent.EXPIRE)
        _remove(instance, sealed_id)
    return len(stale)


def reconcile(instance: Instance) -> None:
    """After a crash: finish commits that were renamed but not recorded; drop stray folders."""
    with instance.engine.begin() as db:
        rows = db.execute(select(schema.uploads.c.sealed_id, schema.uploads.c.source_id)).all()
    known = set()
    for row in rows:
        known.add(row.sealed_id)
        instance.uploads.create(row.sealed_id)  # a folder lost to a crash is recreated empty
        if instance.blobs.exists(row.sealed_id):
            instance.uploads.remove(row.sealed_id)
            _commit(instance, row.sealed_id, int(row.source_id))
        else:
            instance.uploads.clear_temporaries(row.sealed_id)
    for sealed_id in instance.uploads.ids():
        if sealed_id not in known:
            instance.uploads.remove(sealed_id)
