"""Movies' view of the recommendations service: a movie's similar movies and recommendations,
for ``append_to_response``."""

from __future__ import annotations

from typing import Any

from movieverse.platform.errors import ServiceUnavailable
from movieverse.platform.http import ServiceClient, ServiceUnreachable

# The paths recommendations serves, by append name.
PATHS = {"similar": "similar", "recommendations": "recommendations"}


class RelatedMovies:
    def __init__(self, client: ServiceClient | None) -> None:
        # None: this deployment runs no recommendations service.
        self._client = client

    async def page(self, movie_id: int, kind: str) -> dict[str, Any]:
        """The first page, as recommendations serves it."""
        if self._client is None:
            raise ServiceUnavailable(f"{kind} come from the recommendations service, not running")
        try:
            response = await self._client.get(f"/movies/{movie_id}/{PATHS[kind]}")
        except ServiceUnreachable as exc:
            raise ServiceUnavailable("The recommendations service cannot be reached") from exc
        if response.status_code == 404:
            return {"page": 1, "per_page": 20, "total_results": 0, "total_pages": 0, "results": []}
        if response.status_code != 200:
            raise ServiceUnavailable(f"The recommendations service answered {response.status_code}")
        body: dict[str, Any] = response.json()
        return body

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
