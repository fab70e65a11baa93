"""Acknowledged means durable: a SIGKILL loses nothing that was acknowledged; a full queue says retry."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from collector.config import CollectorConfig, Limits
from collector.decode_pool import DecodePool
from collector.encoding import PROTOBUF
from collector.grpc_receiver import GrpcReceiver
from collector.http_receiver import build_app
from collector.ingest import TRACES, Ingest
from collector.limits import Counters
from store.duckdb_store import DuckDBStore
from store.writer import Writer
from tests.conftest import RunningCollector, free_port, store_args
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
    collector.kill()
    stop.set()
    for sender in senders:
        sender.join(30)
    assert len(acknowledged) >= 3000

    collector.start()
    try:
        stored = {row["span_id"] for row in collector.sql("SELECT span_id FROM spans LIMIT 1000000")}
    finally:
        collector.stop()
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged spans were lost"


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
def stalled_ingest(tmp_path: Path) -> Iterator[tuple[Ingest, Writer, DuckDBStore]]:
    """An ingest whose writer has not started yet, so the queue fills up."""
    config = CollectorConfig(limits=Limits(max_spans_per_request=10), max_queue_items=10, max_batch_items=10)
    store = DuckDBStore(tmp_path / "queue.duckdb")
    writer = Writer(store, config.max_queue_items, config.max_batch_items)
    decoders = DecodePool(1, config.limits, None)
    decoders.start()
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
