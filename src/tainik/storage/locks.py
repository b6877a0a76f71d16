"""Named locks held for the rest of a transaction: what SQLite's one writer gives for free.

SQLite lets one transaction write at a time: a transaction that writes first and then reads
(a login attempt recorded, then the attempts counted) sees every concurrent one, and two that
read and then write are serialised or one fails. PostgreSQL runs them side by side (READ
COMMITTED), so a check-then-write that must see its concurrent peers (the login throttle, a
source's upload quota, a TOTP step spent once) first takes :func:`hold` on the same name: a
transaction-level advisory lock (``pg_advisory_xact_lock``), let go at commit or rollback.
On SQLite :func:`hold` does nothing; the database's write lock does the same work.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.engine import Connection


def lock_id(*name: object) -> int:
    """A 64-bit signed number for ``name`` (its parts joined), stable across processes."""
    text = "\x1f".join(str(part) for part in name).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big", signed=True)


def hold(db: Connection, *name: object) -> None:
    """Hold the lock ``name`` until ``db``'s transaction ends (waiting for it if another
    transaction holds it). Only on PostgreSQL; SQLite serialises writers itself."""
    if db.dialect.name == "postgresql":
        db.execute(select(func.pg_advisory_xact_lock(lock_id(*name))))
