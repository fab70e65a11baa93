"""The `stepseven` command: the group of the commands in stepseven/commands/. Every option can also be set as
STEPSEVEN_<OPTION>."""

from __future__ import annotations

import click

from stepseven.commands.analyze import analyze, evaluate
from stepseven.commands.dashboard import dashboard
from stepseven.commands.demo import demo
from stepseven.commands.export import export
from stepseven.commands.prune import prune
from stepseven.commands.query import query
from stepseven.commands.renormalize import renormalize
from stepseven.commands.send import send
from stepseven.commands.serve import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="stepseven")
def cli() -> None:
    """stepseven: a flight recorder for AI agents.

    Point your agents' OpenTelemetry exporter at it (OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318
    or grpc://127.0.0.1:4317) and every span they emit is stored, queryable in SQL.
    """


for command in (serve, query, export, send, prune, renormalize, analyze, evaluate, dashboard, demo):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="stepseven")


if __name__ == "__main__":
    main()
