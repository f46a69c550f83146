"""Every query auth makes of its accounts table."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.services.auth.models import Account, ReleasedUsername


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, account_id: UUID) -> Account | None:
        return await self.session.get(Account, account_id)

    async def get_for_update(self, account_id: UUID) -> Account | None:
        """The account, its row locked until the transaction ends, so that a password change
        cannot commit between a check of its hash and what the caller writes on the strength of
        it. (SQLite has no row locks and needs none: its writing transactions run one at a time.)"""
        found = await self.session.execute(
            select(Account)
            .where(Account.id == account_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return found.scalar_one_or_none()

    async def by_email(self, email: str) -> Account | None:
        found = await self.session.execute(select(Account).where(Account.email == email))
        return found.scalar_one_or_none()

    async def by_username(self, username: str) -> Account | None:
        found = await self.session.execute(select(Account).where(Account.username == username))
        return found.scalar_one_or_none()

    async def by_login(self, login: str) -> Account | None:
        """An email if it has an @ (usernames cannot), else a username."""
        if "@" in login:
            return await self.by_email(login)
        return await self.by_username(login)

    async def add(self, account: Account) -> None:
        self.session.add(account)
        await self.session.flush()

    async def delete(self, account_id: UUID) -> bool:
        result = await self.session.execute(delete(Account).where(Account.id == account_id))
        return getattr(result, "rowcount", 0) > 0


class ReleasedUsernameRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def released_at(self, username: str) -> datetime | None:
        found = await self.session.get(ReleasedUsername, username)
        return found.released_at if found is not None else None

    async def release(self, username: str, when: datetime) -> None:
        await self.session.merge(ReleasedUsername(username=username, released_at=when))
