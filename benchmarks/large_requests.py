"""Large exports under default settings: does every acknowledged span reach the store, a session and an analysis?

Agents with long conversations send big requests: the SDK's batch processor packs up to 512 spans a
request, and every LLM call's span carries its message history. This sends a burst of such traffic
to `stepseven serve` started with its defaults (the default --memory-limit included) and waits until
every acknowledged span is counted in `spans`, every trace is in a session and every session is
analyzed, then prints how long each took, the collector's peak memory and what /healthz said.

The burst (the shape of issue #30): 60 sessions of one trace each, plus one session of 100 traces
whose 10,000 steps carry 3 KB messages, sent N traces per export (about 1.35 MB a trace).

    python benchmarks/large_requests.py                        # 10 traces per export, OTLP/HTTP
    python benchmarks/large_requests.py --traces-per-export 20 --protocol grpc
    python benchmarks/large_requests.py --max-size             # one request at the largest size accepted
    python benchmarks/large_requests.py --store local          # on a throwaway PostgreSQL server
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import orjson
import psutil
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

GRPC_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
WORDS = (
    "flight booking refund policy customer weather forecast invoice billing account order shipment "
    "delay escalate summary context tool agent search results itinerary seat upgrade baggage"
).split()
MESSAGE_BYTES = 3_000
HISTORY = 7  # messages each LLM call carries: the last turns of the conversation (about 1.35 MB a trace)


def _kv(key: str, value: str | int) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _text(rng: random.Random, size: int) -> str:
    words: list[str] = []
    n = 0
    while n < size:
        word = rng.choice(WORDS)
        words.append(word)
        n += len(word) + 1
    return " ".join(words)[:size]


@dataclass(frozen=True, slots=True)
class Trace:
    trace_id: bytes
    session_id: str
    spans: list[Span]


def agent_trace(rng: random.Random, session_id: str, turn: int, steps: int, start_ns: int) -> Trace:
    """One agent run: an invoke_agent root, then `steps` steps alternating chat and execute_tool."""
    trace_id = rng.randbytes(16)
    root_id = rng.randbytes(8)
    t = start_ns
    spans: list[Span] = []
    history = [_text(rng, MESSAGE_BYTES)]
    for i in range(steps):
        span_id = rng.randbytes(8)
        if i % 2 == 0:
            messages = [
                {"role": "user" if j == 0 else "assistant", "parts": [{"type": "text", "content": m}]}
                for j, m in enumerate(history[-HISTORY:])
            ]
            output = _text(rng, MESSAGE_BYTES)
            history.append(output)
            attributes = [
                _kv("gen_ai.operation.name", "chat"),
                _kv("gen_ai.request.model", "gpt-4o"),
                _kv("gen_ai.agent.name", "research_agent"),
                _kv("gen_ai.conversation.id", session_id),
                _kv("gen_ai.usage.input_tokens", sum(len(m) for m in history[-HISTORY:]) // 4),
                _kv("gen_ai.usage.output_tokens", len(output) // 4),
                _kv("gen_ai.input.messages", orjson.dumps(messages).decode()),
                _kv(
                    "gen_ai.output.messages",
                    orjson.dumps([{"role": "assistant", "parts": [{"type": "text", "content": output}]}]).decode(),
                ),
            ]
            name = "chat gpt-4o"
        else:
            attributes = [
                _kv("gen_ai.operation.name", "execute_tool"),
                _kv("gen_ai.tool.name", "search"),
                _kv("gen_ai.tool.call.id", f"call_{turn}_{i}"),
                _kv("gen_ai.agent.name", "research_agent"),
                _kv("gen_ai.conversation.id", session_id),
                _kv("gen_ai.tool.call.arguments", orjson.dumps({"query": _text(rng, 40), "page": i}).decode()),
                _kv("gen_ai.tool.call.result", _text(rng, 400)),
            ]
            name = "execute_tool search"
        spans.append(
            Span(
                trace_id=trace_id,
                span_id=span_id,
                parent_span_id=root_id,
                name=name,
                kind=Span.SPAN_KIND_CLIENT if i % 2 == 0 else Span.SPAN_KIND_INTERNAL,
                start_time_unix_nano=t,
                end_time_unix_nano=t + 900_000,
                attributes=attributes,
            )
        )
        t += 1_000_000
    spans.insert(
        0,
        Span(
            trace_id=trace_id,
            span_id=root_id,
            name="invoke_agent research_agent",
            kind=Span.SPAN_KIND_INTERNAL,
            start_time_unix_nano=start_ns,
            end_time_unix_nano=t,
            attributes=[
                _kv("gen_ai.operation.name", "invoke_agent"),
                _kv("gen_ai.agent.name", "research_agent"),
                _kv("gen_ai.conversation.id", session_id),
            ],
        ),
    )
    return Trace(trace_id, session_id, spans)


def burst(seed: int = 30, sessions: int = 60, long_sessions: int = 1) -> list[Trace]:
    """``sessions`` sessions of one 100-step trace, and ``long_sessions`` sessions of 100 such traces
    (10,000 steps each; the first is called long-session)."""
    rng = random.Random(seed)
    start = time.time_ns() - 3_600 * 10**9
    traces = [
        agent_trace(rng, "long-session" if n == 0 else f"long-session-{n:03d}", turn, 100, start + turn * 10**9)
        for n in range(long_sessions)
        for turn in range(100)
    ]
    traces += [agent_trace(rng, f"session-{s:04d}", 0, 100, start + s * 10**9) for s in range(sessions)]
    rng.shuffle(traces)
    return traces


def request_of(traces: list[Trace]) -> bytes:
    resource = Resource(attributes=[_kv("service.name", "long-conversations")])
    scope = InstrumentationScope(name="bench.large_requests", version="1.0")
    spans = [span for trace in traces for span in trace.spans]
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(scope=scope, spans=spans)])]
    )
    return bytes(request.SerializeToString())


def max_size_request(limit: int, seed: int = 31) -> tuple[bytes, int, int]:
    """One request just under ``limit`` bytes: (body, spans, traces)."""
    rng = random.Random(seed)
    start = time.time_ns() - 1_800 * 10**9
    traces: list[Trace] = []
    body = b""
    # Each trace's spans encode to about the same bytes alone as inside the request: add whole traces
    # while their sum fits, then check the real request once.
    total = len(request_of([]))
    while True:
        trace = agent_trace(rng, f"max-{seed}-{len(traces):03d}", 0, 100, start + len(traces) * 10**9)
        size = len(request_of([trace])) - len(request_of([]))
        if total + size > limit:
            break
        traces.append(trace)
        total += size
    while traces and len(body := request_of(traces)) > limit:
        traces.pop()
    # Top it up with the first steps of a last trace: as many as fit (a binary search over how many).
    filler = agent_trace(rng, f"max-{seed}-filler", 0, 400, start)
    low, high = 0, len(filler.spans)
    while low < high:
        middle = (low + high + 1) // 2
        candidate = request_of([*traces, Trace(filler.trace_id, filler.session_id, filler.spans[:middle])])
        if len(candidate) <= limit:
            low, body = middle, candidate
        else:
            high = middle - 1
    if low:
        traces.append(Trace(filler.trace_id, filler.session_id, filler.spans[:low]))
    return body, sum(len(t.spans) for t in traces), len(traces)


# -- the collector ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Collector:
    proc: subprocess.Popen[str]
    http_port: int
    grpc_port: int
    api_port: int
    output: list[str]

    def health(self) -> dict[str, Any]:
        return dict(httpx.get(f"http://127.0.0.1:{self.api_port}/healthz", timeout=30).json())

    def sql(self, query: str) -> list[list[Any]]:
        response = httpx.post(f"http://127.0.0.1:{self.api_port}/api/v1/sql", json={"sql": query}, timeout=120)
        if response.status_code != 200:
            raise QueryRefused(f"{response.status_code}: {response.text[:300]}")
        return list(response.json()["rows"])


class QueryRefused(Exception):
    """A count the benchmark asked for was refused (it asks again, and says so)."""


@contextlib.contextmanager
def collector(db: Path, store: str | None) -> Iterator[Collector]:
    http_port, grpc_port, api_port = free_port(), free_port(), free_port()
    args = [sys.executable, "-m", "stepseven", "serve", "--no-ui", "--db", str(db)]
    args += ["--http-port", str(http_port), "--grpc-port", str(grpc_port), "--api-port", str(api_port)]
    if store:
        args += ["--store", store]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    output: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            output.append(line)
            if "stepseven is ready" in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(60):
        proc.kill()
        raise SystemExit("the collector did not start:\n" + "".join(output))
    try:
        yield Collector(proc, http_port, grpc_port, api_port, output)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()


class PeakMemory:
    """The collector's peak memory: its process and its decode workers, as PSS."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            with contextlib.suppress(psutil.Error):
                total = 0
                for p in [self.process, *self.process.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        if "streamlit" not in " ".join(p.cmdline()):
                            total += p.memory_full_info().pss
                self.peak = max(self.peak, total)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def send(c: Collector, body: bytes, protocol: str) -> None:
    for attempt in range(60):
        if protocol == "http":
            response = httpx.post(
                f"http://127.0.0.1:{c.http_port}/v1/traces",
                content=body,
                headers={"Content-Type": "application/x-protobuf"},
                timeout=180,
            )
            if response.status_code == 200:
                return
            if response.status_code not in (429, 503):
                raise SystemExit(f"export refused: {response.status_code} {response.text[:300]}")
        else:
            limit = 256 * 1024 * 1024
            with grpc.insecure_channel(
                f"127.0.0.1:{c.grpc_port}", options=[("grpc.max_send_message_length", limit)]
            ) as channel:
                call = channel.unary_unary(GRPC_METHOD)
                try:
                    call(body, timeout=180)
                    return
                except grpc.RpcError as exc:
                    if exc.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED):
                        raise SystemExit(f"export refused: {exc.code()} {exc.details()}") from None
        time.sleep(min(5.0, 0.5 * (attempt + 1)))
    raise SystemExit("the collector kept refusing the export")


