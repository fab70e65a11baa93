"""The composition root of `stepseven serve`: store, writer, receivers and query API in one process.

Starts bottom-up (store, writer, API, receivers) and stops top-down: receivers stop accepting,
in-flight exports get their commits, the writer drains, and the file is checkpointed and closed.
"""

from __future__ import annotations

import asyncio
import ctypes
import dataclasses
import gc
import logging
import platform
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from analyzer.config import AnalyzerConfig
from analyzer.worker import AnalysisWorker
from api.app import build_app as build_api
from collector.compiled import decoder_build
from collector.config import CollectorConfig
from collector.decode_pool import DecodePool, WorkersNotStarted, default_workers
from collector.export_load import ExportLoad
from collector.grpc_receiver import GrpcReceiver
from collector.http_receiver import build_app as build_http
from collector.import_guard import keep_out
from collector.ingest import Ingest
from collector.limits import Counters
from collector.pricing import DEFAULT_PRICES, PriceTable
from collector.session_worker import SessionWorker
from stepseven import __version__, http_server
from stepseven.http_server import Server, raise_open_file_limit
from stepseven.ui import start_dashboard, stop_dashboard
from store.disk_space import DiskSpace
from store.duckdb_store import (
    COLLECTOR_THREADS,
    DEFAULT_MEMORY_LIMIT,
    MIN_COLLECTOR_MEMORY,
    ROW_GROUP_SIZE,
    DuckDBStore,
    StoreError,
    memory_limit_bytes,
)
from store.journal import Journal, JournalError
from store.retention import RetentionWorker
from store.upkeep import StoreUpkeep
from store.writer import FLUSH_SECONDS, Writer

if TYPE_CHECKING:
    from store.postgres_store import PostgresStore

log = logging.getLogger("stepseven")


class ServeError(Exception):
    """The service cannot start; the message says what to change."""


@dataclass(frozen=True, slots=True)
class ServeConfig:
    db: Path
    collector: CollectorConfig
    store_url: str | None = None  # postgresql://...: PostgreSQL instead of the db file
    api_port: int = 4319
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    duckdb_threads: int | None = None  # None: COLLECTOR_THREADS with receivers, DuckDB's default without
    query_timeout_seconds: float = 30.0
    receivers: bool = True
    shutdown_grace_seconds: float = 30.0
    analyzer: AnalyzerConfig = dataclasses.field(default_factory=AnalyzerConfig)
    analyze_after_seconds: float = 10.0
    ui_port: int | None = None  # the dashboard, as a child process reading the query API
    retention_days: float | None = None  # delete data older than this, on a schedule
    retention_interval_seconds: float = 600.0
    disk_reserve_bytes: int | None = None  # free space below which exports are refused; None: a tenth of the volume
    prices: PriceTable = DEFAULT_PRICES  # what LLM calls cost (collector/prices.toml and --prices)


def _bind(host: str, port: int, what: str, option: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle's algorithm off only on connections whose socket says TCP.
    # With it on, h11's separate writes of a response's headers and body made every request after the
    # first on a kept-alive connection wait for the client's delayed ACK: 40 ms on Linux.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(
            f"Cannot listen for {what} on {host}:{port} ({exc.strerror}); pass {option} or stop the other process."
        ) from None
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _open_store(config: ServeConfig) -> DuckDBStore | PostgresStore:
    if config.store_url:
        from store.postgres_store import PostgresStore

        return PostgresStore(config.store_url)
    threads = config.duckdb_threads
    if threads is None and config.receivers:
        threads = COLLECTOR_THREADS
    return DuckDBStore(config.db, memory_limit=config.memory_limit, threads=threads)


