"""The writer and its neighbours on a real DuckDB file: one bad request does not sink the others,
and a failure does not wedge the store or lose sessions."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
import types
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from collector.config import Limits
from collector.decode import decode_traces
from store.duckdb_store import DuckDBStore
from store.model import Batch, Rows, WriteResult
from store.query import QueryFailed
from store.writer import CommitFailed, Writer
from tests.otlp import attribute, raw_request, raw_span


def _batch(*names: str) -> Batch:
    return decode_traces(raw_request(*(raw_span(n) for n in names)), Limits()).batch


def test_a_request_the_store_refuses_fails_alone(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "writer.duckdb")
    spans = _batch("poison").spans.table
    # A NULL name: Arrow carries it, the NOT NULL column refuses it, so the commit fails.
    poison = Batch(spans=Rows(spans.set_column(spans.schema.get_field_index("name"), "name", pa.nulls(1, pa.string()))))
    writer = Writer(store, max_queue_items=100, max_batch_items=100)
    futures: list[Future[WriteResult]] = [
        writer.submit(_batch("a", "b")),
        writer.submit(poison),
        writer.submit(_batch("c")),
    ]
    writer.start()  # all three are queued, so the first commit merges them
    assert futures[0].result(30).spans == 2
    with pytest.raises(CommitFailed):
        futures[1].result(30)
    assert futures[2].result(30).spans == 1
    writer.stop()
    assert writer.stats().failed_commits == 1
    names = store.cursor().execute("SELECT name FROM spans ORDER BY name").fetchall()
    assert names == [("a",), ("b",), ("c",)]
    store.close()


def test_an_out_of_memory_commit_fails_alone_and_the_store_keeps_writing(tmp_path: Path) -> None:
    import os

    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    store = DuckDBStore(tmp_path / "small-memory.duckdb", memory_limit="8MB")
    prompt = [KeyValue(key="prompt", value=AnyValue(string_value=os.urandom(1500).hex()))]
    big = decode_traces(raw_request(*(raw_span(f"s{i}", attributes=prompt) for i in range(20_000))), Limits()).batch
    with pytest.raises(Exception, match=r"(?i)memory|aborted"):
        store.write(big)
    assert store.write(_batch("after")).spans == 1
    store.close()


def test_a_transaction_left_aborted_does_not_wedge_the_writer(tmp_path: Path) -> None:
    import duckdb

    store = DuckDBStore(tmp_path / "aborted.duckdb")
    connection = store._con  # the writer's own connection, left as a failed commit can leave it
    connection.execute("BEGIN TRANSACTION")
    with pytest.raises(duckdb.Error):
        connection.execute("SELECT error('a statement failed mid-transaction')")
    assert store.write(_batch("next")).spans == 1
    assert store.cursor().execute("SELECT count(*) FROM spans").fetchone() == (1,)
    store.close()


def _checkpoint_that_cannot_be_written(path: str, results: Any, first: str = "export") -> None:
    """In a process of its own: the file-size limit that makes the checkpoint fail is process-wide."""
    import resource
    import signal

    import duckdb
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing us
    store = DuckDBStore(path)
    writer = Writer(store, max_queue_items=100_000, max_batch_items=100_000)
    writer.start()
    prompt = [KeyValue(key="gen_ai.input.messages", value=AnyValue(string_value=os.urandom(500).hex()))]
    acknowledged = writer.submit(
        decode_traces(raw_request(*(raw_span(f"before-{i}", attributes=prompt) for i in range(5000))), Limits()).batch
    ).result(60)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, hard))
    try:
        # What DuckDB does by itself once the WAL is large, here on demand: the checkpoint cannot
        # be written, and DuckDB invalidates the database.
        store.cursor().execute("CHECKPOINT")
        checkpoint_error = ""
    except duckdb.Error as exc:
        checkpoint_error = str(exc)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    outcomes: list[Any] = []
    if first == "query":  # a dashboard query meets the invalidated database before any export does
        try:
            store.reader().run_arrow("SELECT count(*) FROM spans", [], max_rows=10, timeout_seconds=30)
            outcomes.append("the query succeeded")
        except QueryFailed as exc:
            outcomes.append(str(exc))
    elif first == "session read":  # so does the session worker
        try:
            store.session_inputs(["0" * 32])
            outcomes.append("the read succeeded")
        except duckdb.Error as exc:
            outcomes.append(str(exc))
    for _ in range(2):  # the exporter's first try and its retry
        try:
            outcomes.append(writer.submit(_batch("after")).result(60).spans)
        except CommitFailed as exc:
            outcomes.append(str(exc))
    count = store.cursor().execute("SELECT count(*) FROM spans").fetchone()
    writer.stop()
    reopens = store.reopens
    store.close()
    results.put((acknowledged.spans, checkpoint_error, outcomes, count, reopens))


def _in_a_process_of_its_own(path: Path, monkeypatch: pytest.MonkeyPatch, first: str) -> Any:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_checkpoint_that_cannot_be_written, args=(str(path), results, first))
    # Streamlit's AppTest, run earlier in this process, can leave a dashboard page as __main__, and a
    # spawned process re-runs __main__ first.
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
        child.start()
    try:
        return results.get(timeout=120)
    finally:
        child.join(60)


def test_a_database_invalidated_by_a_failed_checkpoint_is_reopened_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB refuses all work after a checkpoint fails (disk full, out of memory): the store reopens it."""
    acknowledged, checkpoint_error, outcomes, count, reopens = _in_a_process_of_its_own(
        tmp_path / "full.duckdb", monkeypatch, "export"
    )
    assert acknowledged == 5000
    assert "has been invalidated" in checkpoint_error  # the database was really invalidated
    # Whichever request met the invalidated database failed (answered 503, so the exporter retries);
    # from then on the reopened store commits, and every acknowledged span is there.
    assert isinstance(outcomes[0], str) and "invalidated" in outcomes[0]
    assert outcomes[1] == 1
    assert count == (5001,)
    assert reopens == 1
    # And the file opens cleanly afterwards, with the same rows.
    store = DuckDBStore(tmp_path / "full.duckdb")
    assert store.cursor().execute("SELECT count(*) FROM spans WHERE name = 'after'").fetchone() == (1,)
    store.close()


