"""Admission control: past N requests in flight a process refuses at once, health stays open.

Requests are held inside the app by events the test sets (or by a request body the test has not
sent yet), never by timing: "in flight" is a state the test arranges.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from movieverse.platform.admission import (
    OVERLOADED_TYPE,
    AdmissionControl,
    admission_control,
    admission_metrics,
)
from movieverse.platform.assembly import SharedRuntime, build_service_app
from movieverse.platform.observability import process_registry
from movieverse.platform.settings import PlatformSettings
from tests.platform import toy_service
from tests.platform.toy_service import HeldBody, toy_client, toy_settings

HANG_GUARD_SECONDS = 30


class HeldApp:
    """An app whose requests stay inside until the test lets them go."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered: list[str] = []
        self.came_in = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        self.entered.append(path)
        self.came_in.set()
        if path == "/boom":
            raise RuntimeError("the app failed")
        if path == "/stream":
            await send(_start(200, b"text/event-stream; charset=utf-8"))
            await send({"type": "http.response.body", "body": b": hi\n\n", "more_body": True})
            await self.release.wait()
            await send({"type": "http.response.body", "body": b""})
            return
        if path == "/hold":
            await self.release.wait()
        await send(_start(200, b"application/json"))
        await send({"type": "http.response.body", "body": b"{}"})


def _start(status: int, content_type: bytes) -> Message:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", content_type)],
    }


class Call:
    """One request driven straight through an ASGI app, its messages kept."""

    def __init__(self, app: Any, path: str, headers: list[tuple[bytes, bytes]] | None = None):
        self.sent: list[Message] = []
        self.started = asyncio.Event()
        self.body_read = False
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers or [],
        }
        self.task = asyncio.create_task(app(scope, self._receive, self._send))

    async def _receive(self) -> Message:
        self.body_read = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def _send(self, message: Message) -> None:
        self.sent.append(message)
        if message["type"] == "http.response.start":
            self.started.set()

    async def response_started(self) -> None:
        await asyncio.wait_for(self.started.wait(), HANG_GUARD_SECONDS)

    async def done(self) -> None:
        await asyncio.wait_for(self.task, HANG_GUARD_SECONDS)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.sent[0]["headers"]}

    def json(self) -> Any:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))


async def _entered(app: HeldApp, count: int) -> None:
    """Until ``count`` requests are inside the app (each call's task has run up to its wait)."""

    async def wait() -> None:
        while len(app.entered) < count:
            app.came_in.clear()
            await app.came_in.wait()

    await asyncio.wait_for(wait(), HANG_GUARD_SECONDS)


def _refused(service: str) -> float:
    value = process_registry().get_sample_value(
        "movieverse_http_requests_refused_total", {"service": service}
    )
    return value or 0.0


async def test_past_the_limit_a_request_is_refused_at_once_with_a_problem() -> None:
    inner = HeldApp()
    app = AdmissionControl(inner, service="held-1", limit=2, retry_after_seconds=3)
    held = [Call(app, "/hold"), Call(app, "/hold")]
    await _entered(inner, 2)
    assert app.in_flight == 2

    rid = "req-0123456789abcdef"
    third = Call(app, "/hold", headers=[(b"x-request-id", rid.encode())])
    await third.done()  # it returns although nothing was released

    assert third.status == 503
    assert third.headers["retry-after"] == "3"
    assert third.headers["content-type"] == "application/problem+json"
    assert third.headers["x-request-id"] == rid
    assert third.headers["x-content-type-options"] == "nosniff"
    problem = third.json()
    assert problem["type"] == OVERLOADED_TYPE
    assert problem["status"] == 503
    assert problem["instance"] == "/hold"
    assert "retry in 3 s" in problem["detail"]
    assert not third.body_read  # refused without reading the body
    assert inner.entered == ["/hold", "/hold"]  # the app never saw it
    assert _refused("held-1") == 1

    inner.release.set()
    for call in held:
        await call.done()
        assert call.status == 200
    assert app.in_flight == 0
    after = Call(app, "/hold")
    await after.done()
    assert after.status == 200


