"""Nothing derived is silently lost (#25).

A support team's agents send their sessions to stepseven. One session among many cannot be built, or
cannot be analyzed: the store refuses that one read (here a real store whose read of one key raises, as
running out of memory does). The others are built and analyzed all the same; the one that fails is
listed in the `derived_failures` view with its error and attempts, its `sessions.analysis` says `failed`
and the API and the replay say why; it is retried, and when the collector restarts, it retries every
key listed and clears the row once it succeeds. `stepseven renormalize` and `stepseven analyze` retry
and clear them too. A batch that failed and then succeeded in halves is listed in /healthz as well, so
that no failure counter grows with nothing to read.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import streamlit as st
import uvicorn
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from streamlit.testing.v1 import AppTest

import collector.derived_work as derived_work
from analyzer.config import AnalyzerConfig
from analyzer.worker import AnalysisWorker
from api.app import build_app
from collector.config import Limits
from collector.decode import decode_traces
from collector.session_worker import SessionWorker
from store import schema
from store.duckdb_store import DuckDBStore
from store.model import Batch, StoreOutOfMemory
from store.postgres_store import PostgresStore
from tests.conftest import RunningCollector, free_port, fresh_database, store_args

SESSIONS = [f"order-{i}" for i in range(8)]
OOM = "Out of Memory Error: could not allocate block"
HOSTILE_ERROR = "no room for <img src=x onerror=alert(1)> **order**"


# -- the agents: real OpenTelemetry SDK spans, one session per support conversation --------------


def emit_conversations(exporter: SpanExporter, sessions: list[str]) -> None:
    """Each conversation as an instrumented agent emits it: the agent, a model call, a tool call."""
    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.support", "1.0")
    for session in sessions:
        agent = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support_agent"}
        with tracer.start_as_current_span(
            "invoke_agent support_agent", attributes={**agent, "gen_ai.conversation.id": session}
        ):
            with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT) as chat:
                chat.set_attributes(
                    {
                        "gen_ai.operation.name": "chat",
                        "gen_ai.request.model": "gpt-4o",
                        "gen_ai.usage.input_tokens": 200,
                        "gen_ai.usage.output_tokens": 20,
                    }
                )
            with tracer.start_as_current_span("execute_tool lookup_order") as tool:
                tool.set_attributes({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_order"})
    provider.shutdown()


def stored_conversations(store: DuckDBStore | PostgresStore, sessions: list[str]) -> tuple[Batch, dict[str, str]]:
    """The conversations written to ``store`` as the collector writes them; session -> its trace id."""
    exporter = InMemorySpanExporter()
    emit_conversations(exporter, sessions)
    spans = list(exporter.get_finished_spans())
    batch = decode_traces(encode_spans(spans), Limits()).batch
    store.write(batch)
    traces = {
        str(span.attributes["gen_ai.conversation.id"]): format(span.context.trace_id, "032x")
        for span in spans
        if span.attributes and "gen_ai.conversation.id" in span.attributes
    }
    return batch, traces


class Refusing:
    """A real store whose reads of some keys run out of memory (as a huge session's would)."""

    def __init__(self, store: DuckDBStore | PostgresStore) -> None:
        self._store = store
        self.bad: set[str] = set()
        self.error = OOM

    def session_inputs(self, trace_ids: list[str], since: int = 0) -> Any:
        if self.bad.intersection(trace_ids):
            raise StoreOutOfMemory(self.error)
        return self._store.session_inputs(trace_ids, since)

    def session_rows(
        self, view: str, session_ids: Any, columns: str, steps: Any = None, *, unchecked_json: bool = False
    ) -> Any:
        if self.bad.intersection(session_ids):
            raise StoreOutOfMemory(self.error)
        return self._store.session_rows(view, session_ids, columns, steps, unchecked_json=unchecked_json)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class Api:
    """The query API as the collector builds it, over the test's store, served on a loopback port."""

    def __init__(self, store: DuckDBStore | PostgresStore) -> None:
        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield  # not the main thread: the test's own signals stay as they are

        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        app = build_app(store.reader(), lambda: {}, query_timeout_seconds=30)
        self._server = Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait(lambda: self._server.started)

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def session(self, session_id: str) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/api/v1/sessions/{session_id}", timeout=30)
        assert response.status_code == 200, response.text
        return dict(response.json()["session"])

    def sql(self, sql: str) -> list[list[Any]]:
        response = httpx.post(f"{self.url}/api/v1/sql", json={"sql": sql}, timeout=30)
        assert response.status_code == 200, response.text
        return list(response.json()["rows"])

    def replay(self, monkeypatch: pytest.MonkeyPatch, session_id: str) -> AppTest:
        """The dashboard's replay page of one session, as a user opens it."""
        monkeypatch.setenv("STEPSEVEN_URL", self.url)
        st.cache_data.clear()  # what an earlier page of this test read (the summary is kept two seconds)
        app = AppTest.from_file(str(Path(__file__).parent.parent / "dashboard" / "views" / "replay.py"))
        app.query_params["session"] = session_id
        app.run(timeout=60)
        assert not app.exception, app.exception
        return app


def wait(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not hold in time")
        time.sleep(0.05)


@pytest.fixture
def open_store(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[Callable[[], Any]]:
    """Opens the test's store (the same DuckDB file or PostgreSQL database each time); closes them all."""
    url = fresh_database(request.getfixturevalue("pg_cluster")) if backend == "postgresql" else None
    opened: list[DuckDBStore | PostgresStore] = []

    def open_it() -> DuckDBStore | PostgresStore:
        store = PostgresStore(url) if url else DuckDBStore(tmp_path / "s.duckdb")
        opened.append(store)
        return store

    yield open_it
    for store in opened:
        try:
            store.close()
        except Exception:
            pass


def listed(store: DuckDBStore | PostgresStore) -> list[tuple[Any, ...]]:
    return store.read("SELECT stage, key, session_id, error, attempts FROM derived_failures ORDER BY stage, key")


def analysis_of(store: DuckDBStore | PostgresStore) -> dict[str, str]:
    return dict(store.read("SELECT session_id, analysis FROM sessions"))


# -- one session among many cannot be built ----------------------------------------------------


def test_a_trace_that_cannot_be_built_is_listed_in_the_store_and_retried_after_a_restart(
    open_store: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(derived_work, "FIRST_RETRY_SECONDS", 60.0)  # no retry of its own during the test
    store = open_store()
    batch, traces = stored_conversations(store, SESSIONS)
    refusing = Refusing(store)
    refusing.bad = {traces["order-3"]}
    sessions = SessionWorker(refusing, interval_seconds=0.05, failures=store)
    sessions.touch_batch(batch)
    sessions.start()
    wait(lambda: sessions.stats().failing_traces == 1 and not sessions.stats().busy)
    sessions.stop()

    # The seven others are built; the one that failed is listed, queryable, with its error.
    assert set(analysis_of(store)) == set(SESSIONS) - {"order-3"}
    assert listed(store) == [("sessions", traces["order-3"], None, f"StoreOutOfMemory: {OOM}", 1)]
    first, last = store.read("SELECT first_failed_at, last_failed_at FROM derived_failures")[0]
    assert first is not None and first == last
    # /healthz lists the batch of eight that failed and was split, not only a counter.
    stats = sessions.stats()
    assert stats.failures == len(stats.recent_failed_runs) > 1
    whole = stats.recent_failed_runs[0]
    assert whole["keys"] == 8 and whole["failed_alone"] == 1 and OOM in str(whole["error"]) and whole["at"]
    assert [run["keys"] for run in stats.recent_failed_runs][-1] == 1  # down to the trace that failed alone

    # The collector restarts and the fault is gone: the listed trace is retried at once, its row cleared.
    refusing.bad = set()
    again = SessionWorker(refusing, interval_seconds=0.05, failures=store)
    again.start()
    wait(lambda: "order-3" in analysis_of(store))
    wait(lambda: not listed(store))
    assert again.stats().failing_traces == 0 and again.stats().recent_failed_runs == ()
    again.stop()


# -- one session among many cannot be analyzed -------------------------------------------------


def test_a_session_whose_analysis_fails_says_failed_in_sql_the_api_and_the_replay_until_a_retry_succeeds(
    open_store: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store()
    batch, _ = stored_conversations(store, SESSIONS)
    SessionWorker(store).process(sorted(batch.trace_ids()))
    assert set(analysis_of(store).values()) == {"pending"}
    api = Api(store)
    # Before the analyzer runs, the replay says the findings are still to come.
    waiting = api.replay(monkeypatch, "order-1")
    assert "Findings not computed yet" in "\n".join(t.value for t in waiting.text)
    refusing = Refusing(store)
    refusing.bad = {"order-5"}
    refusing.error = HOSTILE_ERROR
    analysis = AnalysisWorker(refusing, AnalyzerConfig(), quiet_seconds=0.0, failures=store)
    analysis.start()
    wait(lambda: analysis.stats().failing_sessions == 1 and list(analysis_of(store).values()).count("done") == 7)
    # The collector stops (Streamlit's AppTest below compiles the page, which Python 3.11 cannot do safely
    # while another thread is busy: "AST constructor recursion depth mismatch").
    analysis.stop()

    states = analysis_of(store)
    assert states.pop("order-5") == "failed"
    assert set(states.values()) == {"done"}
    [(stage, key, session, error, attempts)] = listed(store)
    assert (stage, key, session, error) == ("analysis", "order-5", "order-5", f"StoreOutOfMemory: {HOSTILE_ERROR}")
    assert attempts >= 1

    # The query API (on PostgreSQL as its read-only role) carries it, with why.
    failed = api.session("order-5")
    assert failed["analysis"] == "failed" and failed["analysis_error"] == f"StoreOutOfMemory: {HOSTILE_ERROR}"
    fine = api.session("order-1")
    assert fine["analysis"] == "done" and fine["analysis_error"] is None
    assert api.sql("SELECT stage, key FROM derived_failures") == [["analysis", "order-5"]]
    # So does the replay, in one line of plain text: an error can quote content, never rendered as markup.
    replay = api.replay(monkeypatch, "order-5")
    line = f"Analysis failed: StoreOutOfMemory: {HOSTILE_ERROR}; retried automatically"
    assert line in [t.value for t in replay.text]
    assert "<img" not in "\n".join(str(e.value) for e in [*replay.markdown, *replay.caption, *replay.info])
    assert not any("Findings not computed" in t.value for t in api.replay(monkeypatch, "order-1").text)

    # The fault passes and the collector starts again: it retries what is listed, and the listing empties.
    refusing.bad = set()
    again = AnalysisWorker(refusing, AnalyzerConfig(), quiet_seconds=0.0, failures=store)
    again.start()
    wait(lambda: analysis_of(store)["order-5"] == "done")
    wait(lambda: not listed(store))
    assert again.stats().failing_sessions == 0
    again.stop()
    assert api.session("order-5")["analysis"] == "done"
    api.close()


def test_a_store_that_refuses_the_listing_keeps_the_failure_in_memory_and_lists_it_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(derived_work, "FIRST_RETRY_SECONDS", 0.2)
    store = DuckDBStore(tmp_path / "s.duckdb")
    batch, traces = stored_conversations(store, SESSIONS[:3])

    class Full(Refusing):
        full = True

        def record_failure(self, *args: Any) -> None:
            if self.full:
                raise OSError("No space left on device")
            self._store.record_failure(*args)

    full = Full(store)
    full.bad = {traces["order-1"]}
    sessions = SessionWorker(full, interval_seconds=0.05, failures=full)
    sessions.touch_batch(batch)
    sessions.start()  # the worker goes on: nothing raises into it
    wait(lambda: sessions.stats().failing_traces == 1)
    assert listed(store) == []
    failing = sessions.stats().failing
    assert failing is not None and failing["ids"] == [traces["order-1"]]
    full.full = False  # the disk has room again: the next retry (which fails again) lists it
    wait(lambda: bool(listed(store)))
    assert listed(store)[0][:2] == ("sessions", traces["order-1"])
    full.bad = set()
    wait(lambda: not listed(store) and sessions.stats().failing_traces == 0)
    sessions.stop()
    store.close()


# -- the story as a user lives it: the collector, restarted ------------------------------------


def test_a_collector_that_starts_retries_every_key_the_store_lists_and_clears_it(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    extra = store_args(backend, request)
    collector = RunningCollector(tmp_path / "stepseven.duckdb", *extra, "--analyze-after", "1")
    try:
        emit_conversations(OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces"), SESSIONS)
        collector.settle(analyzed=True, timeout=90)
        assert collector.sql("SELECT count(*) AS n FROM sessions WHERE analysis = 'done'")[0]["n"] == len(SESSIONS)
        assert collector.sql("SELECT * FROM derived_failures") == []
        health = collector.health()
        assert health["sessions"]["recent_failed_runs"] == [] and health["analyzer"]["recent_failed_runs"] == []
        traces = {
            r["session_id"]: r["trace_id"] for r in collector.sql("SELECT DISTINCT session_id, trace_id FROM steps")
        }
    finally:
        assert collector.stop() == 0

    # Meanwhile (another collector of the same PostgreSQL store, or this one before it was stopped) the
    # rebuild of order-2's trace and the analysis of order-6 failed, and were listed.
    store = PostgresStore(extra[1]) if extra else DuckDBStore(tmp_path / "stepseven.duckdb")
    try:
        refusing = Refusing(store)
        refusing.bad = {traces["order-2"], "order-6"}
        sessions = SessionWorker(refusing, failures=store)
        analysis = AnalysisWorker(refusing, AnalyzerConfig(), failures=store)
        sessions.process([traces["order-6"]])  # a new span came in: order-6 changed, to be analyzed again
        derived_work.run_split([traces["order-2"]], sessions.process, sessions.failing, "rebuild")
        derived_work.run_split(["order-6"], analysis.analyze, analysis.failing, "analyze")
        assert [row[:3] for row in listed(store)] == [
            ("analysis", "order-6", "order-6"),
            ("sessions", traces["order-2"], "order-2"),  # its session, as it was built before
        ]
        states = analysis_of(store)
        assert states.pop("order-6") == "failed" and set(states.values()) == {"done"}
    finally:
        store.close()

    # The collector starts again: it retries both keys at once, and clears their rows.
    collector.start()
    try:
        wait(lambda: collector.sql("SELECT * FROM derived_failures") == [], timeout=60)
        collector.settle(analyzed=True, timeout=60)
        assert collector.sql("SELECT count(*) AS n FROM sessions WHERE analysis = 'done'")[0]["n"] == len(SESSIONS)
        health = collector.health()
        assert health["status"] == "ok", health
        assert health["sessions"]["failing"] is None and health["analyzer"]["failing"] is None
        assert "listed as failing in the store" in "".join(collector.output)
    finally:
        assert collector.stop() == 0


# -- the commands that rebuild and analyze everything retry the listed keys too -----------------


def stepseven(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stepseven", *args], capture_output=True, text=True, timeout=300, env=dict(os.environ)
    )


def test_renormalize_and_analyze_retry_the_listed_keys_and_clear_their_rows(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    store = DuckDBStore(db)
    batch, traces = stored_conversations(store, SESSIONS[:4])
    SessionWorker(store).process(sorted(batch.trace_ids()))
    refusing = Refusing(store)
    refusing.bad = {traces["order-1"], "order-2"}
    sessions = SessionWorker(refusing, failures=store)
    analysis = AnalysisWorker(refusing, AnalyzerConfig(), failures=store)
    derived_work.run_split([traces["order-1"]], sessions.process, sessions.failing, "rebuild")
    derived_work.run_split(["order-2", "order-3"], analysis.analyze, analysis.failing, "analyze")
    assert [row[:2] for row in listed(store)] == [("analysis", "order-2"), ("sessions", traces["order-1"])]
    # A trace listed whose spans are gone (pruned since) is cleared too: there is nothing left to build.
    store.record_failure("sessions", "0" * 32, None, "OSError: gone", 3)
    store.close()

    done = stepseven("renormalize", "--db", str(db))
    assert done.returncode == 0, done.stderr
    store = DuckDBStore(db, read_only=True)
    assert [row[:2] for row in listed(store)] == [("analysis", "order-2")]
    store.close()

    done = stepseven("analyze", "--db", str(db))
    assert done.returncode == 0, done.stderr
    store = DuckDBStore(db, read_only=True)
    assert listed(store) == []
    assert set(analysis_of(store).values()) == {"done"}
    store.close()


def test_a_store_of_schema_7_gets_the_listing_when_it_is_opened(open_store: Callable[[], Any], backend: str) -> None:
    store = open_store()
    batch, _ = stored_conversations(store, SESSIONS[:2])
    # Make it what the previous version left: no failures table or view, the sessions view without them.
    downgrade = [
        "DROP VIEW derived_failures",
        "DROP VIEW sessions",
        "DROP TABLE derived_work_failures",
        "CREATE VIEW sessions AS SELECT session_id FROM derived_sessions",
        "DELETE FROM stepseven_schema",
        "INSERT INTO stepseven_schema VALUES (7, 0)",
    ]
    if isinstance(store, DuckDBStore):
        for statement in downgrade:
            store.cursor().execute(statement)
    else:
        with store._engine.begin() as connection:
            for statement in downgrade:
                connection.exec_driver_sql(statement)
    store.close()
    store = open_store()
    assert store.read("SELECT max(version) FROM stepseven_schema") == [(schema.SCHEMA_VERSION,)]
    SessionWorker(store).process(sorted(batch.trace_ids()))
    store.record_failure("analysis", "order-1", "order-1", "ValueError: boom", 1)
    assert listed(store) == [("analysis", "order-1", "order-1", "ValueError: boom", 1)]
    assert analysis_of(store) == {"order-0": "pending", "order-1": "failed"}
    # Users read it (on PostgreSQL as the read-only role, granted the view again).
    api = Api(store)
    assert api.sql("SELECT key, error FROM derived_failures") == [["order-1", "ValueError: boom"]]
    api.close()


# -- a stop under load does not wait for the backlog ------------------------------------------


def test_a_stop_leaves_a_backlog_of_sessions_for_the_next_start_instead_of_waiting_for_it(
    open_store: Callable[[], Any],
) -> None:
    store = open_store()
    batch, traces = stored_conversations(store, ["conv-a", "conv-b", "conv-c"])
    waiting = SessionWorker(store, pending=store)
    waiting.touch_batch(batch)
    started = time.monotonic()
    waiting.stop(drain_seconds=0)  # as a stop under load, after its drain time: nothing more is built
    assert time.monotonic() - started < 5
    assert store.read("SELECT count(*) FROM sessions") == [(0,)]
    assert sorted(store.pending_traces()) == sorted(batch.trace_ids())
    store.close()

    restarted = open_store()
    again = SessionWorker(restarted, interval_seconds=0.05, pending=restarted)
    again.start()
    wait(lambda: {r[0] for r in restarted.read("SELECT session_id FROM sessions")} == set(traces))
    wait(lambda: restarted.pending_traces() == [])  # built, so no longer listed
    again.stop()


def test_a_backlog_older_than_its_limit_is_reported_until_it_is_built(
    open_store: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import collector.session_worker as session_worker

    monkeypatch.setattr(session_worker, "WAIT_LIMIT_SECONDS", 0.2)
    store = open_store()
    batch, _ = stored_conversations(store, ["conv-a", "conv-b"])
    sessions = SessionWorker(store, interval_seconds=0.05)
    sessions.touch_batch(batch)
    assert sessions.stats().problem() is None  # just touched
    time.sleep(0.3)
    problem = sessions.stats().problem()
    assert problem is not None and problem.startswith("2 traces wait for their sessions")
    sessions.start()
    wait(lambda: sessions.stats().pending_traces == 0)
    assert sessions.stats().problem() is None
    sessions.stop()


# The collector, with the rebuild of one conversation's trace failing: the first time it is tried
# alone it runs out of memory (so it is listed), and its retry hangs, for the test to kill -9 it there.
FAULTY_SERVE = """
import os, pathlib, time
from store.duckdb_store import DuckDBStore
from store.model import StoreOutOfMemory

poison, marks = os.environ["TEST_POISON"], pathlib.Path(os.environ["TEST_MARKS"])
read = DuckDBStore.session_inputs

def session_inputs(self, trace_ids, since=0):
    records, logs = read(self, trace_ids, since)
    if any(record.conversation_id == poison for record in records):
        if len(trace_ids) > 1 or not (marks / "failed alone").exists():
            if len(trace_ids) == 1:
                (marks / "failed alone").touch()
            raise StoreOutOfMemory("Out of Memory Error: could not allocate block")
        (marks / "retrying").touch()
        time.sleep(600)
    return records, logs

DuckDBStore.session_inputs = session_inputs
from stepseven.main import main
main()
"""


def test_a_collector_killed_in_the_middle_of_a_retry_builds_the_listed_trace_when_it_starts_again(
    tmp_path: Path,
) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    marks = tmp_path / "marks"
    marks.mkdir()
    collector = RunningCollector(
        tmp_path / "stepseven.duckdb",
        "--analyze-after",
        "1",
        entry=("-c", FAULTY_SERVE),
        TEST_POISON="order-3",
        TEST_MARKS=str(marks),
    )
    try:
        emit_conversations(OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces"), SESSIONS)
        # The others proceed; order-3's trace is listed, with the error, and retried after a while.
        wait(lambda: len(collector.sql("SELECT * FROM sessions")) == len(SESSIONS) - 1, timeout=60)
        wait(lambda: (marks / "retrying").exists(), timeout=60)
        failures = collector.sql("SELECT stage, session_id, error, attempts FROM derived_failures")
        assert [(f["stage"], f["session_id"], f["attempts"]) for f in failures] == [("sessions", None, 1)]
        assert "Out of Memory" in failures[0]["error"]
        health = collector.health()
        assert health["status"] == "degraded" and any("built into sessions" in p for p in health["problems"])
    finally:
        collector.kill()  # in the middle of the retry

    collector.entry, collector.env = ("-m", "stepseven"), {}
    collector.start()
    try:
        wait(lambda: collector.sql("SELECT * FROM derived_failures") == [], timeout=60)
        collector.settle(analyzed=True, timeout=60)
        assert collector.sql("SELECT count(*) AS n FROM spans")[0]["n"] == 3 * len(SESSIONS)
        built = collector.sql("SELECT session_id, analysis FROM sessions ORDER BY session_id")
        assert built == [{"session_id": s, "analysis": "done"} for s in sorted(SESSIONS)]
        assert collector.health()["status"] == "ok"
        assert "listed as failing in the store" in "".join(collector.output)
    finally:
        assert collector.stop() == 0
