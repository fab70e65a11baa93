"""Keeps sessions, steps and handoffs up to date as spans arrive, off the export path.

The writer tells it which traces a commit touched; every half second it recomputes the sessions
those traces belong to (and belonged to before), whole, from everything stored.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from collector.derived_work import FailingWork, FailureLog, backlog_problem, run_split
from collector.pricing import DEFAULT_PRICES, PriceTable
from collector.sessions import assign_sessions, build_session, first_text, preview_source
from store.model import Batch, SessionView, SpanRecord

log = logging.getLogger(__name__)


class PendingLog(Protocol):
    """Where the traces still waiting at a stop are kept for the next start: the store's derived_pending_traces."""

    def pending_traces(self) -> list[str]: ...
    def save_pending_traces(self, trace_ids: Sequence[str]) -> None: ...
    def clear_pending_traces(self, trace_ids: Sequence[str]) -> None: ...


# How long a stop goes on rebuilding what is pending before it leaves the rest for the next start.
STOP_DRAIN_SECONDS = 5.0
# A trace waiting longer than this for its session makes the collector report itself degraded. After a
# million-span burst (148,000 traces) the backlog took about 7 minutes to build, and /healthz said so
# for the last two (docs/ingest.md).
WAIT_LIMIT_SECONDS = 300.0
# Past this wait of the oldest trace, rebuilds stop yielding most of the time to exports (``_pause``).
KEEP_UP_SECONDS = 2.0


class SessionStore(Protocol):
    def session_inputs(
        self, trace_ids: list[str], since: int = ...
    ) -> tuple[list[SpanRecord], dict[str, list[tuple[str, dict[str, object]]]]]: ...
    def session_memberships(self, *, trace_ids: list[str] = ..., session_ids: list[str] = ...) -> dict[str, str]: ...
    def session_first_times(self, session_ids: list[str]) -> dict[str, int]: ...
    def replace_sessions(self, memberships: dict[str, str], views: dict[str, SessionView]) -> None: ...
    def input_messages_of(self, span_ids: list[tuple[str, str]], since: int = ...) -> dict[str, str]: ...
    def rebuilding(self) -> AbstractContextManager[None]: ...


@dataclass(frozen=True, slots=True)
class SessionWorkerStats:
    pending_traces: int
    busy: bool
    runs: int
    sessions_updated: int
    failures: int
    last_run_ms: float
    # Traces whose rebuild failed on its own: retried with a growing delay, never dropped.
    failing_traces: int = 0
    failing: dict[str, object] | None = None
    # The last runs that raised (`failures` counts them), also those that succeeded once split.
    recent_failed_runs: tuple[dict[str, object], ...] = ()
    oldest_wait_seconds: float = 0.0  # how long the trace waiting longest has waited for its rebuild

    def problem(self) -> str | None:
        """A sentence for /healthz while the backlog is older than WAIT_LIMIT_SECONDS."""
        return backlog_problem(
            f"{self.pending_traces:,} traces wait for their sessions",
            self.oldest_wait_seconds,
            WAIT_LIMIT_SECONDS,
            "the sessions and findings of recent data are not shown yet; they are built as the collector catches up",
        )


