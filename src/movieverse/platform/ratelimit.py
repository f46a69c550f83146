"""Request rate limits: per account and per client address, on each family of writes and search.

Built on the `limits` library's moving window, which counts exactly the requests of the last
``w`` seconds (a fixed window lets a script send twice the quota across a window boundary).
Storage is in-process memory in the embedded shape and Redis when ``MOVIEVERSE_REDIS_URL`` is
set, so every process of the distributed shape shares one count; ``tests/contract/
test_rate_limit_contract.py`` holds both to one behaviour.

Routes take a limit as a dependency (``dependencies=[per_user("comment")]``). It runs before the
request's unit of work opens, so a refused request stores nothing. A refusal is a 429 problem
with ``Retry-After`` and the IETF fields of draft-ietf-httpapi-ratelimit-headers-11:
``RateLimit-Policy`` (the quotas that apply to the request) and ``RateLimit`` (the exhausted
one, ``r=0`` and ``t`` seconds until a slot frees). Admitted responses carry neither: learning
the remaining quota costs a second storage read per window -- a Redis round trip each -- on every
admitted write, and the draft (section 6.2) lets a server send the fields only near exhaustion.
"""

from __future__ import annotations

import bisect
import ipaddress
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import structlog
from fastapi import Depends, Request
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import BlockingConnectionPool

from movieverse.platform.clientip import client_ip
from movieverse.platform.errors import TooManyRequests
from movieverse.platform.security import Principal, get_principal
from movieverse.platform.settings import PlatformSettings

Family = Literal[
    "register", "rating", "review", "comment", "like", "report", "webhook", "list", "search"
]
FAMILIES: tuple[Family, ...] = (
    "register",
    "rating",
    "review",
    "comment",
    "like",
    "report",
    "webhook",
    "list",
    "search",
)
Scope = Literal["user", "ip"]

# What a refusal says, by family ("Too many comments ...").
_NOUNS: dict[Family, str] = {
    "register": "sign-ups",
    "rating": "rating changes",
    "review": "review changes",
    "comment": "comments",
    "like": "likes",
    "report": "reports",
    "webhook": "new webhooks",
    "list": "list changes",
    "search": "searches",
}

log = structlog.get_logger("movieverse.ratelimit")


@dataclass(frozen=True)
class Policy:
    """One quota: ``item.amount`` requests per ``item.get_expiry()`` seconds for one scope."""

    family: Family
    scope: Scope
    item: RateLimitItem

    @property
    def window_seconds(self) -> int:
        return int(self.item.get_expiry())

    @property
    def name(self) -> str:
        return f"{self.family}-{self.scope}-{self.window_seconds}s"

    @property
    def header_item(self) -> str:
        """This quota as a RateLimit-Policy list member: ``"comment-user-60s";q=10;w=60``."""
        return f'"{self.name}";q={self.item.amount};w={self.window_seconds}'

    def describe(self) -> str:
        per = "account" if self.scope == "user" else "address"
        return f"at most {self.item.amount} per {_window_words(self.window_seconds)} per {per}"


def _window_words(seconds: int) -> str:
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    return "second" if seconds == 1 else f"{seconds} seconds"


def parse_policies(family: Family, scope: Scope, text: str) -> tuple[Policy, ...]:
    """The quotas of a setting such as ``"10/minute;100/hour"``, shortest window first ("" is
    none). Shortest first: while a long window refuses, the short one a refused request already
    used fills up and refuses first, so refused requests stop using quota at all."""
    items = parse_many(text) if text.strip() else []
    policies = [Policy(family, scope, item) for item in items]
    return tuple(sorted(policies, key=lambda p: p.window_seconds))


def policies_from_settings(
    settings: PlatformSettings,
) -> dict[tuple[Family, Scope], tuple[Policy, ...]]:
    table: dict[tuple[Family, Scope], tuple[Policy, ...]] = {}
    for family in FAMILIES:
        scopes: tuple[Scope, ...] = ("user", "ip")
        for scope in scopes:
            field = f"rate_limit_{family}" + ("_ip" if scope == "ip" else "")
            # Sign-ups have no account yet: register has an address limit only.
            text = getattr(settings, field, "")
            table[family, scope] = parse_policies(family, scope, text)
    return table