def wait_for(what: str, done: Any, timeout: float, c: Collector) -> float | None:
    """Seconds until ``done()`` holds, or None if ``timeout`` ran out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if c.proc.poll() is not None:
            raise SystemExit("the collector exited:\n" + "".join(c.output[-30:]))
        try:
            if done():
                return time.monotonic() - started
        except QueryRefused as exc:
            print(f"  while waiting for {what}, a count was refused (asking again): {exc}", flush=True)
        time.sleep(1.0)
    print(f"  {what}: not reached in {timeout:.0f} s", flush=True)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces-per-export", type=int, default=10, help="traces per request [10]")
    parser.add_argument("--protocol", choices=["http", "grpc"], default="http")
    parser.add_argument(
        "--max-size", action="store_true", help="send single requests at the largest accepted size instead"
    )
    parser.add_argument(
        "--sessions", type=int, default=60, help="sessions of one 100-step trace besides the long one [60]"
    )
    parser.add_argument("--long-sessions", type=int, default=1, help="sessions of 10,000 steps (100 traces each) [1]")
    parser.add_argument("--requests", type=int, default=2, help="with --max-size: how many such requests [2]")
    parser.add_argument("--store", default=None, help="postgresql://... URL, or 'local' for a throwaway server")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for each stage [900]")
    parser.add_argument("--db", type=Path, default=None, help="keep the store in this file (default: a throwaway one)")
    parser.add_argument("--log", type=Path, default=None, help="write the collector's log to this file")
    args = parser.parse_args()

    from collector.config import Limits

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="stepseven-large-")))
        store = args.store
        if store == "local":
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from tests.postgres import postgres_cluster

            store = stack.enter_context(postgres_cluster()).replace("postgresql+psycopg", "postgresql")
        print("building the requests...", flush=True)
        if args.max_size:
            limit = Limits().max_request_bytes if args.protocol == "http" else Limits().max_decompressed_bytes
            bodies = []
            spans = traces = 0
            for i in range(args.requests):
                body, n_spans, n_traces = max_size_request(limit, seed=31 + i)
                bodies.append(body)
                spans += n_spans
                traces += n_traces
            sessions = traces
        else:
            all_traces = burst(sessions=args.sessions, long_sessions=args.long_sessions)
            bodies = [
                request_of(all_traces[i : i + args.traces_per_export])
                for i in range(0, len(all_traces), args.traces_per_export)
            ]
            spans = sum(len(t.spans) for t in all_traces)
            traces = len(all_traces)
            sessions = len({t.session_id for t in all_traces})
        sizes = sorted(len(b) for b in bodies)
        print(
            f"{len(bodies)} requests over {args.protocol} ({sizes[0] / 2**20:.1f}-{sizes[-1] / 2**20:.1f} MiB each), "
            f"{spans:,} spans in {traces} traces, {sessions} sessions",
            flush=True,
        )
        c = stack.enter_context(collector(args.db or tmp / "large.duckdb", store))
        memory = PeakMemory(c.proc.pid)
        started = time.monotonic()
        for body in bodies:
            send(c, body, args.protocol)
        acked = time.monotonic() - started
        print(f"  acknowledged: all {len(bodies)} requests in {acked:.1f} s", flush=True)

        def count(sql: str) -> int:
            return int(c.sql(sql)[0][0])

        stored = wait_for(
            "every span in `spans`", lambda: count("SELECT count(*) FROM spans") >= spans, args.timeout, c
        )
        sessioned = wait_for(
            "every trace in a session",
            lambda: (
                count("SELECT count(DISTINCT trace_id) FROM steps") >= traces
                and count("SELECT count(*) FROM sessions") >= sessions
            ),
            args.timeout,
            c,
        )
        analyzed = wait_for(
            "every session analyzed",
            lambda: (
                (h := c.health()["analyzer"])["waiting_sessions"] == 0
                and not h["busy"]
                and count("SELECT count(*) FROM sessions WHERE analysis = 'done'") >= sessions
            ),
            args.timeout,
            c,
        )
        peak = memory.stop()
        health = c.health()
        print(f"  in `spans`: {count('SELECT count(*) FROM spans'):,} of {spans:,} after {stored} s")
        n_sessioned = count("SELECT count(DISTINCT trace_id) FROM steps")
        print(f"  in sessions: {n_sessioned} of {traces} traces after {sessioned} s")
        n_analyzed = count("SELECT count(*) FROM sessions WHERE analysis = 'done'")
        print(f"  analyzed: {n_analyzed} of {sessions} sessions after {analyzed} s")
        print(f"  peak memory (collector and decode workers, PSS): {peak / 2**20:.0f} MB")
        print(f"  /healthz: status {health['status']}, writer {health['writer']}")
        print(f"  sessions {health['sessions']}, analyzer {health['analyzer']}")
        errors = [line.rstrip() for line in c.output if "failed" in line or "Error" in line]
        print(
            f"  log lines with 'failed' or 'Error': {len(errors)}" + (f", first: {errors[0][:300]}" if errors else "")
        )
        if args.log:
            args.log.write_text("".join(c.output))
        if stored is None or sessioned is None or analyzed is None:
            sys.exit(1)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
