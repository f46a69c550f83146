"""Reads in the distributed shape, from one ``movieverse serve movies`` process to two behind a
load balancer (issue 18, "Fast paths", goal "Both cores").

The embedded shape stays one process (its in-process bus, caches and SSE streams belong to the
process), so a read-heavy mix uses both cores by running more processes of the distributed
shape: this bench shows how reads scale from one ``serve movies`` process to two behind nginx.

**The catalog**: TMDB 5000, then MovieLens latest-small, through the real importers
(``movieverse migrate``, ``import tmdb-csv``, ``import movielens``: about 11,000 movies), with
the movies service on a fresh database of the local MariaDB (``--mysql-url``; created here,
dropped at the end) through ``MOVIEVERSE_MOVIES_DATABASE_URL``, and caches on Redis
(``MOVIEVERSE_REDIS_URL``, a database number of its own, ``--redis-url``, flushed at the start
and the end; the bench refuses a Redis database holding keys that are not its own). The other
services keep SQLite files in a temporary ``MOVIEVERSE_VAR_DIR``; only movies serves the mix.
What the imports staged is delivered first (``movieverse demo-data``, its seeding off).

**The servers**: two ``movieverse serve movies`` processes (A and B) on free 127.0.0.1 ports,
sharing that database and Redis -- so pages one builds the other serves, and a write's cache
invalidation (a list generation token in Redis) reaches both. In front, a real nginx
(``nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'``, a generated configuration in a temporary
directory: ``--nginx-workers`` workers, 1 by default, an ``upstream`` with keepalive
connections, HTTP/1.1 to the servers, access log off, no response spooled to disk).

**The mix**: one seeded list of 50,000 request paths, the families of
``bench/cpu_per_request.py``: 70 % ``GET /movies/{id}`` (ids drawn from every movie), 5 %
``/movies/popular`` and 5 % ``/movies/top_rated`` (pages 1-5), 20 % ``/discover/movies`` with a
genre of at least 100 movies, one of the 12 sorts and a page 1-5. ``wrk -t2 -c32`` cycles
through it (``bench/_catalog.wrk_rotating``); every configuration gets the very same list.

**The configurations**, one after the other in one run:

* ``a``: nginx, upstream A alone;
* ``b``: nginx, upstream A and B (round robin);
* ``c``: A loaded directly, no nginx (a reference: what nginx costs); ``--no-direct`` skips it.

Each is measured after the same warm-up: Redis flushed (every cached page gone), each distinct
path of the list requested once through the configuration's entry point (8 at a time: the
caches filled, both processes' connections and vocabularies warm), then ``--warmup`` seconds of
wrk, not measured; then both servers must be idle for a second (under 5 % of a core), the
bench waits up to ``--quiet-timeout`` seconds (30) for the whole machine to be quiet (other
tenants' work under a quarter of a core; if it never is, the measure goes ahead and says so)
and ``--duration`` seconds are measured. Pages stay cached 600 s
(``MOVIEVERSE_MOVIES_DETAILS_CACHE_SECONDS``) rather than the default 60 s, so no entry the
warm-up wrote expires during the measure and every configuration measures the same steady state.

**What is read**, just before and just after the measured wrk run only: the CPU (user + system,
all threads) of each server process, of nginx (master and workers summed), of wrk (the bench's
reaped children), of Redis and of MariaDB (``/proc/<pid>/stat``), each server's own request count
(``movieverse_http_requests_total`` on its ``/metrics``; their sum is checked against wrk's
count), and the whole machine's ``/proc/stat``.
Printed per configuration: req/s, p50 and p99 latency, errors, CPU ms per request of each server
(its CPU over the requests it served) and of nginx, the share of a core each used (CPU seconds
over wall seconds), the machine's idle share, what the rest of the machine (other tenants) used,
and the scaling ratio req/s(b) / req/s(a). wrk, nginx, Redis and MariaDB run on the same 2 cores
as the servers, so (b) cannot reach 2x: when the machine's idle share is near 0 the cores are
the limit, and the table names it (with the share other tenants took). So the figure that says
whether reads scale linearly is the servers' CPU per request in (b) over (a): flat means two
processes each cost what one alone did, so with a core each they serve twice what one does
(printed as ``2 * ms(a) / ms(b)``). Writes ``bench/results/read_scaling.json``.

Needs wrk and nginx (Debian: ``apt-get install -y wrk nginx``), MariaDB and Redis, and
``../shared/data``; without any of them it exits 1 having measured nothing. Ctrl-C, SIGTERM or a
failure stop nginx and the servers, drop the database and flush the Redis database::

    .venv/bin/python bench/read_scaling.py [--duration 10] [--warmup 2] [--nginx-workers 1]
        [--rounds 1] [--no-direct] [--quiet-timeout 30] [--mysql-url mysql://root@127.0.0.1:3306]
        [--redis-url redis://127.0.0.1:6379/14]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import grp
import os
import pwd
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._catalog import (
    WRK_THREADS,
    import_real_catalog,
    require_catalog_data,
    require_wrk,
    serve_service,
    settle_staged_events,
    wrk_rotating,
)
from bench._support import (
    HOST,
    REPO_ROOT,
    ServerProcess,
    free_port,
    log_problems,
    machine_info,
    print_table,
    process_cpu_seconds,
    run_server,
    temporary_work_dir,
    write_results,
)
from bench.cpu_per_request import (
    PAGES,
    PER_PAGE,
    ROUTES,
    CatalogSample,
    get_each_once,
    wait_until_quiet,
)
from movieverse.platform.db import normalise_url

CONNECTIONS = 32
SEED = 20261219
DRAWS = 50_000  # more than a measured run completes at the rates seen here: no path repeats
# The read mix: a route family of bench/cpu_per_request.py and its share of the requests.
MIX = (("details", 0.70), ("popular", 0.05), ("top_rated", 0.05), ("discover", 0.20))
WARM_CONNECTIONS = 8
CACHE_SECONDS = 600
REDIS_KEY_PREFIX = "mvbench-read-scaling:"
DEFAULT_MYSQL_URL = "mysql://root@127.0.0.1:3306"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
# Under this share of the machine idle during a measure, the cores themselves were the limit.
SATURATED_IDLE_SHARE = 0.05
# A process using this much of a core is the bottleneck (it runs one event loop).
BUSY_SHARE_OF_A_CORE = 0.90
# Before a measure, the machine (our servers idle) should have other tenants' work below this
# many cores; otherwise the bench waits, up to --quiet-timeout seconds, then measures anyway and
# the table's "others" column shows what they took.
QUIET_MACHINE_BUSY_CORES = 0.25

SERVER_ENV = {
    "MOVIEVERSE_SEMANTIC_SEARCH": "false",
    "MOVIEVERSE_AI_TRAIN_ON_START": "false",
    "MOVIEVERSE_MOVIES_DETAILS_CACHE_SECONDS": str(CACHE_SECONDS),
    "MOVIEVERSE_REDIS_KEY_PREFIX": REDIS_KEY_PREFIX,
}


# --- the stores: a fresh MariaDB database, a Redis database of the bench's own ---------------


async def _admin_statement(server_url: str, statement: str) -> None:
    engine = create_async_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@contextlib.contextmanager
def fresh_mariadb_database(server_url: str) -> Iterator[str]:
    """A new database on the server, its URL yielded; dropped at the end, whatever happens."""
    name = f"mvbench_read_scaling_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_admin_statement(server_url, f"CREATE DATABASE `{name}`"))
    except (SQLAlchemyError, OSError) as exc:
        raise SystemExit(
            f"MariaDB at {server_url} refused a new database ({exc}): nothing measured"
        ) from exc
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin_statement(server_url, f"DROP DATABASE IF EXISTS `{name}`"))


@contextlib.contextmanager
def own_redis_database(url: str) -> Iterator[redis.Redis]:
    """The Redis database of ``url``, flushed now and at the end. Refuses one holding a key
    outside the bench's prefix: flushing would destroy someone else's data."""
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise SystemExit(f"Redis at {url} is not reachable ({exc}): nothing measured") from exc
    foreign = [
        key for key in client.scan_iter(count=1000) if not key.startswith(REDIS_KEY_PREFIX.encode())
    ]
    if foreign:
        raise SystemExit(
            f"Redis database {url} holds {len(foreign)} key(s) that are not this bench's "
            f"(e.g. {foreign[0]!r}); pass --redis-url with a free database number"
        )
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


async def _catalog_sample(database_url: str) -> CatalogSample:
    engine = create_async_engine(normalise_url(database_url))
    try:
        async with engine.connect() as connection:
            ids = (
                await connection.execute(
                    text("select id from movies_movies where deleted_at is null order by id")
                )
            ).scalars()
            genres = (
                await connection.execute(
                    text(
                        "select mg.genre_id from movies_movie_genres mg"
                        " join movies_movies m on m.id = mg.movie_id and m.deleted_at is null"
                        " group by mg.genre_id having count(*) >= :least order by mg.genre_id"
                    ),
                    {"least": len(PAGES) * PER_PAGE},
                )
            ).scalars()
            movie_ids = [int(i) for i in ids]
            genre_ids = [int(g) for g in genres]
    finally:
        await engine.dispose()
    random.Random(SEED).shuffle(movie_ids)
    return CatalogSample(ids=movie_ids, genre_ids=genre_ids, titles=[])


def draw_mix(catalog: CatalogSample) -> list[str]:
    """``DRAWS`` request paths, each family drawn with its share of ``MIX``."""
    draws = {route.name: route.draw for route in ROUTES}
    names = [name for name, _ in MIX]
    weights = [share for _, share in MIX]
    rng = random.Random(SEED)
    return [draws[name](catalog, rng) for name in rng.choices(names, weights, k=DRAWS)]


# --- nginx ----------------------------------------------------------------------------------


def require_nginx() -> str:
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if nginx is None:
        raise SystemExit(
            "nginx is not installed (Debian: apt-get install -y nginx): nothing measured"
        )
    return nginx


def _worker_user_line() -> str:
    """As root, nginx's workers drop to an unprivileged user; name one that exists here (the
    compiled-in default group 'nobody' is missing on Debian, which has 'nogroup')."""
    if os.geteuid() != 0:
        return ""  # a non-root master cannot switch users; its workers run as it does
    nobody = pwd.getpwnam("nobody")
    return f"user nobody {grp.getgrgid(nobody.pw_gid).gr_name};"


def nginx_config(directory: Path, *, port: int, upstreams: Sequence[str], workers: int) -> str:
    servers = "\n".join(f"    server {address};" for address in upstreams)
    return f"""{_worker_user_line()}
