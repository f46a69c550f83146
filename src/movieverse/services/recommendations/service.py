"""Recommendations' logic: events kept, and answers assembled from the ai service's scores.

Caching. A personal answer is cached under a key made of everything that can change it: the
user's latest rating time as recommendations saw it (from rating events), a generation bumped
when their lists or preferences change, the current model version (from ai's model events)
and the query -- all read from the cache store itself, so a hit touches no database. A new rating
makes a new key at once; the old entry just expires. An answer is stored only when it is from
the model, names the model version the key names, and already reflects the user's latest
rating (the ai service says up to when its answer is), so a rating that recommendations saw
before ai did can never pin a stale answer under the new key. A fallback is never cached.

Stale while revalidating. The user's latest cached page for each query is also pointed at by a
key of its own. When a change makes the key new, ``/recommendations/me`` answers with that
previous page -- marked ``"stale": true``, less the movies the user rated or put on their
watchlist or seen list since (remembered from the same events) -- while one computation of the
new page runs in the background; the next request after it is a hit. Without this, every
request of a user who just rated waited for the new page (a load test's p99 went from 7 to
125 ms with 4 ratings a second). A key whose computation just failed is not answered stale
(flights.py): that request waits and gets the error. Admins' views never are.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.ai import ModelPublished
from movieverse.contracts.auth import UserRegistered
from movieverse.contracts.envelope import Event
from movieverse.contracts.reviews import RatingChanged
from movieverse.contracts.users import PreferencesChanged, UserDeleted, UserListChanged
from movieverse.platform.cache import KeyValueStore
from movieverse.platform.db import Database, after_commit
from movieverse.platform.errors import (
    BadRequest,
    FieldError,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
)
from movieverse.platform.http import ServiceClient, ServiceUnreachable
from movieverse.services.recommendations.flights import SingleFlight
from movieverse.services.recommendations.metrics import recommendations_metrics
from movieverse.services.recommendations.repository import RecommendationsRepository

MAX_RESULTS = 500
MAX_GENRES = 20
CACHE = "recs"
MODEL_KEY = f"{CACHE}:model"


def rated_key(user_id: UUID) -> str:
    return f"{CACHE}:rated:{user_id}"


def generation_key(user_id: UUID) -> str:
    """Bumped whenever the user's lists or preferences change (their part of the cache key)."""
    return f"{CACHE}:gen:{user_id}"


def latest_page_key(user_id: UUID, query: Query) -> str:
    """Names the cache key of the user's latest cached page for ``query``."""
    digest = hashlib.blake2b(query.key().encode(), digest_size=8).hexdigest()
    return f"{CACHE}:latest:{user_id}:{digest}"


def recent_key(user_id: UUID) -> str:
    """The movies the user lately rated or listed: left out of a stale page."""
    return f"{CACHE}:recent:{user_id}"


# What a stale page leaves out, by the query's exclude_* switch that asks for it.
RATED, WATCHLIST, SEEN = "rated", "watchlist", "seen"
MAX_RECENT = 200


# Events ----------------------------------------------------------------------------------------


async def apply_account_event(session: AsyncSession, *, event: Event, kv: KeyValueStore) -> None:
    repo = RecommendationsRepository(session)
    if event.type == UserRegistered.event_type:
        registered = UserRegistered.from_event(event)
        await repo.put_account(registered.user_id, registered.username, event.occurred_at)
    elif event.type == UserDeleted.event_type:
        await repo.forget(UserDeleted.from_event(event).user_id)
    else:
        preferences = PreferencesChanged.from_event(event)
        await repo.put_preferences(
            preferences.user_id,
            favourite_genres=preferences.favourite_genres,
            include_adult=preferences.include_adult,
            at=event.occurred_at,
        )
        await _bump(session, kv, preferences.user_id)


async def _bump(session: AsyncSession, kv: KeyValueStore, user_id: UUID) -> None:
    """A new generation once the change is committed: a request between the two would read the
    old lists and must not file them under the new key."""

    async def bump() -> None:
        await kv.increment(generation_key(user_id))

    after_commit(session, bump)


