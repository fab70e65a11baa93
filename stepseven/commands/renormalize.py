"""`stepseven renormalize`: rebuild steps and sessions from the stored spans."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from stepseven.commands.options import (
    db_option,
)


@click.command()
@db_option("The DuckDB file to update (stop the collector that holds it first).")
def renormalize(db: Path) -> None:
    """Recompute the normalized GenAI columns, sessions, steps and handoffs from the raw spans.

    Run it after upgrading stepseven when the normalization rules changed: nothing needs to be
    re-ingested, because every span is kept raw.
    """

    from collector.derived_work import run_split
    from collector.normalize import SpanInput, normalize
    from collector.session_worker import SessionWorker
    from store.duckdb_store import DuckDBStore, StoreError

    if not db.exists():
        raise click.ClickException(f"There is no database at {db}.")
    try:
        store = DuckDBStore(db)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        total = store.count_spans()
        with click.progressbar(length=total, label="Normalizing spans", show_pos=True) as bar:
            for chunk in store.iter_raw_spans():
                keys = [(row[0], row[1]) for row in chunk]
                rows = [
                    normalize(SpanInput(name, kind, status, message, orjson.loads(attributes), orjson.loads(events)))
                    for _, _, name, kind, status, message, attributes, events in chunk
                ]
                store.update_normalized(keys, rows)
                bar.update(len(chunk))
        # Traces listed as failing are rebuilt too (a row is deleted once its trace is built, or found
        # gone); one that fails is listed, and the others are rebuilt all the same.
        worker = SessionWorker(store, failures=store)
        trace_ids = list(dict.fromkeys([*store.all_trace_ids(), *worker.failing.load()]))
        with click.progressbar(length=len(trace_ids), label="Rebuilding sessions", show_pos=True) as bar:
            for start in range(0, len(trace_ids), 2000):
                part = trace_ids[start : start + 2000]
                run_split(part, worker.process, worker.failing, "rebuild the sessions of traces")
                bar.update(len(part))
        failing = worker.failing.problem("built into sessions")
    finally:
        store.close()
    if failing is not None:
        raise click.ClickException(
            f'Renormalized {total} spans, but {failing}; see `stepseven query "SELECT * FROM derived_failures"`.'
        )
    click.echo(f"Renormalized {total} spans in {len(trace_ids)} traces.")
