"""Revoked sessions and deleted accounts: refused by every service, checked in process.

An access token stays valid until it expires (15 minutes by default) and every service verifies
it locally, so ending a session -- logout, logout-all, a password change, a refresh token replayed
by a thief -- or deleting an account must reach every process that verifies tokens. Each process
keeps a :class:`RevocationList` in memory (a dict lookup per request) and learns of revocations
three ways:

- the process that revokes applies it at once, after its commit (in the embedded shape every
  service shares the process, so that is the whole story there);
- a :class:`RevocationStore` shared by the deployment's processes: a SQLite file under ``var/``
  (processes of one checkout, polled) or Redis (a sorted set, plus a pub/sub channel so every
  process hears of it within milliseconds). A process loads what is active when it starts, so a
  restart forgets nothing;
- events: ``auth.session.revoked`` and ``users.user.deleted``, written to the revoking service's
  outbox in the same transaction as the change, so a crash between the commit and the store write
  still revokes. Each service's consumer group gets them; the replica that handles one applies it
  and writes it to the store, whose fan-out reaches the group's other replicas.

An entry lives as long as a token it covers could: a session's until its last access token
expires, a deleted account's for the longest lifetime an access token may have.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from uuid import UUID

import structlog
from redis.asyncio import Redis

from movieverse.platform.localfiles import open_local_store

log = structlog.get_logger("movieverse.revocation")

RevocationKind = Literal["session", "user"]
# The longest an access token may live (AuthSettings caps its TTL at a day): how long a deleted
# account's entry must outlive the deletion. Services other than auth do not know auth's TTL.
MAX_ACCESS_TOKEN_SECONDS = 24 * 3600
# Verification accepts tokens up to this many seconds past their expiry (security.py's leeway).
TOKEN_LEEWAY_SECONDS = 5


@dataclass(frozen=True)
class Revocation:
    kind: RevocationKind
    subject: str  # a session id (the token's ``sid``) or a user id
    until: float  # Unix time after which no token it covers can still be valid

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "subject": self.subject, "until": self.until})

    @classmethod
    def from_json(cls, text: str | bytes) -> Revocation:
        data = json.loads(text)
        kind = data["kind"]
        if kind not in ("session", "user"):
            raise ValueError(f"unknown revocation kind {kind!r}")
        return cls(kind=kind, subject=str(data["subject"]), until=float(data["until"]))


def session_revocations(session_ids: Iterable[str], *, ttl_seconds: float) -> list[Revocation]:
    until = time.time() + ttl_seconds + TOKEN_LEEWAY_SECONDS
    return [Revocation("session", sid, until) for sid in session_ids]


def user_revocation(user_id: UUID | str) -> Revocation:
    until = time.time() + MAX_ACCESS_TOKEN_SECONDS + TOKEN_LEEWAY_SECONDS
    return Revocation("user", str(user_id), until)


class RevocationList:
    """What this process refuses: session ids and user ids, each until a moment."""

    PRUNE_EVERY = 1024

    def __init__(self) -> None:
        self._sessions: dict[str, float] = {}
        # Keyed by UUID: the principal carries one, and formatting it as text costs more than
        # the lookup itself.
        self._users: dict[UUID, float] = {}
        self._applied_since_prune = 0

    def _entries(self, revocation: Revocation) -> tuple[dict[Any, float], str | UUID]:
        if revocation.kind == "user":
            return self._users, UUID(revocation.subject)
        return self._sessions, revocation.subject

    def apply(self, revocation: Revocation) -> bool:
        """Record it; True if it was new here (or extends an entry)."""
        entries, key = self._entries(revocation)
        known = entries.get(key)
        if known is not None and known >= revocation.until:
            return False
        entries[key] = revocation.until
        self._applied_since_prune += 1
        if self._applied_since_prune >= self.PRUNE_EVERY:
            self.prune()
        return True

    def knows(self, revocation: Revocation) -> bool:
        entries, key = self._entries(revocation)
        known = entries.get(key)
        return known is not None and known >= revocation.until

    def refusal(self, *, user_id: UUID, session_id: str | None) -> str | None:
        """Why a token of this user and session must be refused, or None. Two dict lookups, and
        the clock only when one hits: this runs on every authenticated request."""
        until = self._users.get(user_id)
        if until is not None and until > time.time():
            return "This account has been deleted"
        if session_id is not None:
            until = self._sessions.get(session_id)
            if until is not None and until > time.time():
                return "This session has ended; sign in again"
        return None

    def prune(self) -> None:
        now = time.time()
        for entries in (self._sessions, self._users):
            expired: list[Any] = [k for k, until in entries.items() if until <= now]
            for key in expired:
                del entries[key]
        self._applied_since_prune = 0

    def __len__(self) -> int:
        return len(self._sessions) + len(self._users)


Apply = Callable[[Revocation], object]


class RevocationStore(Protocol):
    """Where revocations outlive a process and reach the deployment's other processes."""

    async def add(self, revocations: Iterable[Revocation]) -> None:
        """Durably record them and let every follower hear of them."""
        ...

    async def active(self) -> list[Revocation]:
        """Every revocation that has not run out."""
        ...

    async def follow(self, apply: Apply) -> None:
        """Run until cancelled, calling ``apply`` with what other processes add (and, after a
        reconnection, with everything active, so nothing added meanwhile is missed)."""
        ...

    async def close(self) -> None: ...