def serve(config: ServeConfig, announce: Callable[[str], None]) -> None:
    config.collector.validate()
    too_small = memory_limit_bytes(config.memory_limit) < memory_limit_bytes(MIN_COLLECTOR_MEMORY)
    if config.store_url is None and too_small:
        raise ServeError(
            f"--memory-limit {config.memory_limit} is too small for the collector to commit a batch of exports "
            f"and read long sessions; give at least {MIN_COLLECTOR_MEMORY} "
            f"(the default is {DEFAULT_MEMORY_LIMIT})."
        )
    keep_out("pandas")  # this process is the collector; the dashboard runs in its own
    # Arrow's default allocator (mimalloc) kept what the session worker's and the writer's Arrow
    # tables had used: on the 1M run the peak was 533-544 MB with the system allocator, 569-580 without.
    pa.set_memory_pool(pa.system_memory_pool())
    _fix_mmap_threshold()
    raise_open_file_limit()
    asyncio.run(_serve(config, announce))


# glibc serves a block from its heap instead of mmap once a freed mmapped block was larger than the
# threshold, raising it up to 32 MiB. The writer's and DuckDB's blocks of several MiB then land between
# small long-lived ones, and the heap cannot shrink past them. A fixed 16 MiB keeps them out: on the 1M
# gRPC run, alternating, 481 / 469 MB at peak against 503 / 510, for about 3 µs of CPU per span
# (docs/ingest.md). Lower thresholds cost more CPU: a fresh mapping for every smaller buffer.
MMAP_THRESHOLD = 16 * 1024 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)


def _fix_mmap_threshold() -> None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return  # other allocators (musl, macOS) do not move their threshold
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None or mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) != 1:
        log.warning("could not fix glibc's mmap threshold; memory may fragment under load")


