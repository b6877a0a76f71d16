"""Sources: codenames, sessions, replies. The codename is held in memory only.

A session cookie carries two random values: a token (the server keeps only its SHA-256) and
a session key. The server keeps the source's reply identity age-encrypted to the session key,
so neither the database alone nor the cookie alone reveals it.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tainik import crypto, wordlists
from tainik.core.codename import check_words
from tainik.core.manifest import Kind
from tainik.crypto import Identity, Secret
from tainik.sealed.writer import SegmentSealer, new_sealed_id
from tainik.service.errors import LoginError, NotFoundError, SessionError
from tainik.service.instance import Instance
from tainik.service.new_source import PREFIX as NEW_PREFIX
from tainik.service.new_source import NewSource
from tainik.storage import schema
from tainik.storage.database import stored_time
from tainik.storage.space import unless_full

MAX_REPLY_BYTES = 1024 * 1024
# Activity clocks (a session's inactivity, an upload's expiry) are written at most this often:
# each write is a committed transaction, and a busy upload makes a request every few seconds.
ACTIVITY_GRANULARITY = timedelta(minutes=1)
T = TypeVar("T")


@dataclass(frozen=True)
class SourceSession:
    """A logged-in source, for the length of one request."""

    source_id: int
    token_hash: bytes
    reply_identity: Identity


@dataclass(frozen=True)
class Reply:
    """A decrypted reply, for display in this request only."""

    id: int
    created_at: datetime
    text: str
    new: bool = False  # not shown on the source's page before


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(instance: Instance, codename: Secret, *, returning: bool) -> crypto.SourceKeys:
    # A returning source's derivation goes ahead of new sources' in the gate's queue: a
    # flood of strangers asking for codenames must not keep sources out of their replies.
    with instance.kdf_gate.slot(priority=returning):
        config = instance.config
        return crypto.derive_source_keys(codename, config.codename_salt, config.kdf)


def _session_lifetime(instance: Instance) -> timedelta:
    return timedelta(minutes=instance.config.session_idle_minutes)


def open_session(db: Connection, instance: Instance, source_id: int, identity: Identity) -> Secret:
    """A new session of a source, inside the caller's transaction; returns the cookie value."""
    token, key = secrets.token_bytes(32), secrets.token_bytes(32)
    session_identity = Identity.from_x25519_scalar(key)
    sealed = crypto.encrypt(identity.secret.reveal().encode(), [session_identity.recipient])
    db.execute(
        insert(schema.source_sessions).values(
            token_hash=crypto.sha256(token),
            source_id=source_id,
            sealed_reply_identity=sealed,
            last_seen=instance.clock(),
        )
    )
    return Secret(f"{_b64(token)}.{_b64(key)}")


def new_codename(instance: Instance) -> tuple[Secret, Secret]:
    """A codename for a new source, and the cookie that carries it: (codename, cookie).

    Nothing is written and nothing is derived (service/new_source.py): the source's row and
    keys come with its first submission (:func:`source_row`, :func:`with_keys`)."""
    codename = wordlists.generate()
    new = NewSource.fresh(codename, instance.clock())
    return codename, instance.new_sources.seal(new)


def with_keys(instance: Instance, new: NewSource) -> NewSource:
    """``new`` with its keys, derived now (Argon2id, at the KDF gate) if not already."""
    if new.keys is not None:
        return new
    return replace(new, keys=_derive(instance, new.codename, returning=False))


def seal_new(instance: Instance, new: NewSource) -> Secret:
    """The cookie of a new source, its lifetime counted from now."""
    return instance.new_sources.seal(new.renewed(instance.clock()))


