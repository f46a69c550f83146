"""What the request middleware's body check and security headers cost per request, in process.

Drives ``RequestContextMiddleware`` around an ASGI app that reads the body and answers 200, with
no server and no client (so the figures are the middleware's own), for:

* a GET without a body (no body check; the headers only);
* JSON POSTs of about 1 KB and 64 KB of plain text (a byte search, no parse);
* the same with an escaped emoji (``\\ud83c\\udfac``) in every field: the hint matches, so the body
  is parsed and re-encoded to find that every surrogate is paired;

and, alone, ``unstorable_fields`` on those bodies. Prints microseconds per call (median of five
runs)::

    .venv/bin/python bench/request_checks.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from starlette.types import Message, Receive, Scope, Send

from movieverse.platform.observability import RequestContextMiddleware, configure_logging
from movieverse.platform.unstorable import unstorable_fields


async def _reading_app(scope: Scope, receive: Receive, send: Send) -> None:
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def _body(kilobytes: int, text: str) -> bytes:
    fields = {f"field_{i}": text * 4 for i in range(kilobytes * 1024 // (len(text) * 4 + 16))}
    return json.dumps(fields).encode()


async def _per_request(app: RequestContextMiddleware, method: str, body: bytes, n: int) -> float:
    headers = [(b"content-type", b"application/json")] if body else []
    scope: Scope = {"type": "http", "method": method, "path": "/x", "headers": headers}
    request: Message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> Message:
        return request

    async def send(message: Message) -> None:
        return None

    started = time.perf_counter()
    for _ in range(n):
        await app(dict(scope), receive, send)
    return (time.perf_counter() - started) / n * 1e6


def _median(measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    requests = parser.parse_args().requests
    # The access log line goes nowhere: it is the same with or without the checks.
    configure_logging(sink=open(os.devnull, "wb"))  # noqa: SIM115
    app = RequestContextMiddleware(_reading_app, service="bench", max_body_bytes=1 << 20)
    cases = [
        ("GET, no body", "GET", b""),
        ("POST 1 KB plain", "POST", _body(1, "Mann at his best. ")),
        ("POST 64 KB plain", "POST", _body(64, "Mann at his best. ")),
        ("POST 1 KB escaped emoji", "POST", _body(1, "Heat \U0001f3ac ")),
        ("POST 64 KB escaped emoji", "POST", _body(64, "Heat \U0001f3ac ")),
    ]
    print(f"{'case':<26} {'middleware us/req':>18} {'unstorable_fields us':>21}")
    for name, method, body in cases:
        n = requests if len(body) < 4096 else requests // 20
        whole = _median(lambda: asyncio.run(_per_request(app, method, body, n)))  # noqa: B023
        check = _median(lambda: _time_check(body, n))  # noqa: B023
        # The whole middleware is timed with the figure in the second column inside it.
        print(f"{name:<26} {whole:>18.2f} {check:>21.2f}")


def _time_check(body: bytes, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        unstorable_fields(body)
    return (time.perf_counter() - started) / n * 1e6


if __name__ == "__main__":
    main()
