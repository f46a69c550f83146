"""trending activity

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 00:46:19.640422
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
        "movies_activity",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("occurred_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_movies_activity")),
    )
    with op.batch_alter_table("movies_activity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_movies_activity_occurred_movie", ["occurred_at", "movie_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("movies_activity")
