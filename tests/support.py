"""Helpers shared by the test suites: backends, apps under test, and API shortcuts."""

from __future__ import annotations

import asyncio
import atexit
import functools
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from movieverse.gateway.app import Gateway, create_gateway
from movieverse.platform.db import normalise_url
from movieverse.platform.migrations import upgrade
from movieverse.platform.settings import PlatformSettings
from movieverse.services.ai.models import Base as AiBase
from movieverse.services.auth.models import Base as AuthBase
from movieverse.services.auth.settings import AuthSettings
from movieverse.services.indexer.models import Base as IndexerBase
from movieverse.services.metadata.models import Base as MetadataBase
from movieverse.services.movies.models import Base as MoviesBase
from movieverse.services.movies.models import Movie
from movieverse.services.notifications.models import Base as NotificationsBase
from movieverse.services.recommendations.models import Base as RecommendationsBase
from movieverse.services.reviews.models import Base as ReviewsBase
from movieverse.services.search.models import Base as SearchBase
from movieverse.services.users.models import Base as UsersBase

SERVICE_METADATA: dict[str, MetaData] = {
    "auth": AuthBase.metadata,
    "users": UsersBase.metadata,
    "movies": MoviesBase.metadata,
    "metadata": MetadataBase.metadata,
    "reviews": ReviewsBase.metadata,
    "notifications": NotificationsBase.metadata,
    "indexer": IndexerBase.metadata,
    "search": SearchBase.metadata,
    "ai": AiBase.metadata,
    "recommendations": RecommendationsBase.metadata,
}
PASSWORD = "popcorn-matinee-1987"


def server_url(name: str) -> str | None:
    """A real backend's URL from the environment (``MOVIEVERSE_TEST_<NAME>_URL``) or None."""
    return os.environ.get(f"MOVIEVERSE_TEST_{name.upper()}_URL") or None


def require_server(name: str) -> str:
    url = server_url(name)
    if url is None:
        pytest.skip(f"MOVIEVERSE_TEST_{name.upper()}_URL is not set")
    return url


async def admin_statement(base: str, statement: str) -> None:
    engine = create_async_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@asynccontextmanager
async def fresh_database(
    server: str, *, prefix: str, migrated_for: tuple[str, ...] = ()
) -> AsyncIterator[str]:
    """The URL of a new database on the real ``server`` ("postgres" or "mysql") for one test,
    dropped afterwards. Skips, naming the variable, when that server's URL is unset.

    Empty, unless ``migrated_for`` names services: on PostgreSQL the database is then migrated to
    head for them (the services' own start still runs their migrations, and finds nothing to do),
    and its rows are gone -- it is one this process used before and emptied, or a copy of the
    migrated template."""
    base = require_server(server)
    if migrated_for and server == "postgres":
        async with _pooled_postgres_database(base, migrated_for) as url:
            yield url
        return
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    quoted = f'"{name}"' if server == "postgres" else f"`{name}`"
    await admin_statement(base, f"CREATE DATABASE {quoted}")
    try:
        yield make_url(normalise_url(base)).set(database=name).render_as_string(hide_password=False)
    finally:
        force = " WITH (FORCE)" if server == "postgres" else ""
        await admin_statement(base, f"DROP DATABASE IF EXISTS {quoted}{force}")


# Migrated PostgreSQL databases this process has emptied, ready for the next test, by services.
_POSTGRES_POOL: dict[tuple[str, ...], list[str]] = {}


