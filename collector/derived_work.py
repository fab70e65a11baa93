"""Work derived from stored spans (sessions, analyses) that fails: split, retried, and listed, never dropped.

A rebuild or an analysis that fails on many traces or sessions is run again on each half, down to a
single one, so that one that cannot be processed does not hold back the others. A single one that
still fails is kept here with its error and retried later, with a growing delay, until it succeeds;
/healthz lists it meanwhile, and the collector reports itself degraded.

Given a store (``FailureLog``), a single key that fails is also written to the store's
``derived_work_failures`` table (the ``derived_failures`` view), and deleted from it when it later
succeeds, so that what failed is queryable and survives a restart: a collector that starts retries
every key listed there. Writing that row is best effort: a store that refuses it leaves the key in
memory (still retried and listed in /healthz), and the write is tried again with the key's next
failure or success.

Every run that raised, whatever became of it, is kept among the last few in ``recent_runs``: a batch
that failed and succeeded once split leaves no listed key, and the counter of failed runs would grow
with nothing to read otherwise.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 300.0
_LISTED = 10  # keys named in the health report
_RECENT_RUNS = 10  # failed runs kept for the health report
MAX_ERROR_CHARS = 500


class FailureLog(Protocol):
    """Where failing keys are kept across restarts: the store's ``derived_work_failures`` table."""

    def listed_failures(self, stage: str) -> list[tuple[str, str | None, str, int, int, int]]:
        """(key, session_id, error, attempts, first failed, last failed (ns)) of every key listed for ``stage``."""
        ...

    def record_failure(self, stage: str, key: str, session_id: str | None, error: str, attempts: int) -> None: ...

    def clear_failures(self, stage: str, keys: Sequence[str]) -> None: ...


