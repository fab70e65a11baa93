"""What a run cost, and the long tables: a developer with five hundred and twenty runs of an agent pages through the
sessions (status, errors, findings and cost first), opens one in place, pages through the findings, picks a
SQL example and sees its answer, and reads the Overview's charts at the scale of the data.

The price table is checked on its own (prefix matching, the user's file), on both stores (cost_usd in
llm_calls, steps and sessions), and in Chromium. Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from collector.pricing import DEFAULT_PRICES, Price, PriceFileError, PriceTable, load_prices
from dashboard.buckets import bucket_for
from dashboard.cost import cost_label, dollars
from store import schema
from tests.conftest import RunningCollector, store_args
from tests.test_sessions import SAMPLES, send

ARTIFACTS = Path(__file__).parent / "artifacts"
TEMPLATE = SAMPLES / "pydantic_ai_usage_limit.json"  # one session that loops: a runaway_loop finding each
MINUTE = 60 * 10**9
SESSIONS = 520

# gpt-4o-mini: $0.15 in, $0.60 out per million tokens.
MINI = Price(input=0.15, output=0.6, cached_input=0.075)


# -- the price table ------------------------------------------------------------------------------


def test_a_model_is_priced_by_its_longest_prefix_the_response_model_first() -> None:
    assert DEFAULT_PRICES.match("gpt-4o-mini-2024-07-18") == DEFAULT_PRICES.prices["gpt-4o-mini"]
    assert DEFAULT_PRICES.match("gpt-4o-2024-08-06") == DEFAULT_PRICES.prices["gpt-4o"]
    assert DEFAULT_PRICES.match("GPT-4o-2024-05-13") == DEFAULT_PRICES.prices["gpt-4o-2024-05-13"]
    assert DEFAULT_PRICES.match("openai/gpt-4.1-mini") == DEFAULT_PRICES.prices["gpt-4.1-mini"]
    # The response names the model that answered; the request is the fallback when it names none we know.
    assert DEFAULT_PRICES.price("gpt-4o-2024-08-06", "gpt-4o-mini") == DEFAULT_PRICES.prices["gpt-4o"]
    assert DEFAULT_PRICES.price("my-deployment-7", "claude-sonnet-4-5") == DEFAULT_PRICES.prices["claude-sonnet-4"]


def test_an_unknown_model_or_no_usage_has_no_cost_not_zero() -> None:
    assert DEFAULT_PRICES.cost("fake-travel-model", None, 1000, 100) is None
    assert DEFAULT_PRICES.cost(None, None, 1000, 100) is None
    assert DEFAULT_PRICES.cost("gpt-4o", None, None, None) is None
    assert DEFAULT_PRICES.cost("gpt-4o", None, 0, 0) == 0.0


def test_cached_input_is_priced_at_the_cached_price() -> None:
    table = PriceTable({"gpt-4o-mini": MINI, "plain": Price(input=1.0, output=2.0)})
    # 1,000 input of which 400 from the cache, 200 output.
    cached = (600 * 0.15 + 400 * 0.075 + 200 * 0.6) / 1e6
    assert table.cost("gpt-4o-mini", None, 1000, 200, 400) == pytest.approx(cached)
    # No cached price: cached input costs what input costs.
    assert table.cost("plain", None, 1000, 0, 400) == pytest.approx(1000 / 1e6)
    # An instrumentation that counts cached input apart from input (more cached than input).
    assert table.cost("gpt-4o-mini", None, 100, 0, 5000) == pytest.approx((100 * 0.15 + 5000 * 0.075) / 1e6)


def test_the_price_table_ships_with_the_package_and_a_user_file_adds_and_replaces_rows(tmp_path: Path) -> None:
    assert importlib.resources.files("collector").joinpath("prices.toml").is_file()
    mine = tmp_path / "prices.toml"
    mine.write_text('[prices."fake-travel"]\ninput = 1\noutput = 2\n\n[prices."GPT-4o"]\ninput = 0\noutput = 0\n')
    table = load_prices(mine)
    assert table.cost("fake-travel-model", None, 1_000_000, 500_000) == pytest.approx(2.0)
    assert table.cost("gpt-4o-2024-08-06", None, 1000, 1000) == 0.0
    assert table.prices["gpt-4o-mini"] == DEFAULT_PRICES.prices["gpt-4o-mini"]  # the rest as shipped
    bad = tmp_path / "bad.toml"
    bad.write_text('[prices."x"]\ninput = -1\noutput = 2\n')
    with pytest.raises(PriceFileError, match="0 or more"):
        load_prices(bad)
    bad.write_text('[prices."x"]\ninput = 1\noutpt = 2\n')
    with pytest.raises(PriceFileError, match="outpt"):
        load_prices(bad)


def test_dollars_say_when_a_price_is_missing() -> None:
    assert dollars(0.000027) == "$0.000027"
    assert dollars(0.01234) == "$0.0123"
    assert dollars(12345.678) == "$12,345.68"
    assert dollars(None) == dollars(float("nan")) == ""
    assert cost_label(None, 3) == "no price (3 calls)"
    assert cost_label(0.5, 1) == "$0.5000 + 1 call unpriced"
    assert cost_label(None, 0) == ""


def test_the_overview_bucket_fits_the_span_of_the_data() -> None:
    hour = 3600 * 10**9
    assert bucket_for(0, 0).name == "minute"
    assert bucket_for(0, 90 * MINUTE).name == "minute"
    assert bucket_for(0, 5 * hour).name == "5 minutes"
    assert bucket_for(0, 4 * 24 * hour).name == "hour"
    assert bucket_for(0, 365 * 24 * hour).name == "week"


# -- the data: SESSIONS runs of one agent that loops, half on a priced model ---------------------------


def _later(shift: int, match: re.Match[str]) -> str:
    return f'"{match[1]}TimeUnixNano": "{int(match[2]) + shift}"'


def runs(folder: Path, count: int = SESSIONS) -> Path:
    """``count`` copies of the looping session, a minute apart, each its own session and trace; even ones
    on gpt-4o-mini (priced), odd ones on a model the price table does not know."""
    template = TEMPLATE.read_text()
    traces = sorted(set(re.findall(r'"traceId": "([0-9a-f]{32})"', template)))
    resource_spans = []
    for i in range(count):
        shift = i * MINUTE
        text = template.replace("session-loop-001", f"session-loop-{i:03d}")
        if i % 2 == 0:
            text = text.replace("fake-travel-model", "gpt-4o-mini")
        for trace in traces:
            text = text.replace(trace, hashlib.sha256(f"{trace}{i}".encode()).hexdigest()[:32])
        text = re.sub(r'"(start|end)TimeUnixNano": "(\d+)"', functools.partial(_later, shift), text)
        resource_spans += json.loads(text)["resourceSpans"]
    path = folder / "runs.json"
    path.write_text(json.dumps({"resourceSpans": resource_spans}))
    return path


def expected_cost(collector: RunningCollector, session_id: str) -> float:
    calls = collector.sql("SELECT input_tokens, output_tokens FROM llm_calls WHERE session_id = $1", [session_id])
    return float(sum((c["input_tokens"] * 0.15 + c["output_tokens"] * 0.6) / 1e6 for c in calls))


def costs_are_stored(collector: RunningCollector) -> None:
    """Run 0 (gpt-4o-mini) costs what its calls do, in llm_calls, steps and sessions; run 1 (a model with no
    price) has no cost, and says how many calls that leaves out."""
    priced, unpriced = (
        collector.sql("SELECT * FROM sessions WHERE session_id = $1", [f"session-loop-00{i}"])[0] for i in (0, 1)
    )
    assert priced["cost_usd"] == pytest.approx(expected_cost(collector, "session-loop-000"))
    assert priced["cost_usd"] > 0 and priced["unpriced_calls"] == 0
    assert unpriced["cost_usd"] is None
    assert unpriced["unpriced_calls"] == unpriced["llm_calls"] > 0
    calls = collector.sql("SELECT model, cost_usd FROM llm_calls WHERE session_id = $1", [priced["session_id"]])
    assert {c["model"] for c in calls} == {"gpt-4o-mini"} and all(c["cost_usd"] > 0 for c in calls)
    steps = collector.sql(
        "SELECT step_kind, sum(cost_usd) AS cost FROM steps WHERE session_id = $1 GROUP BY 1 ORDER BY 1",
        [priced["session_id"]],
    )
    # The calls carry the cost; the agent and tool steps do not count it again.
    assert {s["step_kind"]: s["cost"] for s in steps}["llm"] == pytest.approx(priced["cost_usd"])
    assert all(s["cost"] is None for s in steps if s["step_kind"] != "llm")


def test_each_llm_call_step_and_session_carries_its_cost_on_postgresql(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    collector = RunningCollector(tmp_path / "c.duckdb", *store_args("postgresql", request))
    try:
        send(collector, runs(tmp_path, 2))
        collector.settle()
        costs_are_stored(collector)
    finally:
        collector.stop()


def test_each_llm_call_step_and_session_carries_its_cost_on_duckdb(served: RunningCollector) -> None:
    costs_are_stored(served)


def test_a_store_from_before_cost_is_migrated_and_its_sessions_priced_with_the_users_prices(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    collector = RunningCollector(db)
    try:
        send(collector, runs(tmp_path, 2))
        collector.settle()
    finally:
        collector.stop()
    # Schema 9: the columns were not there yet.
    subprocess.run(
        [sys.executable, "-c", f"""