async def test_a_malformed_request_id_is_replaced_on_a_refusal() -> None:
    inner = HeldApp()
    app = AdmissionControl(inner, service="held-2", limit=1, retry_after_seconds=1)
    held = Call(app, "/hold")
    await _entered(inner, 1)
    refused = Call(app, "/x", headers=[(b"x-request-id", b"bad id\r\n")])
    await refused.done()
    assert refused.status == 503
    assert refused.headers["x-request-id"] != "bad id\r\n"
    assert len(refused.headers["x-request-id"]) == 32
    inner.release.set()
    await held.done()


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
async def test_health_readiness_and_metrics_pass_a_full_process(path: str) -> None:
    inner = HeldApp()
    app = AdmissionControl(inner, service="held-3", limit=1, retry_after_seconds=1)
    held = Call(app, "/hold")
    await _entered(inner, 1)
    probe = Call(app, path)
    await probe.done()
    assert probe.status == 200
    assert app.in_flight == 1  # and it was not counted
    inner.release.set()
    await held.done()


async def test_an_event_stream_gives_its_slot_back_once_its_headers_are_out() -> None:
    inner = HeldApp()
    app = AdmissionControl(inner, service="held-4", limit=2, retry_after_seconds=1)
    streams_open = admission_metrics().streams_open.labels("held-4")
    streams = [Call(app, "/stream") for _ in range(3)]
    for stream in streams:
        await stream.response_started()
        assert stream.status == 200
    assert app.in_flight == 0
    assert streams_open._value.get() == 3
    # Three open streams, and ordinary requests still get both slots.
    held = [Call(app, "/hold"), Call(app, "/hold")]
    await _entered(inner, 5)
    assert app.in_flight == 2
    inner.release.set()
    for call in (*streams, *held):
        await call.done()
    assert app.in_flight == 0
    assert streams_open._value.get() == 0


async def test_a_failing_request_gives_its_slot_back() -> None:
    inner = HeldApp()
    app = AdmissionControl(inner, service="held-5", limit=1, retry_after_seconds=1)
    failed = Call(app, "/boom")
    with pytest.raises(RuntimeError):
        await failed.done()
    assert app.in_flight == 0
    after = Call(app, "/ok")
    await after.done()
    assert after.status == 200


async def test_lifespan_passes_through() -> None:
    seen: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    app = AdmissionControl(inner, service="held-6", limit=1, retry_after_seconds=1)
    await app({"type": "lifespan"}, _never_receive, _never_send)
    assert seen == ["lifespan"]


def test_a_limit_of_zero_leaves_the_app_as_it_is(tmp_path: Path) -> None:
    inner = HeldApp()
    assert admission_control(inner, _settings(tmp_path, max_in_flight_requests=0), service="x") is (
        inner
    )


async def _never_receive() -> Message:
    raise AssertionError("not expected")


async def _never_send(message: Message) -> None:
    raise AssertionError("not expected")


# A service run on its own (`movieverse serve NAME`) -------------------------------------------


def _settings(tmp_path: Path, **values: object) -> PlatformSettings:
    limits: dict[str, object] = {"max_in_flight_requests": 2, "overload_retry_after_seconds": 2}
    return toy_settings(tmp_path, **{**limits, **values})


@pytest.fixture
async def toy(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with toy_client(_settings(tmp_path), raise_app_exceptions=True) as client:
        yield client


async def test_a_service_on_its_own_refuses_past_its_limit(toy: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/json"}
    bodies = [HeldBody(b'{"text": "held"}') for _ in range(2)]
    held = [
        asyncio.create_task(toy.post("/toy/notes", content=body.chunks(), headers=headers))
        for body in bodies
    ]
    for body in bodies:
        await asyncio.wait_for(body.asked.wait(), HANG_GUARD_SECONDS)
    before = _refused("toy")

    refused = await toy.post("/toy/notes", json={"text": "too many"})
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "2"
    assert refused.json()["type"] == OVERLOADED_TYPE
    assert _refused("toy") == before + 1
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await toy.get(path)).status_code == 200
    assert "movieverse_http_requests_refused_total" in (await toy.get("/metrics")).text

    for body in bodies:
        body.release.set()
    for task in held:
        assert (await asyncio.wait_for(task, HANG_GUARD_SECONDS)).status_code == 201
    assert (await toy.post("/toy/notes", json={"text": "later"})).status_code == 201
    assert (await toy.get("/toy/notes/count")).json() == {"count": 3}


def test_a_service_under_a_shared_runtime_leaves_the_limit_to_its_host(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    alone = build_service_app(toy_service.DEFINITION, settings)
    hosted = build_service_app(toy_service.DEFINITION, settings, shared=SharedRuntime(settings))
    assert "AdmissionControl" in [getattr(m.cls, "__name__", "") for m in alone.user_middleware]
    assert "AdmissionControl" not in [
        getattr(m.cls, "__name__", "") for m in hosted.user_middleware
    ]
