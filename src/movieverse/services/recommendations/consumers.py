"""What recommendations consumes, as a table: account and list changes, ratings and new models
(each drops or marks the cached pages it affects, and asks the refresher for a new first page)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.ai import ModelPublished
from movieverse.contracts.auth import UserRegistered
from movieverse.contracts.envelope import Event
from movieverse.contracts.reviews import RatingChanged
from movieverse.contracts.users import PreferencesChanged, UserDeleted, UserListChanged
from movieverse.platform.cache import KeyValueStore
from movieverse.platform.db import after_commit
from movieverse.platform.events.consumers import Consumer
from movieverse.services.recommendations import service
from movieverse.services.recommendations.refresh import Refresher


@dataclass(frozen=True)
class RecommendationsHandlers:
    kv: KeyValueStore
    cache_seconds: float
    refresher: Refresher | None

    def _refresh_after_commit(self, session: AsyncSession, user_id: UUID) -> None:
        refresher = self.refresher
        if refresher is None:
            return

        async def request() -> None:
            refresher.request([user_id])

        after_commit(session, request)

    async def accounts(self, session: AsyncSession, event: Event) -> None:
        await service.apply_account_event(session, event=event, kv=self.kv)
        if event.type == PreferencesChanged.event_type:
            user_id = PreferencesChanged.from_event(event).user_id
            self._refresh_after_commit(session, user_id)

    async def lists(self, session: AsyncSession, event: Event) -> None:
        await service.apply_list_event(session, event=event, kv=self.kv, ttl=self.cache_seconds)
        self._refresh_after_commit(session, UserListChanged.from_event(event).user_id)

    async def ratings(self, _session: AsyncSession, events: Sequence[Event]) -> None:
        changed = await service.note_ratings(self.kv, events=events, ttl=self.cache_seconds)
        if self.refresher is not None:
            self.refresher.request(changed)

    async def models(self, _session: AsyncSession, event: Event) -> None:
        await service.note_model(self.kv, event=event)
        if self.refresher is not None:
            self.refresher.request_recent_visitors()


ACCOUNT_EVENTS = frozenset(
    {UserRegistered.event_type, UserDeleted.event_type, PreferencesChanged.event_type}
)


def consumers(handlers: RecommendationsHandlers) -> list[Consumer]:
    return [
        Consumer("accounts", ACCOUNT_EVENTS, handle_one=handlers.accounts),
        Consumer("lists", frozenset({UserListChanged.event_type}), handle_one=handlers.lists),
        Consumer("ratings", frozenset({RatingChanged.event_type}), handle_many=handlers.ratings),
        Consumer("models", frozenset({ModelPublished.event_type}), handle_one=handlers.models),
    ]
