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
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from benchmarks.served import chromium_page, serve
from tests.big_sessions import send_long_session

# The sessions page caption once the table has rendered ("3 sessions", "the first 500 of 148,430 sessions").
SESSIONS_CAPTION = re.compile(r"^(the first [\d,]+ of )?[\d,]+ sessions$")


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
    with tempfile.TemporaryDirectory(prefix="stepseven-dash-bench-") as tmp:
        db = args.db or Path(tmp) / "bench.duckdb"
        with serve(db) as served:
            spans = served.sql("SELECT count(*) FROM spans")[0][0]
            print(f"store: {db} ({spans:,} spans before the long sessions)", flush=True)
            run = f"{int(time.time())}"  # fresh session ids, so a store can be benchmarked more than once
            long_sessions = {f"session-bench-500-{run}": 499, f"session-bench-20000-{run}": 19_999}
            for session_id, total in long_sessions.items():
                send_long_session(served.otlp_http, session_id, total + 1)
            served.wait_built(f"session-bench-%-{run}", long_sessions, timeout=600)
            waited = served.wait_analyzed(f"session-bench-%-{run}", len(long_sessions))
            print(f"waited {waited:.0f} s for the analyzer to be idle", flush=True)
            with chromium_page() as page:
                # Two warm loads: the browser compiles Plotly's script from its code cache only from the
                # third load of a page on, so the first warm load still pays for that.
                for label in ("cold", "warm", "warm again"):
                    seconds = timed(page, lambda: page.goto(served.ui), SESSIONS_CAPTION)
                    print(f"sessions page ({label}): {seconds:.2f} s until the table shows", flush=True)
                for session_id, total in long_sessions.items():
                    middle = total // 2
                    url = f"{served.ui}/replay?session={session_id}&step={middle}"

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


if __name__ == "__main__":
    main()
