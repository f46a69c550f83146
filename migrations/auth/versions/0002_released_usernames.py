"""released usernames: a deleted account's username is held back for a while

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 01:30:00.000000
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
        "auth_released_usernames",
        sa.Column("username", sa.String(length=30), nullable=False),
        sa.Column("released_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_auth_released_usernames")),
    )


def downgrade() -> None:
    op.drop_table("auth_released_usernames")
