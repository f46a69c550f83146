"""Errors, request ids, logs, metrics, body limits and health, as every service gets them."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, func, select

from movieverse.platform.assembly import add_readiness_probe, build_service_app
from movieverse.platform.observability import configure_logging
from tests.platform import toy_service
from tests.platform.toy_service import toy_client, toy_settings

HANG_GUARD_SECONDS = 30

_settings = toy_settings


@pytest.fixture
async def toy(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with toy_client(_settings(tmp_path)) as client:
        yield client


def _outbox_rows(tmp_path: Path) -> int:
    engine = create_engine(f"sqlite:///{tmp_path / 'toy.db'}")
    table = toy_service.Base.metadata.tables["toy_outbox"]
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(table)).scalar_one()
    engine.dispose()
    return int(count)


async def test_well_formed_request_id_is_kept(toy: httpx.AsyncClient) -> None:
    rid = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = await toy.get("/healthz", headers={"X-Request-ID": rid})
    assert response.headers["x-request-id"] == rid


@pytest.mark.parametrize(
    "bad", ["short", "has spaces in it", "<script>alert(1)</script>", "a" * 200]
)
async def test_malformed_request_id_is_replaced(toy: httpx.AsyncClient, bad: str) -> None:
    response = await toy.get("/healthz", headers={"X-Request-ID": bad})
    assert response.headers["x-request-id"] != bad
    assert len(response.headers["x-request-id"]) == 32


async def test_request_id_is_generated_when_absent(toy: httpx.AsyncClient) -> None:
    first = await toy.get("/healthz")
    second = await toy.get("/healthz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_unknown_path_is_a_404_problem(toy: httpx.AsyncClient) -> None:
    response = await toy.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No resource at /no/such/thing.",
        "instance": "/no/such/thing",
    }


async def test_wrong_method_is_a_405_problem(toy: httpx.AsyncClient) -> None:
    response = await toy.delete("/toy/notes/count")
    assert response.status_code == 405
    assert response.json()["title"] == "Method Not Allowed"
    assert response.headers["allow"] == "GET"


async def test_validation_errors_list_every_field(toy: httpx.AsyncClient) -> None:
    response = await toy.post("/toy/notes", json={"text": "", "count": 10**30, "extra": True})
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "urn:movieverse:problem:validation-error"
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"body.text", "body.count", "body.extra"}
    assert all(e["message"] and e["code"] for e in body["errors"])


@pytest.mark.parametrize("payload", [b"{not json", b'{"text": "x"', b"\xff\xfe", b"[1, 2"])
async def test_malformed_json_is_a_400(toy: httpx.AsyncClient, payload: bytes) -> None:
    response = await toy.post(
        "/toy/notes", content=payload, headers={"content-type": "application/json"}
    )
    assert response.status_code in {400, 422}
    assert response.headers["content-type"] == "application/problem+json"
    assert (await toy.get("/toy/notes/count")).json() == {"count": 0}


async def test_wrong_types_are_422(toy: httpx.AsyncClient) -> None:
    response = await toy.post("/toy/notes", json={"text": ["a"], "count": "many"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"body.text", "body.count"}


async def test_huge_path_number_is_a_client_error(toy: httpx.AsyncClient) -> None:
    response = await toy.get("/toy/items/" + "9" * 5000)
    assert 400 <= response.status_code < 500


async def test_bad_parameters_are_400_naming_them(toy: httpx.AsyncClient) -> None:
    response = await toy.get("/toy/items/not-a-number")
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "urn:movieverse:problem:invalid-parameter"
    assert body["detail"] == "Invalid value for: item_id."
    assert body["errors"][0]["field"] == "path.item_id"


async def test_declared_oversized_body_is_413(toy: httpx.AsyncClient) -> None:
    response = await toy.post(
        "/toy/notes",
        content=b'{"text": "' + b"x" * 4096 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert "x-request-id" in response.headers
    assert (await toy.get("/toy/notes/count")).json() == {"count": 0}


async def test_streamed_oversized_body_is_413(toy: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(8):
            yield b"x" * 1024
        yield b'"}'

    response = await toy.post(
        "/toy/notes", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert (await toy.get("/toy/notes/count")).json() == {"count": 0}


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
async def test_a_body_that_trickles_past_the_deadline_is_408(
    tmp_path: Path, content_type: str
) -> None:
    """A client sending its body byte by byte would hold an admission slot for as long as it
    liked: the whole body must arrive within the deadline."""
    never = asyncio.Event()

    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        await asyncio.wait_for(never.wait(), HANG_GUARD_SECONDS)  # the rest never comes
        yield b'"}'

    settings = toy_settings(tmp_path, request_body_timeout_seconds=0.2)
    async with toy_client(settings) as client:
        response = await asyncio.wait_for(
            client.post("/toy/notes", content=trickle(), headers={"content-type": content_type}),
            HANG_GUARD_SECONDS,
        )
        assert response.status_code == 408
        assert response.headers["content-type"] == "application/problem+json"
        assert "did not arrive within 0.2 s" in response.json()["detail"]
        assert (await client.get("/toy/notes/count")).json() == {"count": 0}
        # A body sent at once is unaffected by so short a deadline, and streams still work.
        assert (await client.post("/toy/notes", json={"text": "quick"})).status_code == 201


async def test_a_refused_write_leaves_no_row_and_no_event(
    toy: httpx.AsyncClient, tmp_path: Path
) -> None:
    response = await toy.post("/toy/notes?fail=conflict", json={"text": "never"})
    assert response.status_code == 409
    assert (await toy.get("/toy/notes/count")).json() == {"count": 0}
    assert _outbox_rows(tmp_path) == 0


async def test_a_crash_is_a_bare_500_and_rolls_back(toy: httpx.AsyncClient, tmp_path: Path) -> None:
    response = await toy.post("/toy/notes?fail=crash", json={"text": "never"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Internal Server Error"
    assert "SELECT" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    assert response.headers["x-request-id"]
    assert (await toy.get("/toy/notes/count")).json() == {"count": 0}
    assert _outbox_rows(tmp_path) == 0


async def test_a_committed_write_has_its_event(toy: httpx.AsyncClient, tmp_path: Path) -> None:
    response = await toy.post("/toy/notes", json={"text": "kept"})
    assert response.status_code == 201
    assert (await toy.get("/toy/notes/count")).json() == {"count": 1}
    assert _outbox_rows(tmp_path) == 1


async def test_metrics_use_route_templates_not_raw_paths(toy: httpx.AsyncClient) -> None:
    for item in (12345, 67890):
        await toy.get(f"/toy/items/{item}")
    await toy.get("/definitely/unknown/path-xyz")
    metrics = (await toy.get("/metrics")).text
    # Label values, not the whole text: a sample's value (a _created timestamp) may hold any digits.
    labels = {
        value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        for value in sample.labels.values()
    }
    assert "/toy/items/{item_id}" in labels
    assert "<unmatched>" in labels
    assert not [value for value in labels if "12345" in value or "67890" in value]
    assert not [value for value in labels if "path-xyz" in value]
    assert "path-xyz" not in metrics
    assert "movieverse_http_request_duration_seconds_bucket" in metrics


async def test_healthz_and_readyz(toy: httpx.AsyncClient) -> None:
    assert (await toy.get("/healthz")).json() == {"status": "ok", "service": "toy"}
    ready = await toy.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] is True
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["database"]["version"].startswith("SQLite")


async def test_readyz_is_503_with_details_when_the_database_is_down(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, database_url="postgresql://nobody@127.0.0.1:9/nothing", outbox_poll_seconds=30
    )
    app = build_service_app(toy_service.DEFINITION, settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://toy.test") as client:
            response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["error"]
    assert body["checks"]["key_value"]["ok"] is True
    assert "nobody" in body["checks"]["database"]["url"]


async def test_readyz_checks_a_service_s_own_stores(tmp_path: Path) -> None:
    """A store a service adds (metadata's documents) is probed like the platform's own."""
    settings = _settings(tmp_path / "probe")
    app = build_service_app(toy_service.DEFINITION, settings)

    async def unreachable() -> str:
        raise ConnectionRefusedError("documents store down")

    async def reachable() -> str:
        return "fine 1.0"

    async with app.router.lifespan_context(app):
        add_readiness_probe(app.state.ctx, "documents", reachable)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://toy.test") as client:
            up = await client.get("/readyz")
            add_readiness_probe(app.state.ctx, "documents", unreachable)
            down = await client.get("/readyz")
    assert up.status_code == 200
    assert up.json()["checks"]["documents"] == {"ok": True, "version": "fine 1.0"}
    assert down.status_code == 503
    assert down.json()["checks"]["documents"] == {"ok": False, "error": "ConnectionRefusedError"}
    assert down.json()["checks"]["database"]["ok"] is True


@pytest.fixture
def json_logs() -> Iterator[io.BytesIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.BytesIO()
    configure_logging(level="INFO", fmt="json", sink=buffer)
    yield buffer
    root.handlers[:], level = saved
    root.setLevel(level)
    structlog.reset_defaults()


async def test_logs_are_json_and_carry_the_request_id(
    toy: httpx.AsyncClient, json_logs: io.BytesIO
) -> None:
    rid = "trace-0123456789abcdef"
    await toy.get("/toy/items/5", headers={"X-Request-ID": rid})
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line]
    access = [line for line in lines if line.get("event") == "request"]
    assert access, lines
    entry = access[-1]
    assert entry["request_id"] == rid
    assert entry["route"] == "/toy/items/{item_id}"
    assert entry["status"] == 200
    assert entry["level"] == "info"


async def test_stdlib_logs_share_the_json_stream(json_logs: io.BytesIO) -> None:
    logging.getLogger("uvicorn.error").info("server says hello")
    structlog.get_logger("movieverse.test").warning("native line", answer=42)
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line]
    assert {"event": "server says hello", "logger": "uvicorn.error", "level": "info"}.items() <= (
        lines[0].items()
    )
    assert lines[1]["answer"] == 42
    assert lines[1]["logger"] == "movieverse.test"
    assert lines[1]["level"] == "warning"
