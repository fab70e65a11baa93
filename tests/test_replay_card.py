"""The replay's step card: a step reads as the conversation it was, in a real browser.

A developer opens the step where their agent "did something weird": they read who said what, the
tool calls' arguments as key/values, the system instructions folded away, the raw JSON one click away,
what an agent run was asked and answered. Hostile content stays visible and inert: a right-to-left
override shows as a marker, a 1 MiB prompt as its head, its size and a download.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard.conversation import (
    HEAD_CHARS,
    agent_exchange,
    error_line,
    key_value_text,
    key_values,
    short_number,
    shown,
    size_label,
    status_label,
    system_text,
    turns,
    visible,
)
from tests.card_capture import BIDI_NAME, HUGE_PROMPT, SESSION, SYSTEM, card_capture
from tests.conftest import RunningCollector
from tests.test_sessions import send

ARTIFACTS = Path(__file__).parent / "artifacts"
expect.set_options(timeout=20_000)  # a rerun draws its elements one by one, on a machine that may be busy

# -- the pure helpers, fast --------------------------------------------------------------------------


def test_bidi_overrides_and_controls_are_shown_as_markers_never_applied() -> None:
    assert visible(BIDI_NAME) == "invoice_⟨U+202E⟩gnp.exe"
    assert visible("a\u200bb\x1b[31mc\u2066d") == "a⟨U+200B⟩b⟨U+001B⟩[31mc⟨U+2066⟩d"
    assert visible("line 1\r\n\tline 2 · é 日本") == "line 1\n\tline 2 · é 日本"  # ordinary text untouched


def test_a_long_text_is_shown_as_its_head_with_its_size() -> None:
    seen = shown(HUGE_PROMPT)
    assert seen.cut_here and seen.total == len(HUGE_PROMPT) and len(seen.head) == HEAD_CHARS
    assert size_label(seen.total) == "1,047,992 characters (1.0 MiB)"
    assert not shown("short").cut_here
    assert shown("a" * 10 + "...[stepseven: truncated 1234 chars]").cut_by_collector == 1234


def test_figures_status_and_errors_read_as_a_person_writes_them() -> None:
    assert (short_number(27_996_123), short_number(1_234), short_number(56_000)) == ("28.0M", "1,234", "56.0k")
    assert (status_label("unset", None), status_label("ok", None), status_label("unset", "Timeout")) == (
        "ok", "ok", "error")  # fmt: skip
    assert error_line("ConnectionError", "ConnectionError: unreachable") == "ConnectionError: unreachable"
    assert error_line("ConnectionError", "ConnectionError") == "ConnectionError"
    assert error_line("ValueError", "bad city") == "ValueError: bad city"


def test_messages_become_turns_and_tool_arguments_key_values() -> None:
    found = turns(
        '[{"role":"assistant","parts":[{"type":"tool_call","id":"c1","name":"get_weather",'
        '"arguments":"{\\"city\\":\\"Paris\\",\\"days\\":3}"}]},'
        '{"role":"tool","parts":[{"type":"tool_call_response","id":"c1","response":{"temp":18}}]},'
        '{"role":"user","content":"thanks"}]'
    )
    assert [t.role for t in found] == ["assistant", "tool", "user"]
    call, result, said = found[0].parts[0], found[1].parts[0], found[2].parts[0]
    assert (call.kind, call.name, call.call_id, call.arguments) == ("tool_call", "get_weather", "c1",
                                                                    [("city", "Paris"), ("days", "3")])  # fmt: skip
    assert key_value_text(call.arguments or []) == "city  Paris\ndays  3"
    assert (result.kind, said.text) == ("tool_result", "thanks") and '"temp": 18' in result.text
    assert key_values("not json") is None
    assert system_text('[{"type":"text","content":"Be brief."},{"type":"text","content":"Be kind."}]') == (
        "Be brief.\n\nBe kind.")  # fmt: skip


def test_an_agent_run_gives_the_request_it_got_and_the_answer_it_gave() -> None:
    history = [
        {"role": "user", "parts": [{"type": "text", "content": "earlier question"}]},
        {"role": "assistant", "parts": [{"type": "text", "content": "earlier answer"}]},
        {"role": "user", "parts": [{"type": "text", "content": "Plan a weekend"}]},
        {"role": "user", "parts": [{"type": "tool_call_response", "id": "c1", "response": "sunny"}]},
        {"role": "assistant", "parts": [{"type": "text", "content": "Go on Saturday."}]},
    ]
    run = agent_exchange(history, None)
    assert run is not None and [p.text for t in run.request for p in t.parts] == ["Plan a weekend"]
    assert run.answer == "Go on Saturday." and len(run.conversation) == 5
    assert agent_exchange(None, '{"city":"Paris"}') is not None
    assert agent_exchange(None, None) is None


# -- in Chromium -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCollector]:
    folder = tmp_path_factory.mktemp("card")
    collector = RunningCollector(folder / "card.duckdb", "--analyze-after", "0.3", ui=True)
    send(collector, card_capture(folder))
    collector.settle(60)
    collector.wait_for_dashboard()
    yield collector
    collector.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    yield opened
    context.close()


def open_step(served: RunningCollector, page: Page, step: int) -> None:
    page.goto(f"{served.ui_url}/replay?session={SESSION}&step={step}")
    expect(page.get_by_text(f"Step {step} of 7")).to_be_visible(timeout=30_000)


def picture(page: Page, name: str, height: int = 1600) -> None:
    """The whole card: Streamlit scrolls inside the page, so the window is made tall for the picture."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1440, "height": height})
    page.wait_for_timeout(1200)
    page.screenshot(path=str(ARTIFACTS / name))
    page.set_viewport_size({"width": 1440, "height": 900})


