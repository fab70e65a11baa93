"""`stepseven send`: OTLP/JSON files (captures, the samples) to a collector."""

from __future__ import annotations

from pathlib import Path

import click

from stepseven.commands.options import (
    option,
    token_option,
)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option(
    "--endpoint",
    env="ENDPOINT",
    default="http://127.0.0.1:4318",
    help="OTLP/HTTP endpoint of a collector (stepseven or any other).",
)
@option(
    "--header",
    "headers",
    env="SEND_HEADER",
    multiple=True,
    help="Extra header as NAME=VALUE (repeatable), e.g. X-Tenant=acme.",
)
@token_option
def send(files: tuple[Path, ...], endpoint: str, headers: tuple[str, ...], token: str | None) -> None:
    """Send OTLP files to a collector as an exporter would.

    Each FILE is one OTLP/JSON export request (resourceSpans, resourceLogs or resourceMetrics, as
    written by `sample_traces/capture.py` or an OpenTelemetry Collector's file exporter), or a
    binary protobuf ExportTraceServiceRequest (.pb).

    \b
    Example (the sample traces installed with stepseven):
      SEND_SAMPLES
    """
    import httpx

    from collector.otlp_files import signal_of

    extra = {}
    for header in headers:
        name, sep, value = header.partition("=")
        if not sep:
            raise click.BadParameter(f"{header!r} is not NAME=VALUE", param_hint="--header")
        extra[name.strip()] = value.strip()
    if token:
        extra["Authorization"] = f"Bearer {token}"
    with httpx.Client(timeout=60) as client:
        for path in files:
            body = path.read_bytes()
            signal = signal_of(path, body).name
            content_type = (
                "application/x-protobuf" if path.suffix in (".pb", ".bin", ".protobuf") else "application/json"
            )
            try:
                response = client.post(
                    f"{endpoint.rstrip('/')}/v1/{signal}", content=body, headers={"Content-Type": content_type, **extra}
                )
            except httpx.TransportError as exc:
                raise click.ClickException(
                    f"No collector answers at {endpoint} ({exc}); start one with `stepseven serve`."
                ) from None
            if response.status_code != 200:
                raise click.ClickException(
                    f"{path}: the collector answered {response.status_code}: {response.text[:300]}"
                )
            click.echo(f"{path}: sent ({signal})")


def _show_samples(command: click.Command) -> None:
    from stepseven.samples import send_samples_command

    command.help = (command.help or "").replace("SEND_SAMPLES", send_samples_command())


_show_samples(send)
