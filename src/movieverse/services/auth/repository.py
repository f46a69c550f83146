"""Every query auth makes of its accounts table."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.db import utcnow
from movieverse.services.auth.models import Account, RefreshFamily, RefreshToken, ReleasedUsername
from movieverse.services.auth.tokens import Clock, Consumed, ConsumeResult, hash_token


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


class SqlRefreshTokenStore:
    """The refresh-token store (``tokens.RefreshTokenStore``) in auth's own database, written in
    the caller's transaction; the Redis one is ``tokens.RedisRefreshTokenStore``."""

    def __init__(self, *, clock: Clock = utcnow) -> None:
        self._now = clock

    async def start_family(
        self, session: AsyncSession, *, account_id: UUID, family_id: str
    ) -> None:
        session.add(RefreshFamily(id=family_id, account_id=account_id, created_at=self._now()))
        await session.flush()

    async def issue(
        self,
        session: AsyncSession,
        *,
        account_id: UUID,
        family_id: str,
        token: str,
        expires_at: datetime,
    ) -> None:
        session.add(
            RefreshToken(
                token_hash=hash_token(token),
                family_id=family_id,
                account_id=account_id,
                issued_at=self._now(),
                expires_at=expires_at,
            )
        )
        await session.flush()

    async def consume(self, session: AsyncSession, token: str) -> ConsumeResult:
        digest = hash_token(token)
        now = self._now()
        # The conditional update is the atomic "spend": of two concurrent uses one wins.
        spent = await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == digest, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        )
        row = (
            await session.execute(
                select(RefreshToken, RefreshFamily)
                .join(RefreshFamily, RefreshFamily.id == RefreshToken.family_id)
                .where(RefreshToken.token_hash == digest)
                # The family row stays locked until this rotation commits (the token row is
                # already, by the update): an ending of the session waits for it and then finds
                # its new token (families_issued_since), or ends the session first and this
                # rotation sees it ended. (SQLite has no row locks and needs none: its writing
                # transactions run one at a time.)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).first()
        if row is None:
            return ConsumeResult(Consumed.INVALID)
        record, family = row
        result = _outcome(
            spent_now=getattr(spent, "rowcount", 0) == 1,
            family_revoked=family.revoked_at is not None,
            expired=record.expires_at <= now,
        )
        if result is Consumed.REUSED:
            family.revoked_at = now
            family.revoked_reason = "reuse-detected"
            await session.flush()
        return ConsumeResult(result, account_id=record.account_id, family_id=family.id)

    async def revoke_family(self, session: AsyncSession, family_id: str, *, reason: str) -> None:
        await session.execute(
            update(RefreshFamily)
            .where(RefreshFamily.id == family_id, RefreshFamily.revoked_at.is_(None))
            .values(revoked_at=self._now(), revoked_reason=reason)
        )

    async def revoke_account(self, session: AsyncSession, account_id: UUID, *, reason: str) -> None:
        await session.execute(
            update(RefreshFamily)
            .where(RefreshFamily.account_id == account_id, RefreshFamily.revoked_at.is_(None))
            .values(revoked_at=self._now(), revoked_reason=reason)
        )

    async def family_of(self, session: AsyncSession, token: str) -> str | None:
        found = await session.execute(
            select(RefreshToken.family_id).where(RefreshToken.token_hash == hash_token(token))
        )
        return found.scalar_one_or_none()

    async def families_issued_since(
        self, session: AsyncSession, account_id: UUID, *, since: datetime
    ) -> list[str]:
        found = await session.execute(
            select(RefreshToken.family_id)
            .where(RefreshToken.account_id == account_id, RefreshToken.issued_at >= since)
            .distinct()
        )
        return list(found.scalars())


def _outcome(*, spent_now: bool, family_revoked: bool, expired: bool) -> Consumed:
    if not spent_now:
        return Consumed.REVOKED if family_revoked else Consumed.REUSED
    if family_revoked:
        return Consumed.REVOKED
    if expired:
        return Consumed.EXPIRED
    return Consumed.OK
