"""The single writer: a bounded queue, one thread, group commit.

Receivers hand over a batch and get a future; the future resolves only after the transaction
holding that batch has committed, so an acknowledged span is a durable span. Whatever queued
up while one transaction ran goes into the next one, so commits grow with load instead of
costing one per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from store.model import Batch, WriteResult

log = logging.getLogger(__name__)


class BatchStore(Protocol):
    def write(self, batch: Batch) -> WriteResult: ...


class WriterError(Exception):
    """The base of the writer's refusals."""


class QueueFull(WriterError):
    pass


class WriterClosed(WriterError):
    pass


class CommitFailed(WriterError):
    pass


@dataclass(slots=True)
class _Item:
    batch: Batch
    size: int
    future: Future[WriteResult]


@dataclass(frozen=True, slots=True)
class WriterStats:
    queued_items: int
    max_queue_items: int
    commits: int
    committed_spans: int
    committed_logs: int
    committed_metric_points: int
    duplicates_skipped: int
    failed_commits: int
    last_commit_ms: float
    last_commit_items: int


class Writer:
    def __init__(
        self,
        store: BatchStore,
        max_queue_items: int,
        max_batch_items: int,
        on_commit: Callable[[Batch], None] | None = None,
    ) -> None:
        self._store = store
        self._on_commit = on_commit
        self._max_queue = max_queue_items
        self._max_batch = max_batch_items
        self._queue: deque[_Item] = deque()
        self._pending = 0  # queued plus being written
        self._cond = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._commits = 0
        self._spans = self._logs = self._points = self._dupes = self._failed = 0
        self._last_ms = 0.0
        self._last_items = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stepseven-writer", daemon=True)
        self._thread.start()

    def submit(self, batch: Batch) -> Future[WriteResult]:
        size = len(batch)
        future: Future[WriteResult] = Future()
        future.set_running_or_notify_cancel()  # a waiter that gives up must not cancel the write
        if size == 0:
            future.set_result(WriteResult(0, 0, 0))
            return future
        with self._cond:
            if self._closing:
                raise WriterClosed("the collector is shutting down")
            if self._pending + size > self._max_queue:
                raise QueueFull(f"the write queue is full ({self._pending} of {self._max_queue} items waiting)")
            self._pending += size
            self._queue.append(_Item(batch, size, future))
            self._cond.notify()
        return future

    def stop(self, timeout: float = 60.0) -> None:
        """Refuse new batches, write everything queued, then return."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def stats(self) -> WriterStats:
        with self._cond:
            return WriterStats(
                self._pending,
                self._max_queue,
                self._commits,
                self._spans,
                self._logs,
                self._points,
                self._dupes,
                self._failed,
                round(self._last_ms, 2),
                self._last_items,
            )

    def _take(self) -> list[_Item] | None:
        with self._cond:
            while not self._queue and not self._closing:
                self._cond.wait()
            if not self._queue:
                return None
            items = [self._queue.popleft()]
            total = items[0].size
            while self._queue and total + self._queue[0].size <= self._max_batch:
                item = self._queue.popleft()
                total += item.size
                items.append(item)
            return items

    def _run(self) -> None:
        while (items := self._take()) is not None:
            if not self._commit(items) and len(items) > 1:
                # One bad request must not fail the others merged with it: write them one by one.
                for item in items:
                    self._commit([item])

    def _commit(self, items: list[_Item]) -> bool:
        """Writes items in one transaction and answers their futures; False if it failed."""
        merged = Batch.merge([item.batch for item in items])
        size = sum(item.size for item in items)
        started = time.perf_counter()
        try:
            result = self._store.write(merged)
        except Exception as exc:
            log.exception("commit of %d items failed", size)
            if len(items) > 1:
                return False  # the caller retries them one by one; nothing is answered yet
            with self._cond:
                self._pending -= size
                self._failed += 1
            items[0].future.set_exception(CommitFailed(f"the store could not commit: {exc}"))
            return True
        with self._cond:
            self._pending -= size
            self._commits += 1
            self._spans += result.spans
            self._logs += result.logs
            self._points += result.metric_points
            self._dupes += size - result.spans - result.logs - result.metric_points
            self._last_ms = (time.perf_counter() - started) * 1000
            self._last_items = size
        for item in items:
            item.future.set_result(result)
        if self._on_commit is not None:
            try:
                self._on_commit(merged)
            except Exception:
                log.exception("the commit hook failed")
        return True
