"""other titles a movie goes by, for search

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 18:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("movies_movies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alternative_titles", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("movies_movies", schema=None) as batch_op:
        batch_op.drop_column("alternative_titles")
