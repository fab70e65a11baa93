"""`stepseven analyze` and `stepseven evaluate`: findings of stored sessions, and their precision on a corpus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import orjson

from api import DEFAULT_URL
from stepseven.commands.options import (
    F,
    db_option,
    default_samples,
    given,
    option,
    token_option,
)


def _threshold_options(fn: F) -> F:
    """One option per analyzer threshold, generated from the Thresholds dataclass (its single source)."""
    import dataclasses

    from analyzer.config import Thresholds

    defaults = Thresholds()
    for spec in reversed(dataclasses.fields(Thresholds)):
        kind = int if spec.type in ("int", int) else float
        fn = click.option(
            f"--{spec.name.replace('_', '-')}",
            spec.name,
            type=click.IntRange(min=1) if kind is int else click.FloatRange(min=0, min_open=True),
            default=None,
            help=f"{spec.metadata['help']} [default: {getattr(defaults, spec.name)}]",
        )(fn)
    return fn


@click.command()
@click.option("--session", "sessions", multiple=True, help="Analyze only this session (repeatable).")
@option("--url", env="URL", default=DEFAULT_URL, help="Query API of a running collector (findings are printed only).")
@db_option("Analyze this DuckDB file directly (only when no collector holds it); the findings are saved in it.")
@option(
    "--config",
    "config_file",
    env="ANALYZER_CONFIG",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file with [thresholds] and [context_windows]; options given here override it.",
)
@option(
    "--format",
    "fmt",
    env="FORMAT",
    default="text",
    type=click.Choice(["text", "json"]),
    help="json prints an array of finding objects.",
)
@click.option("--no-save", is_flag=True, help="With --db, print the findings without storing them.")
@token_option
@_threshold_options
@click.pass_context
def analyze(
    ctx: click.Context,
    /,
    sessions: tuple[str, ...],
    url: str,
    db: Path,
    config_file: Path | None,
    fmt: str,
    no_save: bool,
    token: str | None,
    **thresholds: Any,
) -> None:
    """Find context rot, runaway loops and failed handoffs in stored sessions.

    Reads through a running collector's query API, or a DuckDB file no collector holds (like
    `stepseven query`). The collector analyzes sessions by itself as they go quiet; this command
    re-runs the analysis, for example with other thresholds.

    \b
    Examples:
      stepseven analyze --session session-loop-001
      stepseven analyze --db traces.duckdb --long-session-minutes 20 --format json
      stepseven analyze --config analyzer.toml
    """
    import sys

    from analyzer.analyze import analyze_session
    from analyzer.config import ConfigFileError, load_config
    from analyzer.load import Norms, Reader, SessionRowsReader, iter_sessions, rows_by_sql, rows_of_store, session_ids
    from analyzer.report import format_findings
    from api.client import ApiClient, ApiError, ApiUnreachable
    from store.duckdb_store import DuckDBStore, StoreError
    from store.model import Finding

    try:
        config = load_config(config_file, thresholds)
    except ConfigFileError as exc:
        raise click.UsageError(str(exc)) from None

    def run(
        read: Reader, rows_of: SessionRowsReader, save: Callable[[list[str], list[Finding]], None] | None
    ) -> list[Finding]:
        chosen = list(sessions) or session_ids(read)
        norms = Norms(read)
        found: list[Finding] = []
        missing = []
        with click.progressbar(length=len(chosen), label="Analyzing sessions", show_pos=True, file=sys.stderr) as bar:
            for session in iter_sessions(rows_of, chosen):
                bar.update(1)
                if not session.steps:
                    missing.append(session.session_id)
                    continue
                session.norms = norms.for_session(session.session_id)
                found.extend(analyze_session(session, config))
        if missing:
            raise click.ClickException(
                f"No session {', '.join(missing)} in the store; list them with "
                '`stepseven query "SELECT session_id FROM sessions"`.'
            )
        if save is not None:
            save(chosen, found)
        return found

    db_given, url_given = given(ctx, "db"), given(ctx, "url")
    findings: list[Finding]
    use_file = db_given and not url_given
    if not use_file:
        try:
            with ApiClient(url, token=token) as client:
                client.health()

                def read_api(sql: str, params: Any) -> list[tuple[Any, ...]]:
                    return list(client.sql(sql, list(params), limit=1_000_000).rows)

                findings = run(read_api, rows_by_sql(read_api), None)
        except ApiUnreachable as exc:
            if url_given or not db.exists():
                raise click.ClickException(
                    f"{exc} Start one with `stepseven serve`, or analyze a file with --db PATH."
                ) from None
            use_file = True
        except ApiError as exc:
            raise click.ClickException(str(exc)) from None
    if use_file:
        if not db.exists():
            raise click.ClickException(f"There is no database at {db}; pass --db PATH or --url URL.")
        try:
            store = DuckDBStore(db, read_only=no_save)
        except StoreError as exc:
            raise click.ClickException(str(exc)) from None
        try:

            def save(analyzed: list[str], found: list[Finding]) -> None:
                store.replace_findings(store.session_updated_times(analyzed), found)
                # Sessions listed as failing analysis are analyzed now; analyzing them all, any left
                # listed is no session any more.
                listed = [row[0] for row in store.listed_failures("analysis")]
                done = set(analyzed) if sessions else None
                store.clear_failures("analysis", [key for key in listed if done is None or key in done])

            findings = run(store.read, rows_of_store(store), None if no_save else save)
        finally:
            store.close()
    if fmt == "json":
        import dataclasses

        click.echo(orjson.dumps([dataclasses.asdict(f) for f in findings], option=orjson.OPT_INDENT_2).decode())
    else:
        if findings:
            click.echo(format_findings(findings))
        real = [f for f in findings if f.severity != "note"]
        affected = len({f.session_id for f in real})
        notes = len(findings) - len(real)
        click.echo(
            f"{len(real)} finding{'s' if len(real) != 1 else ''} in {affected} session"
            f"{'s' if affected != 1 else ''}" + (f", and {notes} note{'s' if notes != 1 else ''}." if notes else "."),
            err=True,
        )


@click.command()
@click.argument(
    "corpus",
    required=False,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
def evaluate(corpus: Path | None) -> None:
    """Print the analyzer's precision and recall per finding kind on a labeled corpus.

    CORPUS is a directory of OTLP/JSON files with a labels.toml naming, for every session in
    them, the finding kinds it should have ([] for a healthy session), and optionally an
    analyzer.toml. The default is the project's own corpus, the sample traces installed with
    stepseven (sample_traces/ in a checkout).
    """
    from analyzer.evaluate import CorpusError
    from analyzer.evaluate import evaluate as run_evaluation

    try:
        result = run_evaluation(corpus or default_samples())
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.table())
