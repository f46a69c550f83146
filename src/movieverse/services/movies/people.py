"""Movies' view of the metadata service: a movie's cast and crew, for ``append_to_response``."""

from __future__ import annotations

from typing import Any

from movieverse.platform.errors import ServiceUnavailable
from movieverse.platform.http import ServiceClient, ServiceUnreachable


class PeopleDirectory:
    def __init__(self, client: ServiceClient | None) -> None:
        # None: this deployment runs no metadata service.
        self._client = client

    async def credits(self, movie_id: int) -> dict[str, Any]:
        """The movie's credits as metadata serves them; empty lists when it has none."""
        if self._client is None:
            raise ServiceUnavailable("Credits come from the metadata service, which is not running")
        try:
            response = await self._client.get(f"/metadata/movies/{movie_id}/credits")
        except ServiceUnreachable as exc:
            raise ServiceUnavailable("The metadata service cannot be reached; try again") from exc
        if response.status_code == 404:
            return {"cast": [], "crew": []}
        if response.status_code != 200:
            raise ServiceUnavailable(f"The metadata service answered {response.status_code}")
        body: dict[str, Any] = response.json()
        return {"cast": body.get("cast", []), "crew": body.get("crew", [])}

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
