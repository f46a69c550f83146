"""Brute-force protection for logins: growing delays per account and per client IP.

Failures are counted in a sliding-ish window (the counter expires ``window`` after its first
failure). From the threshold on, every further failure locks that account or IP for twice as long
as the last one (from ``first_delay``, 1 s, 2 s, 4 s ... up to ``max_delay``). While locked every
attempt -- even with the right password -- answers 429 with Retry-After, so guessing cannot
continue at full speed.
Identifiers are hashed so no email address ends up as a cache key.
"""

from __future__ import annotations

import hashlib

from movieverse.platform.cache import KeyValueStore
from movieverse.platform.errors import TooManyRequests


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class LoginThrottle:
    def __init__(
        self,
        kv: KeyValueStore,
        *,
        account_threshold: int,
        ip_threshold: int,
        window_seconds: int,
        max_delay_seconds: int,
        first_delay_seconds: int = 1,
    ) -> None:
        self._kv = kv
        self._thresholds = {"account": account_threshold, "ip": ip_threshold}
        self._window = window_seconds
        self._max_delay = max_delay_seconds
        self._first_delay = first_delay_seconds

    def _subjects(self, account: str, ip: str) -> list[tuple[str, str]]:
        return [("account", _digest(account.lower())), ("ip", _digest(ip))]

    async def check(self, *, account: str, ip: str) -> None:
        waits = []
        for kind, subject in self._subjects(account, ip):
            remaining = await self._kv.ttl(f"login-lock:{kind}:{subject}")
            if remaining is not None and remaining > 0:
                waits.append(remaining)
        if waits:
            raise TooManyRequests(
                "Too many failed sign-in attempts; wait before trying again",
                retry_after_seconds=max(waits),
            )

    async def record_failure(self, *, account: str, ip: str) -> None:
        for kind, subject in self._subjects(account, ip):
            failures = await self._kv.increment(
                f"login-fail:{kind}:{subject}", ttl_seconds=self._window
            )
            over = failures - self._thresholds[kind]
            if over >= 0:
                delay = min(self._first_delay * 2 ** min(over, 30), self._max_delay)
                await self._kv.set(f"login-lock:{kind}:{subject}", b"1", ttl_seconds=delay)

    async def record_success(self, *, account: str) -> None:
        # Only the account's count resets: one good login must not launder an attacking IP.
        subject = _digest(account.lower())
        await self._kv.delete(f"login-fail:account:{subject}", f"login-lock:account:{subject}")