@asynccontextmanager
async def _pooled_postgres_database(base: str, services: tuple[str, ...]) -> AsyncIterator[str]:
    """Copying the template and dropping the copy cost a test 160-310 ms; deleting the rows it
    left costs about 12 ms. A test that fails keeps its database out of the pool (dropped at
    exit): what it left may be why, and the next test must not inherit it."""
    pool = _POSTGRES_POOL.setdefault(services, [])
    if pool:
        name = pool.pop()
    else:
        template = await _migrated_postgres_template(base, services)
        name = f"mvpool_{uuid.uuid4().hex[:8]}"
        await admin_statement(base, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        atexit.register(_drop_template, base, name)
    url = make_url(normalise_url(base)).set(database=name).render_as_string(hide_password=False)
    yield url
    await delete_rows(url, services)
    pool.append(name)


_POSTGRES_TEMPLATES: dict[tuple[str, ...], str] = {}


async def _migrated_postgres_template(base: str, services: tuple[str, ...]) -> str:
    """A database migrated to head for ``services``, made once per test process and dropped at
    its exit. A service's migrations cost a test 1-3 s on PostgreSQL; a database copied from
    a template (CREATE DATABASE ... TEMPLATE) costs about 0.1 s."""
    if services in _POSTGRES_TEMPLATES:
        return _POSTGRES_TEMPLATES[services]
    template = f"mvtpl_{'_'.join(services)}_{uuid.uuid4().hex[:8]}"
    await admin_statement(base, f'CREATE DATABASE "{template}"')
    atexit.register(_drop_template, base, template)
    url = make_url(normalise_url(base)).set(database=template)
    for service in services:
        # In a thread: Alembic's env drives an event loop of its own.
        await asyncio.to_thread(upgrade, service, url.render_as_string(hide_password=False))
    _POSTGRES_TEMPLATES[services] = template
    return template


def _drop_template(base: str, template: str) -> None:
    asyncio.run(admin_statement(base, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))


def fast_auth_settings(**overrides: Any) -> AuthSettings:
    """Cheap argon2 parameters: tests exercise logic, bench/ measures the real cost."""
    values: dict[str, Any] = {
        "argon2_time_cost": 1,
        "argon2_memory_kib": 64,
        "argon2_parallelism": 1,
    }
    values.update(overrides)
    return AuthSettings(**values)


@dataclass
class Stack:
    """Where the services under test keep their data."""

    name: str
    database_url: str | None  # None: a SQLite file per service under var_dir
    redis_url: str | None

    def settings(self, var_dir: Any, **overrides: Any) -> PlatformSettings:
        values: dict[str, Any] = {
            "environment": "test",
            "var_dir": var_dir,
            "database_url": self.database_url,
            "redis_url": self.redis_url,
            "redis_key_prefix": f"mvtest:{uuid.uuid4().hex[:12]}:",
            # Each service's relay is woken by its own commits; the poll only catches what another
            # process wrote. Ten relays polling every 0.05 s cost a gateway 200 queries a second
            # of CPU that the test's own work (and the other test worker) then lacks.
            "outbox_poll_seconds": 0.25,
            "event_bus_url": "memory://",
            "secret_key": None,
            "jwt_algorithm": "HS256",
            "trusted_proxies": [],
            # The sentence-embedding model costs seconds to load and CPU per movie; the tests
            # that are about semantic search turn it on.
            "semantic_search": False,
            # Tests wait for search to show a write by polling it (eventually(): up to 50 reads a
            # second from one address); the shipped 300 a minute would turn a slow index into a
            # 429. tests/gateway/test_rate_limits.py puts the real limits back.
            "rate_limit_search": "100000/minute",
            "rate_limit_search_ip": "100000/minute",
        }
        values.update(overrides)
        return PlatformSettings(**values)


# Reference data the migrations seed; truncating it would leave a database no real one resembles.
SEEDED_TABLES = frozenset({"movies_genres"})
CATALOG_SIZE = 250


async def truncate_all(url: str) -> None:
    """Empty every service table (tests on a shared server database start from nothing)."""
    await delete_rows(url, tuple(SERVICE_METADATA))


async def delete_rows(url: str, services: Collection[str]) -> None:
    """Empty the services' tables, but for the reference data their migrations seed."""
    tables = [
        table
        for service in services
        for table in reversed(SERVICE_METADATA[service].sorted_tables)  # dependants first
        if table.name not in SEEDED_TABLES
    ]
    if make_url(url).get_backend_name() == "postgresql":
        # DELETEs of the few rows a test leaves, sent as one simple query (one round trip, one
        # transaction): 12 ms, where one TRUNCATE of the 58 tables took 260 ms (it swaps every
        # table's and index's files), and an engine's own connect and prepare cost more again.
        import asyncpg

        parsed = make_url(url)
        conn = await asyncpg.connect(
            host=parsed.host or "127.0.0.1", port=parsed.port or 5432,
            user=parsed.username or "postgres", password=parsed.password,
            database=parsed.database,
        )  # fmt: skip
        try:
            # The names are our own tables' (the models' metadata), never input.
            deletes = [f'DELETE FROM "{table.name}"' for table in tables]  # noqa: S608
            await conn.execute(";".join(deletes))
        finally:
            await conn.close()
        return
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.begin() as conn:
            for table in tables:
                await conn.execute(table.delete())
    finally:
        await engine.dispose()


@functools.cache
def _migrated_sqlite_files() -> Path:
    """Every service's SQLite file migrated to head, made once per test process."""
    folder = Path(tempfile.mkdtemp(prefix="movieverse-migrated-"))
    atexit.register(shutil.rmtree, folder, True)
    for service in SERVICE_METADATA:
        upgrade(service, f"sqlite:///{folder / f'{service}.db'}")
    return folder


async def start_from_migrated_sqlite(settings: PlatformSettings) -> None:
    """Give an embedded stack's empty var_dir copies of the migrated SQLite files. Running every
    migration on every test's fresh files cost each gateway ~0.5 s, over 300 tests; the
    services still run their auto-migration at start, which finds the files at head."""
    if settings.database_url is not None:
        return
    # In a thread: the first call migrates, and Alembic's env drives an event loop of its own.
    await asyncio.to_thread(_copy_migrated, Path(settings.var_dir))


def _copy_migrated(var_dir: Path) -> None:
    var_dir.mkdir(parents=True, exist_ok=True)
    for template in _migrated_sqlite_files().glob("*.db"):
        if not (var_dir / template.name).exists():
            shutil.copyfile(template, var_dir / template.name)


def services_under_test(request: pytest.FixtureRequest) -> tuple[str, ...] | None:
    """The services a test module starts: its ``pytestmark = pytest.mark.services(...)``, or
    None (every service) for the deliberate whole-gateway tests, which carry no mark."""
    mark = request.node.get_closest_marker("services")
    return None if mark is None else tuple(mark.args)


@asynccontextmanager
async def running_gateway(
    settings: PlatformSettings,
    *,
    auth: AuthSettings | None = None,
    only: Collection[str] | None = None,
) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient]]:
    """The gateway with every service, or ``only`` those named (see :func:`services_under_test`),
    the catalog seeded when movies is among them."""
    await start_from_migrated_sqlite(settings)
    gateway = create_gateway(
        settings, service_overrides={"auth": auth or fast_auth_settings()}, only=only
    )
    async with gateway.edge.router.lifespan_context(gateway.edge):
        if "movies" in gateway.services:
            await seed_catalog(gateway, CATALOG_SIZE)
        transport = httpx.ASGITransport(app=gateway, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://movieverse.test") as c:
            yield gateway, c


async def seed_catalog(gateway: Gateway, count: int) -> None:
    """Movies with ids 1..count, so that lists and other catalog users have something to refer
    to (users validates movie ids against the catalog)."""
    ctx = gateway.services["movies"].state.ctx
    now = datetime.now(UTC)
    async with ctx.db.unit_of_work(write=False) as session:
        # Idempotent: a test that restarts the app on the same data seeds only once.
        present = set((await session.execute(select(Movie.id))).scalars())
    rows = [
        {
            "id": i,
            "title": f"Catalog Movie {i}",
            "title_sort": f"catalog movie {i:05d}",
            "adult": False,
            "popularity": float(i),
            "vote_average": 5.0,
            "vote_count": 10,
            "spoken_languages": [],
            "production_countries": [],
            "production_companies": [],
            "sources": ["test"],
            "created_at": now,
            "updated_at": now,
        }
        for i in range(1, count + 1)
        if i not in present
    ]
    if rows:
        async with ctx.db.unit_of_work() as session:
            await session.execute(insert(Movie), rows)


@dataclass
class Account:
    user_id: str
    username: str
    email: str
    password: str
    access: str
    refresh: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


async def register(
    client: httpx.AsyncClient, username: str, *, password: str = PASSWORD
) -> dict[str, Any]:
    response = await client.post(
        "/auth/register",
        json={"email": f"{username}@example.org", "username": username, "password": password},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(
    client: httpx.AsyncClient, login_name: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post("/auth/login", json={"login": login_name, "password": password})


async def signed_up(client: httpx.AsyncClient, username: str) -> Account:
    created = await register(client, username)
    response = await login(client, username)
    assert response.status_code == 200, response.text
    tokens = response.json()
    return Account(
        user_id=created["id"],
        username=username,
        email=f"{username}@example.org",
        password=PASSWORD,
        access=tokens["access_token"],
        refresh=tokens["refresh_token"],
    )


async def admin_account(
    gateway: Gateway, client: httpx.AsyncClient, username: str = "curator"
) -> Account:
    """An administrator, made the way `movieverse users create-admin` makes one."""
    from movieverse.platform.assembly import runtime_of
    from movieverse.services.auth import service as auth_service
    from movieverse.services.auth.bootstrap import AuthRuntime

    ctx = gateway.services["auth"].state.ctx
    password = "projector-room-42"
    email = f"{username}@example.org"
    async with ctx.db.unit_of_work() as session:
        account = await auth_service.grant_admin(
            session,
            runtime_of(ctx, AuthRuntime).components,
            email=email,
            username=username,
            password=password,
        )
    tokens = (await login(client, username, password)).json()
    return Account(
        user_id=str(account.id),
        username=username,
        email=email,
        password=password,
        access=tokens["access_token"],
        refresh=tokens["refresh_token"],
    )


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 30.0, interval: float = 0.02
) -> float:
    """Wait until an eventually-consistent effect shows; returns how long it took.

    ``within`` guards against a hang, it is not a speed check: what takes milliseconds alone
    can take seconds on a machine whose other core is busy, so it is generous."""
    started = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(interval)


def stream_scope(access_token: str, *, host: str = "movieverse.test") -> dict[str, Any]:
    """The ASGI scope of ``GET /notifications/stream``: tests drive the endless stream at the
    ASGI level, since an HTTP client would wait for a body that never ends."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/notifications/stream",
        "raw_path": b"/notifications/stream",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", host.encode()),
            (b"authorization", f"Bearer {access_token}".encode()),
        ],
        "client": ("203.0.113.7", 50000),
        "server": (host, 80),
    }


@dataclass
class LoopTicks:
    """How many times the event loop woke a 10 ms sleeper: a loop held by blocking work counts
    none."""

    count: int = 0


@asynccontextmanager
async def loop_ticks() -> AsyncIterator[LoopTicks]:
    """Counts the loop's 10 ms ticks while the block runs (did the loop go on serving?)."""
    ticks = LoopTicks()

    async def tick() -> None:
        while True:
            await asyncio.sleep(0.01)
            ticks.count += 1

    ticker = asyncio.create_task(tick())
    try:
        yield ticks
    finally:
        ticker.cancel()


def movie_snapshot_fields(**overrides: Any) -> dict[str, Any]:
    """The fields of a movie snapshot (``contracts.movies``) for tests that build movie events."""
    fields: dict[str, Any] = {
        "movie_id": 1, "tmdb_id": None, "imdb_id": None, "title": "Heat",
        "original_title": None, "original_language": "en", "overview": None,
        "release_date": None, "genres": [], "popularity": 1.0, "vote_average": 0.0,
        "vote_count": 0, "adult": False,
    }  # fmt: skip
    return fields | overrides
