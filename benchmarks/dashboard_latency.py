"""Dashboard benchmark: how long the pages take in a real browser, on a big store and with huge sessions.

It starts `stepseven serve` with its dashboard on a DuckDB file (a throwaway one, or --db for a store
you filled first, for example with the ingest benchmark), adds a 500-step and a 20,000-step session
built with the OpenTelemetry SDK, then drives Debian's Chromium with Playwright and prints, cold and
warm: the sessions page until its table shows, a replay until its step card shows, and a click on
"next" until the next step's card shows.

    python benchmarks/dashboard_latency.py
    BENCH_SERVE_ARGS="--db /tmp/big.duckdb --analyze-after 100000" \\
        python benchmarks/ingest_throughput.py --spans 1000000 --protocol grpc   # fill a store first
    python benchmarks/dashboard_latency.py --db /tmp/big.duckdb
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from playwright.sync_api import Page, sync_playwright

# The sessions page caption once the table has rendered ("3 sessions", "the first 500 of 148,430 sessions").
SESSIONS_CAPTION = re.compile(r"^(the first [\d,]+ of )?[\d,]+ sessions$")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def send_long_session(endpoint: str, session_id: str, steps: int) -> None:
    """One agent run of ``steps`` steps: model calls and tool calls in turn, each with a little content."""
    provider = TracerProvider(resource=Resource.create({"service.name": "dashboard-bench"}))
    # A queue that holds the whole session: the SDK drops spans, silently but for a log line, past its queue.
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces"), max_queue_size=steps + 16, max_export_batch_size=512
        )
    )
    tracer = provider.get_tracer("bench")
    common = {"gen_ai.conversation.id": session_id, "gen_ai.agent.name": "long_runner"}
    with tracer.start_as_current_span(
        "invoke_agent long_runner", attributes={**common, "gen_ai.operation.name": "invoke_agent"}
    ):
        for i in range((steps - 1) // 2):
            messages = [
                {"role": "user", "parts": [{"type": "text", "content": f"Continue with item {i} of the backlog."}]}
            ]
            with tracer.start_as_current_span(
                "chat gpt-4o",
                attributes={
                    **common,
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.usage.input_tokens": 1000 + 10 * i,
                    "gen_ai.usage.output_tokens": 40,
                    "gen_ai.input.messages": orjson.dumps(messages).decode(),
                },
            ):
                pass
            with tracer.start_as_current_span(
                "execute_tool fetch_item",
                attributes={
                    **common,
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "fetch_item",
                    "gen_ai.tool.call.arguments": orjson.dumps({"item": i}).decode(),
                    "gen_ai.tool.call.result": f"item {i}: ok",
                },
            ):
                pass
    provider.shutdown()


def timed(page: Page, go: Callable[[], object], wait_text: str | re.Pattern[str]) -> float:
    """Seconds from the action until the text shows."""
    started = time.perf_counter()
    go()
    page.get_by_text(wait_text).first.wait_for(timeout=120_000)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="an existing store to serve (default: a throwaway one)")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory(prefix="stepseven-dash-bench-") as tmp:
        db = args.db or Path(tmp) / "bench.duckdb"
        ports = {name: _free_port() for name in ("grpc", "http", "api", "ui")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "stepseven", "serve", "--db", str(db), "--grpc-port", str(ports["grpc"]),
             "--http-port", str(ports["http"]), "--api-port", str(ports["api"]), "--ui-port", str(ports["ui"]),
             "--analyze-after", "1"],
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert proc.stderr is not None
        for line in proc.stderr:
            if "ready" in line:
                break
        api, ui = f"http://127.0.0.1:{ports['api']}", f"http://127.0.0.1:{ports['ui']}"
        try:
            spans = httpx.post(f"{api}/api/v1/sql", json={"sql": "SELECT count(*) FROM spans"}).json()["rows"][0][0]
            print(f"store: {db} ({spans:,} spans before the long sessions)", flush=True)
            run = f"{int(time.time())}"  # fresh session ids, so a store can be benchmarked more than once
            long_sessions = {f"session-bench-500-{run}": 499, f"session-bench-20000-{run}": 19_999}
            for session_id, total in long_sessions.items():
                send_long_session(f"http://127.0.0.1:{ports['http']}", session_id, total + 1)
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                rows = httpx.post(
                    f"{api}/api/v1/sql",
                    json={"sql": "SELECT session_id, step_count FROM sessions WHERE session_id LIKE ?", "params": [
                        f"session-bench-%-{run}"
                    ]},
                ).json()["rows"]  # fmt: skip
                if {tuple(r) for r in rows} >= set(long_sessions.items()):
                    break
                time.sleep(1)
            else:
                raise SystemExit(f"the long sessions were not built in time: {rows}")
            # Measure a quiet collector: wait until the analyzer has caught up with the store (it runs at
            # start) and has analyzed the two new sessions (10 s after they went quiet).
            waited = time.monotonic()
            while time.monotonic() - waited < 1800:
                analyzer = httpx.get(f"{api}/healthz", timeout=30).json()["analyzer"]
                analyzed = httpx.post(
                    f"{api}/api/v1/sql",
                    json={"sql": "SELECT count(*) FROM derived_analyses WHERE session_id LIKE ?",
                          "params": [f"session-bench-%-{run}"]},
                ).json()["rows"][0][0]  # fmt: skip
                if analyzed == len(long_sessions) and analyzer["waiting_sessions"] == 0 and not analyzer["busy"]:
                    break
                time.sleep(2)
            print(f"waited {time.monotonic() - waited:.0f} s for the analyzer to be idle", flush=True)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1500, "height": 1100})
                # Two warm loads: the browser compiles Plotly's script from its code cache only from the
                # third load of a page on, so the first warm load still pays for that.
                for label in ("cold", "warm", "warm again"):
                    seconds = timed(page, lambda: page.goto(ui), SESSIONS_CAPTION)
                    print(f"sessions page ({label}): {seconds:.2f} s until the table shows", flush=True)
                for session_id, total in long_sessions.items():
                    middle = total // 2
                    url = f"{ui}/replay?session={session_id}&step={middle}"

                    def open_replay(address: str = url) -> object:
                        return page.goto(address)

                    for label in ("cold", "warm", "warm again"):
                        seconds = timed(page, open_replay, f"Step {middle} of {total}")
                        print(f"replay of {total:,} steps at step {middle} ({label}): {seconds:.2f} s", flush=True)
                    seconds = timed(
                        page,
                        lambda: page.get_by_role("button", name="next ▶").click(),
                        f"Step {middle + 1} of {total}",
                    )
                    print(f"  next step: {seconds:.2f} s", flush=True)
                browser.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=120)


if __name__ == "__main__":
    main()
