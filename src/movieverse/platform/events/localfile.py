"""The small SQLite files the event plumbing keeps beside the services' data: the in-process
bus's dead letters and the Kafka consumers' crash log. Written rarely; read by a command or on
start-up, so a plain connection per use is enough."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_local_store(path: Path, schema: str) -> sqlite3.Connection:
    """A connection in autocommit mode (statements commit alone), the schema made if missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.executescript(schema)
    return connection