_SCHEMA = """
create table if not exists revocations (
    seq integer primary key autoincrement,
    kind text not null,
    subject text not null,
    until real not null
);
create index if not exists ix_revocations_until on revocations (until);
"""


class LocalFileRevocationStore:
    """A SQLite file beside the services' data, for the processes of one checkout (embedded
    shape, and ``serve NAME`` without Redis). Followers poll it for rows past the last seen."""

    def __init__(self, path: Path, *, poll_seconds: float = 0.1) -> None:
        self.path = path
        self._poll = poll_seconds
        self._connection: sqlite3.Connection | None = None
        # Every use of the connection, its closing included, runs on this one thread, in order:
        # a caller cancelled mid-query (the follower, at shutdown) cannot have the connection
        # closed under a query still running, as it could with a worker thread per call.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="revocations")

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = open_local_store(self.path, _SCHEMA)
        return self._connection

    async def _run(
        self, sql: str, rows: Iterable[tuple[object, ...]] = ((),)
    ) -> list[tuple[object, ...]]:
        def run() -> list[tuple[object, ...]]:
            connection = self._connect()
            found: list[tuple[object, ...]] = []
            for params in rows:
                found.extend(connection.execute(sql, params).fetchall())
            return found

        return await asyncio.get_running_loop().run_in_executor(self._thread, run)

    async def add(self, revocations: Iterable[Revocation]) -> None:
        await self._run(
            "insert into revocations (kind, subject, until) values (?, ?, ?)",
            [(r.kind, r.subject, r.until) for r in revocations],
        )

    async def active(self) -> list[Revocation]:
        rows = await self._run(
            "select kind, subject, until from revocations where until > ?", [(time.time(),)]
        )
        return [_row(kind, subject, until) for kind, subject, until in rows]

    async def follow(self, apply: Apply) -> None:
        last = await self._last_seq()
        # Then everything active, as the Redis store does: a row added after the caller's own
        # load but before ``last`` was read would otherwise be seen by neither (applying a known
        # revocation again is a no-op).
        for revocation in await self.active():
            apply(revocation)
        while True:
            await asyncio.sleep(self._poll)
            try:
                rows = await self._run(
                    "select seq, kind, subject, until from revocations where seq > ? order by seq",
                    [(last,)],
                )
                for seq, kind, subject, until in rows:
                    last = max(last, int(str(seq)))
                    apply(_row(kind, subject, until))
                if rows:
                    await self._run("delete from revocations where until <= ?", [(time.time(),)])
            except sqlite3.Error as exc:  # keep following; the rows stay in the file
                log.warning("revocation_poll_failed", error=repr(exc))

    async def _last_seq(self) -> int:
        rows = await self._run("select coalesce(max(seq), 0) from revocations")
        return int(str(rows[0][0]))

    async def close(self) -> None:
        def close() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        # Queued behind whatever still runs; then the thread ends.
        await asyncio.get_running_loop().run_in_executor(self._thread, close)
        self._thread.shutdown(wait=False)


def _row(kind: object, subject: object, until: object) -> Revocation:
    if kind not in ("session", "user"):
        raise ValueError(f"unknown revocation kind {kind!r}")
    return Revocation(kind=kind, subject=str(subject), until=float(until))  # type: ignore[arg-type]


