"""The ``movieverse`` command."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from starlette.types import ASGIApp

from movieverse.ai.commands import ai_app
from movieverse.datasets.tmdb import TMDB_FILE_NAME
from movieverse.datasets.tmdb_credits import TMDB_CREDITS_FILE_NAME
from movieverse.ingest import CatalogImport, ImportReport
from movieverse.ingest.runner import DEFAULT_BATCH_SIZE
from movieverse.platform.cache import create_key_value_store
from movieverse.platform.db import Database, redact_url
from movieverse.platform.errors import Conflict
from movieverse.platform.events.bus import DeadLetter, EventBus
from movieverse.platform.heap import FreezeHeapAfterStartup
from movieverse.platform.migrations import upgrade
from movieverse.platform.observability import configure_logging
from movieverse.platform.search import open_search_index
from movieverse.platform.search.documents import KINDS
from movieverse.platform.search.port import IndexBusy
from movieverse.platform.service import (
    ServiceContext,
    ServiceDefinition,
    SharedRuntime,
    service_runtime,
)
from movieverse.platform.settings import (
    ConfigurationError,
    PlatformSettings,
    resolve_database_url,
    resolve_redis_url,
)
from movieverse.services.ai.app import DEFINITION as AI
from movieverse.services.auth.app import DEFINITION as AUTH
from movieverse.services.indexer import service as indexer_service
from movieverse.services.indexer.app import DEFINITION as INDEXER
from movieverse.services.metadata.app import DEFINITION as METADATA
from movieverse.services.movies.app import DEFINITION as MOVIES
from movieverse.services.notifications.app import DEFINITION as NOTIFICATIONS
from movieverse.services.recommendations.app import DEFINITION as RECOMMENDATIONS
from movieverse.services.reviews.app import DEFINITION as REVIEWS
from movieverse.services.search.app import DEFINITION as SEARCH
from movieverse.services.users.app import DEFINITION as USERS

app = typer.Typer(help="MovieVerse: run, migrate and inspect the services.", no_args_is_help=True)
users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
import_app = typer.Typer(help="Fill the catalog from public datasets.", no_args_is_help=True)
app.add_typer(import_app, name="import")
dlq_app = typer.Typer(
    help="Events a consumer gave up on: list, replay (after a fix), purge.", no_args_is_help=True
)
app.add_typer(dlq_app, name="dlq")
app.add_typer(ai_app, name="ai")
auth_app = typer.Typer(help="Tokens and keys.", no_args_is_help=True)
app.add_typer(auth_app, name="auth")
console = Console()

# Every service built so far. Ports for `serve NAME` when MOVIEVERSE_<NAME>_PORT is unset.
DEFINITIONS: Mapping[str, ServiceDefinition] = {
    "auth": AUTH,
    "users": USERS,
    "movies": MOVIES,
    "metadata": METADATA,
    "reviews": REVIEWS,
    "notifications": NOTIFICATIONS,
    "indexer": INDEXER,
    "search": SEARCH,
    "ai": AI,
    "recommendations": RECOMMENDATIONS,
}
DEFAULT_PORTS = {
    "auth": 8001,
    "users": 8002,
    "movies": 8003,
    "metadata": 8004,
    "reviews": 8005,
    "notifications": 8006,
    "search": 8007,
    "indexer": 8008,
    "recommendations": 8009,
    "ai": 8010,
}


def _settings() -> PlatformSettings:
    try:
        settings = PlatformSettings()
        settings.ensure_safe()
    except ConfigurationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    return settings


def _definition(name: str) -> ServiceDefinition:
    if name not in DEFINITIONS:
        console.print(f"[red]Unknown service {name!r}.[/red] Known: {', '.join(DEFINITIONS)}")
        raise typer.Exit(2)
    return DEFINITIONS[name]


def _serve(target: ASGIApp, *, host: str, port: int, settings: PlatformSettings) -> None:
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    uvicorn.run(
        FreezeHeapAfterStartup(target),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
        server_header=False,
        # uvicorn's default rewrites the client address from X-Forwarded-For for any loopback
        # peer, before our own check runs: a client on the same host could then pick its
        # address and dodge every per-IP limit. Only MOVIEVERSE_TRUSTED_PROXIES decides whose
        # forwarding headers count (platform/clientip.py).
        proxy_headers=False,
    )


@app.command()
def up(
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind")] = None,
) -> None:
    """Run every service in one process on one port (the embedded shape)."""
    from movieverse.gateway.app import create_gateway

    settings = _settings()
    _serve(
        create_gateway(settings),
        host=host or settings.host,
        port=port or settings.port,
        settings=settings,
    )


@app.command()
def serve(
    name: Annotated[str, typer.Argument(help="Service name, e.g. auth")],
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind")] = None,
) -> None:
    """Run one service on its own port (the distributed shape)."""
    from movieverse.platform.service import build_service_app

    definition = _definition(name)
    settings = _settings()
    own = definition.settings_factory()
    _serve(
        build_service_app(definition, settings, own=own),
        host=host or settings.host,
        port=port or own.port or DEFAULT_PORTS.get(name, 8000),
        settings=settings,
    )


@app.command()
def worker(
    name: Annotated[str, typer.Argument(help="The worker: notifications")],
) -> None:
    """Run a service's background worker on its own (the distributed shape; set
    MOVIEVERSE_NOTIFICATIONS_RUN_WORKER=false for the service's API processes)."""
    if name != "notifications":
        console.print(f"[red]No worker named {name!r}.[/red] Known: notifications")
        raise typer.Exit(2)
    settings = _settings()
    configure_logging(level=settings.log_level, fmt=settings.log_format)

    async def run() -> None:
        from movieverse.services.notifications.worker import DeliveryWorker

        # No consumers here (the API processes have them); its relay publishes what it makes.
        runtime = SharedRuntime(settings, consume=False)
        async with service_runtime(NOTIFICATIONS, settings, runtime) as ctx:
            delivery: DeliveryWorker = ctx.state["worker"]
            console.print("[green]notifications worker running[/green] (Ctrl+C stops it)")
            await delivery.run()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@app.command()