worker_processes {workers};
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {directory}/client_body;
  proxy_temp_path {directory}/proxy;
  fastcgi_temp_path {directory}/fastcgi;
  uwsgi_temp_path {directory}/uwsgi;
  scgi_temp_path {directory}/scgi;
  # wrk's connections stay open for the whole run.
  keepalive_requests 1000000;
  upstream movies {{
{servers}
    keepalive 64;
    keepalive_requests 1000000;
    # Below uvicorn's 5 s keep-alive, so nginx never reuses a connection the server closed.
    keepalive_timeout 4s;
  }}
  server {{
    listen {HOST}:{port};
    location / {{
      proxy_pass http://movies;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_buffers 16 16k;
      proxy_buffer_size 16k;
      proxy_max_temp_file_size 0;
    }}
  }}
}}
"""


@contextlib.contextmanager
def run_nginx(
    nginx: str, upstreams: Sequence[ServerProcess], *, workers: int, log_dir: Path
) -> Iterator[ServerProcess]:
    """nginx in the foreground with a generated configuration in a temporary directory of its
    own (readable by its unprivileged workers), balancing over ``upstreams``."""
    port = free_port()
    addresses = [urlsplit(server.base_url).netloc for server in upstreams]
    with tempfile.TemporaryDirectory(prefix="movieverse-bench-nginx-") as name:
        directory = Path(name)
        directory.chmod(0o755)
        config = directory / "nginx.conf"
        config.write_text(nginx_config(directory, port=port, upstreams=addresses, workers=workers))
        command = [
            nginx, "-p", str(directory), "-e", str(directory / "error.log"),
            "-c", str(config), "-g", "daemon off;",
        ]  # fmt: skip
        label = f"nginx-{len(upstreams)}-upstream"
        worker_pids: list[int] = []
        try:
            with run_server(
                label, command, port=port, env=dict(os.environ), log_dir=log_dir
            ) as proxy:
                worker_pids = _children(proxy.process.pid)
                yield proxy
        finally:
            # A master killed after its graceful-stop timeout leaves its workers orphaned.
            _kill_leftovers(worker_pids, "nginx")
            error_log = directory / "error.log"
            if error_log.exists():
                (log_dir / f"{label}-error.log").write_text(error_log.read_text(errors="replace"))


# --- what is read around a measure ------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found.append(int(entry.name))
    return found


def _kill_leftovers(pids: Sequence[int], name: str) -> None:
    """SIGKILL those of ``pids`` still running as ``name`` (a pid reused since is left alone)."""
    for pid in pids:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                os.kill(pid, signal.SIGKILL)


def _pids_named(*names: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() in names:
                    found.append(int(entry.name))
    return found


def _cpu_of(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):  # a worker that ended takes its CPU with it
            total += process_cpu_seconds(pid)
    return total


def _machine_ticks() -> tuple[int, int]:
    """(all, idle) jiffies of every CPU together: the first line of ``/proc/stat``."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return sum(values), values[3] + values[4]  # idle + iowait