async def apply_list_event(
    session: AsyncSession, *, event: Event, kv: KeyValueStore, ttl: float
) -> None:
    change = UserListChanged.from_event(event)
    repo = RecommendationsRepository(session)
    if change.action == "added":
        await repo.add_to_list(change.user_id, change.list, change.movie_id, event.occurred_at)
    else:
        await repo.remove_from_list(change.user_id, change.list, change.movie_id)
    await _bump(session, kv, change.user_id)
    if change.action == "added" and change.list in (WATCHLIST, SEEN):

        async def remember() -> None:
            await _remember_recent(kv, change.user_id, [(change.movie_id, change.list)], ttl=ttl)

        after_commit(session, remember)


async def _remember_recent(
    kv: KeyValueStore, user_id: UUID, entries: Sequence[tuple[int, str]], *, ttl: float
) -> None:
    """Adds to the user's recent movies. Read, then written: of two processes writing one
    user's list at once, one's entries can be lost -- a stale page then shows such a movie for
    the moment until the user's new page is cached, which is all a stale page is for."""
    raw = await kv.get(recent_key(user_id))
    known: list[list[Any]] = orjson.loads(raw) if raw else []
    fresh = set(entries)
    known = [entry for entry in known if (entry[0], entry[1]) not in fresh]
    known += [[movie_id, kind] for movie_id, kind in entries]
    # Kept as long as the latest-page pointers it corrects (ttl), and then some.
    await kv.set(
        recent_key(user_id), orjson.dumps(known[-MAX_RECENT:]), ttl_seconds=ttl * 2 or None
    )


async def note_ratings(
    kv: KeyValueStore, *, events: Sequence[Event], ttl: float
) -> frozenset[UUID]:
    """Remember each user's latest rating time: the next request builds a new cache key.
    Answers the users whose key changed."""
    latest: dict[UUID, datetime] = {}
    rated: dict[UUID, list[tuple[int, str]]] = {}
    for event in events:
        rating = RatingChanged.from_event(event)
        user = rating.user_id
        latest[user] = max(latest.get(user, event.occurred_at), event.occurred_at)
        if rating.value is not None:
            rated.setdefault(user, []).append((rating.movie_id, RATED))
    for user, entries in rated.items():
        await _remember_recent(kv, user, entries, ttl=ttl)
    changed: set[UUID] = set()
    for user, at in latest.items():
        known = await kv.get(rated_key(user))
        if known is None or known.decode() < at.isoformat():
            await kv.set(rated_key(user), at.isoformat().encode(), ttl_seconds=ttl * 2 or None)
            changed.add(user)
    return frozenset(changed)


async def note_model(kv: KeyValueStore, *, event: Event) -> None:
    version = ModelPublished.from_event(event).version
    await kv.set(MODEL_KEY, version.encode())


# Requests --------------------------------------------------------------------------------------


def parse_genres(raw: str | None) -> list[int]:
    """``genres=80,18``: movies in any of these genres."""
    if not raw:
        return []
    values = [part.strip() for part in raw.split(",") if part.strip()]
    if len(values) > MAX_GENRES or not all(v.isdigit() and 0 < int(v) < 2**31 for v in values):
        raise BadRequest(
            f"genres takes up to {MAX_GENRES} comma-separated genre ids",
            errors=[FieldError(field="query.genres", message=raw[:100], code="invalid_genres")],
        )
    return list(dict.fromkeys(int(v) for v in values))


@dataclass(frozen=True, slots=True)
class Query:
    page: int
    per_page: int
    genres: list[int]
    exclude_rated: bool
    exclude_watchlist: bool
    exclude_seen: bool

    @property
    def wanted(self) -> int:
        return min(self.page * self.per_page, MAX_RESULTS)

    def key(self) -> str:
        return (
            f"{self.page}:{self.per_page}:{','.join(map(str, self.genres))}:"
            f"{int(self.exclude_rated)}{int(self.exclude_watchlist)}{int(self.exclude_seen)}"
        )


def _ai(client: ServiceClient | None) -> ServiceClient:
    if client is None:
        raise ServiceUnavailable("Recommendations need the ai service, which is not running")
    return client


async def _ai_answer(response_status: int, body: Any) -> dict[str, Any]:
    if response_status == 200 and isinstance(body, dict):
        return body
    if response_status == 404:
        raise NotFound(
            str(body.get("detail", "Not found")) if isinstance(body, dict) else "Not found"
        )
    if response_status == 401:
        raise Unauthorized()
    if response_status == 403:
        raise Forbidden("Not allowed")
    raise ServiceUnavailable(f"The ai service answered {response_status}")


