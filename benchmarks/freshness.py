"""Freshness under sustained load: how long after an agent session goes quiet is it a session, and analyzed?

A flight recorder must show what just happened. This starts `stepseven serve` on a throwaway database
(its defaults, `--analyze-after` 10 s included, unless BENCH_SERVE_ARGS says otherwise) and sends agent
sessions (the traffic of benchmarks/ingest_throughput.py: invoke_agent, chat and execute_tool spans with
messages, about 1.75 KB a span, whole sessions in each request of about 512 spans) at a fixed rate from
several gRPC exporter processes, for a fixed time. Every session goes quiet after the request that
carries it: its last span's acknowledgement is when it went quiet.

Once a second it asks the query API which of the sessions still outstanding have a row in `sessions`
(built) and which are `analysis = 'done'` (findings written). It prints, per session, the delay from
the acknowledgement to (a) built and (b) analyzed: p50 / p95 / max; the backlog (acknowledged sessions
not yet built, not yet analyzed) every 30 s; the rate reached; the collector's CPU per span and its
peak memory. The delays include the one-second polling (up to a second too long) and `--analyze-after`.

    python benchmarks/freshness.py                          # 5,000 spans/s for 10 minutes
    python benchmarks/freshness.py --rate 10000 --seconds 600
    python benchmarks/freshness.py --rate 2000 --seconds 60 # a quick look
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the checkout's packages
from benchmarks.ingest_throughput import GRPC_METHOD, Collector, build_template_spans

# Placeholders written into each prepared request and replaced, for every send, by the send's number
# (its "round"): fresh trace ids and session ids without re-encoding a request each time.
TRACE_MARK = b"\xfe\xed\xfa\xce"  # the last 4 bytes of every trace id
SESSION_MARK = "rXXXXXXX"  # the first 8 characters of every session id (gen_ai.conversation.id)
PREPARED_PER_EXPORTER = 16


@dataclass(frozen=True)
class Plan:
    port: int
    exporter: int
    exporters: int
    requests_per_second: float
    seconds: float


def _round_marks(round_number: int) -> tuple[bytes, bytes]:
    return round_number.to_bytes(4, "big"), f"r{round_number:07x}".encode()


def prepare_requests(template: ExportTraceServiceRequest, seed: int, count: int) -> list[tuple[bytes, list[str], int]]:
    """``count`` requests of whole sessions from the template, with marked ids: (body, session ids with the
    mark, spans)."""
    rng = random.Random(seed)
    spans = list(template.resource_spans[0].scope_spans[0].spans)
    out: list[tuple[bytes, list[str], int]] = []
    while len(out) < count:
        request = ExportTraceServiceRequest()
        request.CopyFrom(template)
        chosen = request.resource_spans[0].scope_spans[0].spans
        new_traces: dict[bytes, bytes] = {}
        new_spans: dict[bytes, bytes] = {}
        sessions: dict[str, str] = {}
        for span in chosen:
            span.trace_id = new_traces.setdefault(span.trace_id, rng.randbytes(12) + TRACE_MARK)
            span.span_id = new_spans.setdefault(span.span_id, rng.randbytes(8))
            if span.parent_span_id:
                span.parent_span_id = new_spans.setdefault(span.parent_span_id, rng.randbytes(8))
            for attribute in span.attributes:
                if attribute.key == "gen_ai.conversation.id":
                    old = attribute.value.string_value
                    attribute.value.string_value = sessions.setdefault(
                        old, f"{SESSION_MARK}-{old}-{rng.getrandbits(48):012x}"
                    )
        body = request.SerializeToString()
        # A mark that random bytes happened to repeat would change more than the ids: drawn again.
        if body.count(TRACE_MARK) != len(spans) or body.count(SESSION_MARK.encode()) != sum(
            1 for span in chosen for a in span.attributes if a.key == "gen_ai.conversation.id"
        ):
            continue
        out.append((body, sorted(sessions.values()), len(spans)))
    return out


def _shifted(request: ExportTraceServiceRequest, delta: int) -> bytes:
    """The request with every time moved by ``delta`` ns (in place), encoded."""
    for span in request.resource_spans[0].scope_spans[0].spans:
        span.start_time_unix_nano += delta
        span.end_time_unix_nano += delta
        for event in span.events:
            event.time_unix_nano += delta
    return request.SerializeToString()


def _exporter(plan: Plan, template: bytes, ready: Any, go: Any, sent: Any) -> None:
    """Sends a prepared request every 1/rate seconds (its share of the rate); reports each acknowledgement."""
    prepared = prepare_requests(
        ExportTraceServiceRequest.FromString(template), 1000 + plan.exporter, PREPARED_PER_EXPORTER
    )
    # Each send carries spans that just ended, as live traffic does: stores order their reads by time, and a
    # template replayed with its own old times would hide that.
    requests = [ExportTraceServiceRequest.FromString(body) for body, _, _ in prepared]
    shifts = [0] * len(requests)
    ends = [max(s.end_time_unix_nano for s in r.resource_spans[0].scope_spans[0].spans) for r in requests]
    channel = grpc.insecure_channel(f"127.0.0.1:{plan.port}", options=[("grpc.max_send_message_length", 64 << 20)])
    export = channel.unary_unary(GRPC_METHOD)
    ready.wait()
    go.wait()
    started = time.monotonic()
    interval = plan.exporters / plan.requests_per_second
    i = late = retries = 0
    while True:
        due = started + plan.exporter * interval / plan.exporters + i * interval
        if due - started >= plan.seconds:
            break
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        else:
            late += 1
        round_number = i * plan.exporters + plan.exporter
        slot = i % len(prepared)
        _, sessions, spans = prepared[slot]
        shift = time.time_ns() - ends[slot]
        body = _shifted(requests[slot], shift - shifts[slot])
        shifts[slot] = shift
        trace_mark, session_mark = _round_marks(round_number)
        body = body.replace(TRACE_MARK, trace_mark).replace(SESSION_MARK.encode(), session_mark)
        prefix = session_mark.decode()
        while True:
            try:
                export(body, timeout=120)
                break
            except grpc.RpcError as refused:
                # What an exporter does with a retryable refusal: send again shortly.
                if refused.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise
                retries += 1
                time.sleep(0.2)
        sent.put((time.time(), [prefix + s[len(SESSION_MARK) :] for s in sessions], spans))
        i += 1
    sent.put(("done", late, i, retries))


def _percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    values = sorted(values)
    return (
        f"p50 {values[len(values) // 2]:.1f} s, p95 {values[int(len(values) * 0.95)]:.1f} s, "
        f"max {values[-1]:.1f} s ({len(values):,} sessions)"
    )


class Watcher:
    """Asks the query API, once a second, which outstanding sessions are built and which analyzed."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector
        self.acked: dict[str, float] = {}  # session -> wall time of its acknowledgement
        self.built: dict[str, float] = {}
        self.analyzed: dict[str, float] = {}
        self.unbuilt: set[str] = set()  # acknowledged, not seen built yet
        self.unanalyzed: set[str] = set()
        self.lock = threading.Lock()
        self.backlog: list[tuple[float, int, int, int, int]] = []  # t, unbuilt, unanalyzed, pending traces, waiting
        self._client = httpx.Client(timeout=120)

    def add(self, when: float, sessions: list[str]) -> None:
        with self.lock:
            for session in sessions:
                self.acked[session] = when
            self.unbuilt.update(sessions)
            self.unanalyzed.update(sessions)

    def outstanding(self) -> tuple[int, int]:
        with self.lock:
            return len(self.acked) - len(self.built), len(self.acked) - len(self.analyzed)

    def poll(self) -> None:
        # Session ids start with their round's mark, in the order they were sent: the sessions from the
        # oldest one still outstanding on cover them. Asked apart for "built" and "analyzed", so that each
        # answer holds about what changed since the last poll, not the whole backlog: the benchmark's own
        # reads once grew with the backlog and slowed the collector it measured.
        with self.lock:
            unbuilt = min(self.unbuilt, default=None)
            unanalyzed = min(self.unanalyzed, default=None)
        if unbuilt is not None:
            rows = self._rows("SELECT session_id FROM sessions WHERE session_id >= ?", unbuilt)
            self._seen(rows, self.built, self.unbuilt)
        if unanalyzed is not None:
            rows = self._rows("SELECT session_id FROM sessions WHERE session_id >= ? AND analysis = 'done'", unanalyzed)
            self._seen(rows, self.analyzed, self.unanalyzed)

    def _rows(self, sql: str, lowest: str) -> list[Any]:
        response = self._client.post(
            f"http://127.0.0.1:{self.collector.ports['api']}/api/v1/sql",
            json={"sql": sql, "params": [lowest], "limit": 1_000_000},
        )
        response.raise_for_status()
        return list(response.json()["rows"])

    def _seen(self, rows: list[Any], when: dict[str, float], outstanding: set[str]) -> None:
        now = time.time()
        with self.lock:
            for (session,) in rows:
                if session in outstanding:
                    outstanding.discard(session)
                    when[session] = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=5000, help="spans per second to send (default 5,000)")
    parser.add_argument("--seconds", type=float, default=600, help="how long to send (default 600)")
    parser.add_argument("--exporters", type=int, default=4, help="concurrent exporter processes (default 4)")
    parser.add_argument(
        "--drain", type=float, default=300, help="how long to wait, after the last send, for the backlog (default 300)"
    )
    args = parser.parse_args()

    print("building the traffic...", flush=True)
    spans = build_template_spans(80, seed=11)
    template = encode_spans(spans)
    per_request = len(template.resource_spans[0].scope_spans[0].spans)
    requests_per_second = args.rate / per_request
    print(
        f"traffic: {per_request} spans ({len({s.context.trace_id for s in spans})} sessions) a request, "
        f"{requests_per_second:.1f} requests/s from {args.exporters} gRPC exporters = {args.rate:,} spans/s "
        f"for {args.seconds:g} s; collector args: {os.environ.get('BENCH_SERVE_ARGS', '(defaults)')}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="stepseven-fresh-") as tmp:
        collector = Collector(Path(tmp) / "fresh.duckdb")
        watcher = Watcher(collector)
        ctx = mp.get_context("fork")
        ready, go = ctx.Barrier(args.exporters + 1), ctx.Event()
        sent: Any = ctx.Queue()
        workers = [
            ctx.Process(
                target=_exporter,
                args=(
                    Plan(collector.ports["grpc"], i, args.exporters, requests_per_second, args.seconds),
                    template.SerializeToString(),
                    ready,
                    go,
                    sent,
                ),
            )
            for i in range(args.exporters)
        ]
        for w in workers:
            w.start()
        ready.wait()
        cpu_before = collector.cpu_seconds()
        started = time.time()
        go.set()
        finished = 0
        late = sends = retries = acked_spans = 0
        last_report = last_poll = started
        while (finished < args.exporters and all(w.is_alive() or w.exitcode == 0 for w in workers)) or (
            watcher.outstanding()[1] and time.time() - started < args.seconds + args.drain
        ):
            while True:
                try:
                    item = sent.get(timeout=0.05)
                except Exception:  # queue.Empty
                    break
                if item[0] == "done":
                    finished += 1
                    late += item[1]
                    sends += item[2]
                    retries += item[3]
                    if finished == args.exporters:
                        send_end = time.time()
                        cpu_sending = collector.cpu_seconds()
                        spans_sent = acked_spans
                else:
                    watcher.add(item[0], item[1])
                    acked_spans += item[2]
            if time.time() - last_poll >= 1:
                last_poll = time.time()
                watcher.poll()
            if time.time() - last_report >= 30:
                last_report = time.time()
                health = collector.health()
                unbuilt, unanalyzed = watcher.outstanding()
                row = (
                    last_report - started,
                    unbuilt,
                    unanalyzed,
                    health["sessions"]["pending_traces"],
                    health["analyzer"]["waiting_sessions"],
                )
                watcher.backlog.append(row)
                print(
                    f"  {row[0]:5.0f} s: {acked_spans:,} spans acknowledged; sessions not built {unbuilt:,}, "
                    f"not analyzed {unanalyzed:,} (collector: {row[3]:,} traces waiting for sessions, "
                    f"{row[4]:,} sessions for analysis; exports in flight on average "
                    f"{health.get('exports', {}).get('average_in_flight', 'n/a')})",
                    flush=True,
                )
        for w in workers:
            w.join()
            if w.exitcode != 0:
                raise SystemExit(f"an exporter failed (exit {w.exitcode}): see its traceback above")
        peak = collector.peak_total
        collector.stop()

    built = [watcher.built[s] - t for s, t in watcher.acked.items() if s in watcher.built]
    analyzed = [watcher.analyzed[s] - t for s, t in watcher.acked.items() if s in watcher.analyzed]
    sending = send_end - started
    main_cpu, helper_cpu = (cpu_sending[0] - cpu_before[0], cpu_sending[1] - cpu_before[1])
    print(
        f"sent {spans_sent:,} spans in {sending:.0f} s: {spans_sent / sending:,.0f} spans/s acknowledged "
        f"(asked {args.rate:,}; {late} of {sends} sends left late because the previous one was not yet answered; "
        f"{retries} sent again after a retryable refusal)"
    )
    print(f"acknowledgement -> session built:    {_percentiles(built)}")
    print(f"acknowledgement -> findings written: {_percentiles(analyzed)} (includes --analyze-after)")
    never = len(watcher.acked) - len(watcher.analyzed)
    print(f"sessions not analyzed {args.drain:g} s after the last send: {never:,} of {len(watcher.acked):,}")
    # Only what was counted while sending: after it, the backlog drains.
    during = [r for r in watcher.backlog if r[0] <= sending]
    if len(during) >= 4:
        half = len(during) // 2
        first = max(r[2] for r in during[1:half])
        second = max(r[2] for r in during[half:])
        print(f"backlog of sessions not analyzed, largest in the first half {first:,}, in the second {second:,}")
    print(
        f"collector CPU per acknowledged span while sending: {main_cpu / max(spans_sent, 1) * 1e6:.0f} µs main "
        f"process, {helper_cpu / max(spans_sent, 1) * 1e6:.0f} µs decode workers; peak memory {peak / 1e6:,.0f} MB"
    )


if __name__ == "__main__":
    main()
