"""``movieverse up``, ``serve NAME`` and ``worker NAME``: the processes that serve."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer
import uvicorn
from starlette.types import ASGIApp

from movieverse.cli.common import DEFAULT_PORTS, console, platform_settings, service_definition
from movieverse.platform.assembly import SharedRuntime, service_runtime
from movieverse.platform.heap import FreezeHeapAfterStartup
from movieverse.platform.observability import configure_logging
from movieverse.platform.settings import PlatformSettings
from movieverse.services.notifications.app import DEFINITION as NOTIFICATIONS


def serve_app(target: ASGIApp, *, host: str, port: int, settings: PlatformSettings) -> None:
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


def up(
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind")] = None,
) -> None:
    """Run every service in one process on one port (the embedded shape)."""
    from movieverse.gateway.app import create_gateway

    settings = platform_settings()
    serve_app(
        create_gateway(settings),
        host=host or settings.host,
        port=port or settings.port,
        settings=settings,
    )


def serve(
    name: Annotated[str, typer.Argument(help="Service name, e.g. auth")],
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind")] = None,
) -> None:
    """Run one service on its own port (the distributed shape)."""
    from movieverse.platform.assembly import build_service_app

    definition = service_definition(name)
    settings = platform_settings()
    own = definition.settings_factory()
    serve_app(
        build_service_app(definition, settings, own=own),
        host=host or settings.host,
        port=port or own.port or DEFAULT_PORTS.get(name, 8000),
        settings=settings,
    )


def worker(
    name: Annotated[str, typer.Argument(help="The worker: notifications")],
) -> None:
    """Run a service's background worker on its own (the distributed shape; set
    MOVIEVERSE_NOTIFICATIONS_RUN_WORKER=false for the service's API processes)."""
    if name != "notifications":
        console.print(f"[red]No worker named {name!r}.[/red] Known: notifications")
        raise typer.Exit(2)
    settings = platform_settings()
    configure_logging(level=settings.log_level, fmt=settings.log_format)

    async def run() -> None:
        from movieverse.platform.assembly import runtime_of
        from movieverse.services.notifications.bootstrap import NotificationsRuntime

        # No consumers here (the API processes have them); its relay publishes what it makes.
        runtime = SharedRuntime(settings, consume=False)
        async with service_runtime(NOTIFICATIONS, settings, runtime) as ctx:
            delivery = runtime_of(ctx, NotificationsRuntime).worker
            console.print("[green]notifications worker running[/green] (Ctrl+C stops it)")
            await delivery.run()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
