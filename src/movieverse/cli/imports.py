"""``movieverse import ...`` and ``demo-data``: filling the catalog from datasets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from movieverse.cli.common import console, platform_settings
from movieverse.datasets.tmdb import TMDB_FILE_NAME
from movieverse.datasets.tmdb_credits import TMDB_CREDITS_FILE_NAME
from movieverse.ingest import CatalogImport, ImportReport
from movieverse.ingest.runner import DEFAULT_BATCH_SIZE
from movieverse.platform.settings import PlatformSettings

import_app = typer.Typer(help="Fill the catalog from public datasets.", no_args_is_help=True)


class ProgressBars:
    """Rich progress bars for an import run (rows read per step)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def start(self, label: str, total: int | None = None) -> int:
        return int(self.progress.add_task(label, total=total))

    def advance(self, task: int, amount: int) -> None:
        self.progress.advance(TaskID(task), amount)

    def finish(self, task: int) -> None:
        # Fixes the total at what was read, which also stops the task's clock.
        done = self.progress.tasks[task].completed
        self.progress.update(TaskID(task), total=done, completed=done)


def progress_bars() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def run_import(
    settings: PlatformSettings, batch_size: int, steps: Callable[[CatalogImport], Awaitable[None]]
) -> ImportReport:
    async def run() -> ImportReport:
        with progress_bars() as progress:
            async with CatalogImport(
                settings, batch_size=batch_size, progress=ProgressBars(progress)
            ) as catalog:
                await steps(catalog)
                return catalog.report

    return asyncio.run(run())


BatchOption = Annotated[int, typer.Option(min=1, max=10_000, help="Rows per unit of work")]


@import_app.command("tmdb-csv")
def import_tmdb_csv(
    path: Annotated[Path, typer.Argument(help="tmdb_5000_movies.csv, or the folder holding it")],
    credits: Annotated[
        Path | None,
        typer.Option(
            help="tmdb_5000_credits.csv; by default the one beside the movies file, if any"
        ),
    ] = None,
    batch_size: BatchOption = DEFAULT_BATCH_SIZE,
) -> None:
    """Import TMDB's 5000-movie CSV (movies, genres, keywords, companies, countries, languages)
    and, when present, its credits CSV (people, cast and crew)."""
    settings = platform_settings()
    movies_file = path / TMDB_FILE_NAME if path.is_dir() else path
    credits_file = credits or movies_file.with_name(TMDB_CREDITS_FILE_NAME)
    if credits is not None and not credits.is_file():
        console.print(f"[red]{credits}: no such credits file[/red]")
        raise typer.Exit(2)

    async def steps(catalog: CatalogImport) -> None:
        await catalog.tmdb_movies(movies_file)
        if credits_file.is_file():
            await catalog.tmdb_credits(credits_file)
        else:
            catalog.report.notes.append(f"no {credits_file.name} beside the movies: no credits")

    print_report(run_import(settings, batch_size, steps))


@import_app.command("movielens")
def import_movielens(
    path_or_name: Annotated[
        str,
        typer.Argument(
            help="A MovieLens folder, or a name (ml-latest-small, ml-100k, ml-25m, ml-32m) "
            "looked up under MOVIEVERSE_DATASETS_DIR, else downloaded from GroupLens"
        ),
    ],
    batch_size: BatchOption = DEFAULT_BATCH_SIZE,
    download: Annotated[
        bool, typer.Option(help="Download a named dataset that is not on disk")
    ] = True,
    ratings: Annotated[
        bool, typer.Option(help="Also import the ratings, as ratings by imported users")
    ] = True,
) -> None:
    """Import MovieLens movies, their links (matched to TMDB/IMDb ids, never by title), tags
    (as keywords) and ratings (by imported users, MovieLens's 0.5-5 as 1-10)."""
    settings = platform_settings()
    folder = dataset_folder(path_or_name, settings, download=download)

    async def steps(catalog: CatalogImport) -> None:
        await catalog.movielens(folder, ratings=ratings)

    print_report(run_import(settings, batch_size, steps))


def dataset_folder(path_or_name: str, settings: PlatformSettings, *, download: bool) -> Path:
    from movieverse.datasets import DatasetError, ensure_dataset
    from movieverse.ingest.demo import datasets_root

    candidate = Path(path_or_name)
    if candidate.exists():
        return candidate
    try:
        return ensure_dataset(path_or_name, datasets_root(settings), download=download)
    except DatasetError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


def print_report(report: ImportReport) -> None:
    movies, metadata = report.movies, report.metadata
    table = Table(title="Import summary")
    for column in ("", "created", "updated", "unchanged"):
        table.add_column(column, justify="right")
    table.add_row("movies", str(movies.created), str(movies.updated), str(movies.unchanged))
    if metadata.credits_created or metadata.credits_updated or metadata.credits_unchanged:
        table.add_row(
            "credits",
            str(metadata.credits_created),
            str(metadata.credits_updated),
            str(metadata.credits_unchanged),
        )
        table.add_row("people", str(metadata.people_created), str(metadata.people_updated), "-")
    console.print(table)
    console.print(
        f"keywords: {len(movies.keywords_created)} new in the catalog, "
        f"{metadata.keywords_written} written to metadata, "
        f"{len(movies.keywords_merged)} tag keywords merged into TMDB's; "
        f"people refreshed: {report.people_refreshed}; "
        f"conflicts: {len(movies.conflicts)}; bad rows: {len(report.bad_rows)}"
    )
    if report.ratings.read:
        console.print(
            f"ratings: {report.ratings.read} read, "
            f"totals changed for {report.ratings.movies_updated} movies"
        )
    for note in report.notes:
        console.print(f"[cyan]note:[/cyan] {note}")
    for conflict in movies.conflicts:
        console.print(f"[yellow]conflict:[/yellow] {conflict}")
    for bad in report.bad_rows:
        console.print(f"[red]skipped[/red] {bad.file}:{bad.line}: {bad.reason}")


def demo_data() -> None:
    """Fill an empty catalog with demo data (what `make run` does first); a catalog that has
    movies is left alone. Sources, first that works: MOVIEVERSE_MOVIELENS_DIR, the official
    ml-latest-small download, a synthetic catalog."""
    from movieverse.gateway.settle import settle_staged_events
    from movieverse.ingest.demo import seed_demo_catalog

    settings = platform_settings()

    async def run() -> None:
        with progress_bars() as progress:
            outcome = await seed_demo_catalog(
                settings, progress=ProgressBars(progress), say=progress.console.print
            )
        if outcome.report is not None:
            print_report(outcome.report)
        console.print(f"[green]demo data:[/green] {outcome.source} -- {outcome.detail}")
        # Whatever the import (or an earlier, interrupted run) staged is delivered now, so the
        # server starts with nothing for its first users to wait behind.
        if not settings.demo_settle:
            return
        settled = await settle_staged_events(settings, say=console.print)
        if settled.events_delivered:
            console.print(
                f"[green]delivered[/green] {settled.events_delivered} staged events in "
                f"{settled.seconds:.1f} s"
            )

    asyncio.run(run())
