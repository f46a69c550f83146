"""release year

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 00:55:15.038624
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("movies_movies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("release_year", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_movies_movies_release_year"), ["release_year"], unique=False
        )
    # Existing rows learn their year from their release date.
    movies = sa.table(
        "movies_movies", sa.column("release_date", sa.Date), sa.column("release_year", sa.Integer)
    )
    op.execute(
        movies.update()
        .where(movies.c.release_date.is_not(None))
        .values(release_year=sa.cast(sa.extract("year", movies.c.release_date), sa.Integer))
    )


def downgrade() -> None:
    with op.batch_alter_table("movies_movies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_movies_movies_release_year"))
        batch_op.drop_column("release_year")
