"""The journal in front of the DuckDB store: an acknowledged batch is on disk before its answer, reaches
the store in row-group transactions, survives a crash, and is seen by every query that follows it."""

from __future__ import annotations

import time
from concurrent.futures import Future
from pathlib import Path

import pyarrow as pa
import pytest

from collector.config import Limits
from collector.decode import decode_traces
from store.duckdb_store import DuckDBStore
from store.journal import Journal
from store.model import Batch, Rows, WriteResult
from store.writer import CommitFailed, Writer
from tests.otlp import raw_request, raw_span


def _batch(*names: str) -> Batch:
    return decode_traces(raw_request(*(raw_span(n) for n in names)), Limits()).batch


def _names(store: DuckDBStore) -> list[str]:
    return [row[0] for row in store.cursor().execute("SELECT name FROM spans ORDER BY name").fetchall()]


def test_an_acknowledged_batch_is_in_the_journal_and_a_query_does_not_flush_it(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "s.duckdb")
    journal = Journal(tmp_path / "s.duckdb.journal")
    # Nothing would flush on its own for a minute.
    writer = Writer(store, 1000, 1000, journal=journal, flush_items=10_000, flush_seconds=60)
    writer.start()
    assert writer.submit(_batch("a", "b")).result(10) == WriteResult(2, 0, 0)
    assert writer.stats().unflushed_items == 2
    segment = journal.directory / f"{journal.current:012d}.s7j"
    assert segment.stat().st_size > 0  # acknowledged, on disk...

    table, _ = store.reader().run_arrow("SELECT name FROM spans", [], max_rows=10, timeout_seconds=10)
    assert table.num_rows == 0  # ...not in the store, and reading does not make the writer flush
    assert writer.stats().unflushed_items == 2 and writer.stats().commits == 0

    assert writer.wait_visible(10)  # what a tool that needs everything stored asks for
    assert _names(store) == ["a", "b"]
    assert writer.stats().unflushed_items == 0
    assert not segment.exists()  # a flushed segment is deleted
    writer.stop()
    store.close()


def test_a_full_row_group_is_flushed_without_waiting(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "s.duckdb")
    writer = Writer(store, 1000, 1000, journal=Journal(tmp_path / "j"), flush_items=4, flush_seconds=60)
    writer.start()
    writer.submit(_batch("a", "b", "c", "d", "e")).result(10)
    deadline = time.monotonic() + 10
    while writer.stats().committed_spans < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert writer.stats().committed_spans == 5
    assert _names(store) == ["a", "b", "c", "d", "e"]
    writer.stop()
    store.close()


def test_a_journal_left_by_a_crash_is_written_on_the_next_start_and_its_torn_end_ignored(tmp_path: Path) -> None:
    # A collector that acknowledged two batches and died while writing a third (never acknowledged).
    crashed = Journal(tmp_path / "j")
    first = _batch("one", "two")
    crashed.append([first])
    crashed.append([_batch("three")])
    segment = tmp_path / "j" / f"{crashed.current:012d}.s7j"
    whole = segment.read_bytes()
    crashed.append([_batch("torn")])
    segment.write_bytes(segment.read_bytes()[: len(whole) + 40])  # the third record cut short

    store = DuckDBStore(tmp_path / "s.duckdb")
    store.write(first)  # written to the store before the crash, still in the journal: stored once
    journal = Journal(tmp_path / "j")
    assert journal.segments() == [crashed.current, journal.current]
    writer = Writer(store, 1000, 1000, journal=journal, flush_seconds=60)
    assert writer.stats().unflushed_items == 3
    writer.start()
    assert writer.wait_visible(10)
    assert _names(store) == ["one", "three", "two"]
    assert journal.segments() == [journal.current]
    writer.stop()
    assert journal.segments() == []  # an empty last segment is removed on a clean stop
    store.close()


def test_a_batch_the_store_would_refuse_is_refused_before_it_is_acknowledged(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "s.duckdb")
    spans = _batch("poison").spans.table
    poison = Batch(spans=Rows(spans.set_column(spans.schema.get_field_index("name"), "name", pa.nulls(1, pa.string()))))
    writer = Writer(store, 100, 100, journal=Journal(tmp_path / "j"), flush_seconds=60)
    futures: list[Future[WriteResult]] = [writer.submit(_batch("a")), writer.submit(poison), writer.submit(_batch("b"))]
    writer.start()
    assert futures[0].result(10).spans == 1
    with pytest.raises(CommitFailed, match=r"raw_spans\.name may not be NULL"):
        futures[1].result(10)
    assert futures[2].result(10).spans == 1
    assert writer.wait_visible(10)
    assert _names(store) == ["a", "b"]
    writer.stop()
    assert writer.stats().failed_commits == 1
    store.close()


def test_a_flush_the_store_refuses_is_kept_in_the_journal_and_retried(tmp_path: Path) -> None:
    class Flaky(DuckDBStore):
        refusals = 1

        def write(self, batch: Batch) -> WriteResult:
            if self.refusals:
                self.refusals -= 1
                raise OSError("No space left on device")
            return super().write(batch)

    store = Flaky(tmp_path / "s.duckdb")
    journal = Journal(tmp_path / "j")
    writer = Writer(store, 100, 100, journal=journal, flush_seconds=60)
    writer.start()
    writer.submit(_batch("kept")).result(10)
    writer.wait_visible(10)  # the flush it asks for fails
    assert writer.stats().failed_flushes == 1
    assert writer.stats().unflushed_items == 1
    assert len(journal.segments()) == 2  # the refused batch's segment stays, next to the current one
    writer.stop()  # the retry at shutdown succeeds
    assert _names(store) == ["kept"]
    assert journal.segments() == []
    store.close()
