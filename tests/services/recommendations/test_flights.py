"""Single flight: concurrent misses of one key share one computation."""

from __future__ import annotations

import asyncio

import pytest

from movieverse.services.recommendations.flights import SingleFlight


async def test_concurrent_callers_of_one_key_share_one_computation() -> None:
    flights: SingleFlight[str] = SingleFlight()
    calls = 0
    release = asyncio.Event()

    async def compute() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return f"answer {calls}"

    waiting = [asyncio.create_task(flights.run("alice", compute)) for _ in range(5)]
    other = asyncio.create_task(flights.run("bob", compute))
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == ["answer 1"] * 5
    assert await other == "answer 2"
    assert (calls, flights.joined, flights.running) == (2, 4, 0)
    # Once done, the key is free: the next miss computes again.
    assert await flights.run("alice", compute) == "answer 3"


async def test_a_failure_reaches_every_caller_and_is_not_kept() -> None:
    flights: SingleFlight[str] = SingleFlight()
    release = asyncio.Event()

    async def failing() -> str:
        await release.wait()
        raise ConnectionError("ai went away")

    waiting = [asyncio.create_task(flights.run("alice", failing)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)

    async def fine() -> str:
        return "ok"

    assert await flights.run("alice", fine) == "ok"


async def test_a_caller_that_goes_away_does_not_cancel_it_for_the_others() -> None:
    flights: SingleFlight[str] = SingleFlight()
    release = asyncio.Event()

    async def compute() -> str:
        await release.wait()
        return "answer"

    first = asyncio.create_task(flights.run("alice", compute))
    second = asyncio.create_task(flights.run("alice", compute))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    release.set()
    assert await second == "answer"
