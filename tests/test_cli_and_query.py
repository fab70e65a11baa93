"""Reading the store: `stepseven query` through the API or on the file, and the SQL guard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import httpx
import pytest
from click.testing import CliRunner

from stepseven.cli import cli
from store import schema
from store.duckdb_store import DuckDBStore, StoreError
from tests.conftest import RunningCollector, free_port
from tests.otlp import request_bytes


def _load(collector: RunningCollector, spans: int = 3) -> None:
    httpx.post(
        f"{collector.http_url}/v1/traces",
        content=request_bytes(spans),
        headers={"Content-Type": "application/x-protobuf"},
    ).raise_for_status()


def _stepseven(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stepseven", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_query_goes_through_a_running_collector(collector: RunningCollector) -> None:
    _load(collector)
    out = _stepseven("query", "--url", collector.api_url, "--format", "json", "SELECT name FROM spans ORDER BY name")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"name": "child 0"}, {"name": "child 1"}, {"name": "root"}]

    table = _stepseven("query", "--url", collector.api_url, "SELECT count(*) AS spans FROM spans")
    assert "spans" in table.stdout and "3" in table.stdout
    csv = _stepseven("query", "--url", collector.api_url, "--format", "csv", "SELECT 1 AS a, 'x,y' AS b")
    assert csv.stdout.splitlines() == ["a,b", '1,"x,y"']


def test_query_reads_the_file_when_no_collector_runs(tmp_path: Path) -> None:
    collector = RunningCollector(tmp_path / "stepseven.duckdb")
    _load(collector, 4)
    collector.stop()
    # No collector on the default URL's port is assumed: point --url at a closed port.
    out = _stepseven("query", "--format", "json", "SELECT count(*) AS n FROM spans", cwd=tmp_path)
    if out.returncode != 0:  # something else listens on 4319 on this machine
        out = _stepseven(
            "query",
            "--db",
            str(tmp_path / "stepseven.duckdb"),
            "--format",
            "json",
            "SELECT count(*) AS n FROM spans",
        )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"n": 4}]


def test_query_on_a_file_held_by_a_collector_says_what_to_do(duckdb_collector: RunningCollector) -> None:
    out = _stepseven("query", "--db", str(duckdb_collector.db), "SELECT 1")
    assert out.returncode == 1
    assert "held by a running collector (PID" in out.stderr
    assert "--url" in out.stderr
    assert "Traceback" not in out.stderr


def test_query_without_collector_or_file_says_how_to_start(tmp_path: Path) -> None:
    out = _stepseven("query", "--url", f"http://127.0.0.1:{free_port()}", "SELECT 1", cwd=tmp_path)
    assert out.returncode == 1
    assert "No stepseven collector answers" in out.stderr and "stepseven serve" in out.stderr


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("DELETE FROM raw_spans", "DELETE statements are not allowed"),
        ("DROP TABLE raw_spans", "DROP statements are not allowed"),
        ("CREATE TABLE x (a INT)", "CREATE statements are not allowed"),
        ("SELECT 1; DELETE FROM raw_spans", "2 statements"),
        ("SELECT 1 /* ; */; DROP TABLE raw_spans -- ", "2 statements"),
        ("COPY raw_spans TO '/tmp/out.csv'", "COPY statements are not allowed"),
        ("ATTACH '/tmp/other.duckdb'", "ATTACH statements are not allowed"),
        ("INSTALL httpfs", "LOAD statements are not allowed"),
        ("SET enable_external_access = true", "SET statements are not allowed"),
        ("PRAGMA version", "PRAGMA statements are not allowed"),
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv() is not allowed"),
        ("SELECT * FROM read_text('/etc/passwd')", "read_text() is not allowed"),
        ("SELECT " + "1 + " * 60_000 + "1", "at most 100000 characters"),
        ("", "at least 1 character"),
        ("   ", "empty"),
    ],
)
def test_user_sql_that_is_not_one_read_only_statement_is_refused(
    duckdb_collector: RunningCollector, sql: str, words: str
) -> None:
    # DuckDB's refusals; tests/test_postgres_sql.py has PostgreSQL's.
    _load(duckdb_collector)
    response = httpx.post(f"{duckdb_collector.api_url}/api/v1/sql", json={"sql": sql})
    assert response.status_code == 400
    assert words in response.json()["error"]
    assert duckdb_collector.sql("SELECT count(*) AS n FROM spans") == [{"n": 3}]


def test_results_are_capped_and_flagged_as_truncated(collector: RunningCollector) -> None:
    # generate_series reads the same on both stores
    response = httpx.post(
        f"{collector.api_url}/api/v1/sql", json={"sql": "SELECT * FROM generate_series(1, 100)", "limit": 10}
    )
    body = response.json()
    assert (body["row_count"], body["truncated"]) == (10, True)
    csv = httpx.post(
        f"{collector.api_url}/api/v1/sql", json={"sql": "SELECT 42 AS answer"}, headers={"Accept": "text/csv"}
    )
    assert csv.text.splitlines() == ["answer", "42"]


def test_a_query_that_never_ends_is_stopped(tmp_path: Path) -> None:
    collector = RunningCollector(tmp_path / "slow.duckdb", "--query-timeout", "1")
    try:
        response = httpx.post(
            f"{collector.api_url}/api/v1/sql",
            json={"sql": "SELECT count(*) FROM range(1000000000000) a, range(1000000) b"},
            timeout=30,
        )
        assert response.status_code == 400
        assert "ran longer than 1 s" in response.json()["error"]
        assert collector.sql("SELECT 1 AS ok") == [{"ok": 1}]
    finally:
        collector.stop()


def test_the_collector_runs_duckdb_on_one_thread_unless_told_otherwise(tmp_path: Path) -> None:
    threads = "SELECT current_setting('threads') AS threads"
    collector = RunningCollector(tmp_path / "one.duckdb")
    try:
        assert collector.sql(threads) == [{"threads": 1}]
    finally:
        collector.stop()
    collector = RunningCollector(tmp_path / "one.duckdb", "--duckdb-threads", "3")
    try:
        assert collector.sql(threads) == [{"threads": 3}]
    finally:
        collector.stop()
    # With no ingest (a query-only collector, or the file read directly) nothing competes: DuckDB's default.
    default = duckdb.connect().execute(threads).fetchone()
    assert default is not None
    collector = RunningCollector(tmp_path / "one.duckdb", "--no-receivers")
    try:
        assert collector.sql(threads) == [{"threads": default[0]}]
    finally:
        collector.stop()
    out = _stepseven("query", "--db", str(tmp_path / "one.duckdb"), "--format", "json", threads)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"threads": default[0]}]
    refused = _stepseven("serve", "--db", str(tmp_path / "one.duckdb"), "--no-ui", "--duckdb-threads", "0")
    assert refused.returncode == 2 and "--duckdb-threads" in refused.stderr


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for args in ([], ["serve"], ["query"]):
        result = runner.invoke(cli, [*args, "--help"])
        assert result.exit_code == 0
        assert "Usage:" in result.output
    serve_help = runner.invoke(cli, ["serve", "--help"], terminal_width=200).output
    for option in ("--db", "--host", "--grpc-port", "--http-port", "--api-port", "--ui-port", "--no-ui"):
        assert option in serve_help
        assert f"STEPSEVEN_{option[2:].upper().replace('-', '_')}" in serve_help


def test_a_busy_port_is_a_sentence_not_a_traceback(collector: RunningCollector, tmp_path: Path) -> None:
    out = _stepseven(
        "serve",
        "--no-ui",
        "--db",
        str(tmp_path / "other.duckdb"),
        "--api-port",
        str(collector.api_port),
        "--http-port",
        str(free_port()),
        "--grpc-port",
        str(free_port()),
    )
    assert out.returncode == 1
    assert "pass --api-port or stop the other process" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_database_from_a_newer_stepseven_is_refused_clearly(tmp_path: Path) -> None:
    db = tmp_path / "future.duckdb"
    DuckDBStore(db).close()
    import duckdb

    con = duckdb.connect(str(db))
    con.execute(f"INSERT INTO {schema.schema_meta.name} VALUES (?, 0)", [schema.SCHEMA_VERSION + 1])
    con.close()
    with pytest.raises(StoreError, match="newer than this stepseven"):
        DuckDBStore(db)


def test_reopening_a_database_keeps_its_schema_version(tmp_path: Path) -> None:
    db = tmp_path / "again.duckdb"
    DuckDBStore(db).close()
    store = DuckDBStore(db)
    try:
        rows = store.cursor().execute(f"SELECT version FROM {schema.schema_meta.name}").fetchall()
        assert rows == [(schema.SCHEMA_VERSION,)]
    finally:
        store.close()
