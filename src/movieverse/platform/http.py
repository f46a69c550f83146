"""Service-to-service HTTP clients.

A service calls another through its public HTTP API, never its tables (DESIGN rule 1). Where the
target runs is configuration: ``MOVIEVERSE_<TARGET>_URL`` points at its own process; otherwise,
when the target is mounted in this process (the all-in-one app), the call goes through an
in-process ASGI transport -- the same code path without a socket. Timeouts are short, and only
idempotent requests (GET, HEAD, PUT, DELETE) are retried, with back-off, on transport errors and
5xx answers.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

import httpx
from starlette.types import ASGIApp

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class ServiceUnreachable(Exception):
    """The target service did not answer (after retries)."""


class ServiceClient:
    def __init__(
        self,
        target: str,
        client: httpx.AsyncClient,
        *,
        retries: int = 2,
        backoff_seconds: float = 0.05,
    ) -> None:
        self.target = target
        self._client = client
        self._retries = retries
        self._backoff = backoff_seconds

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        attempts = 1 + (self._retries if method.upper() in IDEMPOTENT else 0)
        delay = self._backoff
        for attempt in range(1, attempts + 1):
            try:
                response = await self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt == attempts:
                    raise ServiceUnreachable(f"{self.target}: {exc!r}") from exc
            else:
                if response.status_code < 500 or attempt == attempts:
                    return response
            await asyncio.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def close(self) -> None:
        await self._client.aclose()


def service_client(
    target: str,
    *,
    local_apps: Mapping[str, ASGIApp],
    timeout_seconds: float = 3.0,
    environ: Mapping[str, str] | None = None,
) -> ServiceClient | None:
    """A client for ``target``, or None when this deployment has no such service."""
    env = os.environ if environ is None else environ
    url = env.get(f"MOVIEVERSE_{target.upper()}_URL")
    timeout = httpx.Timeout(timeout_seconds)
    if url:
        return ServiceClient(target, httpx.AsyncClient(base_url=url, timeout=timeout))
    app = local_apps.get(target)
    if app is None:
        return None
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(
        transport=transport, base_url=f"http://{target}.internal", timeout=timeout
    )
    return ServiceClient(target, client)