import duckdb
con = duckdb.connect({str(db)!r})
for view in ("llm_calls", "steps", "sessions"):
    con.execute(f"DROP VIEW {{view}}")
con.execute("ALTER TABLE derived_steps DROP COLUMN cost_usd")
con.execute("ALTER TABLE derived_sessions DROP COLUMN cost_usd")
con.execute("ALTER TABLE derived_sessions DROP COLUMN unpriced_calls")
con.execute("ALTER TABLE derived_steps DROP COLUMN session_updated_time_unix_nano")
con.execute("UPDATE stepseven_schema SET version = 9 WHERE version = {schema.SCHEMA_VERSION}")
con.close()
"""],
        check=True,
    )  # fmt: skip
    # Started again with a price file of the user's that prices the made-up model as well.
    mine = tmp_path / "prices.toml"
    mine.write_text('[prices."fake-travel"]\ninput = 1\noutput = 2\n')
    collector = RunningCollector(db, "--prices", str(mine))
    try:
        deadline = time.monotonic() + 60
        priced = "SELECT session_id, cost_usd FROM sessions ORDER BY session_id"
        while any(s["cost_usd"] is None for s in collector.sql(priced)):
            assert time.monotonic() < deadline, "the migrated sessions were not priced"
            time.sleep(0.3)
        assert collector.sql("SELECT max(version) AS v FROM stepseven_schema")[0]["v"] == schema.SCHEMA_VERSION
        costs = {s["session_id"]: s["cost_usd"] for s in collector.sql(priced)}
        assert costs["session-loop-000"] == pytest.approx(expected_cost(collector, "session-loop-000"))
        calls = collector.sql("SELECT input_tokens, output_tokens FROM llm_calls WHERE session_id = 'session-loop-001'")
        mine_cost = sum(c["input_tokens"] * 1 + c["output_tokens"] * 2 for c in calls) / 1e6
        assert costs["session-loop-001"] == pytest.approx(mine_cost)
    finally:
        collector.stop()


# -- in Chromium ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCollector]:
    folder = tmp_path_factory.mktemp("pages")
    collector = RunningCollector(folder / "p.duckdb", "--analyze-after", "0.3", ui=True)
    send(collector, runs(folder))
    collector.settle(analyzed=True)
    collector.wait_for_dashboard()
    yield collector
    collector.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def grid(page: Page, role: str) -> list[str]:
    """The texts of the data grid's headers or cells in view. The grid draws on a canvas; Streamlit keeps an
    accessible copy of the part in view (the columns that fit, the rows shown) for screen readers."""
    texts = page.locator(f"[data-testid='stDataFrame'] [role='{role}']").all_inner_texts()
    return [t.strip() for t in texts if t.strip()]


def click_row(page: Page, row: int) -> None:
    """A click on a cell of the ``row``-th row in view (rows are 35 pixels, under a 35-pixel header)."""
    box = page.locator("[data-testid='stDataFrame']").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 400, box["y"] + 35 + 35 * row + 17)


DASH = "\u2013"  # the en dash of the pages' captions, "1 (dash) 100 of 520"


def test_sessions_show_status_errors_findings_and_cost_first_page_past_500_and_open_in_place(
    served: RunningCollector, page: Page
) -> None:
    page.goto(served.ui_url)
    expect(page.get_by_text(f"1{DASH}100 of {SESSIONS} sessions")).to_be_visible(timeout=30_000)
    # The first columns, in this order, all in view in a 1440-pixel window.
    expect(page.locator("[data-testid='stDataFrame'] [role='columnheader']").first).to_be_attached(timeout=30_000)
    assert grid(page, "columnheader")[:5] == ["status", "errors", "findings", "cost", "session"]
    # The newest run has a model with no price, and says so; the one before (gpt-4o-mini) costs what its calls do.
    cells = grid(page, "gridcell")
    assert any(re.fullmatch(r"no price \(\d+ calls\)", c) for c in cells)
    assert dollars(expected_cost(served, f"session-loop-{SESSIONS - 2:03d}")) in cells
    page.wait_for_timeout(800)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sessions-paged.png"))
    # Past the 500 the table used to stop at: the last page, with the oldest runs.
    page.get_by_role("button", name="Last »").click()
    expect(page.get_by_text(f"501{DASH}{SESSIONS} of {SESSIONS} sessions")).to_be_visible(timeout=30_000)
    oldest_on_view = f"session-loop-{SESSIONS - 501:03d}"  # the grid's accessible copy has the rows in view
    expect(page.locator("[data-testid='stDataFrame'] [role='gridcell']", has_text=oldest_on_view)).to_have_count(1)
    # A click on a row opens its replay in this tab: the second row, a run on gpt-4o-mini.
    opened = f"session-loop-{SESSIONS - 502:03d}"
    page.wait_for_timeout(500)
    click_row(page, 1)
    page.wait_for_url(re.compile(f"/replay\\?session={opened}"), timeout=30_000)
    assert len(page.context.pages) == 1
    cost = dollars(expected_cost(served, opened))
    expect(page.get_by_test_id("stMetric").filter(has_text="cost")).to_contain_text(cost, timeout=30_000)
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / "sessions-opened-in-place.png"))
    # The card of one of its LLM calls ends its header with what that call cost.
    call = served.sql(
        "SELECT step_index, cost_usd FROM llm_calls WHERE session_id = $1 ORDER BY step_index LIMIT 1", [opened]
    )[0]
    page.goto(f"{served.ui_url}/replay?session={opened}&step={call['step_index']}")
    header = f"Step {call['step_index']} of"
    expect(page.get_by_role("heading", name=header)).to_contain_text(
        f"llm · {dollars(call['cost_usd'])}", timeout=30_000
    )
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / "step-card-cost.png"))


def test_findings_are_paged_past_1000_with_their_total(served: RunningCollector, page: Page) -> None:
    total = served.sql("SELECT count(*) AS n FROM findings WHERE severity <> 'note'")[0]["n"]
    assert total > 1000
    page.goto(f"{served.ui_url}/findings")
    expect(page.get_by_text(f"1{DASH}100 of {total:,} findings")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Last »").click()
    last_first = (total - 1) // 100 * 100 + 1
    expect(page.get_by_text(f"{last_first:,}{DASH}{total:,} of {total:,} findings")).to_be_visible(timeout=30_000)
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / "findings-paged.png"))
    # A click on a finding opens the replay of its session at its evidence, in this tab.
    session = next(c for c in grid(page, "gridcell") if re.fullmatch(r"session-loop-\d{3}", c))
    evidence = served.sql("SELECT step_indexes FROM findings WHERE session_id = $1", [session])
    steps = [
        e["step_indexes"] if isinstance(e["step_indexes"], list) else json.loads(e["step_indexes"]) for e in evidence
    ]
    firsts = "|".join(str(s[0]) for s in steps)
    click_row(page, 0)
    page.wait_for_url(re.compile(f"/replay\\?session={session}&step=({firsts})$"), timeout=30_000)
    assert len(page.context.pages) == 1


def test_a_picked_sql_example_runs_at_once(served: RunningCollector, page: Page) -> None:
    page.goto(f"{served.ui_url}/sql")
    expect(page.locator("[data-testid='stDataFrame']")).to_be_visible(timeout=30_000)
    page.get_by_role("combobox", name="Examples").click()
    page.get_by_role("option", name="Cost per model").click()
    # The new query's answer, not the old one's: the cost of each model, and the priced one first.
    expect(page.locator("textarea")).to_have_value(re.compile("sum\\(cost_usd\\)"), timeout=30_000)
    expect(page.get_by_text("2 rows")).to_be_visible(timeout=30_000)
    expect(page.locator("[data-testid='stDataFrame'] [role='gridcell']", has_text="gpt-4o-mini")).to_have_count(
        1, timeout=30_000
    )
    models = [c for c in grid(page, "gridcell") if c in ("gpt-4o-mini", "fake-travel-model")]
    assert models == ["gpt-4o-mini", "fake-travel-model"]
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / "sql-example-picked.png"))


def test_the_overview_shows_the_cost_and_bars_at_the_scale_of_the_data(served: RunningCollector, page: Page) -> None:
    span = served.sql("SELECT min(first_time_unix_nano) AS first, max(first_time_unix_nano) AS last FROM sessions")[0]
    bucket = bucket_for(span["first"], span["last"])  # 520 runs a minute apart: 5-minute bars
    page.goto(f"{served.ui_url}/overview")
    expect(page.get_by_text(f"counted per {bucket.name}.")).to_be_visible(timeout=30_000)
    total = served.sql("SELECT sum(cost_usd) AS c FROM sessions")[0]["c"]
    expect(page.get_by_test_id("stMetric").filter(has_text="cost")).to_contain_text(dollars(total), timeout=30_000)
    expect(page.get_by_text(re.compile(r"LLM calls have a model with no price"))).to_be_visible(timeout=30_000)
    expect(page.get_by_text(f"cost (US$) per {bucket.name}")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("cost per agent (US$)")).to_be_visible(timeout=30_000)
    # Every chart over time (sessions, tokens, steps, cost, errors, findings) spans the sessions plus a bucket,
    # not a year with the bars as slivers.
    dated = "[...document.querySelectorAll('.js-plotly-plot')].filter(p => p._fullLayout?.xaxis?.type === 'date')"
    page.wait_for_function(f"() => {dated}.length >= 6", timeout=30_000)
    ranges = page.evaluate(f"() => {dated}.map(p => p._fullLayout.xaxis.range)")
    assert len(ranges) == 6
    for low, high in ranges:
        first, last = (datetime.fromisoformat(t).replace(tzinfo=UTC).timestamp() * 1e9 for t in (low, high))
        assert first <= span["first"] and last >= span["last"]
        assert (last - first) - (span["last"] - span["first"]) <= 3 * bucket.nanos
    page.screenshot(path=str(ARTIFACTS / "overview-cost.png"))
    page.get_by_text("cost per agent (US$)").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "overview-cost-per-model-and-agent.png"))
