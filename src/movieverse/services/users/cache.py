"""A read-through cache of each user's own profile, for the hottest route (``GET /users/me``).

Entries hold the response body itself; writers drop the entry after their commit (see
:class:`~movieverse.platform.cache.BodyCache`).
"""

from __future__ import annotations

from uuid import UUID

from movieverse.platform.cache import BodyCache, KeyValueStore
from movieverse.services.users.schemas import ProfileRead


class ProfileCache(BodyCache[UUID]):
    def __init__(self, kv: KeyValueStore, *, ttl_seconds: float) -> None:
        super().__init__(kv, namespace="profile", ttl_seconds=ttl_seconds)

    async def put_profile(self, user_id: UUID, profile: ProfileRead) -> bytes:
        return await self.put(user_id, profile.model_dump_json().encode())
