"""Retention: data older than N days is deleted on a schedule, a bounded batch at a time, behind ingestion."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from store.model import Pruned

log = logging.getLogger(__name__)

NS_PER_DAY = 86_400 * 10**9


class PrunableStore(Protocol):
    def prune(self, before_unix_nano: int, max_sessions: int = ..., max_records: int = ...) -> Pruned: ...


def cutoff(days: float, now_ns: int | None = None) -> int:
    return (time.time_ns() if now_ns is None else now_ns) - int(days * NS_PER_DAY)


def prune_all(
    store: PrunableStore, before_unix_nano: int, on_batch: Callable[[Pruned], None] = lambda _: None
) -> Pruned:
    """Batches until nothing older than the cutoff is left (the CLI's `stepseven prune`)."""
    total = Pruned()
    while True:
        batch = store.prune(before_unix_nano)
        if batch.empty:
            return total
        total += batch
        on_batch(batch)


@dataclass(frozen=True, slots=True)
class RetentionStats:
    retention_days: float
    runs: int
    pruned_sessions: int
    pruned_spans: int
    pruned_log_records: int
    pruned_metric_points: int
    failures: int
    last_run_unix: float | None


class RetentionWorker:
    """Every ``interval_seconds``, prunes everything older than ``days``; yields while ingestion is busy."""

    def __init__(
        self,
        store: PrunableStore,
        days: float,
        *,
        interval_seconds: float = 600.0,
        ingest_busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self._store = store
        self._days = days
        self._interval = interval_seconds
        self._ingest_busy = ingest_busy
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._total = Pruned()
        self._runs = self._failures = 0
        self._last: float | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stepseven-retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def stats(self) -> RetentionStats:
        t = self._total
        return RetentionStats(
            self._days, self._runs, t.sessions, t.spans, t.log_records, t.metric_points, self._failures, self._last
        )

    def run_once(self) -> None:
        before = cutoff(self._days)
        while not self._stop.is_set():
            if self._ingest_busy():
                # Deleting competes with the writer for the disk and the database: ingestion goes first.
                self._stop.wait(0.5)
                continue
            try:
                batch = self._store.prune(before)
            except Exception:
                # A conflict with a session being rebuilt at the same moment: the next run retries.
                self._failures += 1
                log.exception("retention: a prune batch failed; retrying at the next run")
                return
            if batch.empty:
                return
            self._total += batch

    def _run(self) -> None:
        while not self._stop.wait(0 if self._runs == 0 else self._interval):
            self.run_once()
            self._runs += 1
            self._last = time.time()
