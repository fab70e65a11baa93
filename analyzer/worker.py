"""Analyzes sessions in the collector once they have been quiet for a while, off the export path."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from analyzer.analyze import analyze_session
from analyzer.config import AnalyzerConfig
from analyzer.load import SESSIONS_PER_RUN, Norms, load_sessions, reads_by_steps, rows_of_store
from collector.derived_work import FailingWork, FailureLog, backlog_problem, run_split
from store.model import Finding

log = logging.getLogger(__name__)


class FindingStore(Protocol):
    def read(self, sql: str, params: Sequence[Any] = ...) -> list[tuple[Any, ...]]: ...
    def sessions_to_analyze(self) -> dict[str, int]: ...
    def session_rows(
        self, view: str, session_ids: Sequence[str], columns: str, *, unchecked_json: bool = ...
    ) -> list[tuple[Any, ...]]: ...
    def session_updated_times(self, session_ids: Sequence[str]) -> dict[str, int]: ...
    def session_step_counts(self, session_ids: Sequence[str]) -> dict[str, int]: ...
    def replace_findings(self, analyzed: dict[str, int], findings: list[Finding]) -> None: ...


# Past this wait of a due session (beyond its quiet time), analysis stops yielding most of the time.
KEEP_UP_SECONDS = 2.0
# A session waiting longer than this for its analysis, once quiet, makes the collector report itself
# degraded: findings that far behind are missing where users look for them.
WAIT_LIMIT_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class AnalysisWorkerStats:
    waiting_sessions: int
    busy: bool
    sessions_analyzed: int
    findings: int
    failures: int
    last_run_ms: float
    # Sessions whose analysis failed on its own: retried with a growing delay, never dropped.
    failing_sessions: int = 0
    failing: dict[str, object] | None = None
    # The last runs that raised (`failures` counts them), also those that succeeded once split.
    recent_failed_runs: tuple[dict[str, object], ...] = ()
    oldest_wait_seconds: float = 0.0  # how long the session waiting longest has waited past its quiet time

    def problem(self) -> str | None:
        """A sentence for /healthz while analysis is further behind than WAIT_LIMIT_SECONDS."""
        return backlog_problem(
            f"{self.waiting_sessions:,} sessions wait for their analysis",
            self.oldest_wait_seconds,
            WAIT_LIMIT_SECONDS,
            "their findings are not computed yet; they are analyzed as the collector catches up",
        )


class AnalysisWorker:
    def __init__(
        self,
        store: FindingStore,
        config: AnalyzerConfig,
        *,
        quiet_seconds: float = 10.0,
        max_sessions_per_run: int = SESSIONS_PER_RUN,
        ingest_busy: Callable[[], bool] = lambda: False,
        failures: FailureLog | None = None,
    ) -> None:
        """``failures``: where sessions whose analysis fails on its own are listed across restarts (the store)."""
        self._store = store
        self._ingest_busy = ingest_busy
        self.disk_low: Callable[[], bool] = lambda: False  # as the session worker's: wait while it holds
        self._config = config
        self._quiet = quiet_seconds
        self._max = max_sessions_per_run
        self._changed: dict[str, float] = {}  # session -> monotonic time of its last change
        self._started_at = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._analyzed = self._findings = 0
        self._last_ms = 0.0
        self._busy = False
        self._norms: Norms | None = None
        self._norms_count = 0
        self._norms_at = 0.0
        self.failing = FailingWork("sessions", "analysis", failures)

    def sessions_changed(self, session_ids: Iterable[str]) -> None:
        """The session worker's hook: these sessions were rebuilt just now."""
        now = time.monotonic()
        with self._lock:
            for session in session_ids:
                self._changed[session] = now

    def start(self) -> None:
        self._started_at = time.monotonic()
        # Sessions that changed before a restart and were never analyzed are picked up first, and so are
        # those whose analysis failed before it (listed in the store; _due takes them at once).
        self.sessions_changed(self._store.sessions_to_analyze())
        self.failing.load()
        with self._lock:
            for session in self._changed:
                # Due at once: not 0.0, which is later than "quiet seconds ago" on a machine booted less
                # than that long ago (monotonic time starts at boot).
                self._changed[session] = -math.inf
        self._thread = threading.Thread(target=self._run, name="stepseven-analyzer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)

    def stats(self) -> AnalysisWorkerStats:
        with self._lock:
            waiting, busy, analyzed, findings = len(self._changed), self._busy, self._analyzed, self._findings
            # A session is due once quiet; from then on it waits. Those due at start wait since the start.
            due_since = min((max(at, self._started_at) for at in self._changed.values()), default=None)
            oldest = time.monotonic() - self._quiet - due_since if due_since is not None else 0.0
            failures, last_ms = self.failing.failed_runs, round(self._last_ms, 1)
        return AnalysisWorkerStats(
            waiting,
            busy,
            analyzed,
            findings,
            failures,
            last_ms,
            len(self.failing),
            self.failing.report(),
            self.failing.recent_runs(),
            round(max(0.0, oldest), 1),
        )

    def _due(self) -> list[str]:
        cutoff = time.monotonic() - self._quiet
        with self._lock:
            for session in self.failing.due():
                self._changed.setdefault(session, -math.inf)
            due = [s for s, at in self._changed.items() if at <= cutoff][: self._max]
            for session in due:
                del self._changed[session]
            self._busy = bool(due)
            return due

    def _run(self) -> None:
        while not self._stop.wait(min(1.0, max(self._quiet / 4, 0.05))):
            while not self.disk_low() and (due := self._due()) and not self._stop.is_set():
                started = time.perf_counter()
                # A batch that fails is split down to single sessions; one that still fails is retried later.
                run_split(due, self.analyze, self.failing, "analyze sessions")
                elapsed = time.perf_counter() - started
                with self._lock:
                    self._last_ms = elapsed * 1000
                    self._busy = False
                if self._ingest_busy():
                    self._stop.wait(self._pause(elapsed))

    def _pause(self, elapsed: float) -> float:
        """How long to leave the cores to exports (and session rebuilds) after a run that took ``elapsed``,
        while they are busy: a quarter of the time while what is due is fresh (a ninth left findings
        minutes behind under sustained load), two thirds once a due session has waited KEEP_UP_SECONDS
        past its quiet time, so that findings keep pace with the traffic."""
        cutoff = time.monotonic() - self._quiet
        with self._lock:
            oldest = min(self._changed.values(), default=math.inf)
        return elapsed / 2 if cutoff - oldest > KEEP_UP_SECONDS else 3 * elapsed

    def _current_norms(self) -> Norms:
        """The agents' usual figures, re-read when the store has grown by a tenth or a minute has passed.

        Re-reading them is a pass over every session, too much for every batch of a large store.
        """
        row = self._store.read("SELECT count(*) FROM derived_sessions")  # the table: the view joins the analyses
        count = int(row[0][0]) if row else 0
        stale = (
            self._norms is None
            or count < 1000
            or abs(count - self._norms_count) > self._norms_count / 10
            or time.monotonic() - self._norms_at > 60
        )
        if stale or self._norms is None:
            self._norms, self._norms_count, self._norms_at = Norms(self._store.read), count, time.monotonic()
        return self._norms

    def analyze(self, session_ids: list[str]) -> list[Finding]:
        versions = self._store.session_updated_times(session_ids)
        norms = self._current_norms()
        findings: list[Finding] = []
        counts = self._store.session_step_counts(list(versions))
        for group in reads_by_steps({session: counts.get(session, 0) for session in versions}):
            for session in load_sessions(rows_of_store(self._store), group):
                session.norms = norms.for_session(session.session_id)
                findings.extend(analyze_session(session, self._config))
        self._store.replace_findings(versions, findings)
        with self._lock:
            self._analyzed += len(versions)
            self._findings += len(findings)
        return findings
