"""Recognising "the database or the object store is not there right now".

PostgreSQL restarting or unreachable (psycopg's ``OperationalError``: a refused or broken
connection, ``admin_shutdown``, ``cannot_connect_now``), SQLite busy past its timeout, a pool
with no free connection, and the object store's :class:`StorageUnavailableError`: the request
failed before anything it wrote was acknowledged, and the same request may be tried again in
a moment. The server answers these ``503`` with ``Retry-After``
(``tainik.server.exception_handlers``), never ``500``.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa_exc

from tainik.core.errors import StorageUnavailableError

SQLITE_TRANSIENT = ("database is locked", "database is busy")


def is_unavailable(error: BaseException | None) -> bool:
    """True when ``error``, or an exception it was raised from, means a backend is away."""
    import psycopg  # noqa: PLC0415 - only on a failure's path

    seen = 0
    while error is not None and seen < 16:
        if isinstance(error, StorageUnavailableError | sa_exc.TimeoutError):
            return True
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, psycopg.OperationalError):
            return True
        if isinstance(error, sqlite3.OperationalError) and any(
            text in str(error) for text in SQLITE_TRANSIENT
        ):
            return True
        orig = getattr(error, "orig", None)
        error = orig if isinstance(orig, BaseException) else (error.__cause__ or error.__context__)
        seen += 1
    return False
