"""SQL over traces: the documented views and examples, the sandbox, the REST reads, the token and exports.

One collector, started with a token, holds every sample trace; each story reads it the way a user would.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import grpc
import httpx
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import SpanExportResult

from api.client import ApiClient, ApiError
from tests.conftest import BACKENDS, RunningCollector, counted_rows, store_args
from tests.otlp import emit_agent_run, raw_request, raw_span, request_bytes
from tests.test_sessions import CAPTURES, SAMPLES, STEP_COLUMNS

TOKEN = "tok-" + "7" * 28
DOCS = Path(__file__).parent.parent / "docs" / "sql.md"
VIEWS = [
    "sessions", "steps", "llm_calls", "tool_calls", "handoffs", "findings", "redactions", "spans", "logs", "metrics",
    "derived_failures",
]  # fmt: skip


def stepseven(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stepseven", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


@pytest.fixture(scope="module", params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCollector]:
    folder = tmp_path_factory.mktemp("sql")
    collector = RunningCollector(
        folder / "s.duckdb",
        *store_args(request.param, request),
        "--token",
        TOKEN,
        "--query-timeout",
        "3",
        "--analyze-after",
        "0.3",
        "--analyzer-config",
        str(SAMPLES / "analyzer.toml"),
    )
    out = stepseven("send", "--endpoint", collector.http_url, "--token", TOKEN, *map(str, CAPTURES))
    assert out.returncode == 0, out.stderr
    collector.settle(analyzed=True)
    yield collector
    collector.stop()


def api(collector: RunningCollector) -> ApiClient:
    return ApiClient(collector.api_url, token=TOKEN)


def rows(collector: RunningCollector, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    with api(collector) as client:
        return counted_rows(client, sql, params)


def post_sql(collector: RunningCollector, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(
        f"{collector.api_url}/api/v1/sql",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}", **headers},
        timeout=60,
    )


def fingerprint(collector: RunningCollector) -> list[dict[str, Any]]:
    """What must not change whatever a query tries: the tables, the spans, the sessions and the findings."""
    return rows(
        collector,
        "SELECT (SELECT count(*) FROM raw_spans) AS spans,"
        " (SELECT sum(hash(trace_id || span_id)) FROM raw_spans) AS ids,"
        " (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM findings) AS findings,"
        " (SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables) AS tables",
    )


# DuckDB's own sandbox (its file functions, statements and settings); tests/test_postgres_sql.py has PostgreSQL's.
duckdb_only = pytest.mark.parametrize("live", ["duckdb"], indirect=True)


# -- the documented surface ----------------------------------------------------------------------


def _examples() -> list[tuple[str, dict[str, str]]]:
    """(title, {backend: SQL}) of each worked example; a block after "On a PostgreSQL store" is that store's."""
    text = DOCS.read_text().split("## Worked examples", 1)[1]
    found = []
    for section in re.split(r"^### ", text, flags=re.M)[1:]:
        title = section.split("\n", 1)[0].strip()
        variants: dict[str, str] = {}
        for match in re.finditer(r"(?:^(On a PostgreSQL store[^\n]*)\n)?```sql\n(.*?)```", section, re.S | re.M):
            backend = "postgresql" if match.group(1) else "duckdb"
            variants[backend] = match.group(2)
        if variants:
            variants.setdefault("postgresql", variants["duckdb"])
            found.append((title, variants))
    return found


EXAMPLES = _examples()


def test_the_docs_have_worked_examples() -> None:
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("title, sql", EXAMPLES, ids=[title for title, _ in EXAMPLES])
def test_every_documented_example_runs_on_the_samples_and_returns_rows(
    live: RunningCollector, title: str, sql: dict[str, str]
) -> None:
    assert rows(live, sql[live.backend]), f"the example {title!r} returned no rows on {live.backend}"


