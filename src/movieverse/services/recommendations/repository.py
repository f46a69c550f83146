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
        """The account and its lists in one statement (a request's hot read); a second only
        for lists whose owner's account event has not arrived yet."""
        rows = (
            await self.session.execute(
                select(
                    Account.username,
                    Account.favourite_genres,
                    Account.include_adult,
                    ListEntry.kind,
                    ListEntry.movie_id,
                )
                .outerjoin(ListEntry, ListEntry.user_id == Account.user_id)
                .where(Account.user_id == user_id)
            )
        ).all()
        lists: dict[str, set[int]] = {}
        if not rows:
            entries = await self.session.execute(
                select(ListEntry.kind, ListEntry.movie_id).where(ListEntry.user_id == user_id)
            )
            for kind, movie in entries.all():
                lists.setdefault(kind, set()).add(movie)
            return UserFacts(exists=False, favourite_genres=[], include_adult=False, lists=lists)
        username, genres, adult = rows[0][0], rows[0][1], rows[0][2]
        for row in rows:
            if row[3] is not None:
                lists.setdefault(row[3], set()).add(int(row[4]))
        return UserFacts(
            exists=bool(username),
            favourite_genres=list(genres or []),
            include_adult=bool(adult),
            lists=lists,
        )
