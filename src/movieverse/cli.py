"""The ``movieverse`` command."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from movieverse.datasets import BadRow
from movieverse.platform.cache import create_key_value_store
from movieverse.platform.db import Database, redact_url
from movieverse.platform.migrations import upgrade
from movieverse.platform.observability import configure_logging
from movieverse.platform.service import ServiceDefinition, SharedRuntime, service_runtime
from movieverse.platform.settings import (
    ConfigurationError,
    PlatformSettings,
    resolve_database_url,
    resolve_redis_url,
)
from movieverse.services.auth.app import DEFINITION as AUTH
from movieverse.services.metadata.app import DEFINITION as METADATA
from movieverse.services.movies.app import DEFINITION as MOVIES
from movieverse.services.movies.importer import ImportSummary
from movieverse.services.users.app import DEFINITION as USERS

app = typer.Typer(help="MovieVerse: run, migrate and inspect the services.", no_args_is_help=True)
users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
import_app = typer.Typer(help="Fill the catalog from public datasets.", no_args_is_help=True)
app.add_typer(import_app, name="import")
console = Console()

# Every service built so far. Ports for `serve NAME` when MOVIEVERSE_<NAME>_PORT is unset.
DEFINITIONS: Mapping[str, ServiceDefinition] = {
    "auth": AUTH,
    "users": USERS,
    "movies": MOVIES,
    "metadata": METADATA,
}
DEFAULT_PORTS = {"auth": 8001, "users": 8002, "movies": 8003, "metadata": 8004}


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


def _serve(target: object, *, host: str, port: int, settings: PlatformSettings) -> None:
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    uvicorn.run(
        target,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
        server_header=False,
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
def migrate(
    name: Annotated[str | None, typer.Argument(help="One service; all when omitted")] = None,
) -> None:
    """Bring service databases to the latest schema."""
    settings = _settings()
    names = [name] if name else list(DEFINITIONS)
    for service in names:
        definition = _definition(service)
        url = resolve_database_url(settings, definition.settings_factory(), service)
        upgrade(service, url)
        console.print(f"[green]migrated[/green] {service} ({redact_url(url)})")


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
    rows.append(("all", "event bus", settings.event_bus_url, "yes", "-", "in-process"))
    return rows


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
        runtime = SharedRuntime(settings)
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


@import_app.command("tmdb-csv")
def import_tmdb_csv(
    path: Annotated[Path, typer.Argument(help="tmdb_5000_movies.csv, or the folder holding it")],
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 500,
) -> None:
    """Import TMDB's 5000-movie CSV: movies, genres, keywords, companies, countries, languages."""
    from movieverse.datasets import read_tmdb_csv
    from movieverse.services.movies.importer import tmdb_entry

    settings = _settings()
    bad_rows: list[BadRow] = []
    entries = (tmdb_entry(m) for m in read_tmdb_csv(path, report=bad_rows.append))
    summary = asyncio.run(_run_import(settings, entries, batch_size, label="TMDB movies"))
    _print_summary(summary, bad_rows)


@import_app.command("movielens")
def import_movielens(
    path_or_name: Annotated[
        str,
        typer.Argument(
            help="A MovieLens folder, or a name (ml-latest-small, ml-100k, ml-25m, ml-32m) "
            "looked up under MOVIEVERSE_DATASETS_DIR"
        ),
    ],
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 500,
) -> None:
    """Import MovieLens movies and their links (matched to TMDB/IMDb ids, never by title)."""
    from movieverse.datasets import find_dataset, read_movielens
    from movieverse.services.movies.importer import movielens_entry

    settings = _settings()
    candidate = Path(path_or_name)
    if candidate.exists():
        folder = candidate
    else:
        root = Path(os.environ.get("MOVIEVERSE_DATASETS_DIR", settings.var_dir / "datasets"))
        try:
            folder = find_dataset(path_or_name, root)
        except FileNotFoundError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
    bad_rows: list[BadRow] = []
    dataset = read_movielens(folder, report=bad_rows.append)
    names = asyncio.run(_genre_vocabulary(settings))
    entries = (movielens_entry(m, names) for m in dataset.movies())
    summary = asyncio.run(_run_import(settings, entries, batch_size, label="MovieLens movies"))
    _print_summary(summary, bad_rows)


async def _genre_vocabulary(settings: PlatformSettings) -> dict[int, str]:
    from movieverse.services.movies.importer import genre_names

    runtime = SharedRuntime(settings)
    async with (
        service_runtime(MOVIES, settings, runtime, start_relay=False) as ctx,
        ctx.db.unit_of_work(write=False) as session,
    ):
        return await genre_names(session)


async def _run_import(
    settings: PlatformSettings, entries: Iterable[Any], batch_size: int, *, label: str
) -> ImportSummary:
    from movieverse.services.movies.importer import CatalogImporter, batched

    summary = ImportSummary()
    async with service_runtime(MOVIES, settings, SharedRuntime(settings), start_relay=False) as ctx:
        importer = CatalogImporter(outbox=ctx.outbox)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task(label, total=None)
            for batch in batched(entries, batch_size):
                # One unit of work per batch: an interrupted import keeps what it finished.
                async with ctx.db.unit_of_work() as session:
                    summary.add(await importer.apply(session, batch))
                progress.advance(task, len(batch))
    return summary


def _print_summary(summary: ImportSummary, bad_rows: list[BadRow]) -> None:
    table = Table(title="Import summary")
    for column in ("created", "updated", "unchanged", "conflicts", "bad rows"):
        table.add_column(column, justify="right")
    table.add_row(
        str(summary.created),
        str(summary.updated),
        str(summary.unchanged),
        str(len(summary.conflicts)),
        str(len(bad_rows)),
    )
    console.print(table)
    for conflict in summary.conflicts:
        console.print(f"[yellow]conflict:[/yellow] {conflict}")
    for bad in bad_rows:
        console.print(f"[red]skipped[/red] {bad.file}:{bad.line}: {bad.reason}")


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