def test_every_column_of_every_view_is_documented(live: RunningCollector) -> None:
    text = DOCS.read_text()
    served = httpx.get(f"{live.api_url}/api/v1/views", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert [v["name"] for v in served] == VIEWS
    undocumented = [
        f"{view['name']}.{column['name']}"
        for view in served
        for column in view["columns"]
        if not _covered_by_pattern(column["name"], text)
    ]
    assert undocumented == []
    for view in served:
        assert f"### `{view['name']}`" in text or f"`{view['name']}`" in text


def _covered_by_pattern(column: str, text: str) -> bool:
    # `*_unix_nano`, `dropped_*_count` and the like document a family of columns.
    for pattern in re.findall(r"`([a-z_]*\*[a-z_]*)`", text):
        if re.fullmatch(pattern.replace("*", "[a-z_]+"), column):
            return True
    return f"`{column}`" in text


def test_llm_and_tool_call_views_are_the_steps_of_that_kind(live: RunningCollector) -> None:
    counts = rows(
        live,
        "SELECT (SELECT count(*) FROM llm_calls) AS llm,"
        " (SELECT count(*) FROM steps WHERE step_kind = 'llm') AS llm_steps,"
        " (SELECT count(*) FROM tool_calls) AS tool,"
        " (SELECT count(*) FROM steps WHERE step_kind = 'tool') AS tool_steps",
    )[0]
    assert counts["llm"] == counts["llm_steps"] > 0
    assert counts["tool"] == counts["tool_steps"] > 0


# -- the sandbox ---------------------------------------------------------------------------------

FILE_FUNCTIONS = [
    "read_csv('/etc/passwd')",
    "read_csv_auto('/etc/passwd')",
    "read_text('/etc/passwd')",
    "read_blob('/etc/passwd')",
    "read_json('/etc/passwd')",
    "read_json_auto('/etc/passwd')",
    "read_json_objects('/etc/passwd')",
    "read_ndjson('/etc/passwd')",
    "read_ndjson_objects('/etc/passwd')",
    "read_parquet('/etc/passwd')",
    "parquet_scan('/etc/passwd')",
    "parquet_metadata('/etc/passwd')",
    "parquet_schema('/etc/passwd')",
    "sniff_csv('/etc/passwd')",
    "glob('/etc/*')",
    "'/etc/passwd'",
    "read_csv('http://127.0.0.1:1/passwd')",
    "read_text('file:///etc/passwd')",
]

REFUSED = [
    ("COPY raw_spans TO '/tmp/stepseven-leak.csv'", "COPY statements are not allowed"),
    ("COPY (SELECT * FROM spans) TO '/tmp/stepseven-leak.parquet' (FORMAT parquet)", "COPY statements are not allowed"),
    ("EXPORT DATABASE '/tmp/stepseven-leak'", "EXPORT statements are not allowed"),
    ("ATTACH '/tmp/stepseven-other.duckdb' AS other", "ATTACH statements are not allowed"),
    ("ATTACH ':memory:' AS scratch", "ATTACH statements are not allowed"),
    ("DETACH scratch", "DETACH statements are not allowed"),
    ("INSTALL httpfs", "LOAD statements are not allowed"),
    ("FORCE INSTALL httpfs", "LOAD statements are not allowed"),
    ("LOAD httpfs", "LOAD statements are not allowed"),
    ("SET enable_external_access = true", "SET statements are not allowed"),
    ("SET GLOBAL enable_external_access = true", "SET statements are not allowed"),
    ("RESET enable_external_access", "SET statements are not allowed"),
    ("SET lock_configuration = false", "SET statements are not allowed"),
    ("PRAGMA enable_external_access", "PRAGMA statements are not allowed"),
    ("PRAGMA threads = 64", "SET statements are not allowed"),
    ("CALL pragma_version()", "CALL statements are not allowed"),
    ("CHECKPOINT", "CALL statements are not allowed"),
    ("DELETE FROM raw_spans", "DELETE statements are not allowed"),
    ("UPDATE raw_spans SET name = 'x'", "UPDATE statements are not allowed"),
    ("INSERT INTO derived_findings SELECT * FROM derived_findings", "INSERT statements are not allowed"),
    ("DROP TABLE raw_spans", "DROP statements are not allowed"),
    ("DROP VIEW steps", "DROP statements are not allowed"),
    ("CREATE TABLE stolen AS SELECT * FROM spans", "CREATE statements are not allowed"),
    ("CREATE MACRO leak() AS 1", "CREATE statements are not allowed"),
    ("ALTER TABLE raw_spans RENAME TO gone", "ALTER statements are not allowed"),
    ("VACUUM", "VACUUM statements are not allowed"),
    ("SELECT 1; DELETE FROM raw_spans", "2 statements"),
    ("SELECT 1 -- innocent\n; DROP TABLE raw_spans", "2 statements"),
    ("SELECT 1 /* ; */; DROP TABLE raw_spans -- ", "2 statements"),
    ("SELECT * FROM query('DROP TABLE raw_spans')", "query() is not allowed"),
    # EXPLAIN ANALYZE runs its statement: a COPY inside it wrote into the store's temp folder.
    ("EXPLAIN ANALYZE COPY (SELECT * FROM spans) TO '/tmp/stepseven-leak.csv'", "EXPLAIN ANALYZE runs the statement"),
    ("EXPLAIN ANALYZE SELECT count(*) FROM range(5000000)", "EXPLAIN ANALYZE runs the statement"),
    ("/* plan */ explain (analyze) SELECT 1", "EXPLAIN ANALYZE runs the statement"),
    ("EXPLAIN COPY (SELECT 1) TO '/tmp/stepseven-leak.csv'", "EXPLAIN is allowed of a SELECT only"),
    # The store's own files stay readable with external access off: the functions are refused by name.
    ("SELECT * FROM read_blob('*.duckdb')", "read_blob() is not allowed"),
    ("SELECT * FROM glob('*')", "glob() is not allowed"),
    ("SELECT * FROM checkpoint()", "checkpoint() is not allowed"),
    ("SELECT * FROM force_checkpoint()", "force_checkpoint() is not allowed"),
    ("SELECT path FROM duckdb_databases()", "duckdb_databases() is not allowed"),
    ("SELECT * FROM duckdb_temporary_files()", "duckdb_temporary_files() is not allowed"),
    ("SELECT current_setting('home_directory')", "current_setting() is not allowed"),
    ("SELECT current_setting('temp_directory')", "current_setting() is not allowed"),
    ("SELECT * FROM pragma_database_size()", "pragma_database_size() is not allowed"),
    ("SELECT * FROM 'corpus.duckdb.wal'", "Reading a file by its name is not allowed"),
    ("SELECT * FROM query_table('raw_spans'); DROP TABLE raw_spans", "2 statements"),
    ("SELECT " + "1 + " * 30_000 + "1", "at most 100000 characters"),
]


@duckdb_only
@pytest.mark.parametrize("source", FILE_FUNCTIONS)
def test_no_file_or_url_can_be_read_through_sql(live: RunningCollector, source: str) -> None:
    before = fingerprint(live)
    response = post_sql(live, {"sql": f"SELECT * FROM {source}"})
    assert response.status_code == 400, response.text
    message = response.json()["error"]
    assert "root:" not in message
    assert any(word in message for word in ("disabled", "does not exist", "not allowed")), message
    assert fingerprint(live) == before


@duckdb_only
@pytest.mark.parametrize("sql, words", REFUSED, ids=[s[:40] for s, _ in REFUSED])
def test_sql_that_is_not_one_read_only_statement_is_refused_and_changes_nothing(
    live: RunningCollector, sql: str, words: str
) -> None:
    before = fingerprint(live)
    response = post_sql(live, {"sql": sql})
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]
    assert fingerprint(live) == before
    assert not Path("/tmp/stepseven-leak.csv").exists()
    assert not Path("/tmp/stepseven-other.duckdb").exists()


