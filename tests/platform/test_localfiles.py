"""The platform's small SQLite files open safely when several processes open a new one at once."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from movieverse.platform.localfiles import open_local_store

_SCHEMA = "create table if not exists notes (text text)"


def test_connections_opening_one_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    # Without the retry around the switch to WAL, about one round in twenty failed here with
    # "database is locked" (4 connections racing on a new file, 200 rounds: 10 failures).
    failures: list[BaseException] = []
    for round_ in range(100):
        path = tmp_path / f"store-{round_}.db"
        start = threading.Barrier(4)

        def open_it(path: Path = path, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                connection = open_local_store(path, _SCHEMA)
                connection.execute("insert into notes values ('x')")
                connection.close()
            except BaseException as exc:  # collected: a thread's exception would be lost
                failures.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    with sqlite3.connect(tmp_path / "store-0.db") as check:
        assert check.execute("pragma journal_mode").fetchone() == ("wal",)
        assert check.execute("select count(*) from notes").fetchone() == (4,)
