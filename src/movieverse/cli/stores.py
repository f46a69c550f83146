"""``movieverse migrate`` and ``check``: the services' stores, brokers and caches."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer
from rich.table import Table

from movieverse.cli.common import (
    DEFINITIONS,
    console,
    platform_settings,
    runtimes,
    service_definition,
)
from movieverse.platform.cache import create_key_value_store
from movieverse.platform.db import Database, redact_url
from movieverse.platform.migrations import upgrade
from movieverse.platform.settings import PlatformSettings, resolve_database_url, resolve_redis_url


def migrate(
    name: Annotated[str | None, typer.Argument(help="One service; all when omitted")] = None,
) -> None:
    """Bring service databases to the latest schema, and declare on the event broker (if one is
    configured) the queues and topics the services consume, so no event is lost to a service
    that has not run yet."""
    settings = platform_settings()
    names = [name] if name else list(DEFINITIONS)
    for service in names:
        definition = service_definition(service)
        url = resolve_database_url(settings, definition.settings_factory(), service)
        upgrade(service, url)
        console.print(f"[green]migrated[/green] {service} ({redact_url(url)})")
    if settings.event_bus_url != "memory://":

        async def declare() -> None:
            async with runtimes(settings, names) as (bus, _):
                await bus.ready()

        asyncio.run(declare())
        console.print(
            f"[green]declared[/green] event topology on {redact_url(settings.event_bus_url)}"
        )


def check() -> None:
    """Show every configured store: reachable, latency, version. Exits 1 if one is down."""
    settings = platform_settings()
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