@dataclass(slots=True)
class _Failure:
    attempts: int
    error: str
    retry_at: float


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class FailingWork:
    """Keys (trace or session ids) whose work failed on its own: why, and when to try again."""

    def __init__(self, what: str, stage: str | None = None, store: FailureLog | None = None) -> None:
        self.what = what  # "traces" or "sessions", for messages
        self.stage = stage  # "sessions" or "analysis": the failures table's `stage`
        self._store = store if stage is not None else None
        self._lock = threading.Lock()
        self._failures: dict[str, _Failure] = {}
        self.failed_runs = 0  # runs that raised, whatever their size (split or retried since)
        # The last few runs that raised, as /healthz shows them: every count in failed_runs has its entry.
        self._recent: deque[dict[str, object]] = deque(maxlen=_RECENT_RUNS)
        # Keys whose row in the store is not as it should be (a write the store refused): tried again later.
        self._unsaved: set[str] = set()  # failing, but not (or not lately) written
        self._uncleared: set[str] = set()  # succeeded, but their row may still be there
        self._listed: set[str] = set()  # keys this process wrote or found in the store

    # -- the store's listing ---------------------------------------------------------------------

    def load(self) -> list[str]:
        """Takes the keys the store lists as failing as failing here, due at once; returns them.

        Best effort: a store that cannot be read is logged, and nothing is loaded.
        """
        if self._store is None or self.stage is None:
            return []
        try:
            rows = self._store.listed_failures(self.stage)
        except Exception:
            log.exception("could not read the %s listed as failing (%s) from the store", self.what, self.stage)
            return []
        with self._lock:
            for key, _session, error, attempts, _first, _last in rows:
                if key not in self._failures:
                    self._failures[key] = _Failure(int(attempts), str(error), -math.inf)
                self._listed.add(key)
        if rows:
            log.warning("%d %s listed as failing in the store (%s) are retried now", len(rows), self.what, self.stage)
        return [row[0] for row in rows]

    def _sync(self) -> None:
        """Writes the rows of failing keys and deletes those of keys that succeeded; never raises."""
        if self._store is None or self.stage is None:
            return
        with self._lock:
            unsaved = {
                key: (failure.attempts, failure.error)
                for key in self._unsaved
                if (failure := self._failures.get(key)) is not None
            }
            self._unsaved.clear()
            uncleared = sorted(self._uncleared)
            self._uncleared.clear()
        refused: list[str] = []
        refusal = ""
        for key, (attempts, error) in unsaved.items():
            session = key if self.stage == "analysis" else None
            try:
                self._store.record_failure(self.stage, key, session, error, attempts)
            except Exception as exc:
                refused.append(key)
                refusal = str(exc)
                with self._lock:
                    if key in self._failures:
                        self._unsaved.add(key)
            else:
                with self._lock:
                    self._listed.add(key)
                    if key not in self._failures:  # it succeeded meanwhile: its row goes again
                        self._uncleared.add(key)
        if refused:
            # Once for all of them: a store that refuses one (a full disk) refuses the others too.
            log.warning(
                "could not list %d %s as failing in the store (first: %s; %s); kept in memory and in /healthz",
                len(refused),
                self.what,
                refused[0],
                refusal,
            )
        if uncleared:
            try:
                self._store.clear_failures(self.stage, uncleared)
            except Exception as exc:
                log.warning(
                    "could not delete %d %s that succeeded from the store's failures (%s); trying again later",
                    len(uncleared),
                    self.what,
                    exc,
                )
                with self._lock:
                    self._uncleared.update(k for k in uncleared if k not in self._failures)
            else:
                with self._lock:
                    self._listed.difference_update(k for k in uncleared if k not in self._failures)

    # -- failures and successes ------------------------------------------------------------------

    def failed(self, key: str, exc: BaseException) -> float:
        """Records a failure (in the store too, when there is one); returns the seconds until its retry."""
        with self._lock:
            failure = self._failures.get(key)
            attempts = failure.attempts + 1 if failure is not None else 1
            delay = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2.0 ** (attempts - 1))
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
            self._failures[key] = _Failure(attempts, error, time.monotonic() + delay)
            self._unsaved.add(key)
            self._uncleared.discard(key)
        self._sync()
        return delay

    def succeeded(self, keys: Iterable[str]) -> None:
        with self._lock:
            if not self._failures and not self._listed and not self._uncleared and not self._unsaved:
                return
            for key in keys:
                self._failures.pop(key, None)
                self._unsaved.discard(key)
                if key in self._listed:
                    self._uncleared.add(key)
            pending = bool(self._uncleared or self._unsaved)
        if pending:
            self._sync()

    def run_failed(self, keys: Sequence[str], exc: BaseException) -> dict[str, object]:
        """Counts a run that raised and keeps it among the recent ones; returns its entry, to complete."""
        entry: dict[str, object] = {
            "at": _now(),
            "keys": len(keys),
            "first_key": keys[0] if keys else None,
            "error": f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS],
            # How many of its keys still failed on their own (listed under `failing`); None while it is split.
            "failed_alone": 1 if len(keys) == 1 else None,
        }
        with self._lock:
            self.failed_runs += 1
            self._recent.append(entry)
        return entry

    def run_done(self, entry: dict[str, object], failed_alone: int) -> None:
        with self._lock:
            entry["failed_alone"] = failed_alone

    def recent_runs(self) -> tuple[dict[str, object], ...]:
        """The last runs that raised, oldest first: when, how many keys, the error, how many failed alone."""
        with self._lock:
            return tuple(dict(entry) for entry in self._recent)

    def due(self) -> list[str]:
        """Keys whose retry is due; they stay listed (as being retried) until they succeed or fail again."""
        now = time.monotonic()
        with self._lock:
            due = [key for key, failure in self._failures.items() if failure.retry_at <= now]
            for key in due:
                self._failures[key].retry_at = math.inf
        if self._unsaved or self._uncleared:  # the store refused a write before: try it again now
            self._sync()
        return due

    def __len__(self) -> int:
        with self._lock:
            return len(self._failures)

    def report(self) -> dict[str, object] | None:
        """What /healthz says of them, or None when nothing is failing."""
        with self._lock:
            if not self._failures:
                return None
            ids = sorted(self._failures)
            worst = max(self._failures.values(), key=lambda f: f.attempts)
            return {"count": len(ids), "ids": ids[:_LISTED], "attempts": worst.attempts, "error": worst.error}

    def problem(self, doing: str) -> str | None:
        """One sentence for /healthz's problems, or None."""
        with self._lock:
            if not self._failures:
                return None
            first = min(self._failures)
            return (
                f"{len(self._failures)} {self.what} could not be {doing} and are retried "
                f"(first: {first}; error: {self._failures[first].error})"
            )


def backlog_problem(waiting: str, oldest_seconds: float, limit_seconds: float, meaning: str) -> str | None:
    """The /healthz sentence for derived work that has waited longer than its limit, or None."""
    if oldest_seconds <= limit_seconds:
        return None
    return f"{waiting}, the oldest for {oldest_seconds / 60:.0f} minutes: {meaning}"


def run_split(
    keys: list[str], work: Callable[[list[str]], T], failing: FailingWork, what: str
) -> tuple[list[T], list[str]]:
    """Runs ``work`` on all keys, on halves of them if that fails, down to single keys.

    Returns the results of the runs that succeeded and the keys whose own run failed (recorded in
    ``failing``, to be retried when ``failing.due()`` says so).
    """
    try:
        result = work(keys)
    except Exception as exc:
        entry = failing.run_failed(keys, exc)
        if len(keys) == 1:
            delay = failing.failed(keys[0], exc)
            log.exception("could not %s %s; retrying in %.0f s", what, keys[0], delay)
            return [], keys
        log.warning("could not %s %d at once (%s); trying each half", what, len(keys), exc)
        middle = len(keys) // 2
        first, failed_first = run_split(keys[:middle], work, failing, what)
        rest, failed_rest = run_split(keys[middle:], work, failing, what)
        failing.run_done(entry, len(failed_first) + len(failed_rest))
        return first + rest, failed_first + failed_rest
    failing.succeeded(keys)
    return [result], []
