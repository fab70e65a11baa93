"""`stepseven export`: views as Parquet, or a session as OTLP/JSON."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click
import orjson

from stepseven.commands.options import (
    read_source,
    read_source_options,
    token_option,
)
from store.reads import VIEWS


@click.command()
@click.argument("views", nargs=-1, type=click.Choice(list(VIEWS)))
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(path_type=Path),
    help="Parquet: a directory (VIEW/day=YYYY-MM-DD/part-N.parquet under it). otlp-json: a file.",
)
@click.option(
    "--format",
    "fmt",
    default="parquet",
    show_default=True,
    type=click.Choice(["parquet", "otlp-json"]),
    help="otlp-json writes one session (--session) as an OTLP/JSON export request that `stepseven send` replays.",
)
@click.option("--session", "session_id", default=None, help="With --format otlp-json: the session to write.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Parquet: only days from this date.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Parquet: only days before this date.")
@click.option("--overwrite", is_flag=True, help="Replace views already exported under --output.")
@read_source_options
@token_option
@click.pass_context
def export(
    ctx: click.Context,
    views: tuple[str, ...],
    output: Path,
    fmt: str,
    session_id: str | None,
    since: datetime | None,
    until: datetime | None,
    overwrite: bool,
    url: str,
    db: Path,
    token: str | None,
) -> None:
    """Write stored data out, for other engines or another collector.

    Parquet (the default) writes the chosen VIEWS (all of them when none is named: sessions, steps,
    llm_calls, tool_calls, handoffs, findings, spans, logs, metrics), partitioned by day, readable by
    DuckDB, Spark, pandas or any Parquet reader.

    otlp-json writes one session's spans as they were received, as an OTLP/JSON file.

    \b
    Examples:
      stepseven export --output exported/
      stepseven export steps findings --since 2026-11-01 --output exported/
      stepseven export --session session-weather-001 --format otlp-json --output weather.json
      stepseven send --endpoint http://other-host:4318 weather.json
    """
    import shutil

    from stepseven import export as exporting

    if fmt == "otlp-json":
        if not session_id or views:
            raise click.UsageError("--format otlp-json writes one session: pass --session ID and no VIEWS")
        with read_source(ctx, url, db, token) as read:
            try:
                request = exporting.session_as_otlp(read, session_id)
            except exporting.ExportError as exc:
                raise click.ClickException(str(exc)) from None
        output.write_bytes(orjson.dumps(request))
        spans = sum(len(s["spans"]) for r in request["resourceSpans"] for s in r["scopeSpans"])
        click.echo(f"wrote {spans} spans of session {session_id} to {output}", err=True)
        return
    if session_id:
        raise click.UsageError("--session goes with --format otlp-json")
    chosen = list(views) or list(VIEWS)
    existing = [v for v in chosen if (output / v).exists()]
    if existing and not overwrite:
        raise click.ClickException(
            f"{output} already holds {', '.join(existing)}; pass --overwrite or choose another --output."
        )
    for view in existing:
        shutil.rmtree(output / view)
    counts = dict.fromkeys(chosen, 0)
    with read_source(ctx, url, db, token) as read:
        units = exporting.plan(read, chosen, since and since.date(), until and until.date())
        with click.progressbar(units, label="Exporting", show_pos=True, item_show_func=_unit_label) as bar:
            for unit in bar:
                try:
                    counts[unit.view] += exporting.export_day(read, unit, output)
                except exporting.ExportError as exc:
                    raise click.ClickException(str(exc)) from None
    for view, rows in counts.items():
        click.echo(f"{view}: {rows} rows")
    click.echo(f"written under {output}/ (read them with: SELECT * FROM read_parquet('{output}/steps/*/*.parquet'))")


def _unit_label(unit: Any) -> str | None:
    return None if unit is None else f"{unit.view} {unit.day}"