def page_of(answer: dict[str, Any], *, page: int, per_page: int) -> dict[str, Any]:
    results = answer["results"]
    total = len(results)
    start = (page - 1) * per_page
    return {
        "page": page,
        "per_page": per_page,
        "total_results": total,
        "total_pages": math.ceil(total / per_page) if total else 0,
        "source": answer["source"],
        "model": answer["model"],
        "genres": answer.get("genres", []),
        "stale": False,
        "results": [
            {"id": r["movie_id"], "title": r["title"], "score": r["score"], "reason": r["reason"]}
            for r in results[start : start + per_page]
        ],
    }


@dataclass(frozen=True, slots=True)
class PersonalPage:
    body: bytes
    # The cache holds this answer under the user's current key (a hit, or stored just now).
    in_cache: bool
    # A model's answer not cached because it is behind: the user's latest rating had not
    # reached ai, or the model changed on the way. Asking again later can cache it.
    behind: bool = False
    # The user's previous page, answered while the current one is computed.
    stale: bool = False


async def personal_page(
    *,
    db: Database,
    kv: KeyValueStore,
    ai: ServiceClient | None,
    authorization: str,
    user_id: UUID,
    query: Query,
    must_exist: bool,
    cache_seconds: float,
    flights: SingleFlight[PersonalPage] | None = None,
    serve_stale: bool = False,
) -> PersonalPage:
    """A page of ``user_id``'s recommendations, as JSON bytes (what the cache keeps). A cache
    hit reads four keys and nothing else; the database is read only on a miss, and concurrent
    misses of one key (with ``flights``) ask the ai service once. With ``serve_stale`` (and
    ``flights``), a miss answers the previous page while the new one is computed."""
    generation = await kv.get(generation_key(user_id))
    rated_at = await kv.get(rated_key(user_id))
    model = await kv.get(MODEL_KEY)
    caching = cache_seconds > 0
    key = _cache_key(user_id, generation, query, rated_at, model)
    if model is not None and caching:
        cached = await kv.get(key)
        if cached is not None:
            recommendations_metrics().pages.labels("hit").inc()
            return PersonalPage(cached, in_cache=True)

    async def compute() -> PersonalPage:
        async with db.unit_of_work(write=False) as session:
            facts = await RecommendationsRepository(session).facts(user_id)
        exclude: set[int] = set()
        if query.exclude_watchlist:
            exclude |= facts.lists.get("watchlist", set())
        if query.exclude_seen:
            exclude |= facts.lists.get("seen", set())
        request = {
            "user_id": str(user_id),
            "count": query.wanted,
            "exclude": sorted(exclude),
            "genres": query.genres,
            "favourite_genres": facts.favourite_genres,
            "exclude_rated": query.exclude_rated,
            "include_adult": facts.include_adult,
        }
        try:
            response = await _ai(ai).request(
                "POST", "/ai/recommend", json=request, headers={"Authorization": authorization}
            )
        except ServiceUnreachable as exc:
            raise ServiceUnavailable("The ai service cannot be reached; try again") from exc
        answer = await _ai_answer(response.status_code, response.json())
        if must_exist and not facts.exists and not answer.get("known_user"):
            raise NotFound(f"No user {user_id}")
        body = orjson.dumps(page_of(answer, page=query.page, per_page=query.per_page))
        known_model = model or await _learn_model(kv, answer)
        if _cacheable(answer, model=known_model, rated_at=rated_at) and caching:
            key_now = _cache_key(user_id, generation, query, rated_at, known_model)
            await kv.set(key_now, body, ttl_seconds=cache_seconds)
            pointer = latest_page_key(user_id, query)
            await kv.set(pointer, key_now.encode(), ttl_seconds=cache_seconds)
            return PersonalPage(body, in_cache=True)
        return PersonalPage(body, in_cache=False, behind=answer.get("source") == "model")

    if flights is None or not caching:
        recommendations_metrics().pages.labels("miss").inc()
        return await compute()
    # must_exist changes the answer for a stranger (404 or not): part of what is shared.
    flight = f"{key}:{int(must_exist)}"
    if serve_stale and not must_exist and not flights.failed_recently(flight):
        previous = await _previous_page(kv, user_id, query)
        if previous is not None:
            flights.start(flight, compute)
            recommendations_metrics().pages.labels("stale").inc()
            return PersonalPage(previous, in_cache=False, stale=True)
    recommendations_metrics().pages.labels("miss").inc()
    return await flights.run(flight, compute)


