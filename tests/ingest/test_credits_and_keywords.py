"""`movieverse import` across services: credits and people into metadata, tags into keywords,
and what the running catalog then shows of them."""

from __future__ import annotations

import asyncio
import csv
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from movieverse.cli import app
from movieverse.platform.db import normalise_url
from movieverse.services.metadata.models import outbox
from tests.support import Stack, eventually, fresh_database, running_gateway

runner = CliRunner()

MOVIE_COLUMNS = (
    "budget", "genres", "homepage", "id", "keywords", "original_language", "original_title",
    "overview", "popularity", "production_companies", "production_countries", "release_date",
    "revenue", "runtime", "spoken_languages", "status", "tagline", "title", "vote_average",
    "vote_count",
)  # fmt: skip
HEAT, INSIDER = 949, 9008  # TMDB ids
PACINO, DE_NIRO, MANN, ROTH = 1158, 380, 638, 6949  # TMDB person ids


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("MOVIEVERSE_DATABASE_URL", "MOVIEVERSE_METADATA_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return {"MOVIEVERSE_VAR_DIR": str(tmp_path / "var"), "COLUMNS": "200"}


@pytest.fixture(params=["sqlite", "postgres"])
async def metadata_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """Metadata's database: its embedded SQLite file, or a fresh PostgreSQL database (JSONB
    documents, its distributed home) named by MOVIEVERSE_METADATA_DATABASE_URL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'var' / 'metadata.db'}"
        return
    async with fresh_database("postgres", prefix="mv_import", migrated_for=("metadata",)) as url:
        monkeypatch.setenv("MOVIEVERSE_METADATA_DATABASE_URL", url)
        yield url


def _movie(
    tmdb_id: int, title: str, popularity: float, keywords: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "budget": 0, "genres": json.dumps([{"id": 80, "name": "Crime"}]), "homepage": "",
        "id": tmdb_id, "keywords": json.dumps(keywords), "original_language": "en",
        "original_title": title, "overview": "", "popularity": popularity,
        "production_companies": "[]", "production_countries": "[]",
        "release_date": "1995-12-15", "revenue": 0, "runtime": 170, "spoken_languages": "[]",
        "status": "Released", "tagline": "", "title": title, "vote_average": 7.7,
        "vote_count": 1000,
    }  # fmt: skip


def _write_movies(folder: Path, movies: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tmdb_5000_movies.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MOVIE_COLUMNS)
        writer.writeheader()
        writer.writerows(movies)
    return path


def _cast(person_id: int, name: str, character: str, order: int) -> dict[str, Any]:
    return {
        "cast_id": order, "character": character, "credit_id": f"c{person_id}-{order}",
        "gender": 2, "id": person_id, "name": name, "order": order,
    }  # fmt: skip


def _crew(person_id: int, name: str, department: str, job: str) -> dict[str, Any]:
    return {
        "credit_id": f"k{person_id}-{job}", "department": department, "gender": 2,
        "id": person_id, "job": job, "name": name,
    }  # fmt: skip


def _write_credits(folder: Path, rows: list[tuple[int, str, list[Any], list[Any]]]) -> Path:
    path = folder / "tmdb_5000_credits.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("movie_id", "title", "cast", "crew"))
        for movie_id, title, cast, crew in rows:
            writer.writerow((movie_id, title, json.dumps(cast), json.dumps(crew)))
    return path


def _import(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, ["import", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _heat_and_insider(folder: Path) -> None:
    _write_movies(
        folder,
        [_movie(HEAT, "Heat", 30.0, []), _movie(INSIDER, "The Insider", 10.0, [])],
    )
    _write_credits(
        folder,
        [
            (
                HEAT,
                "Heat",
                [
                    _cast(DE_NIRO, "Robert De Niro", "Neil McCauley", 1),
                    _cast(PACINO, "Al Pacino", "Lt. Vincent Hanna", 0),
                ],
                [_crew(MANN, "Michael Mann", "Directing", "Director")],
            ),
            (
                INSIDER,
                "The Insider",
                [_cast(PACINO, "Al Pacino", "Lowell Bergman", 0)],
                [
                    _crew(MANN, "Michael Mann", "Directing", "Director"),
                    _crew(ROTH, "Eric Roth", "Writing", "Screenplay"),
                ],
            ),
            (424242, "Not In The Catalog", [_cast(1, "Nobody", "", 0)], []),
            (
                11,
                "Bad Person",
                [_cast(2, "", "nameless", 0)],
                [],
            ),
        ],
    )


async def _metadata_outbox_size(url: str) -> int:
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(outbox))).scalar_one())
    finally:
        await engine.dispose()


async def test_credits_import_fills_people_credits_and_the_cast_filter(
    env: dict[str, str], tmp_path: Path, metadata_url: str
) -> None:
    folder = tmp_path / "tmdb"
    _heat_and_insider(folder)
    if not metadata_url.startswith("sqlite"):
        env = {**env, "MOVIEVERSE_METADATA_DATABASE_URL": metadata_url}
    output = await asyncio.to_thread(_import, env, "tmdb-csv", str(folder))
    flat = " ".join(output.split())
    assert "tmdb_5000_credits.csv:4: movie_id 424242 is not in the catalog" in flat
    assert "tmdb_5000_credits.csv:5:" in flat  # the nameless cast member
    assert "│ credits │ 2 │ 0 │ 0 │" in flat
    assert "│ people │ 4 │ 0 │ - │" in flat
    events = await _metadata_outbox_size(metadata_url)

    again = " ".join((await asyncio.to_thread(_import, env, "tmdb-csv", str(folder))).split())
    assert "│ credits │ 0 │ 0 │ 2 │" in again
    assert await _metadata_outbox_size(metadata_url) == events  # nothing written, nothing sent

    settings = Stack("embedded", database_url=None, redis_url=None).settings(tmp_path / "var")
    async with running_gateway(settings) as (_, client):
        heat = (await client.get(f"/find/{HEAT}", params={"source": "tmdb_id"})).json()
        heat_id = heat["movie_results"][0]["id"]
        credits = (await client.get(f"/movies/{heat_id}?append_to_response=credits")).json()
        cast = [(c["name"], c["character"]) for c in credits["credits"]["cast"]]
        assert cast == [("Al Pacino", "Lt. Vincent Hanna"), ("Robert De Niro", "Neil McCauley")]
        assert [c["job"] for c in credits["credits"]["crew"]] == ["Director"]

        pacino = (await client.get(f"/people/{PACINO}?append_to_response=movie_credits")).json()
        assert pacino["tmdb_id"] == PACINO
        assert pacino["gender"] == 2
        assert pacino["known_for_department"] == "Acting"
        assert len(pacino["movie_credits"]["cast"]) == 2
        mann = (await client.get(f"/people/{MANN}")).json()
        assert mann["known_for_department"] == "Directing"
        roth = (await client.get(f"/people/{ROTH}")).json()
        assert roth["known_for_department"] == "Writing"
        # Lead in both movies (30 + 10) > second lead in Heat (30 / 2) > director of both (20).
        popular = (await client.get("/people/popular")).json()["results"]
        assert [p["id"] for p in popular] == [PACINO, MANN, DE_NIRO, ROTH]
        assert popular[0]["popularity"] == pytest.approx(40.0)

        # The credits events left metadata's outbox once the server ran: discover filters by cast.
        async def cast_indexed() -> bool:
            found = await client.get("/discover/movies", params={"with_cast": str(PACINO)})
            return bool(found.json()["total_results"] == 2)

        await eventually(cast_indexed)
        only_heat = await client.get("/discover/movies", params={"with_cast": str(DE_NIRO)})
        assert [m["title"] for m in only_heat.json()["results"]] == ["Heat"]


def _write_movielens(folder: Path, tags: list[tuple[int, int, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "movies.csv").write_text(
        "movieId,title,genres\n6,Heat (1995),Action|Crime|Thriller\n7,Sabrina (1995),Comedy\n",
        encoding="utf-8",
    )
    (folder / "links.csv").write_text(
        f"movieId,imdbId,tmdbId\n6,0113277,{HEAT}\n7,0114319,11860\n", encoding="utf-8"
    )
    lines = ["userId,movieId,tag,timestamp"]
    lines += [f"{user},{movie},{tag},1139045764" for user, movie, tag in tags]
    (folder / "tags.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _keywords(var: Path) -> dict[str, set[str]]:
    with sqlite3.connect(var / "movies.db") as conn:
        rows = conn.execute(
            "select m.title, k.name from movies_movies m "
            "join movies_movie_keywords mk on mk.movie_id = m.id "
            "join movies_keywords k on k.id = mk.keyword_id"
        )
        found: dict[str, set[str]] = {}
        for title, name in rows:
            found.setdefault(title, set()).add(name)
        return found


def _keyword_ids(var: Path) -> dict[str, int]:
    with sqlite3.connect(var / "movies.db") as conn:
        return {name: i for i, name in conn.execute("select id, name from movies_keywords")}


def _keyword_documents(var: Path) -> dict[int, str]:
    with sqlite3.connect(var / "metadata.db") as conn:
        rows = conn.execute(
            "select doc_id, body from metadata_documents where collection = 'keywords'"
        )
        return {int(doc_id): json.loads(body)["name"] for doc_id, body in rows}


def test_tags_become_keywords_and_merge_into_tmdb_keywords(
    env: dict[str, str], tmp_path: Path
) -> None:
    ml = tmp_path / "ml"
    _write_movielens(
        ml,
        [
            (1, 6, "Dystopia"),
            (2, 6, "  heist   movie "),
            (3, 6, "dystopia"),  # the same keyword, spelled differently
            (1, 7, "remake"),
            (4, 99, "orphan tag"),  # no such movie
            (5, 7, "x" * 201),  # too long for a keyword
        ],
    )
    output = " ".join(_import(env, "movielens", str(ml)).split())
    assert "tags.csv:6: tags of movieId 99, not a movie" in output
    assert "tags.csv:7: tag: longer than 200 characters" in output
    var = tmp_path / "var"
    assert _keywords(var) == {"Heat": {"dystopia", "heist movie"}, "Sabrina": {"remake"}}
    local = _keyword_ids(var)
    assert all(i >= 1_000_000_000 for i in local.values())  # tag-made keyword ids
    assert _keyword_documents(var) == {i: n for n, i in local.items()}

    # TMDB knows "dystopia" under its own id: the tag keyword is merged into it.
    tmdb = tmp_path / "tmdb"
    _write_movies(tmdb, [_movie(HEAT, "Heat", 30.0, [{"id": 4565, "name": "dystopia"}])])
    output = " ".join(_import(env, "tmdb-csv", str(tmdb)).split())
    assert "1 tag keywords merged into TMDB's" in output
    assert _keywords(var) == {"Heat": {"dystopia", "heist movie"}, "Sabrina": {"remake"}}
    ids = _keyword_ids(var)
    assert ids["dystopia"] == 4565
    assert ids["heist movie"] == local["heist movie"]
    assert _keyword_documents(var) == {i: n for n, i in ids.items()}

    # A later tag of that name goes to TMDB's keyword; a re-import changes nothing.
    _import(env, "movielens", str(ml))
    assert _keyword_ids(var) == ids
    assert "│ movies │ 0 │ 0 │ 1 │" in " ".join(_import(env, "tmdb-csv", str(tmdb)).split())
