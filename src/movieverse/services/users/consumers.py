"""What users consumes, as a table: a registered account gets its profile."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.auth import UserRegistered
from movieverse.contracts.envelope import Event
from movieverse.platform.events.consumers import Consumer
from movieverse.services.users import service


async def account_registered(session: AsyncSession, event: Event) -> None:
    payload = UserRegistered.from_event(event)
    await service.create_profile_for_account(
        session, user_id=payload.user_id, username=payload.username
    )


def consumers() -> list[Consumer]:
    return [
        Consumer(
            "create-profiles", frozenset({UserRegistered.event_type}), handle_one=account_registered
        )
    ]
