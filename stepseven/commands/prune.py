"""`stepseven prune`: delete what is older than a date from a DuckDB file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from stepseven.commands.options import (
    db_option,
)


@click.command()
@click.option("--before", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), default=None,
              help="Delete what is older than this UTC date or time.")  # fmt: skip
@click.option("--older-than-days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Or: delete what is older than this many days.")  # fmt: skip
@db_option("The DuckDB file to prune (a running collector prunes itself: serve --retention-days).")
def prune(before: datetime | None, older_than_days: float | None, db: Path) -> None:
    """Delete old data by hand: whole sessions whose last span ended before the cutoff (with their
    spans, steps, handoffs and findings), and log records and metric points older than it.

    \b
    Examples:
      stepseven prune --before 2026-01-01
      stepseven prune --older-than-days 30 --db traces.duckdb
    """
    import calendar

    from store.duckdb_store import DuckDBStore, StoreError
    from store.retention import cutoff, prune_all

    if (before is None) == (older_than_days is None):
        raise click.UsageError("give --before DATE or --older-than-days N")
    if not db.exists():
        raise click.ClickException(f"There is no database at {db}.")
    limit = calendar.timegm(before.timetuple()) * 10**9 if before is not None else cutoff(float(older_than_days or 0))
    try:
        store = DuckDBStore(db)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        old = store.read("SELECT count(*) FROM derived_sessions WHERE last_time_unix_nano < ?", [limit])[0][0]
        with click.progressbar(length=int(old), label="Pruning sessions", show_pos=True) as bar:
            total = prune_all(store, limit, lambda batch: bar.update(batch.sessions))
    finally:
        store.close()
    click.echo(
        f"Deleted {total.sessions} sessions ({total.spans} spans), {total.log_records} log records and "
        f"{total.metric_points} metric points. The file reuses the space; it does not shrink."
    )
