"""The free space under the store: exports are refused before the disk is full, not after.

A collector that fills its own disk cannot checkpoint (DuckDB writes new blocks before it frees the
old ones), cannot journal, and holds its WAL and journal until space comes back. So it stops
acknowledging new exports while less than a reserve is free on the volume of the store, its WAL,
journal and spill folder, answers 503 / UNAVAILABLE (exporters retry), and accepts again on its own
once space is back.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
# "auto": a tenth of the volume, within these bounds. 16 MiB covers a checkpoint of a full WAL
# (wal_autocheckpoint, store/duckdb_store.py) plus one journal flush in flight; 1 GiB is plenty on a
# large volume. On a 64 MiB volume the collector then stops at 48 MiB used (docs/ingest.md, "Disk full").
AUTO_FRACTION = 0.10
AUTO_MIN = 16 * MIB
AUTO_MAX = 1024 * MIB
_CHECK_SECONDS = 0.5  # statvfs at most this often; exports arrive far more often

_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": MIB, "gib": 1024**3}


class DiskReserveError(ValueError):
    """A --disk-reserve that cannot be read."""


def parse_reserve(text: str) -> int | None:
    """Bytes from '64MB', '1GiB', '0'; None for 'auto'."""
    value = text.strip().lower()
    if value == "auto":
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?", value)
    if match is None:
        raise DiskReserveError(f"--disk-reserve {text!r} is not a size: give 'auto', or bytes such as 64MB or 1GiB")
    return int(float(match.group(1)) * _UNITS[match.group(2) or ""])


def _size(n: int) -> str:
    return f"{n / MIB:,.1f} MiB"


@dataclass(frozen=True, slots=True)
class DiskState:
    path: str  # the folder measured (the one with the least space, when they are on several volumes)
    free_bytes: int
    total_bytes: int
    reserve_bytes: int

    def problem(self, needed_bytes: int = 0) -> str | None:
        """A sentence when less than the reserve (plus ``needed_bytes`` about to be written) is free."""
        if self.free_bytes >= self.reserve_bytes + needed_bytes:
            return None
        pending = f" and {_size(needed_bytes)} for what is being stored" if needed_bytes else ""
        return (
            f"the disk under {self.path} has {_size(self.free_bytes)} free, less than the "
            f"{_size(self.reserve_bytes)} reserve{pending}: new exports are refused (503 / UNAVAILABLE, "
            "exporters retry) until space is freed there; what was acknowledged is kept"
        )


class DiskSpace:
    """Measures the free space of the folders the store writes to, a few times a second at most."""

    def __init__(self, folders: Iterable[Path], reserve_bytes: int | None) -> None:
        self._folders = [Path(f) for f in dict.fromkeys(folders)]
        self._reserve = reserve_bytes
        self._lock = threading.Lock()
        self._state: DiskState | None = None
        self._checked = -float("inf")

    def state(self) -> DiskState | None:
        """The most constrained volume now (None when no folder can be measured)."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked < _CHECK_SECONDS:
                return self._state
            self._checked = now
            states: list[DiskState] = []
            for folder in self._folders:
                try:
                    st = os.statvfs(folder)
                except OSError:
                    continue
                total = st.f_blocks * st.f_frsize
                reserve = self._reserve
                if reserve is None:
                    reserve = min(AUTO_MAX, max(AUTO_MIN, int(total * AUTO_FRACTION)))
                states.append(DiskState(str(folder), st.f_bavail * st.f_frsize, total, reserve))
            self._state = min(states, key=lambda s: s.free_bytes - s.reserve_bytes) if states else None
            return self._state

    def nearly_full(self) -> bool:
        """Less than half the reserve is free: work that only derives data waits."""
        state = self.state()
        return state is not None and state.free_bytes < state.reserve_bytes // 2

    def problem(self, needed_bytes: int = 0) -> str | None:
        state = self.state()
        return state.problem(needed_bytes) if state is not None else None
