"""The small SQLite files the platform keeps beside the services' data: the in-process bus's dead
letters, the Kafka consumers' crash log, the revocations shared by one checkout's processes.
Written rarely and by several processes, so a plain connection in autocommit mode is enough."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

# How long opening a file waits for the other processes opening it at the same moment.
OPEN_WAIT_SECONDS = 30.0


def open_local_store(path: Path, schema: str) -> sqlite3.Connection:
    """A connection in autocommit mode (statements commit alone), the schema made if missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=OPEN_WAIT_SECONDS, isolation_level=None)
    try:
        _use_wal(connection)
        connection.executescript(schema)
    except BaseException:
        connection.close()
        raise
    return connection


def _use_wal(connection: sqlite3.Connection) -> None:
    # Switching a new file to WAL while another process opens it can fail at once with "database
    # is locked": SQLite does not always call the busy handler for that switch (seen in CI with two
    # revocation stores opening one new file). The switch is idempotent, so it is retried.
    deadline = time.monotonic() + OPEN_WAIT_SECONDS
    pause = 0.005
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
