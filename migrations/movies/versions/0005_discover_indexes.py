"""indexes discover can use

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00.000000

Measured with bench/discover_scale.py on 100k and 1M movies (SQLite, which keeps no statistics):
- deleted_at and runtime lose their indexes. Nearly every movie is undeleted and a runtime range
  matches half the catalog, yet the planner took those indexes over the sort's, then sorted
  every match.
- Each column discover filters or sorts by is indexed together with adult and deleted_at, which
  every list checks, so counts and sort walks read the index, not the rows.
- SQLite also gets expression indexes for the ascending sorts of columns that may be unknown
  (unknowns listed last: ORDER BY col IS NULL, col). MariaDB cannot index expressions, so there
  those two sorts read the matching rows. Autogenerate leaves them alone (see
  movieverse.services.movies.models.DIALECT_INDEXES).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns of the models' LISTED_INDEX_COLUMNS as of this revision.
LISTED = (
    "title_sort", "original_language", "release_date", "release_year", "revenue",
    "popularity", "vote_average", "vote_count",
)  # fmt: skip
SQLITE_INDEXES = {
    "ix_movies_movies_release_date_known": "(release_date IS NULL, release_date)",
    "ix_movies_movies_revenue_known": "(revenue IS NULL, revenue)",
}


def upgrade() -> None:
    with op.batch_alter_table("movies_movies", schema=None) as batch_op:
        for column in ("deleted_at", "runtime", *LISTED):
            batch_op.drop_index(batch_op.f(f"ix_movies_movies_{column}"))
        for column in LISTED:
            batch_op.create_index(
                batch_op.f(f"ix_movies_movies_{column}_listed"),
                [column, "adult", "deleted_at"],
                unique=False,
            )
    if op.get_bind().dialect.name == "sqlite":
        for name, definition in SQLITE_INDEXES.items():
            op.execute(sa.text(f"CREATE INDEX {name} ON movies_movies {definition}"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_INDEXES:
            # A later revision's table rebuild may have taken them already.
            op.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
    with op.batch_alter_table("movies_movies", schema=None) as batch_op:
        for column in LISTED:
            batch_op.drop_index(batch_op.f(f"ix_movies_movies_{column}_listed"))
        for column in ("deleted_at", "runtime", *LISTED):
            batch_op.create_index(batch_op.f(f"ix_movies_movies_{column}"), [column], unique=False)
