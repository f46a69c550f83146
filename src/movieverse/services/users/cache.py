"""A read-through cache of each user's own profile, for the hottest route (``GET /users/me``).

Entries hold the response body itself, so a hit costs one key-value read and no serialisation.
Writers drop the entry after their commit (see ``platform.db.after_commit``); the TTL bounds how
long a rare race -- a reader caching a row just replaced -- can show the older profile.
"""

from __future__ import annotations

from uuid import UUID

from movieverse.platform.cache import KeyValueStore
from movieverse.services.users.schemas import ProfileRead


class ProfileCache:
    def __init__(self, kv: KeyValueStore, *, ttl_seconds: float) -> None:
        self._kv = kv
        self._ttl = ttl_seconds

    @staticmethod
    def _key(user_id: UUID) -> str:
        return f"profile:{user_id}"

    async def get(self, user_id: UUID) -> bytes | None:
        return await self._kv.get(self._key(user_id))

    async def put(self, user_id: UUID, profile: ProfileRead) -> bytes:
        body = profile.model_dump_json().encode()
        await self._kv.set(self._key(user_id), body, ttl_seconds=self._ttl)
        return body

    async def forget(self, user_id: UUID) -> None:
        await self._kv.delete(self._key(user_id))
