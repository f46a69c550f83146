"""What every command group shares: the console, the services, the settings, runtimes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager

import typer
from rich.console import Console

from movieverse.platform.assembly import (
    ServiceContext,
    ServiceDefinition,
    SharedRuntime,
    service_runtime,
)
from movieverse.platform.events.bus import EventBus
from movieverse.platform.settings import ConfigurationError, PlatformSettings
from movieverse.services.ai.app import DEFINITION as AI
from movieverse.services.auth.app import DEFINITION as AUTH
from movieverse.services.indexer.app import DEFINITION as INDEXER
from movieverse.services.metadata.app import DEFINITION as METADATA
from movieverse.services.movies.app import DEFINITION as MOVIES
from movieverse.services.notifications.app import DEFINITION as NOTIFICATIONS
from movieverse.services.recommendations.app import DEFINITION as RECOMMENDATIONS
from movieverse.services.reviews.app import DEFINITION as REVIEWS
from movieverse.services.search.app import DEFINITION as SEARCH
from movieverse.services.users.app import DEFINITION as USERS

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


def platform_settings() -> PlatformSettings:
    try:
        settings = PlatformSettings()
        settings.ensure_safe()
    except ConfigurationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    return settings


def service_definition(name: str) -> ServiceDefinition:
    if name not in DEFINITIONS:
        console.print(f"[red]Unknown service {name!r}.[/red] Known: {', '.join(DEFINITIONS)}")
        raise typer.Exit(2)
    return DEFINITIONS[name]


@asynccontextmanager
async def runtimes(
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
