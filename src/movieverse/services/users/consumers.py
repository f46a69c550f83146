"""What users consumes, as a table: a registered account gets its profile."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.events.consumers import Consumer
from movieverse.platform.events.envelope import Event
from movieverse.services.users import service
from movieverse.services.users.events import AUTH_USER_REGISTERED, AccountRegistered


async def account_registered(session: AsyncSession, event: Event) -> None:
    payload = AccountRegistered.model_validate(event.payload)
    await service.create_profile_for_account(
        session, user_id=payload.user_id, username=payload.username
    )


def consumers() -> list[Consumer]:
    return [
        Consumer(
            "create-profiles", frozenset({AUTH_USER_REGISTERED}), handle_one=account_registered
        )
    ]
