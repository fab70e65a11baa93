"""Retention: old sessions go whole, on a schedule or by hand, and ingestion never notices."""

from __future__ import annotations

import calendar
import time
from datetime import datetime
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter

from collector.otlp_files import store_files
from store.duckdb_store import DuckDBStore
from tests.conftest import RunningCollector, store_args
from tests.otlp import emit_agent_run
from tests.test_sessions import CAPTURES, SAMPLES, send
from tests.test_sql_surface import stepseven

CUTOFF = datetime(2026, 6, 1)
CUTOFF_NS = calendar.timegm(CUTOFF.timetuple()) * 10**9

PER_SESSION = (
    "SELECT s.session_id, (SELECT count(*) FROM steps t WHERE t.session_id = s.session_id) AS steps,"
    " (SELECT count(*) FROM findings f WHERE f.session_id = s.session_id) AS findings,"
    " (SELECT count(*) FROM spans p WHERE p.session_id = s.session_id) AS spans"
    " FROM sessions s ORDER BY 1"
)


def test_prune_deletes_whole_old_sessions_and_keeps_the_rest_exactly(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    store = DuckDBStore(db)
    store_files(store, CAPTURES)
    store.close()
    analyzed = stepseven("analyze", "--db", str(db), "--config", str(SAMPLES / "analyzer.toml"))
    assert analyzed.returncode == 0, analyzed.stderr

    store = DuckDBStore(db, read_only=True)
    before = store.read(PER_SESSION)
    old = {r[0] for r in store.read("SELECT session_id FROM sessions WHERE last_time_unix_nano < ?", [CUTOFF_NS])}
    store.close()
    assert old and len(old) < len(before)  # the samples hold a year-old session and recent ones
    assert any(r[2] for r in before if r[0] in old)  # the old ones have findings to lose, too

    out = stepseven("prune", "--before", CUTOFF.date().isoformat(), "--db", str(db))
    assert out.returncode == 0, out.stderr
    assert f"Deleted {len(old)} sessions" in out.stdout

    store = DuckDBStore(db, read_only=True)
    try:
        assert store.read(PER_SESSION) == [r for r in before if r[0] not in old]
        leftovers = store.read(
            "SELECT (SELECT count(*) FROM raw_spans"
            "   WHERE trace_id NOT IN (SELECT trace_id FROM derived_session_traces)),"
            " (SELECT count(*) FROM derived_findings"
            "   WHERE session_id NOT IN (SELECT session_id FROM derived_sessions)),"
            " (SELECT count(*) FROM derived_steps WHERE session_id NOT IN (SELECT session_id FROM derived_sessions))"
        )
        assert leftovers == [(0, 0, 0)]
    finally:
        store.close()
    again = stepseven("prune", "--before", CUTOFF.date().isoformat(), "--db", str(db))
    assert again.returncode == 0 and "Deleted 0 sessions" in again.stdout


def test_prune_says_what_to_do_when_misused(duckdb_collector: RunningCollector, tmp_path: Path) -> None:
    neither = stepseven("prune", "--db", str(duckdb_collector.db))
    assert neither.returncode == 2 and "--before DATE or --older-than-days N" in neither.stderr
    held = stepseven("prune", "--older-than-days", "30", "--db", str(duckdb_collector.db))
    assert held.returncode == 1 and "held by a running collector" in held.stderr
    missing = stepseven("prune", "--older-than-days", "30", "--db", str(tmp_path / "nothing.duckdb"))
    assert missing.returncode == 1 and "There is no database" in missing.stderr


def test_a_collector_with_retention_forgets_old_sessions_while_it_keeps_ingesting(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    days = (time.time() - CUTOFF_NS / 1e9) / 86_400
    collector = RunningCollector(
        tmp_path / "r.duckdb",
        *store_args(backend, request),
        "--retention-days",
        f"{days:.3f}",
        "--retention-interval",
        "1",
        "--analyze-after",
        "0.3",
    )
    try:
        send(collector, *CAPTURES)
        # Agents keep exporting while old data is deleted.
        for n in range(5):
            emit_agent_run(GrpcSpanExporter(endpoint=collector.grpc_endpoint, insecure=True), service=f"live-{n}")
        collector.settle(analyzed=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            old = collector.sql(
                "SELECT count(*) AS n FROM spans WHERE end_time_unix_nano < $1 AND session_id IS NOT NULL", [CUTOFF_NS]
            )
            if old == [{"n": 0}]:
                break
            time.sleep(0.5)
        assert collector.sql("SELECT count(*) AS n FROM sessions WHERE last_time_unix_nano < $1", [CUTOFF_NS]) == [
            {"n": 0}
        ]
        assert old == [{"n": 0}]
        kept = collector.sql("SELECT count(*) AS n FROM sessions")[0]["n"]
        assert kept >= len(CAPTURES) - 2
        live = collector.sql(
            "SELECT service_name, count(*) AS n FROM spans WHERE service_name LIKE 'live-%' GROUP BY 1"
        )
        assert len(live) == 5 and all(r["n"] == 3 for r in live)
        retention = collector.health()["retention"]
        assert retention["pruned_sessions"] >= 1 and retention["failures"] == 0
    finally:
        collector.stop()
