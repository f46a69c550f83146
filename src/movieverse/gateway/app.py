"""The all-in-one app (``movieverse up``): every service on one port, one process.

Each request goes, path unchanged, to the service the route table names; services keep their own
middleware, error handling and lifespan. The gateway's own routes (health of the whole process,
metrics, merged OpenAPI docs) sit beside them. Services that are not built yet answer 404.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from movieverse.gateway.openapi import merge_openapi
from movieverse.gateway.routes import RouteTable
from movieverse.gateway.shutdown import BoundedStop, ShutdownWatch
from movieverse.platform.admission import admission_control
from movieverse.platform.apidocs import docs_router
from movieverse.platform.assembly import SharedRuntime, metrics_response, readiness
from movieverse.platform.errors import install_error_handlers
from movieverse.platform.observability import RequestContextMiddleware
from movieverse.platform.settings import PlatformSettings
from movieverse.services.ai.app import create_app as create_ai
from movieverse.services.auth.app import create_app as create_auth
from movieverse.services.indexer.app import create_app as create_indexer
from movieverse.services.metadata.app import create_app as create_metadata
from movieverse.services.movies.app import create_app as create_movies
from movieverse.services.notifications.app import create_app as create_notifications
from movieverse.services.recommendations.app import create_app as create_recommendations
from movieverse.services.reviews.app import create_app as create_reviews
from movieverse.services.search.app import create_app as create_search
from movieverse.services.users.app import create_app as create_users

AppFactory = Callable[..., FastAPI]

# Every service built so far, in start-up order.
SERVICE_FACTORIES: Mapping[str, AppFactory] = {
    # The indexer first, so it stops last: the other services' relays flush their pending events
    # on the way down, and the indexer must still be there to index them. It also creates the
    # indexes that search opens.
    "indexer": create_indexer,
    "search": create_search,
    "auth": create_auth,
    "users": create_users,
    "movies": create_movies,
    "metadata": create_metadata,
    "reviews": create_reviews,
    "notifications": create_notifications,
    "ai": create_ai,
    "recommendations": create_recommendations,
}


class Gateway:
    """ASGI entry point: dispatches by route table; lifespan and its own routes go to ``edge``."""

    def __init__(
        self,
        edge: FastAPI,
        services: Mapping[str, FastAPI],
        table: RouteTable,
        *,
        settings: PlatformSettings,
    ) -> None:
        self.edge = edge
        self.services = services
        self.table = table
        # The process's admission limit sits in front of the dispatch, not of the service apps:
        # in-process calls reach those directly (shared.local_apps), so they are never counted.
        self._entry = admission_control(self._dispatch, settings, service="gateway")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._entry(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"}:
            service = self.table.service_for(scope["path"])
            app = self.services.get(service) if service else None
            if app is not None:
                await app(scope, receive, send)
                return
        await self.edge(scope, receive, send)


def create_gateway(
    settings: PlatformSettings | None = None,
    *,
    service_overrides: Mapping[str, Any] | None = None,
    only: Collection[str] | None = None,
) -> Gateway:
    """Every service behind one app, or ``only`` the ones named (in start-up order). A service
    left out answers 404, and its peers see it as absent (no client: the same as a deployment
    without it), so a service's tests start it and what it needs, not all ten."""
    settings = settings or PlatformSettings()
    settings.ensure_safe()
    unknown = set(only or ()) - set(SERVICE_FACTORIES)
    if unknown:
        raise ValueError(f"no such services: {', '.join(sorted(unknown))}")
    shared = SharedRuntime(settings, opened_by_services=False)
    overrides = service_overrides or {}
    services = {
        name: factory(settings, shared=shared, own=overrides.get(name))
        for name, factory in SERVICE_FACTORIES.items()
        if only is None or name in only
    }
    shared.local_apps.update(services)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with ShutdownWatch() as watch, AsyncExitStack() as stack:
            # The gateway holds the shared runtime across all services' start and stop, so
            # the bus outlives every relay's final flush.
            await shared.start()
            stack.push_async_callback(shared.stop)
            for name, service in services.items():
                lifespan = service.router.lifespan_context(service)
                await stack.enter_async_context(BoundedStop(lifespan, name))
            # Every consumer has subscribed: relays may now publish what is pending.
            shared.consumers_ready.set()
            yield
            watch.begin()  # the services stop as the stack closes

    edge = FastAPI(
        title="MovieVerse",
        version="0.1.0",
        description="Every MovieVerse service behind one gateway.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        telemetry={
            "tracing": settings.otel_enabled,
            "metrics": settings.otel_enabled,
            "logs": settings.otel_enabled,
            "operation_spans": settings.otel_enabled,
        },
    )
    install_error_handlers(edge)
    edge.include_router(docs_router(title="MovieVerse API"))
    merged: dict[str, Any] = {}

    @edge.get("/", include_in_schema=False)
    async def index() -> dict[str, Any]:
        return {
            "name": "MovieVerse",
            "docs": "/docs",
            "openapi": "/openapi.json",
            "services": sorted(services),
        }

    @edge.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        if not merged:
            merged.update(merge_openapi({n: s.openapi() for n, s in services.items()}))
        return JSONResponse(merged)

    @edge.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @edge.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        reports = await asyncio.gather(*(readiness(s.state.ctx) for s in services.values()))
        ready = all(r["ready"] for r in reports)
        body = {"ready": ready, "services": {r["service"]: r for r in reports}}
        return JSONResponse(body, status_code=200 if ready else 503)

    @edge.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return metrics_response()

    edge.add_middleware(
        RequestContextMiddleware,
        service="gateway",
        max_body_bytes=settings.max_body_bytes,
        body_timeout_seconds=settings.request_body_timeout_seconds,
    )
    return Gateway(edge, services, RouteTable(), settings=settings)
