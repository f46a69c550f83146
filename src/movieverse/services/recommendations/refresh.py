"""Refreshing a user's cached first page as soon as something changes it (a rating, a list, their
preferences; a new model, for the latest visitors), so that their next visit is a cache hit
instead of a trip to the model.

A change makes a new cache key at once (service.py), so without this the first request after
every rating pays for the model: 10-15 ms on its own, and hundreds under load, since all misses
queue for the same event loop. The refresh does that same work in the background, a user at a
time, for the page ``/recommendations/me`` asks for by default.

Only for users who have opened that page lately (the last ``MAX_VISITORS`` distinct visitors of
this process): a refresh costs about as much CPU as a rating write itself (issue 18 measured
0.37 ms of the 2.9 ms a write cost in all went to refreshes), and for someone who never looks at
their recommendations it is work nobody reads. Their first visit computes the page once, as any
miss does, and from then on they are refreshed.

The ai service may not have applied the rating yet when recommendations sees it: its answer then
says so (``as_of``), is not cached, and the refresh tries again a little later, up to
``RETRY_DELAYS``. A refresh that fails only costs the user a miss, so failures are logged and
dropped. It needs a service credential (platform/service_tokens.py) to ask ai on the user's
behalf.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from uuid import UUID

from movieverse.services.recommendations.metrics import recommendations_metrics
from movieverse.services.recommendations.service import Query

log = logging.getLogger(__name__)

# What GET /recommendations/me asks for without parameters (api.py, platform/pagination.py).
FIRST_PAGE = Query(
    page=1, per_page=20, genres=[], exclude_rated=True, exclude_watchlist=True, exclude_seen=True
)
# Seconds before each attempt: the first lets ai's consumer apply the same rating event.
RETRY_DELAYS = (0.05, 0.2, 0.5, 1.0, 2.0, 4.0)
# Users waiting at most; past it a change just leaves that user's next request to miss.
MAX_WAITING = 10_000
# Recent visitors remembered, most recent last: the users refreshed after their changes, and
# after a new model makes every key new. About 150 bytes each.
MAX_VISITORS = 50_000

# Refreshes ``user_id``'s page; True once the cache holds an answer under their current key.
RefreshOne = Callable[[UUID], Awaitable[bool]]


class Refresher:
    def __init__(
        self,
        *,
        refresh: RefreshOne,
        delays: Sequence[float] = RETRY_DELAYS,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        self._refresh = refresh
        self._delays = tuple(delays)
        self._max_waiting = max_waiting
        self._waiting: set[UUID] = set()
        self._visitors: OrderedDict[UUID, None] = OrderedDict()
        # One model call at a time: a burst of ratings must not crowd out the requests.
        self._turn = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self.refreshed = 0
        self.gave_up = 0
        self.dropped = 0
        self.not_visitors = 0  # changes of users who have not opened their page lately

    def visited(self, user: UUID) -> None:
        """Remember a visitor of their own page (a bounded LRU: cheap on the request path)."""
        self._visitors[user] = None
        self._visitors.move_to_end(user)
        if len(self._visitors) > MAX_VISITORS:
            self._visitors.popitem(last=False)

    def request_recent_visitors(self) -> None:
        """A new model: every cache key is new, so refresh the latest visitors, latest first."""
        self.request(reversed(list(self._visitors)))

    def request(self, users: Iterable[UUID]) -> None:
        """Refresh these users soon, those of them who opened their page lately. A user already
        waiting is not queued twice: the refresh that is due reads their latest state anyway."""
        for user in users:
            if user not in self._visitors:
                self.not_visitors += 1
                recommendations_metrics().refreshes.labels("not_visitor").inc()
                continue
            if user in self._waiting:
                continue
            if len(self._waiting) >= self._max_waiting:
                self.dropped += 1
                recommendations_metrics().refreshes.labels("dropped").inc()
                continue
            self._waiting.add(user)
            task = asyncio.create_task(self._attempts(user), name=f"recs-refresh-{user}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _attempts(self, user: UUID) -> None:
        for delay in self._delays:
            await asyncio.sleep(delay)
            async with self._turn:
                # From here the refresh reads the user's state: a change that lands meanwhile
                # asks for a refresh of its own.
                self._waiting.discard(user)
                if await self._try(user):
                    self.refreshed += 1
                    recommendations_metrics().refreshes.labels("refreshed").inc()
                    return
            if user in self._waiting:
                return  # a newer change has its own refresh on the way
            self._waiting.add(user)
        self._waiting.discard(user)
        self.gave_up += 1
        recommendations_metrics().refreshes.labels("gave_up").inc()

    async def _try(self, user: UUID) -> bool:
        try:
            return await self._refresh(user)
        except Exception:  # a failed refresh costs one cache miss, nothing more
            log.warning("refreshing recommendations for %s failed", user, exc_info=True)
            recommendations_metrics().refreshes.labels("failed").inc()
            return False

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def idle(self) -> bool:
        """No refresh due or running."""
        return not self._tasks

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