async def _serve(config: ServeConfig, announce: Callable[[str], None]) -> None:
    cc = config.collector
    store = _open_store(config)
    counters = Counters()
    sessions = SessionWorker(store, failures=store, pending=store, prices=config.prices)
    # Sessions are rebuilt from what is stored, but which traces await a rebuild is only held in memory:
    # a collector killed (or stopped past its grace period) under load leaves stored traces in no session.
    unbuilt = store.traces_without_sessions()
    if unbuilt:
        announce(f"building the sessions of {len(unbuilt):,} stored traces that are in none yet")
        sessions.touch(unbuilt)
    journal = None
    if isinstance(store, DuckDBStore):
        try:
            journal = Journal(Path(f"{store.path}.journal"))
        except JournalError as exc:
            store.close()
            raise StoreError(str(exc)) from None
    disk = DiskSpace(store.folders(), config.disk_reserve_bytes) if isinstance(store, DuckDBStore) else None
    writer = Writer(
        store,
        cc.max_queue_items,
        cc.max_batch_items,
        on_commit=sessions.touch_batch,
        journal=journal,
        flush_items=ROW_GROUP_SIZE,
        disk_problem=disk.problem if disk is not None else None,
    )

    # The background workers yield to ingest while exporters press on it (collector/export_load.py). Not
    # while the writer holds items: with the journal it holds acknowledged spans until their flush, so under
    # steady traffic it always does, and sessions, findings and retention fell behind without end.
    export_load = ExportLoad()
    sessions.ingest_busy = export_load.pressed
    analysis = AnalysisWorker(
        store,
        config.analyzer,
        quiet_seconds=config.analyze_after_seconds,
        ingest_busy=export_load.pressed,
        failures=store,
    )
    sessions.on_sessions = analysis.sessions_changed
    if disk is not None:
        sessions.disk_low = analysis.disk_low = disk.nearly_full
    retention = (
        RetentionWorker(
            store,
            config.retention_days,
            interval_seconds=config.retention_interval_seconds,
            ingest_busy=export_load.pressed,
        )
        if config.retention_days is not None
        else None
    )
    upkeep = StoreUpkeep(store, writer.disk_problem, writer.retry_now) if isinstance(store, DuckDBStore) else None
    analysis.start()
    sessions.start()
    writer.start()
    if upkeep is not None:
        upkeep.start()
    started = time.time()
    build = decoder_build()

    def unstored() -> str | None:
        stats = writer.stats()
        if not stats.unstored_items:
            return None
        return (
            f"{stats.unstored_items} acknowledged records are not in the store yet and are retried, so results "
            f"may count short (error: {stats.flush_error})"
        )

    def current_problems() -> dict[str, str]:
        """What keeps the collector from being fully up to date, by what it concerns."""
        found = {
            "disk": writer.disk_problem(),
            "unstored records": unstored(),
            "failing session rebuilds": sessions.failing.problem("built into sessions"),
            "failing analyses": analysis.failing.problem("analyzed"),
            "sessions backlog": sessions.stats().problem(),
            "analysis backlog": analysis.stats().problem(),
        }
        return {kind: problem for kind, problem in found.items() if problem is not None}

    def pending() -> tuple[int, str | None]:
        """Acknowledged records a query started now would not see, and why: queries never ask for a flush."""
        waiting = writer.stats().unflushed_items
        if not waiting:
            return 0, None
        return waiting, unstored() or (
            f"{waiting} acknowledged records are still in the journal, which is written to the store every "
            f"{FLUSH_SECONDS:g} s: this result does not count them yet"
        )

    def health() -> dict[str, Any]:
        writer_stats = writer.stats()
        problems = list(current_problems().values())
        return {
            "status": "degraded" if problems else "ok",
            "problems": problems,
            "version": __version__,
            "uptime_seconds": round(time.time() - started, 1),
            "store": {
                "backend": store.backend,
                "location": store.location,
                "reopens": store.reopens,
                **(_disk_report(store, disk) if isinstance(store, DuckDBStore) and disk is not None else {}),
            },
            "writer": dataclasses.asdict(writer_stats),
            "decoders": (
                {"workers": decoders.workers, "restarts": decoders.restarts, "build": build.state}
                if decoders is not None
                else None
            ),
            "sessions": dataclasses.asdict(sessions.stats()),
            "analyzer": dataclasses.asdict(analysis.stats()),
            "retention": dataclasses.asdict(retention.stats()) if retention is not None else None,
            "counters": counters.snapshot(),
            "exports": export_load.report(),
            "limits": dataclasses.asdict(cc.limits),
            # Where to send data, as the dashboard shows it: the ports this process listens on.
            "endpoints": cc.endpoints() if config.receivers else {"otlp_http": None, "otlp_grpc": None},
        }

    sockets: list[tuple[Server, socket.socket]] = []
    grpc_receiver: GrpcReceiver | None = None
    decoders: DecodePool | None = None
    reader = store.reader()
    try:

        def session_steps(session_id: str, first: int, last: int, columns: list[str]) -> list[tuple[Any, ...]]:
            # The columns were checked against the view's own names by the API.
            return store.session_rows("steps", [session_id], ", ".join(columns), (first, last))

        api = build_api(
            reader,
            health,
            query_timeout_seconds=config.query_timeout_seconds,
            session_steps=session_steps,
            token=cc.token,
            pending=pending,
            wait_for_pending=writer.wait_flushed,
            hidden_paths=[
                *([(str(store.path.resolve().parent), "<store folder>")] if isinstance(store, DuckDBStore) else []),
                (str(Path.home()), "~"),
            ],
        )
        sockets.append((_uvicorn(api), _bind(cc.host, config.api_port, "the query API", "--api-port")))
        if config.receivers:
            decoders = DecodePool(cc.decode_workers or default_workers(), cc.limits, cc.redactor)
            try:
                decoders.start()
            except WorkersNotStarted as exc:
                raise ServeError(str(exc)) from None
            ingest = Ingest(cc, writer, counters, decoders, export_load)
            http = build_http(ingest, cc, health)
            sockets.append((_uvicorn(http), _bind(cc.host, cc.http_port, "OTLP/HTTP", "--http-port")))
            try:
                grpc_receiver = GrpcReceiver(ingest, cc.host, cc.grpc_port, cc.grpc_workers, cc.token)
            except (OSError, RuntimeError) as exc:
                raise ServeError(
                    f"Cannot listen for OTLP/gRPC on {cc.host}:{cc.grpc_port} ({exc}); "
                    "pass --grpc-port or stop the other process."
                ) from None
    except BaseException:
        for _, sock in sockets:
            sock.close()
        if decoders is not None:
            decoders.stop()
        if upkeep is not None:
            upkeep.stop()
        writer.stop()
        sessions.stop()
        analysis.stop()
        reader.close()
        store.close()
        raise

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if retention is not None:
        retention.start()
    tasks = [asyncio.create_task(server.serve(sockets=[sock])) for server, sock in sockets]
    if grpc_receiver is not None:
        grpc_receiver.start()
    while not all(server.started for server, _ in sockets) and not any(t.done() for t in tasks):
        await asyncio.sleep(0.01)
    host = cc.host
    parts = [f"store {store.location}", f"query API http://{host}:{config.api_port}"]
    if config.receivers:
        parts += [f"OTLP/gRPC {host}:{cc.grpc_port}", f"OTLP/HTTP http://{host}:{cc.http_port}"]
    ui = None
    if config.ui_port is not None:
        local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        ui = start_dashboard(f"http://{local}:{config.api_port}", host, config.ui_port, cc.token)
        parts.append(f"dashboard http://{host}:{config.ui_port}")
    # What startup built lives as long as the process: taken out of the cyclic GC's reach, it is not
    # walked again by every full collection the session worker's churn triggers.
    gc.freeze()
    announce("stepseven is ready: " + ", ".join(parts))
    if config.receivers:
        announce(("warning: " if build.state != "compiled" else "") + build.describe())

    watcher = asyncio.create_task(_log_problems(current_problems))
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
    announce("stepseven is stopping: draining the write queue")
    if ui is not None:
        await asyncio.to_thread(stop_dashboard, ui)
    # Receivers first, so that everything they acknowledged is written before the file closes.
    if grpc_receiver is not None:
        await asyncio.to_thread(grpc_receiver.stop, config.shutdown_grace_seconds)
    for server, _ in reversed(sockets):
        server.should_exit = True
    await asyncio.gather(*tasks, return_exceptions=True)
    stopper.cancel()
    watcher.cancel()
    if decoders is not None:
        await asyncio.to_thread(decoders.stop)
    if retention is not None:
        await asyncio.to_thread(retention.stop)
    await asyncio.to_thread(writer.stop, config.shutdown_grace_seconds)
    if upkeep is not None:
        await asyncio.to_thread(upkeep.stop)
    await asyncio.to_thread(sessions.stop)
    # Unfinished analysis is not lost: the next start finds the sessions analyzed at an older version.
    await asyncio.to_thread(analysis.stop)
    await asyncio.to_thread(reader.close)
    await asyncio.to_thread(store.close)
    announce("stepseven stopped")


async def _log_problems(current: Callable[[], dict[str, str]], every_seconds: float = 5.0) -> None:
    """Says in the log when the collector becomes degraded, why, and when each reason is gone."""
    before: dict[str, str] = {}
    while True:
        await asyncio.sleep(every_seconds)
        try:
            now = await asyncio.to_thread(current)
        except Exception:
            log.exception("could not check the collector's health")
            continue
        for kind in now.keys() - before.keys():
            log.warning("degraded (%s): %s", kind, now[kind])
        for kind in before.keys() - now.keys():
            log.warning("no longer degraded by %s", kind)
        before = now


def _disk_report(store: DuckDBStore, disk: DiskSpace) -> dict[str, Any]:
    state = disk.state()
    return {
        "wal_bytes": store.wal_bytes(),
        "checkpoints": store.checkpoints,
        "disk": dataclasses.asdict(state) if state is not None else None,
    }


def _uvicorn(app: Any) -> Server:
    return http_server.server(app)
