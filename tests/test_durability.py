"""Acknowledged means durable: a SIGKILL loses nothing that was acknowledged; a full queue says retry."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import psutil
import pytest

from collector.config import CollectorConfig, Limits
from collector.decode import decode_traces
from collector.decode_pool import DecodePool
from collector.encoding import PROTOBUF
from collector.grpc_receiver import GrpcReceiver
from collector.http_receiver import build_app
from collector.ingest import Ingest
from collector.limits import Counters
from collector.signals import TRACES
from store.duckdb_store import DuckDBStore
from store.postgres_store import PostgresStore
from store.writer import Writer
from tests.conftest import BACKENDS, RunningCollector, free_port, store_args
from tests.otlp import raw_request, raw_span

TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def test_a_sigkill_mid_stream_loses_no_acknowledged_span(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    collector = RunningCollector(tmp_path / "crash.duckdb", *store_args(backend, request))
    acknowledged: list[str] = []
    stop = threading.Event()

    def exporter() -> None:
        channel = grpc.insecure_channel(collector.grpc_endpoint)
        export = channel.unary_unary(TRACE_EXPORT)
        while not stop.is_set():
            spans = [raw_span(f"s{len(acknowledged)}-{i}") for i in range(50)]
            try:
                export(raw_request(*spans).SerializeToString(), timeout=5)
            except grpc.RpcError:
                break  # the collector died under us: this batch was never acknowledged
            acknowledged.extend(span.span_id.hex() for span in spans)
        channel.close()

    senders = [threading.Thread(target=exporter) for _ in range(3)]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 3000 and time.monotonic() < deadline:
        time.sleep(0.05)
    helpers = _helper_processes(collector)
    collector.kill()
    stop.set()
    for sender in senders:
        sender.join(30)
    assert len(acknowledged) >= 3000
    # The decode workers and their fork server leave with the collector: no orphans hold the port or the pipe.
    _, left = psutil.wait_procs(helpers, timeout=10)
    assert not left, f"still running after the collector was killed: {left}"

    collector.start()
    try:
        stored = {row["span_id"] for row in collector.sql("SELECT span_id FROM spans LIMIT 1000000")}
    finally:
        collector.stop()
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged spans were lost"


def _helper_processes(collector: RunningCollector) -> list[psutil.Process]:
    """The collector's child processes that stay: one that ended as it was listed (a short-lived helper
    a library ran) is left out, or asking for its parent fails."""
    assert collector.proc is not None
    lasting = []
    for process in psutil.Process(collector.proc.pid).children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            process.ppid()
            lasting.append(process)
    return lasting


def test_a_decode_worker_that_dies_is_replaced_and_exports_go_on(tmp_path: Path) -> None:
    collector = RunningCollector(tmp_path / "workers.duckdb")
    try:
        assert collector.proc is not None
        # The decode workers are the fork server's children (the collector's grandchildren).
        workers = [p for p in _helper_processes(collector) if p.ppid() != collector.proc.pid]
        assert len(workers) == collector.health()["decoders"]["workers"] >= 1
        for worker in workers:
            worker.kill()
        psutil.wait_procs(workers, timeout=10)

        answers: list[str] = []
        with grpc.insecure_channel(collector.grpc_endpoint) as channel:
            export = channel.unary_unary(TRACE_EXPORT)
            for i in range(5):
                body = raw_request(*(raw_span(f"after-{i}-{j}") for j in range(20))).SerializeToString()
                try:
                    export(body, timeout=30)
                    answers.append("ok")
                except grpc.RpcError as refused:
                    assert refused.code() == grpc.StatusCode.UNAVAILABLE  # retryable: the exporter sends again
                    answers.append("retry")

        assert answers.count("retry") <= 1 and answers[-4:] == ["ok"] * 4
        assert collector.health()["decoders"]["restarts"] == 1
        assert collector.sql("SELECT count(*) AS n FROM spans") == [{"n": 20 * answers.count("ok")}]
    finally:
        collector.stop()


def test_the_collector_and_its_decode_workers_load_only_the_libraries_they_use(tmp_path: Path) -> None:
    """numpy (which pyarrow imports when it can) is used by neither; SQLAlchemy and gRPC are not used by
    the decode workers. Each costs memory (measured at import: about 10 MB for numpy in the collector,
    36 MB for the three in the fork server the workers share pages with)."""
    collector = RunningCollector(tmp_path / "lean.duckdb")
    try:
        assert collector.proc is not None
        main = psutil.Process(collector.proc.pid)
        workers = [p for p in _helper_processes(collector) if p.ppid() != collector.proc.pid]
        assert workers
        for process, unwanted in [
            (main, ("/numpy/", "/numpy.libs/")),
            *((worker, ("/sqlalchemy/", "/grpc/", "/numpy/", "/numpy.libs/")) for worker in workers),
        ]:
            mapped = {m.path for m in process.memory_maps()}
            assert any("/pyarrow/" in path for path in mapped)  # the check does see the process's libraries
            assert [path for path in mapped if any(name in path for name in unwanted)] == []
    finally:
        collector.stop()


def test_sigterm_drains_and_closes_the_file_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "graceful.duckdb"
    collector = RunningCollector(db)
    body = raw_request(*(raw_span(f"g{i}") for i in range(200))).SerializeToString()
    httpx.post(
        f"{collector.http_url}/v1/traces", content=body, headers={"Content-Type": "application/x-protobuf"}
    ).raise_for_status()
    assert collector.stop() == 0
    assert "stepseven stopped" in "".join(collector.output)
    # Checkpointed on the way out: the WAL is folded into the file.
    assert not Path(f"{db}.wal").exists()
    store = DuckDBStore(db, read_only=True)
    try:
        assert store.cursor().execute("SELECT count(*) FROM spans").fetchone() == (200,)
    finally:
        store.close()


@pytest.fixture
def stalled_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Ingest, Writer, DuckDBStore]]:
    """An ingest whose writer has not started yet, so the queue fills up."""
    config = CollectorConfig(limits=Limits(max_spans_per_request=10), max_queue_items=10, max_batch_items=10)
    store = DuckDBStore(tmp_path / "queue.duckdb")
    writer = Writer(store, config.max_queue_items, config.max_batch_items)
    decoders = DecodePool(1, config.limits, None)
    # Streamlit's AppTest, run earlier in this process, can leave a dashboard page as __main__, and
    # multiprocessing re-runs __main__ in each new worker; `stepseven serve` has its own __main__.
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
        decoders.start()
        decoders.decode(TRACES.name, raw_request(raw_span("warm")).SerializeToString(), PROTOBUF)
    yield Ingest(config, writer, Counters(), decoders), writer, store
    decoders.stop()


def test_a_full_write_queue_answers_503_with_retry_after_then_recovers(
    stalled_ingest: tuple[Ingest, Writer, DuckDBStore],
) -> None:
    ingest, writer, store = stalled_ingest
    queued = ingest.accept(TRACES, raw_request(*(raw_span(f"q{i}") for i in range(10))).SerializeToString(), PROTOBUF)
    app = build_app(ingest, ingest.config, lambda: {})

    async def post() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://collector") as client:
            return await client.post(
                "/v1/traces",
                content=raw_request(raw_span("one more")).SerializeToString(),
                headers={"Content-Type": "application/x-protobuf"},
            )

    response = asyncio.run(post())
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert ingest.counters.snapshot()["refused_queue_full"] == 1

    writer.start()
    assert queued.future.result(timeout=30).spans == 10
    writer.stop()
    assert store.cursor().execute("SELECT count(*) FROM spans").fetchone() == (10,)
    store.close()


def test_a_full_write_queue_answers_unavailable_over_grpc(
    stalled_ingest: tuple[Ingest, Writer, DuckDBStore],
) -> None:
    ingest, writer, store = stalled_ingest
    ingest.accept(TRACES, raw_request(*(raw_span(f"q{i}") for i in range(10))).SerializeToString(), PROTOBUF)
    port = free_port()
    receiver = GrpcReceiver(ingest, "127.0.0.1", port, workers=2)
    receiver.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            with pytest.raises(grpc.RpcError) as refused:
                channel.unary_unary(TRACE_EXPORT)(raw_request(raw_span("x")).SerializeToString(), timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "queue is full" in refused.value.details()
    finally:
        receiver.stop(1)
        writer.start()
        writer.stop()
        store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_spans_stored_before_their_sessions_were_built_get_sessions_when_the_collector_starts(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    """As a collector killed between a commit and the session rebuild leaves its store."""
    args = store_args(backend, request)
    path = tmp_path / "stepseven.duckdb"
    store = DuckDBStore(path) if backend == "duckdb" else PostgresStore(args[1])
    store.write(decode_traces(raw_request(raw_span("invoke_agent planner"), raw_span("chat gpt-4o")), Limits()).batch)
    assert store.read("SELECT count(*) FROM sessions") == [(0,)]
    store.close()

    collector = RunningCollector(path, *args)
    try:
        collector.settle()
        assert "stored traces that are in none yet" in "".join(collector.output)
        assert collector.sql("SELECT count(*) AS n FROM steps") == [{"n": 2}]  # one trace per span here
    finally:
        collector.stop()
