"""Keywords and movie analysis documents."""

from __future__ import annotations

from typing import Any

import pytest

from tests.services.metadata.conftest import MetadataApp
from tests.support import Account


async def test_keywords(metadata: MetadataApp, admin: Account) -> None:
    _, client = metadata
    created = await client.put(
        "/metadata/keywords/9715", json={"name": "superhero"}, headers=admin.headers
    )
    assert created.status_code == 201
    assert created.json() == {"id": 9715, "name": "superhero"}
    fetched = await client.get("/metadata/keywords/9715")
    assert fetched.json() == {"id": 9715, "name": "superhero"}
    etag = fetched.headers["etag"]
    cached = await client.get("/metadata/keywords/9715", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    renamed = await client.put(
        "/metadata/keywords/9715", json={"name": "super hero"}, headers=admin.headers
    )
    assert renamed.status_code == 200
    fresh = await client.get("/metadata/keywords/9715", headers={"If-None-Match": etag})
    assert fresh.json()["name"] == "super hero"
    for body, field in (
        ({"name": ""}, "body.name"),
        ({"name": "x" * 201}, "body.name"),
        ({}, "body.name"),
        ({"name": "ok", "id": 3}, "body.id"),
    ):
        response = await client.put("/metadata/keywords/9715", json=body, headers=admin.headers)
        assert response.status_code == 422, body
        assert field in [e["field"] for e in response.json()["errors"]]
    assert (await client.get("/metadata/keywords/1")).status_code == 404
    assert (await client.get("/metadata/keywords/-1")).status_code == 400


ANALYSIS: dict[str, Any] = {
    "sentiment": {"positive": 0.81, "negative": 0.07, "reviews": 1342},
    "summary": "Audiences love the score; some find the middle act slow.",
    "tags": ["bittersweet", "coming-of-age", "ünïcode ✓"],
    "_id": "kept as data: the analysis is stored under its own key",
    "model": {"name": "sentiment-v1.2", "nested": [[1, 2], {"deep": None}]},
}


async def test_analysis_round_trips(metadata: MetadataApp, admin: Account) -> None:
    _, client = metadata
    created = await client.put("/metadata/movies/13/analysis", json=ANALYSIS, headers=admin.headers)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == 13
    assert created.json()["analysis"] == ANALYSIS
    fetched = await client.get("/metadata/movies/13/analysis")
    assert fetched.json() == created.json()
    etag = fetched.headers["etag"]
    cached = await client.get("/metadata/movies/13/analysis", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    replaced = await client.put(
        "/metadata/movies/13/analysis", json={"tags": []}, headers=admin.headers
    )
    assert replaced.status_code == 200
    assert (await client.get("/metadata/movies/13/analysis")).json()["analysis"] == {"tags": []}
    missing = await client.get("/metadata/movies/14/analysis")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No analysis for movie 14"


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"d": value}
    return value


@pytest.mark.parametrize(
    "body",
    [
        ["not", "an", "object"],
        "a string",
        42,
        None,
        {"text": "x" * (64 * 1024)},
        {"$where": "sleep(1000)"},
        {"nested": {"$set": 1}},
        {"nul": "a\x00b"},
        {"key\x00": 1},
        # Python's json (which FastAPI parses with) accepts these tokens; JSON does not.
        b'{"score": NaN}',
        b'{"score": -Infinity}',
        {"huge": 2**64},
        _nested(33),
    ],
    ids=[
        "list", "string", "number", "null", "too-big", "operator-key", "nested-operator-key",
        "nul-value", "nul-key", "nan", "infinity", "huge-int", "too-deep",
    ],
)  # fmt: skip
async def test_analysis_must_be_a_storable_object(
    metadata: MetadataApp, admin: Account, body: Any
) -> None:
    _, client = metadata
    if isinstance(body, bytes):
        headers = {**admin.headers, "Content-Type": "application/json"}
        response = await client.put("/metadata/movies/13/analysis", content=body, headers=headers)
    else:
        response = await client.put(
            "/metadata/movies/13/analysis", json=body, headers=admin.headers
        )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"].startswith("body")
    assert (await client.get("/metadata/movies/13/analysis")).status_code == 404


async def test_analysis_limits_are_inclusive(metadata: MetadataApp, admin: Account) -> None:
    _, client = metadata
    at_limit = {"text": "x" * (64 * 1024 - len('{"text":""}'))}
    ok = await client.put("/metadata/movies/13/analysis", json=at_limit, headers=admin.headers)
    assert ok.status_code == 201, ok.text
    deep = await client.put("/metadata/movies/14/analysis", json=_nested(32), headers=admin.headers)
    assert deep.status_code == 201, deep.text
