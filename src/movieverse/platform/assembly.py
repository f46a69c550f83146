"""Assembling a service: the composition root every service shares. (Named for what it does:
"service" names the deployable, and each service's own ``service.py`` is its use-case layer.)

A service describes itself with a :class:`ServiceDefinition` (its tables, routers and a ``setup``
hook); :func:`build_service_app` turns that into a FastAPI app whose lifespan makes the resources
(DESIGN rule 4: never at import), runs migrations when allowed, starts the outbox relay, and tears
everything down in reverse order -- flushing the outbox last -- on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, TypeVar

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp

from movieverse.contracts.auth import SessionsRevoked
from movieverse.contracts.envelope import Event
from movieverse.contracts.users import UserDeleted
from movieverse.platform.admission import AdmissionControl
from movieverse.platform.apidocs import docs_router
from movieverse.platform.cache import KeyValueStore, create_key_value_store
from movieverse.platform.clientip import IpNetwork, parse_networks
from movieverse.platform.db import Database
from movieverse.platform.errors import PROBLEM_RESPONSES, install_error_handlers
from movieverse.platform.events.bus import EventBus, Subscription
from movieverse.platform.events.factory import create_event_bus
from movieverse.platform.events.inbox import Inbox
from movieverse.platform.events.memory import InMemoryEventBus
from movieverse.platform.events.outbox import Outbox, OutboxRelay
from movieverse.platform.events.relay_thread import RelayThread
from movieverse.platform.migrations import upgrade_async
from movieverse.platform.observability import RequestContextMiddleware, process_registry
from movieverse.platform.ratelimit import RateLimiter
from movieverse.platform.revocation import (
    Revocation,
    Revocations,
    create_revocation_store,
    user_revocation,
)
from movieverse.platform.security import Principal, TokenVerifier
from movieverse.platform.settings import (
    PlatformSettings,
    ServiceSettings,
    resolve_database_url,
    resolve_redis_url,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
log = structlog.get_logger("movieverse.service")


class SharedRuntime:
    """What every service of one process shares: the event bus, and the moment publishing starts.

    The all-in-one app owns one and hands it to every service so in-process events reach their
    consumers; a service run alone owns its own.

    Relays hold back until ``consumers_ready``: an event left pending by an earlier run (or a CLI
    command) must not be published before the services that consume it have subscribed -- on
    the in-process bus it would reach nobody and still count as published. A service that owns
    its runtime opens the gate after its own start-up; the all-in-one app opens it after all.
    """

    def __init__(
        self,
        settings: PlatformSettings,
        *,
        opened_by_services: bool = True,
        consume: bool = True,
    ) -> None:
        self.settings = settings
        # False for command-line tools: their bus must not take events from the services.
        self.consume = consume
        self._bus: EventBus | None = None
        # One per process, not per service: the all-in-one process then holds one Redis pool
        # for rate limits instead of ten, and a family's quotas live in one service anyway.
        self._rate_limiter: RateLimiter | None = None
        self._revocations: Revocations | None = None
        self._starts = 0
        self.consumers_ready = asyncio.Event()
        self.opened_by_services = opened_by_services
        # Service apps mounted in this process, for in-process service-to-service calls.
        self.local_apps: dict[str, ASGIApp] = {}

    @property
    def bus(self) -> EventBus:
        if self._bus is None:
            raise RuntimeError("the shared runtime has not been started")
        return self._bus

    @property
    def revocations(self) -> Revocations:
        """Revoked sessions and deleted accounts, shared by every service of this process."""
        if self._revocations is None:
            raise RuntimeError("the shared runtime has not been started")
        return self._revocations

    @property
    def rate_limiter(self) -> RateLimiter:
        """Request quotas (platform/ratelimit.py), shared by every service of this process."""
        if self._rate_limiter is None:
            raise RuntimeError("the shared runtime has not been started")
        return self._rate_limiter

    async def start(self) -> None:
        if self._starts == 0:
            async with AsyncExitStack() as undo:
                # What is started is stopped again if a later step fails (a broker that is
                # down): nothing is left running, and a retry starts from scratch.
                revocations = Revocations(
                    create_revocation_store(
                        redis_url=self.settings.redis_url,
                        var_dir=self.settings.var_dir,
                        prefix=self.settings.redis_key_prefix,
                    )
                )
                undo.push_async_callback(revocations.stop)
                # Command-line tools verify no tokens, so they follow nothing (they load what
                # is active, which costs one read).
                await revocations.start(follow=self.consume)
                bus = create_event_bus(self.settings, consume=self.consume)
                await bus.start()
                undo.push_async_callback(bus.stop)
                rate_limiter = RateLimiter.from_settings(self.settings)
                undo.pop_all()  # everything started: from here stop() owns it
            self._revocations, self._bus, self._rate_limiter = revocations, bus, rate_limiter
        self._starts += 1

    async def stop(self) -> None:
        self._starts -= 1
        if self._starts == 0 and self._bus is not None:
            await self._bus.stop()
            self._bus = None
            self.consumers_ready.clear()
        if self._starts == 0 and self._rate_limiter is not None:
            await self._rate_limiter.close()
            self._rate_limiter = None
        if self._starts == 0 and self._revocations is not None:
            await self._revocations.stop()
            self._revocations = None


@dataclass
class ServiceContext:
    """The resources of one running service, reachable from requests as ``app.state.ctx``."""

    name: str
    shared: SharedRuntime
    platform: PlatformSettings
    settings: ServiceSettings
    db: Database
    kv: KeyValueStore
    bus: EventBus
    verifier: TokenVerifier
    outbox: Outbox
    inbox: Inbox
    relay: OutboxRelay
    trusted_proxies: tuple[IpNetwork, ...]
    # The service's own typed runtime, as its bootstrap made it (see ``bootstrapped``).
    runtime: object = None
    # What /readyz checks beyond the platform's stores, and what it names as degraded.
    probes: dict[str, Callable[[], Awaitable[str]]] = field(default_factory=dict)
    warnings: dict[str, Callable[[], str | None]] = field(default_factory=dict)


Setup = Callable[[ServiceContext, AsyncExitStack], Awaitable[None]]
S = TypeVar("S", bound=ServiceSettings)
R = TypeVar("R")


def bootstrapped(
    settings_type: type[S],
    bootstrap: Callable[[ServiceContext, S, AsyncExitStack], Awaitable[object]],
) -> Setup:
    """A service's setup from its ``bootstrap.bootstrap``: that gets the service's own settings
    with their own type (checked here, once, for every service) and returns the frozen runtime
    its routes and consumers use, kept as ``ctx.runtime``."""

    async def setup(ctx: ServiceContext, stack: AsyncExitStack) -> None:
        own = ctx.settings
        if not isinstance(own, settings_type):
            raise TypeError(
                f"{ctx.name} takes {settings_type.__name__}, was given {type(own).__name__}"
            )
        ctx.runtime = await bootstrap(ctx, own, stack)

    return setup


def runtime_of(ctx: ServiceContext, runtime_type: type[R]) -> R:
    """``ctx.runtime`` with its type (for command-line tools and tests holding a context)."""
    found = ctx.runtime
    if not isinstance(found, runtime_type):
        raise RuntimeError(f"{ctx.name}'s runtime is not a {runtime_type.__name__}")
    return found


def runtime_dependency(runtime_type: type[R]) -> Callable[[Request], R]:
    """The FastAPI dependency that hands a route its service's runtime, typed."""

    def runtime(request: Request) -> R:
        return runtime_of(request.app.state.ctx, runtime_type)

    return runtime


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    title: str
    description: str
    metadata: MetaData
    settings_factory: Callable[[], ServiceSettings]
    routers: Sequence[APIRouter]
    # Registers consumers and builds service-specific state; cleanups go on the exit stack.
    setup: Setup | None = None
    # Periodic housekeeping of the service's own data (run beside outbox/inbox pruning).
    maintenance: Callable[[ServiceContext], Awaitable[None]] | None = None