def source_row(db: Connection, instance: Instance, keys: crypto.SourceKeys) -> int:
    """The id of the source whose codename derived ``keys``, its row written now if this is
    its first submission (inside the caller's transaction; a concurrent first submission of
    the same codename makes this one fail with IntegrityError: see :func:`first_time`)."""
    found = db.execute(
        select(schema.sources.c.id, schema.sources.c.lookup).where(
            schema.sources.c.lookup == keys.lookup
        )
    ).first()
    if found is not None and keys.matches(found.lookup):
        return int(found.id)
    now = instance.clock()
    source_id = db.execute(
        insert(schema.sources).values(
            lookup=keys.lookup,
            reply_recipient=keys.identity.recipient.text,
            designation=wordlists.designation(),
            created_at=now,
            last_activity=now,
            starred=False,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    return int(source_id)


def first_time(action: Callable[[], T]) -> T:
    """``action()``, once more if it lost a race to write the same new source's row (two
    first submissions of one codename at once): the second finds the first's row."""
    try:
        return action()
    except IntegrityError:
        return action()


def adopt(instance: Instance, new: NewSource) -> tuple[SourceSession, Secret]:
    """A new source's first resumable upload is about to start: derive its keys if needed,
    write its row (or find it, after a lost answer) and open a session; (session, cookie)."""
    keyed = with_keys(instance, new)
    keys = keyed.keys
    assert keys is not None

    def write() -> Secret:
        with instance.engine.begin() as db:
            source_id = source_row(db, instance, keys)
            return open_session(db, instance, source_id, keys.identity)

    cookie = first_time(write)
    return resume(instance, cookie.reveal()), cookie


def login(instance: Instance, typed: str, *, new_ok: bool = False) -> Secret:
    """Log a returning source in by codename; returns the session cookie value.

    A codename that no source has is refused (:class:`LoginError`): a typo must never open an
    empty session. ``new_ok`` is for ``tainik send``, which holds a codename it got from this
    server and may not have sent anything with yet: then the answer is a new source's cookie
    (keys derived, nothing stored)."""
    # Text that is not a codename is refused before any Argon2id work, and costs nothing;
    # a well-formed one waits its turn at the KDF gate. No failure is counted: a budget of
    # failures would let anybody lock every source out (see service/kdf_gate.py).
    check_words(typed, wordlists.vocabulary())
    keys = _derive(instance, Secret(typed), returning=True)
    with instance.engine.begin() as db:
        row = db.execute(
            select(schema.sources.c.id, schema.sources.c.lookup).where(
                schema.sources.c.lookup == keys.lookup
            )
        ).first()
        if row is not None and keys.matches(row.lookup):
            # One transaction: an expiry of empty sources cannot slip in between.
            return open_session(db, instance, int(row.id), keys.identity)
    if new_ok:
        return seal_new(instance, NewSource.fresh(Secret(typed), instance.clock(), keys))
    raise LoginError()


def identify(instance: Instance, cookie: str | None) -> SourceSession | NewSource:
    """Who a cookie names: a source's live session, or a new source (nothing stored yet)."""
    if cookie and cookie.startswith(NEW_PREFIX):
        new = instance.new_sources.open(cookie, instance.clock(), _session_lifetime(instance))
        if new is None:
            raise SessionError()
        return new
    return resume(instance, cookie)


def end_new(instance: Instance, new: NewSource) -> None:
    """Log a new source out: its cookie is refused from now on."""
    instance.new_sources.revoke(new)


def resume(instance: Instance, cookie: str | None) -> SourceSession:
    """The session a cookie names, if it is live; refreshes its inactivity clock."""
    if not cookie or cookie.count(".") != 1 or len(cookie) > 200:
        raise SessionError()
    token_text, key_text = cookie.split(".")
    try:
        token, key = _unb64(token_text), _unb64(key_text)
    except ValueError as exc:
        raise SessionError() from exc
    if len(token) != 32 or len(key) != 32:
        raise SessionError()
    now = instance.clock()
    idle = _session_lifetime(instance)
    token_hash = crypto.sha256(token)
    sessions = schema.source_sessions
    with instance.engine.begin() as db:
        row = db.execute(select(sessions).where(sessions.c.token_hash == token_hash)).first()
    if row is None:
        raise SessionError()
    if stored_time(row.last_seen) + idle < now:

        def forget() -> None:
            with instance.engine.begin() as db:
                db.execute(delete(sessions).where(sessions.c.token_hash == token_hash))

        unless_full(forget)  # else housekeeping removes it
        raise SessionError()
    if now - stored_time(row.last_seen) >= min(ACTIVITY_GRANULARITY, idle / 10):

        def refresh() -> None:
            with instance.engine.begin() as db:
                db.execute(
                    update(sessions)
                    .where(sessions.c.token_hash == token_hash)
                    .values(last_seen=now)
                )

        unless_full(refresh)  # a full disk must not end a source's reading
    try:
        secret = crypto.decrypt(
            row.sealed_reply_identity, [Identity.from_x25519_scalar(key)], what="session"
        )
    except Exception as exc:
        raise SessionError() from exc
    return SourceSession(int(row.source_id), token_hash, Identity(Secret(secret.decode())))


def touch(instance: Instance, session: SourceSession) -> None:
    """Mark the session active now (after a long upload, for instance)."""
    with instance.engine.begin() as db:
        touch_in(db, instance, session)


def touch_in(db: Connection, instance: Instance, session: SourceSession) -> None:
    """:func:`touch`, inside the caller's transaction (a use case that writes anyway)."""
    db.execute(
        update(schema.source_sessions)
        .where(schema.source_sessions.c.token_hash == session.token_hash)
        .values(last_seen=instance.clock())
    )


def logout(instance: Instance, session: SourceSession) -> None:
    """End the session."""
    with instance.engine.begin() as db:
        db.execute(
            delete(schema.source_sessions).where(
                schema.source_sessions.c.token_hash == session.token_hash
            )
        )


def expire_sessions(instance: Instance) -> int:
    """Remove sessions idle for longer than the limit; returns how many."""
    cutoff = instance.clock() - timedelta(minutes=instance.config.session_idle_minutes)
    with instance.engine.begin() as db:
        result = db.execute(
            delete(schema.source_sessions).where(schema.source_sessions.c.last_seen < cutoff)
        )
    return int(result.rowcount)


def expire_empty(instance: Instance) -> int:
    """Remove sources that have nothing: no submission, no reply, no unfinished upload and no
    live session (a row from before sources were written only with their first submission, a
    source whose every item was deleted, one whose only uploads expired unfinished); returns
    how many. Their codenames are then unknown here, as if never used. Run after expiring
    uploads and sessions."""
    src = schema.sources
    empty = [
        ~exists().where(table.c.source_id == src.c.id)
        for table in (
            schema.submissions,
            schema.replies,
            schema.uploads,
            schema.source_sessions,
        )
    ]
    with instance.engine.begin() as db:
        result = db.execute(delete(src).where(*empty))
    return int(result.rowcount)


def add_reply(instance: Instance, source_id: int, text: str) -> int:
    """Seal a reply to the source and to the organisation; returns its id."""
    with instance.engine.begin() as db:
        recipient = db.execute(
            select(schema.sources.c.reply_recipient).where(schema.sources.c.id == source_id)
        ).scalar()
    if recipient is None:
        raise NotFoundError()
    recipients = [crypto.Recipient(recipient), *instance.config.recipients]
    sealed_id = new_sealed_id()
    sink = instance.blobs.new_sink(sealed_id)
    try:
        sealer = SegmentSealer(recipients, sink, kind=Kind.REPLY, sealed_id=sealed_id)
        sealer.write(text.encode("utf-8"))
        sealer.finish()
        sink.commit()
    except BaseException:
        sink.abort()
        raise
    try:
        with instance.engine.begin() as db:
            reply_id = db.execute(
                insert(schema.replies).values(
                    source_id=source_id,
                    sealed_id=sealed_id,
                    created_at=instance.clock(),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
    except BaseException:
        instance.blobs.delete(sealed_id)
        raise
    return int(reply_id)


def list_replies(instance: Instance, session: SourceSession) -> list[Reply]:
    """The source's replies, decrypted in memory with the session's reply identity."""
    with instance.engine.begin() as db:
        rows = db.execute(
            select(schema.replies)
            .where(schema.replies.c.source_id == session.source_id)
            .order_by(schema.replies.c.id)
        ).all()
    replies = []
    for row in rows:
        opened = instance.blobs.read_small(row.sealed_id, [session.reply_identity], MAX_REPLY_BYTES)
        replies.append(
            Reply(
                int(row.id),
                stored_time(row.created_at),
                opened.data.decode("utf-8", errors="replace"),
                new=not row.seen_by_source,
            )
        )
    return replies


def mark_replies_seen(instance: Instance, session: SourceSession, reply_ids: list[int]) -> None:
    """Record that the source's page has shown these replies: no longer announced as new."""
    if not reply_ids:
        return
    with instance.engine.begin() as db:
        db.execute(
            update(schema.replies)
            .where(
                schema.replies.c.source_id == session.source_id,
                schema.replies.c.id.in_(reply_ids),
            )
            .values(seen_by_source=True)
        )


def delete_reply(instance: Instance, session: SourceSession, reply_id: int) -> None:
    """Delete one of the source's replies (row and blob)."""
    with instance.engine.begin() as db:
        sealed_id = db.execute(
            select(schema.replies.c.sealed_id).where(
                schema.replies.c.id == reply_id,
                schema.replies.c.source_id == session.source_id,
            )
        ).scalar()
        if sealed_id is None:
            raise NotFoundError()
        db.execute(delete(schema.replies).where(schema.replies.c.id == reply_id))
    instance.blobs.delete(sealed_id)