class SessionWorker:
    def __init__(
        self,
        store: SessionStore,
        interval_seconds: float = 0.5,
        # A run holds its traces' spans as Python objects: at 2,000 the 1M-span ingest peaked at 503 MB,
        # at 1,000 at 486-495 (four runs); the price was a larger backlog at the end of the burst
        # (88,000-96,000 traces against about 70,000, measured before the worker yielded to the writer).
        max_traces_per_run: int = 1000,
        on_sessions: Callable[[Iterable[str]], None] | None = None,
        ingest_busy: Callable[[], bool] = lambda: False,
        failures: FailureLog | None = None,
        pending: PendingLog | None = None,
        prices: PriceTable = DEFAULT_PRICES,
    ) -> None:
        """``failures``: where traces that fail on their own are listed across restarts (the store);
        ``pending``: where the traces still waiting at a stop are kept for the next start (the store);
        ``prices``: what the calls of the sessions built cost."""
        self._prices = prices
        self.ingest_busy = ingest_busy  # the writer has exports queued (set once the writer exists)
        # The disk is nearly full: rebuilds wait (their traces stay pending) so that the last of the
        # reserve goes to checkpoints, which give space back.
        self.disk_low: Callable[[], bool] = lambda: False
        self._store = store
        self.on_sessions = on_sessions  # told which sessions were rebuilt (the analyzer listens)
        self._interval = interval_seconds
        self._max_traces = max_traces_per_run
        # In the order they were first touched: a run takes the oldest, whose spans sit together in the
        # table, so its reads cover a few narrow rowid ranges instead of most of the table.
        self._pending: dict[str, float] = {}  # trace -> monotonic time it was first touched
        # Trace -> a start time no span of it stored since its last build is earlier than (0: not known).
        # With its session's first time, it bounds the spans a rebuild reads, so that DuckDB's zone maps
        # skip what is older instead of every rebuild scanning every stored span's trace id.
        self._since: dict[str, int] = {}
        self._run_since: dict[str, int] = {}  # the same for the traces of the run at work
        self._pending_log = pending
        self._saved: set[str] = set()  # traces the pending log lists, until they are built
        self._drain_until = math.inf  # while stopping: after this, what is pending is saved, not built
        self.failing = FailingWork("traces", "sessions", failures)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._busy = False
        self._runs = self._updated = 0
        self._last_ms = 0.0
        self._thread: threading.Thread | None = None

    def touch(self, trace_ids: Iterable[str | None], starts: Mapping[str, int] | None = None) -> None:
        """These traces have new stored spans, none of which starts before ``starts[trace]`` (unknown when
        not given: their rebuild then reads every stored span of theirs)."""
        with self._lock:
            now = time.monotonic()
            for trace_id in trace_ids:
                if trace_id:
                    self._pending.setdefault(trace_id, now)
                    start = starts.get(trace_id, 0) if starts is not None else 0
                    self._since[trace_id] = min(self._since.get(trace_id, start), start)

    def touch_batch(self, batch: Batch) -> None:
        """The writer's commit hook."""
        self.touch(batch.trace_ids(), batch.trace_starts())

    def start(self) -> None:
        # Traces whose rebuild failed before a restart are retried first (the loop takes them as due).
        self.failing.load()
        if self._pending_log is not None:
            saved = self._pending_log.pending_traces()
            if saved:
                log.warning("building the sessions of %d traces a stopped collector left waiting", len(saved))
            self._saved = set(saved)
            self.touch(saved)
        self._thread = threading.Thread(target=self._run, name="stepseven-sessions", daemon=True)
        self._thread.start()

    def stop(self, drain_seconds: float = STOP_DRAIN_SECONDS) -> None:
        """Processes what is pending for up to ``drain_seconds``, then stops; what is left waits in the
        pending log for the next start (without one, everything pending is processed)."""
        self._drain_until = time.monotonic() + drain_seconds if self._pending_log is not None else math.inf
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(120)
        with self._lock:
            left, self._pending = list(self._pending), {}
        if left and self._pending_log is not None:
            try:
                self._pending_log.save_pending_traces(left)
            except Exception:
                # Not lost either: the next start also builds every stored trace that is in no session.
                log.exception("could not keep the %d traces still waiting for their sessions", len(left))
            else:
                log.warning("%d traces still waiting for their sessions are built on the next start", len(left))

    def stats(self) -> SessionWorkerStats:
        with self._lock:
            pending, busy, runs, updated = len(self._pending), self._busy, self._runs, self._updated
            # Touched in order: the first one waits longest.
            oldest = time.monotonic() - next(iter(self._pending.values())) if self._pending else 0.0
            failures, last_ms = self.failing.failed_runs, round(self._last_ms, 1)
        return SessionWorkerStats(
            pending,
            busy,
            runs,
            updated,
            failures,
            last_ms,
            len(self.failing),
            self.failing.report(),
            self.failing.recent_runs(),
            round(oldest, 1),
        )

    def _take(self) -> list[str]:
        with self._lock:
            if len(self._pending) <= self._max_traces:
                taken, self._pending = list(self._pending), {}
            else:
                taken = list(itertools.islice(self._pending, self._max_traces))
                for trace_id in taken:
                    del self._pending[trace_id]
            # A trace whose run fails comes back through touch() with its bound unknown.
            self._run_since = {t: self._since.pop(t, 0) for t in taken}
            self._busy = bool(taken)
            return taken

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            self.touch(self.failing.due())
            while not self.disk_low() and time.monotonic() < self._drain_until and (taken := self._take()):
                started = time.perf_counter()
                # A run that fails is split down to single traces; one that still fails is retried later.
                done, failed = run_split(taken, self.process, self.failing, "rebuild the sessions of traces")
                self._run_since = {}
                self._forget_saved(set(taken) - set(failed))
                elapsed = time.perf_counter() - started
                with self._lock:
                    self._runs += 1
                    self._updated += sum(done)
                    self._last_ms = elapsed * 1000
                    self._busy = bool(self._pending)
                if self._pending and not self._stopping:
                    time.sleep(self._pause(elapsed))
            if self._stopping:
                return

    def _pause(self, elapsed: float) -> float:
        """How long to leave the cores to exports after a run that took ``elapsed``.

        Exports come first while their backlog is young: a ninth of a core at most (on the 1M-span ingest
        benchmark a ninth took the main process from 91 to 76 µs of CPU per span). But sessions must keep
        pace with sustained traffic, or a user sees minutes-old sessions during an incident: once the
        oldest trace has waited KEEP_UP_SECONDS, two thirds; with no exports waiting, no pause.
        """
        if not self.ingest_busy():
            return 0.0
        with self._lock:
            oldest = next(iter(self._pending.values()), math.inf)
        return elapsed / 2 if time.monotonic() - oldest > KEEP_UP_SECONDS else 8 * elapsed

    def _forget_saved(self, built: set[str]) -> None:
        if not self._saved or self._pending_log is None:
            return
        done = sorted(self._saved & built)
        if not done:
            return
        try:
            self._pending_log.clear_pending_traces(done)
        except Exception:
            log.exception(
                "could not delete %d built traces from the pending list; the next start builds them again", len(done)
            )
            return
        self._saved.difference_update(done)

    def process(self, trace_ids: list[str]) -> int:
        """Recomputes every session these traces belong to now or belonged to before."""
        with self._store.rebuilding():
            views = self._rebuild(trace_ids)
        if self.on_sessions is not None:
            self.on_sessions([s for s, v in views.items() if v.summary is not None])
        return len(views)

    def _bound(self, sessions: Iterable[str], pending: Iterable[str] = ()) -> int:
        """A start time no stored span of these sessions' built traces, nor of these pending traces, is earlier
        than: a session's first time covers every span it was built from; spans stored since are in a trace
        touched since (0 when anything is not known)."""
        sessions = sorted(set(sessions))
        firsts = self._store.session_first_times(sessions) if sessions else {}
        if len(firsts) < len(sessions):
            return 0
        bounds = list(firsts.values())
        with self._lock:
            for trace_id in pending:
                if trace_id in self._pending:
                    bounds.append(self._since.get(trace_id, 0))
            if len(self.failing):
                return 0  # a trace whose rebuild failed is in no list above until it is retried
        return max(0, min(bounds, default=0))

    def _rebuild(self, trace_ids: list[str]) -> dict[str, SessionView]:
        before = self._store.session_memberships(trace_ids=trace_ids)
        new_spans = min((self._run_since.get(t, 0) for t in trace_ids), default=0)
        since = min(new_spans, self._bound(before.values())) if before else new_spans
        records, logs = self._store.session_inputs(trace_ids, since)
        assigned = assign_sessions(records)
        affected = set(assigned.values()) | set(before.values())
        members = {
            t: s
            for t, s in self._store.session_memberships(session_ids=sorted(affected)).items()
            if t not in assigned and t not in before
        }
        if members:
            more, more_logs = self._store.session_inputs(sorted(members), self._bound(members.values(), members))
            records.extend(more)
            logs.update(more_logs)
        members.update(assigned)
        by_session: dict[str, list[SpanRecord]] = defaultdict(list)
        for record in records:
            session = members.get(record.trace_id)
            if session is not None:
                by_session[session].append(record)
        views = {
            session: build_session(session, by_session.get(session, []), logs, self._prices) for session in affected
        }
        sources = {}
        for session, view in views.items():
            if view.summary is not None and view.summary.input_preview is None:
                source = preview_source(view, by_session.get(session, []))
                if source is not None:
                    sources[session] = source
        starts = {(r.trace_id, r.span_id): r.start_time_unix_nano for r in records}
        wanted = list(sources.values())
        inputs = self._store.input_messages_of(wanted, min((starts.get(k, 0) for k in wanted), default=0))
        for session, (_, span_id) in sources.items():
            summary = views[session].summary
            if summary is not None:
                summary.input_preview = first_text(inputs.get(span_id))
        self._store.replace_sessions(assigned, views)
        return views