@duckdb_only
def test_a_query_that_never_ends_is_interrupted_with_a_sentence(live: RunningCollector) -> None:
    response = post_sql(live, {"sql": "SELECT count(*) FROM range(1000000000000) a, range(1000000) b"})
    assert response.status_code == 400
    assert "ran longer than 3 s and was stopped" in response.json()["error"]
    assert rows(live, "SELECT 1 AS alive") == [{"alive": 1}]


@duckdb_only
def test_describe_show_summarize_and_explain_are_reads(live: RunningCollector) -> None:
    for sql in ("DESCRIBE steps", "SHOW TABLES", "SUMMARIZE sessions", "EXPLAIN SELECT * FROM steps"):
        assert post_sql(live, {"sql": sql}).status_code == 200, sql


# -- results in JSON, CSV and Arrow ---------------------------------------------------------------


def test_results_come_as_json_csv_or_arrow_and_say_when_truncated(live: RunningCollector) -> None:
    sql = {"sql": "SELECT session_id, start_time, step_count FROM sessions ORDER BY session_id", "limit": 5}
    body = post_sql(live, sql).json()
    assert (body["columns"], body["row_count"], body["truncated"]) == (
        ["session_id", "start_time", "step_count"],
        5,
        True,
    )

    csv = post_sql(live, sql, Accept="text/csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.headers["x-stepseven-truncated"] == "true"
    assert csv.text.splitlines()[0] == "session_id,start_time,step_count"
    assert len(csv.text.splitlines()) == 6

    arrow = post_sql(live, sql, Accept="application/vnd.apache.arrow.stream")
    table = pa.ipc.open_stream(arrow.content).read_all()
    assert table.num_rows == 5
    assert pa.types.is_timestamp(table.schema.field("start_time").type)
    assert table.schema.metadata[b"truncated"] == b"true"
    assert table.column("session_id").to_pylist() == [r[0] for r in body["rows"]]


def test_values_travel_as_parameters(live: RunningCollector) -> None:
    hostile = "x' OR '1'='1"
    assert rows(live, "SELECT count(*) AS n FROM sessions WHERE session_id = $1", [hostile]) == [{"n": 0}]
    response = post_sql(live, {"sql": "SELECT 1", "params": [{"nested": "object"}]})
    assert response.status_code == 400
    assert "params" in response.json()["error"]


# -- the REST reads ------------------------------------------------------------------------------


def get(collector: RunningCollector, path: str, **params: Any) -> httpx.Response:
    return httpx.get(
        f"{collector.api_url}{path}", params=params, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
    )


def test_sessions_are_listed_newest_first_with_a_total_and_pages(live: RunningCollector) -> None:
    total = rows(live, "SELECT count(*) AS n FROM sessions")[0]["n"]
    first = get(live, "/api/v1/sessions", limit=5).json()
    second = get(live, "/api/v1/sessions", limit=5, offset=5).json()
    assert first["total"] == second["total"] == total
    ids = [s["session_id"] for s in first["sessions"] + second["sessions"]]
    expected = [
        r["session_id"]
        for r in rows(live, "SELECT session_id FROM sessions ORDER BY start_time DESC, session_id LIMIT 10")
    ]
    assert ids == expected


def test_sessions_can_be_filtered_by_agent_status_finding_text_and_time(live: RunningCollector) -> None:
    billing = get(live, "/api/v1/sessions", agent="billing_agent", limit=1000).json()
    assert billing["total"] > 0
    assert all("billing_agent" in s["agents"] for s in billing["sessions"])
    failed = get(live, "/api/v1/sessions", status="error", limit=1000).json()
    assert failed["total"] == rows(live, "SELECT count(*) AS n FROM sessions WHERE status = 'error'")[0]["n"] > 0
    looping = get(live, "/api/v1/sessions", finding="runaway_loop", limit=1000).json()
    assert looping["total"] > 0 and all("runaway_loop" in s["findings"] for s in looping["sessions"])
    searched = get(live, "/api/v1/sessions", q="refund", limit=1000).json()
    assert searched["total"] > 0
    assert get(live, "/api/v1/sessions", since="2999-01-01T00:00:00Z").json()["total"] == 0
    assert get(live, "/api/v1/sessions", until="2000-01-01").json()["total"] == 0
    bad = get(live, "/api/v1/sessions", since="yesterday")
    assert bad.status_code == 400 and "since" in bad.json()["error"]


def test_one_session_comes_with_its_handoffs_findings_and_steps(live: RunningCollector) -> None:
    failed = rows(live, "SELECT session_id FROM handoffs WHERE outcome <> 'completed' ORDER BY 1 LIMIT 1")
    session_id = failed[0]["session_id"]
    detail = get(live, f"/api/v1/sessions/{session_id}").json()
    assert detail["session"]["session_id"] == session_id
    assert any(h["outcome"] != "completed" for h in detail["handoffs"])
    assert detail["findings"] and all(f["session_id"] == session_id for f in detail["findings"])

    steps = get(live, f"/api/v1/sessions/{session_id}/steps", columns="step_index,step_kind,agent_name", to=3).json()
    assert steps["columns"] == ["step_index", "step_kind", "agent_name"]
    assert [s["step_index"] for s in steps["steps"]] == [1, 2, 3]
    expected = rows(
        live,
        "SELECT step_index, step_kind, agent_name FROM steps WHERE session_id = $1 AND step_index <= 3 ORDER BY 1",
        [session_id],
    )
    assert steps["steps"] == expected

    missing = get(live, "/api/v1/sessions/no-such-session")
    assert missing.status_code == 404 and "no-such-session" in missing.json()["error"]
    bad = get(live, f"/api/v1/sessions/{session_id}/steps", columns="step_index FROM raw_spans --")
    assert bad.status_code == 400 and "not columns of the steps view" in bad.json()["error"]


def test_findings_are_listed_and_filtered(live: RunningCollector) -> None:
    everything = get(live, "/api/v1/findings").json()
    # Notes (severity `note`) stay out of the list unless asked for.
    findings = rows(live, "SELECT count(*) AS n FROM findings WHERE severity <> 'note'")[0]["n"]
    assert everything["total"] == findings > 0
    assert {f["severity"] for f in everything["findings"]} <= {"low", "medium", "high"}
    with_notes = get(live, "/api/v1/findings", notes="true").json()
    assert with_notes["total"] == rows(live, "SELECT count(*) AS n FROM findings")[0]["n"] > findings
    loops = get(live, "/api/v1/findings", kind="runaway_loop").json()
    assert loops["total"] > 0 and {f["kind"] for f in loops["findings"]} == {"runaway_loop"}


def test_the_server_serves_its_openapi_document(live: RunningCollector) -> None:
    document = httpx.get(f"{live.api_url}/api/v1/openapi.json").json()
    assert set(document["paths"]) >= {
        "/api/v1/sql",
        "/api/v1/views",
        "/api/v1/sessions",
        "/api/v1/sessions/{session_id}",
        "/api/v1/sessions/{session_id}/steps",
        "/api/v1/findings",
    }
    assert "HTTPBearer" in document["components"]["securitySchemes"]


def test_fuzzing_the_api_from_its_openapi_document_finds_no_server_error(live: RunningCollector) -> None:
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{live.api_url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {TOKEN}",
            "--max-examples",
            "40",
            "--seed",
            "7",
            # Random text is rarely valid SQL: refusing it with a 400 is right, not a failure.
            "--exclude-checks",
            "positive_data_acceptance",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-6000:]
    assert rows(live, "SELECT 1 AS alive") == [{"alive": 1}]


# -- the token -----------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_the_query_api_needs_the_token(live: RunningCollector, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    for response in (
        httpx.post(f"{live.api_url}/api/v1/sql", json={"sql": "SELECT 1"}, headers=headers),
        httpx.get(f"{live.api_url}/api/v1/sessions", headers=headers),
    ):
        assert response.status_code == 401
        assert "Authorization: Bearer" in response.json()["error"]
    assert httpx.get(f"{live.api_url}/healthz").status_code == 200
    assert post_sql(live, {"sql": "SELECT 1 AS one"}).json()["rows"] == [[1]]


