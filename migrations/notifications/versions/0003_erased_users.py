"""erased users: the ledger of deleted users' erasures, for the late second pass

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 01:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import movieverse.platform.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications_erased_users",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("erased_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("swept_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notifications_erased_users")),
    )
    with op.batch_alter_table("notifications_erased_users", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_erased_users_erased_at"), ["erased_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("notifications_erased_users")
