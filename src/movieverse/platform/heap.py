"""The server process's heap: what is built at start-up is set aside from the cyclic collector.

A started process holds about 270,000 objects the collector tracks (FastAPI routes, pydantic and
SQLAlchemy models, the services' state), nearly all of which live as long as the process. A
full collection traverses every one of them: about 100 ms on this machine, on the event-loop
thread, every few seconds under write load. Every request in flight, and every refusal admission
control should answer at once, waits those 100 ms (bench/overload.py saw refusals' p99 at 75-100
ms until this; issue 17).

:class:`FreezeHeapAfterStartup` collects once when the app reports its start-up complete and
then freezes what survived (``gc.freeze``): later collections look only at objects made since,
so a full one takes under a millisecond. Frozen objects are still freed by reference counting;
only a reference cycle among them would outlive its last use, and start-up objects are the
process's own for its whole life.

Then the collector runs less often (``SERVED_GC_THRESHOLDS``): by default a young collection
every 700 net allocations, dozens per request, each walking what requests have in flight. At 20,000
a young collection still takes about a millisecond, and a rating write cost 8 % less CPU in all
(bench/rating_writes.py, 2.66-2.72 -> 2.40-2.50 ms on this machine), its p50 latency 7 % less.
Cyclic garbage waits longer to be freed: at most those 20,000 objects, a few megabytes.

It wraps the app that ``movieverse up`` / ``movieverse serve`` hand to the server, never the apps
tests build: a test process builds and drops hundreds of apps, and freezing one would keep its
cycles alive after the test that made it.
"""

from __future__ import annotations

import gc
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# gc.set_threshold's (young, middle, old) for a serving process; Python's default is (700, 10, 10).
SERVED_GC_THRESHOLDS = (20_000, 50, 100)


def freeze_startup_heap() -> int:
    """Collect garbage, then move every surviving tracked object out of the collector's sight
    and make collections rarer; returns how many objects are frozen."""
    began = time.perf_counter()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVED_GC_THRESHOLDS)
    frozen = gc.get_freeze_count()
    log.info(
        "start-up heap frozen",
        extra={"objects": frozen, "ms": round((time.perf_counter() - began) * 1000, 1)},
    )
    return frozen


class FreezeHeapAfterStartup:
    """Pure-ASGI wrapper: freezes the heap once the lifespan reports start-up complete."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def watch(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                freeze_startup_heap()
            await send(message)

        await self.app(scope, receive, watch)