def test_ingest_over_http_needs_the_token_and_keeps_only_authorized_spans(live: RunningCollector) -> None:
    before = rows(live, "SELECT count(*) AS n FROM spans")[0]["n"]
    body = request_bytes(2)
    for headers in ({}, {"Authorization": "Bearer nope"}):
        refused = httpx.post(
            f"{live.http_url}/v1/traces", content=body, headers={"Content-Type": "application/x-protobuf", **headers}
        )
        assert refused.status_code == 401
        assert b"OTEL_EXPORTER_OTLP_HEADERS" in refused.content
    accepted = httpx.post(
        f"{live.http_url}/v1/traces",
        content=body,
        headers={"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {TOKEN}"},
    )
    assert accepted.status_code == 200
    live.settle()
    assert rows(live, "SELECT count(*) AS n FROM spans")[0]["n"] == before + 2


def test_an_unauthenticated_grpc_call_is_refused_before_its_compressed_body_is_inflated(
    live: RunningCollector,
) -> None:
    """Eight gzip bombs (each 100 MiB inflated, 100 KB on the wire) from a client without the token."""
    import psutil

    assert live.proc is not None
    server = psutil.Process(live.proc.pid)
    before = server.memory_info().rss
    bomb = bytes(100 * 1024 * 1024)
    channel = grpc.insecure_channel(live.grpc_endpoint, compression=grpc.Compression.Gzip)
    export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
    peak = before
    for _ in range(8):
        with pytest.raises(grpc.RpcError) as refused:
            export(bomb, timeout=30)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        peak = max(peak, server.memory_info().rss)
    channel.close()
    # Inflating even one would take 100 MiB; refused on the metadata alone, the server never holds them.
    assert peak - before < 64 * 1024 * 1024, (before, peak)


