"""Ingest benchmark: realistic GenAI agent traffic over OTLP, measured as *durable* spans per second.

It starts `stepseven serve` on a throwaway database, builds agent sessions (invoke_agent, chat
and execute_tool spans carrying messages, about 1.5 to 2 KB per span) with the real
OpenTelemetry SDK and its OTLP encoder, and sends them from several concurrent exporter
processes, each waiting for its acknowledgement before sending the next batch, as a
BatchSpanProcessor does. Requests are encoded before the clock starts, so the figures are the
collector's, not the load generator's (which still shares the machine's cores).

It prints, per protocol: durable spans per second (every acknowledged span counted in the store,
the clock stopped when that count returns), the collector's peak memory (the collector process and
its decode workers, as PSS, so pages they share are counted once; and the main process's RSS), bytes
on disk per span, and the CPU time each durable span cost the collector's main process and its decode
workers during the run, with the average number of spans per commit (where the time goes, when the figures disappoint).

    python benchmarks/ingest_throughput.py                     # 200,000 spans, gRPC and HTTP
    python benchmarks/ingest_throughput.py --spans 1000000 --protocol grpc
    python benchmarks/ingest_throughput.py --store local       # on PostgreSQL (a throwaway local server)
    python benchmarks/ingest_throughput.py --store postgresql://USER:PW@HOST/postgres   # on your server

On PostgreSQL, each run gets a fresh database (dropped afterwards); bytes on disk per span are that
database's size, indexes included; peak memory is the collector's, not the database server's.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import multiprocessing as mp
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import orjson
import psutil
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

EXTRA_SERVE_ARGS: list[str] = os.environ.get("BENCH_SERVE_ARGS", "").split()
# BENCH_CATCH_UP=1: after the run, wait until the analyzer has analyzed every session, and say how long it took.
CATCH_UP = os.environ.get("BENCH_CATCH_UP") == "1"
# BENCH_KEEP=FILE: keep the DuckDB store of the (last) run at FILE, for example for `replay_next.py --db FILE`.
KEEP = os.environ.get("BENCH_KEEP")
GRPC_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
WORDS = (
    "flight booking refund policy customer weather forecast invoice billing account order shipment "
    "delay escalate summary context tool agent search results itinerary seat upgrade baggage"
).split()


def _text(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


def build_template_spans(sessions: int, seed: int = 7) -> list[ReadableSpan]:
    """Agent sessions as a real instrumented agent would emit them."""
    rng = random.Random(seed)
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "bench-agents", "deployment.environment": "bench"})
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench.agent", "1.0")
    for s in range(sessions):
        agent = rng.choice(["triage_agent", "billing_agent", "travel_agent"])
        conversation = f"conv-{s:06d}"
        system = [{"type": "text", "content": "You are a helpful " + agent + ". " + _text(rng, 30)}]
        messages: list[dict[str, Any]] = [{"role": "user", "parts": [{"type": "text", "content": _text(rng, 60)}]}]
        common = {"gen_ai.agent.name": agent, "gen_ai.conversation.id": conversation}
        with tracer.start_as_current_span(
            f"invoke_agent {agent}",
            attributes={**common, "gen_ai.operation.name": "invoke_agent", "gen_ai.provider.name": "openai"},
        ):
            for turn in range(rng.randint(2, 4)):
                with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT) as chat:
                    tool = rng.choice(["search_flights", "get_invoice", "get_weather"])
                    call_id = f"call_{s}_{turn}"
                    output = [
                        {
                            "role": "assistant",
                            "parts": [
                                {
                                    "type": "tool_call",
                                    "id": call_id,
                                    "name": tool,
                                    "arguments": {"q": _text(rng, 4)},
                                }
                            ],
                            "finish_reason": "tool_call",
                        }
                    ]
                    chat.set_attributes(
                        {
                            **common,
                            "gen_ai.operation.name": "chat",
                            "gen_ai.provider.name": "openai",
                            "gen_ai.request.model": "gpt-4o",
                            "gen_ai.response.model": "gpt-4o-2024-08-06",
                            "gen_ai.usage.input_tokens": 200 + 150 * turn,
                            "gen_ai.usage.output_tokens": rng.randint(10, 80),
                            "gen_ai.response.finish_reasons": ["tool_call"],
                            "gen_ai.system_instructions": orjson.dumps(system).decode(),
                            # The last few messages only: instrumentations cap content size.
                            "gen_ai.input.messages": orjson.dumps(messages[-3:]).decode(),
                            "gen_ai.output.messages": orjson.dumps(output).decode(),
                        }
                    )
                with tracer.start_as_current_span(f"execute_tool {tool}") as tool_span:
                    result = {"results": [_text(rng, 12) for _ in range(3)]}
                    tool_span.set_attributes(
                        {
                            **common,
                            "gen_ai.operation.name": "execute_tool",
                            "gen_ai.tool.name": tool,
                            "gen_ai.tool.call.id": call_id,
                            "gen_ai.tool.type": "function",
                            "gen_ai.tool.call.arguments": orjson.dumps({"q": _text(rng, 4)}).decode(),
                            "gen_ai.tool.call.result": orjson.dumps(result).decode() + " " + _text(rng, 200),
                        }
                    )
                    if rng.random() < 0.05:
                        tool_span.set_status(Status(StatusCode.ERROR, "tool failed"))
                        tool_span.add_event(
                            "exception",
                            {"exception.type": "TimeoutError", "exception.message": "upstream timed out"},
                        )
                messages.append({"role": "assistant", "parts": output[0]["parts"]})
                messages.append(
                    {
                        "role": "tool",
                        "parts": [{"type": "tool_call_response", "id": call_id, "response": result}],
                    }
                )
    provider.shutdown()
    return list(exporter.get_finished_spans())


@dataclass(frozen=True)
class Job:
    protocol: str
    port: int
    batches: int
    batch_size: int
    template: bytes
    seed: int
    gzip: bool


def _fresh_requests(job: Job) -> list[tuple[bytes, int]]:
    """Copies of the template with new trace and span ids, so that every span is distinct."""
    template = ExportTraceServiceRequest.FromString(job.template)
    rng = random.Random(job.seed)
    out = []
    template_start = min(
        span.start_time_unix_nano for rs in template.resource_spans for ss in rs.scope_spans for span in ss.spans
    )
    for batch in range(job.batches):
        # Fresh times too: each copy happens now, a millisecond after the previous one, as live traffic does.
        shift = time.time_ns() - template_start + batch * 1_000_000
        request = ExportTraceServiceRequest()
        request.CopyFrom(template)
        new_ids: dict[bytes, bytes] = {}
        new_traces: dict[bytes, bytes] = {}
        chosen = request.resource_spans[0].scope_spans[0].spans
        del chosen[job.batch_size :]
        conversations: dict[str, str] = {}
        for span in chosen:
            span.start_time_unix_nano += shift
            span.end_time_unix_nano += shift
            for event in span.events:
                event.time_unix_nano += shift
            span.trace_id = new_traces.setdefault(span.trace_id, rng.randbytes(16))
            for attribute in span.attributes:
                if attribute.key == "gen_ai.conversation.id":
                    # Each copy is a new conversation, as in real traffic.
                    old = attribute.value.string_value
                    attribute.value.string_value = conversations.setdefault(old, f"{old}-{rng.getrandbits(64):016x}")
            span.span_id = new_ids.setdefault(span.span_id, rng.randbytes(8))
            if span.parent_span_id:
                span.parent_span_id = new_ids.setdefault(span.parent_span_id, rng.randbytes(8))
        body = request.SerializeToString()
        out.append((gzip.compress(body, 1) if job.gzip else body, len(chosen)))
    return out


def _exporter(job: Job, ready: Any, go: Any, results: Any) -> None:
    requests = _fresh_requests(job)
    acked = 0
    latencies: list[float] = []
    ready.wait()
    go.wait()
    cpu_started = time.process_time()
    if job.protocol == "grpc":
        channel = grpc.insecure_channel(f"127.0.0.1:{job.port}", options=[("grpc.max_send_message_length", 64 << 20)])
        export = channel.unary_unary(GRPC_METHOD)
        for body, n in requests:
            t = time.perf_counter()
            export(body, timeout=120)
            latencies.append(time.perf_counter() - t)
            acked += n
    else:
        headers = {"Content-Type": "application/x-protobuf"}
        if job.gzip:
            headers["Content-Encoding"] = "gzip"
        with httpx.Client(timeout=120) as client:
            for body, n in requests:
                t = time.perf_counter()
                response = client.post(f"http://127.0.0.1:{job.port}/v1/traces", content=body, headers=headers)
                response.raise_for_status()
                latencies.append(time.perf_counter() - t)
                acked += n
    # The load generator shares the machine's cores with the collector: its CPU is reported too.
    results.put((acked, latencies, time.process_time() - cpu_started))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Collector:
    def __init__(self, db: Path, store: str | None = None) -> None:
        self.db = db
        self.ports = {name: _free_port() for name in ("grpc", "http", "api")}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "stepseven",
                "serve",
                "--no-ui",
                "--db",
                str(db),
                "--grpc-port",
                str(self.ports["grpc"]),
                "--http-port",
                str(self.ports["http"]),
                "--api-port",
                str(self.ports["api"]),
                *(["--store", store] if store else []),
                *EXTRA_SERVE_ARGS,
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if "ready" in line:
                break
        else:
            raise SystemExit("the collector did not start")
        # Read for as long as it runs: an undrained pipe fills at 64 KB and blocks the next thread that logs.
        self.warnings: list[str] = []
        self._log_reader = threading.Thread(target=self._read_log, daemon=True)
        self._log_reader.start()
        self.heavy_queries_run = 0
        self.peak_rss = 0  # the collector process alone
        self.peak_total = 0  # the collector and its decode workers, shared pages counted once (PSS)
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        """Every 50 ms, the collector's memory; PSS itself is read once a second, because it costs.

        Reading a process's PSS makes the kernel walk its page tables: about 10 ms for a 470 MB
        collector, and reading it 20 times a second took 13 µs of CPU per span, a tenth of what the
        collector itself used on this machine. In between, each process's PSS is its RSS (cheap to
        read) plus the difference the last exact reading found between the two: that difference is
        the share of the pages the process shares with others (libraries, the fork server's
        modules), which barely moves during a run.
        """
        process = psutil.Process(self.proc.pid)
        shared_part: dict[int, int] = {}  # pid -> PSS minus RSS at the last exact reading
        tree: list[psutil.Process] = []
        last_exact = 0.0
        while self._sampling:
            exact = time.monotonic() - last_exact >= 1.0
            try:
                if exact:
                    tree = [process, *process.children(recursive=True)]
                    last_exact = time.monotonic()
                total = 0
                for member in tree:
                    with contextlib.suppress(psutil.Error):
                        if exact or member.pid not in shared_part:
                            rss, pss = _rss_and_pss(member)  # one reading, so the difference is consistent
                            shared_part[member.pid] = pss - rss
                        else:
                            rss = member.memory_info().rss
                        if member is process:
                            self.peak_rss = max(self.peak_rss, rss)
                        total += rss + shared_part[member.pid]
                self.peak_total = max(self.peak_total, total)
            except psutil.Error:
                return
            time.sleep(0.05)

    def cpu_seconds(self) -> tuple[float, float]:
        """User+system CPU seconds so far of the main process and of its helper processes (decode workers)."""
        main = psutil.Process(self.proc.pid)
        helpers = 0.0
        for child in main.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                t = child.cpu_times()
                helpers += t.user + t.system
        t = main.cpu_times()
        return t.user + t.system, helpers

    def sql(self, query: str) -> list[Any]:
        response = httpx.post(f"http://127.0.0.1:{self.ports['api']}/api/v1/sql", json={"sql": query}, timeout=300)
        response.raise_for_status()
        return list(response.json()["rows"][0])

    def query_heavily(self, done: threading.Event) -> None:
        """Runs a cross join of spans over the query API, again and again, until ``done`` is set."""
        heavy = (
            "SELECT count(*) FROM (SELECT name FROM spans LIMIT 30000) a, (SELECT name FROM spans LIMIT 30000) b "
            "WHERE a.name < b.name"
        )
        with httpx.Client(timeout=120) as client:
            while not done.is_set():
                client.post(f"http://127.0.0.1:{self.ports['api']}/api/v1/sql", json={"sql": heavy})
                self.heavy_queries_run += 1

    def count(self) -> int:
        """Spans in the store, once every acknowledged one is there: a query does not ask for the journal's
        flush, it says how many acknowledged records it does not count yet (`pending_records`)."""
        while True:
            response = httpx.post(
                f"http://127.0.0.1:{self.ports['api']}/api/v1/sql",
                json={"sql": "SELECT count(*) FROM spans"},
                timeout=60,
            )
            response.raise_for_status()
            if not response.json().get("pending_records"):
                return int(response.json()["rows"][0][0])
            time.sleep(0.05)

    def health(self) -> dict[str, Any]:
        response = httpx.get(f"http://127.0.0.1:{self.ports['api']}/healthz", timeout=60)
        response.raise_for_status()
        return dict(response.json())

    def analysis_caught_up(self, last_export: float, limit: float = 900) -> float | None:
        """Seconds from the last export until every session is analyzed (None if not within ``limit``)."""
        while time.perf_counter() - last_export < limit:
            health = self.health()
            idle = health["sessions"]["pending_traces"] == 0 and not health["sessions"]["busy"]
            if idle and health["analyzer"]["waiting_sessions"] == 0 and not health["analyzer"]["busy"]:
                return time.perf_counter() - last_export
            time.sleep(1)
        return None

    def _read_log(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if "WARNING" in line or "ERROR" in line or "Traceback" in line:
                self.warnings.append(line.rstrip())

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(120)
        self._sampling = False
        self._log_reader.join(5)
        if self.warnings:
            print(f"  the collector logged {len(self.warnings)} warnings or errors; the first ones:")
            for line in self.warnings[:5]:
                print(f"    {line[:300]}")


def _rss_and_pss(process: psutil.Process) -> tuple[int, int]:
    """Resident and proportional set size (each shared page split among its sharers), from one reading."""
    try:
        with open(f"/proc/{process.pid}/smaps_rollup", "rb") as rollup:
            fields = dict(line.split(b":", 1) for line in rollup.read().splitlines()[1:])
        return int(fields[b"Rss"].split()[0]) * 1024, int(fields[b"Pss"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return 0, 0


class PostgresDatabases:
    """Fresh databases on a PostgreSQL server, one per run, dropped afterwards."""

    def __init__(self, server_url: str) -> None:
        import sqlalchemy as sa

        from store.postgres_store import store_url

        self.server = store_url(server_url)
        self._engine = sa.create_engine(self.server, isolation_level="AUTOCOMMIT")
        self._n = 0

    def create(self) -> str:
        self._n += 1
        self.name = f"stepseven_bench_{os.getpid()}_{self._n}"
        with self._engine.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {self.name}")
        return str(self.server.set(drivername="postgresql", database=self.name).render_as_string(hide_password=False))

    def size(self) -> int:
        with self._engine.connect() as connection:
            return int(connection.exec_driver_sql(f"SELECT pg_database_size('{self.name}')").scalar_one())

    def drop(self) -> None:
        with self._engine.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def run(
    protocol: str,
    spans: int,
    exporters: int,
    batch_size: int,
    use_gzip: bool,
    template: bytes,
    postgres: PostgresDatabases | None = None,
    heavy_queries: int = 0,
) -> dict[str, Any]:
    batches_total = max(exporters, spans // batch_size)
    with tempfile.TemporaryDirectory(prefix="stepseven-bench-") as tmp:
        collector = Collector(Path(tmp) / "bench.duckdb", postgres.create() if postgres else None)
        ctx = mp.get_context("fork")
        ready, go = ctx.Barrier(exporters + 1), ctx.Event()
        results: Any = ctx.Queue()
        workers = []
        for i in range(exporters):
            share = batches_total // exporters + (1 if i < batches_total % exporters else 0)
            job = Job(protocol, collector.ports[protocol], share, batch_size, template, seed=1000 + i, gzip=use_gzip)
            workers.append(ctx.Process(target=_exporter, args=(job, ready, go, results)))
        for w in workers:
            w.start()
        print(
            f"  encoding {batches_total * batch_size:,} spans in {exporters} exporter processes...",
            flush=True,
        )
        ready.wait()
        cpu_before = collector.cpu_seconds()
        # This process only samples the collector's memory while the exporters run (its main thread waits).
        sampler_before = sum(psutil.Process().cpu_times()[:2])
        machine_before = psutil.cpu_times()
        started = time.perf_counter()
        go.set()
        querying = threading.Event()
        queriers = [
            threading.Thread(target=collector.query_heavily, args=(querying,), daemon=True)
            for _ in range(heavy_queries)
        ]
        for querier in queriers:
            querier.start()
        outcomes = [results.get() for _ in workers]
        querying.set()
        for querier in queriers:
            querier.join()
        # Counted in the store before the clock stops: on DuckDB the last acknowledged spans are in the
        # collector's journal, on disk, and the count waits for their flush into the store (every 2 s, or
        # at a full row group; queries do not ask for it since 2026-12-07, which can add up to 2 s).
        durable = collector.count()
        elapsed = time.perf_counter() - started
        cpu_after = collector.cpu_seconds()
        sampler_after = sum(psutil.Process().cpu_times()[:2])
        peak_exporting = collector.peak_total
        machine_after = psutil.cpu_times()
        for w in workers:
            w.join()
        acked = sum(o[0] for o in outcomes)
        latencies = sorted(x for o in outcomes for x in o[1])
        health = collector.health()
        analyzer = health["analyzer"]
        commits = health["writer"]["commits"]
        caught_up = collector.analysis_caught_up(started + elapsed) if CATCH_UP else None
        # Nothing derived may be missing once caught up: every stored trace in a session, every session analyzed.
        left_out = (
            collector.sql(
                "SELECT (SELECT count(DISTINCT trace_id) FROM spans "
                "WHERE trace_id NOT IN (SELECT trace_id FROM steps)), "
                "(SELECT count(*) FROM sessions), (SELECT count(*) FROM sessions WHERE analysis <> 'done')"
            )
            if CATCH_UP
            else None
        )
        collector.stop()
        if postgres is not None:
            disk = postgres.size()
            postgres.drop()
        else:
            disk = sum(f.stat().st_size for f in Path(tmp).glob("bench.duckdb*"))
            if KEEP:
                shutil.copyfile(Path(tmp) / "bench.duckdb", KEEP)  # the collector stopped: all of it is in the file
                print(f"  the store is kept at {KEEP}", flush=True)
    return {
        "heavy_queries_run": collector.heavy_queries_run,
        "left_out": left_out,
        "acked": acked,
        "durable": durable,
        "seconds": elapsed,
        "durable_per_s": durable / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "peak_rss_mb": collector.peak_rss / 1e6,
        "peak_total_mb": collector.peak_total / 1e6,
        "peak_exporting_mb": peak_exporting / 1e6,
        "disk_bytes_per_span": disk / max(durable, 1),
        "cpu_main_us": (cpu_after[0] - cpu_before[0]) / max(durable, 1) * 1e6,
        "cpu_helpers_us": (cpu_after[1] - cpu_before[1]) / max(durable, 1) * 1e6,
        "cpu_exporters_us": sum(o[2] for o in outcomes) / max(durable, 1) * 1e6,
        "cpu_sampler_us": (sampler_after - sampler_before) / max(durable, 1) * 1e6,
        "idle_percent": 100
        * (machine_after.idle - machine_before.idle)
        / max(sum(machine_after) - sum(machine_before), 1e-9),
        "spans_per_commit": durable / max(commits, 1),
        "failures": (
            f"{health['writer']['failed_commits']} failed commits, {health['sessions']['failures']} failed session "
            f"rebuilds, {analyzer['failures']} failed analyzer runs, {health['store']['reopens']} reopens"
        ),
        "sessions_analyzed": analyzer["sessions_analyzed"],
        "sessions_waiting": analyzer["waiting_sessions"],
        "traces_pending": health["sessions"]["pending_traces"],
        "caught_up_s": caught_up,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=200_000, help="spans per protocol (default 200,000)")
    parser.add_argument("--exporters", type=int, default=4, help="concurrent exporter processes (default 4)")
    parser.add_argument(
        "--batch-size", type=int, default=512, help="spans per export request (the SDK's default is 512)"
    )
    parser.add_argument("--protocol", choices=["grpc", "http", "both"], default="both")
    parser.add_argument(
        "--gzip", action="store_true", help="compress HTTP bodies with gzip, as exporters do when asked"
    )
    parser.add_argument(
        "--store",
        default=None,
        help="benchmark the PostgreSQL store: a server URL (postgresql://USER:PW@HOST/postgres; a fresh database "
        "is created and dropped per run) or 'local' for a throwaway server of the installed PostgreSQL",
    )
    parser.add_argument(
        "--heavy-queries",
        type=int,
        default=0,
        help="users running this many cross joins over the query API at once, again and again, during the run",
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        postgres = None
        if args.store == "local":
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from tests.postgres import postgres_cluster

            postgres = PostgresDatabases(stack.enter_context(postgres_cluster()))
        elif args.store:
            postgres = PostgresDatabases(args.store)
        _benchmark(args, postgres)


def _benchmark(args: argparse.Namespace, postgres: PostgresDatabases | None) -> None:

    template_spans = build_template_spans(sessions=max(args.batch_size // 4, 64))
    chosen = template_spans[: args.batch_size]
    if len(chosen) < args.batch_size:
        raise SystemExit(f"the template has only {len(chosen)} spans for a batch of {args.batch_size}")
    template = encode_spans(chosen).SerializeToString()
    per_span = len(template) / len(chosen)
    print(
        f"traffic: agent sessions of invoke_agent/chat/execute_tool spans, {per_span:,.0f} bytes per span encoded, "
        f"{args.batch_size} spans per request, {args.exporters} exporters, {os.cpu_count()} cores"
    )
    print(f"store: {'PostgreSQL ' + str(postgres.server.render_as_string()) if postgres else 'DuckDB (embedded)'}")
    protocols = ["grpc", "http"] if args.protocol == "both" else [args.protocol]
    for protocol in protocols:
        print(f"{protocol}:", flush=True)
        r = run(
            protocol,
            args.spans,
            args.exporters,
            args.batch_size,
            args.gzip and protocol == "http",
            template,
            postgres,
            args.heavy_queries,
        )
        print(
            f"  {protocol}: {r['durable_per_s']:,.0f} durable spans/s "
            f"({r['durable']:,} durable of {r['acked']:,} acknowledged in {r['seconds']:.1f} s), "
            f"export latency p50 {r['p50_ms']:.0f} ms p99 {r['p99_ms']:.0f} ms, "
            f"peak collector memory {r['peak_total_mb']:,.0f} MB with its decode workers, shutdown included "
            f"({r['peak_exporting_mb']:,.0f} MB until the last export was acknowledged; "
            f"{r['peak_rss_mb']:,.0f} MB RSS of the main process), "
            f"{r['disk_bytes_per_span']:,.0f} bytes on disk per span",
            flush=True,
        )
        print(
            f"  CPU per durable span during the run: {r['cpu_main_us']:.0f} µs in the main process, "
            f"{r['cpu_helpers_us']:.0f} µs in the decode workers, {r['cpu_exporters_us']:.0f} µs in the exporters "
            f"(load generator), {r['cpu_sampler_us']:.0f} µs in this benchmark's memory sampling; "
            f"the cores were {r['idle_percent']:.0f}% idle; "
            f"{r['spans_per_commit']:,.0f} spans per commit",
            flush=True,
        )
        print(
            f"  by the end of the run, {r['traces_pending']:,} traces waited for their sessions to be rebuilt; "
            f"the analyzer had analyzed {r['sessions_analyzed']:,} sessions ({r['sessions_waiting']:,} waiting); "
            f"{r['failures']}",
            flush=True,
        )
        if r["heavy_queries_run"]:
            print(f"  meanwhile {r['heavy_queries_run']} heavy queries ran to their end or their timeout", flush=True)
        if CATCH_UP:
            late = r["caught_up_s"]
            print(
                "  every session was analyzed "
                + (f"{late:.0f} s after the last export" if late is not None else "NOT within 900 s"),
                flush=True,
            )
            unbuilt, sessions, unanalyzed = r["left_out"]
            print(
                f"  then: {unbuilt:,} stored traces in no session; "
                f"{unanalyzed:,} of {sessions:,} sessions not analyzed",
                flush=True,
            )
        if r["durable"] != r["acked"]:
            print(f"  WARNING: {r['acked'] - r['durable']} acknowledged spans are not in the store", flush=True)


if __name__ == "__main__":
    main()
