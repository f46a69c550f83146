"""``movieverse dlq ...``, ``publish`` and ``consume``: events, dead and alive."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table

from movieverse.cli.common import console, platform_settings, runtimes
from movieverse.platform.db import redact_url
from movieverse.platform.events.bus import DeadLetter

dlq_app = typer.Typer(
    help="Events a consumer gave up on: list, replay (after a fix), purge.", no_args_is_help=True
)


@dlq_app.command("list")
def dlq_list(
    group: Annotated[str | None, typer.Option(help="One consumer group; all when omitted")] = None,
) -> None:
    """Show dead letters: group, event, attempts, when, and the last error."""

    async def run() -> list[DeadLetter]:
        async with runtimes(platform_settings()) as (bus, _):
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
        async with runtimes(platform_settings()) as (bus, _):
            return await bus.replay_dead_letters(group)

    console.print(f"[green]replayed[/green] {asyncio.run(run())} dead letter(s) of {group}")


@dlq_app.command("purge")
def dlq_purge(group: GroupOption) -> None:
    """Drop a group's dead letters for good."""

    async def run() -> int:
        async with runtimes(platform_settings()) as (bus, _):
            return await bus.purge_dead_letters(group)

    console.print(f"[yellow]purged[/yellow] {asyncio.run(run())} dead letter(s) of {group}")


def publish(
    queue: Annotated[str, typer.Option(help="Queue (RabbitMQ) or topic (Kafka) to publish to")],
    message: Annotated[str, typer.Option(help="The message text")],
) -> None:
    """Smoke-test the configured broker: publish one raw message (confirmed by the broker)."""
    from movieverse.platform.events.smoke import BrokerUnresponsive, NoBroker, publish_raw

    settings = platform_settings()
    try:
        asyncio.run(publish_raw(settings.event_bus_url, queue, message))
    except NoBroker as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    except BrokerUnresponsive as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(3) from exc
    console.print(f"[green]published[/green] to {queue} on {redact_url(settings.event_bus_url)}")


def consume(
    queue: Annotated[str, typer.Option(help="Queue (RabbitMQ) or topic (Kafka) to read")],
    count: Annotated[int, typer.Option(min=1, max=10_000, help="Stop after this many")] = 1,
    timeout: Annotated[float, typer.Option(min=0.1, max=600, help="Seconds to wait")] = 10.0,
) -> None:
    """Smoke-test the configured broker: print (and acknowledge) raw messages. Exits 1 if none
    came within the timeout."""
    from movieverse.platform.events.smoke import BrokerUnresponsive, NoBroker, consume_raw

    settings = platform_settings()
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
