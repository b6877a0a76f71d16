"""A new source: a codename shown, not yet used to send anything, and stored nowhere.

Generating a codename costs the server nothing it keeps: no row, no Argon2id run. The codename
travels in the source's session cookie, sealed (ChaCha20-Poly1305) under a key that exists only
in this process's memory (:class:`NewSourceSeal`); the server holds no state per new source,
so a flood of codename requests fills nothing. The source's keys are derived (Argon2id) when
it first sends something, or asks for its reply recipient to seal a resumable upload's note,
and are then sealed into the cookie too so they are derived once. Its row is written with its
first submission or its first resumable upload (:mod:`tainik.service.sources`).

A restart makes a new key: the cookies of new sources stop working, and since nothing was ever
sent with their codenames, nothing is lost (the source gets a new codename). Logging out
revokes the cookie in memory (a bounded list, kept for the cookie's lifetime).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from tainik import crypto
from tainik.crypto import Identity, Secret, SourceKeys

PREFIX = "n."
MAX_COOKIE = 600
MAX_REVOKED = 100_000
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
    """The in-memory key that seals new sources' cookies, and the cookies revoked at logout."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(crypto.BOX_KEY_BYTES)
        self._revoked: OrderedDict[bytes, datetime] = OrderedDict()
        self._lock = threading.Lock()

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
        sealed = crypto.seal_box(self._key, json.dumps(record).encode("utf-8"), _CONTEXT)
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
        plain = crypto.open_box(self._key, sealed, _CONTEXT)
        if plain is None:
            return None
        record = json.loads(plain)
        new_id = bytes.fromhex(record["i"])
        issued = datetime.fromtimestamp(record["t"], UTC)
        if issued + lifetime < now:
            return None
        with self._lock:
            if new_id in self._revoked:
                return None
        keys = None
        if "l" in record:
            keys = SourceKeys(bytes.fromhex(record["l"]), Identity(Secret(record["k"])))
        return NewSource(new_id, issued, Secret(record["c"]), keys)

    def revoke(self, new: NewSource, until: datetime, now: datetime) -> None:
        """Refuse ``new``'s cookie from now until ``until`` (when it would expire anyway)."""
        with self._lock:
            while self._revoked:
                oldest, expires = next(iter(self._revoked.items()))
                if expires >= now and len(self._revoked) < MAX_REVOKED:
                    break
                del self._revoked[oldest]
            self._revoked[new.id] = until
