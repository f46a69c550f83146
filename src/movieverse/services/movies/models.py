"""The tables movies owns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from movieverse.platform.db import UtcDateTime
from movieverse.platform.events.inbox import inbox_table
from movieverse.platform.events.outbox import outbox_table
from movieverse.platform.models import service_metadata

SERVICE = "movies"


class Base(DeclarativeBase):
    metadata = service_metadata()


LISTED_INDEX_COLUMNS = (
    "title_sort", "original_language", "release_date", "release_year", "revenue",
    "popularity", "vote_average", "vote_count", "runtime",
)  # fmt: skip

# Indexes migration 0005 makes on SQLite only (on expressions, which MariaDB cannot index);
# autogenerate must not compare them with the models.
DIALECT_INDEXES = frozenset(
    {"ix_movies_movies_release_date_known", "ix_movies_movies_revenue_known"}
)
Base.metadata.info["dialect_indexes"] = DIALECT_INDEXES


class Genre(Base):
    __tablename__ = "movies_genres"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(60), unique=True)


class Keyword(Base):
    __tablename__ = "movies_keywords"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200), index=True)


class MovieGenre(Base):
    __tablename__ = "movies_movie_genres"

    movie_id: Mapped[int] = mapped_column(
        ForeignKey("movies_movies.id", ondelete="CASCADE"), primary_key=True
    )
    genre_id: Mapped[int] = mapped_column(ForeignKey("movies_genres.id"), primary_key=True)

    # Discover filters by genre first: (genre, movie) makes "movies of genre G" an index scan.
    __table_args__ = (Index("ix_movies_movie_genres_genre_movie", "genre_id", "movie_id"),)


class MovieKeyword(Base):
    __tablename__ = "movies_movie_keywords"

    movie_id: Mapped[int] = mapped_column(
        ForeignKey("movies_movies.id", ondelete="CASCADE"), primary_key=True
    )
    keyword_id: Mapped[int] = mapped_column(ForeignKey("movies_keywords.id"), primary_key=True)

    __table_args__ = (Index("ix_movies_movie_keywords_keyword_movie", "keyword_id", "movie_id"),)


class MoviePerson(Base):
    """Who worked on a movie, for the with_cast / with_crew / with_people filters.

    The metadata service owns people and credits; this is movies' index of them, by id only.
    """

    __tablename__ = "movies_movie_people"

    movie_id: Mapped[int] = mapped_column(
        ForeignKey("movies_movies.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(4), primary_key=True)  # "cast" | "crew"

    __table_args__ = (Index("ix_movies_movie_people_person_role", "person_id", "role", "movie_id"),)


class Movie(Base):
    __tablename__ = "movies_movies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tmdb_id: Mapped[int | None] = mapped_column(Integer, unique=True, nullable=True)
    imdb_id: Mapped[str | None] = mapped_column(String(16), unique=True, nullable=True)
    movielens_id: Mapped[int | None] = mapped_column(Integer, unique=True, nullable=True)
    # ml-100k numbers its movies its own way (its 2 is GoldenEye, MovieLens's 2 is Jumanji), so
    # its ids are kept apart: matching them against movielens_id would merge different movies.
    ml100k_id: Mapped[int | None] = mapped_column(Integer, unique=True, nullable=True)

    title: Mapped[str] = mapped_column(String(300))
    # Lower-cased title for sorting by title alike on every database.
    title_sort: Mapped[str] = mapped_column(String(300))
    original_title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # Other names the movie goes by: MovieLens's a.k.a. and original-language titles, and its
    # own title when TMDB's differs ("Star Wars: Episode V - The Empire Strikes Back"). For
    # search; None on rows from before the column (as good as empty).
    alternative_titles: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    original_language: Mapped[str | None] = mapped_column(String(12), nullable=True)
    overview: Mapped[str | None] = mapped_column(Text, nullable=True)
    tagline: Mapped[str | None] = mapped_column(String(500), nullable=True)

    release_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The year alone, kept apart because some sources (MovieLens) know only the year.
    release_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Not indexed: a runtime range matches much of the catalog, and an index on it lured the
    # planner away from the sort's index (bench/discover_scale.py).
    runtime: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    budget: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revenue: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    adult: Mapped[bool] = mapped_column(Boolean, default=False)
    homepage: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    poster_path: Mapped[str | None] = mapped_column(String(300), nullable=True)
    backdrop_path: Mapped[str | None] = mapped_column(String(300), nullable=True)

    spoken_languages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    production_countries: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    production_companies: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    popularity: Mapped[float] = mapped_column(Float, default=0.0)
    # What lists show and filter on: the source's votes pooled with MovieVerse's ratings (see
    # services.movies.scores); the two parts are kept beside it.
    vote_average: Mapped[float] = mapped_column(Float, default=0.0)
    vote_count: Mapped[int] = mapped_column(Integer, default=0)
    source_vote_average: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    source_vote_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ratings_average: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    ratings_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The highest version of reviews' totals applied: older or repeated events change nothing.
    ratings_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    # Which sources describe this movie ("tmdb", "movielens", "admin").
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Not indexed, for the same reason: almost every movie is undeleted.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    genres: Mapped[list[Genre]] = relationship(
        secondary="movies_movie_genres", order_by=Genre.name, lazy="selectin"
    )
    keywords: Mapped[list[Keyword]] = relationship(
        secondary="movies_movie_keywords", order_by=Keyword.id, lazy="raise"
    )

    __table_args__ = (
        # The changes feed pages through (updated_at, id).
        Index("ix_movies_movies_updated_id", "updated_at", "id"),
        # Every column discover filters or sorts by, followed by what every list checks (not
        # adult, not deleted): counting the matches and walking the sort order then read the
        # index alone, not each movie's row (bench/discover_scale.py: counts 3-10x faster).
        *(
            Index(f"ix_movies_movies_{column}_listed", column, "adult", "deleted_at")
            for column in LISTED_INDEX_COLUMNS
        ),
    )


class Activity(Base):
    """Recent audience activity on a movie (list adds now; ratings and reviews later), the raw
    material of trending. Rows older than the longest trending window are pruned."""

    __tablename__ = "movies_activity"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    movie_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    weight: Mapped[float] = mapped_column(Float)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_movies_activity_occurred_movie", "occurred_at", "movie_id"),)


outbox = outbox_table(Base.metadata, SERVICE)
inbox = inbox_table(Base.metadata, SERVICE)
