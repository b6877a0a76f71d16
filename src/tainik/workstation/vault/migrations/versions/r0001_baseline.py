"""Baseline: the vault catalogue's schema 1, as the last release before Alembic made it.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from tainik.workstation.vault.migrations import catalogue_1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """A new catalogue: the tables, the append-only triggers, ``meta.schema``."""
    catalogue_1.metadata.create_all(op.get_bind())
    for statement in catalogue_1.triggers():
        op.execute(text(statement))
    op.bulk_insert(catalogue_1.meta, [{"key": "schema", "value": "1"}])


def downgrade() -> None:
    """A vault is evidence: never downgraded (restore the copy taken before an upgrade)."""
    raise NotImplementedError("vault catalogues are not downgraded")