def _outbox_and_inbox(definition: ServiceDefinition, db: Database) -> tuple[Outbox, Inbox]:
    tables = definition.metadata.tables
    outbox = Outbox(tables[f"{definition.name}_outbox"], service=definition.name)
    inbox = Inbox(tables[f"{definition.name}_inbox"], db=db)
    return outbox, inbox


@asynccontextmanager
async def service_runtime(
    definition: ServiceDefinition,
    platform: PlatformSettings,
    shared: SharedRuntime,
    *,
    own: ServiceSettings | None = None,
    migrate: bool | None = None,
    start_relay: bool = True,
) -> AsyncIterator[ServiceContext]:
    """Make, run and tear down a service's resources (also used by CLI commands and workers)."""
    platform.ensure_safe()
    own = own or definition.settings_factory()
    async with AsyncExitStack() as stack:
        await shared.start()
        stack.push_async_callback(shared.stop)
        url = resolve_database_url(platform, own, definition.name)
        if platform.auto_migrate_enabled if migrate is None else migrate:
            await upgrade_async(definition.name, url)
        db = Database.connect(url, platform)
        stack.push_async_callback(db.dispose)
        kv = create_key_value_store(
            resolve_redis_url(platform, own),
            prefix=f"{platform.redis_key_prefix}{definition.name}:",
        )
        stack.push_async_callback(kv.close)
        outbox, inbox = _outbox_and_inbox(definition, db)
        relay = OutboxRelay(
            outbox=outbox,
            db=db,
            bus=shared.bus,
            poll_seconds=platform.outbox_poll_seconds,
            batch_size=platform.outbox_batch_size,
            linger_seconds=platform.outbox_linger_seconds,
            gate=shared.consumers_ready,
        )
        ctx = ServiceContext(
            name=definition.name,
            shared=shared,
            platform=platform,
            settings=own,
            db=db,
            kv=kv,
            bus=shared.bus,
            verifier=TokenVerifier.from_settings(platform, revocations=shared.revocations),
            outbox=outbox,
            inbox=inbox,
            relay=relay,
            trusted_proxies=parse_networks(platform.trusted_proxies),
        )
        _follow_revocation_events(ctx)
        if definition.setup is not None:
            await definition.setup(ctx, stack)
        if start_relay:
            maintenance = asyncio.create_task(
                _maintain(ctx, definition), name=f"maintenance-{ctx.name}"
            )
            stack.push_async_callback(_cancel, maintenance)
            # Registered last so it runs first on exit: publish what is pending while the bus
            # is up. Without a relay (CLI commands), events wait in the outbox for the server:
            # publishing them here could hand them to a bus with none of their consumers.
            if _relay_on_own_thread(platform, db, shared.bus):
                await _start_relay_thread(ctx, url, stack)
            else:
                relay.start()
                stack.push_async_callback(relay.stop)
            if shared.opened_by_services:
                shared.consumers_ready.set()
        yield ctx


