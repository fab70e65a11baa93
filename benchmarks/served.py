"""What the dashboard benchmarks share: `stepseven serve` with its dashboard on free ports of 127.0.0.1,
SQL through its API, waiting until sessions are built and analyzed, and Debian's Chromium."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Served:
    api: str
    ui: str
    otlp_http: str

    def sql(self, sql: str, params: list[object] | None = None) -> list[list[object]]:
        answer = httpx.post(f"{self.api}/api/v1/sql", json={"sql": sql, "params": params or []}, timeout=60)
        answer.raise_for_status()
        rows: list[list[object]] = answer.json()["rows"]
        return rows

    def wait_built(self, like: str, wanted: dict[str, int], timeout: float = 900) -> float:
        """Waits until the sessions whose ids match ``like`` have the step counts of ``wanted``; seconds waited."""
        started = time.monotonic()
        built: list[list[object]] = []
        while time.monotonic() - started < timeout:
            built = self.sql("SELECT session_id, step_count FROM sessions WHERE session_id LIKE ?", [like])
            if {(str(s), int(str(c))) for s, c in built} >= set(wanted.items()):
                return time.monotonic() - started
            time.sleep(1)
        raise SystemExit(f"the sessions were not built within {timeout:g} s: {built}")

    def wait_analyzed(self, like: str, count: int, timeout: float = 1800) -> float:
        """Waits until ``count`` sessions matching ``like`` are analyzed and the analyzer has nothing waiting
        (analyzing a big session takes the CPU the dashboard would use); seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            analyzer = httpx.get(f"{self.api}/healthz", timeout=30).json()["analyzer"]
            analyzed = self.sql("SELECT count(*) FROM derived_analyses WHERE session_id LIKE ?", [like])[0][0]
            if analyzed == count and analyzer["waiting_sessions"] == 0 and not analyzer["busy"]:
                return time.monotonic() - started
            time.sleep(2)
        raise SystemExit(f"the analyzer was not idle within {timeout:g} s")


@contextmanager
def serve(db: Path) -> Iterator[Served]:
    """`stepseven serve` with its dashboard on ``db``, stopped with SIGTERM on exit."""
    ports = {name: free_port() for name in ("grpc", "http", "api", "ui")}
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
    else:
        raise SystemExit(f"stepseven serve exited with {proc.wait()} before it was ready")
    try:
        yield Served(*(f"http://127.0.0.1:{ports[p]}" for p in ("api", "ui", "http")))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=120)


@contextmanager
def chromium_page(width: int = 1500, height: int = 1100) -> Iterator[Page]:
    """A page of a headless Chromium (Debian's, driven by Playwright)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()