PUBSUB_WAIT_SECONDS = 5.0


class RedisRevocationStore:
    """A sorted set (member ``kind:subject``, score ``until``) and a pub/sub channel."""

    RECONNECT_SECONDS = 0.5

    def __init__(self, client: Redis, *, prefix: str) -> None:
        self._redis = client
        self._key = f"{prefix}revocations"
        self._channel = f"{prefix}revocations:added"

    @classmethod
    def from_url(cls, url: str, *, prefix: str) -> RedisRevocationStore:
        client = Redis.from_url(
            url, socket_connect_timeout=5, socket_keepalive=True, health_check_interval=30
        )
        return cls(client, prefix=prefix)

    async def add(self, revocations: Iterable[Revocation]) -> None:
        items = list(revocations)
        if not items:
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            # GT: a later expiry wins, an earlier one never shortens an entry.
            pipe.zadd(self._key, {f"{r.kind}:{r.subject}": r.until for r in items}, gt=True)
            pipe.zremrangebyscore(self._key, "-inf", time.time())
            for revocation in items:
                pipe.publish(self._channel, revocation.to_json())
            await pipe.execute()

    async def active(self) -> list[Revocation]:
        found: list[Any] = list(
            await self._redis.zrangebyscore(self._key, time.time(), "+inf", withscores=True)
        )
        revocations = []
        for member, score in found:
            text = member.decode() if isinstance(member, bytes) else str(member)
            kind, _, subject = text.partition(":")
            revocations.append(_row(kind, subject, score))
        return revocations

    async def follow(self, apply: Apply) -> None:
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                # Subscribed first, then loaded: whatever was added in between arrives twice,
                # never not at all.
                for revocation in await self.active():
                    apply(revocation)
                while True:
                    # A bounded wait, never a blocking read: each call lets redis-py send its
                    # health-check PING, so a half-open connection (a failover, an idle
                    # connection dropped by a firewall) fails and is reconnected instead of
                    # leaving this process deaf to revocations for good.
                    message = await pubsub.get_message(timeout=PUBSUB_WAIT_SECONDS)
                    if message is None or message.get("type") != "message":
                        continue
                    try:
                        apply(Revocation.from_json(message["data"]))
                    except (ValueError, KeyError) as exc:
                        log.warning("revocation_message_unreadable", error=repr(exc))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the connection dropped: reconnect and reload
                log.warning("revocation_follow_reconnecting", error=repr(exc))
                await asyncio.sleep(self.RECONNECT_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        await self._redis.aclose()


class Revocations:
    """One process's revocations: its list, the deployment's store, and the follower task."""

    def __init__(self, store: RevocationStore) -> None:
        self.list = RevocationList()
        self.store = store
        self._follower: asyncio.Task[None] | None = None
        # Applied here but not yet in the store (its write failed): sent with the next revoke.
        self._unsent: list[Revocation] = []

    async def start(self, *, follow: bool = True) -> None:
        for revocation in await self.store.active():
            self.list.apply(revocation)
        if follow:
            self._follower = asyncio.create_task(
                self.store.follow(self.list.apply), name="revocation-follower"
            )

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None
        await self.store.close()

    async def revoke(self, revocations: Iterable[Revocation]) -> None:
        """Refuse these here at once, then tell the deployment (a no-op for what is known).

        If the store write fails, the entries stay refused here and are kept: the next call --
        the event consumer's retry of this same revocation, at the latest -- sends them again,
        rather than taking them for known and leaving the other processes unaware."""
        fresh = [r for r in revocations if self.list.apply(r)]
        unsent, self._unsent = self._unsent + fresh, []
        if not unsent:
            return
        try:
            await self.store.add(unsent)
        except BaseException:
            self._unsent = unsent + self._unsent
            raise

    def refusal(self, *, user_id: UUID, session_id: str | None) -> str | None:
        return self.list.refusal(user_id=user_id, session_id=session_id)


def create_revocation_store(
    *, redis_url: str | None, var_dir: Path, prefix: str
) -> RevocationStore:
    if redis_url is not None and redis_url != "memory://":
        return RedisRevocationStore.from_url(redis_url, prefix=prefix)
    return LocalFileRevocationStore(var_dir / "revocations.db")