def _follow_revocation_events(ctx: ServiceContext) -> None:
    """Every service's own consumer group hears of ended sessions and deleted accounts: the
    durable path of revocation (the revoking service's outbox). The fast path -- the revoking
    process itself, then the revocation store -- has usually brought them already."""
    revocations = ctx.shared.revocations

    async def on_event(event: Event) -> None:
        await revocations.revoke(revocations_in(event))

    ctx.bus.subscribe(
        Subscription(
            group=f"{ctx.name}.token-revocations",
            event_types=frozenset({SessionsRevoked.event_type, UserDeleted.event_type}),
            handler=on_event,
        )
    )


def revocations_in(event: Event) -> list[Revocation]:
    """What an ``auth.session.revoked`` or ``users.user.deleted`` event revokes."""
    if event.type == UserDeleted.event_type:
        return [user_revocation(str(UserDeleted.from_event(event).user_id))]
    ended = SessionsRevoked.from_event(event)
    return [Revocation("session", sid, ended.until) for sid in ended.session_ids]


def _relay_on_own_thread(platform: PlatformSettings, db: Database, bus: EventBus) -> bool:
    """Only a relay of a server database publishing to a broker can leave the service's loop
    (see relay_thread.py)."""
    in_process = isinstance(bus, InMemoryEventBus)
    return platform.outbox_relay_thread and db.dialect != "sqlite" and not in_process


async def _start_relay_thread(ctx: ServiceContext, url: str, stack: AsyncExitStack) -> None:
    runner = RelayThread(outbox=ctx.outbox, url=url, platform=ctx.platform)
    await runner.start()
    stack.push_async_callback(runner.stop)
    ctx.db.after_commit_hooks.append(runner.wake)

    async def open_when_consumers_ready() -> None:
        await ctx.shared.consumers_ready.wait()
        runner.open_gate()

    gate = asyncio.create_task(open_when_consumers_ready(), name=f"relay-gate-{ctx.name}")
    stack.push_async_callback(_cancel, gate)


MAINTENANCE_INTERVAL_SECONDS = 600
INBOX_RETENTION = timedelta(days=14)


