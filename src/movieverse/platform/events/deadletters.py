"""Where the in-process bus keeps dead letters: a small SQLite file beside the services' data.

A broker keeps its own (a RabbitMQ queue, a Kafka topic); the in-process bus has none, and an
event its consumer gave up on must outlive the process so it can be looked at and replayed
(``movieverse dlq``) once the cause is fixed. The command runs in a process of its own: it marks
letters for replay here, and the bus of the running server, which alone has the consumers,
delivers them on its next poll.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import datetime
from pathlib import Path

from movieverse.contracts.envelope import Event
from movieverse.platform.events.bus import DeadLetter
from movieverse.platform.localfiles import open_local_store

_SCHEMA = """
create table if not exists dead_letters (
    id integer primary key,
    consumer_group text not null,
    event text not null,
    error text not null,
    attempts integer not null,
    failed_at text not null,
    replay integer not null default 0
);
create index if not exists ix_dead_letters_group on dead_letters (consumer_group, id);
"""


class DeadLetterStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        return open_local_store(self.path, _SCHEMA)

    async def _run(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        def run() -> list[tuple[object, ...]]:
            with self._connect() as connection:
                rows = connection.execute(sql, params).fetchall()
                connection.commit()
                return rows

        return await asyncio.to_thread(run)

    async def add(self, letter: DeadLetter) -> None:
        await self._run(
            "insert into dead_letters (consumer_group, event, error, attempts, failed_at) "
            "values (?, ?, ?, ?, ?)",
            letter.group,
            letter.event.model_dump_json(),
            letter.error,
            letter.attempts,
            letter.failed_at.isoformat(),
        )

    async def letters(self, group: str | None) -> list[DeadLetter]:
        rows = await self._rows("where consumer_group = ? or ? is null", group, group)
        return [letter for _, letter in rows]

    async def request_replay(self, group: str) -> int:
        rows = await self._run(
            "update dead_letters set replay = 1 where consumer_group = ? returning id", group
        )
        return len(rows)

    async def to_replay(self, groups: set[str]) -> list[tuple[int, DeadLetter]]:
        rows = await self._rows("where replay = 1")
        return [(i, letter) for i, letter in rows if letter.group in groups]

    async def remove(self, letter_id: int) -> None:
        await self._run("delete from dead_letters where id = ?", letter_id)

    async def purge(self, group: str) -> int:
        return len(
            await self._run("delete from dead_letters where consumer_group = ? returning id", group)
        )

    async def _rows(self, where: str, *params: object) -> list[tuple[int, DeadLetter]]:
        # ``where`` is always one of this module's own fixed clauses, never caller text.
        rows = await self._run(
            "select id, consumer_group, event, error, attempts, failed_at from dead_letters "  # noqa: S608
            f"{where} order by id",
            *params,
        )
        return [
            (
                int(str(i)),
                DeadLetter(
                    group=str(group),
                    event=Event.model_validate(json.loads(str(event))),
                    error=str(error),
                    attempts=int(str(attempts)),
                    failed_at=datetime.fromisoformat(str(failed_at)),
                ),
            )
            for i, group, event, error, attempts, failed_at in rows
        ]
