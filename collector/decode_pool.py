"""Decoding in worker processes, so that ingest is not bound by one interpreter lock.

Parsing a request, converting its attribute values, normalizing every span and building the
Arrow batch is all Python, and it is most of what a span costs. In the receiving threads it
would share one GIL with the writer and the session worker, and the writer's short steps would
wait behind it; in worker processes it runs on every core. A request crosses as bytes and comes
back as an Arrow batch (buffers, no per-value work on the way back).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from collector.config import Limits
from collector.decode import DecodeOutcome
from collector.errors import Unavailable
from collector.import_guard import keep_out
from collector.redact import Redactor
from collector.signals import decode_request

log = logging.getLogger(__name__)

# Set in each worker by _start_worker.
_limits = Limits()
_redactor: Redactor | None = None


MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """One decode worker per core the collector may run on, at most 8.

    The cap matters in containers, which see every core of a large host whatever their CPU quota;
    past a few workers the single writer, not decoding, sets the pace anyway.
    """
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere, every core
    cores = len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def _start_worker(limits: Limits, redactor: Redactor | None, collector_pid: int) -> None:
    global _limits, _redactor
    _limits, _redactor = limits, redactor
    keep_out("pandas", "numpy")
    # The modules inherited from the fork server stay shared only while nothing writes to their pages.
    # A full collection writes to the header of every object it walks; frozen, they are never walked
    # (measured: each worker's private memory after decoding 37 -> 21 MB, the fork server's 21 -> 5 MB).
    gc.freeze()
    threading.Thread(target=_exit_with, args=(collector_pid,), name="stepseven-orphan-watch", daemon=True).start()


def _exit_with(collector_pid: int) -> None:
    # A collector killed with SIGKILL cannot stop its workers, and its fork server stays up as long
    # as they do (they hold its pipe), so each worker watches the collector and leaves with it.
    while _alive(collector_pid):
        time.sleep(0.5)
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")  # a killed collector stays a zombie until its parent reaps it
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (not Linux): whether the process exists at all
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _decode_in_worker(signal_name: str, body: bytes, media: str) -> DecodeOutcome:
    return decode_request(signal_name, body, media, _limits, _redactor)


def _ready() -> int:
    return os.getpid()


class DecodePool:
    """A fixed set of decode processes, restarted if one of them dies."""

    def __init__(self, workers: int, limits: Limits, redactor: Redactor | None) -> None:
        self.workers = workers
        self._limits = limits
        self._redactor = redactor
        # forkserver, not fork: the collector has gRPC and writer threads, which fork does not copy safely.
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["collector.worker_preload"])
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self.restarts = 0

    def start(self) -> None:
        with self._lock:
            self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        executor = ProcessPoolExecutor(
            self.workers, self._context, initializer=_start_worker, initargs=(self._limits, self._redactor, os.getpid())
        )
        for _ in range(self.workers):
            executor.submit(_ready)  # start the processes now, not on the first export
        return executor

    def decode(self, signal_name: str, body: bytes, media: str) -> DecodeOutcome:
        executor = self._executor
        if executor is None:
            raise Unavailable("the collector is not accepting data yet")
        try:
            return executor.submit(_decode_in_worker, signal_name, body, media).result()
        except BrokenProcessPool:
            self._restart(executor)
            raise Unavailable("a decode worker stopped while decoding this request; send it again") from None
        except RuntimeError as exc:  # submit after shutdown
            raise Unavailable(f"the collector is shutting down ({exc})") from None

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is not broken:
                return  # another thread restarted it already
            log.error("a decode worker died; starting new ones")
            broken.shutdown(wait=False, cancel_futures=True)
            self._executor = self._new_executor()
            self.restarts += 1

    def stop(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
