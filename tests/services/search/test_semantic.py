"""Semantic search through the gateway with the real all-MiniLM-L6-v2 model (the `semantic`
extra, which `make test` installs): overviews written the way TMDB writes them, queries that
share no word with the movie they mean."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx

from movieverse.platform.search.embeddings import semantic_installed
from tests.services.search.conftest import SearchApp
from tests.support import Stack, admin_account, eventually, running_gateway


def test_make_test_installs_the_semantic_extra() -> None:
    # The dev install carries it (Makefile): without it these tests must fail, not skip.
    assert semantic_installed()


MOVIES: list[dict[str, Any]] = [
    {"title": "Inception", "release_date": "2010-07-15", "genre_ids": [28, 878],
     "popularity": 160.0, "keywords": ["dream", "heist", "subconscious"],
     "overview": "Cobb, a skilled thief who commits corporate espionage by infiltrating the "
     "subconscious of his targets, is offered a chance to regain his old life as payment "
     "for a task considered to be impossible: planting an idea in a mind."},
    {"title": "Finding Nemo", "release_date": "2003-05-30", "genre_ids": [16, 10751],
     "popularity": 85.0, "overview": "A timid clownfish sets out on a journey across the ocean "
     "to bring his son home after the boy is captured by a diver."},
    {"title": "Heat", "release_date": "1995-12-15", "genre_ids": [28, 80], "popularity": 30.0,
     "keywords": ["bank robbery", "detective"],
     "overview": "Obsessive master thief Neil McCauley leads a top-notch crew on various daring "
     "heists throughout Los Angeles while a detective tracks his every move."},
    {"title": "Amélie", "release_date": "2001-04-25", "genre_ids": [35, 10749],
     "popularity": 40.0, "overview": "A shy waitress in Paris decides to change the lives of "
     "those around her for the better, while struggling with her own isolation."},
    {"title": "Apollo 13", "release_date": "1995-06-30", "genre_ids": [18], "popularity": 35.0,
     "overview": "The true story of the moon-bound mission that faced disaster when an oxygen "
     "tank exploded, and the crew's fight to return safely to Earth."},
]  # fmt: skip


async def _catalog(app: SearchApp) -> dict[str, int]:
    """The movies, their keywords named through metadata (the vocabulary's owner) first."""
    gateway, client = app
    admin = await admin_account(gateway, client)
    names = sorted({k for movie in MOVIES for k in movie.get("keywords", [])})
    keyword_ids = {name: 900 + i for i, name in enumerate(names)}
    for name, keyword_id in keyword_ids.items():
        response = await client.put(
            f"/metadata/keywords/{keyword_id}", json={"name": name}, headers=admin.headers
        )
        assert response.status_code in {200, 201}, response.text
    ids = {}
    for movie in MOVIES:
        body = {k: v for k, v in movie.items() if k != "keywords"}
        body["keyword_ids"] = [keyword_ids[k] for k in movie.get("keywords", [])]

        async def created(body: dict[str, Any] = body) -> bool:
            response = await client.post("/movies", json=body, headers=admin.headers)
            if response.status_code == 201:
                ids[body["title"]] = response.json()["id"]
            return response.status_code == 201  # 4xx until movies has heard of the keywords

        await eventually(created, within=10)

    async def embedded() -> bool:
        response = await client.get("/search/semantic", params={"q": "ocean fish"})
        return response.status_code == 200 and response.json()["total_results"] == len(MOVIES)

    await eventually(embedded, within=60)  # the first batch also loads the model
    return ids


async def _titles(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/search/semantic", params=params)
    assert response.status_code == 200, response.text
    return [r["title"] for r in response.json()["results"]]


async def test_meaning_finds_what_words_do_not(gateway: SearchApp) -> None:
    await _catalog(gateway)
    _, client = gateway
    assert (await _titles(client, q="a heist inside dreams"))[0] == "Inception"
    assert (await _titles(client, q="fish lost at sea"))[0] == "Finding Nemo"
    assert (await _titles(client, q="astronauts in trouble in space"))[0] == "Apollo 13"
    assert (await _titles(client, q="a lonely girl in france helps strangers"))[0] == "Amélie"
    # Filters apply as in text search.
    assert (
        await _titles(client, q="a heist inside dreams", **{"year.lte": 2000})
        == ["Heat", "Apollo 13", "Finding Nemo"]
        or (await _titles(client, q="a heist inside dreams", **{"year.lte": 2000}))[0] == "Heat"
    )
    body = (await client.get("/search/semantic", params={"q": "dream heist"})).json()
    assert body["mode"] == "semantic"
    assert body["results"][0]["score"] > body["results"][1]["score"]


async def test_hybrid_fuses_the_text_and_meaning_rankings(gateway: SearchApp) -> None:
    await _catalog(gateway)
    _, client = gateway
    # "thief" is a word of two overviews; the meaning of the rest picks Inception.
    hybrid = await _titles(client, q="thief who enters dreams", mode="hybrid")
    assert hybrid[0] == "Inception"
    assert "Heat" in hybrid[:2]
    body = (
        await client.get("/search/semantic", params={"q": "thief dreams", "mode": "hybrid"})
    ).json()
    assert body["mode"] == "hybrid"
    bad = await client.get("/search/semantic", params={"q": "x", "mode": "telepathy"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "query.mode"


async def test_without_semantic_search_it_answers_501(tmp_path: Path) -> None:
    settings = Stack("embedded", database_url=None, redis_url=None).settings(
        tmp_path / "var", semantic_search=False
    )
    async with running_gateway(settings) as (_, client):
        response = await client.get("/search/semantic", params={"q": "a heist inside dreams"})
    assert response.status_code == 501
    assert response.headers["content-type"] == "application/problem+json"
    assert "pip install 'movieverse[semantic]'" in response.json()["detail"]


async def test_switching_semantic_search_off_keeps_the_vectors_made(tmp_path: Path) -> None:
    stack = Stack("embedded", database_url=None, redis_url=None)
    var = tmp_path / "var"
    async with running_gateway(stack.settings(var, semantic_search=True)) as app:
        ids = await _catalog(app)
    async with running_gateway(stack.settings(var, semantic_search=False)) as (gateway, client):
        admin = await admin_account(gateway, client, "second_admin")
        # A change that leaves the text alone, made while the model is off.
        response = await client.patch(
            f"/movies/{ids['Heat']}", json={"popularity": 99.0}, headers=admin.headers
        )
        assert response.status_code == 200, response.text

        async def reindexed() -> bool:
            found = await client.get("/search/movies", params={"q": "heat"})
            popularity: float = found.json()["results"][0]["popularity"]
            return popularity == 99.0

        await eventually(reindexed, within=10)
    with sqlite3.connect(var / "indexer.db") as conn:
        missing = conn.execute(
            "select count(*) from indexer_documents where kind = 'movies' and vector is null"
        ).fetchone()[0]
    assert missing == 0
