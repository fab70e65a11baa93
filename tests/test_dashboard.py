"""Stories: a user opens the dashboard on a live collector, finds a session and replays it step by step.

Pages run under Streamlit's AppTest against a real collector's query API, with data and with an empty
store; hostile prompts must come out as literal text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import BACKENDS, RunningCollector, store_args
from tests.test_sessions import SAMPLES, send

PAGES = Path(__file__).parent.parent / "dashboard" / "views"
HOSTILE = "<img src=x onerror=alert(1)> <script>alert('step7')</script> [click](javascript:alert(1))"


def hostile_capture(folder: Path) -> Path:
    """One LLM call whose prompt and completion are hostile markup."""
    messages = [{"role": "user", "parts": [{"type": "text", "content": HOSTILE}]}]
    answer = [{"role": "assistant", "parts": [{"type": "text", "content": "**bold** " + HOSTILE}]}]

    def attribute(key: str, value: Any) -> dict[str, Any]:
        return {"key": key, "value": {"stringValue": value if isinstance(value, str) else orjson.dumps(value).decode()}}

    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": [attribute("service.name", "hostile")]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "7e57ab1e7e57ab1e7e57ab1e7e57ab1e",
                                "spanId": "7e57ab1e00000001",
                                "name": "chat gpt-4o",
                                "kind": 3,
                                "startTimeUnixNano": "1764000000000000000",
                                "endTimeUnixNano": "1764000001000000000",
                                "attributes": [
                                    attribute("gen_ai.operation.name", "chat"),
                                    attribute("gen_ai.request.model", "gpt-4o"),
                                    attribute("gen_ai.agent.name", "<b>evil_agent</b>"),
                                    attribute("gen_ai.conversation.id", "session-hostile"),
                                    attribute("gen_ai.input.messages", messages),
                                    attribute("gen_ai.output.messages", answer),
                                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "120000"}},
                                ],
                            }
                        ]
                    }
                ],
            }
        ]
    }
    path = folder / "hostile.json"
    path.write_bytes(orjson.dumps(document))
    return path


@pytest.fixture(scope="module", params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCollector]:
    folder = tmp_path_factory.mktemp("dashboard")
    collector = RunningCollector(folder / "d.duckdb", *store_args(request.param, request), "--analyze-after", "0.3")
    send(
        collector,
        SAMPLES / "pydantic_ai_usage_limit.json",
        SAMPLES / "pydantic_ai_delegation.json",
        SAMPLES / "openai_agents_openinference_handoff.json",
        hostile_capture(folder),
    )
    collector.settle(analyzed=True)
    yield collector
    collector.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def empty(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCollector]:
    collector = RunningCollector(tmp_path_factory.mktemp("empty") / "e.duckdb", *store_args(request.param, request))
    yield collector
    collector.stop()


def page(name: str, collector: RunningCollector, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    monkeypatch.setenv("STEPSEVEN_URL", collector.api_url)
    app = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=60)
    for key, value in query.items():
        app.query_params[key] = value
    app.run()
    assert not app.exception, app.exception
    return app


def shown_text(app: AppTest) -> str:
    """Everything shown as plain text (code blocks, text, dataframes)."""
    parts = [e.value for e in app.code] + [e.value for e in app.text]
    parts += [frame.value.to_csv() for frame in app.dataframe]
    return "\n".join(str(p) for p in parts)


def rendered_markdown(app: AppTest) -> str:
    """Everything Streamlit would render as Markdown or HTML."""
    elements = [*app.markdown, *app.caption, *app.title, *app.subheader, *app.info, *app.error, *app.warning]
    return "\n".join(str(e.value) for e in elements)


PAGE_NAMES = ["sessions", "replay", "findings", "sql", "overview"]


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_opens_on_a_store_with_sessions(name: str, live: RunningCollector, monkeypatch: Any) -> None:
    page(name, live, monkeypatch)


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_opens_on_an_empty_store_and_says_what_to_do(
    name: str, empty: RunningCollector, monkeypatch: Any
) -> None:
    app = page(name, empty, monkeypatch)
    if name in ("sessions", "replay", "overview"):
        shown = shown_text(app)
        # The ports this collector listens on, and the samples where this installation keeps them.
        assert f"OTEL_EXPORTER_OTLP_ENDPOINT={empty.http_url}" in shown
        assert f"OTEL_EXPORTER_OTLP_ENDPOINT=http://{empty.grpc_endpoint} OTEL_EXPORTER_OTLP_PROTOCOL=grpc" in shown
        assert f"stepseven send --endpoint {empty.http_url} {SAMPLES}/*.json" in shown


def test_sessions_are_listed_with_their_findings_and_cost(live: RunningCollector, monkeypatch: Any) -> None:
    app = page("sessions", live, monkeypatch)
    [table] = app.dataframe
    rows = table.value.set_index("session_id")
    assert {"session-loop-001", "session-weather-001", "session-support-oi-001", "session-hostile"} <= set(rows.index)
    assert rows.loc["session-loop-001", "findings"] == "runaway_loop"
    # The samples' models are made up: no price, and the calls that leaves out (a click opens the replay:
    # tests/test_cost_and_pages.py, in Chromium).
    calls = int(live.sql("SELECT llm_calls FROM sessions WHERE session_id = 'session-loop-001'")[0]["llm_calls"])
    assert rows.loc["session-loop-001", "cost"] == f"no price ({calls} calls)"


def test_replay_steps_forward_with_the_button(live: RunningCollector, monkeypatch: Any) -> None:
    app = page("replay", live, monkeypatch, session="session-loop-001", step="3")
    assert app.subheader[0].value == "Step 3 of 9 · tool"
    assert "search_flights" in shown_text(app)
    next(b for b in app.button if b.label == "next ▶").click().run()
    assert not app.exception
    assert app.subheader[0].value == "Step 4 of 9 · llm · no price"  # a made-up model: no price
    assert app.query_params["step"] == ["4"] or app.query_params["step"] == "4"
    # The call repeats the conversation so far: only what is new is shown open.
    assert any("earlier message(s), repeated" in e.label for e in app.expander)


def test_replay_jumps_to_the_next_finding(live: RunningCollector, monkeypatch: Any) -> None:
    app = page("replay", live, monkeypatch, session="session-loop-001", step="1")
    next(b for b in app.button if b.label == "next finding").click().run()
    assert app.subheader[0].value.startswith("Step 3 of 9")


def test_hostile_prompts_are_shown_as_literal_text(live: RunningCollector, monkeypatch: Any) -> None:
    app = page("replay", live, monkeypatch, session="session-hostile", step="1")
    shown = shown_text(app)
    assert HOSTILE in shown and "**bold** " + HOSTILE in shown
    assert "<img" not in rendered_markdown(app) and "<script" not in rendered_markdown(app)
    assert "<b>evil_agent</b>" in shown


def test_findings_page_shows_the_evidence_steps(live: RunningCollector, monkeypatch: Any) -> None:
    app = page("findings", live, monkeypatch)
    [table] = app.dataframe
    rows = table.value[table.value["session_id"] == "session-loop-001"]
    # A click on a row opens the replay at the first of them (tests/test_cost_and_pages.py, in Chromium).
    assert set(rows["kind"]) >= {"runaway_loop"} and all(e and e[0].isdigit() for e in rows["evidence"])


def test_sql_page_runs_the_example_and_offers_csv(live: RunningCollector, monkeypatch: Any) -> None:
    app = page("sql", live, monkeypatch)
    app.text_area[0].set_value("SELECT session_id, step_count FROM sessions ORDER BY session_id").run()
    next(b for b in app.button if b.label == "Run").click().run()
    [table] = app.dataframe
    assert "session-loop-001" in set(table.value["session_id"])
    app.text_area[0].set_value("DELETE FROM spans").run()
    next(b for b in app.button if b.label == "Run").click().run()
    assert "only SELECT" in shown_text(app) or "not allowed" in shown_text(app)


def test_sessions_filter_by_model_and_search_by_tool(live: RunningCollector, monkeypatch: Any) -> None:
    app = page("sessions", live, monkeypatch)
    next(s for s in app.selectbox if s.label == "Model").set_value("fake-travel-model").run()
    assert list(app.dataframe[0].value["session_id"]) == ["session-loop-001"]
    app = page("sessions", live, monkeypatch)
    next(t for t in app.text_input if t.label == "Search").input("get_weather").run()
    assert list(app.dataframe[0].value["session_id"]) == ["session-weather-001"]


def test_demo_serves_the_samples_with_findings_in_a_minute(tmp_path: Path) -> None:
    import re
    import subprocess
    import sys
    import time

    from api.client import ApiClient
    from tests.conftest import free_port

    proc = subprocess.Popen(
        [sys.executable, "-m", "stepseven", "demo", "--ui-port", str(free_port())],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        api = None
        for line in proc.stderr:
            if match := re.search(r"query API (http://[\d.:]+)", line):
                api = match.group(1)
                break
        assert api, "the demo never said it was ready"
        deadline = time.monotonic() + 90
        with ApiClient(api) as client:
            while time.monotonic() < deadline:
                sessions = client.sql("SELECT count(*) FROM sessions").rows[0][0]
                with_findings = client.sql("SELECT count(DISTINCT session_id) FROM findings").rows[0][0]
                if sessions >= 37 and with_findings >= 15:
                    break
                time.sleep(1)
        assert sessions >= 37 and with_findings >= 15
    finally:
        proc.terminate()
        proc.communicate(timeout=60)  # drains and closes the pipe


def test_the_session_steps_endpoint_matches_the_view_and_takes_no_sql(live: RunningCollector) -> None:
    from api.client import ApiClient, ApiError

    with ApiClient(live.api_url) as client:
        fast = client.session_steps("session-loop-001", 2, 5, ["step_index", "tool_name", "input_messages"])
        view = client.sql(
            "SELECT step_index, tool_name, input_messages FROM steps WHERE session_id = $1 "
            "AND step_index BETWEEN 2 AND 5 ORDER BY step_index",
            ["session-loop-001"],
        )
        assert fast.rows == view.rows and len(fast.rows) == 4
        with pytest.raises(ApiError, match="columns of the steps view"):
            client.session_steps("session-loop-001", 1, 2, ["step_index FROM raw_spans; --"])
        assert client.session_steps("'; DROP TABLE raw_spans; --", 1, 10, ["step_index"]).rows == []
        assert client.sql("SELECT count(*) FROM spans").rows[0][0] > 0


def test_sessions_search_finds_words_inside_the_messages(live: RunningCollector, monkeypatch: Any) -> None:
    app = page("sessions", live, monkeypatch)
    next(t for t in app.text_input if t.label == "Search").input("sunny in Paris").run()
    assert list(app.dataframe[0].value["session_id"]) == ["session-weather-001"]


def test_a_long_token_series_is_thinned_to_its_peaks_and_keeps_the_current_step() -> None:
    import pandas as pd

    from dashboard.data import peaks

    series = pd.DataFrame({"step_index": range(1, 20_001, 2), "input_tokens": [i % 977 for i in range(10_000)]})
    series.loc[4321, "input_tokens"] = 1_000_000
    shown = peaks(series, current=7)
    assert len(shown) <= 601
    assert shown["input_tokens"].max() == 1_000_000
    assert 7 in set(shown["step_index"])
    assert list(shown["step_index"]) == sorted(shown["step_index"])
    assert peaks(series.head(50), current=7).equals(series.head(50))


def test_a_collector_without_receivers_is_not_said_to_receive_on_any_port() -> None:
    from dashboard.render import where_to_send

    shown = where_to_send({"otlp_http": None, "otlp_grpc": None})
    assert "--no-receivers" in shown and "OTEL_EXPORTER_OTLP_ENDPOINT" not in shown