def migrate(
    name: Annotated[str | None, typer.Argument(help="One service; all when omitted")] = None,
) -> None:
    """Bring service databases to the latest schema, and declare on the event broker (if one is
    configured) the queues and topics the services consume, so no event is lost to a service
    that has not run yet."""
    settings = _settings()
    names = [name] if name else list(DEFINITIONS)
    for service in names:
        definition = _definition(service)
        url = resolve_database_url(settings, definition.settings_factory(), service)
        upgrade(service, url)
        console.print(f"[green]migrated[/green] {service} ({redact_url(url)})")
    if settings.event_bus_url != "memory://":

        async def declare() -> None:
            async with _runtimes(settings, names) as (bus, _):
                await bus.ready()

        asyncio.run(declare())
        console.print(
            f"[green]declared[/green] event topology on {redact_url(settings.event_bus_url)}"
        )


@asynccontextmanager
async def _runtimes(
    settings: PlatformSettings, names: Iterable[str] | None = None
) -> AsyncIterator[tuple[EventBus, list[ServiceContext]]]:
    """Every service's runtime on a bus that does not consume: their subscriptions are known
    (and declared on a broker), but events stay for the services' own processes."""
    runtime = SharedRuntime(settings, consume=False)
    async with AsyncExitStack() as stack:
        contexts = [
            await stack.enter_async_context(
                service_runtime(DEFINITIONS[name], settings, runtime, start_relay=False)
            )
            for name in (names or DEFINITIONS)
        ]
        yield runtime.bus, contexts


