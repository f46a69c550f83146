"""GET /recommendations/me latency at 16 connections with a model trained on MovieLens 100k,
beside a bare Starlette JSON endpoint measured in the same run (the issue's target: p99 < 20 ms).

Set-up, all through the CLI and the public API of ``movieverse up`` (a subprocess on a free
127.0.0.1 port, data in a temporary MOVIEVERSE_VAR_DIR):

1. ``movieverse migrate``, ``movieverse import movielens`` on ``ml-100k`` (1682 movies, 100,000
   ratings, which the importer also writes into the ai service's interactions) and
   ``movieverse users create-admin``;
2. ``movieverse up``; wait until ``GET /ai/status`` counts all 1682 movies (the movie events
   reached ai), then ``POST /ai/train {"kind": "hybrid"}`` and poll the job until it succeeded.
   Training on start and on a schedule is switched off (``MOVIEVERSE_AI_TRAIN_ON_START=false``,
   ``MOVIEVERSE_AI_TRAIN_EVERY_SECONDS=0``) so that the only training run is this one and no
   run competes with the measure for the CPU or changes the model version half-way. Semantic
   search is off too (``MOVIEVERSE_SEMANTIC_SEARCH=false``): otherwise the indexer spends the
   first minutes embedding the 1682 imported movies with a sentence-transformer in the same
   process, a one-off backfill that took the cores from the measure (in trials it halved the
   cache-off requests/s and doubled its p99);
3. ``--users`` users (16 by default) register, sign in and rate 5 movies each (seeded, so every
   run asks the same); wait until each one's ``/recommendations/me`` says ``"source": "model"``.

Measured, each with ``wrk -t2 -c16`` (a warm-up, then ``--duration`` seconds), every request
cycling through the users' bearer tokens so that the model scores ``--users`` histories:

* ``/recommendations/me``, cache on (the default): the warm-up fills the per-user cache, so
  the measure is of cache hits (token check, the user's facts, the key, the cached bytes).
  This runs on the server that trained the model: the recommendations service learns the
  current model version only from the model-published event, and in this shape the cache
  (which holds it) is in-process, so a restarted server does not cache until a new model;
* ``/movies/{id}/similar`` (anonymous), cache on, cycling through 200 movie ids;
* ``/recommendations/me``, cache off: the same data served by a second ``movieverse up`` on
  the same MOVIEVERSE_VAR_DIR with ``MOVIEVERSE_RECOMMENDATIONS_CACHE_SECONDS=0`` (it loads
  the trained model from disk), so every request goes to the ai service and the model. A
  second run rather than one server and many users: with the cache on, any user's second
  request is a hit, so only a cache that is really off measures the model path for a while;
* ``/recommendations/me`` while the users keep rating: the same load, with a thread rating a
  random movie as one of the users (round robin) ``--rating-rate`` times a second. Each rating
  makes that user's cache key new. Measured twice: on the first server, where recommendations
  refreshes a changed user's first page in the background (the default), and on a third
  server with ``MOVIEVERSE_RECOMMENDATIONS_REFRESH_AFTER_CHANGES=false``, where the first
  request after each rating is a miss. The cache hits and misses and the refreshes' outcomes
  are read from ``/metrics`` before and after;
* ``bench/_baseline_app.py`` (Starlette ``GET /`` on uvicorn, the options ``movieverse up``
  uses), at the same concurrency.

Reports requests/s, p50/p90/p99/max latency, non-2xx answers and socket errors of each, and the
ratios p99 / baseline p99 and requests/s / baseline requests/s. Timings are printed, never
asserted. When wrk is not installed, ``bench/_loadgen.py`` (httpx, much slower) loads one
URL with the first user's token. The load generator shares the machine's cores with the
server. Writes ``bench/results/recommendations_latency.json``::

    .venv/bin/python bench/recommendations_latency.py [--duration 10] [--warmup 2]
        [--users 16] [--rating-rate 4] [--generator auto|wrk|python]
        [--data-dir /work/shared/data/ml-100k]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._catalog import WrkRequest, run_cli, wrk_requests
from bench._ratings import ADMIN_USERNAME, CHEAP_HASHING, create_admin
from bench._support import (
    BENCH_DIR,
    BENCH_PASSWORD,
    HOST,
    ServerProcess,
    free_port,
    latency_summary_ms,
    log_problems,
    machine_info,
    movieverse_env,
    print_table,
    run_server,
    temporary_work_dir,
    venv_executable,
    write_results,
)

CONNECTIONS = 16
WRK_THREADS = 2  # what bench._catalog's wrk runs use
MOVIES = 1682  # MovieLens 100k
RATINGS_PER_USER = 5
RATING_RATE = 4.0  # ratings a second, across the users, while they browse
SIMILAR_MOVIES = 200
TARGET_P99_MS = 20.0
DEFAULT_DATA_DIR = Path(os.environ.get("MOVIEVERSE_DATASETS_DIR", "/work/shared/data")) / "ml-100k"
AI_MOVIES_WAIT_SECONDS = 300.0
TRAIN_WAIT_SECONDS = 900.0
MODEL_SOURCE_WAIT_SECONDS = 120.0
# Background work that would compete with the measure for the 2 cores (see the docstring).
QUIET = {
    "MOVIEVERSE_AI_TRAIN_ON_START": "false",
    "MOVIEVERSE_AI_TRAIN_EVERY_SECONDS": "0",
    "MOVIEVERSE_SEMANTIC_SEARCH": "false",
}


def log(message: str, started: float) -> None:
    print(f"[{time.monotonic() - started:6.1f}s] {message}", flush=True)


# Servers ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def movieverse_served(
    name: str, var_dir: Path, *, log_dir: Path, extra_env: Mapping[str, str]
) -> Iterator[ServerProcess]:
    """``movieverse up`` on already migrated data; its log is ``log_dir/NAME.log``."""
    port = free_port()
    command = [venv_executable("movieverse"), "up", "--host", HOST, "--port", str(port)]
    env = movieverse_env(var_dir, extra_env)
    with run_server(name, command, port=port, env=env, log_dir=log_dir) as server:
        yield server


@contextlib.contextmanager
def baseline_served(log_dir: Path) -> Iterator[ServerProcess]:
    port = free_port()
    command = [sys.executable, str(BENCH_DIR / "_baseline_app.py"), "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with run_server("starlette", command, port=port, env=env, log_dir=log_dir) as server:
        yield server


# Set-up through the API ------------------------------------------------------------------------


def _check(response: httpx.Response, what: str, *expected: int) -> Any:
    if response.status_code not in (expected or (200,)):
        raise RuntimeError(f"{what}: HTTP {response.status_code}: {response.text[:500]}")
    return response.json() if response.content else None


def sign_in(client: httpx.Client, login: str) -> dict[str, str]:
    body = _check(
        client.post("/auth/login", json={"login": login, "password": BENCH_PASSWORD}),
        f"login {login}",
    )
    return {"Authorization": f"Bearer {body['access_token']}"}


def wait_for_ai_movies(client: httpx.Client, admin: Mapping[str, str]) -> dict[str, Any]:
    """Until the movie events of the import reached ai (its own movie table is complete)."""
    deadline = time.monotonic() + AI_MOVIES_WAIT_SECONDS
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = _check(client.get("/ai/status", headers=dict(admin)), "GET /ai/status")
        if status["movies"] >= MOVIES:
            return status
        time.sleep(0.5)
    raise RuntimeError(
        f"ai knows {status.get('movies')} of {MOVIES} movies after "
        f"{AI_MOVIES_WAIT_SECONDS:.0f}s (movie events not flowing?): {status}"
    )


def train_model(client: httpx.Client, admin: Mapping[str, str]) -> dict[str, Any]:
    """POST /ai/train, then poll the job until it succeeded; raises with its error otherwise."""
    deadline = time.monotonic() + TRAIN_WAIT_SECONDS
    while True:
        response = client.post("/ai/train", json={"kind": "hybrid"}, headers=dict(admin))
        if response.status_code != 409 or time.monotonic() > deadline:
            break
        time.sleep(1.0)  # another job is running (should not happen with QUIET): wait
    job_id = _check(response, "POST /ai/train", 202)["id"]
    while time.monotonic() < deadline:
        job: dict[str, Any] = _check(
            client.get(f"/ai/train/{job_id}", headers=dict(admin)), "GET /ai/train/{id}"
        )
        if job["status"] == "succeeded":
            return job
        if job["status"] == "failed":
            raise RuntimeError(f"training job {job_id} failed: {job.get('error')}")
        time.sleep(1.0)
    raise RuntimeError(f"training job {job_id} not done after {TRAIN_WAIT_SECONDS:.0f}s")


def create_users(client: httpx.Client, count: int) -> list[str]:
    """Register ``count`` users and rate 5 seeded movies each; returns their usernames."""
    _check(client.get("/movies/1"), "GET /movies/1 (the import's catalog ids)")
    names: list[str] = []
    for index in range(count):
        name = f"recs_bench_{index:03d}"
        _check(
            client.post(
                "/auth/register",
                json={"email": f"{name}@example.org", "username": name, "password": BENCH_PASSWORD},
            ),
            f"register {name}",
            201,
        )
        auth = sign_in(client, name)
        rng = random.Random(index)
        for movie_id in rng.sample(range(1, MOVIES + 1), RATINGS_PER_USER):
            value = rng.choice((6, 7, 8, 9, 10))
            _check(
                client.put(f"/movies/{movie_id}/rating", json={"value": value}, headers=auth),
                f"rate movie {movie_id} as {name}",
                200,
                201,
            )
        names.append(name)
    return names


def wait_for_model_answers(client: httpx.Client, users: Sequence[Mapping[str, str]]) -> float:
    """Until every user's /recommendations/me comes from the model; returns the seconds."""
    started = time.monotonic()
    deadline = started + MODEL_SOURCE_WAIT_SECONDS
    for index, auth in enumerate(users):
        last: Any = None
        while True:
            response = client.get("/recommendations/me", headers=dict(auth))
            last = (response.status_code, response.text[:300])
            if response.status_code == 200 and response.json().get("source") == "model":
                break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"user {index}: /recommendations/me never came from the model within "
                    f"{MODEL_SOURCE_WAIT_SECONDS:.0f}s; last answer: {last}"
                )
            time.sleep(0.2)
    return time.monotonic() - started


