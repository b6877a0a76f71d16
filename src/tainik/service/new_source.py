"""A new source: a codename shown, not yet used to send anything, and stored nowhere.

Generating a codename costs the server nothing it keeps: no row, no Argon2id run. The codename
travels in the source's session cookie, sealed (ChaCha20-Poly1305) under a key the server
keeps only while cookies it sealed may still be valid (:class:`NewSourceSeal`); the server
holds no state per new source, so a flood of codename requests fills nothing. The source's
keys are derived (Argon2id) when it first sends something, or asks for its reply recipient to
seal a resumable upload's note, and are then sealed into the cookie too so they are derived
once. Its row is written with its first submission or its first resumable upload
(:mod:`tainik.service.sources`).

**The keys are shared by every server process** of the instance (``tainik serve --workers``,
several hosts on one database), or a cookie made by one process would not open on the next:
they live in the database (``cookie_keys``), one random key per *epoch*, an epoch being one
session lifetime long. A cookie is sealed under the key of the epoch it is issued in, so it
has expired by the end of the next epoch; from then on its key is deleted, when the next key
is made or by housekeeping (SQLite overwrites deleted rows: ``secure_delete``). The key used
to live in one process's memory only, so that nothing on the server's disk could ever open a
cookie. What a seized disk adds is little: a cookie still valid is itself the credential (it
carries the codename's keys), and a lapsed one opens under no key that still exists. No
source identifier is stored: a key names nobody, and its row says only that somebody was
given a codename within that epoch.

Logging out revokes the cookie in every process: its random id (never the codename) is
stored in ``revoked_cookies`` until its key is gone.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import secrets
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tainik import crypto
from tainik.crypto import Identity, Secret, SourceKeys
from tainik.storage import schema

PREFIX = "n."
MAX_COOKIE = 600
_CONTEXT = b"tainik new source cookie v1"


@dataclass(frozen=True)
class NewSource:
    """A source that has a codename and has sent nothing: held only in its cookie."""

    id: bytes  # random: names this cookie (for logout), never the codename
    issued: datetime
    codename: Secret
    keys: SourceKeys | None = None

    @classmethod
    def fresh(cls, codename: Secret, now: datetime, keys: SourceKeys | None = None) -> NewSource:
        """A new source just given (or, for ``tainik send``, just typed) its codename."""
        return cls(secrets.token_bytes(16), now, codename, keys)

    def renewed(self, now: datetime) -> NewSource:
        """The same new source, its cookie's lifetime starting again at ``now``."""
        return replace(self, issued=now)


class NewSourceSeal:
    """The keys that seal new sources' cookies, and the cookies revoked at logout: in the
    database, shared by every process serving the instance."""

    def __init__(self, engine: Engine, lifetime: timedelta) -> None:
        self._engine = engine
        self._epoch_seconds = max(1, int(lifetime.total_seconds()))
        self._keys: dict[int, bytes] = {}  # a cache: a key never changes while it exists
        self._lock = threading.Lock()

    def epoch(self, moment: datetime) -> int:
        """The epoch ``moment`` falls in."""
        return int(moment.timestamp()) // self._epoch_seconds

    def _key(self, epoch: int, *, make: bool) -> bytes | None:
        """The key of ``epoch``: cached, else read, else (``make``) made now. Making one
        deletes the keys and revocations of epochs whose cookies have all expired."""
        with self._lock:
            cached = self._keys.get(epoch)
        if cached is not None:
            return cached
        keys = schema.cookie_keys
        with self._engine.begin() as db:
            found = db.execute(select(keys.c.key).where(keys.c.epoch == epoch)).scalar()
        if found is None and make:
            fresh = secrets.token_bytes(crypto.BOX_KEY_BYTES)
            try:
                with self._engine.begin() as db:
                    db.execute(insert(keys).values(epoch=epoch, key=fresh))
                    forget_expired(db, epoch)
                found = fresh
            except IntegrityError:  # another process made it at the same moment
                with self._engine.begin() as db:
                    found = db.execute(select(keys.c.key).where(keys.c.epoch == epoch)).scalar()
        if found is None:
            return None
        with self._lock:
            self._keys = {e: k for e, k in self._keys.items() if e >= epoch - 1}
            self._keys[epoch] = bytes(found)
        return bytes(found)

    def seal(self, new: NewSource) -> Secret:
        """The cookie value of ``new``."""
        record: dict[str, object] = {
            "i": new.id.hex(),
            "t": int(new.issued.timestamp()),
            "c": new.codename.reveal(),
        }
        if new.keys is not None:
            record["l"] = new.keys.lookup.hex()
            record["k"] = new.keys.identity.secret.reveal()
        key = self._key(self.epoch(new.issued), make=True)
        assert key is not None
        sealed = crypto.seal_box(key, json.dumps(record).encode("utf-8"), _CONTEXT)
        return Secret(PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("="))

    def open(self, cookie: str, now: datetime, lifetime: timedelta) -> NewSource | None:
        """The new source a cookie carries, or None (not one, forged, expired, revoked)."""
        if not cookie.startswith(PREFIX) or len(cookie) > MAX_COOKIE:
            return None
        text = cookie[len(PREFIX) :]
        try:
            sealed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            return None
        # Issued in this epoch or the one before: any older has expired.
        current = self.epoch(now)
        plain = None
        for epoch in (current, current - 1):
            key = self._key(epoch, make=False)
            if key is not None:
                plain = crypto.open_box(key, sealed, _CONTEXT)
                if plain is not None:
                    break
        if plain is None:
            return None
        record = json.loads(plain)
        new_id = bytes.fromhex(record["i"])
        issued = datetime.fromtimestamp(record["t"], UTC)
        if issued + lifetime < now:
            return None
        revoked = schema.revoked_cookies
        with self._engine.begin() as db:
            if db.execute(select(revoked.c.epoch).where(revoked.c.cookie_id == new_id)).first():
                return None
        keys = None
        if "l" in record:
            keys = SourceKeys(bytes.fromhex(record["l"]), Identity(Secret(record["k"])))
        return NewSource(new_id, issued, Secret(record["c"]), keys)

    def revoke(self, new: NewSource) -> None:
        """Refuse ``new``'s cookie, in every process, until it would expire anyway."""
        revoked = schema.revoked_cookies
        with contextlib.suppress(IntegrityError), self._engine.begin() as db:
            db.execute(insert(revoked).values(cookie_id=new.id, epoch=self.epoch(new.issued)))


def forget_expired(db: Connection, current: int) -> None:
    """Delete the keys and revocations of epochs before the one preceding ``current``: every
    cookie they concern has expired (inside the caller's transaction)."""
    db.execute(delete(schema.cookie_keys).where(schema.cookie_keys.c.epoch < current - 1))
    db.execute(delete(schema.revoked_cookies).where(schema.revoked_cookies.c.epoch < current - 1))
