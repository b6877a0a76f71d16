"""Baseline: the server's schema 5, as the last release before Alembic made it.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from tainik.storage.migrations import legacy, schema_5

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """A new database: every table and index of schema 5 (frozen in :mod:`schema_5`)."""
    schema_5.metadata.create_all(op.get_bind())
    op.bulk_insert(schema_5.meta, [{"key": "schema_version", "value": legacy.FENCE}])


def downgrade() -> None:
    """A database is never downgraded: restore the copy taken before the upgrade."""
    raise NotImplementedError("Tainik databases are not downgraded")
