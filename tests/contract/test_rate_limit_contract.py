"""One behaviour for the rate limiter on every store: in-process always, Redis when its URL is set
(the Redis case skips, naming MOVIEVERSE_TEST_REDIS_URL, when it is not)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from movieverse.platform.errors import TooManyRequests
from movieverse.platform.ratelimit import (
    Family,
    RateLimiter,
    Scope,
    address_key,
    create_storage,
    parse_policies,
)
from movieverse.platform.settings import PlatformSettings
from tests.support import eventually, require_server

MakeLimiter = Callable[[dict[tuple[Family, Scope], str]], Awaitable[RateLimiter]]


@pytest.fixture(params=["memory", "redis"])
async def make_limiter(request: pytest.FixtureRequest) -> AsyncIterator[MakeLimiter]:
    url = None if request.param == "memory" else require_server("redis")
    # A unique prefix isolates this test's counts on a shared server.
    prefix = f"mvtest:{uuid.uuid4().hex[:12]}:ratelimit"
    made: list[RateLimiter] = []

    async def make(rules: dict[tuple[Family, Scope], str]) -> RateLimiter:
        storage, close = create_storage(url, prefix=prefix)
        policies = {key: parse_policies(key[0], key[1], text) for key, text in rules.items()}
        limiter = RateLimiter(storage, policies, on_close=close)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.reset()
        await limiter.close()


async def admitted(limiter: RateLimiter, family: Family, **who: str | None) -> bool:
    try:
        await limiter.check(family, user=who.get("user"), ip=who.get("ip"))
    except TooManyRequests:
        return False
    return True


async def test_the_quota_is_admitted_and_the_next_request_refused(
    make_limiter: MakeLimiter,
) -> None:
    limiter = await make_limiter({("comment", "user"): "3/minute"})
    assert [await admitted(limiter, "comment", user="ann") for _ in range(3)] == [True] * 3
    with pytest.raises(TooManyRequests) as refused:
        await limiter.check("comment", user="ann", ip=None)
    problem = refused.value
    assert problem.status == 429
    assert 1 <= problem.retry_after_seconds <= 60
    wait = problem.retry_after_seconds
    assert problem.headers == {
        "Retry-After": str(wait),
        "RateLimit-Policy": '"comment-user-60s";q=3;w=60',
        "RateLimit": f'"comment-user-60s";r=0;t={wait}',
    }
    assert "at most 3 per minute per account" in problem.detail


async def test_keys_are_counted_apart(make_limiter: MakeLimiter) -> None:
    limiter = await make_limiter(
        {("comment", "user"): "2/minute", ("like", "user"): "2/minute", ("like", "ip"): "2/minute"}
    )
    for _ in range(2):
        assert await admitted(limiter, "comment", user="ann")
    assert not await admitted(limiter, "comment", user="ann")
    # Another account, and another family of the same account, have quotas of their own.
    assert await admitted(limiter, "comment", user="bob")
    assert await admitted(limiter, "like", user="ann")
    # Per-address counts are apart from per-account ones, and one address from another.
    assert await admitted(limiter, "like", ip="192.0.2.1")
    assert await admitted(limiter, "like", ip="192.0.2.1")
    assert not await admitted(limiter, "like", ip="192.0.2.1")
    assert await admitted(limiter, "like", ip="192.0.2.2")


async def test_both_scopes_apply_and_the_refusing_one_is_named(make_limiter: MakeLimiter) -> None:
    limiter = await make_limiter({("rating", "user"): "5/minute", ("rating", "ip"): "3/minute"})
    for name in ("ann", "bob", "cy"):
        assert await admitted(limiter, "rating", user=name, ip="192.0.2.7")
    with pytest.raises(TooManyRequests) as refused:
        await limiter.check("rating", user="dee", ip="192.0.2.7")
    headers = refused.value.headers
    assert headers["RateLimit"].startswith('"rating-ip-60s";r=0;')
    assert headers["RateLimit-Policy"] == '"rating-user-60s";q=5;w=60, "rating-ip-60s";q=3;w=60'
    assert "per address" in refused.value.detail


async def test_every_window_applies(make_limiter: MakeLimiter) -> None:
    limiter = await make_limiter({("review", "user"): "4/minute;2/hour"})
    assert await admitted(limiter, "review", user="ann")
    assert await admitted(limiter, "review", user="ann")
    with pytest.raises(TooManyRequests) as refused:
        await limiter.check("review", user="ann", ip=None)
    assert refused.value.headers["RateLimit"].startswith('"review-user-3600s";r=0;')
    assert 1 <= refused.value.retry_after_seconds <= 3600


async def test_a_slot_frees_once_the_window_has_passed(make_limiter: MakeLimiter) -> None:
    limiter = await make_limiter({("search", "ip"): "2/second"})
    assert await admitted(limiter, "search", ip="192.0.2.9")
    assert await admitted(limiter, "search", ip="192.0.2.9")
    assert not await admitted(limiter, "search", ip="192.0.2.9")
    # A refused request uses no quota, so polling does not keep the address locked out.
    await eventually(lambda: admitted(limiter, "search", ip="192.0.2.9"), within=10)


async def test_concurrent_requests_admit_exactly_the_quota(make_limiter: MakeLimiter) -> None:
    limiter = await make_limiter({("like", "user"): "7/minute"})
    results = await asyncio.gather(*(admitted(limiter, "like", user="ann") for _ in range(40)))
    assert results.count(True) == 7


async def test_switched_off_admits_everything(make_limiter: MakeLimiter) -> None:
    limiter = await make_limiter({("comment", "user"): "1/minute"})
    limiter.enabled = False
    assert all([await admitted(limiter, "comment", user="ann") for _ in range(5)])


async def test_an_unreachable_store_admits_rather_than_failing_every_write() -> None:
    # Port 1 refuses at once: no store to count in. Writes go on; the outage shows on /readyz.
    storage, close = create_storage("redis://127.0.0.1:1/0", prefix="mvtest:down:ratelimit")
    limiter = RateLimiter(
        storage, {("comment", "user"): parse_policies("comment", "user", "1/hour")}
    )
    try:
        assert await admitted(limiter, "comment", user="ann")
        assert await admitted(limiter, "comment", user="ann")
    finally:
        await close()


def test_an_ipv6_client_is_counted_by_its_64_block() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("192.0.2.1") == "192.0.2.1"


def test_an_ipv4_client_written_as_ipv6_is_still_one_ipv4_client() -> None:
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("::ffff:192.0.2.1") != address_key("::ffff:198.51.100.9")


def test_settings_name_each_family_and_refuse_unreadable_limits() -> None:
    settings = PlatformSettings(rate_limit_comment="2/second;30/minute", rate_limit_like="")
    limiter = RateLimiter.from_settings(settings)
    assert [p.name for p in limiter.policies("comment", "user")] == [
        "comment-user-1s",
        "comment-user-60s",
    ]
    assert limiter.policies("like", "user") == ()  # "" switches a scope off
    assert limiter.policies("register", "user") == ()  # no account before sign-up
    with pytest.raises(ValueError, match="rate_limit_review_ip"):
        PlatformSettings(rate_limit_review_ip="lots per day")
