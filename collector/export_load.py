"""How hard exporters are pressing on the collector: the exports it works on at once, averaged over time.

Session rebuilds and the analyzer give way to ingest while it is pressed, so that a burst is taken in at
full speed; under steady traffic they must not, or sessions and findings fall minutes behind (a flight
recorder must show what just happened). The writer's queue cannot tell the two apart: with the journal it
counts acknowledged spans until their flush, so it is rarely empty under any traffic. The number of
exports in flight can (Little's law: the rate of exports times how long each takes). Measured on the
benchmarks' traffic (docs/ingest.md "Freshness"): four exporters sending back to back kept 3.4 to 3.7 in
flight on average; 5,000 spans/s of steady traffic (about nine requests a second) kept 0.5 to 1.2.
"""

from __future__ import annotations

import math
import threading
import time

# Seconds over which the average forgets: a burst shows within a second, and one slow export does not last.
AVERAGE_SECONDS = 1.0
# Exports in flight, on average, from which ingest counts as pressed (docs/ingest.md "Freshness").
PRESSED_EXPORTS = 2.0


class ExportLoad:
    """Exports between their decode and their acknowledgement, as an exponentially weighted time average."""

    def __init__(self, average_seconds: float = AVERAGE_SECONDS, pressed: float = PRESSED_EXPORTS) -> None:
        self._tau = average_seconds
        self._pressed = pressed
        self._lock = threading.Lock()
        self._in_flight = 0
        self._average = 0.0
        self._at = time.monotonic()

    def _advance(self, now: float) -> None:
        # The count held constant since the last change: the average moves toward it by the time elapsed.
        elapsed = max(0.0, now - self._at)
        self._average += (self._in_flight - self._average) * (1.0 - math.exp(-elapsed / self._tau))
        self._at = now

    def begin(self) -> None:
        with self._lock:
            self._advance(time.monotonic())
            self._in_flight += 1

    def end(self) -> None:
        with self._lock:
            self._advance(time.monotonic())
            self._in_flight = max(0, self._in_flight - 1)

    def average(self) -> float:
        """Exports in flight, averaged over about the last AVERAGE_SECONDS."""
        with self._lock:
            self._advance(time.monotonic())
            return self._average

    def pressed(self) -> bool:
        """Whether background work should give way to exports now."""
        return self.average() >= self._pressed

    def report(self) -> dict[str, float | int]:
        with self._lock:
            self._advance(time.monotonic())
            return {"in_flight": self._in_flight, "average_in_flight": round(self._average, 2)}
