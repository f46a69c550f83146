"""repeat marks: a like undone and redone within a window notifies once

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 01:00:00.000000
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
    op.create_table(
        "notifications_repeats",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("notified_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "user_id", "kind", "actor_id", "subject", name=op.f("pk_notifications_repeats")
        ),
    )
    with op.batch_alter_table("notifications_repeats", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_repeats_actor_id"), ["actor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notifications_repeats_notified_at"), ["notified_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications_repeats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_repeats_notified_at"))
        batch_op.drop_index(batch_op.f("ix_notifications_repeats_actor_id"))

    op.drop_table("notifications_repeats")
