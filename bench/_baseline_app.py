"""The baseline for bench/users_me.py: a bare Starlette JSON endpoint.

Served exactly as ``movieverse up`` serves the real app (uvicorn, uvloop + httptools, one worker,
no access log, no server header), so the ratio measures the app, not the server::

    .venv/bin/python bench/_baseline_app.py --port 8765
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(_: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello, World!"})


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/", hello), Route("/healthz", healthz)])


def main() -> None:
    parser = argparse.ArgumentParser(description="Bare Starlette JSON endpoint on uvicorn")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The same options as movieverse.cli.servers.serve_app.
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
        server_header=False,
    )


if __name__ == "__main__":
    main()
