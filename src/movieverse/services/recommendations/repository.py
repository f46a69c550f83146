"""Every query of the recommendations service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.services.recommendations.models import Account, ListEntry


@dataclass(frozen=True, slots=True)
class UserFacts:
    """What a request needs of one user: whether they exist, their preferences and lists."""

    exists: bool
    favourite_genres: list[int]
    include_adult: bool
    lists: dict[str, set[int]]


class RecommendationsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def account(self, user_id: UUID) -> Account | None:
        return await self.session.get(Account, user_id)

    async def put_account(self, user_id: UUID, username: str, at: datetime) -> None:
        account = await self.account(user_id)
        if account is None:
            self.session.add(
                Account(
                    user_id=user_id,
                    username=username,
                    favourite_genres=[],
                    include_adult=False,
                    updated_at=at,
                )
            )
        else:
            account.username = username
        await self.session.flush()

    async def put_preferences(
        self, user_id: UUID, *, favourite_genres: list[int], include_adult: bool, at: datetime
    ) -> None:
        account = await self.account(user_id)
        if account is None:
            # Preferences can overtake the registration event (different keys, different
            # partitions): keep them on a placeholder the registration then names.
            account = Account(user_id=user_id, username="", updated_at=at)
            self.session.add(account)
        account.favourite_genres = favourite_genres
        account.include_adult = include_adult
        account.updated_at = at
        await self.session.flush()

    async def forget(self, user_id: UUID) -> None:
        await self.session.execute(delete(ListEntry).where(ListEntry.user_id == user_id))
        await self.session.execute(delete(Account).where(Account.user_id == user_id))

    async def add_to_list(self, user_id: UUID, kind: str, movie_id: int, at: datetime) -> None:
        if await self.session.get(ListEntry, (user_id, kind, movie_id)) is None:
            self.session.add(ListEntry(user_id=user_id, kind=kind, movie_id=movie_id, added_at=at))
            await self.session.flush()

    async def remove_from_list(self, user_id: UUID, kind: str, movie_id: int) -> None:
        await self.session.execute(
            delete(ListEntry).where(
                ListEntry.user_id == user_id, ListEntry.kind == kind, ListEntry.movie_id == movie_id
            )
        )

    async def facts(self, user_id: UUID) -> UserFacts:
        account = await self.account(user_id)
        rows = (
            await self.session.execute(
                select(ListEntry.kind, ListEntry.movie_id).where(ListEntry.user_id == user_id)
            )
        ).all()
        lists: dict[str, set[int]] = {}
        for kind, movie in rows:
            lists.setdefault(kind, set()).add(movie)
        genres = list(account.favourite_genres) if account else []
        adult = bool(account.include_adult) if account else False
        return UserFacts(
            exists=account is not None and bool(account.username),
            favourite_genres=genres,
            include_adult=adult,
            lists=lists,
        )
