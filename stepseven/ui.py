"""Starting the Streamlit dashboard as a child process that reads a collector's query API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dashboard

APP = Path(dashboard.__file__).parent / "app.py"


def start_dashboard(api_url: str, host: str, port: int, token: str | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "STEPSEVEN_URL": api_url}
    if token:
        env["STEPSEVEN_TOKEN"] = token
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.address",
            host,
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
            "--client.toolbarMode",
            "minimal",
        ],
        env=env,
    )


def stop_dashboard(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
