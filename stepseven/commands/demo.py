"""`stepseven demo`: a throwaway collector with the samples, and its dashboard."""

from __future__ import annotations

from pathlib import Path

import click

from collector.config import CollectorConfig
from stepseven.commands.options import (
    default_samples,
    free_port,
    option,
)


@click.command()
@option("--ui-port", env="UI_PORT", default=8501, type=int, help="Dashboard port.")
@click.option(
    "--samples",
    default=None,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory of OTLP/JSON files to send [default: the sample traces installed with stepseven].",
)
def demo(ui_port: int, samples: Path | None) -> None:
    """Run a collector and the dashboard on a throwaway store, and send it the sample traces.

    A minute after installing, you see sessions, findings and a step-by-step replay. Nothing is
    kept: the store is deleted when you stop it (Ctrl-C).
    """
    import tempfile
    import threading

    import httpx

    from analyzer.config import AnalyzerConfig, load_config
    from collector.otlp_files import signal_of
    from stepseven.service import ServeConfig, ServeError
    from stepseven.service import serve as run_service
    from store.duckdb_store import StoreError

    folder = samples or default_samples()
    files = sorted(p for p in folder.glob("*.json") if not p.name.endswith(".expected.json"))
    config_file = folder / "analyzer.toml"
    analyzer = load_config(config_file) if config_file.exists() else AnalyzerConfig()
    collector = CollectorConfig(grpc_port=free_port(), http_port=free_port())

    endpoints = collector.endpoints()

    def send_samples() -> None:
        with httpx.Client(timeout=60) as client:
            for path in files:
                body = path.read_bytes()
                try:
                    client.post(
                        f"{endpoints['otlp_http']}/v1/{signal_of(path, body).name}",
                        content=body,
                        headers={"Content-Type": "application/json"},
                    ).raise_for_status()
                except httpx.HTTPError as exc:
                    click.echo(f"error: the demo could not send {path.name}: {exc}", err=True)
                    return
        click.echo(
            f"sent {len(files)} sample files; open http://127.0.0.1:{ui_port}. Your own agents can export to this "
            f"demo too: OTLP/HTTP {endpoints['otlp_http']}, OTLP/gRPC {endpoints['otlp_grpc']}",
            err=True,
        )

    def announce(line: str) -> None:
        click.echo(line, err=True)
        if "is ready" in line:
            threading.Thread(target=send_samples, daemon=True).start()

    with tempfile.TemporaryDirectory(prefix="stepseven-demo-") as tmp:
        config = ServeConfig(
            db=Path(tmp) / "demo.duckdb",
            collector=collector,
            api_port=free_port(),
            analyzer=analyzer,
            analyze_after_seconds=1.0,
            ui_port=ui_port,
        )
        try:
            run_service(config, announce)
        except (ServeError, StoreError) as exc:
            raise click.ClickException(str(exc)) from None
