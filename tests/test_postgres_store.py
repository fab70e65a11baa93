"""Several collectors on one PostgreSQL database: the schema is made once, and every span is stored once."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import orjson
import pytest

from analyzer.config import load_config
from analyzer.worker import AnalysisWorker
from collector.otlp_files import load_batch, store_files
from store import schema
from store.duckdb_store import DuckDBStore
from store.postgres_store import PostgresStore
from store.retention import prune_all
from store.writer import Writer
from tests.conftest import fresh_database
from tests.test_sessions import CAPTURES, HANDOFF_COLUMNS, SAMPLES, SESSION_COLUMNS, STEP_COLUMNS


@pytest.fixture
def database(pg_cluster: str) -> str:
    """A fresh, empty database on the test server."""
    return fresh_database(pg_cluster)


def test_a_fresh_database_gets_the_schema_and_views(database: str) -> None:
    store = PostgresStore(database)
    try:
        assert store.schema_version() == schema.SCHEMA_VERSION
        assert store.read("SELECT count(*) FROM sessions") == [(0,)]
    finally:
        store.close()
    again = PostgresStore(database)  # reopening migrates nothing and records nothing
    try:
        assert again.read("SELECT count(*) FROM stepseven_schema") == [(1,)]
    finally:
        again.close()


def test_a_database_from_schema_10_gets_its_steps_build_times_on_first_start(database: str) -> None:
    store = PostgresStore(database)
    try:
        store_files(store, CAPTURES[:3])
        steps = store.read("SELECT count(*) FROM derived_steps")[0][0]
        assert steps > 0
        store._execute("ALTER TABLE derived_steps DROP COLUMN session_updated_time_unix_nano", [])
        store._execute("UPDATE stepseven_schema SET version = 10 WHERE version = ?", [schema.SCHEMA_VERSION])
    finally:
        store.close()
    store = PostgresStore(database)
    try:
        assert store.schema_version() == schema.SCHEMA_VERSION
        # Each step carries the time of the build it belongs to: its session's.
        matched = store.read(
            "SELECT count(*) FROM derived_steps d JOIN derived_sessions s ON s.session_id = d.session_id "
            "WHERE d.session_updated_time_unix_nano = s.updated_time_unix_nano"
        )
        assert matched == [(steps,)]
    finally:
        store.close()


def test_collectors_starting_at_once_on_a_fresh_database_make_the_schema_once(database: str) -> None:
    starts = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"from store.postgres_store import PostgresStore; PostgresStore({database!r}).close()",
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1] for p in starts]
    assert [p.returncode for p in starts] == [0, 0, 0, 0], errors
    store = PostgresStore(database)
    try:
        assert store.read("SELECT version, count(*) FROM stepseven_schema GROUP BY 1") == [(schema.SCHEMA_VERSION, 1)]
    finally:
        store.close()


def test_a_span_delivered_twice_or_to_two_collectors_is_stored_once(database: str) -> None:
    batch = load_batch(CAPTURES[0])
    first, second = PostgresStore(database), PostgresStore(database)
    try:
        stored = first.write(batch)
        assert stored.spans == len(batch.spans) > 0
        assert first.write(batch).spans == 0  # an exporter's retry
        assert second.write(batch).spans == 0  # the same span sent to the other collector
        assert first.read("SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM raw_spans") == [
            (len(batch.spans), len(batch.spans))
        ]
        # The views read it as on DuckDB: JSON stays JSON.
        names = first.read("SELECT count(*) FROM spans WHERE attributes->>'gen_ai.operation.name' IS NOT NULL")
        assert names[0][0] > 0
    finally:
        first.close()
        second.close()


def test_two_collectors_writing_through_group_commit_at_once_lose_and_duplicate_nothing(database: str) -> None:
    batches = [load_batch(path) for path in CAPTURES]
    expected = len(
        {(t, s) for b in batches for t, s in zip(b.spans.column("trace_id"), b.spans.column("span_id"), strict=True)}
    )
    stores = [PostgresStore(database), PostgresStore(database)]
    writers = [Writer(store, 100_000, 50_000) for store in stores]
    for writer in writers:
        writer.start()
    try:
        futures = []
        lock = threading.Lock()

        def send(writer: Writer) -> None:
            # Every collector gets every file: half of all writes are re-deliveries racing the other one.
            for batch in batches:
                future = writer.submit(batch)  # the writer merges into a new batch: sharing is safe
                with lock:
                    futures.append(future)

        threads = [threading.Thread(target=send, args=(w,)) for w in writers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for future in futures:
            future.result(timeout=120)  # acknowledged means committed
        assert stores[0].read("SELECT count(*) FROM raw_spans") == [(expected,)]
    finally:
        for writer in writers:
            writer.stop(30)
        for store in stores:
            store.close()


def _normalized(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    # DuckDB hands JSON back as text, psycopg as Python values; floats may differ in the last bit.
    def value(v: object) -> object:
        if isinstance(v, str) and v[:1] in ("[", "{"):
            try:
                return orjson.loads(v)
            except orjson.JSONDecodeError:
                return v
        return round(v, 6) if isinstance(v, float) else v

    return [tuple(value(v) for v in row) for row in rows]


def test_the_sample_traces_become_the_same_sessions_steps_and_handoffs_as_on_duckdb(
    database: str, tmp_path: Path
) -> None:
    postgres = PostgresStore(database)
    duck = DuckDBStore(tmp_path / "same.duckdb")
    try:
        store_files(postgres, CAPTURES)
        store_files(duck, CAPTURES)
        for query in (
            f"SELECT {SESSION_COLUMNS} FROM sessions ORDER BY session_id",
            f"SELECT {STEP_COLUMNS} FROM steps ORDER BY session_id, step_index",
            f"SELECT {HANDOFF_COLUMNS}, payload FROM handoffs ORDER BY session_id, handoff_index",
            # As text, so that a JSON string holding JSON text cannot pass for the parsed value.
            "SELECT session_id, step_index, CAST(tool_arguments AS VARCHAR), CAST(tool_result AS VARCHAR), "
            "CAST(input_messages AS VARCHAR), CAST(output_messages AS VARCHAR), "
            "CAST(system_instructions AS VARCHAR) FROM steps ORDER BY 1, 2",
        ):
            expected = _normalized(duck.read(query))
            assert len(expected) > 20
            assert _normalized(postgres.read(query)) == expected, query
    finally:
        postgres.close()
        duck.close()


def test_a_tool_result_that_only_looks_like_json_reads_back_as_its_text_on_both_backends(
    database: str, tmp_path: Path
) -> None:
    """Log-like output ("[1/3] ...") or a truncated object is text, not NULL, in every view."""
    arguments, result = '{"q": "refund", "limit": ', "[1/3] downloading invoices\n[2/3] parsing"

    def attribute(key: str, value: str) -> dict[str, object]:
        return {"key": key, "value": {"stringValue": value}}

    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "execute_tool fetch_invoices",
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000001000000000",
        "attributes": [
            attribute("gen_ai.operation.name", "execute_tool"),
            attribute("gen_ai.tool.name", "fetch_invoices"),
            attribute("gen_ai.tool.call.arguments", arguments),
            attribute("gen_ai.tool.call.result", result),
        ],
    }
    request = tmp_path / "tool.json"
    request.write_bytes(orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}))
    postgres = PostgresStore(database)
    duck = DuckDBStore(tmp_path / "tool.duckdb")
    try:
        for store in (postgres, duck):
            store_files(store, [request])
            for view in ("spans", "steps", "tool_calls"):
                rows = store.read(f"SELECT CAST(tool_arguments AS VARCHAR), CAST(tool_result AS VARCHAR) FROM {view}")
                assert [tuple(orjson.loads(v) for v in row) for row in rows] == [(arguments, result)], (store, view)
    finally:
        postgres.close()
        duck.close()


def test_the_analyzer_finds_the_same_problems_on_postgresql_and_retention_prunes_them(
    database: str, tmp_path: Path
) -> None:
    config = load_config(SAMPLES / "analyzer.toml")
    postgres = PostgresStore(database)
    duck = DuckDBStore(tmp_path / "same.duckdb")
    try:
        found = {}
        for name, store in (("postgresql", postgres), ("duckdb", duck)):
            store_files(store, CAPTURES)
            worker = AnalysisWorker(store, config)
            ids = sorted(store.sessions_to_analyze())
            worker.analyze(ids)
            assert store.sessions_to_analyze() == {}  # every version analyzed is recorded
            found[name] = _normalized(
                store.read(
                    "SELECT finding_id, session_id, kind, sub_kind, severity, agent_name, step_indexes, explanation "
                    "FROM findings ORDER BY finding_id"
                )
            )
        assert len(found["duckdb"]) > 10
        only_pg = [f[:4] for f in found["postgresql"] if f not in found["duckdb"]]
        only_duck = [f[:4] for f in found["duckdb"] if f not in found["postgresql"]]
        assert (only_pg, only_duck) == ([], [])

        cutoff = 1_780_272_000 * 10**9  # 2026-06-01: the year-old sample sessions are older
        old = {r[0] for r in duck.read("SELECT session_id FROM sessions WHERE last_time_unix_nano < ?", [cutoff])}
        assert old
        assert prune_all(postgres, cutoff).sessions == prune_all(duck, cutoff).sessions == len(old)
        kept = "SELECT session_id, step_count FROM sessions ORDER BY 1"
        assert postgres.read(kept) == duck.read(kept)
        orphans = "SELECT count(*) FROM raw_spans WHERE trace_id NOT IN (SELECT trace_id FROM derived_session_traces)"
        assert postgres.read(orphans) == [(0,)]
    finally:
        postgres.close()
        duck.close()
