"""Reviews' composition root: the catalog client, the erasure ledger, the consumers."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

from movieverse.platform.assembly import ServiceContext
from movieverse.platform.catalog import Catalog
from movieverse.platform.erasure import ErasureLedger, erasure_ledger
from movieverse.platform.events.consumers import subscribe_consumers
from movieverse.platform.http import service_client
from movieverse.services.reviews import service
from movieverse.services.reviews.consumers import ReviewsHandlers, consumers
from movieverse.services.reviews.models import erased_users
from movieverse.services.reviews.settings import ReviewsSettings


@dataclass(frozen=True)
class ReviewsRuntime:
    settings: ReviewsSettings
    catalog: Catalog
    erasures: ErasureLedger


def _movie_path(movie_id: int) -> str:
    """What this service reads of the movies API: a movie's page answers 200, or 404."""
    return f"/movies/{movie_id}"


async def bootstrap(
    ctx: ServiceContext, own: ReviewsSettings, stack: AsyncExitStack
) -> ReviewsRuntime:
    catalog = Catalog(
        service_client("movies", local_apps=ctx.shared.local_apps), movie_path=_movie_path
    )
    stack.push_async_callback(catalog.close)
    outbox = ctx.outbox
    erasures = erasure_ledger(
        ctx,
        stack,
        table=erased_users,
        erase=lambda session, user: service.erase_user(session, outbox=outbox, user_id=user),
    )
    handlers = ReviewsHandlers(erasures=erasures, catalog=catalog)
    subscribe_consumers(ctx.name, ctx.bus, ctx.inbox, consumers(handlers))
    return ReviewsRuntime(settings=own, catalog=catalog, erasures=erasures)
