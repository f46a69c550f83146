"""`movieverse demo-data`: an empty catalog gets demo data from the first source that works."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from movieverse.cli import app
from tests.datasets.conftest import require_dataset
from tests.datasets.test_download import DATASET_FILES, ArchiveServer, Route, zip_bytes

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in (
        "MOVIEVERSE_DATABASE_URL",
        "MOVIEVERSE_MOVIES_DATABASE_URL",
        "MOVIEVERSE_METADATA_DATABASE_URL",
        "MOVIEVERSE_MOVIELENS_DIR",
        "MOVIEVERSE_DATASETS_DIR",
        "MOVIEVERSE_ENVIRONMENT",
    ):
        monkeypatch.delenv(name, raising=False)
    return {
        "MOVIEVERSE_VAR_DIR": str(tmp_path / "var"),
        # Tests never reach for the Internet: the download path is tested against a local server.
        "MOVIEVERSE_DEMO_DOWNLOAD": "false",
        # These tests are about where the data comes from; delivering the tens of thousands of
        # events it stages is tested on a small import (tests/ingest/test_settle.py).
        "MOVIEVERSE_DEMO_SETTLE": "false",
        "COLUMNS": "200",
    }


def _demo(env: dict[str, str]) -> str:
    result = runner.invoke(app, ["demo-data"], env=env)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def _count(database: Path, query: str) -> int:
    with sqlite3.connect(database) as conn:
        value: int = conn.execute(query).fetchone()[0]
        return value


def test_offline_first_run_gets_the_synthetic_catalog_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    output = _demo(env)
    assert "demo data: synthetic -- 2500 movies" in output
    assert "download: off" in output
    var = tmp_path / "var"
    assert _count(var / "movies.db", "select count(*) from movies_movies") == 2500
    assert (
        _count(
            var / "metadata.db",
            "select count(*) from metadata_documents where collection = 'credits'",
        )
        == 2500
    )
    assert (var / "datasets" / "movieverse-synthetic" / "movielens" / "ratings.csv").is_file()
    # The demo's ratings are MovieVerse ratings by imported users: the scores come from them.
    assert _count(var / "reviews.db", "select count(*) from reviews_ratings") == 40_237
    assert _count(var / "reviews.db", "select count(distinct user_id) from reviews_ratings") == 610
    events = _count(var / "movies.db", "select count(*) from movies_outbox")

    again = _demo(env)
    assert "demo data: existing -- the catalog already has 2500 movies" in again
    assert _count(var / "movies.db", "select count(*) from movies_outbox") == events


def test_movielens_from_the_configured_folder_comes_first(
    env: dict[str, str], tmp_path: Path
) -> None:
    folder = require_dataset("ml-latest-small", "movies.csv")
    output = _demo(
        {**env, "MOVIEVERSE_MOVIELENS_DIR": str(folder), "MOVIEVERSE_DEMO_DOWNLOAD": "true"}
    )
    assert f"demo data: movielens-dir -- {folder}" in output
    assert _count(tmp_path / "var" / "movies.db", "select count(*) from movies_movies") == 9742


def test_a_failed_download_falls_back_to_synthetic_and_says_why(
    env: dict[str, str], tmp_path: Path
) -> None:
    server = ArchiveServer()
    server.thread.start()
    try:
        # Not the real archive: its checksum cannot match the pinned one.
        url = server.serve("/ml-latest-small.zip", Route(zip_bytes(DATASET_FILES)))
        output = _demo(
            {
                **env,
                "MOVIEVERSE_MOVIELENS_DIR": str(tmp_path / "nowhere"),
                "MOVIEVERSE_DEMO_DOWNLOAD": "true",
                "MOVIEVERSE_DEMO_DOWNLOAD_URL": url,
            }
        )
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        server.thread.join()
    assert "passed over MOVIEVERSE_MOVIELENS_DIR" in output
    assert "checksum" in output.lower()
    assert "demo data: synthetic" in output
    # Nothing of the rejected archive is left behind.
    assert not (tmp_path / "var" / "datasets" / "ml-latest-small").exists()


def test_production_seeds_only_when_allowed(env: dict[str, str]) -> None:
    production = {
        **env,
        "MOVIEVERSE_ENVIRONMENT": "production",
        "MOVIEVERSE_SECRET_KEY": "k3Jp9vQz0Lr7Yt2Wn5Xb8Hc4Fd6Gs1Ma",
        "MOVIEVERSE_AUTO_MIGRATE": "false",
    }
    assert "demo data: skipped -- production without MOVIEVERSE_ALLOW_SEEDING=true" in _demo(
        production
    )
