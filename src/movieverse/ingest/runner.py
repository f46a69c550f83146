"""One import run: the movies and metadata runtimes, opened once, and the steps that use them.

    async with CatalogImport(settings, progress=bar) as run:
        await run.tmdb_movies(path)
        await run.tmdb_credits(credits_path)
        await run.movielens(folder)
    print(run.report)

Every batch is its own unit of work in its own service, so an interrupted run keeps what it
finished and running it again completes it. Events wait in each service's outbox until a server
with a relay runs (a CLI process has none: on the in-process bus they would reach no consumer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Protocol, TypeVar

from pydantic import ValidationError

from movieverse.datasets import (
    BadRow,
    MovieLensDataset,
    TmdbCastMember,
    TmdbCredits,
    TmdbCrewMember,
    read_movielens,
    read_tmdb_credits,
    read_tmdb_csv,
)
from movieverse.platform.assembly import ServiceContext, SharedRuntime, runtime_of, service_runtime
from movieverse.platform.settings import PlatformSettings
from movieverse.services.ai.app import DEFINITION as AI
from movieverse.services.ai.importer import ImportedInteraction, import_interactions
from movieverse.services.metadata.app import DEFINITION as METADATA
from movieverse.services.metadata.bootstrap import MetadataRuntime
from movieverse.services.metadata.importer import (
    MetadataImporter,
    MetadataImportSummary,
    MovieCreditsImport,
    PersonSeed,
)
from movieverse.services.metadata.schemas import CastCredit, CreditsWrite, CrewCredit, PersonWrite
from movieverse.services.movies import service as movies_service
from movieverse.services.movies.app import DEFINITION as MOVIES
from movieverse.services.movies.import_entries import (
    ImportEntry,
    TagIndex,
    movielens_entry,
    tmdb_entry,
)
from movieverse.services.movies.importer import CatalogImporter, ImportSummary, genre_names
from movieverse.services.reviews.app import DEFINITION as REVIEWS
from movieverse.services.reviews.importer import (
    ImportedRating,
    RatingsImporter,
    RatingsImportSummary,
    imported_user_id,
)

DEFAULT_BATCH_SIZE = 1000
# Ratings are small rows: far more of them per unit of work.
RATINGS_BATCH = 20_000
T = TypeVar("T")


class Progress(Protocol):
    """Where a run reports how far it got (the CLI draws bars; tests pass nothing)."""

    def start(self, label: str, total: int | None = None) -> int: ...

    def advance(self, task: int, amount: int) -> None: ...

    def finish(self, task: int) -> None: ...


class SilentProgress:
    def start(self, label: str, total: int | None = None) -> int:
        return 0

    def advance(self, task: int, amount: int) -> None:
        return None

    def finish(self, task: int) -> None:
        return None


@dataclass
class ImportReport:
    movies: ImportSummary = field(default_factory=ImportSummary)
    metadata: MetadataImportSummary = field(default_factory=MetadataImportSummary)
    people_refreshed: int = 0
    ratings: RatingsImportSummary = field(default_factory=RatingsImportSummary)
    bad_rows: list[BadRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class CatalogImport:
    def __init__(
        self,
        settings: PlatformSettings,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings
        self.batch_size = batch_size
        self.progress: Progress = progress or SilentProgress()
        self.report = ImportReport()
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> CatalogImport:
        runtime = SharedRuntime(self.settings, consume=False)
        try:
            self.movies_ctx = await self._stack.enter_async_context(
                service_runtime(MOVIES, self.settings, runtime, start_relay=False)
            )
            self.metadata_ctx = await self._stack.enter_async_context(
                service_runtime(METADATA, self.settings, runtime, start_relay=False)
            )
            self.reviews_ctx = await self._stack.enter_async_context(
                service_runtime(REVIEWS, self.settings, runtime, start_relay=False)
            )
            self.ai_ctx = await self._stack.enter_async_context(
                service_runtime(AI, self.settings, runtime, start_relay=False)
            )
        except BaseException:
            await self._stack.aclose()
            raise
        self.movies_importer = CatalogImporter(outbox=self.movies_ctx.outbox)
        self.metadata_importer = MetadataImporter(
            store=runtime_of(self.metadata_ctx, MetadataRuntime).documents,
            outbox=self.metadata_ctx.outbox,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    # Steps ---------------------------------------------------------------------------------

    async def catalog_size(self) -> int:
        async with self.movies_ctx.db.unit_of_work(write=False) as session:
            return await movies_service.catalog_size(session)

    async def tmdb_movies(self, path: Path) -> None:
        """TMDB 5000 movies CSV: movies with their genres, keywords, companies, countries."""
        records = read_tmdb_csv(path, report=self.report.bad_rows.append)
        await self._movies((tmdb_entry(m) for m in records), label="TMDB movies")

    async def movielens(self, folder: Path, *, ratings: bool = True) -> None:
        """A MovieLens folder: movies and links, tags.csv (where the layout has one) as
        keywords, and (unless ``ratings`` is false) its ratings as ratings by imported users."""
        dataset = read_movielens(folder, report=self.report.bad_rows.append)
        tags_file = folder / "tags.csv"
        tags: TagIndex | None = None
        if dataset.layout == "csv" and tags_file.is_file():
            tags = TagIndex(dataset.tags(), report=self.report.bad_rows.append, file=str(tags_file))
        elif dataset.layout == "csv":
            self.report.notes.append(f"{tags_file} is missing: no keywords from tags")
        async with self.movies_ctx.db.unit_of_work(write=False) as session:
            names = await genre_names(session)
        entries = (
            movielens_entry(
                m, names, tags.of(m.movie_id) if tags is not None else (), layout=dataset.layout
            )
            for m in dataset.movies()
        )
        await self._movies(entries, label="MovieLens movies")
        if tags is not None:
            tags.report_orphans()
        ratings_file = folder / ("u.data" if dataset.layout == "100k" else "ratings.csv")
        if ratings and not ratings_file.is_file():
            self.report.notes.append(f"{ratings_file} is missing: no ratings")
        elif ratings:
            # The dataset's own name (ml-latest-small), however the folder was named on the way.
            name = (await asyncio.to_thread(folder.resolve)).name
            await self._ratings(dataset, dataset_name=name)

    async def _ratings(self, dataset: MovieLensDataset, *, dataset_name: str) -> None:
        """The dataset's ratings into reviews, in large batches, then each movie's totals."""
        async with self.movies_ctx.db.unit_of_work(write=False) as session:
            catalog_ids = await movies_service.movielens_ids(
                session, ml100k=dataset.layout == "100k"
            )
        importer = RatingsImporter(outbox=self.reviews_ctx.outbox, dataset="movielens")
        unplaced: dict[int, int] = {}  # MovieLens movie id -> first line of its ratings
        task = self.progress.start("MovieLens ratings")
        for batch in chunks(dataset.ratings(), RATINGS_BATCH):
            items: list[ImportedRating] = []
            for rating in batch:
                movie_id = catalog_ids.get(rating.movie_id)
                if movie_id is None:
                    unplaced.setdefault(rating.movie_id, rating.line)
                    continue
                items.append(
                    ImportedRating(
                        user_id=imported_user_id(dataset_name, rating.user_id),
                        movie_id=movie_id,
                        # MovieLens's 0.5-5 stars on MovieVerse's 0.5-10, in half points.
                        half_points=round(rating.rating * 4),
                        rated_at=rating.timestamp,
                    )
                )
            async with self.reviews_ctx.db.unit_of_work() as session:
                self.report.ratings.read += await importer.apply(session, items)
            # The same ratings are what models learn from, through ai's own import (see
            # services/ai/importer.py: why no events, and why a re-run heals a crash here).
            async with self.ai_ctx.db.unit_of_work() as session:
                await import_interactions(
                    session,
                    [
                        ImportedInteraction(r.user_id, r.movie_id, r.half_points / 2, r.rated_at)
                        for r in items
                    ],
                )
            self.progress.advance(task, len(batch))
        self.progress.finish(task)
        movies = sorted(importer.movies)
        for start in range(0, len(movies), self.batch_size):
            async with self.reviews_ctx.db.unit_of_work() as session:
                self.report.ratings.movies_updated += await importer.refresh_totals(
                    session, movies[start : start + self.batch_size]
                )
        ratings_file = str(dataset.path / ("u.data" if dataset.layout == "100k" else "ratings.csv"))
        for movie_id, line in sorted(unplaced.items()):
            reason = f"ratings of movieId {movie_id}, which is not in the catalog"
            self.report.bad_rows.append(BadRow(ratings_file, line, reason))

    async def tmdb_credits(self, path: Path) -> None:
        """TMDB 5000 credits CSV: people, and each catalog movie's cast and crew."""
        task = self.progress.start("TMDB credits")
        records = read_tmdb_credits(path, report=self.report.bad_rows.append)
        for batch in chunks(records, self.batch_size):
            async with self.movies_ctx.db.unit_of_work(write=False) as session:
                ids = await movies_service.ids_by_tmdb_id(
                    session, tmdb_ids=[r.tmdb_id for r in batch]
                )
            items = self._credit_items(batch, ids, file=str(path))
            async with self.metadata_ctx.db.unit_of_work() as session:
                summary = await self.metadata_importer.apply_credits(session, items)
            self.report.metadata.add(summary)
            self.progress.advance(task, len(batch))
        self.progress.finish(task)
        await self._refresh_people()

    # Helpers -------------------------------------------------------------------------------

    async def _movies(self, entries: Iterable[ImportEntry], *, label: str) -> None:
        task = self.progress.start(label)
        ctx = self.movies_ctx
        for batch in chunks(entries, self.batch_size):
            # One unit of work per batch: an interrupted import keeps what it finished.
            async with ctx.db.unit_of_work() as session:
                summary = await self.movies_importer.apply(session, batch)
            self.report.movies.add(summary)
            self.progress.advance(task, len(batch))
        self.progress.finish(task)
        await self._sync_keywords()

    async def _sync_keywords(self) -> None:
        """Metadata owns the keyword documents: give it every keyword this run used, and drop
        the tag-made ones merged into TMDB's (compared first, so a re-run writes nothing)."""
        summary = self.report.movies
        names = dict(summary.keywords_seen)
        deleted = list(summary.keywords_merged)
        items = sorted(names.items())
        for start in range(0, max(len(items), 1), self.batch_size):
            async with self.metadata_ctx.db.unit_of_work() as session:
                result = await self.metadata_importer.sync_keywords(
                    session,
                    names=dict(items[start : start + self.batch_size]),
                    deleted=deleted if start == 0 else (),
                )
            self.report.metadata.add(result)

    def _credit_items(
        self, batch: Sequence[TmdbCredits], ids: dict[int, int], *, file: str
    ) -> list[MovieCreditsImport]:
        items: list[MovieCreditsImport] = []
        for record in batch:
            movie_id = ids.get(record.tmdb_id)
            if movie_id is None:
                reason = (
                    f"movie_id {record.tmdb_id} is not in the catalog "
                    "(import the TMDB movies file first)"
                )
                self.report.bad_rows.append(BadRow(file, record.line, reason))
                continue
            try:
                items.append(credits_import(record, movie_id))
            except ValidationError as exc:
                self.report.bad_rows.append(BadRow(file, record.line, _first_error(exc)))
        return items

    async def _refresh_people(self) -> None:
        """Everyone the credits named gets the popularity of all the movies they are in (asked
        of movies), not only of this file's: compared first, so a re-run writes nothing."""
        ordered = sorted(self.report.metadata.touched_people)
        for start in range(0, len(ordered), self.batch_size):
            chunk = ordered[start : start + self.batch_size]
            async with self.metadata_ctx.db.unit_of_work(write=False) as session:
                movie_ids = await self.metadata_importer.movies_of(session, person_ids=chunk)
            async with self.movies_ctx.db.unit_of_work(write=False) as session:
                popularity = await movies_service.popularity_by_id(
                    session, movie_ids=sorted(movie_ids)
                )
            async with self.metadata_ctx.db.unit_of_work() as session:
                self.report.people_refreshed += await self.metadata_importer.refresh_people(
                    session, person_ids=chunk, movie_popularity=popularity
                )

    @property
    def contexts(self) -> tuple[ServiceContext, ServiceContext]:
        return self.movies_ctx, self.metadata_ctx


def credits_import(record: TmdbCredits, movie_id: int) -> MovieCreditsImport:
    """A credits row as metadata's import item; a value metadata would refuse raises
    ValidationError (the row is then reported as bad)."""
    credits = CreditsWrite(
        cast=[
            CastCredit(person_id=m.person_id, character=m.character, order=m.order)
            for m in record.cast
        ],
        crew=[
            CrewCredit(person_id=m.person_id, department=m.department, job=m.job)
            for m in record.crew
        ],
    )
    people: dict[int, PersonSeed] = {}
    members: list[TmdbCastMember | TmdbCrewMember] = [*record.cast, *record.crew]
    for member in members:
        if member.person_id not in people:
            # Validated as a person write would be: a name metadata cannot store fails here.
            PersonWrite(name=member.name, gender=member.gender, tmdb_id=member.person_id)
            people[member.person_id] = PersonSeed(
                person_id=member.person_id,
                name=member.name,
                gender=member.gender,
                tmdb_id=member.person_id,
            )
    return MovieCreditsImport(movie_id=movie_id, credits=credits, people=people)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {error['msg']}{more}"