def address_key(ip: str) -> str:
    """The per-address key: an IPv6 client is counted by its /64, the block one subscriber
    typically holds -- counting each of its 2^64 addresses apart would limit nobody."""
    if ":" not in ip:
        return ip
    try:
        address = ipaddress.IPv6Address(ip)
    except ValueError:
        return ip
    if address.ipv4_mapped is not None:
        # ::ffff:a.b.c.d (a dual-stack socket, a proxy writing IPv4 clients so) is one IPv4
        # client: its /64 would put every IPv4 client in one bucket.
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, 64), strict=False))


class RateLimiter:
    """Admits or refuses requests of a family against its per-account and per-address quotas."""

    def __init__(
        self,
        storage: Storage,
        policies: dict[tuple[Family, Scope], tuple[Policy, ...]],
        *,
        enabled: bool = True,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._storage = storage
        self._on_close = on_close
        self._windows = MovingWindowRateLimiter(storage)
        self._policies = policies
        self.enabled = enabled

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> RateLimiter:
        storage, close = create_storage(
            settings.redis_url, prefix=f"{settings.redis_key_prefix}ratelimit"
        )
        return cls(
            storage,
            policies_from_settings(settings),
            enabled=settings.rate_limits_enabled,
            on_close=close,
        )

    def policies(self, family: Family, scope: Scope) -> tuple[Policy, ...]:
        return self._policies.get((family, scope), ())

    async def check(self, family: Family, *, user: str | None, ip: str | None) -> None:
        """Count one request of ``family`` from ``user`` (an account id, or None for no
        per-account limit) at ``ip`` (None: no per-address limit); raise TooManyRequests if any
        quota is used up. Quotas are hit in order and the first refusal stops the rest."""
        if not self.enabled:
            return
        subjects: list[tuple[Scope, str]] = []
        if user is not None:
            subjects.append(("user", user))
        if ip is not None:
            subjects.append(("ip", address_key(ip)))
        for scope, subject in subjects:
            for policy in self.policies(family, scope):
                if not await self._hit(policy, subject):
                    raise await self._refusal(policy, subject, applied=subjects)

    async def _hit(self, policy: Policy, subject: str) -> bool:
        try:
            return await self._windows.hit(policy.item, policy.family, policy.scope, subject)
        except Exception as exc:
            # Fail open: a store outage must not turn every write into an error. The outage
            # shows on /readyz (the key-value probe) and in this warning.
            log.warning("rate_limit_store_failed", family=policy.family, error=repr(exc))
            return True

    async def _refusal(
        self, policy: Policy, subject: str, *, applied: Sequence[tuple[Scope, str]]
    ) -> TooManyRequests:
        try:
            stats = await self._windows.get_window_stats(
                policy.item, policy.family, policy.scope, subject
            )
            wait = stats.reset_time - time.time()
        except Exception:  # the refusal stands; only its estimate of the wait is lost
            wait = policy.window_seconds
        # Within [1, w]: a clock step between this host and the store cannot say "now" or
        # "in a year".
        wait_seconds = min(max(1, math.ceil(wait)), policy.window_seconds)
        quotas = ", ".join(
            p.header_item for scope, _ in applied for p in self.policies(policy.family, scope)
        )
        return TooManyRequests(
            f"Too many {_NOUNS[policy.family]}: {policy.describe()}; try again in {wait_seconds} s",
            retry_after_seconds=wait_seconds,
            headers={
                "RateLimit-Policy": quotas,
                "RateLimit": f'"{policy.name}";r=0;t={wait_seconds}',
            },
        )

    async def reset(self) -> None:
        """Forget every count (tests and `movieverse` maintenance only)."""
        await self._storage.reset()

    async def close(self) -> None:
        if self._on_close is not None:
            await self._on_close()


async def _nothing_to_close() -> None:
    return None


# The in-process store drops expired entries at most this often (seconds).
MEMORY_EXPIRY_INTERVAL_SECONDS = 1.0


class InProcessStorage(MemoryStorage):
    """limits' in-process store with a cheap clean-up.

    limits starts a clean-up pass at every hit once the previous pass has ended, and a pass
    sends each key's bisect to a worker thread (``asyncio.to_thread``): under a stream of writes
    the passes ran back to back, a thread round trip per key each, and that showed as a share of
    every rating write's CPU. Counting never needs the clean-up -- a moving window counts only
    the entries within it, a counter checks its own expiry -- it only bounds memory. Here it
    runs at most once per ``MEMORY_EXPIRY_INTERVAL_SECONDS``, inline: a bisect per key is
    microseconds, and with no await between reading and trimming a key, no hit can interleave.
    """

    def __init__(self) -> None:
        super().__init__()
        self._next_expiry = 0.0

    # limits calls this (name-mangled, so spelled out here) at every hit, before counting.
    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_expiry:
            self._next_expiry = now + MEMORY_EXPIRY_INTERVAL_SECONDS
            self.expire(time.time())

    def expire(self, now: float) -> None:
        """Drop what has expired by ``now`` (a wall-clock time, as limits stamps entries)."""
        for key, events in list(self.events.items()):
            # Newest first: the entries still live are a prefix.
            live = bisect.bisect_left(events, -now, key=lambda event: -event.expiry)
            if live:
                del events[live:]
            else:
                self.events.pop(key, None)
                self.locks.pop(key, None)
        for key, expires_at in list(self.expirations.items()):
            if expires_at <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)