PENDING = re.compile(r'^movieverse_outbox_pending\{service="([^"]+)"\} ([0-9.e+]+)$', re.MULTILINE)


def wait_until_quiet(client: httpx.Client, *, within: float = 600.0) -> float:
    """Wait until no service has events waiting in its outbox (the import leaves thousands,
    and their consumers make more): measuring during that catch-up measures the relays."""
    started = time.monotonic()
    quiet_passes = 0
    while time.monotonic() - started < within:
        pending = sum(float(v) for _, v in PENDING.findall(client.get("/metrics").text))
        quiet_passes = quiet_passes + 1 if pending == 0 else 0
        if quiet_passes >= 3:
            return time.monotonic() - started
        time.sleep(1.0)
    raise RuntimeError(f"outboxes still busy after {within:.0f} s")


def probe(client: httpx.Client, path: str, headers: Mapping[str, str]) -> dict[str, Any]:
    """One request before (or after) a load: its status, size, timing and source."""
    started = time.perf_counter()
    response = client.get(path, headers=dict(headers))
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status_code}: {response.text[:500]}")
    body = response.json()
    return {
        "path": path,
        "status": response.status_code,
        "body_bytes": len(response.content),
        "ms": round(elapsed_ms, 2),
        "source": body.get("source") if isinstance(body, dict) else None,
        "results": len(body.get("results", [])) if isinstance(body, dict) else None,
    }


