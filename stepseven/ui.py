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
            "stepseven.ui",
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
            # Streamlit collects garbage after every run by default, holding the interpreter for 100 ms
            # once the replay's cached structures of a big session are in memory: the run's last
            # messages waited for it. Python's own collector still runs as objects are allocated.
            "--runner.postScriptGC",
            "false",
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


def run_streamlit(argv: list[str]) -> None:
    """The dashboard's process: Streamlit's own command line, its HTTP connections bounded like the collector's.

    Streamlit serves with uvicorn and builds the uvicorn.Config itself, with the default protocol; naming
    the collector's protocol as that default gives the dashboard port the same header deadline (a client
    sending a byte a second held its connection for good).
    """
    import uvicorn.config
    from streamlit.web import cli

    uvicorn.config.HTTP_PROTOCOLS["auto"] = "stepseven.http_server:TimelyH11Protocol"
    sys.argv = ["streamlit", *argv]
    cli.main(prog_name="streamlit")  # exits with Streamlit's status, as `python -m streamlit` does


if __name__ == "__main__":
    run_streamlit(sys.argv[1:])
