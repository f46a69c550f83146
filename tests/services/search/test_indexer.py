"""The indexer's jobs: reindex through the API while searches go on, from the CLI, and at
start-up when the index is gone; what admins alone may do; the lag metrics."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert
from typer.testing import CliRunner

from movieverse.cli import app as cli
from movieverse.contracts.envelope import new_uuid7
from movieverse.platform.db import utcnow
from movieverse.services.indexer.models import ReindexJob
from tests.services.search.conftest import SearchApp
from tests.services.search.test_search_api import MOVIES, _ids, _searchable
from tests.support import Stack, admin_account, eventually, running_gateway, signed_up


async def _made(app: SearchApp, count: int = 40) -> tuple[dict[str, str], list[int]]:
    gateway, client = app
    admin = await admin_account(gateway, client)
    ids = []
    title = ""
    for i in range(count):
        title = f"{MOVIES[i % len(MOVIES)]['title']} {i}"
        movie = {**MOVIES[i % len(MOVIES)], "title": title}
        response = await client.post("/movies", json=movie, headers=admin.headers)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    await _searchable(client, title, ids[-1])
    return admin.headers, ids


async def _job(client: httpx.AsyncClient, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"/indexer/jobs/{job_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_reindex_swaps_in_a_fresh_index_while_searches_go_on(gateway: SearchApp) -> None:
    _, client = gateway
    headers, _ids_made = await _made(gateway)
    before = (await client.get("/indexer/status", headers=headers)).json()
    failures: list[str] = []
    answered = 0
    stop = asyncio.Event()

    async def search_throughout() -> None:
        nonlocal answered
        while not stop.is_set():
            response = await client.get("/search/movies", params={"q": "heat"})
            suggest = await client.get("/search/suggest", params={"q": "shaws"})
            if response.status_code != 200 or response.json()["total_results"] != 16:
                failures.append(response.text)
            if suggest.status_code != 200 or not suggest.json()["suggestions"]:
                failures.append(suggest.text)
            answered += 1
            # A search answered from the response cache never awaits: without this the loop
            # would spin here and the reindex job would never get a turn.
            await asyncio.sleep(0)

    searching = asyncio.create_task(search_throughout())
    response = await client.post("/indexer/reindex", json={}, headers=headers)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "queued"
    assert job["kinds"] == ["movies", "people", "reviews"]
    assert job["total"] == 40

    async def finished() -> bool:
        status: str = (await _job(client, job["id"], headers))["status"]
        return status == "succeeded"

    await eventually(finished, within=20)
    stop.set()
    await searching
    assert failures == []
    assert answered > 0
    done = await _job(client, job["id"], headers)
    assert done["done"] == 40
    assert done["error"] is None
    assert done["started_at"] is not None
    assert done["finished_at"] is not None
    after = (await client.get("/indexer/status", headers=headers)).json()
    assert after["documents"]["movies"] == 40
    assert after["generations"]["movies"] != before["generations"]["movies"]
    assert after["jobs"][0]["id"] == job["id"]


async def test_reindex_is_for_admins_one_at_a_time(gateway: SearchApp) -> None:
    app, client = gateway
    headers, _ = await _made(gateway, count=2)
    user = await signed_up(client, "nosy")
    assert (await client.post("/indexer/reindex", json={}, headers=user.headers)).status_code == 403
    assert (await client.post("/indexer/reindex", json={})).status_code == 401
    assert (await client.get("/indexer/status", headers=user.headers)).status_code == 403
    bad = await client.post("/indexer/reindex", json={"kinds": ["films"]}, headers=headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    missing = await client.get(f"/indexer/jobs/{new_uuid7()}", headers=headers)
    assert missing.status_code == 404
    # A job another process is running: a second one must wait its turn.
    ctx = app.services["indexer"].state.ctx
    async with ctx.db.unit_of_work() as session:
        await session.execute(
            insert(ReindexJob).values(
                id=new_uuid7(), kinds="movies", status="running", total=0, done=0,
                created_at=utcnow(),
            )
        )  # fmt: skip
    busy = await client.post("/indexer/reindex", json={"kinds": ["movies"]}, headers=headers)
    assert busy.status_code == 409
    assert "running" in busy.json()["detail"]


async def test_a_lost_index_is_rebuilt_at_start_up_and_the_cli_reindexes(
    tmp_path: Path,
) -> None:
    settings = Stack("embedded", database_url=None, redis_url=None).settings(tmp_path / "var")
    async with running_gateway(settings) as (gateway, client):
        _headers, ids = await _made((gateway, client), count=3)
        # While the server holds the index, the CLI says so rather than fight over it.
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["reindex"], env={"MOVIEVERSE_VAR_DIR": str(settings.var_dir)}
        )
        assert result.exit_code == 1
        assert "another process is writing" in result.output
    shutil.rmtree(settings.var_dir / "search")
    async with running_gateway(settings) as (_, client):

        async def back() -> bool:
            return set(await _ids(client, "/search/movies", q="heat")) >= {ids[2]}

        await eventually(back, within=20)
        assert await _ids(client, "/search/movies", q="amelie") == [ids[0]]
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["reindex", "--kind", "movies"],
        env={"MOVIEVERSE_VAR_DIR": str(settings.var_dir), "COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "succeeded: 3 of 3 documents (movies)" in result.output
    unknown = CliRunner().invoke(cli, ["reindex", "--kind", "films"])
    assert unknown.exit_code == 2


async def test_lag_metrics_follow_indexing(gateway: SearchApp) -> None:
    _, client = gateway
    await _made(gateway, count=2)
    metrics = (await client.get("/metrics")).text
    assert 'movieverse_indexer_lag_seconds_count{kind="movies"}' in metrics
    assert 'movieverse_indexer_events_total{kind="movies"}' in metrics
    assert "movieverse_indexer_reindex_backlog_documents" in metrics
