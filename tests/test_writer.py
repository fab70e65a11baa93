"""The writer's promises, on a real DuckDB file: one bad request does not sink the ones merged with it."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import pyarrow as pa
import pytest

from collector.config import Limits
from collector.decode import decode_traces
from store.duckdb_store import DuckDBStore
from store.model import Batch, Rows, WriteResult
from store.writer import CommitFailed, Writer
from tests.otlp import raw_request, raw_span


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
