"""The PostgreSQL store as operators run it: user SQL that cannot escape, and collectors sharing one database.

The SQL box on PostgreSQL logs in as `stepseven_reader`, a role that can read the views and nothing
else, in a read-only transaction with a statement timeout; the statement kind is checked by
PostgreSQL's own parser first. Two collectors on one database must build one session from spans that
arrived half at each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from store.postgres_store import store_url
from tests.conftest import RunningCollector, fresh_database
from tests.test_sessions import CAPTURES, observed, send

CAPTURE = next(p for p in CAPTURES if p.stem == "ok_openai_agents_handoff_back_once")


@pytest.fixture(scope="module")
def shared(pg_cluster: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningCollector, str]]:
    url = fresh_database(pg_cluster)
    collector = RunningCollector(
        tmp_path_factory.mktemp("pg") / "unused.duckdb",
        "--store",
        url,
        "--query-timeout",
        "3",
        "--analyze-after",
        "0.3",
    )
    send(collector, *CAPTURES)
    collector.settle(analyzed=True)  # the analyzer writing findings later would change the fingerprint
    yield collector, url
    collector.stop()


def post_sql(collector: RunningCollector, sql: str) -> httpx.Response:
    return httpx.post(f"{collector.api_url}/api/v1/sql", json={"sql": sql}, timeout=60)


def fingerprint(url: str) -> tuple[Any, ...]:
    """Read as the collector's own login: what no query may change."""
    engine = sa.create_engine(store_url(url))
    try:
        with engine.connect() as connection:
            row = connection.execute(
                sa.text(
                    "SELECT (SELECT count(*) FROM raw_spans), (SELECT md5(string_agg(trace_id || span_id, ',' "
                    "ORDER BY trace_id, span_id)) FROM raw_spans), (SELECT count(*) FROM derived_sessions), "
                    "(SELECT count(*) FROM derived_findings), (SELECT string_agg(relname, ',' ORDER BY relname) "
                    "FROM pg_class WHERE relnamespace = 'public'::regnamespace), "
                    "(SELECT rolsuper FROM pg_roles WHERE rolname = 'stepseven_reader')"
                )
            ).one()
            return tuple(row)
    finally:
        engine.dispose()


REFUSED = [
    # statements that are not reads, refused by the parser before they reach the server
    ("DELETE FROM spans", "Delete statements are not allowed"),
    ("UPDATE raw_spans SET name = 'x'", "Update statements are not allowed"),
    ("INSERT INTO derived_findings SELECT * FROM derived_findings", "Insert statements are not allowed"),
    ("DROP TABLE raw_spans", "Drop statements are not allowed"),
    ("TRUNCATE raw_spans", "Truncate statements are not allowed"),
    ("CREATE TABLE stolen AS SELECT * FROM spans", "CreateTableAs statements are not allowed"),
    ("ALTER TABLE raw_spans RENAME TO gone", "Rename statements are not allowed"),
    ("ALTER TABLE raw_spans ADD COLUMN x int", "AlterTable statements are not allowed"),
    ("COPY raw_spans TO '/tmp/stepseven-leak.csv'", "Copy statements are not allowed"),
    ("COPY (SELECT 1) TO PROGRAM 'touch /tmp/stepseven-pwned'", "Copy statements are not allowed"),
    ("CREATE EXTENSION dblink", "CreateExtension statements are not allowed"),
    ("DO $$ BEGIN PERFORM pg_sleep(0); END $$", "Do statements are not allowed"),
    ("SET ROLE stepseven", "VariableSet statements are not allowed"),
    ("RESET ROLE", "VariableSet statements are not allowed"),
    ("SET statement_timeout = 0", "VariableSet statements are not allowed"),
    ("PREPARE leak AS SELECT 1", "Prepare statements are not allowed"),
    ("VACUUM raw_spans", "Vacuum statements are not allowed"),
    ("SELECT * INTO stolen FROM spans", "SELECT ... INTO creates a table"),
    ("SELECT * FROM spans FOR UPDATE", "FOR UPDATE/SHARE"),
    ("WITH gone AS (DELETE FROM raw_spans RETURNING 1) SELECT count(*) FROM gone", "WITH holds a statement"),
    ("SELECT 1; DELETE FROM raw_spans", "2 statements"),
    ("SELECT 1 -- innocent\n; DROP TABLE raw_spans", "2 statements"),
    ("SELECT 1 /* ; */; DROP TABLE raw_spans -- ", "2 statements"),
    ("SELECT " + "1 + " * 30_000 + "1", "at most 100000 characters"),
    # reads that the reader role may not do, refused by the server
    ("SELECT count(*) FROM raw_spans", "permission denied for table raw_spans"),
    ("SELECT * FROM derived_findings", "permission denied for table derived_findings"),
    ("SELECT pg_read_file('/etc/passwd')", "permission denied for function pg_read_file"),
    ("SELECT pg_read_binary_file('/etc/passwd')", "permission denied for function pg_read_binary_file"),
    ("SELECT * FROM pg_ls_dir('/etc')", "permission denied for function pg_ls_dir"),
    ("SELECT lo_import('/etc/passwd')", "permission denied for function lo_import"),
    ("SELECT set_config('role', 'stepseven', false)", "permission denied to set role"),
    ("SELECT set_config('session_authorization', 'stepseven', false)", "permission denied"),
    ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()", "superuser"),
]