@app.command()
def check() -> None:
    """Show every configured store: reachable, latency, version. Exits 1 if one is down."""
    settings = _settings()
    rows = asyncio.run(_check_stores(settings))
    table = Table(title="MovieVerse stores")
    for column in ("service", "store", "url", "reachable", "latency ms", "version"):
        table.add_column(column)
    healthy = True
    for row in rows:
        healthy = healthy and row[3] == "yes"
        style = "green" if row[3] == "yes" else "red"
        table.add_row(*row[:3], f"[{style}]{row[3]}[/{style}]", *row[4:])
    console.print(table)
    if not healthy:
        raise typer.Exit(1)


async def _check_stores(settings: PlatformSettings) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for name, definition in DEFINITIONS.items():
        own = definition.settings_factory()
        db = Database.connect(resolve_database_url(settings, own, name), settings)
        try:
            status = await db.status("database")
        finally:
            await db.dispose()
        rows.append(
            (
                name,
                "database",
                status.url,
                "yes" if status.reachable else "no",
                f"{status.latency_ms:.1f}" if status.latency_ms is not None else "-",
                status.version or (status.error or "-"),
            )
        )
        redis_url = resolve_redis_url(settings, own)
        rows.append(await _check_kv(name, redis_url))
    rows.append(await _check_bus(settings))
    return rows


async def _check_bus(settings: PlatformSettings) -> tuple[str, ...]:
    import time

    from movieverse.platform.events.factory import create_event_bus

    shown = redact_url(settings.event_bus_url)
    bus = create_event_bus(settings, consume=False)
    started = time.perf_counter()
    try:
        await asyncio.wait_for(bus.start(), timeout=10)
        version = await asyncio.wait_for(bus.ping(), timeout=5)
    except Exception as exc:  # a health table reports failures instead of raising
        return ("all", "event bus", shown, "no", "-", repr(exc))
    finally:
        with contextlib.suppress(Exception):
            await bus.stop()
    return (
        "all",
        "event bus",
        shown,
        "yes",
        f"{(time.perf_counter() - started) * 1000:.1f}",
        version,
    )


async def _check_kv(service: str, url: str | None) -> tuple[str, ...]:
    import time

    kv = create_key_value_store(url)
    started = time.perf_counter()
    try:
        version = await asyncio.wait_for(kv.ping(), timeout=5)
    except Exception as exc:  # a health table reports failures instead of raising
        return (service, "key-value", redact_url(url) if url else "memory://", "no", "-", repr(exc))
    finally:
        await kv.close()
    latency = f"{(time.perf_counter() - started) * 1000:.1f}"
    shown = redact_url(url) if url else "memory://"
    return (service, "key-value", shown, "yes", latency, version)


@users_app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The administrator's email address")],
    username: Annotated[str, typer.Option(help="3-30 characters of a-z, 0-9 and _")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="MOVIEVERSE_ADMIN_PASSWORD",
            help="Prompted for when not given (or set MOVIEVERSE_ADMIN_PASSWORD)",
        ),
    ],
) -> None:
    """Create an administrator account, or grant the admin role to an existing email."""
    from movieverse.platform.errors import DomainError
    from movieverse.services.auth import service as auth_service
    from movieverse.services.auth.app import build_components

    settings = _settings()

    async def run() -> str:
        runtime = SharedRuntime(settings, consume=False)
        async with service_runtime(AUTH, settings, runtime, start_relay=False) as ctx:
            components = build_components(ctx)
            async with ctx.db.unit_of_work() as session:
                account = await auth_service.grant_admin(
                    session, components, email=email, username=username, password=password
                )
                return f"{account.username} <{account.email}> roles={','.join(account.roles)}"

    try:
        summary = asyncio.run(run())
    except DomainError as exc:
        details = "; ".join(e.message for e in exc.errors or [])
        console.print(f"[red]{exc.detail}[/red] {details}")
        raise typer.Exit(1) from exc
    console.print(f"[green]admin ready:[/green] {summary}")


