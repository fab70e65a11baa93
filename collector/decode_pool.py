"""Decoding in worker processes, so that ingest is not bound by one interpreter lock.

Parsing a request, converting its attribute values, normalizing every span and building the
Arrow batch is all Python, and it is most of what a span costs. In the receiving threads it
would share one GIL with the writer and the session worker, and the writer's short steps would
wait behind it; in worker processes it runs on every core. A request crosses as bytes and comes
back as an Arrow batch (buffers, no per-value work on the way back).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
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


# The modules whose code decides what a decoded request is, on both sides of the process boundary:
# the parent reads what the workers return, so both must run the same files.
_CHECKED_MODULES = ("collector.decode", "collector.signals", "collector.decode_pool")
_PRELOAD = "collector.worker_preload"
START_TIMEOUT_SECONDS = 120.0


def _code_files() -> dict[str, str]:
    return {name: str(getattr(sys.modules.get(name), "__file__", None)) for name in _CHECKED_MODULES}


def _ready() -> tuple[int, dict[str, str], bool]:
    """Run once by each worker at start: its pid, the files of its code, and whether it came preloaded."""
    return os.getpid(), _code_files(), _PRELOAD in sys.modules


class WorkersNotStarted(Exception):
    """The decode workers could not start, or run other code than the collector; the message says what to do."""


def _import_path() -> list[str]:
    # What multiprocessing itself hands the fork server (spawn.get_preparation_data): this process's
    # sys.path, with the working directory ('') made absolute.
    return [os.getcwd() if entry == "" else entry for entry in sys.path]


_environment_lock = threading.Lock()


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    with _environment_lock:
        saved = {name: os.environ.get(name) for name in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    del os.environ[name]
                else:
                    os.environ[name] = value


def _start_fork_server(context: multiprocessing.context.ForkServerContext) -> None:
    """Starts the fork server the workers are forked from, importing what this process imports.

    multiprocessing starts it as `python -c ...`, so its sys.path begins with the working directory,
    and it imports the preload from there: run inside a checkout of stepseven, the fork server (and
    every worker) ran the checkout's pure-Python sources while this process ran the installed, compiled
    ones, and every export failed (issue #22). It is handed this process's sys.path but does not apply
    it before the preload (forkserver.main, CPython 3.11). So it starts here, with that path as
    PYTHONPATH and no working-directory entry (PYTHONSAFEPATH); the environment is restored at once.
    Interpreter flags that ignore the environment (-E, -I) defeat this: DecodePool.start's check says so.
    """
    context.set_forkserver_preload([_PRELOAD])
    with _environment(PYTHONSAFEPATH="1", PYTHONPATH=os.pathsep.join(_import_path())):
        multiprocessing.forkserver.ensure_running()


_PATH_ADVICE = (
    "Their import path finds another copy of stepseven first (one in the working directory or on PYTHONPATH, "
    "or Python was started with -E). Start stepseven from a directory that holds no copy of it, without "
    "PYTHONPATH and without -E; or, to run a checkout's sources, install that checkout with `pip install -e .`."
)


class DecodePool:
    """A fixed set of decode processes, restarted if one of them dies."""

    def __init__(self, workers: int, limits: Limits, redactor: Redactor | None) -> None:
        self.workers = workers
        self._limits = limits
        self._redactor = redactor
        # forkserver, not fork: the collector has gRPC and writer threads, which fork does not copy safely.
        self._context = multiprocessing.get_context("forkserver")
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self.restarts = 0

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Starts the workers and waits for them; raises WorkersNotStarted if they cannot decode for this process."""
        executor, probes = self._new_executor()
        try:
            self._check(probes, timeout)
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        with self._lock:
            self._executor = executor

    def _new_executor(self) -> tuple[ProcessPoolExecutor, list[Future[tuple[int, dict[str, str], bool]]]]:
        _start_fork_server(self._context)  # again after a crash: multiprocessing would restart it from the cwd
        executor = ProcessPoolExecutor(
            self.workers, self._context, initializer=_start_worker, initargs=(self._limits, self._redactor, os.getpid())
        )
        # The processes start now, not on the first export (start() checks their answers; a restart does not wait).
        return executor, [executor.submit(_ready) for _ in range(self.workers)]

    def _check(self, probes: list[Future[tuple[int, dict[str, str], bool]]], timeout: float) -> None:
        """Each worker's code must be this process's code: the same files, whatever the working directory."""
        ours = _code_files()
        deadline = time.monotonic() + timeout
        preloaded = True
        for probe in probes:
            try:
                _, theirs, imported = probe.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                raise WorkersNotStarted(
                    f"The decode workers did not start within {timeout:g} s; the machine may be overloaded "
                    "(or pass --decode-workers with a smaller number)."
                ) from None
            except Exception as exc:  # a worker that cannot import or unpickle the collector's code dies
                raise WorkersNotStarted(
                    f"The decode workers could not start ({type(exc).__name__}: {exc}). {_PATH_ADVICE}"
                ) from None
            for name, mine in ours.items():
                if theirs.get(name) != mine:
                    raise WorkersNotStarted(
                        f"The decode workers run other code than the collector: they import {name} from "
                        f"{theirs.get(name)}, the collector from {mine}. {_PATH_ADVICE}"
                    )
            preloaded = preloaded and imported
        if not preloaded:  # the fork server swallows ImportErrors in its preload
            log.warning(
                "the decode workers' fork server could not import %s: each worker imports the decoders itself, "
                "and they share none of their memory",
                _PRELOAD,
            )

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
            self._executor, _ = self._new_executor()
            self.restarts += 1

    def stop(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