def wait_for_quiet_machine(timeout: float) -> dict[str, Any]:
    """Wait (our servers idle) until the whole machine's busy cores over one second are under
    ``QUIET_MACHINE_BUSY_CORES`` -- other tenants' work between measures -- or ``timeout`` has
    passed; returns the last second's busy cores and how long it waited."""
    started = time.monotonic()
    cores = os.cpu_count() or 1
    while True:
        all_before, idle_before = _machine_ticks()
        time.sleep(1.0)
        all_after, idle_after = _machine_ticks()
        all_ticks = max(1, all_after - all_before)
        busy = (all_ticks - (idle_after - idle_before)) / all_ticks * cores
        waited = time.monotonic() - started
        if busy < QUIET_MACHINE_BUSY_CORES or waited >= timeout:
            return {
                "busy_cores": busy,
                "waited_seconds": waited,
                "quiet": busy < QUIET_MACHINE_BUSY_CORES,
            }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


PROBE_ROUTES = frozenset({"/metrics", "/healthz", "/readyz"})


def served_requests(server: ServerProcess) -> float:
    """The requests a server counted on its ``/metrics``, its own probes left out. Parsed with
    prometheus_client's parser: a route label holds braces (``/movies/{movie_id}``)."""
    body = httpx.get(f"{server.base_url}/metrics", timeout=10.0).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
        if sample.name == "movieverse_http_requests_total"
        and sample.labels.get("route") not in PROBE_ROUTES
    )


