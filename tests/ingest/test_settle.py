"""`movieverse demo-data` delivers what an import staged before the server starts.

An import leaves its events in the services' outboxes (the command has no consumers); a server
that started with them pending would make its first users wait behind them. Here a small TMDB
import stages them, and demo-data (finding the catalog already filled) delivers them: every
outbox empty, the search index and the cast filter already hold the imported movies when the
server starts.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from movieverse.cli import app
from movieverse.gateway.settle import until_outboxes_empty
from tests.ingest.test_credits_and_keywords import PACINO, _heat_and_insider, _import, env
from tests.support import Stack, running_gateway

runner = CliRunner()
__all__ = ["env"]  # the fixture, shared with the import tests

SERVICES = ("movies", "metadata", "indexer", "reviews", "users", "auth", "ai", "notifications")


def _pending(var: Path) -> int:
    total = 0
    for service in SERVICES:
        database = var / f"{service}.db"
        if not database.exists():
            continue
        with sqlite3.connect(database) as conn:
            total += conn.execute(
                f"select count(*) from {service}_outbox where published_at is null"  # noqa: S608
            ).fetchone()[0]
    return int(total)


async def test_demo_data_delivers_what_an_import_staged(
    env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "tmdb"
    _heat_and_insider(folder)
    await asyncio.to_thread(_import, env, "tmdb-csv", str(folder))
    var = tmp_path / "var"
    staged = _pending(var)
    assert staged > 0

    demo = await asyncio.to_thread(
        runner.invoke,
        app,
        ["demo-data"],
        # No sentence model: loading it costs seconds and has nothing to do with delivery.
        env={**env, "MOVIEVERSE_DEMO_DOWNLOAD": "false", "MOVIEVERSE_SEMANTIC_SEARCH": "false"},
    )
    assert demo.exit_code == 0, demo.output
    output = " ".join(demo.output.split())
    assert "demo data: existing" in output
    # What was staged, and any follow-up events its handlers made, all published by this run.
    delivered = re.search(r"delivered (\d+) staged events", output)
    assert delivered is not None, output
    assert int(delivered.group(1)) >= staged
    assert _pending(var) == 0

    # The server starts with nothing to catch up on: both are searchable and filterable at once.
    settings = Stack("embedded", database_url=None, redis_url=None).settings(var)
    async with running_gateway(settings) as (_, client):
        found = await client.get("/search/movies", params={"q": "heat"})
        assert [m["title"] for m in found.json()["results"]][:1] == ["Heat"]
        by_cast = await client.get("/discover/movies", params={"with_cast": str(PACINO)})
        assert by_cast.json()["total_results"] == 2


async def _settle_on(counts: list[int], *, stall_seconds: float) -> tuple[int, list[str], int]:
    """until_outboxes_empty over a scripted sequence of pending counts (the last repeats)."""
    said: list[str] = []
    asked = 0

    async def count() -> int:
        nonlocal asked
        asked += 1
        return counts[min(asked - 1, len(counts) - 1)]

    left = await until_outboxes_empty(
        count, say=said.append, poll_seconds=0.001, stall_seconds=stall_seconds
    )
    return left, said, asked


async def test_settling_waits_for_follow_up_events_then_two_empty_looks() -> None:
    # Empty once, then a handler's own events appear: it keeps going until two empty looks.
    left, _, asked = await _settle_on([5, 0, 3, 1, 0, 0], stall_seconds=3600)
    assert (left, asked) == (0, 6)


async def test_settling_gives_up_on_delivery_that_makes_no_progress() -> None:
    """A broker gone after the start: demo-data must not hang `make run` for ever."""
    left, said, _ = await _settle_on([40, 12], stall_seconds=0.05)
    assert left == 12
    assert "not being delivered" in said[-1]
