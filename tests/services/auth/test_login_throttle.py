"""The lock schedule itself, read from a frozen clock rather than by waiting locks out."""

from __future__ import annotations

import hashlib

import pytest

from movieverse.platform.cache import MemoryKeyValueStore
from movieverse.platform.errors import TooManyRequests
from movieverse.services.auth.throttle import LoginThrottle


def _account_lock(account: str) -> str:
    return "login-lock:account:" + hashlib.sha256(account.encode()).hexdigest()[:32]


@pytest.mark.parametrize(
    ("first", "expected"), [(1, [0, 0, 1, 2, 4, 8]), (30, [0, 0, 30, 60, 100, 100])]
)
async def test_locks_start_at_the_first_delay_and_double_up_to_the_cap(
    first: int, expected: list[int]
) -> None:
    now = [1000.0]
    kv = MemoryKeyValueStore(clock=lambda: now[0])
    throttle = LoginThrottle(
        kv,
        account_threshold=3,
        ip_threshold=1000,
        window_seconds=900,
        first_delay_seconds=first,
        max_delay_seconds=100,
    )
    locks = []
    for _ in range(6):
        await throttle.record_failure(account="victim", ip="192.0.2.1")
        locks.append(await kv.ttl(_account_lock("victim")) or 0)
    assert locks == expected
    with pytest.raises(TooManyRequests) as refused:
        await throttle.check(account="VICTIM", ip="198.51.100.7")  # case does not matter
    assert refused.value.retry_after_seconds == expected[-1]
    now[0] += expected[-1]
    await throttle.check(account="victim", ip="198.51.100.7")  # the lock has run out


async def test_a_good_login_clears_the_account_lock_but_not_the_address() -> None:
    kv = MemoryKeyValueStore(clock=lambda: 1000.0)
    throttle = LoginThrottle(
        kv, account_threshold=2, ip_threshold=2, window_seconds=900, max_delay_seconds=60
    )
    for _ in range(2):
        await throttle.record_failure(account="victim", ip="192.0.2.1")
    await throttle.record_success(account="victim")
    await throttle.check(account="victim", ip="198.51.100.7")
    with pytest.raises(TooManyRequests):
        await throttle.check(account="someone-else", ip="192.0.2.1")