@dataclass
class Snapshot:
    servers: list[float]
    served: list[float]
    nginx: float
    wrk: float
    redis: float
    mariadb: float
    machine: tuple[int, int]
    at: float = field(default_factory=time.perf_counter)


@dataclass(frozen=True)
class Stage:
    servers: Sequence[ServerProcess]  # every server process running, loaded or not
    nginx_pids: Sequence[int]
    redis_pids: Sequence[int]
    mariadb_pids: Sequence[int]

    def snapshot(self) -> Snapshot:
        return Snapshot(
            servers=[process_cpu_seconds(s.process.pid) for s in self.servers],
            served=[served_requests(s) for s in self.servers],
            nginx=_cpu_of(self.nginx_pids),
            wrk=_children_cpu(),
            redis=_cpu_of(self.redis_pids),
            mariadb=_cpu_of(self.mariadb_pids),
            machine=_machine_ticks(),
        )


def usage_between(before: Snapshot, after: Snapshot, requests: int) -> dict[str, Any]:
    wall = after.at - before.at
    all_ticks = after.machine[0] - before.machine[0]
    idle_ticks = after.machine[1] - before.machine[1]
    cores = os.cpu_count() or 1
    machine_busy_cores = (all_ticks - idle_ticks) / max(1, all_ticks) * cores
    servers: list[dict[str, Any]] = []
    server_cpu = 0.0
    for cpu_a, cpu_b, served_a, served_b in zip(
        before.servers, after.servers, before.served, after.served, strict=True
    ):
        cpu = cpu_b - cpu_a
        served = served_b - served_a
        server_cpu += cpu
        servers.append(
            {
                "cpu_seconds": cpu,
                "requests_served": served,
                "cpu_ms_per_request": cpu * 1000 / served if served else None,
                "share_of_a_core": cpu / wall,
            }
        )
    named = {
        "nginx": after.nginx - before.nginx,
        "wrk": after.wrk - before.wrk,
        "redis": after.redis - before.redis,
        "mariadb": after.mariadb - before.mariadb,
    }
    ours = server_cpu + sum(named.values())
    return {
        "wall_seconds": wall,
        "servers": servers,
        # Beside wrk's count: the check that per-server figures cover every request.
        "requests_served_total": sum(s["requests_served"] for s in servers),
        "server_cpu_ms_per_request": server_cpu * 1000 / requests,
        "nginx_cpu_ms_per_request": named["nginx"] * 1000 / requests,
        "cores_used": {name: cpu / wall for name, cpu in named.items()},
        "machine_idle_share": idle_ticks / max(1, all_ticks),
        "machine_busy_cores": machine_busy_cores,
        # Other tenants of this shared machine (and the kernel's own work outside processes).
        "rest_of_machine_cores": max(0.0, machine_busy_cores - ours / wall),
    }


