"""Stories of finding one's way through a session in the replay, in Debian's Chromium (Playwright) against
`stepseven serve`'s own dashboard: the step tree, handoff links both ways, the waterfall's bars, the
keys, find-in-session, comparing two LLM calls, and sessions with 1,000 handoffs and 20,000 steps.

The first tests are about the pieces that need no browser (the tree, the grouped agent graph, labels).
Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from dashboard.compare import diff, visible
from dashboard.step_tree import build_tree, still_shows, window
from dashboard.structure import plain_label
from dashboard.timeline import agent_graph
from tests.big_sessions import send_handoff_session, send_long_session
from tests.conftest import RunningCollector
from tests.test_sessions import SAMPLES, send

ARTIFACTS = Path(__file__).parent / "artifacts"
HANDOFFS = "session-handoffs-1000"
CRIMSON = "rgb(220, 20, 60)"  # how the replay marks the current step in the tree and the waterfall
LONG = "session-steps-20000"
expect.set_options(timeout=30_000)  # a page draws its card first, then the tree and the charts


# -- without a browser -------------------------------------------------------------------------------


def _outline(rows: Sequence[tuple[int, int | None, str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"step_index": i, "parent_step_index": p, "step_kind": k, "name": n, "agent_name": a, "tool_name": None,
             "status": "ok"}
            for i, p, k, n, a in rows
        ]
    )  # fmt: skip


# The handoff of the two trees below: triage hands off to billing at step 4; billing's run starts at 5.
TRIAGE_TO_BILLING_AT_4 = pd.DataFrame(
    [{"from_agent": "triage", "to_agent": "billing", "outcome": "completed", "delegating_step_index": 4,
      "target_step_index": 5}]
)  # fmt: skip


def test_a_sub_agent_run_hangs_under_the_handoff_that_started_it() -> None:
    # OpenAI Agents records both agents' runs side by side under the workflow; the handoff is inside the first.
    outline = _outline(
        [(1, None, "workflow", "Agent workflow", None), (2, 1, "agent", "triage", "triage"),
         (3, 2, "llm", "chat", "triage"), (4, 2, "handoff", "handoff to billing", "triage"),
         (5, 1, "agent", "billing", "billing"), (6, 5, "llm", "chat", "billing")]
    )  # fmt: skip
    tree = build_tree(outline, TRIAGE_TO_BILLING_AT_4)
    assert tree.parent[5] == 4 and tree.order == [1, 2, 3, 4, 5, 6]
    assert [tree.level[i] for i in tree.order] == [0, 1, 2, 2, 3, 4]
    assert tree.hands_off_to[4][0].step_index == 5 and tree.called_by[5].step_index == 4
    rows, before, after = window(tree, 6, before=12)
    assert [r.step_index for r in rows if r.current] == [6] and before == after == 0


def test_a_window_of_the_tree_serves_the_steps_it_shows_until_their_path_changes() -> None:
    # triage runs steps 2-3 and hands off at 4; billing's run (5) is nested under it with 40 steps.
    outline = _outline(
        [(1, None, "agent", "triage", "triage"), (2, 1, "llm", "chat", "triage"), (3, 1, "tool", "search", "triage"),
         (4, 1, "handoff", "handoff to billing", "triage"), (5, None, "agent", "billing", "billing")]
        + [(i, 5, "llm", "chat", "billing") for i in range(6, 46)]
    )  # fmt: skip
    tree = build_tree(outline, TRIAGE_TO_BILLING_AT_4)
    drawn, _, after = window(tree, 10)
    shown = [r.step_index for r in drawn if not r.ancestor]
    assert shown == list(range(6, 21)) and after == 25
    # Its ancestors out of view (triage's run, the handoff, billing's run) are drawn above it.
    assert [r.step_index for r in drawn if r.ancestor] == [1, 4, 5]
    assert all(still_shows(drawn, tree, step) for step in range(6, 21))
    assert not still_shows(drawn, tree, 21)  # past the window
    assert not still_shows(drawn, tree, 5)  # in view only as an ancestor: its own window has no path


def test_a_thousand_handoffs_make_one_edge_per_pair_of_agents() -> None:
    agents = ["triage", "billing", "refunds"]
    handoffs = pd.DataFrame(
        [{"from_agent": agents[k % 3], "to_agent": agents[(k + 1) % 3], "outcome": "completed" if k % 100 else "failed",
          "delegating_step_index": 2 * k + 1, "target_step_index": 2 * k + 2} for k in range(1000)]
    )  # fmt: skip
    figure, left_out = agent_graph(handoffs)
    assert figure is not None and left_out == 0
    spec = figure.to_dict()
    labels = [t for trace in spec["data"] if trace.get("mode") == "markers+text" for t in trace.get("text", [])]
    assert sorted(t for t in labels if t.isdigit()) == ["333", "333", "334"]  # one count per pair
    assert not spec["layout"].get("annotations")  # no annotation per handoff: that is what never drew


def test_names_from_traces_stay_literal_in_button_labels_and_diffs() -> None:
    assert plain_label("![x](http://h/p.png) :red[hi] <b>") == r"\!\[x\]\(http\://h/p\.png\) \:red\[hi\] \<b\>"
    assert visible("gnp\u202e.exe") == "gnp<U+202E>.exe"
    older: dict[str, Any] = {
        "step_index": 2,
        "input_messages": [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}],
    }
    newer = {
        "step_index": 4,
        "input_messages": [
            *older["input_messages"],
            {"role": "assistant", "parts": [{"type": "text", "content": "yo"}]},
        ],
    }
    text, added, removed, _ = diff(older, newer)
    assert (added, removed) == (2, 0) and "+[message 2: assistant]" in text


# -- in Chromium -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCollector]:
    folder = tmp_path_factory.mktemp("structure")
    collector = RunningCollector(folder / "s.duckdb", "--analyze-after", "0.3", ui=True)
    send(collector, SAMPLES / "pydantic_ai_usage_limit.json", SAMPLES / "ok_openai_agents_handoff_back_once.json")
    send_handoff_session(collector.http_url, HANDOFFS, 1000)
    collector.settle(60, analyzed=True)
    collector.wait_for_dashboard()
    yield collector
    collector.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    opened = context.new_page()
    yield opened
    context.close()


def _open(page: Page, served: RunningCollector, session: str, step: int, total: int) -> None:
    page.goto(f"{served.ui_url}/replay?session={session}&step={step}")
    _at(page, step, total)


def _keys_ready(page: Page) -> None:
    # The replay's key listener comes with the navigator; the card can draw a moment before it runs.
    page.wait_for_function("window.__stepsevenKeysOn === true", timeout=30_000)
    page.locator('[data-test-script-state="notRunning"]').wait_for(timeout=30_000)


def _at(page: Page, step: int, total: int) -> None:
    expect(page.get_by_text(f"Step {step} of {total}", exact=False).first).to_be_visible(timeout=30_000)


def _shot(page: Page, name: str, showing: str | None = None) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator('[data-test-script-state="notRunning"]').wait_for(timeout=30_000)  # the charts draw last
    if showing:  # the page scrolls inside Streamlit's main block: bring that part into view
        page.get_by_text(showing).first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_a_user_follows_a_handoff_to_the_sub_agent_and_back_and_walks_the_tree(
    served: RunningCollector, page: Page
) -> None:
    _open(page, served, "session-handback-001", 4, 9)  # the triage agent hands off to billing
    expect(page.locator(".st-key-tree-4 button")).to_contain_text("#4 handoff to billing_agent → #5")
    _shot(page, "replay-structure.png", showing="Timeline")
    page.get_by_role("button", name="→ billing_agent: first step, 5").click()
    _at(page, 5, 9)
    assert "step=5" in page.url
    page.get_by_role("button", name="← caller: triage_agent, step 4").click()
    _at(page, 4, 9)
    # In the tree, billing's run hangs under the handoff; its handoff back leads to triage's second run.
    page.locator(".st-key-tree-8 button").click()
    _at(page, 8, 9)
    expect(page.locator(".st-key-tree-8 button")).to_have_css("background-color", CRIMSON)
    assert _background(page.locator(".st-key-tree-4 button")) != CRIMSON


def _background(element: Locator) -> str:
    return str(element.evaluate("e => getComputedStyle(e).backgroundColor"))


def test_next_moves_the_trees_mark_and_the_tree_and_timeline_follow_out_of_their_window(
    served: RunningCollector, page: Page
) -> None:
    # "next" redraws only the step view; the tree keeps the window it was drawn with (a few steps before
    # the current one, ten after) and the waterfall its chunk of 30 steps, until the step leaves them.
    _open(page, served, HANDOFFS, 115, 3003)
    expect(page.locator(".st-key-tree-115 button")).to_have_css("background-color", CRIMSON, timeout=30_000)
    for step in range(116, 132):
        page.get_by_role("button", name="next ▶").click()
        _at(page, step, 3003)
        row = page.locator(f".st-key-tree-{step} button")
        expect(row).to_have_css("background-color", CRIMSON, timeout=30_000)
        assert _background(page.locator(f".st-key-tree-{step - 1} button")) != CRIMSON
        label = page.locator(f'.stPlotlyChart text[data-unformatted="#{step}"]')
        expect(label).to_have_count(1, timeout=30_000)  # step 121 on: the next chunk's chart
        expect(label).to_have_css("fill", CRIMSON)
    expect(page.locator(".st-key-tree-115 button")).to_have_count(0)  # the tree moved on with the step


def _fill(element: Locator) -> str:
    return str(element.evaluate("e => getComputedStyle(e).fill"))


def test_a_bar_of_the_waterfall_opens_its_step(served: RunningCollector, page: Page) -> None:
    _open(page, served, "session-handback-001", 2, 9)
    bars = page.locator(".stPlotlyChart .bars .point path")
    expect(bars).to_have_count(9, timeout=30_000)
    bars.nth(5).click(force=True)  # the sixth row: step 6
    _at(page, 6, 9)
    assert "step=6" in page.url
    # A second pick works too (the first one's selection is not kept to swallow it).
    page.locator('[data-test-script-state="notRunning"]').wait_for(timeout=30_000)
    bars.nth(2).click(force=True)
    _at(page, 3, 9)


def test_the_waterfall_marks_the_current_step_and_next_moves_the_mark(served: RunningCollector, page: Page) -> None:
    _open(page, served, "session-handback-001", 4, 9)
    bars = page.locator(".stPlotlyChart .bars .point path")
    expect(bars).to_have_count(9, timeout=30_000)
    page.locator('[data-test-script-state="notRunning"]').wait_for(timeout=30_000)
    assert [_fill(bars.nth(k)) == CRIMSON for k in range(9)] == [k == 3 for k in range(9)]
    assert _fill(page.locator('.stPlotlyChart text[data-unformatted="#4"]')) == CRIMSON
    assert _fill(page.locator('.stPlotlyChart text[data-unformatted="#5"]')) != CRIMSON
    page.get_by_role("button", name="next ▶").click()
    _at(page, 5, 9)
    page.locator('[data-test-script-state="notRunning"]').wait_for(timeout=30_000)
    expect(bars.nth(4)).to_have_css("fill", CRIMSON)
    assert [_fill(bars.nth(k)) == CRIMSON for k in range(9)] == [k == 4 for k in range(9)]
    assert _fill(page.locator('.stPlotlyChart text[data-unformatted="#5"]')) == CRIMSON


def test_keys_move_between_steps_findings_and_errors(served: RunningCollector, page: Page) -> None:
    _open(page, served, "session-loop-001", 1, 9)
    _keys_ready(page)
    for key, step in (("j", 2), ("j", 3), ("k", 2), ("ArrowRight", 3), ("ArrowLeft", 2)):
        page.keyboard.press(key)
        _at(page, step, 9)
    # n: the next step that is evidence of a finding (the repeated searches of the runaway loop).
    page.keyboard.press("n")
    _at(page, 3, 9)
    # Typing in the search box is typing, not navigating.
    page.get_by_label("Find in this session").fill("jk")
    page.wait_for_timeout(500)
    _at(page, 3, 9)
    first_error = served.sql(
        "SELECT min(step_index) AS i FROM steps WHERE session_id = $1 AND status = 'error'", [HANDOFFS]
    )[0]["i"]
    _open(page, served, HANDOFFS, 1, 3003)
    _keys_ready(page)
    page.keyboard.press("e")
    _at(page, first_error, 3003)


def test_find_jumps_from_match_to_match(served: RunningCollector, page: Page) -> None:
    matches = [
        r["step_index"]
        for r in served.sql(
            "SELECT step_index FROM steps WHERE session_id = $1 AND (strpos(lower(name), 'billing') > 0 "
            "OR strpos(lower(agent_name), 'billing') > 0 OR strpos(lower(CAST(input_messages AS VARCHAR)), "
            "'billing') > 0 OR strpos(lower(CAST(output_messages AS VARCHAR)), 'billing') > 0) ORDER BY 1",
            ["session-handback-001"],
        )
    ]
    assert len(matches) >= 3
    _open(page, served, "session-handback-001", 1, 9)
    box = page.get_by_label("Find in this session")
    box.fill("BILLING")
    box.press("Enter")
    _at(page, matches[0], 9)
    expect(page.get_by_text(f"match 1 of {len(matches)}")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="match ▶").click()
    _at(page, matches[1], 9)
    expect(page.get_by_text(f"match 2 of {len(matches)}")).to_be_visible(timeout=30_000)


def test_compare_shows_what_changed_in_the_input_between_two_llm_calls(served: RunningCollector, page: Page) -> None:
    _open(page, served, "session-loop-001", 4, 9)
    page.get_by_text("Compare with another step").click()
    # The same agent's previous LLM call, step 2, is the default; step 4's input adds the tool round trip.
    expect(page.get_by_text("input of step 2 → input of step 4")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("--- step 2").first).to_be_visible()
    expect(page.get_by_text("→ tool call search_flights").first).to_be_visible()
    _shot(page, "replay-compare.png")


def test_a_thousand_handoffs_and_twenty_thousand_steps_replay(served: RunningCollector, page: Page) -> None:
    _open(page, served, HANDOFFS, 1500, 3003)
    expect(page.get_by_text("1,000 handoff(s), one edge per pair of agents")).to_be_visible(timeout=30_000)
    _shot(page, "replay-1000-handoffs.png", showing="1,000 handoff(s), one edge per pair of agents")
    page.get_by_role("button", name="next ▶").click()
    _at(page, 1501, 3003)
    send_long_session(served.http_url, LONG, 20_000)
    served.settle(120)
    _open(page, served, LONG, 10_001, 19_999)
    page.get_by_role("button", name="next ▶").click()
    _at(page, 10_002, 19_999)
    expect(page.get_by_text("Continue with item 5000 of the backlog.").first).to_be_visible(timeout=30_000)
    _shot(page, "replay-20000-steps.png")


def test_a_session_that_grows_while_it_is_replayed_is_drawn_whole_again_at_the_next_click(
    served: RunningCollector, page: Page
) -> None:
    growing = "session-growing"
    send_long_session(served.http_url, growing, 21)
    served.settle(60)
    _open(page, served, growing, 1, 21)
    send_long_session(served.http_url, growing, 21)  # the agent runs again in the same conversation
    served.settle(60)
    assert served.sql("SELECT step_count FROM sessions WHERE session_id = $1", [growing])[0]["step_count"] == 42
    # The replay re-reads the session's summary when it is older than 2 s: within a few clicks, the step
    # view sees the new version and the whole page is drawn again, the figures above the card included.
    for _ in range(20):
        page.get_by_role("button", name="next ▶").click()
        page.locator('[data-test-script-state="notRunning"]').wait_for(timeout=30_000)
        if page.get_by_text(" of 42 ·").count():
            break
        page.wait_for_timeout(500)
    expect(page.get_by_text(" of 42 ·").first).to_be_visible()
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="steps").first).to_contain_text("42")


def _dashboard_process(served: RunningCollector) -> psutil.Process:
    assert served.proc is not None
    for child in psutil.Process(served.proc.pid).children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            if "stepseven.ui" in " ".join(child.cmdline()):
                return child
    raise AssertionError("the collector has no dashboard process")


def test_a_closed_replay_of_a_thousand_handoffs_leaves_nothing_running(
    served: RunningCollector, browser: Browser
) -> None:
    # The agent graph once left a thread drawing per click: 19 of them kept a core busy with no browser open.
    dashboard = _dashboard_process(served)
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    _open(page, served, HANDOFFS, 1500, 3003)
    for step in range(1501, 1507):
        page.get_by_role("button", name="next ▶").click()
        _at(page, step, 3003)
    page.locator('[data-test-script-state="notRunning"]').wait_for(timeout=30_000)
    context.close()
    time.sleep(2)  # the tab's session is let go once its connection closes
    before = sum(dashboard.cpu_times()[:2])
    time.sleep(3)
    idle = sum(dashboard.cpu_times()[:2]) - before
    assert idle < 0.3, f"the dashboard used {idle:.2f} s of CPU in 3 s with no page open"