def test_ingest_over_grpc_needs_the_token(live: RunningCollector) -> None:
    body = raw_request(raw_span("grpc-auth-probe")).SerializeToString()
    channel = grpc.insecure_channel(live.grpc_endpoint)
    export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
    for metadata in ((), (("authorization", "Bearer nope"),)):
        with pytest.raises(grpc.RpcError) as refused:
            export(body, metadata=metadata, timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "Bearer" in (refused.value.details() or "")
    channel.close()
    assert rows(live, "SELECT count(*) AS n FROM spans WHERE name = 'grpc-auth-probe'") == [{"n": 0}]

    # What a user configures: OTEL_EXPORTER_OTLP_HEADERS, here as the exporter's headers argument.
    unauthorized = GrpcSpanExporter(endpoint=live.grpc_endpoint, insecure=True)
    emit_agent_run(unauthorized, service="no-token-bot")
    authorized = GrpcSpanExporter(
        endpoint=live.grpc_endpoint, insecure=True, headers={"authorization": f"Bearer {TOKEN}"}
    )
    emit_agent_run(authorized, service="token-bot-grpc")
    http = HttpSpanExporter(endpoint=f"{live.http_url}/v1/traces", headers={"Authorization": f"Bearer {TOKEN}"})
    emit_agent_run(http, service="token-bot-http")
    live.settle()
    services = {
        r["service_name"]: r["n"] for r in rows(live, "SELECT service_name, count(*) AS n FROM spans GROUP BY 1")
    }
    assert services.get("no-token-bot") is None
    assert services["token-bot-grpc"] == services["token-bot-http"] == 3


def test_an_unauthorized_export_fails_at_the_exporter(live: RunningCollector) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    exporter = HttpSpanExporter(endpoint=f"{live.http_url}/v1/traces")
    tracer = TracerProvider().get_tracer("probe")
    span = tracer.start_span("unauthorized")
    span.end()
    assert exporter.export([span]) == SpanExportResult.FAILURE  # type: ignore[list-item]


def test_the_cli_passes_the_token_and_says_when_it_is_missing(live: RunningCollector) -> None:
    ok = stepseven("query", "--url", live.api_url, "--format", "csv", "SELECT 1 AS one", env={"STEPSEVEN_TOKEN": TOKEN})
    assert ok.returncode == 0 and ok.stdout.splitlines() == ["one", "1"]
    missing = stepseven("query", "--url", live.api_url, "SELECT 1", env={"STEPSEVEN_TOKEN": ""})
    assert missing.returncode == 1 and "Authorization: Bearer" in missing.stderr


# -- exports -------------------------------------------------------------------------------------

KEYS = {
    "sessions": "session_id",
    "steps": "session_id || ':' || step_index",
    "llm_calls": "span_id || ':' || coalesce(input_tokens, -1)",
    "tool_calls": "span_id || ':' || coalesce(tool_name, '')",
    "handoffs": "session_id || ':' || handoff_index || ':' || outcome",
    "findings": "finding_id || ':' || sub_kind",
    "redactions": "session_id || ':' || values_redacted",
    "spans": "trace_id || ':' || span_id || ':' || start_time_unix_nano",
    "logs": "record_id",
    "metrics": "metric_name || ':' || time_unix_nano",
    "derived_failures": "stage || ':' || key",
}


def _checksum(values: list[Any]) -> str:
    return hashlib.sha256("\n".join(sorted(str(v) for v in values)).encode()).hexdigest()


def test_an_export_to_parquet_round_trips_every_view(live: RunningCollector, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    done = stepseven("export", "--url", live.api_url, "--token", TOKEN, "--output", str(out))
    assert done.returncode == 0, done.stderr
    for view in VIEWS:
        expected = rows(live, f"SELECT {KEYS[view]} AS k FROM {view}")
        if not expected:
            assert not (out / view).exists()
            continue
        assert all(p.name.startswith("day=") for p in (out / view).iterdir())
        table = ds.dataset(out / view, format="parquet", partitioning="hive").to_table()
        assert table.num_rows == len(expected), view
        con = duckdb.connect()
        con.register("exported", table)
        got = [r[0] for r in con.execute(f"SELECT {KEYS[view]} FROM exported").fetchall()]
        assert _checksum(got) == _checksum([r["k"] for r in expected]), view
    again = stepseven("export", "--url", live.api_url, "--token", TOKEN, "--output", str(out), "steps")
    assert again.returncode == 1 and "--overwrite" in again.stderr


def test_a_query_result_can_be_written_as_parquet(live: RunningCollector, tmp_path: Path) -> None:
    target = tmp_path / "tools.parquet"
    out = stepseven(
        "query", "--url", live.api_url, "--token", TOKEN, "--format", "parquet", "--output", str(target),
        "SELECT tool_name, count(*) AS calls, max(start_time) AS last FROM tool_calls GROUP BY 1",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    table = pq.read_table(target)
    assert table.num_rows == rows(live, "SELECT count(DISTINCT tool_name) AS n FROM tool_calls")[0]["n"]
    assert pa.types.is_timestamp(table.schema.field("last").type)
    without = stepseven("query", "--url", live.api_url, "--token", TOKEN, "--format", "parquet", "SELECT 1")
    assert without.returncode == 2 and "--output" in without.stderr


def test_a_session_exported_as_otlp_json_replays_into_another_collector_as_the_same_session(
    live: RunningCollector, tmp_path: Path
) -> None:
    session_id = rows(
        live, "SELECT session_id FROM sessions WHERE handoff_count > 0 ORDER BY step_count DESC, session_id LIMIT 1"
    )[0]["session_id"]
    target = tmp_path / "session.json"
    out = stepseven(
        "export", "--url", live.api_url, "--token", TOKEN, "--session", session_id, "--format", "otlp-json",
        "--output", str(target),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    request = json_format.Parse(target.read_text(), ExportTraceServiceRequest())
    spans = sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
    assert spans == rows(live, "SELECT count(*) AS n FROM spans WHERE session_id = $1", [session_id])[0]["n"]
    fresh = RunningCollector(tmp_path / "fresh.duckdb")
    try:
        sent = stepseven("send", "--endpoint", fresh.http_url, str(target))
        assert sent.returncode == 0, sent.stderr
        fresh.settle()
        where = "WHERE session_id = $1 ORDER BY step_index"
        assert fresh.sql(f"SELECT {STEP_COLUMNS} FROM steps {where}", [session_id]) == rows(
            live, f"SELECT {STEP_COLUMNS} FROM steps {where}", [session_id]
        )
        span_columns = (
            "trace_id, span_id, parent_span_id, name, kind, status, attributes, events, links, resource_attributes"
        )
        order = "WHERE session_id = $1 ORDER BY trace_id, span_id"
        assert fresh.sql(f"SELECT {span_columns} FROM spans {order}", [session_id]) == rows(
            live, f"SELECT {span_columns} FROM spans {order}", [session_id]
        )
    finally:
        fresh.stop()


def test_exporting_a_session_that_does_not_exist_says_so(live: RunningCollector, tmp_path: Path) -> None:
    out = stepseven(
        "export", "--url", live.api_url, "--token", TOKEN, "--session", "nope", "--format", "otlp-json",
        "--output", str(tmp_path / "x.json"),
    )  # fmt: skip
    assert out.returncode == 1 and "no session 'nope'" in out.stderr
    with pytest.raises(ApiError):
        with ApiClient(live.api_url, token="wrong") as client:
            client.sql("SELECT 1")


def test_a_query_without_the_token_is_refused_before_its_body_is_read(live: RunningCollector) -> None:
    """A client announcing a 100 MB body and sending none gets its 401 at once; nothing waits for the body."""
    import socket

    with socket.create_connection(("127.0.0.1", live.api_port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/sql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000000\r\n\r\n"
        )
        sock.settimeout(5)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"Bearer" in answer


def test_an_error_message_names_no_folder_of_the_machine() -> None:
    import asyncio

    from api.app import build_app
    from store.query import QueryFailed

    class FailingReader:
        dialect = "duckdb"

        def run_arrow(self, sql: str, params: list[Any], **_: Any) -> Any:
            raise QueryFailed('IO Error: Could not write file "/home/ana/traces/s.duckdb.tmp/duckdb_temp_1.block"')

        def close(self) -> None:
            pass

    app = build_app(
        FailingReader(),
        lambda: {},
        query_timeout_seconds=5,
        hidden_paths=[("/home/ana/traces", "<store folder>"), ("/home/ana", "~")],
    )

    async def ask() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            return await client.post("/api/v1/sql", json={"sql": "SELECT 1"})

    answer = asyncio.run(ask())
    assert answer.status_code == 400
    assert "/home/ana" not in answer.text
    assert "<store folder>/s.duckdb.tmp" in answer.json()["error"]


def test_two_user_queries_run_at_once_below_ingest_and_a_third_is_told_to_come_back(tmp_path: Path) -> None:
    """The query API runs two statements at a time, on threads at a lower priority than ingest; a third
    waits for one of them up to the query timeout, then gets 503 with Retry-After (docs/sql.md)."""
    import asyncio
    import threading

    from api.app import MAX_RUNNING_QUERIES, build_app
    from store.duckdb_store import DuckDBStore

    store = DuckDBStore(tmp_path / "s.duckdb")
    real = store.reader()
    release = threading.Event()
    started: list[int] = []  # the scheduling priority of each query's thread

    class HeldReader:
        """The store's reader; each user statement waits until released, as a long one would run."""

        dialect = real.dialect

        def run_arrow(self, sql: str, params: list[Any], **options: Any) -> Any:
            if not options.get("trusted"):
                started.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
                assert release.wait(30)
            return real.run_arrow(sql, params, **options)

        def close(self) -> None:
            real.close()

    app = build_app(HeldReader(), dict, query_timeout_seconds=1)

    async def scenario() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            running = [
                asyncio.create_task(client.post("/api/v1/sql", json={"sql": f"SELECT {i} AS n"}))
                for i in range(MAX_RUNNING_QUERIES)
            ]
            while len(started) < MAX_RUNNING_QUERIES:
                await asyncio.sleep(0.01)
            third = await client.post("/api/v1/sql", json={"sql": "SELECT 99 AS n"})
            release.set()
            return [third, *await asyncio.gather(*running)]

    third, *answered = asyncio.run(scenario())
    assert third.status_code == 503 and third.headers["Retry-After"] == "5"
    assert "send it again" in third.json()["error"]
    assert sorted(r.json()["rows"][0][0] for r in answered) == list(range(MAX_RUNNING_QUERIES))
    assert started == [10] * MAX_RUNNING_QUERIES  # nice 10: ingest's threads go first
    store.close()


def test_a_query_right_after_an_export_does_not_flush_the_journal_and_says_what_it_does_not_count_yet(
    tmp_path: Path,
) -> None:
    """Polling must not turn every acknowledgement into a commit of its own: a query reads what is committed,
    and says how many acknowledged records are still in the journal (written to the store every 2 s); one
    that asks to wait for them gets them once the journal's scheduled write is done."""
    collector = RunningCollector(tmp_path / "s.duckdb")
    try:
        seen: list[tuple[int, int, str | None]] = []
        earlier = 0  # spans of earlier attempts, stored
        with ApiClient(collector.api_url) as client:
            for _ in range(3):  # an export and a query closer than the 2 s flush interval
                commits = collector.health()["writer"]["commits"]
                exported = httpx.post(
                    f"{collector.http_url}/v1/traces",
                    content=request_bytes(3),
                    headers={"Content-Type": "application/x-protobuf"},
                    timeout=10,
                )
                assert exported.status_code == 200
                polls = [client.sql("SELECT count(*) AS n FROM spans") for _ in range(10)]
                seen = [(int(r.rows[0][0]), client.pending_records, client.warning) for r in polls[-1:]]
                if collector.health()["writer"]["commits"] == commits and seen[0][1]:
                    break
                collector.settle()
                earlier += 3
            stored, pending, warning = seen[0]
            assert pending == 3, seen  # ten queries, and the journal still holds the export: no flush asked
            assert stored == earlier  # not this export yet
            assert warning is not None and "3 acknowledged records are still in the journal" in warning
            assert "every 2 s" in warning
            # A client that wants them counted waits for the scheduled flush (what `stepseven query` does).
            waited = client.sql("SELECT count(*) AS n FROM spans", wait_for_pending=True)
            assert waited.rows == [(earlier + 3,)]
            assert client.pending_records == 0 and client.warning is None
    finally:
        collector.stop()
