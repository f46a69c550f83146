"""Shared set-up of the rating benchmarks: an admin, a small catalog, many signed-in users.

Everything goes through the public API of a running ``movieverse up`` (and the CLI for the
admin), the way an app would do it; nothing is written into the databases behind its back.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench._support import BENCH_PASSWORD, REPO_ROOT, venv_executable
from movieverse.gateway.routes import RouteTable

# Cheap password hashing: set-up signs in hundreds of users; the writes measured never hash.
CHEAP_HASHING = {
    "MOVIEVERSE_AUTH_ARGON2_MEMORY_KIB": "64",
    "MOVIEVERSE_AUTH_ARGON2_TIME_COST": "1",
}
ADMIN_USERNAME = "bench_admin"
ROUTES = RouteTable()


@dataclass(frozen=True)
class Site:
    """Where requests go: one all-in-one server, or each service's own process (the route table
    the gateway and nginx use says which service a path belongs to)."""

    base_urls: Mapping[str, str]  # service name -> base URL; "*" for the all-in-one server

    def url(self, path: str) -> str:
        if "*" in self.base_urls:
            return self.base_urls["*"] + path
        service = ROUTES.service_for(path)
        if service is None or service not in self.base_urls:
            raise ValueError(f"no process serves {path} (service {service})")
        return self.base_urls[service] + path


@dataclass(frozen=True)
class RatingWorld:
    admin: dict[str, str]  # headers
    movie_ids: list[int]
    users: list[dict[str, str]]  # one Authorization header per user


def create_admin(env: Mapping[str, str]) -> None:
    subprocess.run(  # noqa: S603 -- our own CLI, fixed arguments
        [
            venv_executable("movieverse"), "users", "create-admin",
            "--email", f"{ADMIN_USERNAME}@example.org", "--username", ADMIN_USERNAME,
            "--password", BENCH_PASSWORD,
        ],
        cwd=REPO_ROOT, env=dict(env), check=True, capture_output=True,
    )  # fmt: skip


async def _sign_in(client: httpx.AsyncClient, site: Site, login: str) -> dict[str, str]:
    response = await client.post(
        site.url("/auth/login"), json={"login": login, "password": BENCH_PASSWORD}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _new_user(
    client: httpx.AsyncClient, site: Site, gate: asyncio.Semaphore
) -> dict[str, str]:
    name = f"u{uuid.uuid4().hex[:12]}"
    async with gate:
        registered = await client.post(
            site.url("/auth/register"),
            json={"email": f"{name}@example.org", "username": name, "password": BENCH_PASSWORD},
        )
        registered.raise_for_status()
        return await _sign_in(client, site, name)


async def _known_to_reviews(
    client: httpx.AsyncClient, site: Site, movie_id: int, *, seconds: float
) -> None:
    """Reviews learns of movies through events; wait until it has this one."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (await client.get(site.url(f"/movies/{movie_id}/reviews"))).status_code == 200:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"reviews never learnt of movie {movie_id} (events not flowing?)")


async def build_world(site: Site, *, movies: int, users: int) -> RatingWorld:
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        admin = await _sign_in(client, site, ADMIN_USERNAME)
        movie_ids = []
        for i in range(movies):
            created = await client.post(
                site.url("/movies"), json={"title": f"Bench Movie {i}"}, headers=admin
            )
            created.raise_for_status()
            movie_ids.append(int(created.json()["id"]))
        gate = asyncio.Semaphore(8)
        accounts = await asyncio.gather(*(_new_user(client, site, gate) for _ in range(users)))
        await _known_to_reviews(client, site, movie_ids[-1], seconds=60)
    return RatingWorld(admin=admin, movie_ids=movie_ids, users=list(accounts))


def totals_agree(var_dir: Path, movie_ids: list[int], seconds: float) -> dict[str, Any]:
    """Wait until movies' rating counts equal reviews' stored ratings for every benched movie:
    every committed write's event has been applied."""
    wanted = ",".join(str(i) for i in movie_ids)
    started = time.monotonic()
    while True:
        with sqlite3.connect(var_dir / "reviews.db") as reviews:
            expected = dict(
                reviews.execute(
                    f"select movie_id, count(*) from reviews_ratings where movie_id in ({wanted}) "  # noqa: S608 -- our own integers
                    "group by movie_id"
                ).fetchall()
            )
        with sqlite3.connect(var_dir / "movies.db") as movies:
            seen = dict(
                movies.execute(
                    f"select id, ratings_count from movies_movies where id in ({wanted})"  # noqa: S608 -- our own integers
                ).fetchall()
            )
        behind = [m for m in movie_ids if seen.get(m, 0) != expected.get(m, 0)]
        if not behind or time.monotonic() - started > seconds:
            return {
                "ratings_stored": sum(expected.values()),
                "movies_behind": len(behind),
                "seconds_to_agree": time.monotonic() - started,
            }
        time.sleep(0.2)
