"""Stories in a real browser: Debian's Chromium, driven by Playwright, on `stepseven serve`'s own dashboard.

Screenshots of the pages land in tests/artifacts/ (kept by CI) so a person can look at them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.conftest import RunningCollector
from tests.test_dashboard import HOSTILE, hostile_capture
from tests.test_sessions import SAMPLES, send

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCollector]:
    folder = tmp_path_factory.mktemp("browser")
    collector = RunningCollector(folder / "b.duckdb", "--analyze-after", "0.3", ui=True)
    send(collector, SAMPLES / "pydantic_ai_usage_limit.json", SAMPLES / "pydantic_ai_delegation.json")
    send(collector, hostile_capture(folder))
    collector.settle(analyzed=True)
    collector.wait_for_dashboard()
    yield collector
    collector.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    opened = context.new_page()
    yield opened
    context.close()


def test_a_user_replays_a_session_and_steps_forward(served: RunningCollector, page: Page) -> None:
    page.goto(f"{served.ui_url}/replay?session=session-loop-001&step=3")
    expect(page.get_by_text("Step 3 of 9 · tool")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("tool arguments (search_flights)")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "replay.png"), full_page=True)
    page.get_by_role("button", name="next ▶").click()
    expect(page.get_by_text("Step 4 of 9 · llm")).to_be_visible(timeout=30_000)
    # The next step's content: the model call that asks for the same search again.
    expect(page.get_by_text("→ tool call search_flights").first).to_be_visible()
    assert "step=4" in page.url
    page.wait_for_timeout(1500)  # let the charts of the new step replace the old ones before the picture
    page.screenshot(path=str(ARTIFACTS / "replay-next.png"), full_page=True)


def test_hostile_prompts_are_literal_text_in_the_browser(served: RunningCollector, page: Page) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(f"{served.ui_url}/replay?session=session-hostile&step=1")
    expect(page.get_by_text("Step 1 of 1 · llm")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(HOSTILE, exact=True).first).to_be_visible()
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("script:has-text('step7')").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    page.screenshot(path=str(ARTIFACTS / "replay-hostile.png"), full_page=True)
    assert dialogs == []


def test_the_sessions_page_is_the_front_page_and_lists_the_sessions(served: RunningCollector, page: Page) -> None:
    page.goto(served.ui_url)
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("3 sessions")).to_be_visible(timeout=30_000)
    # The table is drawn on a canvas; wait for it, then for the sidebar's filters, before the picture.
    expect(page.locator("[data-testid='stDataFrame']")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Sort by")).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1000)
    assert page.get_by_text("Page not found").count() == 0
    page.screenshot(path=str(ARTIFACTS / "sessions.png"), full_page=True)


def test_a_collector_with_a_token_shows_nothing_in_the_dashboard_until_the_browser_signs_in(
    browser: Browser, tmp_path: Path
) -> None:
    import subprocess
    import sys

    token = "tok-" + "9" * 28
    collector = RunningCollector(tmp_path / "t.duckdb", "--token", token, "--analyze-after", "0.3", ui=True)
    try:
        sent = subprocess.run(
            [sys.executable, "-m", "stepseven", "send", "--endpoint", collector.http_url, "--token", token,
             str(SAMPLES / "pydantic_ai_usage_limit.json")],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        collector.settle()
        collector.wait_for_dashboard()
        context = browser.new_context(viewport={"width": 1500, "height": 1100})
        page = context.new_page()
        # No token: the sign-in form, and none of the data.
        page.goto(f"{collector.ui_url}/replay?session=session-loop-001&step=3")
        expect(page.get_by_text("needs its token")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1500)
        assert "search_flights" not in page.content() and "session-loop-001" not in page.inner_text("body")
        page.get_by_label("Token").fill("not-the-token")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("not this collector's token")).to_be_visible(timeout=30_000)
        # The token in a link signs the browser in, and leaves the address bar at once.
        page.goto(f"{collector.ui_url}/replay?session=session-loop-001&step=3&token={token}")
        expect(page.get_by_text("Step 3 of 9 · tool")).to_be_visible(timeout=30_000)
        assert token not in page.url
        context.close()
    finally:
        collector.stop()
