"""Platform settings (prefix ``MOVIEVERSE_``) and the production guard-rails.

Every service reads these plus its own ``MOVIEVERSE_<NAME>_`` settings. A service-level URL falls
back to the global one, which falls back to an embedded store under ``var/`` -- so development
needs no configuration at all, and the distributed shape is only a matter of setting URLs.
"""

from __future__ import annotations

import ipaddress
import math
from collections import Counter
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Environment = Literal["development", "test", "production"]

# Secrets that ship in examples, tutorials and our own docs; never acceptable in production.
KNOWN_PLACEHOLDER_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "changethis",
        "secret",
        "secret-key",
        "secretkey",
        "supersecret",
        "password",
        "development",
        "dev",
        "test",
        "movieverse",
        "insecure",
    }
)
MIN_SECRET_LENGTH = 32
MIN_SECRET_BITS = 128


class ConfigurationError(RuntimeError):
    """Raised when settings are unsafe for the chosen environment; lists every offending setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("refusing to start:\n" + "\n".join(f"  - {p}" for p in problems))


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# The settings that hold request rate limits (see PlatformSettings and platform/ratelimit.py).
RATE_LIMIT_FIELDS = (
    "rate_limit_register_ip",
    "rate_limit_rating",
    "rate_limit_rating_ip",
    "rate_limit_review",
    "rate_limit_review_ip",
    "rate_limit_comment",
    "rate_limit_comment_ip",
    "rate_limit_like",
    "rate_limit_like_ip",
    "rate_limit_report",
    "rate_limit_report_ip",
    "rate_limit_webhook",
    "rate_limit_webhook_ip",
    "rate_limit_list",
    "rate_limit_list_ip",
    "rate_limit_search",
    "rate_limit_search_ip",
)


class PlatformSettings(BaseSettings):
    """Settings shared by every service of one deployment."""

    model_config = SettingsConfigDict(env_prefix="MOVIEVERSE_", extra="ignore")

    environment: Environment = "development"
    debug: bool = False
    var_dir: Path = Path("var")

    # Relational store. None means a SQLite file per service under var_dir.
    database_url: str | None = None
    db_pool_size: int = Field(default=5, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=500)
    db_pool_recycle_seconds: int = Field(default=1800, ge=1)
    # The event plumbing's own pool on a database server, beside the requests' (db.py): the
    # relay's pass holds two connections (its leadership lock, then a read or a mark), and each
    # consumer group's batch one. A service process opens up to the sum of both pools' limits.
    db_plumbing_pool_size: int = Field(default=3, ge=1, le=100)
    db_plumbing_max_overflow: int = Field(default=7, ge=0, le=200)
    db_echo: bool = False
    # How long a hot read may run on the event loop's thread on SQLite before it gives way to
    # aiosqlite's thread (platform/reads.py); 0 sends every read to the thread.
    db_sqlite_inline_read_ms: float = Field(default=2.0, ge=0, le=1000)
    # None means "true in development and test, false in production".
    auto_migrate: bool | None = None

    # Key-value store for caches, rate limits and (distributed) refresh tokens. None: in-process.
    redis_url: str | None = None
    # Namespace of every key this deployment writes, so deployments (and tests) can share a Redis.
    redis_key_prefix: str = Field(default="movieverse:", min_length=1, max_length=100)
    # Event bus: "memory://" (the in-process bus of the embedded shape), "amqp://…" (RabbitMQ)
    # or "kafka://host:port[,host:port]" (any Kafka-protocol broker).
    event_bus_url: str = Field(default="memory://", pattern=r"^(memory|amqps?|kafka)://")
    # Names of exchanges, queues, topics and consumer groups start with it, so deployments (and
    # tests) can share a broker.
    event_prefix: str = Field(default="movieverse.", pattern=r"^[a-z0-9._-]{1,40}$")
    kafka_partitions: int = Field(default=3, ge=1, le=1000)
    kafka_session_timeout_ms: int = Field(default=10_000, ge=1000, le=300_000)
    event_retry_base_seconds: float = Field(default=0.2, gt=0, le=60)
    event_retry_max_seconds: float = Field(default=5.0, gt=0, le=600)
    outbox_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # Events a relay publishes per round trip to the bus (and marks in one transaction). Under
    # load a pass then carries what gathered while the last one ran: at 200 the backlog of a
    # busy rating load was cut in passes whose consumers each paid a transaction.
    outbox_batch_size: int = Field(default=500, ge=1, le=10_000)
    # How long a woken relay under load lets more commits gather before its next pass: one pass
    # (and one transaction per consumer) then carries many events instead of one or two. Idle,
    # it publishes at once. 0.15 s, not 0.05: bench/rating_writes.py 231 req/s, not 201.
    outbox_linger_seconds: float = Field(default=0.15, ge=0, le=1)
    # On a database server with a broker, the relay runs on a thread and event loop of its own,
    # so a request backlog cannot starve it (events/relay_thread.py).
    outbox_relay_thread: bool = True

    # Search indexes: None for tantivy indexes under var_dir/search (the embedded shape), or an
    # OpenSearch URL (http[s]://[user:password@]host:port). Index names start with the prefix.
    search_url: str | None = Field(default=None, pattern=r"^https?://")
    search_index_prefix: str = Field(default="movieverse", pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")
    # Semantic search (sentence embeddings of movies), when the `semantic` extra is installed.
    # False keeps the model unloaded: no embeddings are made and /search/semantic answers 501.
    semantic_search: bool = True

    # Signing secret for HS256 tokens. None in development: generated once under var_dir.
    secret_key: SecretStr | None = None
    jwt_algorithm: Literal["HS256", "EdDSA", "RS256"] = "HS256"
    # PEM public key used by every service to verify asymmetric tokens without the signing key.
    jwt_public_key_file: Path | None = None
    jwt_issuer: str = "movieverse"
    jwt_audience: str = "movieverse"
    # A token for calls a service makes on its own behalf (platform/service_tokens.py), from
    # `movieverse auth service-token NAME`; needed under EdDSA or RS256 only.
    service_token_file: Path | None = None

    allow_seeding: bool = False
    seed_token: SecretStr | None = None
    # First-run demo data (`movieverse demo-data`, run by `make run`): on an empty catalog, from
    # MovieLens in movielens_dir, else the official download, else a synthetic catalog.
    demo_data: bool = True
    demo_download: bool = True
    # A mirror of the ml-latest-small archive; the pinned checksum still applies.
    demo_download_url: str | None = None
    # `movieverse demo-data` delivers the events an import staged before it returns, so the
    # server starts with no backlog for its first users to wait behind (gateway/settle.py).
    demo_settle: bool = True
    movielens_dir: Path | None = None
    # Where named datasets are looked up and downloaded to; None: var_dir/datasets.
    datasets_dir: Path | None = None

    # FastAPI's native OpenTelemetry spans, metrics and logs (needs a configured OTel provider).
    otel_enabled: bool = False

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    # A deleted user's data is erased when the deletion event arrives and once more this long
    # after, by which time no write that began before the deletion can still commit
    # (platform/erasure.py).
    erasure_grace_seconds: float = Field(default=60.0, gt=0, le=86_400)

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # A request's whole body must arrive within this (from its first read); past it, 408. A
    # client trickling a body byte by byte would otherwise hold an admission slot for as long
    # as it likes. 30 s is ~35 KB/s for the largest body; a buffering edge proxy (nginx's
    # default) shields the servers from slow uploads altogether.
    request_body_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Admission control (platform/admission.py): past this many requests in flight, a process
    # answers 503 with Retry-After at once instead of queueing them; 0 disables. Health,
    # readiness and metrics are exempt, and in-process service-to-service calls never count.
    # 32: as many as any of our load generators keeps open (bench/), so ordinary load never
    # meets a 503; at a rating write's ~20 ms of one event loop it is ~0.65 s of queued work
    # (bench/overload.py). A lower limit trades 503s near capacity for latency under overload.
    max_in_flight_requests: int = Field(default=32, ge=0, le=100_000)
    overload_retry_after_seconds: int = Field(default=1, ge=1, le=3600)
    # Peers whose X-Forwarded-For is believed (the edge proxy). Anyone else's header is ignored.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Request rate limits (platform/ratelimit.py): per account and per client IP, for each family
    # of writes and for search. A value lists windows, "10/minute;100/hour" (every one applies);
    # "" switches that scope off. Defaults sit far above what a person does and well below a
    # script's pace. MOVIEVERSE_RATE_LIMIT_<FAMILY> per account, ..._IP per address.
    rate_limits_enabled: bool = True
    rate_limit_register_ip: str = "10/minute;50/hour"
    rate_limit_rating: str = "60/minute;1000/hour"
    rate_limit_rating_ip: str = "300/minute;5000/hour"
    rate_limit_review: str = "10/minute;100/hour"
    rate_limit_review_ip: str = "60/minute;600/hour"
    rate_limit_comment: str = "10/minute;100/hour"
    rate_limit_comment_ip: str = "60/minute;600/hour"
    rate_limit_like: str = "60/minute;600/hour"
    rate_limit_like_ip: str = "300/minute;3000/hour"
    rate_limit_report: str = "10/minute;50/hour"
    rate_limit_report_ip: str = "30/minute;200/hour"
    rate_limit_webhook: str = "5/minute;20/hour"
    rate_limit_webhook_ip: str = "20/minute;100/hour"
    rate_limit_list: str = "60/minute;1000/hour"
    rate_limit_list_ip: str = "300/minute;5000/hour"
    # Search is limited per account when a valid token comes with it, else per address.
    rate_limit_search: str = "120/minute;3000/hour"
    rate_limit_search_ip: str = "300/minute;6000/hour"

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    shutdown_timeout_seconds: float = Field(default=15.0, gt=0)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: object) -> object:
        value = _split_csv(value)
        if isinstance(value, list):
            for item in value:
                ipaddress.ip_network(str(item), strict=False)  # raises ValueError on garbage
        return value

    @field_validator(*RATE_LIMIT_FIELDS)
    @classmethod
    def _parse_rate_limits(cls, value: str) -> str:
        if value.strip():
            from limits import parse_many  # only here and in platform/ratelimit.py

            parse_many(value)  # raises ValueError naming what it could not read
        return value

    @property
    def auto_migrate_enabled(self) -> bool:
        if self.auto_migrate is None:
            return self.environment != "production"
        return self.auto_migrate

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def production_problems(self) -> list[str]:
        """Every reason this configuration must not run in production (empty when it may)."""
        if not self.is_production:
            return []
        problems: list[str] = []
        if self.jwt_algorithm == "HS256":
            weakness = secret_weakness(self.secret_key)
            if weakness:
                problems.append(f"MOVIEVERSE_SECRET_KEY {weakness}")
        elif self.jwt_public_key_file is None:
            problems.append(
                "MOVIEVERSE_JWT_PUBLIC_KEY_FILE must be set when MOVIEVERSE_JWT_ALGORITHM is "
                f"{self.jwt_algorithm}"
            )
        if self.auto_migrate is True:
            problems.append(
                "MOVIEVERSE_AUTO_MIGRATE must be false in production; run `movieverse migrate`"
            )
        if self.debug:
            problems.append("MOVIEVERSE_DEBUG must be false in production")
        if self.allow_seeding:
            weakness = secret_weakness(self.seed_token)
            if weakness:
                problems.append(
                    f"MOVIEVERSE_SEED_TOKEN {weakness} (required by MOVIEVERSE_ALLOW_SEEDING=true)"
                )
        return problems

    def ensure_safe(self) -> None:
        problems = self.production_problems()
        if problems:
            raise ConfigurationError(problems)


def secret_weakness(secret: SecretStr | None) -> str | None:
    """Why a secret is unacceptable in production, or None if it is acceptable."""
    if secret is None or not secret.get_secret_value():
        return "is not set"
    value = secret.get_secret_value()
    if value.strip().lower() in KNOWN_PLACEHOLDER_SECRETS:
        return "is a well-known placeholder"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is too short ({len(value)} characters; at least {MIN_SECRET_LENGTH} required)"
    if _shannon_bits(value) < MIN_SECRET_BITS:
        return "is too predictable (too few distinct characters); generate a random one"
    return None


def _shannon_bits(value: str) -> float:
    """Total Shannon entropy estimate of a string, in bits: catches 'aaaa...' and '1212...'."""
    counts = Counter(value)
    length = len(value)
    per_char = -sum((n / length) * math.log2(n / length) for n in counts.values())
    return per_char * length


class ServiceSettings(BaseSettings):
    """Base of each service's own settings; subclasses set ``env_prefix`` to MOVIEVERSE_<NAME>_."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str | None = None
    redis_url: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)


def resolve_database_url(platform: PlatformSettings, own: ServiceSettings, service: str) -> str:
    """Service URL, else the global URL, else a SQLite file for this service under var_dir."""
    url = own.database_url or platform.database_url
    if url:
        return url
    path = (platform.var_dir / f"{service}.db").resolve()
    return f"sqlite+aiosqlite:///{path}"


def resolve_redis_url(platform: PlatformSettings, own: ServiceSettings) -> str | None:
    return own.redis_url or platform.redis_url
