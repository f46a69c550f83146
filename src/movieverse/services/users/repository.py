"""Every query users makes."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.services.users.models import ListItem, ListKind, Profile, Tombstone


class ProfileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: UUID) -> Profile | None:
        return await self.session.get(Profile, user_id)

    async def by_username(self, username: str) -> Profile | None:
        found = await self.session.execute(
            select(Profile).where(Profile.username == username.lower())
        )
        return found.scalar_one_or_none()

    async def add_if_absent(self, profile: Profile) -> Profile:
        """Insert, or return the row a concurrent writer (the registration consumer) made."""
        try:
            async with self.session.begin_nested():
                self.session.add(profile)
                await self.session.flush()
        except IntegrityError:
            existing = await self.get(profile.user_id)
            if existing is None:
                raise
            return existing
        return profile

    async def delete(self, user_id: UUID) -> None:
        await self.session.execute(delete(Profile).where(Profile.user_id == user_id))

    async def is_deleted(self, user_id: UUID) -> bool:
        return await self.session.get(Tombstone, user_id) is not None

    async def add_tombstone(self, tombstone: Tombstone) -> None:
        await self.session.merge(tombstone)


class ListRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: UUID, kind: ListKind, movie_id: int) -> ListItem | None:
        return await self.session.get(ListItem, (user_id, kind, movie_id))

    async def add(self, item: ListItem) -> None:
        self.session.add(item)
        await self.session.flush()

    async def remove(self, user_id: UUID, kind: ListKind, movie_id: int) -> bool:
        result = await self.session.execute(
            delete(ListItem).where(
                ListItem.user_id == user_id, ListItem.kind == kind, ListItem.movie_id == movie_id
            )
        )
        return getattr(result, "rowcount", 0) > 0

    async def count(self, user_id: UUID, kind: ListKind) -> int:
        found = await self.session.execute(
            select(func.count())
            .select_from(ListItem)
            .where(ListItem.user_id == user_id, ListItem.kind == kind)
        )
        return int(found.scalar_one())

    async def page(
        self, user_id: UUID, kind: ListKind, *, offset: int, limit: int
    ) -> list[ListItem]:
        found = await self.session.execute(
            select(ListItem)
            .where(ListItem.user_id == user_id, ListItem.kind == kind)
            .order_by(ListItem.added_at.desc(), ListItem.movie_id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(found.scalars())

    async def all_of(self, user_id: UUID) -> list[ListItem]:
        found = await self.session.execute(select(ListItem).where(ListItem.user_id == user_id))
        return list(found.scalars())

    async def delete_all(self, user_id: UUID) -> None:
        await self.session.execute(delete(ListItem).where(ListItem.user_id == user_id))
