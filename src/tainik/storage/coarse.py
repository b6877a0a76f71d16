"""Coarse times: what the database and the blob store keep of *when*.

Times tied to a source (when it came, was last active, sent or was sent something, was logged
in, had an upload running) are stored no finer than staff need them, so that a seized disk
cannot be matched to the second against network logs. The column type does it, so no caller
can forget: every value bound to a :class:`CoarseTime` column, written or compared, is rounded
down to the column's granularity. Rounding comparisons down too keeps ``column >= since``
inclusive of the stored value of any moment at or after ``since``.

Blob files get a fixed modification and access time once written (:func:`fix_times`); their
change time (ctime) cannot be set from user space, and is left to the file system.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# What every blob file and folder claims as its modification time: the epoch, a fixed lie.
FIXED_MTIME = 0


def round_down(moment: datetime, granularity: timedelta) -> datetime:
    """``moment`` (naive means UTC) rounded down to a multiple of ``granularity`` since the
    epoch, as timezone-aware UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return _EPOCH + (aware - _EPOCH) // granularity * granularity


class CoarseTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp column that keeps only multiples of ``granularity``."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def __init__(self, granularity: timedelta) -> None:
        super().__init__()
        self.granularity = granularity

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Round every value bound to the column down."""
        return round_down(value, self.granularity) if isinstance(value, datetime) else value


def fix_times(*paths: Path) -> None:
    """Set the access and modification times of ``paths`` to :data:`FIXED_MTIME`."""
    for path in paths:
        os.utime(path, (FIXED_MTIME, FIXED_MTIME), follow_symlinks=False)


def fix_container_times(folder: Path) -> None:
    """:func:`fix_times` for a folder and every entry directly in it."""
    fix_times(*(Path(entry.path) for entry in os.scandir(folder)), folder)