@pytest.mark.parametrize("first", ["query", "session read"])
def test_a_read_that_meets_an_invalidated_database_reopens_it_before_the_next_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    acknowledged, checkpoint_error, outcomes, count, reopens = _in_a_process_of_its_own(
        tmp_path / "full.duckdb", monkeypatch, first
    )
    assert "has been invalidated" in checkpoint_error
    assert "invalidated" in outcomes[0]  # the reader is told what happened
    assert outcomes[1:] == [1, 1]  # both exports commit: the failed read reopened the store
    assert count == (acknowledged + 2,)
    assert reopens == 1


class _Watched:
    """A real store that records which traces each session read asked for.

    With ``fail_first``, the first read fails, as one does while the database is being reopened.
    """

    def __init__(self, store: DuckDBStore, *, fail_first: bool = False) -> None:
        self._store = store
        self._fail_first = fail_first
        self.reads: list[list[str]] = []

    @property
    def failed(self) -> bool:
        return self._fail_first and bool(self.reads)

    def session_inputs(self, trace_ids: list[str], since: int = 0) -> Any:
        self.reads.append(list(trace_ids))
        if self._fail_first and len(self.reads) == 1:
            raise RuntimeError("the database is being reopened")
        return self._store.session_inputs(trace_ids, since)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_sessions_whose_rebuild_failed_once_are_rebuilt_on_the_next_run(tmp_path: Path) -> None:
    from collector.session_worker import SessionWorker

    store = DuckDBStore(tmp_path / "sessions.duckdb")
    flaky = _Watched(store, fail_first=True)
    sessions = SessionWorker(flaky, interval_seconds=0.05)
    batch = _batch("invoke_agent triage", "chat gpt-4o")
    store.write(batch)
    sessions.touch_batch(batch)
    sessions.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and store.cursor().execute("SELECT count(*) FROM sessions").fetchone() == (0,):
        time.sleep(0.05)
    sessions.stop()
    assert flaky.failed
    assert sessions.stats().failures == 1
    assert store.cursor().execute("SELECT count(*) FROM steps").fetchone() == (2,)
    store.close()


def test_the_session_worker_rebuilds_traces_in_the_order_they_arrived(tmp_path: Path) -> None:
    """The oldest first: their spans sit together in the table, so a run reads a few narrow ranges."""
    from collector.session_worker import SessionWorker

    store = DuckDBStore(tmp_path / "sessions.duckdb")
    recording = _Watched(store)
    sessions = SessionWorker(recording, interval_seconds=0.05, max_traces_per_run=2)
    arrived = [f"{n:032x}" for n in (5, 3, 9, 1, 7)]
    sessions.touch(arrived)
    sessions.touch(arrived[:1])  # touched again while waiting: keeps its place
    sessions.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (sessions.stats().pending_traces or sessions.stats().busy):
        time.sleep(0.05)
    sessions.stop()
    assert recording.reads == [arrived[0:2], arrived[2:4], arrived[4:5]]
    store.close()


def test_span_content_is_stored_zstd_compressed_and_reads_back_intact(tmp_path: Path) -> None:
    prompt = "Summarise the refund policy for the customer. " * 40
    spans = [
        raw_span(f"chat {i}", attributes=[attribute("gen_ai.input.messages", AnyValue(string_value=f"{prompt}{i}"))])
        for i in range(200)
    ]
    store = DuckDBStore(tmp_path / "content.duckdb")
    store.write(decode_traces(raw_request(*spans), Limits()).batch)
    store.cursor().execute("CHECKPOINT")
    compression = dict(
        store.cursor()
        .execute(
            "SELECT DISTINCT column_name, compression FROM pragma_storage_info('raw_spans') "
            "WHERE column_name IN ('attributes', 'events', 'trace_id') AND segment_type <> 'VALIDITY'"
        )
        .fetchall()
    )
    assert compression["attributes"] == "ZSTD"
    assert compression["events"] == "ZSTD"
    assert compression["trace_id"] != "ZSTD"  # the other columns keep DuckDB's own choice
    stored = (
        store.cursor().execute("SELECT attributes->>'gen_ai.input.messages' FROM raw_spans ORDER BY name").fetchall()
    )
    assert sorted(row[0] for row in stored) == sorted(f"{prompt}{i}" for i in range(200))
    store.close()
