"""`stepseven dashboard`: the dashboard alone, reading a running collector's query API."""

from __future__ import annotations

import click

from api import DEFAULT_URL
from stepseven.commands.options import (
    option,
    token_option,
)


@click.command()
@option("--url", env="URL", default=DEFAULT_URL, help="Query API of the collector to show.")
@option("--host", env="UI_HOST", default="127.0.0.1", help="Address the dashboard listens on.")
@option("--port", env="UI_PORT", default=8501, type=int, help="Dashboard port.")
@token_option
def dashboard(url: str, host: str, port: int, token: str | None) -> None:
    """Run the dashboard alone, reading a collector's query API (local or remote).

    `stepseven serve` starts it by itself; use this to look at another collector.
    """
    from stepseven.ui import start_dashboard, stop_dashboard

    process = start_dashboard(url, host, port, token)
    click.echo(f"dashboard on http://{host}:{port}, reading {url}; Ctrl-C stops it", err=True)
    try:
        code = process.wait()
    except KeyboardInterrupt:
        stop_dashboard(process)
        code = 0
    if code:
        raise click.ClickException(f"the dashboard exited with status {code}")
