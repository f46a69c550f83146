"""What auth consumes, as a table: a deleted user's account is erased."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.events.consumers import Consumer
from movieverse.platform.events.envelope import Event
from movieverse.services.auth import service
from movieverse.services.auth.events import USERS_USER_DELETED, UserDeletedPayload


@dataclass(frozen=True)
class AuthHandlers:
    components: service.AuthComponents

    async def user_deleted(self, session: AsyncSession, event: Event) -> None:
        payload = UserDeletedPayload.model_validate(event.payload)
        await service.erase_account(session, self.components, user_id=payload.user_id)


def consumers(handlers: AuthHandlers) -> list[Consumer]:
    return [
        Consumer(
            "erase-deleted-users",
            frozenset({USERS_USER_DELETED}),
            handle_one=handlers.user_deleted,
        )
    ]
