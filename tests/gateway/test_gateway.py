"""The all-in-one gateway: route table, merged docs, whole-process health and metrics."""

from __future__ import annotations

import re

import httpx
import pytest

from movieverse.gateway.app import SERVICE_FACTORIES, Gateway
from movieverse.gateway.routes import RouteTable
from tests.support import signed_up


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/auth/login", "auth"),
        ("/users/me", "users"),
        ("/users/someone", "users"),
        ("/users/me/ratings", "reviews"),
        ("/users/someone/reviews", "reviews"),
        ("/users/me/watchlist", "users"),
        ("/movies/603", "movies"),
        ("/movies/603/rating", "reviews"),
        ("/movies/603/reviews", "reviews"),
        ("/movies/603/similar", "recommendations"),
        ("/movies/603/recommendations", "recommendations"),
        ("/discover/movies", "movies"),
        ("/trending/movies/day", "movies"),
        ("/find/tt0133093", "movies"),
        ("/genres", "metadata"),
        ("/people/287", "metadata"),
        ("/search/movies", "search"),
        ("/notifications/stream", "notifications"),
        ("/admin", "bff"),
        ("/authx", None),
        ("/", None),
        ("/healthz", None),
    ],
)
def test_route_table_sends_paths_to_their_service(path: str, service: str | None) -> None:
    assert RouteTable().service_for(path) == service


async def test_services_not_built_yet_answer_404_problem(
    gateway_client: httpx.AsyncClient,
) -> None:
    response = await gateway_client.get("/crawler/jobs")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"]


async def test_docs_and_merged_openapi(gateway_client: httpx.AsyncClient) -> None:
    docs = await gateway_client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    # Every asset the page loads is served by the app itself: no CDN, works offline.
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets
    for url in assets:
        assert url.startswith("/docs/assets/"), url
        asset = await gateway_client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 500
    script = await gateway_client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith("application/javascript")
    assert (await gateway_client.get("/docs/assets/secrets.txt")).status_code == 404
    spec = (await gateway_client.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/auth/register",
        "/auth/login",
        "/auth/refresh",
        "/users/me",
        "/users/{username}",
    ):
        assert path in paths, path
    assert "/healthz" not in paths
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert paths["/users/me"]["get"]["security"] == [{"bearer": []}]
    assert paths["/users/me/{list_kind}/{movie_id}"]["put"]["security"] == [{"bearer": []}]
    assert paths["/auth/logout"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in paths["/auth/login"]["post"]
    schemas = spec["components"]["schemas"]
    assert "TokenPair" in schemas
    assert "ProfileRead" in schemas
    # Every reference resolves within the merged document.
    text = str(spec)
    for ref in set(re.findall(r"#/components/schemas/([A-Za-z0-9_.\-]+)", text)):
        assert ref in schemas, ref


async def test_readyz_reports_every_service(gateway_client: httpx.AsyncClient) -> None:
    response = await gateway_client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True
    assert set(body["services"]) == set(SERVICE_FACTORIES)
    assert all(s["checks"]["database"]["ok"] for s in body["services"].values())
    # metadata's document store is checked too (JSON columns in its database here).
    documents = body["services"]["metadata"]["checks"]["documents"]
    assert documents["ok"] is True
    assert documents["version"]
    assert (await gateway_client.get("/healthz")).json() == {"status": "ok"}


async def test_metrics_cover_every_service(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    _, client = gateway
    account = await signed_up(client, "metric_maker")
    await client.get("/users/me", headers=account.headers)
    await client.get(f"/users/{account.username}")
    text = (await client.get("/metrics")).text
    assert 'service="auth"' in text
    assert 'route="/auth/login"' in text
    assert 'route="/users/{username}"' in text
    assert "metric_maker" not in text
    assert "movieverse_outbox_published" in text


async def test_service_health_is_served_by_each_service_alone(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gw, _ = gateway
    users = gw.services["users"]
    transport = httpx.ASGITransport(app=users)
    async with httpx.AsyncClient(transport=transport, base_url="http://users.test") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok", "service": "users"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["service"] == "users"