@pytest.mark.parametrize("sql, words", REFUSED, ids=[s[:40] for s, _ in REFUSED])
def test_sql_that_would_write_read_files_or_change_role_is_refused_and_changes_nothing(
    shared: tuple[RunningCollector, str], sql: str, words: str
) -> None:
    collector, url = shared
    before = fingerprint(url)
    response = post_sql(collector, sql)
    assert response.status_code == 400, response.text
    message = response.json()["error"]
    assert words in message, message
    assert "root:" not in message
    assert fingerprint(url) == before
    assert not Path("/tmp/stepseven-pwned").exists()
    assert post_sql(collector, "SELECT count(*) AS n FROM sessions").json()["rows"][0][0] > 0


def test_a_setting_changed_by_one_query_does_not_outlive_it(shared: tuple[RunningCollector, str]) -> None:
    collector, _ = shared
    for _ in range(8):  # more than the reader's pooled connections: each gets the chance to keep it, if it could
        changed = post_sql(collector, "SELECT set_config('search_path', 'pg_catalog', false) AS v")
        assert changed.status_code == 200, changed.text
    for _ in range(8):
        # With the search path left at pg_catalog, the views would no longer be found.
        assert post_sql(collector, "SELECT count(*) FROM sessions").status_code == 200
        assert post_sql(collector, "SHOW search_path").json()["rows"] == [['"$user", public']]


def test_a_query_that_switches_its_own_timeout_off_is_still_stopped(shared: tuple[RunningCollector, str]) -> None:
    collector, _ = shared
    response = post_sql(collector, "SELECT set_config('statement_timeout', '0', false), pg_sleep(30)")
    assert response.status_code == 400
    assert "ran longer than 3 s and was stopped" in response.json()["error"]
    assert post_sql(collector, "SELECT 1 AS alive").json()["rows"] == [[1]]


def test_explain_and_show_are_reads(shared: tuple[RunningCollector, str]) -> None:
    collector, _ = shared
    for sql in ("EXPLAIN SELECT * FROM steps", "SHOW work_mem", "WITH s AS (SELECT * FROM sessions) TABLE s"):
        assert post_sql(collector, sql).status_code == 200, sql


def _halves(capture: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The capture's spans dealt alternately into two OTLP/JSON documents."""
    document = json.loads(capture.read_text())
    first: dict[str, Any] = {"resourceSpans": []}
    second: dict[str, Any] = {"resourceSpans": []}
    n = 0
    for resource_spans in document["resourceSpans"]:
        for scope_spans in resource_spans["scopeSpans"]:
            for span in scope_spans["spans"]:
                target = first if n % 2 == 0 else second
                target["resourceSpans"].append(
                    {
                        "resource": resource_spans.get("resource", {}),
                        "scopeSpans": [{"scope": scope_spans.get("scope", {}), "spans": [span]}],
                    }
                )
                n += 1
    return first, second


def test_two_collectors_on_one_database_build_one_session_from_spans_sent_half_to_each(
    pg_cluster: str, tmp_path: Path
) -> None:
    reference = RunningCollector(tmp_path / "reference.duckdb")
    url = fresh_database(pg_cluster)
    # Both start at once on a fresh database: the schema is made once, under the migration lock.
    one = RunningCollector(tmp_path / "a.duckdb", "--store", url, "--analyze-after", "0.3")
    two = RunningCollector(tmp_path / "b.duckdb", "--store", url, "--analyze-after", "0.3")
    try:
        send(reference, CAPTURE)
        first, second = _halves(CAPTURE)
        for a, b in zip(first["resourceSpans"], second["resourceSpans"], strict=False):
            httpx.post(f"{one.http_url}/v1/traces", json={"resourceSpans": [a]}, timeout=30).raise_for_status()
            httpx.post(f"{two.http_url}/v1/traces", json={"resourceSpans": [b]}, timeout=30).raise_for_status()
        for rest in first["resourceSpans"][len(second["resourceSpans"]) :]:
            httpx.post(f"{one.http_url}/v1/traces", json={"resourceSpans": [rest]}, timeout=30).raise_for_status()
        for running in (reference, one, two):
            running.settle()
        expected = observed(reference, CAPTURE.stem)
        assert expected["sessions"] and len(expected["steps"]) > 5
        # Either collector's API reads the one database, and finds the one session whole.
        assert observed(one, CAPTURE.stem) == expected
        assert observed(two, CAPTURE.stem) == expected
        committed = [c.health()["writer"]["committed_spans"] for c in (one, two)]
        assert all(n > 0 for n in committed)
        assert sum(committed) == reference.health()["writer"]["committed_spans"]
    finally:
        for running in (reference, one, two):
            running.stop()
