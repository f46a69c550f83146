"""Counting the deliveries that killed their consumer, for the Kafka adapter.

Kafka keeps no delivery count. A record whose handler kills the process (out of memory, a crash
in native code, a hang that the supervisor ends) is fetched again from the committed offset after
every restart, so a crash loop would block its partition for ever. RabbitMQ counts redeliveries
itself (``x-delivery-limit``); for Kafka the consumer counts:

* before the first records it handles on a partition after it starts -- after a crash, the very
  records the crash interrupted -- it notes "attempting offset N" here, and forgets the note once
  they are done;
* finding its own note for N on the next start means that attempt never finished. The partition
  is then worked one record at a time, each noted first, so the record that kills is the one
  noted again and again; past ``max_attempts`` it goes to the dead letters unhandled.

Only those first records are noted, so the steady flow pays nothing. The notes are a small SQLite
file on the host, not in the broker: offset-commit metadata would be the place, but Tansu (the
broker the tests use) drops it. A partition that moves to another host starts counting from zero
there, so a crash loop still ends, after at most ``max_attempts`` crashes per host.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from movieverse.platform.localfiles import open_local_store

_SCHEMA = """
create table if not exists attempts (
    consumer_group text not null,
    topic text not null,
    partition integer not null,
    offset integer not null,
    attempts integer not null,
    primary key (consumer_group, topic, partition)
)
"""


class CrashLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        return open_local_store(self.path, _SCHEMA)

    async def attempt(self, group: str, topic: str, partition: int, offset: int) -> int:
        """Note an attempt at ``offset``; how many attempts at it this makes (1: the first)."""

        def note() -> int:
            with contextlib.closing(self._connect()) as connection:
                row = connection.execute(
                    "select offset, attempts from attempts "
                    "where consumer_group = ? and topic = ? and partition = ?",
                    (group, topic, partition),
                ).fetchone()
                attempts = row[1] + 1 if row is not None and row[0] == offset else 1
                connection.execute(
                    "insert or replace into attempts values (?, ?, ?, ?, ?)",
                    (group, topic, partition, offset, attempts),
                )
                return int(attempts)

        return await asyncio.to_thread(note)

    async def done(self, group: str, topic: str, partition: int) -> None:
        def forget() -> None:
            with contextlib.closing(self._connect()) as connection:
                connection.execute(
                    "delete from attempts where consumer_group = ? and topic = ? and partition = ?",
                    (group, topic, partition),
                )

        await asyncio.to_thread(forget)
