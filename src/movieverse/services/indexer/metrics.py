"""The indexer's Prometheus metrics: how far behind the index is, and what a reindex has left."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from prometheus_client import Counter, Gauge, Histogram

from movieverse.contracts.envelope import Event
from movieverse.platform.observability import process_registry


@dataclass(frozen=True)
class IndexerMetrics:
    lag: Histogram
    newest_age: Gauge
    indexed: Counter
    reindex_backlog: Gauge

    def observe(self, kind: str, events: Sequence[Event], now: datetime) -> None:
        """Each event's lag from its commit (``occurred_at``) to searchable."""
        for event in events:
            self.lag.labels(kind).observe(max((now - event.occurred_at).total_seconds(), 0.0))
        if events:
            newest = max(event.occurred_at for event in events)
            self.newest_age.labels(kind).set(max((now - newest).total_seconds(), 0.0))
        self.indexed.labels(kind).inc(len(events))


@cache
def indexer_metrics() -> IndexerMetrics:
    registry = process_registry()
    return IndexerMetrics(
        lag=Histogram(
            "movieverse_indexer_lag_seconds",
            "From an event's commit in its service to its change being searchable, by kind",
            ["kind"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=registry,
        ),
        newest_age=Gauge(
            "movieverse_indexer_last_batch_lag_seconds",
            "Lag of the newest event of the last batch indexed, by kind",
            ["kind"],
            registry=registry,
        ),
        indexed=Counter(
            "movieverse_indexer_events",
            "Events applied to the index, by kind",
            ["kind"],
            registry=registry,
        ),
        reindex_backlog=Gauge(
            "movieverse_indexer_reindex_backlog_documents",
            "Documents the running reindex job has still to load",
            registry=registry,
        ),
    )
