"""Handing one event to one group: retries with back-off, then the verdict. Shared by every bus
adapter, so a handler is treated alike in process and behind a broker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import structlog

from movieverse.contracts.envelope import Event
from movieverse.platform.events.bus import Subscription

log = structlog.get_logger("movieverse.events")


async def deliver(
    subscription: Subscription,
    event: Event,
    *,
    delay: Callable[[int], float],
    first_attempt: int = 1,
) -> tuple[str, int] | None:
    """Run the group's handler until it succeeds (None) or has failed ``max_attempts`` times in
    all (the last error and the attempt count). ``first_attempt`` counts attempts an earlier
    delivery already made (a broker's redelivery count). Cancellation is never caught: a
    stopping or crashing consumer must leave the event unacknowledged."""
    attempt = first_attempt
    while True:
        try:
            await subscription.handler(event)
            return None
        except Exception as exc:
            if attempt >= subscription.max_attempts:
                return repr(exc), attempt
            log.warning(
                "event_handler_failed",
                group=subscription.group,
                event_id=str(event.id),
                event_type=event.type,
                attempt=attempt,
                error=repr(exc),
            )
            await asyncio.sleep(delay(attempt))
            attempt += 1


async def deliver_batch(
    subscription: Subscription,
    events: Sequence[Event],
    *,
    delay: Callable[[int], float],
) -> list[tuple[Event, str, int]]:
    """Hand a group several events in order: all in one go when its handler takes batches (one
    transaction instead of one per event), else -- or when the batch fails -- one by one with
    :func:`deliver`'s retries. Returns the events that failed for good, with their error and
    attempts, for the adapter to dead-letter."""
    batch = subscription.batch_handler
    if batch is not None and len(events) > 1:
        try:
            await batch.many(events)
            return []
        except Exception as exc:
            # One at a time instead: the poison event is then retried, and set aside, alone.
            log.info("event_batch_split", group=subscription.group, error=repr(exc))
    failures = []
    for event in events:
        failed = await deliver(subscription, event, delay=delay)
        if failed is not None:
            failures.append((event, *failed))
    return failures


def log_dead_letter(group: str, event: Event, error: str, attempts: int) -> None:
    # The whole event is logged, so it can be replayed even if the dead-letter store is lost.
    log.error(
        "event_dead_lettered",
        group=group,
        attempts=attempts,
        error=error,
        dead_event=event.model_dump(mode="json"),
    )
