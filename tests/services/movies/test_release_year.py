"""A MovieLens-only movie's year shows wherever the movie does.

MovieLens gives a year, not a date: the import takes "(1995)" off the title and keeps the year
apart, so without ``release_year`` the year was visible nowhere although discover filters by it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from movieverse.cli import app as cli
from movieverse.gateway.app import create_gateway
from tests.support import Stack, eventually, fast_auth_settings, start_from_migrated_sqlite

# Generous: the indexer follows the import's events within tens of milliseconds when quiet.
INDEXED_WITHIN = 60.0


def _movielens_only(folder: Path) -> None:
    """One movie MovieLens knows and TMDB does not (no tmdbId): a year, no date."""
    folder.mkdir()
    (folder / "movies.csv").write_text(
        'movieId,title,genres\n6,"Heat (1995)",Action|Crime|Thriller\n'
    )
    (folder / "links.csv").write_text("movieId,imdbId,tmdbId\n6,0113277,\n")


def _import(var: Path, folder: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["import", "movielens", str(folder), "--no-ratings"],
        env={"MOVIEVERSE_VAR_DIR": str(var), "COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output


async def test_a_movielens_only_movie_shows_its_year_everywhere(tmp_path: Path) -> None:
    settings = Stack("embedded", database_url=None, redis_url=None).settings(tmp_path / "var")
    await start_from_migrated_sqlite(settings)
    folder = tmp_path / "ml"
    _movielens_only(folder)
    await asyncio.to_thread(_import, Path(settings.var_dir), folder)  # the CLI runs its own loop
    gateway = create_gateway(settings, service_overrides={"auth": fast_auth_settings()})
    async with gateway.edge.router.lifespan_context(gateway.edge):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://year.test") as client:
            found = (await client.get("/find/tt0113277?source=imdb_id")).json()["movie_results"]
            assert [(m["title"], m["release_date"], m["release_year"]) for m in found] == [
                ("Heat", None, 1995)
            ]
            heat = found[0]["id"]
            details = (await client.get(f"/movies/{heat}")).json()
            assert (details["release_date"], details["release_year"]) == (None, 1995)
            rows: list[dict[str, Any]] = []
            for path in (
                "/movies/popular",
                "/movies/top_rated",
                "/trending/movies/week",
                "/discover/movies?primary_release_year=1995",
            ):
                page = (await client.get(path)).json()
                rows.extend(r for r in page["results"] if r["id"] == heat)
            assert [r["release_year"] for r in rows] == [1995] * 3, rows  # top_rated: no votes

            async def indexed() -> bool:
                page = (await client.get("/search/movies?q=heat")).json()
                return bool(page["total_results"])

            await eventually(indexed, within=INDEXED_WITHIN)
            hits = [
                (await client.get("/search/movies?q=heat")).json()["results"][0],
                (await client.get("/search/multi?q=heat")).json()["results"][0],
            ]
            assert [(h["id"], h["release_year"], h["year"]) for h in hits] == [
                (heat, 1995, 1995)
            ] * 2
            suggested = (await client.get("/search/suggest?q=hea")).json()["suggestions"]
            assert [(s["id"], s["release_year"], s["year"]) for s in suggested] == [
                (heat, 1995, 1995)
            ]


def test_the_year_is_documented_in_openapi() -> None:
    from movieverse.services.movies.schemas import MovieRead, MovieSummary
    from movieverse.services.search.schemas import MovieResult, SuggestionRead

    for model in (MovieRead, MovieSummary, MovieResult, SuggestionRead):
        field = model.model_json_schema()["properties"]["release_year"]
        assert "the year the source gave" in field["description"], model
