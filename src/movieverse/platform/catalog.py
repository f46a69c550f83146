"""Other services' view of the catalog: does a movie exist? Asked over the movies service's HTTP
API (DESIGN rule 1), in process in the all-in-one app. Which path answers is the asking service's
knowledge of that API, given to the :class:`Catalog` it makes; the platform knows no route.

Answers are remembered for a short while -- every rating, review and list add asks, and the
catalog changes rarely: a yes for ``positive_seconds``, a no for ``negative_seconds`` (shorter, so
a movie just added is found soon). A deleted movie may so be accepted for up to the positive TTL;
consumers of ``movies.movie.deleted`` clean up after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from movieverse.platform.errors import ServiceUnavailable
from movieverse.platform.http import ServiceClient, ServiceUnreachable

CACHE_LIMIT = 100_000


class Catalog:
    def __init__(
        self,
        client: ServiceClient | None,
        *,
        movie_path: Callable[[int], str],
        positive_seconds: float = 60.0,
        negative_seconds: float = 5.0,
    ) -> None:
        # None: this deployment has no movies service, so any positive id is accepted.
        self._client = client
        # The movie's resource on the catalog's API: 200 if it exists, 404 if not.
        self._movie_path = movie_path
        self._positive = positive_seconds
        self._negative = negative_seconds
        self._known: dict[int, tuple[bool, float]] = {}

    async def movie_exists(self, movie_id: int) -> bool | None:
        """True or False from the catalog; None when there is no catalog to ask."""
        if self._client is None:
            return None
        now = time.monotonic()
        remembered = self._known.get(movie_id)
        if remembered is not None and remembered[1] > now:
            return remembered[0]
        try:
            response = await self._client.get(self._movie_path(movie_id))
        except ServiceUnreachable as exc:
            raise ServiceUnavailable("The catalog cannot be reached; try again shortly") from exc
        if response.status_code not in (200, 404):
            raise ServiceUnavailable(
                f"The catalog answered {response.status_code}; try again shortly"
            )
        exists = response.status_code == 200
        if len(self._known) >= CACHE_LIMIT:
            self._known.clear()
        self._known[movie_id] = (exists, now + (self._positive if exists else self._negative))
        return exists

    def forget(self, movie_id: int) -> None:
        """Drop what is remembered of a movie (it was deleted)."""
        self._known.pop(movie_id, None)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
