"""Work derived from stored spans (sessions, analyses) that fails: split, retried, and listed, never dropped.

A rebuild or an analysis that fails on many traces or sessions is run again on each half, down to a
single one, so that one that cannot be processed does not hold back the others. A single one that
still fails is kept here with its error and retried later, with a growing delay, until it succeeds;
/healthz lists it meanwhile, and the collector reports itself degraded.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 300.0
_LISTED = 10  # keys named in the health report


@dataclass(slots=True)
class _Failure:
    attempts: int
    error: str
    retry_at: float


class FailingWork:
    """Keys (trace or session ids) whose work failed on its own: why, and when to try again."""

    def __init__(self, what: str) -> None:
        self.what = what  # "traces" or "sessions", for messages
        self._lock = threading.Lock()
        self._failures: dict[str, _Failure] = {}
        self.failed_runs = 0  # runs that raised, whatever their size (split or retried since)

    def failed(self, key: str, exc: BaseException) -> float:
        """Records a failure; returns the seconds until its retry."""
        with self._lock:
            failure = self._failures.get(key)
            attempts = failure.attempts + 1 if failure is not None else 1
            delay = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2.0 ** (attempts - 1))
            self._failures[key] = _Failure(attempts, f"{type(exc).__name__}: {exc}"[:500], time.monotonic() + delay)
            return delay

    def succeeded(self, keys: Iterable[str]) -> None:
        with self._lock:
            if self._failures:
                for key in keys:
                    self._failures.pop(key, None)

    def due(self) -> list[str]:
        """Keys whose retry is due; they stay listed (as being retried) until they succeed or fail again."""
        now = time.monotonic()
        with self._lock:
            due = [key for key, failure in self._failures.items() if failure.retry_at <= now]
            for key in due:
                self._failures[key].retry_at = math.inf
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
        failing.failed_runs += 1  # one thread runs each FailingWork's work
        if len(keys) == 1:
            delay = failing.failed(keys[0], exc)
            log.exception("could not %s %s; retrying in %.0f s", what, keys[0], delay)
            return [], keys
        log.warning("could not %s %d at once (%s); trying each half", what, len(keys), exc)
        middle = len(keys) // 2
        first, failed_first = run_split(keys[:middle], work, failing, what)
        rest, failed_rest = run_split(keys[middle:], work, failing, what)
        return first + rest, failed_first + failed_rest
    failing.succeeded(keys)
    return [result], []