async def _maintain(ctx: ServiceContext, definition: ServiceDefinition) -> None:
    """Periodic housekeeping: trim published outbox rows and old inbox ids."""
    while True:
        await asyncio.sleep(MAINTENANCE_INTERVAL_SECONDS)
        try:
            await ctx.relay.prune()
            await ctx.inbox.prune(older_than=INBOX_RETENTION)
            if definition.maintenance is not None:
                await definition.maintenance(ctx)
        except Exception as exc:  # housekeeping must never take the service down
            log.warning("maintenance_failed", service=ctx.name, error=repr(exc))


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def build_service_app(
    definition: ServiceDefinition,
    platform: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: ServiceSettings | None = None,
) -> FastAPI:
    settings = platform or PlatformSettings()
    runtime = shared or SharedRuntime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_runtime(definition, settings, runtime, own=own) as ctx:
            app.state.ctx = ctx
            yield

    app = FastAPI(
        title=f"MovieVerse {definition.title}",
        description=definition.description,
        version="0.1.0",
        lifespan=lifespan,
        debug=settings.debug,
        responses=PROBLEM_RESPONSES,
        docs_url=None,
        redoc_url=None,
        # FastAPI's built-in OpenTelemetry checks its providers on every request; we measure
        # with our own middleware, and tracing is opt-in.
        telemetry={
            "tracing": settings.otel_enabled,
            "metrics": settings.otel_enabled,
            "logs": settings.otel_enabled,
            "operation_spans": settings.otel_enabled,
        },
    )
    app.state.definition = definition
    install_error_handlers(app)
    for router in definition.routers:
        app.include_router(router)
    app.include_router(operations_router())
    app.include_router(docs_router(title=f"MovieVerse {definition.title} API"))
    app.add_middleware(
        RequestContextMiddleware,
        service=definition.name,
        max_body_bytes=settings.max_body_bytes,
        body_timeout_seconds=settings.request_body_timeout_seconds,
    )
    if shared is None and settings.max_in_flight_requests > 0:
        # A service with a runtime of its own is its process's outermost app (`serve NAME`):
        # it takes the process's admission limit, added last so it runs first. Under the
        # all-in-one gateway (a shared runtime) the gateway holds the limit, and in-process
        # calls reach this app uncounted.
        app.add_middleware(
            AdmissionControl,
            service=definition.name,
            limit=settings.max_in_flight_requests,
            retry_after_seconds=settings.overload_retry_after_seconds,
        )
    return app


def add_readiness_probe(ctx: ServiceContext, name: str, ping: Callable[[], Awaitable[str]]) -> None:
    """A store of the service's own beyond the platform's (metadata's documents): /readyz checks
    it too, and reports it by ``name``."""
    ctx.probes[name] = ping


def add_readiness_warning(ctx: ServiceContext, name: str, check: Callable[[], str | None]) -> None:
    """Something degraded that the service works around (no recommendation model: popular
    movies instead): /readyz names it under ``warnings`` while staying ready."""
    ctx.warnings[name] = check


async def readiness(ctx: ServiceContext) -> dict[str, Any]:
    """Check every store this service depends on, concurrently."""
    extra = ctx.probes
    db_status, kv_result, bus_result, *extra_results = await asyncio.gather(
        ctx.db.status("database"),
        _probe(ctx.kv.ping()),
        _probe(ctx.bus.ping()),
        *(_probe(ping()) for ping in extra.values()),
    )
    checks = {
        "database": {
            "ok": db_status.reachable,
            "url": db_status.url,
            "latency_ms": db_status.latency_ms,
            "version": db_status.version,
            "error": db_status.error,
        },
        "key_value": kv_result,
        "event_bus": bus_result,
        **dict(zip(extra, extra_results, strict=True)),
    }
    report: dict[str, Any] = {
        "service": ctx.name,
        "ready": all(c["ok"] for c in checks.values()),
        "checks": checks,
    }
    warnings = {name: message for name, check in ctx.warnings.items() if (message := check())}
    if warnings:
        report["warnings"] = warnings
    return report


async def _probe(ping: Awaitable[str]) -> dict[str, Any]:
    try:
        version = await asyncio.wait_for(ping, timeout=3)
    except Exception as exc:  # any failure means not ready; the type is enough to act on
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "version": version}


def metrics_response() -> Response:
    return Response(generate_latest(process_registry()), media_type=CONTENT_TYPE_LATEST)


def operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness")
    async def healthz(request: Request) -> dict[str, str]:
        return {"status": "ok", "service": request.app.state.definition.name}

    @router.get("/readyz", summary="Readiness: every store reachable")
    async def readyz(request: Request) -> JSONResponse:
        report = await readiness(request.app.state.ctx)
        return JSONResponse(report, status_code=200 if report["ready"] else 503)

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return metrics_response()

    return router


# Dependencies are coroutines on purpose: FastAPI runs a plain ``def`` dependency in a worker
# thread, a hop that costs more than the work these do.
async def get_ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed before the response is sent, rolled back on error."""
    ctx: ServiceContext = request.app.state.ctx
    write = request.method not in SAFE_METHODS
    async with ctx.db.unit_of_work(write=write) as session:
        yield session
        principal: Principal | None = getattr(request.state, "principal", None)
        if write and principal is not None:
            # Asked again at the commit: a write that began just before its session ended or
            # its account was deleted must not land after the erasure (it rolls back: 401).
            ctx.verifier.ensure_standing(principal)


CtxDep = Annotated[ServiceContext, Depends(get_ctx)]
# scope="function": the commit happens before the response goes out, so a 2xx means committed.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
