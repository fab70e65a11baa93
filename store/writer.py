"""The single writer: a bounded queue, one thread, group commit.

Receivers hand over a batch and get a future; the future resolves only after the transaction
holding that batch has committed, so an acknowledged span is a durable span. Whatever queued
up while one transaction ran goes into the next one, so commits grow with load instead of
costing one per request.

With a journal (the DuckDB store), acknowledging and storing are two steps on two threads: the
journal thread appends each group of requests to the journal, syncs it and answers their futures;
the flush thread writes what the journal holds to the store in transactions of a row group or more,
which DuckDB writes once, compressed, instead of into its WAL and again at a checkpoint
(store/journal.py). Reads see what is committed and never ask for a flush (a client polling
``count(*)`` once turned every acknowledgement into a commit of its own); the query API says when
acknowledged records are still in the journal (``stats().unflushed_items``), so a short count is
never silent. ``wait_visible`` flushes at once, for tools that need everything in the store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from store.model import Batch, StoreOutOfMemory, WriteResult

if TYPE_CHECKING:  # the decode workers import this module for its errors: nothing heavy at run time
    from store.journal import Journal, Record

log = logging.getLogger(__name__)

# The most Arrow bytes one transaction writes to the store. A row group of ordinary agent spans (about
# 1.75 KB on the wire) stays under it, so those flushes stay whole row groups; spans that carry long
# message histories (tens of KB each) would make a row group hundreds of MB, more than the store's
# memory limit holds, so their flushes are cut by bytes (docs/ingest.md, "Large requests").
FLUSH_BYTES = 32 * 1024 * 1024
# What the journal holds is written to the store at least this often (more often under load: a row group).
FLUSH_SECONDS = 2.0


# Disk room kept for one more request when the receivers decide whether to accept: twice the Arrow
# size of a request of 512 agent spans of 2.3 KB (see _space_needed).
REQUEST_HEADROOM_BYTES = 4 * 1024 * 1024


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
    # With a journal: acknowledged items not yet in the store, and flushes that failed (and are retried).
    unflushed_items: int = 0
    failed_flushes: int = 0
    journal_bytes: int = 0
    # Acknowledged items that the store refused at the last flush and that wait for a retry, and why.
    unstored_items: int = 0
    flush_error: str | None = None


@dataclass(slots=True)
class _Unflushed:
    """An acknowledged batch: where it is in the journal, not its rows (they are read back to flush)."""

    records: list[Record]
    size: int

    @property
    def nbytes(self) -> int:
        return sum(r.length for r in self.records)

    @property
    def segment(self) -> int:
        return self.records[0].segment  # one append writes one segment


class Writer:
    def __init__(
        self,
        store: BatchStore,
        max_queue_items: int,
        max_batch_items: int,
        on_commit: Callable[[Batch], None] | None = None,
        *,
        journal: Journal | None = None,
        flush_items: int = 10_240,
        flush_seconds: float = FLUSH_SECONDS,
        flush_bytes: int = FLUSH_BYTES,
        disk_problem: Callable[[int], str | None] | None = None,
    ) -> None:
        self._store = store
        # A sentence while the disk cannot take this many more bytes (and its reserve).
        self._disk_problem = disk_problem or (lambda needed: None)
        self._on_commit = on_commit
        self._max_queue = max_queue_items
        self._max_batch = max_batch_items
        self._queue: deque[_Item] = deque()
        self._pending = 0  # queued, being written, and (with a journal) acknowledged but not flushed
        self._cond = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._commits = 0
        self._spans = self._logs = self._points = self._dupes = self._failed = 0
        self._last_ms = 0.0
        self._last_items = 0
        # The journal's state. Appends and rotations are ordered by _journal_lock (taken before _cond).
        self._journal = journal
        self._journal_lock = threading.Lock()
        self._flush_items = flush_items
        self._flush_bytes = flush_bytes
        self._flush_seconds = flush_seconds
        # Unflushed items beyond which the journal thread stops acknowledging: it bounds how far the
        # store may fall behind, and so the size of a flush (whose rows are mapped into memory). Half a
        # flush more than a flush, so that acknowledgements go on while one is written.
        self._max_unflushed = flush_items + flush_items // 2
        self._unflushed: list[_Unflushed] = []
        self._unflushed_items = 0
        self._unflushed_since: float | None = None
        self._flushing_items = 0
        self._acked = 0  # acknowledgements so far (a sequence number)
        self._flushed = 0  # the acknowledgement up to which everything is in the store
        self._flush_wanted = False
        self._flushing_bytes = 0  # journal bytes of the flush being written
        self._failed_flushes = 0
        # Acknowledged items the last flush could not store (retried until it can), and why.
        self._unstored_items = 0
        self._flush_error: str | None = None
        self._journal_done = False
        self._retry_now = False
        self._flusher: threading.Thread | None = None
        if journal is not None:
            self._recover(journal)

    def _recover(self, journal: Journal) -> None:
        # A journal left by a collector that was killed: its records were acknowledged, so they go to
        # the store before anything else (the first flush runs as soon as the writer starts).
        for number in journal.segments():
            if number == journal.current:
                continue
            for record, rows in journal.records(number):
                self._unflushed.append(_Unflushed([record], rows))
                self._unflushed_items += rows
        if self._unflushed:
            log.warning(
                "found %d acknowledged items in the journal %s that are not in the store yet; writing them",
                self._unflushed_items,
                journal.directory,
            )
            self._pending = self._unflushed_items
            self._unflushed_since = time.monotonic()
            self._flush_wanted = True
            self._acked = 1  # reads wait for them like for any acknowledged batch

    def start(self) -> None:
        if self._journal is None:
            self._thread = threading.Thread(target=self._run, name="stepseven-writer", daemon=True)
        else:
            self._thread = threading.Thread(target=self._run_journal, name="stepseven-journal", daemon=True)
            self._flusher = threading.Thread(target=self._run_flush, name="stepseven-writer", daemon=True)
            self._flusher.start()
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
            self._cond.notify_all()
        return future

    def stop(self, timeout: float = 60.0) -> None:
        """Refuse new batches, write everything queued, then return."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in (self._thread, self._flusher):
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        if self._journal is not None and (self._flusher is None or not self._flusher.is_alive()):
            with self._journal_lock:
                self._journal.close()

    def retry_now(self) -> None:
        """Whatever made the store refuse a flush is gone (space freed): retry without waiting out the backoff."""
        with self._cond:
            self._retry_now = True
            self._cond.notify_all()

    def wait_flushed(self, timeout: float) -> bool:
        """Waits, without asking for it, for the flush that brings every batch acknowledged so far into the
        store (the next one is due within ``flush_seconds``); False if ``timeout`` ran out first."""
        return self._wait_for_flush(timeout, ask=False)

    def wait_visible(self, timeout: float) -> bool:
        """Flushes now and waits until every batch acknowledged so far is in the store; False if ``timeout``
        ran out. For tools and tests that need everything stored; queries never call it."""
        return self._wait_for_flush(timeout, ask=True)

    def _wait_for_flush(self, timeout: float, *, ask: bool) -> bool:
        if self._journal is None:
            return True  # without a journal an acknowledged batch is committed already
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._acked
            while self._flushed < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                if ask:
                    self._flush_wanted = True
                    self._cond.notify_all()
                self._cond.wait(left)
        return True

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
                self._unflushed_items + self._flushing_items,
                self._failed_flushes,
                self._journal.bytes_written if self._journal is not None else 0,
                self._unstored_items,
                self._flush_error,
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

    # -- without a journal: acknowledged after the store's commit ---------------------------------

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
        self._count_commit(size, result, started)
        for item in items:
            item.future.set_result(result)
        self._committed(merged)
        return True

    def _count_commit(self, size: int, result: WriteResult, started: float) -> None:
        with self._cond:
            self._pending -= size
            self._commits += 1
            self._spans += result.spans
            self._logs += result.logs
            self._points += result.metric_points
            self._dupes += size - result.spans - result.logs - result.metric_points
            self._last_ms = (time.perf_counter() - started) * 1000
            self._last_items = size

    def _committed(self, batch: Batch) -> None:
        if self._on_commit is not None:
            try:
                self._on_commit(batch)
            except Exception:
                log.exception("the commit hook failed")

    # -- with a journal: acknowledged once journaled, flushed to the store in row groups -----------

    def _run_journal(self) -> None:
        assert self._journal is not None
        try:
            while (items := self._take()) is not None:
                with self._cond:
                    # The store is behind: stop acknowledging until it catches up (exports wait, then
                    # the queue fills and receivers answer 503 / RESOURCE_EXHAUSTED).
                    while self._unflushed_items + self._flushing_items >= self._max_unflushed:
                        self._cond.wait()
                # What the store would refuse is refused now, before it is acknowledged.
                fit: list[_Item] = []
                for item in items:
                    problem = item.batch.problem()
                    if problem is None:
                        fit.append(item)
                    else:
                        self._refuse([item], f"the store cannot take this batch: {problem}")
                if fit and (problem := self._disk_problem(self._space_needed(fit))) is not None:
                    # Requests queued before the receivers began refusing must not fill the disk either.
                    self._refuse(fit, problem)
                elif fit:
                    self._acknowledge(fit)
        finally:
            with self._cond:
                self._journal_done = True
                self._cond.notify_all()

    def _acknowledge(self, items: list[_Item]) -> None:
        assert self._journal is not None
        with self._journal_lock:
            try:
                positions = self._journal.append([item.batch for item in items])
            except OSError as exc:
                log.exception("the journal could not be written")
                self._refuse(items, f"the journal could not be written ({exc})")
                return
            with self._cond:
                if self._unflushed_since is None:
                    self._unflushed_since = time.monotonic()
                # Only positions are kept: the rows are on disk, and mapped back at the flush, so the
                # acknowledged batches waiting for it hold no memory of this process.
                self._unflushed.extend(
                    _Unflushed(records, item.size) for item, records in zip(items, positions, strict=True)
                )
                self._unflushed_items += sum(item.size for item in items)
                self._acked += 1
                self._cond.notify_all()
        for item in items:
            batch = item.batch
            item.future.set_result(WriteResult(len(batch.spans), len(batch.logs), len(batch.metric_points)))

    def disk_problem(self) -> str | None:
        """Why exports are refused for lack of disk now, or None: the reserve, what the journal still
        holds, and room for a request, the same rule the journal applies to each request."""
        return self._disk_problem(self._space_needed([]) + REQUEST_HEADROOM_BYTES)

    def _space_needed(self, items: list[_Item]) -> int:
        """Bytes the disk must still take for what the journal holds and these items: each is journaled
        (compressed, about 0.4 of its Arrow size) and then flushed, through the store's WAL when a flush
        is smaller than a row group (about the Arrow size again). Over-counted rather than under."""
        with self._cond:
            journaled = sum(e.nbytes for e in self._unflushed) + self._flushing_bytes
        arrow = sum(item.batch.nbytes for item in items)
        return 3 * journaled + 2 * arrow

    def _refuse(self, items: list[_Item], message: str) -> None:
        with self._cond:
            self._pending -= sum(item.size for item in items)
            self._failed += 1
            self._cond.notify_all()
        for item in items:
            item.future.set_exception(CommitFailed(message))

    def _flush_due(self) -> bool:
        if not self._unflushed:
            return False
        if self._unflushed_items >= self._flush_items or self._journal_done:
            return True
        if self._flush_wanted:
            return True
        return self._unflushed_since is not None and time.monotonic() - self._unflushed_since >= self._flush_seconds

    def _run_flush(self) -> None:
        while True:
            try:
                self._flush_loop()
                return
            except Exception:
                # Nothing above is expected to raise; if it did, a writer that stopped flushing would
                # stop all ingest once the journal reached its bound, so it logs and goes on.
                log.exception("the journal's flush thread failed; starting it over")
                time.sleep(1.0)

    def _flush_loop(self) -> None:
        journal = self._journal
        assert journal is not None
        retry_after = 0.0
        while True:
            with self._cond:
                while not self._flush_due():
                    if self._journal_done and not self._unflushed:
                        return
                    wait = None
                    if self._unflushed_since is not None:
                        wait = max(0.001, self._unflushed_since + self._flush_seconds - time.monotonic())
                    self._cond.wait(wait)
            with self._journal_lock, self._cond:
                shutting_down = self._journal_done
                entries, self._unflushed = self._unflushed, []
                self._flushing_items, self._unflushed_items = self._unflushed_items, 0
                self._flushing_bytes = sum(e.nbytes for e in entries)
                self._unflushed_since = None
                self._flush_wanted = False
                target = self._acked
                try:
                    # New appends go to a new segment, so that the ones holding these entries can go.
                    journal.rotate()
                except OSError:
                    log.exception("could not start a new journal segment; the current one is kept")
            kept = self._flush(entries) if entries else []
            with self._journal_lock, self._cond:
                self._flushing_items = self._flushing_bytes = 0
                # Reads stop waiting even for entries the store refused: they wait for the store, not
                # for the impossible; the failure is logged and counted.
                self._flushed = max(self._flushed, target)
                self._unstored_items = sum(e.size for e in kept)
                if not kept:
                    self._flush_error = None
                if kept:
                    self._failed_flushes += 1
                    self._unflushed[:0] = kept
                    self._unflushed_items += sum(e.size for e in kept)
                    self._unflushed_since = time.monotonic()
                held = {e.segment for e in self._unflushed}
                self._cond.notify_all()
                try:
                    for number in journal.segments():
                        if number < journal.current and number not in held:
                            journal.remove(number)
                except OSError:
                    log.exception("could not delete a flushed journal segment; it is written again on the next start")
            if not kept:
                retry_after = 0.0
                continue
            with self._cond:
                if self._journal_done and not shutting_down:
                    # Shutdown was asked for while this flush was failing: one more try before giving up.
                    continue
                if self._journal_done:
                    log.error(
                        "%d acknowledged items could not be written to the store before shutdown; they stay in "
                        "the journal %s and are written on the next start",
                        sum(e.size for e in kept),
                        journal.directory,
                    )
                    return
                # The store refuses for now (a full disk, out of memory, a reopen): try again later.
                retry_after = min(30.0, max(1.0, retry_after * 2))
                self._cond.wait_for(lambda: self._journal_done or self._retry_now, retry_after)
                self._retry_now = False

    def _flush(self, entries: list[_Unflushed]) -> list[_Unflushed]:
        """Writes entries to the store, at most flush_bytes a transaction; returns those it could not write."""
        kept: list[_Unflushed] = []
        group: list[_Unflushed] = []
        group_bytes = 0
        for entry in entries:
            if group and group_bytes + entry.nbytes > self._flush_bytes:
                kept += self._flush_group(group)
                group, group_bytes = [], 0
            group.append(entry)
            group_bytes += entry.nbytes
        if group:
            kept += self._flush_group(group)
        return kept

    def _flush_group(self, entries: list[_Unflushed]) -> list[_Unflushed]:
        size = sum(e.size for e in entries)
        started = time.perf_counter()
        assert self._journal is not None
        try:
            merged = self._journal.load([r for e in entries for r in e.records])
            result = self._write_fitting(merged)
        except Exception as exc:
            log.exception("writing %d acknowledged items from the journal to the store failed", size)
            with self._cond:
                self._flush_error = f"{type(exc).__name__}: {exc}"[:500]
            if len(entries) == 1:
                return entries
            # One batch the store refuses must not hold back the others: write them one by one.
            return [e for e in entries if self._flush_group([e])]
        self._count_commit(size, result, started)
        self._committed(merged)
        return []

    def _write_fitting(self, batch: Batch) -> WriteResult:
        """Writes a batch in transactions of at most flush_bytes, halving any that runs out of memory.

        A request larger than flush_bytes is cut into slices; each is a transaction of its own, and a
        slice written before a later one fails is skipped by the store's dedupe when the whole request
        is written again.
        """
        if len(batch) > 1 and batch.nbytes > self._flush_bytes:
            first, rest = batch.split(len(batch) // 2)
            return self._write_fitting(first) + self._write_fitting(rest)
        try:
            return self._store.write(batch)
        except StoreOutOfMemory:
            if len(batch) <= 1:
                raise
            log.warning("a transaction of %d records ran out of memory; writing it in two halves", len(batch))
            first, rest = batch.split(len(batch) // 2)
            return self._write_fitting(first) + self._write_fitting(rest)
