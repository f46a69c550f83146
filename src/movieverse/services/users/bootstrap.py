"""Users' composition root: the profile cache, the catalog client, the erasure ledger and the
consumers."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.assembly import ServiceContext
from movieverse.platform.catalog import Catalog
from movieverse.platform.erasure import ErasureLedger, erasure_ledger
from movieverse.platform.events.consumers import subscribe_consumers
from movieverse.platform.http import service_client
from movieverse.services.users import service
from movieverse.services.users.cache import ProfileCache
from movieverse.services.users.consumers import consumers
from movieverse.services.users.models import Tombstone
from movieverse.services.users.settings import UsersSettings


@dataclass(frozen=True)
class UsersRuntime:
    settings: UsersSettings
    profiles: ProfileCache
    catalog: Catalog
    erasures: ErasureLedger


def _movie_path(movie_id: int) -> str:
    """What this service reads of the movies API: a movie's page answers 200, or 404."""
    return f"/movies/{movie_id}"


def _erasures(ctx: ServiceContext, stack: AsyncExitStack) -> ErasureLedger:
    """DELETE /users/me erases at once and leaves a tombstone; this sweeps once more later."""
    outbox = ctx.outbox

    async def sweep(session: AsyncSession, user_id: UUID) -> None:
        await service.sweep_deleted_account(session, user_id=user_id, outbox=outbox)

    return erasure_ledger(
        ctx,
        stack,
        table=Tombstone.__table__,  # type: ignore[arg-type]
        erase=sweep,
        erased_column="deleted_at",
    )


async def bootstrap(ctx: ServiceContext, own: UsersSettings, stack: AsyncExitStack) -> UsersRuntime:
    catalog = Catalog(
        service_client("movies", local_apps=ctx.shared.local_apps), movie_path=_movie_path
    )
    stack.push_async_callback(catalog.close)
    erasures = _erasures(ctx, stack)
    subscribe_consumers(ctx.name, ctx.bus, ctx.inbox, consumers())
    return UsersRuntime(
        settings=own,
        profiles=ProfileCache(ctx.kv, ttl_seconds=own.profile_cache_seconds),
        catalog=catalog,
        erasures=erasures,
    )
