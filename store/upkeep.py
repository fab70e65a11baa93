"""Keeps the DuckDB store's disk use near what its data needs: checkpoints by size and time, and on low disk.

Runs in the collector beside the writer. While less than the reserve is free (the receivers refuse new
exports meanwhile, see store/disk_space.py) it checkpoints so that the WAL shrinks, and asks the writer
to retry a flush the full disk refused as soon as space is back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from store.duckdb_store import DuckDBStore

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 1.0


class StoreUpkeep:
    def __init__(
        self, store: DuckDBStore, disk_problem: Callable[[], str | None], on_space_back: Callable[[], None]
    ) -> None:
        self._store = store
        self._disk_problem = disk_problem  # why exports are refused for lack of disk, or None
        self._on_space_back = on_space_back
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._low = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stepseven-upkeep", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.wait(INTERVAL_SECONDS):
            try:
                self.run_once()
            except Exception:
                # Upkeep that fails must not stop: the next round tries again.
                log.exception("store upkeep failed; trying again in %.0f s", INTERVAL_SECONDS)

    def run_once(self) -> None:
        low = self._disk_problem() is not None  # the service's health watcher says it in the log
        if self._low and not low:
            self._on_space_back()
        self._low = low
        self._store.checkpoint_if_due(low_disk=low)
