"""scores pooled from the source's votes and MovieVerse's ratings

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("movies_movies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source_vote_average", sa.Float(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("source_vote_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("ratings_average", sa.Float(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("ratings_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("ratings_version", sa.BigInteger(), nullable=False, server_default="0")
        )
    # What movies showed so far was the source's own score.
    movies = sa.table(
        "movies_movies",
        sa.column("vote_average", sa.Float),
        sa.column("vote_count", sa.Integer),
        sa.column("source_vote_average", sa.Float),
        sa.column("source_vote_count", sa.Integer),
    )
    op.execute(
        movies.update().values(
            source_vote_average=movies.c.vote_average, source_vote_count=movies.c.vote_count
        )
    )


# Revision 0005's SQLite expression indexes: dropping columns rebuilds the table on SQLite, and
# the rebuild does not carry indexes SQLAlchemy cannot reflect.
SQLITE_INDEXES = {
    "ix_movies_movies_release_date_known": "(release_date IS NULL, release_date)",
    "ix_movies_movies_revenue_known": "(revenue IS NULL, revenue)",
}


def downgrade() -> None:
    with op.batch_alter_table("movies_movies", schema=None) as batch_op:
        for column in (
            "ratings_version",
            "ratings_count",
            "ratings_average",
            "source_vote_count",
            "source_vote_average",
        ):
            batch_op.drop_column(column)
    if op.get_bind().dialect.name == "sqlite":
        for name, definition in SQLITE_INDEXES.items():
            op.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {name} ON movies_movies {definition}"))
