"""The floor for bench/cpu_per_request.py: a bare FastAPI route answering a small JSON object.

Served by the very function ``movieverse up`` serves with
(``movieverse.cli.servers.serve_app``: uvicorn, uvloop + httptools, one worker, no access log,
no server header, the heap frozen after start-up),
so what the real routes cost beyond it is the app's, not the server's::

    .venv/bin/python bench/_baseline_fastapi_app.py --port 8765

It reads the MOVIEVERSE_* environment as the real server does (only for the server's settings).
"""

from __future__ import annotations

import argparse

from fastapi import FastAPI

from movieverse.cli.servers import serve_app
from movieverse.platform.settings import PlatformSettings

app = FastAPI()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    parser = argparse.ArgumentParser(description="Bare FastAPI JSON route, served as movieverse up")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve_app(app, host="127.0.0.1", port=args.port, settings=PlatformSettings())


if __name__ == "__main__":
    main()
