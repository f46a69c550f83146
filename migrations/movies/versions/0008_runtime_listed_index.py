"""runtime indexed with what every list checks again

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 15:10:00.000000

0005 dropped runtime's index: the planner of SQLite (which keeps no statistics) took it over the
sort's index for a runtime range matching half the catalog, then sorted every match. A page of
common matches now walks the sort's index with the filter columns hidden from SQLite's planner
(movies/discover.py), so the index only serves what it is good at: counting a runtime range from
the index alone (214 ms at 1M movies reading rows) and gathering a rare one.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("movies_movies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_movies_movies_runtime_listed"),
            ["runtime", "adult", "deleted_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("movies_movies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_movies_movies_runtime_listed"))
