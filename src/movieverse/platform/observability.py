"""Logging, metrics and request ids.

One pure-ASGI middleware (:class:`RequestContextMiddleware`) does the per-request plumbing for a
service: it keeps a well-formed ``X-Request-ID`` or makes one, binds it to every log line, enforces
the body limit (413), refuses JSON text no store can hold (422, platform/unstorable.py), sets the
security headers of every answer (platform/headers.py), records per-route metrics under the route
*template*, writes one access log line, and turns an unhandled exception into a 500 problem that
still carries the request id.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import sys
import time
from collections import deque
from dataclasses import dataclass
from functools import cache
from typing import Any, BinaryIO

import orjson
import structlog
import uuid_utils
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from movieverse.platform.errors import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_PREFIX,
    FieldError,
    Problem,
)
from movieverse.platform.headers import response_headers
from movieverse.platform.unstorable import is_json_media_type, unstorable_fields

REQUEST_ID_HEADER = "x-request-id"
# Accept ids a proxy or client may reasonably send (UUIDs, trace ids); anything else is replaced
# so log injection and unbounded label growth are impossible.
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")
UNMATCHED_ROUTE = "<unmatched>"
UNEXPECTED_ERROR_DETAIL = (
    "An unexpected error occurred. Quote the X-Request-ID header when reporting it."
)


class _SinkLogger:
    """Writes rendered lines straight to a binary stream.

    structlog's own loggers skip the stdlib logging machinery, which costs several times more per
    line -- and every request writes an access line. ``name`` feeds ``add_logger_name``.
    """

    def __init__(self, name: str, sink: BinaryIO) -> None:
        self.name = name
        self._sink = sink

    def msg(self, message: str | bytes) -> None:
        data = message if isinstance(message, bytes) else message.encode()
        self._sink.write(data + b"\n")
        self._sink.flush()

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


class _TextToBinary(io.TextIOBase):
    """Lets the stdlib handler (uvicorn, alembic, SQLAlchemy logs) share the binary sink."""

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink

    def write(self, text: str) -> int:
        self._sink.write(text.encode())
        return len(text)

    def flush(self) -> None:
        self._sink.flush()


def _orjson_dumps(value: Any, **_: Any) -> bytes:
    return orjson.dumps(value, default=str)


def configure_logging(
    *, level: str = "INFO", fmt: str = "json", sink: BinaryIO | None = None
) -> None:
    """Structured logs, one JSON object per line on stdout (or ``sink``).

    Our own loggers are structlog-native; stdlib loggers (uvicorn, alembic) are rendered by the
    same processors into the same stream.
    """
    out = sink if sink is not None else sys.stdout.buffer
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_orjson_dumps)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    numeric_level = logging.getLevelNamesMapping()[level]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        logger_factory=lambda *args: _SinkLogger(str(args[0]) if args else "movieverse", out),
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        cache_logger_on_first_use=True,
    )
    stdlib_renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            stdlib_renderer,
        ],
    )
    handler = logging.StreamHandler(_TextToBinary(out))
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Our middleware writes the access log, with route templates and request ids.
    logging.getLogger("uvicorn.access").disabled = True


@dataclass(frozen=True)
class HttpMetrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    in_flight: Gauge


@cache
def process_registry() -> CollectorRegistry:
    """One registry per process, shared by every service mounted in it (made on first use)."""
    return CollectorRegistry(auto_describe=True)


@cache
def http_metrics() -> HttpMetrics:
    registry = process_registry()
    return HttpMetrics(
        registry=registry,
        requests=Counter(
            "movieverse_http_requests",
            "HTTP requests handled, by service, method, route template and status",
            ["service", "method", "route", "status"],
            registry=registry,
        ),
        latency=Histogram(
            "movieverse_http_request_duration_seconds",
            "HTTP request latency by service, method and route template",
            ["service", "method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        ),
        in_flight=Gauge(
            "movieverse_http_requests_in_flight",
            "HTTP requests being handled",
            ["service"],
            registry=registry,
        ),
    )


def valid_request_id(value: str | None) -> str | None:
    if value and _REQUEST_ID_RE.fullmatch(value):
        return value
    return None


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/users/{username}``), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    app = scope.get("app")
    router = getattr(app, "router", None)
    for candidate in getattr(router, "routes", ()):
        match, _ = candidate.matches(scope)
        if match is Match.FULL:
            return str(getattr(candidate, "path", UNMATCHED_ROUTE))
    return UNMATCHED_ROUTE


class BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` once a streamed body passes the limit.

    An HTTPException so that framework body parsing re-raises it as a 413 instead of wrapping it
    in a generic 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body exceeds the limit of {limit} bytes.")


class BodyTimeout(StarletteHTTPException):
    """Raised from ``receive`` when the body has not arrived whole within the deadline."""

    def __init__(self, seconds: float) -> None:
        super().__init__(408, _body_timeout_detail(seconds))


def _body_timeout_detail(seconds: float) -> str:
    return f"The request body did not arrive within {seconds:g} s."


class LimitedBody:
    """The app's ``receive``: the body may be at most ``max_bytes`` and must arrive whole within
    ``timeout_seconds`` of its first read. Once it has, reads (a streaming answer waiting for
    the disconnect) pass through with no deadline."""

    def __init__(self, receive: Receive, *, max_bytes: int, timeout_seconds: float) -> None:
        self._receive = receive
        self._max_bytes = max_bytes
        self._timeout = timeout_seconds
        self._received = 0
        self._deadline: float | None = None
        self._complete = False

    async def __call__(self) -> Message:
        if self._complete:
            return await self._receive()
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + self._timeout
        try:
            async with asyncio.timeout(max(self._deadline - now, 0)):
                message = await self._receive()
        except TimeoutError:
            raise BodyTimeout(self._timeout) from None
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._max_bytes:
                raise BodyTooLarge(self._max_bytes)
            self._complete = not message.get("more_body", False)
        else:
            self._complete = True
        return message


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        max_body_bytes: int,
        body_timeout_seconds: float = 30.0,
    ) -> None:
        self.app = app
        self.service = service
        self.max_body_bytes = max_body_bytes
        self.body_timeout_seconds = body_timeout_seconds
        self.log = structlog.get_logger("movieverse.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = _bind_request_id(scope, headers)
        in_flight = http_metrics().in_flight.labels(self.service)
        started = time.perf_counter()
        status = 500
        response_started = False

        declared = headers.get(b"content-length")
        if declared is not None and _too_large(declared, self.max_body_bytes):
            status = 413
            await self._send_problem(send, scope, request_id, 413, self._too_large_detail())
            self._finish(scope, status, started)
            return

        limited_receive = LimitedBody(
            receive, max_bytes=self.max_body_bytes, timeout_seconds=self.body_timeout_seconds
        )

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
                message = dict(message)
                message["headers"] = response_headers(
                    message.get("headers", []), request_id=request_id.encode()
                )
            await send(message)

        in_flight.inc()
        try:
            # A refusal goes out through send_with_id, which records its status.
            app_receive = await self._checked_body(
                send_with_id, scope, request_id, limited_receive, headers.get(b"content-type")
            )
            if app_receive is not None:
                await self.app(scope, app_receive, send_with_id)
        except BodyTooLarge:
            status = 413
            if not response_started:
                await self._send_problem(send, scope, request_id, 413, self._too_large_detail())
        except BodyTimeout:
            status = 408
            if not response_started:
                detail = _body_timeout_detail(self.body_timeout_seconds)
                await self._send_problem(send, scope, request_id, 408, detail)
        except Exception:
            status = 500
            self.log.exception("unhandled_error", path=scope.get("path"))
            if not response_started:
                await self._send_problem(
                    send,
                    scope,
                    request_id,
                    500,
                    UNEXPECTED_ERROR_DETAIL,
                )
        finally:
            in_flight.dec()
            self._finish(scope, status, started)
            structlog.contextvars.unbind_contextvars("request_id")

    async def _checked_body(
        self,
        send: Send,
        scope: Scope,
        request_id: str,
        receive: Receive,
        content_type: bytes | None,
    ) -> Receive | None:
        """The receive the service gets, or None once the body has been refused (422).

        A JSON body is read whole before the service starts (it would read it all before parsing
        anyway), so text no store can hold is refused before anything runs or is written.
        """
        if content_type is None or not is_json_media_type(content_type):
            return receive
        messages = await _whole_body(receive)
        unstorable = unstorable_fields(b"".join(m.get("body", b"") for m in messages))
        if not unstorable:
            return _replaying(messages, receive)
        await self._send_problem(
            send,
            scope,
            request_id,
            422,
            f"{len(unstorable)} field(s) hold text that cannot be stored.",
            type_=PROBLEM_TYPE_PREFIX + "validation-error",
            title="Invalid input",
            errors=unstorable,
            keep_alive=True,
        )
        return None

    def _too_large_detail(self) -> str:
        return f"The request body exceeds the limit of {self.max_body_bytes} bytes."

    def _finish(self, scope: Scope, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        route = route_template(scope)
        method = scope.get("method", "GET")
        metrics = http_metrics()
        metrics.requests.labels(self.service, method, route, str(status)).inc()
        metrics.latency.labels(self.service, method, route).observe(elapsed)
        self.log.info(
            "request",
            service=self.service,
            method=method,
            route=route,
            status=status,
            duration_ms=round(elapsed * 1000, 2),
        )

    async def _send_problem(
        self,
        send: Send,
        scope: Scope,
        request_id: str,
        status: int,
        detail: str,
        *,
        type_: str = "about:blank",
        title: str | None = None,
        errors: list[FieldError] | None = None,
        keep_alive: bool = False,
    ) -> None:
        """``keep_alive``: the body was read whole, so the connection can serve another request
        (after a 413 or a crash, what is left of the body is unknown)."""
        from http import HTTPStatus

        body = (
            Problem(
                type=type_,
                title=title or HTTPStatus(status).phrase,
                status=status,
                detail=detail,
                instance=scope.get("path"),
                errors=errors,
            )
            .model_dump_json(exclude_none=True)
            .encode()
        )
        headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        if not keep_alive:
            headers.append((b"connection", b"close"))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": response_headers(headers, request_id=request_id.encode()),
            }
        )
        await send({"type": "http.response.body", "body": body})


def _bind_request_id(scope: Scope, headers: dict[bytes, bytes]) -> str:
    """The client's well-formed request id or a new one, on the scope and every log line."""
    incoming = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
    request_id = valid_request_id(incoming) or uuid_utils.uuid4().hex
    scope.setdefault("state", {})["request_id"] = request_id
    structlog.contextvars.bind_contextvars(request_id=request_id)
    return request_id


async def _whole_body(receive: Receive) -> list[Message]:
    """Every message up to the body's last (or a disconnect), through the size-limited receive."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A receive that hands out the messages already read, then the connection's own (a
    streaming answer still learns of a disconnect)."""
    pending = deque(messages)

    async def replay() -> Message:
        if pending:
            return pending.popleft()
        return await receive()

    return replay


def _too_large(declared: bytes, limit: int) -> bool:
    try:
        return int(declared) > limit
    except ValueError:
        return True