def alone(client: httpx.Client, requests: Sequence[WrkRequest], count: int = 30) -> dict[str, Any]:
    """``count`` requests one after the other (no concurrency): the service time, no queueing."""
    seconds: list[float] = []
    for index in range(count):
        request = requests[index % len(requests)]
        headers = {"Authorization": request.authorization} if request.authorization else {}
        started = time.perf_counter()
        response = client.get(request.path, headers=headers)
        seconds.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"GET {request.path}: HTTP {response.status_code}")
    return {"requests": count, **latency_summary_ms(seconds)}


# Load ------------------------------------------------------------------------------------------


def pick_generator(choice: str) -> str:
    """The wrk executable, or "python" for the fallback generator."""
    wrk = shutil.which("wrk")
    if choice == "wrk" and wrk is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    if choice == "python" or wrk is None:
        return "python"
    return wrk


def load_with_python(
    url: str, *, duration: float, warmup: float, headers: Mapping[str, str]
) -> dict[str, Any]:
    command = [
        sys.executable,
        str(BENCH_DIR / "_loadgen.py"),
        url,
        "--connections",
        str(CONNECTIONS),
        "--duration",
        str(duration),
        "--warmup",
        str(warmup),
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    done = subprocess.run(  # noqa: S603 -- fixed argv, 127.0.0.1 target
        command, capture_output=True, text=True, check=False, timeout=duration + warmup + 60
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed ({done.returncode}): {done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def load(
    generator: str,
    base_url: str,
    requests: Sequence[WrkRequest],
    *,
    duration: float,
    warmup: float,
    work_dir: Path,
    label: str,
) -> dict[str, Any]:
    """wrk cycling through ``requests``; the fallback generator sends the first one only."""
    if generator == "python":
        first = requests[0]
        headers = {"Authorization": first.authorization} if first.authorization else {}
        result = load_with_python(
            base_url + first.path, duration=duration, warmup=warmup, headers=headers
        )
        result["distinct_paths"] = 1
        return result
    return wrk_requests(
        generator, base_url, requests, duration=duration, warmup=warmup,
        connections=CONNECTIONS, work_dir=work_dir, label=label,
    )  # fmt: skip


def user_requests(users: Sequence[Mapping[str, str]]) -> list[WrkRequest]:
    return [WrkRequest("GET", "/recommendations/me", u["Authorization"]) for u in users]


RATING_VALUES = (4, 6, 8, 10)
# (user index, movie) -> the value the raters last gave, across phases: the phases share the
# users and their data, and re-sending a rating a user already has changes nothing (no event,
# no new cache key), which once made a phase measure no rating at all.
_GIVEN: dict[tuple[int, int], int] = {}


class Rater(threading.Thread):
    """Rates a random movie as the next user (round robin) ``rate`` times a second until
    stopped, on its own connection. Every rating changes the user's value for that movie."""

    def __init__(
        self, base_url: str, users: Sequence[Mapping[str, str]], rate: float, *, seed: int
    ) -> None:
        super().__init__(name="rater", daemon=True)
        self._base_url = base_url
        self._users = list(users)
        self._interval = 1.0 / rate
        self._stopping = threading.Event()
        self._rng = random.Random(seed)
        self.made = 0
        self.failed = 0

    def _next(self) -> tuple[int, int, int]:
        user = (self.made + self.failed) % len(self._users)
        movie_id = self._rng.randint(1, MOVIES)
        previous = _GIVEN.get((user, movie_id))
        value = self._rng.choice([v for v in RATING_VALUES if v != previous])
        _GIVEN[(user, movie_id)] = value
        return user, movie_id, value

    def run(self) -> None:
        with httpx.Client(base_url=self._base_url, timeout=30.0) as client:
            due = time.monotonic()
            while not self._stopping.is_set():
                user, movie_id, value = self._next()
                response = client.put(
                    f"/movies/{movie_id}/rating",
                    json={"value": value},
                    headers=dict(self._users[user]),
                )
                if response.status_code in (200, 201):
                    self.made += 1
                else:
                    self.failed += 1
                due += self._interval
                self._stopping.wait(max(0.0, due - time.monotonic()))

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=30)


RECS_COUNTERS = re.compile(
    r'^movieverse_recommendations_(pages|refreshes)_total\{(?:result|outcome)="([a-z_]+)"\} '
    r"([0-9.e+]+)$",
    re.MULTILINE,
)


def recs_counters(client: httpx.Client) -> dict[str, float]:
    """{"pages.hit": n, "pages.miss": n, "refreshes.refreshed": n, ...} from /metrics."""
    text = client.get("/metrics").text
    return {f"{kind}.{label}": float(value) for kind, label, value in RECS_COUNTERS.findall(text)}


def browse_while_rating(
    generator: str,
    srv: ServerProcess,
    client: httpx.Client,
    tokens: Sequence[Mapping[str, str]],
    *,
    rate: float,
    duration: float,
    warmup: float,
    work_dir: Path,
    label: str,
    seed: int,
) -> dict[str, Any]:
    before = recs_counters(client)
    rater = Rater(srv.base_url, tokens, rate, seed=seed)
    rater.start()
    try:
        result = load(
            generator, srv.base_url, user_requests(tokens),
            duration=duration, warmup=warmup, work_dir=work_dir, label=label,
        )  # fmt: skip
    finally:
        rater.stop()
    after = recs_counters(client)
    delta = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in sorted(set(after) | set(before))}
    hits, misses = delta.get("pages.hit", 0.0), delta.get("pages.miss", 0.0)
    result |= {
        "probe": probe(client, "/recommendations/me", tokens[0]),
        "rating_rate": rate,
        "ratings_made": rater.made,
        "ratings_failed": rater.failed,
        # Over warm-up and measure, refreshes included (a refresh reads the cache first).
        "counters": delta,
        "hit_ratio": hits / (hits + misses) if hits + misses else None,
        # Events still waiting to be published: a backlog means ratings reached the other
        # services late (and so changed fewer cache keys during the measure).
        "outbox_pending_after": sum(
            float(v) for _, v in PENDING.findall(client.get("/metrics").text)
        ),
    }
    return _with_log(result, srv)


# The phases ------------------------------------------------------------------------------------


def bench_baseline(
    generator: str, *, duration: float, warmup: float, work_dir: Path
) -> dict[str, Any]:
    with baseline_served(work_dir) as server, httpx.Client(base_url=server.base_url) as client:
        result: dict[str, Any] = {"url": f"{server.base_url}/"}
        response = client.get("/")
        result["probe"] = {"status": response.status_code, "body_bytes": len(response.content)}
        result |= load(
            generator, server.base_url, [WrkRequest("GET", "/")],
            duration=duration, warmup=warmup, work_dir=work_dir, label="baseline",
        )  # fmt: skip
        result["server_log_problems"] = log_problems(server)[:20]
    return result


def _with_log(result: dict[str, Any], server: ServerProcess) -> dict[str, Any]:
    problems = log_problems(server)
    result["server_log_problems"] = problems[:20]
    result["server_log_problem_count"] = len(problems)
    return result


def bench_cache_on(
    generator: str,
    *,
    var_dir: Path,
    data_dir: Path,
    users: int,
    rating_rate: float,
    duration: float,
    warmup: float,
    work_dir: Path,
    started: float,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Import, train, create the users; measure /recommendations/me and /similar, cache on."""
    env = movieverse_env(var_dir, CHEAP_HASHING)
    setup: dict[str, Any] = {"migrate_seconds": round(run_cli(env, "migrate"), 1)}
    log("importing MovieLens 100k", started)
    setup["import_seconds"] = round(run_cli(env, "import", "movielens", str(data_dir)), 1)
    create_admin(env)
    extra = {**CHEAP_HASHING, **QUIET}
    with (
        movieverse_served("movieverse-cache-on", var_dir, log_dir=work_dir, extra_env=extra) as srv,
        httpx.Client(base_url=srv.base_url, timeout=30.0) as client,
    ):
        log(f"movieverse up at {srv.base_url}; waiting for ai to know {MOVIES} movies", started)
        admin = sign_in(client, ADMIN_USERNAME)
        t0 = time.monotonic()
        status = wait_for_ai_movies(client, admin)
        setup["ai_movies_wait_seconds"] = round(time.monotonic() - t0, 1)
        setup["ai_interactions_before_training"] = status["interactions"]
        log(f"ai has {status['movies']} movies, {status['interactions']} interactions", started)
        t0 = time.monotonic()
        job = train_model(client, admin)
        setup["train_wall_seconds"] = round(time.monotonic() - t0, 1)
        setup["training_job"] = job
        log(f"trained model {job['version']} in {setup['train_wall_seconds']}s", started)
        names = create_users(client, users)
        tokens = [sign_in(client, name) for name in names]
        setup["model_answer_wait_seconds"] = round(wait_for_model_answers(client, tokens), 1)
        setup["ai_status"] = _check(client.get("/ai/status", headers=admin), "GET /ai/status")
        setup["quiet_wait_seconds"] = round(wait_until_quiet(client), 1)
        log(f"{users} users get model answers; outboxes empty; measuring, cache on", started)

        recs: dict[str, Any] = {"probe": probe(client, "/recommendations/me", tokens[0])}
        recs |= load(
            generator, srv.base_url, user_requests(tokens),
            duration=duration, warmup=warmup, work_dir=work_dir, label="recs-cache-on",
        )  # fmt: skip
        recs["probe_after"] = probe(client, "/recommendations/me", tokens[0])
        recs["sequential"] = alone(client, user_requests(tokens))

        similar_ids = random.Random(7).sample(range(1, MOVIES + 1), SIMILAR_MOVIES)
        similar_paths = [WrkRequest("GET", f"/movies/{i}/similar") for i in similar_ids]
        similar: dict[str, Any] = {"probe": probe(client, similar_paths[0].path, {})}
        similar |= load(
            generator, srv.base_url, similar_paths,
            duration=duration, warmup=warmup, work_dir=work_dir, label="similar-cache-on",
        )  # fmt: skip
        similar["sequential"] = alone(client, similar_paths)
        _with_log(recs, srv)
        _with_log(similar, srv)
        log(f"measuring /recommendations/me while users rate {rating_rate:g}/s", started)
        rating = browse_while_rating(
            generator, srv, client, tokens, rate=rating_rate, duration=duration,
            warmup=warmup, work_dir=work_dir, label="recs-rating-refresh-on", seed=11,
        )  # fmt: skip
    setup["usernames"] = names
    return setup, recs, similar, rating


def bench_cache_off(
    generator: str,
    *,
    var_dir: Path,
    usernames: Sequence[str],
    duration: float,
    warmup: float,
    work_dir: Path,
    started: float,
) -> dict[str, Any]:
    """The same data and model, a second server with the recommendations cache off."""
    extra = {**CHEAP_HASHING, **QUIET, "MOVIEVERSE_RECOMMENDATIONS_CACHE_SECONDS": "0"}
    with (
        movieverse_served(
            "movieverse-cache-off", var_dir, log_dir=work_dir, extra_env=extra
        ) as srv,
        httpx.Client(base_url=srv.base_url, timeout=30.0) as client,
    ):
        log(f"movieverse up (cache off) at {srv.base_url}", started)
        tokens = [sign_in(client, name) for name in usernames]
        wait = wait_for_model_answers(client, tokens)
        quiet = wait_until_quiet(client)
        recs: dict[str, Any] = {
            "model_answer_wait_seconds": round(wait, 1),
            "quiet_wait_seconds": round(quiet, 1),
            "probe": probe(client, "/recommendations/me", tokens[0]),
        }
        log("measuring /recommendations/me, cache off", started)
        recs |= load(
            generator, srv.base_url, user_requests(tokens),
            duration=duration, warmup=warmup, work_dir=work_dir, label="recs-cache-off",
        )  # fmt: skip
        recs["probe_after"] = probe(client, "/recommendations/me", tokens[0])
        recs["sequential"] = alone(client, user_requests(tokens))
        _with_log(recs, srv)
    return recs


def bench_refresh_off(
    generator: str,
    *,
    var_dir: Path,
    usernames: Sequence[str],
    rating_rate: float,
    duration: float,
    warmup: float,
    work_dir: Path,
    started: float,
) -> dict[str, Any]:
    """Users rating while they browse, on a server that does not refresh changed users."""
    extra = {
        **CHEAP_HASHING,
        **QUIET,
        "MOVIEVERSE_RECOMMENDATIONS_REFRESH_AFTER_CHANGES": "false",
    }
    with (
        movieverse_served(
            "movieverse-refresh-off", var_dir, log_dir=work_dir, extra_env=extra
        ) as srv,
        httpx.Client(base_url=srv.base_url, timeout=30.0) as client,
    ):
        log(f"movieverse up (refresh off) at {srv.base_url}", started)
        tokens = [sign_in(client, name) for name in usernames]
        wait_for_model_answers(client, tokens)
        wait_until_quiet(client)
        log(f"measuring /recommendations/me while users rate {rating_rate:g}/s", started)
        return browse_while_rating(
            generator, srv, client, tokens, rate=rating_rate, duration=duration,
            warmup=warmup, work_dir=work_dir, label="recs-rating-refresh-off", seed=13,
        )  # fmt: skip


# Output ----------------------------------------------------------------------------------------


def ratios(result: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, float]:
    return {
        "p99_to_baseline_p99": result["latency_ms"]["p99"] / baseline["latency_ms"]["p99"],
        "rps_to_baseline_rps": result["requests_per_second"] / baseline["requests_per_second"],
    }


def _row(name: str, r: Mapping[str, Any], baseline: Mapping[str, Any] | None) -> list[str]:
    lat = r["latency_ms"]
    ratio = ratios(r, baseline) if baseline is not None else None
    return [
        name,
        f"{r['requests_per_second']:,.0f}",
        f"{r['requests']:,}",
        f"{lat['p50']:.2f}",
        f"{lat['p90']:.2f}",
        f"{lat['p99']:.2f}",
        f"{lat['max']:.1f}",
        str(r["non_2xx_3xx"]),
        str(r["socket_errors"]),
        str(r["probe"]["body_bytes"]),
        f"{ratio['p99_to_baseline_p99']:.2f}" if ratio else "1",
        f"{ratio['rps_to_baseline_rps']:.3f}" if ratio else "1",
    ]


RECS_KEYS = (
    "recommendations_cache_on",
    "recommendations_cache_off",
    "recommendations_rating_refresh_on",
    "recommendations_rating_refresh_off",
)


def report(results: Mapping[str, Mapping[str, Any]], *, duration: float, generator: str) -> None:
    baseline = results["starlette"]
    labels = {
        "starlette": "starlette GET / (baseline)",
        "recommendations_cache_on": "GET /recommendations/me, cache on",
        "recommendations_cache_off": "GET /recommendations/me, cache off",
        "recommendations_rating_refresh_on": "  ... users rating, refresh on",
        "recommendations_rating_refresh_off": "  ... users rating, refresh off",
        "similar_cache_on": "GET /movies/{id}/similar, cache on",
    }
    rows = [
        _row(label, results[key], None if key == "starlette" else baseline)
        for key, label in labels.items()
    ]
    print_table(
        f"{CONNECTIONS} connections, {duration:g}s measured each (latency in ms; generator: "
        f"{'wrk' if generator != 'python' else 'python'})",
        ["target", "req/s", "requests", "p50", "p90", "p99", "max", "non-2xx", "sock err",
         "body B", "p99/base", "rps/base"],
        rows,
    )  # fmt: skip
    print("\none request at a time after the load (30 requests, keep-alive; ms):")
    for key, label in labels.items():
        alone_ = results[key].get("sequential")
        if alone_:
            print(
                f"  {label:<36} p50 {alone_['p50_ms']:.2f}  p99 {alone_['p99_ms']:.2f}  "
                f"max {alone_['max_ms']:.2f}"
            )
    print()
    for key in RECS_KEYS:
        p99 = results[key]["latency_ms"]["p99"]
        verdict = "meets" if p99 < TARGET_P99_MS else "misses"
        print(f"{labels[key]}: p99 {p99:.2f} ms ({verdict} the < {TARGET_P99_MS:g} ms target)")
    for key in ("recommendations_rating_refresh_on", "recommendations_rating_refresh_off"):
        r = results[key]
        ratio = f"{r['hit_ratio']:.3f}" if r["hit_ratio"] is not None else "-"
        print(
            f"{labels[key].strip(' .')}: {r['ratings_made']} ratings ({r['ratings_failed']} "
            f"failed), cache hit ratio {ratio}, events pending after "
            f"{r['outbox_pending_after']:.0f}, counters {r['counters']}"
        )
    for key, label in labels.items():
        result = results[key]
        for when in ("probe", "probe_after"):
            source = result.get(when, {}).get("source")
            if source not in (None, "model"):
                print(f"warning: {label}: {when} answered source={source!r}, not 'model'")
        count = result.get("server_log_problem_count", 0)
        if count:
            print(f"{label}: {count} error lines in the server log, e.g.:")
            for line in result["server_log_problems"][:5]:
                print(f"  {line}")
    print("note: the load generator runs on the same cores as the server under test.")
    if generator == "python":
        print(
            "caveat: the httpx generator sends one user's request only and saturates at a few "
            "hundred requests/s; install wrk for figures and ratios that mean something."
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds (1-60)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--users", type=int, default=16, help="users cycled through (1-200)")
    parser.add_argument(
        "--rating-rate", type=float, default=RATING_RATE, help="ratings/s while browsing (0.1-50)"
    )
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="ml-100k")
    args = parser.parse_args()
    if not 1 <= args.duration <= 60 or not 0 <= args.warmup <= 30:
        parser.error("--duration must be 1..60 and --warmup 0..30")
    if not 1 <= args.users <= 200:
        parser.error("--users must be 1..200")
    if not 0.1 <= args.rating_rate <= 50:
        parser.error("--rating-rate must be 0.1..50")
    if not (args.data_dir / "u.data").is_file():
        raise SystemExit(f"MovieLens 100k not found in {args.data_dir} (no u.data)")
    generator = pick_generator(args.generator)
    generator_label = (
        f"wrk -t{WRK_THREADS} -c{CONNECTIONS} --latency ({generator})"
        if generator != "python"
        else f"python httpx AsyncClient, {CONNECTIONS} workers (bench/_loadgen.py; wrk not used)"
    )
    info = machine_info()
    started = time.monotonic()
    print(f"load generator: {generator_label}")
    print(
        f"{info['cpus']} CPUs shared by the load generator and the server under test; "
        f"{args.warmup:g}s warm-up + {args.duration:g}s measured per target"
    )
    timing = {"duration": args.duration, "warmup": args.warmup}
    with temporary_work_dir("movieverse-bench-recs-") as work_dir:
        log("phase 1: bare Starlette baseline", started)
        baseline = bench_baseline(generator, work_dir=work_dir, **timing)
        log("phase 2: movieverse up, cache on", started)
        var_dir = work_dir / "var"
        setup, recs_on, similar, rating_on = bench_cache_on(
            generator, var_dir=var_dir, data_dir=args.data_dir, users=args.users,
            rating_rate=args.rating_rate, work_dir=work_dir, started=started, **timing,
        )  # fmt: skip
        log("phase 3: movieverse up again, recommendations cache off", started)
        recs_off = bench_cache_off(
            generator, var_dir=var_dir, usernames=setup["usernames"], work_dir=work_dir,
            started=started, **timing,
        )  # fmt: skip
        log("phase 4: movieverse up again, refresh after changes off", started)
        rating_off = bench_refresh_off(
            generator, var_dir=var_dir, usernames=setup["usernames"],
            rating_rate=args.rating_rate, work_dir=work_dir, started=started, **timing,
        )  # fmt: skip
    elapsed = time.monotonic() - started
    results = {
        "starlette": baseline,
        "recommendations_cache_on": recs_on,
        "recommendations_cache_off": recs_off,
        "recommendations_rating_refresh_on": rating_on,
        "recommendations_rating_refresh_off": rating_off,
        "similar_cache_on": similar,
    }
    report(results, duration=args.duration, generator=generator)
    print(f"end to end: {elapsed:.0f}s")
    path = write_results(
        "recommendations_latency",
        {
            "benchmark": "recommendations_latency",
            "machine": info,
            "generator": generator_label,
            "connections": CONNECTIONS,
            "duration_seconds": args.duration,
            "warmup_seconds": args.warmup,
            "users": args.users,
            "rating_rate": args.rating_rate,
            "dataset": str(args.data_dir),
            "target_p99_ms": TARGET_P99_MS,
            "setup": setup,
            **results,
            "ratios": {
                key: ratios(results[key], baseline)
                for key in (*RECS_KEYS, "similar_cache_on")
            },
            "end_to_end_seconds": round(elapsed, 1),
        },
    )  # fmt: skip
    print(f"wrote {path}")
    failed = any(r["non_2xx_3xx"] or r["socket_errors"] for r in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
