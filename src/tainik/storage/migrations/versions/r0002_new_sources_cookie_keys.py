"""New sources' cookie keys and logouts, shared by every server process.

Revision ID: 0002
Revises: 0001

Two new tables (service/new_source.py): ``cookie_keys`` (one random key per epoch of one
session lifetime) and ``revoked_cookies`` (cookies logged out, by their random id). Before,
the key and the logouts lived in one process's memory; an older database has neither, and
starts empty: cookies made by the previous release's process open nowhere, as after any
restart of that release (nothing was sent with their codenames, so nothing is lost).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the two tables, empty."""
    op.create_table(
        "cookie_keys",
        sa.Column("epoch", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("epoch"),
    )
    op.create_table(
        "revoked_cookies",
        sa.Column("cookie_id", sa.LargeBinary(length=16), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("cookie_id"),
    )
    op.create_index("revoked_cookies_by_epoch", "revoked_cookies", ["epoch"], unique=False)


def downgrade() -> None:
    """Databases are never downgraded: restore the copy taken before the upgrade."""
    raise NotImplementedError("Tainik databases are not downgraded")