def name_the_limit(usage: Mapping[str, Any], loaded: int) -> str:
    """What held the rate down, from the figures (a judgement for the reader, not a proof)."""
    if usage["machine_idle_share"] < SATURATED_IDLE_SHARE:
        others = usage["rest_of_machine_cores"]
        return f"both cores busy ({others:.2f} of them others')"
    busy = [
        i for i, s in enumerate(usage["servers"][:loaded])
        if s["share_of_a_core"] >= BUSY_SHARE_OF_A_CORE
    ]  # fmt: skip
    if busy:
        return "server core(s) " + ",".join("AB"[i] for i in busy)
    return f"none obvious (idle {usage['machine_idle_share']:.0%})"


# --- the configurations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Configuration:
    key: str
    label: str
    loaded: int  # servers behind the entry point: A, or A and B
    through_nginx: bool


CONFIGURATIONS = (
    Configuration("a", "nginx -> 1 serve movies", 1, True),
    Configuration("b", "nginx -> 2 serve movies", 2, True),
    Configuration("c", "1 serve movies, direct", 1, False),
)


@dataclass(frozen=True)
class Bench:
    wrk: str
    nginx: str
    nginx_workers: int
    duration: float
    warmup: float
    work_dir: Path
    redis: redis.Redis
    paths: Sequence[str]
    quiet_timeout: float


