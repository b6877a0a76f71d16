"""Sources: codenames, sessions, replies. The codename is held in memory only.

A session cookie carries two random values: a token (the server keeps only its SHA-256) and
a session key. The server keeps the source's reply identity age-encrypted to the session key,
so neither the database alone nor the cookie alone reveals it.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update

from tainik import codenames, crypto
from tainik.core.codename import check_words
from tainik.core.manifest import Kind
from tainik.crypto import Identity, Secret
from tainik.sealed.reader import read_small
from tainik.sealed.writer import SegmentSealer, new_sealed_id
from tainik.service.errors import LoginError, NotFoundError, SessionError
from tainik.service.instance import Instance
from tainik.storage import schema
from tainik.storage.database import stored_time

MAX_REPLY_BYTES = 1024 * 1024
# Activity clocks (a session's inactivity, an upload's expiry) are written at most this often:
# each write is a committed transaction, and a busy upload makes a request every few seconds.
ACTIVITY_GRANULARITY = timedelta(minutes=1)


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


def _open_session(instance: Instance, source_id: int, identity: Identity) -> Secret:
    token, key = secrets.token_bytes(32), secrets.token_bytes(32)
    session_identity = Identity.from_x25519_scalar(key)
    sealed = crypto.encrypt(identity.secret.reveal().encode(), [session_identity.recipient])
    with instance.engine.begin() as db:
        db.execute(
            insert(schema.source_sessions).values(
                token_hash=crypto.sha256(token),
                source_id=source_id,
                sealed_reply_identity=sealed,
                last_seen=instance.clock(),
            )
        )
    return Secret(f"{_b64(token)}.{_b64(key)}")


def create_source(instance: Instance) -> tuple[Secret, Secret]:
    """A new source: returns (codename, session cookie value). Shown once, stored never."""
    codename = codenames.generate()
    keys = _derive(instance, codename, returning=False)
    now = instance.clock()
    with instance.engine.begin() as db:
        source_id = db.execute(
            insert(schema.sources).values(
                lookup=keys.lookup,
                reply_recipient=keys.identity.recipient.text,
                designation=codenames.designation(),
                created_at=now,
                last_activity=now,
                starred=False,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    return codename, _open_session(instance, int(source_id), keys.identity)


def login(instance: Instance, typed: str) -> Secret:
    """Log a returning source in by codename; returns the session cookie value."""
    # Text that is not a codename is refused before any Argon2id work, and costs nothing;
    # a well-formed one waits its turn at the KDF gate. No failure is counted: a budget of
    # failures would let anybody lock every source out (see service/kdf_gate.py).
    check_words(typed, codenames.vocabulary())
    keys = _derive(instance, Secret(typed), returning=True)
    with instance.engine.begin() as db:
        row = db.execute(
            select(schema.sources.c.id, schema.sources.c.lookup).where(
                schema.sources.c.lookup == keys.lookup
            )
        ).first()
    if row is None or not hmac.compare_digest(row.lookup, keys.lookup):
        raise LoginError()
    return _open_session(instance, int(row.id), keys.identity)


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
    idle = timedelta(minutes=instance.config.session_idle_minutes)
    token_hash = crypto.sha256(token)
    with instance.engine.begin() as db:
        row = db.execute(
            select(schema.source_sessions).where(schema.source_sessions.c.token_hash == token_hash)
        ).first()
        if row is None:
            raise SessionError()
        if stored_time(row.last_seen) + idle < now:
            db.execute(
                delete(schema.source_sessions).where(
                    schema.source_sessions.c.token_hash == token_hash
                )
            )
            raise SessionError()
        if now - stored_time(row.last_seen) >= min(ACTIVITY_GRANULARITY, idle / 10):
            db.execute(
                update(schema.source_sessions)
                .where(schema.source_sessions.c.token_hash == token_hash)
                .values(last_seen=now)
            )
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
        opened = read_small(
            instance.blobs.path_of(row.sealed_id), [session.reply_identity], MAX_REPLY_BYTES
        )
        replies.append(
            Reply(
                int(row.id),
                stored_time(row.created_at),
                opened.data.decode("utf-8", errors="replace"),
            )
        )
    return replies


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
