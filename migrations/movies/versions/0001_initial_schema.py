"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 00:40:18.741421
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import movieverse.platform.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The vocabulary as it was when this revision was written (migrations never change later).
GENRES = {
    12: "Adventure",
    14: "Fantasy",
    16: "Animation",
    18: "Drama",
    27: "Horror",
    28: "Action",
    35: "Comedy",
    36: "History",
    37: "Western",
    53: "Thriller",
    80: "Crime",
    99: "Documentary",
    878: "Science Fiction",
    9648: "Mystery",
    10402: "Music",
    10749: "Romance",
    10751: "Family",
    10752: "War",
    10770: "TV Movie",
    100001: "Film-Noir",
    100002: "Musical",
    100003: "IMAX",
}


def upgrade() -> None:
    op.create_table(
        "movies_genres",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_movies_genres")),
        sa.UniqueConstraint("name", name=op.f("uq_movies_genres_name")),
    )
    op.create_table(
        "movies_inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        sa.Column("handled_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_movies_inbox")),
    )
    op.create_table(
        "movies_keywords",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_movies_keywords")),
    )
    with op.batch_alter_table("movies_keywords", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_movies_keywords_name"), ["name"], unique=False)

    op.create_table(
        "movies_movies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tmdb_id", sa.Integer(), nullable=True),
        sa.Column("imdb_id", sa.String(length=16), nullable=True),
        sa.Column("movielens_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("title_sort", sa.String(length=300), nullable=False),
        sa.Column("original_title", sa.String(length=300), nullable=True),
        sa.Column("original_language", sa.String(length=12), nullable=True),
        sa.Column("overview", sa.Text(), nullable=True),
        sa.Column("tagline", sa.String(length=500), nullable=True),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column("runtime", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.Column("budget", sa.BigInteger(), nullable=True),
        sa.Column("revenue", sa.BigInteger(), nullable=True),
        sa.Column("adult", sa.Boolean(), nullable=False),
        sa.Column("homepage", sa.String(length=1000), nullable=True),
        sa.Column("poster_path", sa.String(length=300), nullable=True),
        sa.Column("backdrop_path", sa.String(length=300), nullable=True),
        sa.Column("spoken_languages", sa.JSON(), nullable=False),
        sa.Column("production_countries", sa.JSON(), nullable=False),
        sa.Column("production_companies", sa.JSON(), nullable=False),
        sa.Column("popularity", sa.Float(), nullable=False),
        sa.Column("vote_average", sa.Float(), nullable=False),
        sa.Column("vote_count", sa.Integer(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("created_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_movies_movies")),
        sa.UniqueConstraint("imdb_id", name=op.f("uq_movies_movies_imdb_id")),
        sa.UniqueConstraint("movielens_id", name=op.f("uq_movies_movies_movielens_id")),
        sa.UniqueConstraint("tmdb_id", name=op.f("uq_movies_movies_tmdb_id")),
    )
    with op.batch_alter_table("movies_movies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_movies_movies_deleted_at"), ["deleted_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_movies_movies_original_language"), ["original_language"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_movies_movies_popularity"), ["popularity"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_movies_movies_release_date"), ["release_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_movies_movies_revenue"), ["revenue"], unique=False)
        batch_op.create_index(batch_op.f("ix_movies_movies_runtime"), ["runtime"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_movies_movies_title_sort"), ["title_sort"], unique=False
        )
        batch_op.create_index("ix_movies_movies_updated_id", ["updated_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_movies_movies_vote_average"), ["vote_average"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_movies_movies_vote_count"), ["vote_count"], unique=False
        )

    op.create_table(
        "movies_outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=120), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("published_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_movies_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_movies_outbox_event_id")),
    )
    with op.batch_alter_table("movies_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_movies_outbox_published_at"), ["published_at"], unique=False
        )

    op.create_table(
        "movies_movie_genres",
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("genre_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["genre_id"],
            ["movies_genres.id"],
            name=op.f("fk_movies_movie_genres_genre_id_movies_genres"),
        ),
        sa.ForeignKeyConstraint(
            ["movie_id"],
            ["movies_movies.id"],
            name=op.f("fk_movies_movie_genres_movie_id_movies_movies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("movie_id", "genre_id", name=op.f("pk_movies_movie_genres")),
    )
    with op.batch_alter_table("movies_movie_genres", schema=None) as batch_op:
        batch_op.create_index(
            "ix_movies_movie_genres_genre_movie", ["genre_id", "movie_id"], unique=False
        )

    op.create_table(
        "movies_movie_keywords",
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("keyword_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["keyword_id"],
            ["movies_keywords.id"],
            name=op.f("fk_movies_movie_keywords_keyword_id_movies_keywords"),
        ),
        sa.ForeignKeyConstraint(
            ["movie_id"],
            ["movies_movies.id"],
            name=op.f("fk_movies_movie_keywords_movie_id_movies_movies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("movie_id", "keyword_id", name=op.f("pk_movies_movie_keywords")),
    )
    with op.batch_alter_table("movies_movie_keywords", schema=None) as batch_op:
        batch_op.create_index(
            "ix_movies_movie_keywords_keyword_movie", ["keyword_id", "movie_id"], unique=False
        )

    op.create_table(
        "movies_movie_people",
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["movie_id"],
            ["movies_movies.id"],
            name=op.f("fk_movies_movie_people_movie_id_movies_movies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "movie_id", "person_id", "role", name=op.f("pk_movies_movie_people")
        ),
    )
    with op.batch_alter_table("movies_movie_people", schema=None) as batch_op:
        batch_op.create_index(
            "ix_movies_movie_people_person_role", ["person_id", "role", "movie_id"], unique=False
        )

    _seed_genres()


def _seed_genres() -> None:
    # The genre vocabulary is part of the schema: imports and admins refer to these ids.
    genres = sa.table("movies_genres", sa.column("id", sa.Integer), sa.column("name", sa.String))
    op.bulk_insert(genres, [{"id": i, "name": n} for i, n in sorted(GENRES.items())])


def downgrade() -> None:
    # Dropping a table drops its indexes; children before parents.
    op.drop_table("movies_movie_people")
    op.drop_table("movies_movie_keywords")
    op.drop_table("movies_movie_genres")
    op.drop_table("movies_outbox")
    op.drop_table("movies_movies")
    op.drop_table("movies_keywords")
    op.drop_table("movies_inbox")
    op.drop_table("movies_genres")