@auth_app.command("service-token")
def service_token(
    name: Annotated[str, typer.Argument(help="The service that will present it")],
    days: Annotated[int, typer.Option(min=1, max=365, help="How long it stays valid")] = 30,
) -> None:
    """Print a token for a service's calls on its own behalf (MOVIEVERSE_SERVICE_TOKEN_FILE).
    Needs auth's signing key: under EdDSA or RS256 the other services cannot mint their own."""
    from datetime import timedelta

    from movieverse.services.auth.settings import AuthSettings
    from movieverse.services.auth.tokens import AccessTokenIssuer

    if name not in DEFINITIONS:
        console.print(f"[red]unknown service {name!r}[/red]; known: {', '.join(DEFINITIONS)}")
        raise typer.Exit(2)
    try:
        issuer = AccessTokenIssuer.from_settings(_settings(), AuthSettings())
    except ConfigurationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    typer.echo(issuer.issue_service(name=name, ttl=timedelta(days=days)))


class _Bars:
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


def _bars() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _run_import(
    settings: PlatformSettings, batch_size: int, steps: Callable[[CatalogImport], Awaitable[None]]
) -> ImportReport:
    async def run() -> ImportReport:
        with _bars() as progress:
            async with CatalogImport(
                settings, batch_size=batch_size, progress=_Bars(progress)
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
    settings = _settings()
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

    _print_report(_run_import(settings, batch_size, steps))


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
    settings = _settings()
    folder = _dataset_folder(path_or_name, settings, download=download)

    async def steps(catalog: CatalogImport) -> None:
        await catalog.movielens(folder, ratings=ratings)

    _print_report(_run_import(settings, batch_size, steps))


def _dataset_folder(path_or_name: str, settings: PlatformSettings, *, download: bool) -> Path:
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


def _print_report(report: ImportReport) -> None:
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


@app.command()
def reindex(
    kinds: Annotated[
        list[str] | None,
        typer.Option("--kind", help="movies, people or reviews (repeatable); all when omitted"),
    ] = None,
) -> None:
    """Rebuild the search indexes from the indexer's documents and swap them in. On the embedded
    (tantivy) index the running server holds the writer: use POST /indexer/reindex there."""
    settings = _settings()
    unknown = sorted(set(kinds or ()) - set(KINDS))
    if unknown:
        console.print(f"[red]Unknown kind {', '.join(unknown)}.[/red] Known: {', '.join(KINDS)}")
        raise typer.Exit(2)

    async def run() -> dict[str, Any]:
        runtime = SharedRuntime(settings, consume=False)
        async with service_runtime(INDEXER, settings, runtime, start_relay=False) as ctx:
            index = await open_search_index(settings, writable=True)
            try:
                async with ctx.db.unit_of_work() as session:
                    job = await indexer_service.request_reindex(
                        session, kinds=indexer_service.parse_kinds(kinds), requested_by=None
                    )
                    job_id = job.id
                vectors = indexer_service.Vectors(enabled=settings.semantic_search)
                await indexer_service.run_job(ctx.db, index, job_id, vectors)
                async with ctx.db.unit_of_work(write=False) as session:
                    done = await indexer_service.get_job(session, job_id=job_id)
                    return indexer_service.job_view(done)
            finally:
                await index.close()

    try:
        job = asyncio.run(run())
    except (IndexBusy, Conflict) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    colour = "green" if job["status"] == "succeeded" else "red"
    console.print(
        f"[{colour}]{job['status']}[/{colour}]: {job['done']} of {job['total']} documents "
        f"({', '.join(job['kinds'])})" + (f" -- {job['error']}" if job["error"] else "")
    )
    if job["status"] != "succeeded":
        raise typer.Exit(1)


@app.command("demo-data")
def demo_data() -> None:
    """Fill an empty catalog with demo data (what `make run` does first); a catalog that has
    movies is left alone. Sources, first that works: MOVIEVERSE_MOVIELENS_DIR, the official
    ml-latest-small download, a synthetic catalog."""
    from movieverse.gateway.settle import settle_staged_events
    from movieverse.ingest.demo import seed_demo_catalog

    settings = _settings()

    async def run() -> None:
        with _bars() as progress:
            outcome = await seed_demo_catalog(
                settings, progress=_Bars(progress), say=progress.console.print
            )
        if outcome.report is not None:
            _print_report(outcome.report)
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


@dlq_app.command("list")
def dlq_list(
    group: Annotated[str | None, typer.Option(help="One consumer group; all when omitted")] = None,
) -> None:
    """Show dead letters: group, event, attempts, when, and the last error."""

    async def run() -> list[DeadLetter]:
        async with _runtimes(_settings()) as (bus, _):
            return list(await bus.dead_letters(group))

    letters = asyncio.run(run())
    table = Table(title=f"Dead letters ({len(letters)})")
    for column in ("group", "event type", "event id", "key", "attempts", "failed at", "error"):
        table.add_column(column)
    for letter in letters:
        table.add_row(
            letter.group,
            letter.event.type,
            str(letter.event.id),
            letter.event.key,
            str(letter.attempts),
            letter.failed_at.isoformat(timespec="seconds"),
            letter.error[:120],
        )
    console.print(table)


GroupOption = Annotated[str, typer.Option(help="The consumer group, e.g. movies.people-index")]


@dlq_app.command("replay")
def dlq_replay(group: GroupOption) -> None:
    """Give a group its dead letters again (once the cause is fixed); other groups are not
    bothered. With the in-process bus, the running server delivers them within a second."""

    async def run() -> int:
        async with _runtimes(_settings()) as (bus, _):
            return await bus.replay_dead_letters(group)

    console.print(f"[green]replayed[/green] {asyncio.run(run())} dead letter(s) of {group}")


@dlq_app.command("purge")
def dlq_purge(group: GroupOption) -> None:
    """Drop a group's dead letters for good."""

    async def run() -> int:
        async with _runtimes(_settings()) as (bus, _):
            return await bus.purge_dead_letters(group)

    console.print(f"[yellow]purged[/yellow] {asyncio.run(run())} dead letter(s) of {group}")


@app.command()
def publish(
    queue: Annotated[str, typer.Option(help="Queue (RabbitMQ) or topic (Kafka) to publish to")],
    message: Annotated[str, typer.Option(help="The message text")],
) -> None:
    """Smoke-test the configured broker: publish one raw message (confirmed by the broker)."""
    from movieverse.platform.events.smoke import BrokerUnresponsive, NoBroker, publish_raw

    settings = _settings()
    try:
        asyncio.run(publish_raw(settings.event_bus_url, queue, message))
    except NoBroker as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    except BrokerUnresponsive as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(3) from exc
    console.print(f"[green]published[/green] to {queue} on {redact_url(settings.event_bus_url)}")


@app.command()
def consume(
    queue: Annotated[str, typer.Option(help="Queue (RabbitMQ) or topic (Kafka) to read")],
    count: Annotated[int, typer.Option(min=1, max=10_000, help="Stop after this many")] = 1,
    timeout: Annotated[float, typer.Option(min=0.1, max=600, help="Seconds to wait")] = 10.0,
) -> None:
    """Smoke-test the configured broker: print (and acknowledge) raw messages. Exits 1 if none
    came within the timeout."""
    from movieverse.platform.events.smoke import BrokerUnresponsive, NoBroker, consume_raw

    settings = _settings()
    try:
        messages = asyncio.run(
            consume_raw(settings.event_bus_url, queue, count=count, wait_seconds=timeout)
        )
    except NoBroker as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    except BrokerUnresponsive as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(3) from exc
    for text in messages:
        typer.echo(text)
    if not messages:
        console.print(f"[yellow]no message on {queue} within {timeout:g} s[/yellow]")
        raise typer.Exit(1)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
