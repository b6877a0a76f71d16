"""What a source sees of what it sent: how many items arrived, their sizes, and their hours.

A source that has just sent twenty files over Tor wants to know they all arrived, and one
that comes back weeks later wants to know what the organisation still holds. The server can
say only what it knows without reading anything: each item's sealed size (ciphertext, a little
more than the plaintext) and the hour it arrived (``storage/coarse.py`` keeps no finer time).
It never knows a file's name in the clear: names exist only inside the sealed manifest.

Whoever holds the codename, or a live session, sees this list too; it adds nothing to what a
seized database already shows (docs/threat-model.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from tainik.service.instance import Instance
from tainik.service.sources import SourceSession
from tainik.storage import schema
from tainik.storage.database import stored_time

MAX_LISTED = 500  # a trove of thousands of files is summed up, not listed item by item


@dataclass(frozen=True)
class Receipt:
    """One item the server holds from the source."""

    number: int  # 1 for the first item the source sent, in order of arrival
    sealed_bytes: int
    hour: datetime  # the start of the hour it arrived in, UTC


@dataclass(frozen=True)
class Receipts:
    """Everything the server holds from a source: the newest items, and totals over all."""

    items: list[Receipt]  # newest first, at most MAX_LISTED
    count: int
    total_bytes: int


def receipts(instance: Instance, session: SourceSession) -> Receipts:
    """The source's submissions the server holds (complete ones: unfinished uploads are not
    received yet), newest first."""
    table = schema.submissions
    mine = table.c.source_id == session.source_id
    with instance.engine.begin() as db:
        count, total = db.execute(
            select(func.count(), func.coalesce(func.sum(table.c.ciphertext_bytes), 0)).where(mine)
        ).one()
        rows = db.execute(
            select(table.c.ciphertext_bytes, table.c.created_at)
            .where(mine)
            .order_by(table.c.id.desc())
            .limit(MAX_LISTED)
        ).all()
    items = [
        Receipt(int(count) - index, int(row.ciphertext_bytes), stored_time(row.created_at))
        for index, row in enumerate(rows)
    ]
    return Receipts(items, int(count), int(total))