def create_storage(
    url: str | None, *, prefix: str
) -> tuple[Storage, Callable[[], Awaitable[None]]]:
    """The store and how to close it: in-process memory without a URL (the embedded shape), else
    Redis through redis-py -- the client the rest of the platform uses; limits would default to
    coredis, a second client -- on a pool of our own, under the deployment's key prefix."""
    if url is None or url == "memory://":
        return InProcessStorage(), _nothing_to_close
    if url.startswith(("redis://", "rediss://", "unix://")):
        # As platform/cache.py: a burst waits briefly for a connection rather than failing.
        pool = BlockingConnectionPool.from_url(
            url, max_connections=64, timeout=5, socket_timeout=5, socket_connect_timeout=5
        )
        # limits names its Redis schemes "async+redis" (and "async+redis+unix" for sockets).
        scheme_url = "async+" + url.replace("unix://", "redis+unix://", 1)
        # connection_pool is a documented option; limits' annotation of **options omits it.
        storage = RedisStorage(
            scheme_url,
            implementation="redispy",
            key_prefix=prefix,
            connection_pool=pool,  # type: ignore[arg-type]
        )
        return storage, pool.aclose
    raise ValueError(f"unsupported rate limit store URL scheme: {url.split('://', 1)[0]}")


# FastAPI dependencies. Coroutines on purpose: a plain ``def`` would run on a worker thread.


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.ctx.shared.rate_limiter
    return limiter


def _address(request: Request) -> str:
    return client_ip(request, request.app.state.ctx.trusted_proxies)


def _account(principal: Principal) -> str | None:
    """Whose per-account quota a caller uses: none for administrators and services."""
    if principal.is_admin or principal.is_service:
        return None
    return str(principal.user_id)


def per_user(family: Family) -> Any:
    """A route dependency: the caller's account and address both count against ``family``.
    Services calling on their own behalf are not limited at all (their address is the
    cluster's, not a client's); administrators are limited by address only."""

    async def limit(
        request: Request, principal: Annotated[Principal, Depends(get_principal)]
    ) -> None:
        limiter = _limiter(request)
        if not limiter.enabled or principal.is_service:
            return
        await limiter.check(family, user=_account(principal), ip=_address(request))

    return Depends(limit)


def per_address(family: Family) -> Any:
    """A route dependency for requests with no account yet (sign-up): the address counts."""

    async def limit(request: Request) -> None:
        limiter = _limiter(request)
        if limiter.enabled:
            await limiter.check(family, user=None, ip=_address(request))

    return Depends(limit)


def per_caller(family: Family) -> Any:
    """A route dependency for public reads (search): a caller with a valid token counts against
    their account's quota, anyone else against their address's. A bad token is left to the
    route to judge; here it only means "count by address"."""

    async def limit(request: Request) -> None:
        limiter = _limiter(request)
        if not limiter.enabled:
            return
        principal = _optional_principal(request)
        if principal is None:
            await limiter.check(family, user=None, ip=_address(request))
        elif not principal.is_service:
            account = _account(principal)
            # An administrator has no per-account quota: as in per_user, the address counts.
            address = _address(request) if account is None else None
            await limiter.check(family, user=account, ip=address)

    return Depends(limit)


def _optional_principal(request: Request) -> Principal | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        principal: Principal = request.app.state.ctx.verifier.verify_access(token.strip())
    except Exception:  # an invalid token is the route's business (a 401 where it needs one)
        return None
    return principal
