"""Admission control: a process takes at most N requests at a time and refuses the rest at once.

Unbounded queueing turns overload into latency for everyone: each request waits behind all the
others, and clients time out on work the server still does. Past ``limit`` requests in flight,
:class:`AdmissionControl` answers 503 (an RFC 9457 problem with ``Retry-After``) without awaiting
anything but the send and without reading the body, so a refusal costs microseconds and the
requests already admitted keep their latency.

It wraps a process's outermost app once (the gateway of ``movieverse up``, the service app of
``movieverse serve NAME``). In-process service-to-service calls go straight to the service apps,
so they are never counted nor refused: a request admitted can always finish its internal calls.
The event plumbing (outbox relays, consumers) is no HTTP request and never passes through here.

What counts:

* a request holds its slot until the app returns: its body is sent and any background task it
  left has run (work the process still does);
* a Server-Sent Events response gives its slot back once its headers are out: its costly part
  (authentication, the first query) ran under the limit, and the rest is a long, mostly idle
  wait that must not starve the process of request slots. Open streams are counted apart;
* liveness, readiness and metrics (``EXEMPT_PATHS``) are never counted nor refused, so the
  orchestrator and Prometheus still see an overloaded process as alive;
* anything that is not HTTP (lifespan, websockets) passes through.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import orjson
import uuid_utils
from prometheus_client import Counter, Gauge
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from movieverse.platform.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_PREFIX
from movieverse.platform.observability import process_registry, valid_request_id
from movieverse.platform.settings import PlatformSettings

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
EVENT_STREAM = b"text/event-stream"
OVERLOADED_TYPE = f"{PROBLEM_TYPE_PREFIX}overloaded"


@dataclass(frozen=True)
class AdmissionMetrics:
    refused: Counter
    in_flight: Gauge
    streams_open: Gauge


@cache
def admission_metrics() -> AdmissionMetrics:
    registry = process_registry()
    return AdmissionMetrics(
        refused=Counter(
            "movieverse_http_requests_refused",
            "HTTP requests refused with 503 because the process had its limit in flight",
            ["service"],
            registry=registry,
        ),
        in_flight=Gauge(
            "movieverse_http_requests_admitted_in_flight",
            "HTTP requests holding an admission slot (in-process calls are not counted)",
            ["service"],
            registry=registry,
        ),
        streams_open=Gauge(
            "movieverse_http_event_streams_open",
            "Server-Sent Events responses open (they hold no admission slot)",
            ["service"],
            registry=registry,
        ),
    )


class AdmissionControl:
    """Pure-ASGI wrapper: at most ``limit`` requests in flight (0: no limit), 503 past that."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        limit: int,
        retry_after_seconds: int,
        exempt_paths: frozenset[str] = EXEMPT_PATHS,
    ) -> None:
        self.app = app
        self.service = service
        self.limit = limit
        self.exempt_paths = exempt_paths
        self.in_flight = 0
        self._retry_after = str(retry_after_seconds).encode()
        self._detail = (
            f"This server is handling as many requests as it can; retry in {retry_after_seconds} s."
        )
        metrics = admission_metrics()
        self._refused = metrics.refused.labels(service)
        self._in_flight_gauge = metrics.in_flight.labels(service)
        self._streams_gauge = metrics.streams_open.labels(service)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0 or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            self._refused.inc()
            await self._refuse(scope, send)
            return
        await self._admitted(scope, receive, send)

    async def _admitted(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.in_flight += 1
        self._in_flight_gauge.inc()
        holding = True
        streaming = False

        def release() -> None:
            nonlocal holding
            if holding:
                holding = False
                self.in_flight -= 1
                self._in_flight_gauge.dec()

        async def watch(message: Message) -> None:
            nonlocal streaming
            if message["type"] == "http.response.start" and _is_event_stream(message):
                release()
                streaming = True
                self._streams_gauge.inc()
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            release()
            if streaming:
                self._streams_gauge.dec()

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = orjson.dumps(
            {
                "type": OVERLOADED_TYPE,
                "title": "Overloaded",
                "status": 503,
                "detail": self._detail,
                "instance": scope["path"],
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", self._retry_after),
                    (b"cache-control", b"no-store"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-request-id", _request_id(scope).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def admission_control(app: ASGIApp, settings: PlatformSettings, *, service: str) -> ASGIApp:
    """``app`` behind the limit the settings give (returned as is when the limit is 0)."""
    if settings.max_in_flight_requests <= 0:
        return app
    return AdmissionControl(
        app,
        service=service,
        limit=settings.max_in_flight_requests,
        retry_after_seconds=settings.overload_retry_after_seconds,
    )


def _is_event_stream(message: Message) -> bool:
    for name, value in message.get("headers", ()):
        if name.lower() == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == EVENT_STREAM)
    return False


def _request_id(scope: Scope) -> str:
    """The client's well-formed X-Request-ID, else a new one (as every other response has)."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            return valid_request_id(value.decode("latin-1")) or uuid_utils.uuid4().hex
    return uuid_utils.uuid4().hex
