"""Agents with long conversations send big requests: every acknowledged span still reaches the store, a
session and an analysis under the default settings, and whatever fails on the way is retried and shown."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import collector.derived_work as derived_work
from analyzer.config import AnalyzerConfig
from analyzer.worker import AnalysisWorker
from benchmarks.large_requests import agent_trace, max_size_request, request_of
from collector.config import Limits
from collector.decode import decode_traces
from collector.session_worker import SessionWorker
from store.duckdb_store import DuckDBStore
from store.journal import Journal
from store.model import Batch, StoreOutOfMemory, WriteResult
from store.writer import Writer
from tests.conftest import RunningCollector, store_args
from tests.otlp import raw_request
from tests.test_journal import _batch, _names


def _wait(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not hold in time")
        time.sleep(0.05)


class _Limited:
    """A real store that runs out of memory on transactions of more than ``most`` records, or fails while ``down``."""

    def __init__(self, store: DuckDBStore, most: int = 1_000_000) -> None:
        self.store = store
        self.most = most
        self.down: str | None = None
        self.writes: list[int] = []

    def write(self, batch: Batch) -> WriteResult:
        if self.down:
            raise OSError(self.down)
        if len(batch) > self.most:
            raise StoreOutOfMemory(f"{len(batch)} records did not fit")
        self.writes.append(len(batch))
        return self.store.write(batch)


def test_a_flush_that_runs_out_of_memory_is_written_in_halves_and_nothing_is_lost(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "s.duckdb")
    limited = _Limited(store, most=3)
    writer = Writer(limited, 1000, 1000, journal=Journal(tmp_path / "j"), flush_seconds=60)
    writer.start()
    names = [f"span-{i:02d}" for i in range(10)]
    writer.submit(_batch(*names)).result(10)
    assert writer.wait_visible(10)
    assert _names(store) == names
    assert max(limited.writes) <= 3 and sum(limited.writes) == 10
    stats = writer.stats()
    assert (stats.committed_spans, stats.failed_flushes, stats.unstored_items) == (10, 0, 0)
    writer.stop()
    store.close()


def test_a_flush_is_cut_into_transactions_of_at_most_the_byte_bound(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "s.duckdb")
    limited = _Limited(store)
    batch = _batch(*(f"span-{i:03d}" for i in range(64)))
    bound = batch.nbytes // 5
    writer = Writer(limited, 1000, 1000, journal=Journal(tmp_path / "j"), flush_seconds=60, flush_bytes=bound)
    writer.start()
    writer.submit(batch).result(10)
    assert writer.wait_visible(10)
    assert len(_names(store)) == 64
    assert len(limited.writes) >= 5 and sum(limited.writes) == 64
    writer.stop()
    store.close()


def test_acknowledged_records_the_store_refuses_are_reported_until_they_are_stored(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "s.duckdb")
    limited = _Limited(store)
    limited.down = "No space left on device"
    writer = Writer(limited, 1000, 1000, journal=Journal(tmp_path / "j"), flush_seconds=0.05)
    writer.start()
    writer.submit(_batch("a", "b", "c")).result(10)  # acknowledged: it is in the journal
    _wait(lambda: writer.stats().unstored_items == 3)
    assert "No space left on device" in (writer.stats().flush_error or "")
    assert _names(store) == []
    limited.down = None  # space is back: the retry stores them and the report clears
    _wait(lambda: writer.stats().unstored_items == 0, timeout=60)
    assert _names(store) == ["a", "b", "c"]
    assert writer.stats().flush_error is None
    writer.stop()
    store.close()


def test_a_journal_of_large_requests_left_by_a_crash_is_written_in_pieces_that_fit(tmp_path: Path) -> None:
    crashed = Journal(tmp_path / "j")  # a collector that acknowledged two requests and was killed
    crashed.append([_batch(*(f"first-{i}" for i in range(6)))])
    crashed.append([_batch(*(f"second-{i}" for i in range(5)))])
    store = DuckDBStore(tmp_path / "s.duckdb")
    limited = _Limited(store, most=2)  # the store holds two spans a transaction, no more
    writer = Writer(limited, 1000, 1000, journal=Journal(tmp_path / "j"), flush_seconds=60)
    writer.start()
    assert writer.wait_visible(30)
    assert len(_names(store)) == 11 and max(limited.writes) <= 2
    assert writer.stats().unstored_items == 0
    writer.stop()
    store.close()


class _Refusing:
    """A real store whose reads fail whenever they include one of the ``bad`` traces or sessions."""

    def __init__(self, store: DuckDBStore) -> None:
        self._store = store
        self.bad: set[str] = set()

    def session_inputs(self, trace_ids: list[str], since: int = 0) -> Any:
        if self.bad.intersection(trace_ids):
            raise StoreOutOfMemory("Out of Memory Error: could not allocate block")
        return self._store.session_inputs(trace_ids, since)

    def session_rows(
        self, view: str, session_ids: Any, columns: str, steps: Any = None, *, unchecked_json: bool = False
    ) -> Any:
        if self.bad.intersection(session_ids):
            raise StoreOutOfMemory("Out of Memory Error: could not allocate block")
        return self._store.session_rows(view, session_ids, columns, steps, unchecked_json=unchecked_json)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _conversations(store: DuckDBStore, count: int) -> tuple[Batch, list[str]]:
    rng = random.Random(5)
    traces = [agent_trace(rng, f"conv-{i}", 0, 4, time.time_ns() - 10**9) for i in range(count)]
    batch = decode_traces(raw_request(*(s for t in traces for s in t.spans)), Limits()).batch
    store.write(batch)
    return batch, [t.trace_id.hex() for t in traces]


def test_a_trace_whose_session_cannot_be_built_does_not_hold_back_the_others_and_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(derived_work, "FIRST_RETRY_SECONDS", 0.2)
    store = DuckDBStore(tmp_path / "s.duckdb")
    refusing = _Refusing(store)
    batch, trace_ids = _conversations(store, 6)
    refusing.bad = {trace_ids[2]}
    sessions = SessionWorker(refusing, interval_seconds=0.05)
    sessions.touch_batch(batch)
    sessions.start()
    _wait(lambda: sessions.stats().failing_traces == 1 and not sessions.stats().busy)
    built = {r[0] for r in store.cursor().execute("SELECT session_id FROM sessions").fetchall()}
    assert built == {f"conv-{i}" for i in range(6) if i != 2}
    failing = sessions.stats().failing
    assert failing is not None and failing["ids"] == [trace_ids[2]] and "Out of Memory" in str(failing["error"])
    problem = sessions.failing.problem("built into sessions")
    assert problem is not None and trace_ids[2] in problem
    refusing.bad = set()  # the fault passes: the retry builds it, and nothing is listed any more
    _wait(lambda: sessions.stats().failing_traces == 0)
    sessions.stop()
    assert store.cursor().execute("SELECT count(*) FROM sessions").fetchone() == (6,)
    store.close()


def test_a_session_that_cannot_be_analyzed_does_not_hold_back_the_others_and_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(derived_work, "FIRST_RETRY_SECONDS", 0.2)
    store = DuckDBStore(tmp_path / "s.duckdb")
    batch, _ = _conversations(store, 5)
    SessionWorker(store).process(sorted(batch.trace_ids()))
    refusing = _Refusing(store)
    refusing.bad = {"conv-3"}
    analysis = AnalysisWorker(refusing, AnalyzerConfig(), quiet_seconds=0.0)

    def analyzed() -> set[str]:
        return {r[0] for r in store.cursor().execute("SELECT session_id FROM derived_analyses").fetchall()}

    analysis.start()  # picks up every session not analyzed yet
    _wait(lambda: analysis.stats().failing_sessions == 1 and len(analyzed()) == 4)
    assert analyzed() == {"conv-0", "conv-1", "conv-2", "conv-4"}
    assert analysis.stats().failing == {
        "count": 1,
        "ids": ["conv-3"],
        "attempts": analysis.stats().failing["attempts"],  # type: ignore[index]
        "error": "StoreOutOfMemory: Out of Memory Error: could not allocate block",
    }
    refusing.bad = set()
    _wait(lambda: analysis.stats().failing_sessions == 0 and "conv-3" in analyzed())
    analysis.stop()
    store.close()


# -- the story, as a user sends it: a collector with its default settings, real sockets ----------


def _send(url: str, body: bytes) -> None:
    for _ in range(60):
        response = httpx.post(
            f"{url}/v1/traces", content=body, headers={"Content-Type": "application/x-protobuf"}, timeout=120
        )
        if response.status_code == 200:
            return
        assert response.status_code == 503, response.text  # the collector asks to retry, as exporters do
        time.sleep(1)
    raise AssertionError("the collector kept refusing the export")


def _everything_arrived(collector: RunningCollector, spans: int, traces: int, sessions: int) -> None:
    deadline = time.monotonic() + 240
    while True:
        stored = collector.sql("SELECT count(*) AS n FROM spans")[0]["n"]
        sessioned = collector.sql("SELECT count(DISTINCT trace_id) AS n FROM steps")[0]["n"]
        analyzed = collector.sql("SELECT count(*) AS n FROM sessions WHERE analysis = 'done'")[0]["n"]
        if (stored, sessioned, analyzed) == (spans, traces, sessions):
            break
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{stored}/{spans} spans stored, {sessioned}/{traces} traces in sessions, "
                f"{analyzed}/{sessions} sessions analyzed: {collector.health()}"
            )
        time.sleep(1)
    health = collector.health()
    assert health["status"] == "ok" and health["problems"] == []
    assert collector.sql("SELECT count(*) AS n FROM sessions")[0]["n"] == sessions


def test_agents_with_long_conversations_get_every_span_stored_sessioned_and_analyzed(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    # One long session of 20 turns and 20 short ones, 10 traces (about 11.6 MB) a request.
    rng = random.Random(30)
    start = time.time_ns() - 3_600 * 10**9
    traces = [agent_trace(rng, "long-session", turn, 100, start + turn * 10**9) for turn in range(20)]
    traces += [agent_trace(rng, f"session-{s:02d}", 0, 100, start + s * 10**9) for s in range(20)]
    rng.shuffle(traces)
    bodies = [request_of(traces[i : i + 10]) for i in range(0, len(traces), 10)]
    assert min(len(b) for b in bodies) > 10 * 2**20
    collector = RunningCollector(tmp_path / "stepseven.duckdb", *store_args(backend, request), "--analyze-after", "1")
    try:
        for body in bodies:
            _send(collector.http_url, body)
        _everything_arrived(collector, sum(len(t.spans) for t in traces), len(traces), 21)
        long_session = collector.sql("SELECT step_count FROM sessions WHERE session_id = 'long-session'")
        assert long_session == [{"step_count": 20 * 101}]
    finally:
        collector.stop()


def test_one_request_at_the_largest_size_the_receiver_accepts_is_stored_sessioned_and_analyzed(
    tmp_path: Path,
) -> None:
    limit = Limits().max_request_bytes
    body, spans, traces = max_size_request(limit)
    assert limit - 64 * 1024 < len(body) <= limit
    collector = RunningCollector(tmp_path / "stepseven.duckdb", "--analyze-after", "1")
    try:
        _send(collector.http_url, body)
        _everything_arrived(collector, spans, traces, traces)
    finally:
        collector.stop()


def test_every_dashboard_page_says_when_the_collector_is_degraded_in_plain_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The banner reads /healthz's problems; they name sessions, whose ids come from traces: never markup."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import orjson
    from streamlit.testing.v1 import AppTest

    problem = "1 sessions could not be analyzed and are retried (first: <b>**s7**</b>; error: StoreOutOfMemory)"
    health = {"status": "degraded", "problems": [problem]}

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = orjson.dumps(health)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("STEPSEVEN_URL", f"http://127.0.0.1:{server.server_port}")

        def banner() -> None:
            from dashboard.render import degraded_banner

            degraded_banner()

        app = AppTest.from_function(banner, default_timeout=30).run()
        assert not app.exception
        assert "degraded" in app.warning[0].value
        assert [c.value for c in app.code] == [problem]  # literal text, markup and all
        health["status"], health["problems"] = "ok", []
        app = AppTest.from_function(banner, default_timeout=30).run()
        assert not app.warning and not app.code
    finally:
        server.shutdown()
        server.server_close()


def test_a_sql_result_says_when_acknowledged_records_are_not_in_the_store(tmp_path: Path) -> None:
    """The query API says how many acknowledged records a result does not count, and why, in JSON and in headers."""
    import asyncio

    from api.app import build_app

    store = DuckDBStore(tmp_path / "s.duckdb")
    store.write(_batch("stored"))
    warning: list[str | None] = ["3 acknowledged records are not in the store yet and are retried"]
    app = build_app(
        store.reader(), dict, query_timeout_seconds=10, pending=lambda: (0 if warning[0] is None else 3, warning[0])
    )

    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.post("/api/v1/sql", json={"sql": "SELECT count(*) AS n FROM spans"})

    response = asyncio.run(ask())
    assert response.json()["rows"] == [[1]]
    assert response.json()["warning"] == warning[0]
    assert response.headers["X-Stepseven-Warning"] == warning[0]
    assert response.json()["pending_records"] == 3 and response.headers["X-Stepseven-Pending"] == "3"
    warning[0] = None  # stored at last: no warning any more
    response = asyncio.run(ask())
    assert response.json()["warning"] is None and "X-Stepseven-Warning" not in response.headers
    assert response.json()["pending_records"] == 0
    store.close()
