"""Changing the organisation's recipients: what is proposed, what is recorded, who is told.

Whoever sets the recipients decides who can read everything sources send from then on, so one
stolen administrator session must not be enough to change them, nor a change go unnoticed
(docs/threat-model.md, "Changing the organisation's keys"):

- a change is first *proposed* (:class:`ProposedChange`): nothing is written; the page shows
  each new key's fingerprint (:attr:`tainik.crypto.Recipient.fingerprint`), and the change
  is made only with every new fingerprint typed back, the administrator's password and a fresh
  TOTP code (``settings.change_recipients``);
- a change, and every refused attempt, goes into the audit log as actions of their own;
- the recipients in force, and when and by whom they last changed, are kept in the database's
  ``meta`` table (key :data:`META_KEY`); for :data:`NOTICE_DAYS` after a change every staff
  member sees a banner on every page;
- ``tainik.toml`` edited by hand on the server changes the keys without any page: the server
  notices at its next start (:func:`reconcile`) and records and announces it the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from tainik.crypto import Recipient
from tainik.service.instance import Instance
from tainik.service.newsroom import audit
from tainik.storage import schema
from tainik.storage.database import stored_time

META_KEY = "recipients"
NOTICE_DAYS = 14
# Who changed the keys when tainik.toml was edited by hand (no staff account, no page).
CONFIG_FILE_ACTOR = audit.Actor(None, "(tainik.toml)")


@dataclass(frozen=True)
class KeyChangeNotice:
    """What every staff member is told for :data:`NOTICE_DAYS` after the keys changed."""

    at: datetime
    by: str  # the administrator's name, or CONFIG_FILE_ACTOR's
    by_hand: bool  # tainik.toml was edited on the server


@dataclass(frozen=True)
class ProposedChange:
    """A change of the recipients an administrator asked for, not made yet."""

    before: tuple[Recipient, ...]
    after: tuple[Recipient, ...]
    base: str  # list_digest(before): the confirmation applies only to these

    @property
    def added(self) -> tuple[Recipient, ...]:
        """The new keys: each one's fingerprint must be typed back."""
        return tuple(r for r in self.after if r not in self.before)

    @property
    def removed(self) -> tuple[Recipient, ...]:
        """The keys that will no longer receive anything."""
        return tuple(r for r in self.before if r not in self.after)


def list_digest(recipients: Sequence[Recipient]) -> str:
    """A digest of a set of recipients (order does not matter): a confirmation names the keys
    it was shown, so a change made meanwhile by someone else is not silently overwritten."""
    joined = "\n".join(sorted(r.text for r in recipients))
    return hashlib.sha256(joined.encode("ascii")).hexdigest()[:32]


def propose(before: Sequence[Recipient], after: Sequence[Recipient]) -> ProposedChange | None:
    """The change from ``before`` to ``after``, or None when the set of keys stays the same."""
    if set(before) == set(after):
        return None
    return ProposedChange(tuple(before), tuple(after), list_digest(before))


def change_detail(before: Sequence[Recipient], after: Sequence[Recipient]) -> str:
    """The audit detail of a change: the fingerprints before and after."""

    def listed(keys: Sequence[Recipient]) -> str:
        return ", ".join(r.fingerprint for r in keys) or "-"

    return f"before: {listed(before)}; after: {listed(after)}"


def record_change(
    db: Connection,
    at: datetime,
    actor: audit.Actor,
    before: Sequence[Recipient],
    after: Sequence[Recipient],
    *,
    by_hand: bool = False,
) -> None:
    """Audit a change of the recipients (inside the caller's transaction), one entry for the
    change and one for each key added or removed (its full text), and keep it for the banner."""
    audit.record(db, at, actor, "recipients-changed", detail=change_detail(before, after))
    for key in after:
        if key not in before:
            audit.record(db, at, actor, "recipient-added", "key", key.fingerprint, key.text)
    for key in before:
        if key not in after:
            audit.record(db, at, actor, "recipient-removed", "key", key.fingerprint, key.text)
    _write(db, after, at, actor.name, by_hand)


def notice(db: Connection, now: datetime) -> KeyChangeNotice | None:
    """The last change of the recipients, if it was less than :data:`NOTICE_DAYS` ago."""
    stored = _read(db)
    if stored is None or not stored.get("changed_at"):
        return None
    at = stored_time(datetime.fromisoformat(str(stored["changed_at"])))
    if now - at >= timedelta(days=NOTICE_DAYS):
        return None
    return KeyChangeNotice(at, str(stored.get("changed_by") or ""), bool(stored.get("by_hand")))


def reconcile(instance: Instance) -> bool:
    """Compare the recipients of ``tainik.toml`` with those last recorded (at the server's
    start). The first time, record them; when they differ, the file was edited by hand: audit
    and announce that as a change. Returns whether it was one."""
    current = instance.config.recipients
    with instance.engine.begin() as db:
        stored = _read(db)
        if stored is None:
            _write(db, current, None, None, False)
            return False
        recorded = tuple(Recipient(str(text)) for text in stored.get("recipients", []))
        if set(recorded) == set(current):
            return False
        record_change(db, instance.clock(), CONFIG_FILE_ACTOR, recorded, current, by_hand=True)
    return True


def _read(db: Connection) -> dict[str, Any] | None:
    meta = schema.meta
    text = db.execute(select(meta.c.value).where(meta.c.key == META_KEY)).scalar()
    if text is None:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else None


def _write(
    db: Connection,
    recipients: Sequence[Recipient],
    at: datetime | None,
    by: str | None,
    by_hand: bool,
) -> None:
    value = json.dumps(
        {
            "recipients": [r.text for r in recipients],
            "changed_at": at.isoformat() if at is not None else None,
            "changed_by": by,
            "by_hand": by_hand,
        }
    )
    meta = schema.meta
    if db.execute(select(meta.c.key).where(meta.c.key == META_KEY)).first() is None:
        db.execute(insert(meta).values(key=META_KEY, value=value))
    else:
        db.execute(update(meta).where(meta.c.key == META_KEY).values(value=value))