def measure(
    bench: Bench, config: Configuration, servers: Sequence[ServerProcess], round_: int
) -> dict[str, Any]:
    loaded = servers[: config.loaded]
    with contextlib.ExitStack() as stack:
        if config.through_nginx:
            proxy = stack.enter_context(
                run_nginx(bench.nginx, loaded, workers=bench.nginx_workers, log_dir=bench.work_dir)
            )
            entry, nginx_pids = proxy.base_url, [proxy.process.pid]
            nginx_pids += _children(proxy.process.pid)
        else:
            entry, nginx_pids = loaded[0].base_url, []
        # The same warm-up for every configuration: no cached page, then each path once.
        bench.redis.flushdb()
        distinct = list(dict.fromkeys(bench.paths))
        started = time.perf_counter()
        asyncio.run(get_each_once(entry, distinct, connections=WARM_CONNECTIONS))
        warm_seconds = time.perf_counter() - started
        label = f"{config.key}{round_}"
        if bench.warmup > 0:
            wrk_rotating(
                bench.wrk, entry, bench.paths, duration=bench.warmup, warmup=0,
                connections=CONNECTIONS, work_dir=bench.work_dir, label=f"{label}-warmup",
            )  # fmt: skip
        for server in servers:
            wait_until_quiet(server.process.pid)
        machine_before = wait_for_quiet_machine(bench.quiet_timeout)
        stage = Stage(
            servers, nginx_pids, _pids_named("redis-server"), _pids_named("mariadbd", "mysqld")
        )
        before = stage.snapshot()
        result = wrk_rotating(
            bench.wrk, entry, bench.paths, duration=bench.duration, warmup=0,
            connections=CONNECTIONS, work_dir=bench.work_dir, label=label,
        )  # fmt: skip
        after = stage.snapshot()
    result["warm_pass"] = {"paths": len(distinct), "seconds": warm_seconds}
    result["machine_before_measure"] = machine_before
    result["usage"] = usage_between(before, after, max(1, result["requests"]))
    result["limit"] = name_the_limit(result["usage"], config.loaded)
    result["nginx_workers"] = len(nginx_pids) - 1 if nginx_pids else 0
    del result["wrk_output"]
    return result


def _row(config: Configuration, round_: int, r: Mapping[str, Any]) -> list[str]:
    usage = r["usage"]
    loaded = usage["servers"][: config.loaded]
    cores = usage["cores_used"]

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    return [
        f"{config.key}{round_}: {config.label}",
        f"{r['requests_per_second']:,.0f}",
        f"{r['latency_ms']['p50']:.1f}",
        f"{r['latency_ms']['p99']:.1f}",
        str(r["non_2xx_3xx"] + r["socket_errors"]),
        " + ".join(ms(s["cpu_ms_per_request"]) for s in loaded),
        " + ".join(f"{s['share_of_a_core']:.2f}" for s in loaded),
        ms(usage["nginx_cpu_ms_per_request"]) if config.through_nginx else "-",
        f"{cores['nginx']:.2f}" if config.through_nginx else "-",
        f"{cores['wrk']:.2f}",
        f"{cores['redis']:.2f}",
        f"{cores['mariadb']:.2f}",
        f"{usage['rest_of_machine_cores']:.2f}",
        f"{usage['machine_idle_share']:.0%}",
        r["limit"],
    ]


HEADERS = [
    "configuration", "req/s", "p50", "p99", "errors", "server ms/req", "server cores",
    "nginx ms/req", "nginx", "wrk", "redis", "mariadb", "others", "idle", "limit",
]  # fmt: skip


