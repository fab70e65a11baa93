"""Replay benchmark: "next" on the sessions that used to break the replay, from the click to the new step.

It starts `stepseven serve` with its dashboard on a DuckDB file (a throwaway one, or --db for a store
you filled first, for example with the ingest benchmark), adds a 20,000-step session and a
1,000-handoff session built with the OpenTelemetry SDK (tests/big_sessions.py), opens each in the
middle in Debian's Chromium (Playwright) and clicks "next ▶" --clicks times. For every click it times:

- card: until the new step's heading and its own content (the prompt of an LLM call, the result of a
  tool call) show: what the user waits for;
- page: until the step tree marks the new step and Streamlit has finished the run (the whole page
  drawn again, when the step left the tree's window or the waterfall's chunk).

It prints p50 / p95 / max of both for each session.

    python benchmarks/replay_next.py
    python benchmarks/replay_next.py --db /tmp/big.duckdb --clicks 60
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/big_sessions.py builds the sessions
from benchmarks.served import chromium_page, serve
from tests.big_sessions import send_handoff_session, send_long_session

CRIMSON = "rgb(220, 20, 60)"  # the step tree's mark of the current step (dashboard/timeline.CURRENT)


def long_content(step: int) -> str | None:
    """What step ``step`` of send_long_session shows as its own: the prompt or the tool result."""
    if step < 2:
        return None
    item = (step - 2) // 2
    return f"Continue with item {item} of the backlog." if step % 2 == 0 else f"item {item}: ok"


def handoff_content(step: int) -> str | None:
    """What step ``step`` of send_handoff_session shows: the prompt of each agent's model call."""
    if step < 2 or (step - 2) % 3 != 1:
        return None  # the agent's run and its handoff span have no content of their own
    return f"turn {(step - 2) // 3}: "


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def click_next(page: Page, step: int, total: int, content: str | None) -> tuple[float, float]:
    """Seconds from the click on "next" to the card of ``step + 1``, and to the finished page."""
    started = time.perf_counter()
    page.get_by_role("button", name="next ▶").click()
    page.get_by_text(f"Step {step + 1} of {total}").first.wait_for(timeout=120_000)
    if content is not None:
        page.get_by_text(content).first.wait_for(timeout=120_000)
    card = time.perf_counter() - started
    expect(page.locator(f".st-key-tree-{step + 1} button")).to_have_css("background-color", CRIMSON, timeout=120_000)
    page.locator('[data-test-script-state="notRunning"]').wait_for(timeout=120_000)
    return card, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="an existing store to serve (default: a throwaway one)")
    parser.add_argument("--clicks", type=int, default=40, help="clicks on next per session (default 40)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stepseven-replay-bench-") as tmp:
        db = args.db or Path(tmp) / "bench.duckdb"
        with serve(db) as served:
            spans = served.sql("SELECT count(*) FROM spans")[0][0]
            print(f"store: {db} ({spans:,} spans before the two sessions)", flush=True)
            run = f"{int(time.time())}"  # fresh session ids, so a store can be benchmarked more than once
            sessions = {
                f"session-steps-20000-{run}": (19_999, long_content),
                f"session-handoffs-1000-{run}": (3003, handoff_content),
            }
            started = time.monotonic()
            send_long_session(served.otlp_http, f"session-steps-20000-{run}", 20_000)
            send_handoff_session(served.otlp_http, f"session-handoffs-1000-{run}", 1000)
            served.wait_built(f"session-%-{run}", {s: total for s, (total, _) in sessions.items()})
            print(f"sent and built in {time.monotonic() - started:.0f} s", flush=True)
            waited = served.wait_analyzed(f"session-%-{run}", len(sessions))
            print(f"waited {waited:.0f} s for the analyzer to be idle", flush=True)
            with chromium_page() as page:
                for session_id, (total, content) in sessions.items():
                    middle = total // 2
                    opened = time.perf_counter()
                    page.goto(f"{served.ui}/replay?session={session_id}&step={middle}")
                    page.get_by_text(f"Step {middle} of {total}").first.wait_for(timeout=300_000)
                    expect(page.locator(f".st-key-tree-{middle} button")).to_have_css(
                        "background-color", CRIMSON, timeout=300_000
                    )
                    page.locator('[data-test-script-state="notRunning"]').wait_for(timeout=300_000)
                    print(f"{session_id}: first open at step {middle}: {time.perf_counter() - opened:.2f} s")
                    cards: list[float] = []
                    pages: list[float] = []
                    for k in range(args.clicks):
                        card, whole = click_next(page, middle + k, total, content(middle + k + 1))
                        cards.append(card)
                        pages.append(whole)
                    for label, values in (("card", cards), ("page", pages)):
                        print(
                            f"  next, until the {label}: p50 {statistics.median(values) * 1000:.0f} ms, "
                            f"p95 {percentile(values, 0.95) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms "
                            f"({len(values)} clicks)",
                            flush=True,
                        )


if __name__ == "__main__":
    main()