def test_an_llm_call_reads_as_chat_turns_with_the_tool_call_arguments_as_key_values(
    served: RunningCollector, page: Page
) -> None:
    open_step(served, page, 5)
    # The history repeated from the previous call is folded; what is new reads as turns.
    expect(page.get_by_text("1 earlier message(s), repeated from the previous call")).to_be_visible()
    expect(page.get_by_text("→ tool call get_weather  ·  id call_1")).to_be_visible()
    arguments = page.locator("code").filter(has_text="units  metric")
    expect(arguments).to_contain_text("city   Paris")
    expect(arguments).to_contain_text("days   3")
    expect(page.get_by_text("← tool result  ·  id call_1")).to_be_visible()
    # The file name with a right-to-left override: the marker is there, the override itself is not.
    expect(page.get_by_text(f"18°C, sunny. Attachment: {visible(BIDI_NAME)}")).to_be_visible()
    assert "\u202e" not in page.locator("[data-testid='stMain']").inner_text()
    # System instructions: folded, as the text the model read (no JSON of parts, no stray None).
    folded = page.get_by_text("system instructions · 42 characters")
    expect(folded).to_be_visible()
    expect(page.get_by_text(SYSTEM)).not_to_be_visible()
    folded.click()
    expect(page.get_by_text(SYSTEM, exact=True)).to_be_visible()
    card = page.locator("[data-testid='stMain']").inner_text()
    assert '"type"' not in card and "None" not in card and "unset" not in card
    picture(page, "card-conversation.png")

    # Raw JSON, one click away, and back.
    page.get_by_text("raw JSON").click()
    expect(page.locator("code").filter(has_text='"step_kind": "llm"')).to_be_visible(timeout=15_000)
    expect(page.get_by_text("→ tool call get_weather  ·  id call_1")).to_have_count(0)
    picture(page, "card-raw-json.png", 1100)
    page.get_by_text("raw JSON").click()
    expect(page.get_by_text("→ tool call get_weather  ·  id call_1")).to_be_visible(timeout=15_000)


def test_figures_fit_the_status_says_ok_and_an_error_is_said_once(served: RunningCollector, page: Page) -> None:
    open_step(served, page, 2)
    expect(page.get_by_text("28.0M", exact=True)).to_be_visible()
    expect(page.get_by_text("27,996,123 input tokens · 1,234,567 output tokens · model gpt-4o")).to_be_visible()
    expect(page.get_by_text("29.2M", exact=True)).to_be_visible()  # the session's tokens, in the header
    for figure in ("28.0M", "1.2M", "500 ms", "29.2M"):  # drawn whole, not cut to "27,996,…" by a narrow column
        box = page.get_by_text(figure, exact=True).first
        assert box.evaluate("e => e.scrollWidth <= e.clientWidth"), figure
    expect(page.get_by_text("ok", exact=True).first).to_be_visible()

    open_step(served, page, 4)
    expect(page.get_by_text("This step failed:")).to_be_visible()
    expect(page.get_by_text("ConnectionError: billing backend unreachable", exact=True)).to_be_visible()
    assert page.get_by_text("ConnectionError ConnectionError").count() == 0
    expect(page.get_by_text(f"file  {visible(BIDI_NAME)}")).to_be_visible()  # the tool's arguments, as key/values
    picture(page, "card-error.png", 1100)


def test_an_agent_step_shows_the_request_it_got_and_the_answer_it_gave(served: RunningCollector, page: Page) -> None:
    open_step(served, page, 1)
    expect(page.get_by_text("the request the agent got")).to_be_visible()
    expect(page.get_by_text("Plan a weekend in Paris and attach the invoice.", exact=True).first).to_be_visible()
    expect(page.get_by_text("the answer the agent gave")).to_be_visible()
    answer = "Paris: 18°C and sunny all weekend. The invoice could not be fetched."
    expect(page.get_by_text(answer, exact=True).first).to_be_visible()
    expect(page.get_by_text("the agent's whole conversation (4 messages)")).to_be_visible()
    assert page.get_by_text("nothing recorded").count() == 0
    picture(page, "card-agent.png", 1300)


def test_a_megabyte_prompt_shows_its_head_its_size_and_a_download(served: RunningCollector, page: Page) -> None:
    started = time.monotonic()
    open_step(served, page, 6)
    expect(page.get_by_text("Showing the first 5,000 of 1,047,992 characters (1.0 MiB).")).to_be_visible()
    # The code block fills in after its caption (its highlighter loads lazily): wait for the words.
    expect(page.locator("code").filter(has_text="All work and no play makes Jack")).to_be_visible()
    print(f"1 MiB prompt: step and its head shown {time.monotonic() - started:.1f} s after the click")
    main = page.locator("[data-testid='stMain']").inner_text()
    assert len(main) < 40_000  # the head, not the megabyte
    with page.expect_download() as download:
        page.get_by_role("button", name="download all 1,047,992 characters (1.0 MiB)").click()
    assert Path(download.value.path()).read_text() == HUGE_PROMPT
    picture(page, "card-huge-prompt.png", 1300)

    # 2 MB of messages: the collector kept valid JSON, so both messages are turns, each cut and saying so.
    open_step(served, page, 7)
    expect(page.get_by_text("The collector stored only the start of this value", exact=False)).to_have_count(2)
    assert page.locator("[data-testid='stChatMessage']").count() == 3  # two user turns and the answer
