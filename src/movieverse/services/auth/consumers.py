"""What auth consumes, as a table: a deleted user's account is erased."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.envelope import Event
from movieverse.contracts.users import UserDeleted
from movieverse.platform.events.consumers import Consumer
from movieverse.services.auth import service


@dataclass(frozen=True)
class AuthHandlers:
    components: service.AuthComponents

    async def user_deleted(self, session: AsyncSession, event: Event) -> None:
        payload = UserDeleted.from_event(event)
        await service.erase_account(session, self.components, user_id=payload.user_id)


def consumers(handlers: AuthHandlers) -> list[Consumer]:
    return [
        Consumer(
            "erase-deleted-users",
            frozenset({UserDeleted.event_type}),
            handle_one=handlers.user_deleted,
        )
    ]
