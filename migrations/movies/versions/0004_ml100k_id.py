"""ml-100k ids apart from MovieLens movie ids

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("movies_movies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ml100k_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_movies_movies_ml100k_id"), ["ml100k_id"])


def downgrade() -> None:
    with op.batch_alter_table("movies_movies", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_movies_movies_ml100k_id"), type_="unique")
        batch_op.drop_column("ml100k_id")