async def _previous_page(kv: KeyValueStore, user_id: UUID, query: Query) -> bytes | None:
    """The user's latest cached page for ``query``, marked stale, without the movies they
    lately rated or listed (as far as the query leaves such movies out)."""
    pointer = await kv.get(latest_page_key(user_id, query))
    body = await kv.get(pointer.decode()) if pointer is not None else None
    if body is None:
        return None
    leave_out = {
        kind
        for kind, wanted in (
            (RATED, query.exclude_rated),
            (WATCHLIST, query.exclude_watchlist),
            (SEEN, query.exclude_seen),
        )
        if wanted
    }
    raw = await kv.get(recent_key(user_id))
    hidden = {
        int(entry[0]) for entry in (orjson.loads(raw) if raw else []) if entry[1] in leave_out
    }
    page = orjson.loads(body)
    kept = [r for r in page["results"] if r["id"] not in hidden]
    page["total_results"] -= len(page["results"]) - len(kept)
    page["total_pages"] = math.ceil(page["total_results"] / page["per_page"])
    page["results"] = kept
    page["stale"] = True
    return orjson.dumps(page)


def _cache_key(
    user_id: UUID,
    generation: bytes | None,
    query: Query,
    rated_at: bytes | None,
    model: bytes | None,
) -> str:
    parts = b"|".join([generation or b"0", rated_at or b"", model or b"", query.key().encode()])
    digest = hashlib.blake2b(parts, digest_size=12).hexdigest()
    return f"{CACHE}:user:{user_id}:{digest}"


async def _learn_model(kv: KeyValueStore, answer: dict[str, Any]) -> bytes | None:
    """The current model version, when no model event was seen since this store was empty (a
    restart of the embedded cache): the ai service's answer names it. Written only if still
    absent, so it never overwrites what a newer model's event wrote meanwhile."""
    if not answer.get("model"):
        return None
    version = str(answer["model"]["version"]).encode()
    await kv.set(MODEL_KEY, version, only_if_absent=True)
    return await kv.get(MODEL_KEY)


def _cacheable(answer: dict[str, Any], *, model: bytes | None, rated_at: bytes | None) -> bool:
    if answer.get("source") != "model" or model is None or not answer.get("model"):
        return False
    if answer["model"]["version"] != model.decode():
        return False
    if rated_at is None:
        return True
    as_of = answer.get("as_of")
    return as_of is not None and datetime.fromisoformat(as_of) >= datetime.fromisoformat(
        rated_at.decode()
    )


async def for_movie(
    *,
    kv: KeyValueStore,
    ai: ServiceClient | None,
    movie_id: int,
    basis: str,
    page: int,
    per_page: int,
    cache_seconds: float,
) -> bytes:
    """A movie's similar movies (``basis="content"``) or recommendations (``"model"``)."""
    model = await kv.get(MODEL_KEY)
    key = f"{CACHE}:movie:{movie_id}:{basis}:{page}:{per_page}:{(model or b'').decode()}"
    if model is not None and cache_seconds > 0:
        cached = await kv.get(key)
        if cached is not None:
            return cached
    count = min(page * per_page, MAX_RESULTS)
    try:
        response = await _ai(ai).get(
            f"/ai/movies/{movie_id}/similar", params={"count": count, "basis": basis}
        )
    except ServiceUnreachable as exc:
        raise ServiceUnavailable("The ai service cannot be reached; try again") from exc
    answer = await _ai_answer(response.status_code, response.json())
    body = orjson.dumps(page_of(answer, page=page, per_page=per_page))
    if model is None:
        model = await _learn_model(kv, answer)
        key = f"{CACHE}:movie:{movie_id}:{basis}:{page}:{per_page}:{(model or b'').decode()}"
    if _cacheable(answer, model=model, rated_at=None) and cache_seconds > 0:
        await kv.set(key, body, ttl_seconds=cache_seconds)
    return body