def _stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM (and SIGHUP) unwind like Ctrl-C, so every server, nginx, the database and the
    Redis database are cleaned up; further signals are ignored while that runs."""
    for other in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(other, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signum}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds (1-60)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured wrk seconds first")
    parser.add_argument("--rounds", type=int, default=1, help="times each configuration runs")
    parser.add_argument("--nginx-workers", type=int, default=1, choices=(1, 2))
    parser.add_argument("--no-direct", action="store_true", help="skip configuration c")
    parser.add_argument(
        "--quiet-timeout",
        type=float,
        default=30.0,
        help="seconds to wait, before each measure, for other tenants to leave the cores (0-600)",
    )
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument(
        "--mysql-url",
        default=DEFAULT_MYSQL_URL,
        help="a MariaDB/MySQL server (no database): one is created and dropped there",
    )
    parser.add_argument(
        "--redis-url", default=DEFAULT_REDIS_URL, help="a Redis database of the bench's own"
    )
    args = parser.parse_args()
    if (
        not 1 <= args.duration <= 60
        or not 0 <= args.warmup <= 30
        or not 1 <= args.rounds <= 5
        or not 0 <= args.quiet_timeout <= 600
    ):
        parser.error(
            "--duration must be 1..60, --warmup 0..30, --rounds 1..5, --quiet-timeout 0..600"
        )
    return args


@dataclass
class Run:
    catalog: CatalogSample
    paths: list[str]
    imports: dict[str, float]
    results: list[dict[str, Any]]
    problems: list[str]


def run_all(
    args: argparse.Namespace, wrk: str, nginx: str, configurations: Sequence[Configuration]
) -> Run:
    """Stores, catalog, two servers, then every configuration; all stopped and dropped after."""
    with (
        temporary_work_dir("movieverse-bench-read-scaling-") as work_dir,
        own_redis_database(args.redis_url) as redis_client,
        fresh_mariadb_database(args.mysql_url) as database_url,
    ):
        var_dir = work_dir / "var"
        var_dir.mkdir()
        env = {
            **SERVER_ENV,
            "MOVIEVERSE_MOVIES_DATABASE_URL": database_url,
            "MOVIEVERSE_REDIS_URL": args.redis_url,
        }
        print("importing the catalog (movies on MariaDB: tmdb-csv, then movielens) ...", flush=True)
        imports = import_real_catalog(var_dir, args.data, env)
        print("delivering the events the imports staged ...", flush=True)
        imports["settle_seconds"] = settle_staged_events(var_dir, env)
        catalog = asyncio.run(_catalog_sample(database_url))
        paths = draw_mix(catalog)
        bench = Bench(
            wrk, nginx, args.nginx_workers, args.duration, args.warmup, work_dir,
            redis_client, paths, args.quiet_timeout,
        )  # fmt: skip
        results: list[dict[str, Any]] = []
        with contextlib.ExitStack() as stack:
            servers = [
                stack.enter_context(
                    serve_service("movies", var_dir, log_dir=work_dir, extra_env=env)
                )
                for _ in range(2)
            ]
            for round_ in range(1, args.rounds + 1):
                for config in configurations:
                    print(f"  round {round_}, {config.key}: {config.label} ...", flush=True)
                    result = measure(bench, config, servers, round_)
                    results.append({"configuration": config.key, "round": round_} | result)
            problems = [line for server in servers for line in log_problems(server)]
    return Run(catalog, paths, imports, results, problems)


def scaling(results: Sequence[Mapping[str, Any]], rounds: int) -> list[dict[str, float]]:
    """Per round: req/s(b) / req/s(a), and the servers' CPU per request in b over a -- the
    figure that says whether the work itself scales (flat: each process costs what one alone
    did, so with a core each two would serve twice as much), whatever else shares the cores."""
    figures = []
    for round_ in range(1, rounds + 1):
        by_key = {r["configuration"]: r for r in results if r["round"] == round_}
        a, b = by_key["a"], by_key["b"]
        ms_a = a["usage"]["server_cpu_ms_per_request"]
        ms_b = b["usage"]["server_cpu_ms_per_request"]
        figure = {
            "requests_per_second_b_over_a": b["requests_per_second"] / a["requests_per_second"],
            "server_cpu_ms_per_request_a": ms_a,
            "server_cpu_ms_per_request_b": ms_b,
            "server_cpu_per_request_b_over_a": ms_b / ms_a,
            # Two servers with a whole core each against one with a whole core.
            "cpu_bound_ratio_with_a_core_each": 2 * ms_a / ms_b,
        }
        if "c" in by_key:
            figure["nginx_rate_cost"] = (
                1 - a["requests_per_second"] / by_key["c"]["requests_per_second"]
            )
        figures.append(figure)
    return figures


def report(args: argparse.Namespace, run: Run, configurations: Sequence[Configuration]) -> None:
    by_key = {c.key: c for c in CONFIGURATIONS}
    rows = [_row(by_key[r["configuration"]], r["round"], r) for r in run.results]
    print_table(
        f"Reads of the movies service, distributed shape (MariaDB + Redis), {args.duration:g}s "
        f"measured per configuration, wrk -t{WRK_THREADS} -c{CONNECTIONS}, "
        f"{len(run.catalog.ids):,} movies, nginx {args.nginx_workers} worker(s)",
        HEADERS,
        rows,
    )
    for round_, f in enumerate(scaling(run.results, args.rounds), start=1):
        nginx_cost = f.get("nginx_rate_cost")
        extra = "" if nginx_cost is None else f", nginx costs {nginx_cost:.0%} of c's rate"
        ms_a, ms_b = f["server_cpu_ms_per_request_a"], f["server_cpu_ms_per_request_b"]
        print(
            f"round {round_}: req/s(b)/req/s(a) = {f['requests_per_second_b_over_a']:.2f}{extra}"
            f"; server CPU per request {ms_a:.3f} ms (a) -> {ms_b:.3f} ms (b), "
            f"x{f['server_cpu_per_request_b_over_a']:.2f}: with a core each, two servers would "
            f"serve {f['cpu_bound_ratio_with_a_core_each']:.2f}x one"
        )
    miscounted = [
        f"{r['configuration']}{r['round']} (servers {r['usage']['requests_served_total']:,.0f}, "
        f"wrk {r['requests']:,})"
        for r in run.results
        if abs(r["usage"]["requests_served_total"] - r["requests"]) > 0.03 * r["requests"]
    ]
    if miscounted:
        print(f"the servers' request counts differ from wrk's by over 3 %: {', '.join(miscounted)}")
    unquiet = [
        f"{r['configuration']}{r['round']} ({r['machine_before_measure']['busy_cores']:.2f} cores)"
        for r in run.results
        if not r["machine_before_measure"]["quiet"]
    ]
    if unquiet:
        print(
            f"other tenants were still busy when these measures started (waited "
            f"{args.quiet_timeout:g} s): {', '.join(unquiet)}"
        )
    print(
        "server ms/req: each loaded server's CPU over the requests it served (A + B); server "
        "cores and nginx..mariadb: CPU seconds over wall seconds per process (nginx: master + "
        "workers); others: the machine's busy cores not accounted to the listed processes (other "
        "tenants, the kernel's network work); idle: the whole machine's idle share (/proc/stat) "
        "during the measure."
    )
    if run.problems:
        print(f"server log error lines: {len(run.problems)}")
        for line in run.problems[:5]:
            print(f"  {line}")


def main() -> int:
    started = time.monotonic()
    args = parse_args()
    # Refusals first: nothing is created or measured without the datasets and the tools.
    require_catalog_data(args.data)
    wrk = require_wrk()
    nginx = require_nginx()
    configurations = [c for c in CONFIGURATIONS if c.through_nginx or not args.no_direct]
    info = machine_info()
    print(f"load generator: wrk -t{WRK_THREADS} -c{CONNECTIONS}, one path-rotating list")
    print(
        f"{info['cpus']} CPUs shared by wrk, nginx, Redis, MariaDB and the servers (and by other "
        "tenants of this machine): two servers cannot reach 2x"
    )
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)
    try:
        run = run_all(args, wrk, nginx, configurations)
    except KeyboardInterrupt:
        print("interrupted: servers and nginx stopped, database dropped, Redis flushed")
        return 130
    report(args, run, configurations)
    elapsed = time.monotonic() - started
    print(f"whole run: {elapsed:.0f} s")
    path = write_results(
        "read_scaling",
        {
            "benchmark": "read_scaling",
            "machine": info,
            "generator": f"wrk -t{WRK_THREADS} -c{CONNECTIONS}, Lua path rotation",
            "duration_seconds": args.duration,
            "warmup_seconds": args.warmup,
            "nginx_workers": args.nginx_workers,
            "server_env": SERVER_ENV,
            "stores": {"movies_database": "MariaDB (fresh database)", "redis": args.redis_url},
            "mix": dict(MIX),
            "catalog": {
                "movies": len(run.catalog.ids),
                "genres_drawn": run.catalog.genre_ids,
                "distinct_paths": len(set(run.paths)),
                "imports": run.imports,
            },
            "configurations": {c.key: c.label for c in configurations},
            "results": run.results,
            "scaling": scaling(run.results, args.rounds),
            "server_log_problems": run.problems[:20],
            "run_seconds": elapsed,
        },
    )
    print(f"wrote {path}")
    failed = any(r["non_2xx_3xx"] or r["socket_errors"] for r in run.results)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
