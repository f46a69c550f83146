"""Users' view of the catalog: does a movie exist? Asked over the movies service's HTTP API."""

from __future__ import annotations

from movieverse.platform.errors import ServiceUnavailable
from movieverse.platform.http import ServiceClient, ServiceUnreachable


class Catalog:
    def __init__(self, client: ServiceClient | None) -> None:
        # None: this deployment has no movies service, so any positive id is accepted.
        self._client = client

    async def movie_exists(self, movie_id: int) -> bool | None:
        """True or False from the catalog; None when there is no catalog to ask."""
        if self._client is None:
            return None
        try:
            response = await self._client.get(f"/movies/{movie_id}")
        except ServiceUnreachable as exc:
            raise ServiceUnavailable("The catalog cannot be reached; try again shortly") from exc
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        raise ServiceUnavailable(f"The catalog answered {response.status_code}; try again shortly")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
