"""Session rebuilds read only spans from a start bound on, and still see every span of the session.

A rebuild used to scan the trace ids of every stored span; it now reads from the earliest start its traces
can have (new spans' earliest start, the stored sessions' first times). These stories send traces of one
conversation out of time order, and a late span older than everything, and check the session is whole.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from collector.config import Limits
from collector.decode import decode_traces
from collector.session_worker import SessionWorker
from store.duckdb_store import DuckDBStore
from tests.otlp import attribute, raw_request, raw_span

SECOND = 10**9
BASE = 1_700_000_000 * SECOND


class _Watched:
    """The store, with the start bound of every span read kept."""

    def __init__(self, store: DuckDBStore) -> None:
        self._store = store
        self.bounds: list[int] = []

    def session_inputs(self, trace_ids: list[str], since: int = 0) -> Any:
        self.bounds.append(since)
        return self._store.session_inputs(trace_ids, since)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _call(trace_id: bytes, at_seconds: int, name: str) -> Any:
    return raw_span(
        name,
        trace_id=trace_id,
        start_time_unix_nano=BASE + at_seconds * SECOND,
        end_time_unix_nano=BASE + (at_seconds + 1) * SECOND,
        attributes=[
            attribute("gen_ai.operation.name", AnyValue(string_value="chat")),
            attribute("gen_ai.conversation.id", AnyValue(string_value="conv")),
            attribute("gen_ai.request.model", AnyValue(string_value="m")),
        ],
    )


def _wait(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the sessions were not rebuilt in time"
        time.sleep(0.05)


def test_a_conversation_whose_traces_and_spans_arrive_out_of_time_order_is_rebuilt_whole(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "s.duckdb")
    watched = _Watched(store)
    sessions = SessionWorker(watched, interval_seconds=0.05)
    sessions.start()
    # Other agents' spans before and after, so that a bound read has something to skip.
    filler = [raw_span("other", start_time_unix_nano=BASE + s * SECOND) for s in range(0, 4000, 40)]
    traces = {name: bytes([i + 1]) * 16 for i, name in enumerate("abcd")}

    def send(*spans: Any) -> None:
        batch = decode_traces(raw_request(*spans), Limits()).batch
        store.write(batch)
        sessions.touch_batch(batch)
        _wait(lambda: sessions.stats().pending_traces == 0 and not sessions.stats().busy)

    def conversation() -> tuple[int, int, int]:
        rows = store.read(
            "SELECT step_count, trace_count, first_time_unix_nano FROM sessions WHERE session_id = 'conv'"
        )
        return rows[0] if rows else (0, 0, 0)

    send(*filler)
    send(_call(traces["a"], 2000, "a1"))
    send(_call(traces["b"], 3000, "b1"))  # joins the conversation: trace a is read again from its first start
    send(_call(traces["c"], 1000, "c1"))  # starts before the conversation did
    assert conversation() == (3, 3, BASE + 1000 * SECOND)
    send(_call(traces["a"], 500, "a0"))  # a late span of trace a, older than anything in the session
    assert conversation() == (4, 3, BASE + 500 * SECOND)
    send(_call(traces["d"], 3500, "d1"), _call(traces["b"], 100, "b0"))  # a new trace and a late span at once
    assert conversation() == (6, 4, BASE + 100 * SECOND)
    send(_call(traces["c"], 3900, "c2"))  # the usual case: a trace goes on, its earlier spans are read too
    assert conversation() == (7, 4, BASE + 100 * SECOND)
    names = [r[0] for r in store.read("SELECT name FROM steps WHERE session_id = 'conv' ORDER BY step_index")]
    assert sorted(names) == ["a0", "a1", "b0", "b1", "c1", "c2", "d1"]
    # The reads were bounded: none but the first (the filler) read from the beginning of time.
    assert watched.bounds[0] == BASE and all(b >= BASE + 100 * SECOND for b in watched.bounds[1:]), watched.bounds
    sessions.stop()
    store.close()
