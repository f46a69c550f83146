"""tombstone sweeps: when the late second erasure pass ran for a deleted account

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 01:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import movieverse.platform.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users_tombstones", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("swept_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_users_tombstones_deleted_at"), ["deleted_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("users_tombstones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_tombstones_deleted_at"))
        batch_op.drop_column("swept_at")
