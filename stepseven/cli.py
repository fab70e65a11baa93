"""The `stepseven` command. Every option can also be set as STEPSEVEN_<OPTION>."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from api import DEFAULT_URL
from collector.config import CollectorConfig
from store.duckdb_store import COLLECTOR_THREADS, DEFAULT_MEMORY_LIMIT
from store.model import QueryResult
from store.reads import VIEWS

ReadArrow = Callable[[str, list[Any], int], tuple[Any, bool]]

DEFAULT_DB = "stepseven.duckdb"
# The option defaults are the components' own, so that they cannot drift apart.
_COLLECTOR = CollectorConfig()
_LIMITS = _COLLECTOR.limits


F = TypeVar("F", bound=Callable[..., Any])


def _option(*decls: str, env: str, **kwargs: Any) -> Callable[[F], F]:
    return click.option(*decls, envvar=f"STEPSEVEN_{env}", show_envvar=True, show_default=True, **kwargs)


def _token_option(fn: F) -> F:
    return click.option(
        "--token",
        envvar="STEPSEVEN_TOKEN",
        show_envvar=True,
        default=None,
        help="Bearer token of a collector started with --token (sent as `Authorization: Bearer TOKEN`).",
    )(fn)


def _read_source_options(fn: F) -> F:
    """--url and --db for the commands that read (see `_reader`): the API of a running collector, else the file."""
    fn = _option(
        "--db",
        env="DB",
        default=DEFAULT_DB,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Read this DuckDB file directly (only when no collector holds it).",
    )(fn)
    return _option("--url", env="URL", default=DEFAULT_URL, help="Query API of a running collector.")(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="stepseven")
def cli() -> None:
    """stepseven: a flight recorder for AI agents.

    Point your agents' OpenTelemetry exporter at it (OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318
    or grpc://127.0.0.1:4317) and every span they emit is stored, queryable in SQL.
    """


@cli.command()
@_option(
    "--db",
    env="DB",
    default=DEFAULT_DB,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The DuckDB file the collector owns (created if missing).",
)
@_option(
    "--store",
    env="STORE",
    default=None,
    help="Store everything in PostgreSQL instead of the --db file: postgresql://USER:PASSWORD@HOST:5432/DATABASE. "
    "Several collectors may share one database (see docs/scaling.md).",
)
@_option(
    "--host",
    env="HOST",
    default="127.0.0.1",
    help="Address to listen on. Anything but loopback exposes the ports to the network: choose it on purpose.",
)
@_option("--grpc-port", env="GRPC_PORT", default=4317, type=int, help="OTLP/gRPC port.")
@_option(
    "--http-port",
    env="HTTP_PORT",
    default=4318,
    type=int,
    help="OTLP/HTTP port (/v1/traces, /v1/logs, /v1/metrics).",
)
@_option("--api-port", env="API_PORT", default=4319, type=int, help="Read-only query API port.")
@_option("--ui-port", env="UI_PORT", default=8501, type=int, help="Dashboard port (Streamlit).")
@_option("--no-ui", env="NO_UI", is_flag=True, help="Do not start the dashboard.")
@_option(
    "--no-receivers",
    env="NO_RECEIVERS",
    is_flag=True,
    help="Only serve the query API over an existing file (no OTLP ports).",
)
@_option(
    "--memory-limit",
    env="MEMORY_LIMIT",
    default=DEFAULT_MEMORY_LIMIT,
    help="DuckDB's memory limit (ingest, sessions and SQL queries share it; past it, DuckDB spills to "
    "DB.tmp). The default holds a million-span ingest; raise it for large SQL sorts and joins.",
)
@_option(
    "--duckdb-threads",
    env="DUCKDB_THREADS",
    default=None,
    type=click.IntRange(min=1),
    help=f"DuckDB's worker threads (ingest, sessions and SQL queries share them). Default: "
    f"{COLLECTOR_THREADS}, which writes fastest on a small machine; one per core with --no-receivers. "
    "More make large SQL queries faster where cores are to spare.",
)
@_option(
    "--max-request-bytes",
    env="MAX_REQUEST_BYTES",
    default=_LIMITS.max_request_bytes,
    type=int,
    help="Largest export body accepted as sent (compressed); larger gets 413.",
)
@_option(
    "--max-decompressed-bytes",
    env="MAX_DECOMPRESSED_BYTES",
    default=_LIMITS.max_decompressed_bytes,
    type=int,
    help="Largest export after decompression (and largest gRPC message); larger gets 413.",
)
@_option(
    "--max-spans-per-request",
    env="MAX_SPANS_PER_REQUEST",
    default=_LIMITS.max_spans_per_request,
    type=int,
    help="Most spans in one export request; more gets 413.",
)
@_option(
    "--max-attribute-value-bytes",
    env="MAX_ATTRIBUTE_VALUE_BYTES",
    default=_LIMITS.max_attribute_value_bytes,
    type=int,
    help="Longer attribute values are truncated with a marker (counted on /healthz).",
)
@_option(
    "--max-attributes-per-span",
    env="MAX_ATTRIBUTES_PER_SPAN",
    default=_LIMITS.max_attributes_per_span,
    type=int,
    help="Attributes past this count are dropped and counted in dropped_attributes_count.",
)
@_option(
    "--max-queue-items",
    env="MAX_QUEUE_ITEMS",
    default=_COLLECTOR.max_queue_items,
    type=int,
    help="Items accepted but not yet committed; past it exporters get 503 / UNAVAILABLE and retry.",
)
@_option(
    "--decode-workers",
    env="DECODE_WORKERS",
    default=None,
    type=click.IntRange(min=1),
    help="Processes that decode and normalize incoming data (default: one per CPU core, at most 8).",
)
@_option(
    "--cors-origin",
    env="CORS_ORIGIN",
    multiple=True,
    help="Origin allowed to export from a browser (repeatable; '*' for any).",
)
@_option(
    "--query-timeout",
    env="QUERY_TIMEOUT",
    default=30.0,
    type=float,
    help="Seconds a query may run before it is stopped.",
)
@_option(
    "--analyze-after",
    env="ANALYZE_AFTER",
    default=10.0,
    type=click.FloatRange(min=0),
    help="Analyze a session once it has had no new spans for this many seconds.",
)
@_option(
    "--analyzer-config",
    env="ANALYZER_CONFIG",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file of analyzer thresholds and context windows (see `stepseven analyze --help`).",
)
@click.option(
    "--token",
    envvar="STEPSEVEN_TOKEN",
    show_envvar=True,
    default=None,
    help="Require `Authorization: Bearer TOKEN` on every OTLP export and query API call "
    "(exporters: OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20TOKEN). Off when not set.",
)
@_option(
    "--redact",
    env="REDACT",
    is_flag=True,
    help="Replace emails, API keys, bearer tokens and card numbers in "
    "everything received, before it is written (see docs/ingest.md#redaction).",
)
@_option(
    "--redaction-config",
    env="REDACTION_CONFIG",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file choosing built-in patterns and adding your own regular expressions (implies --redact).",
)
@_option(
    "--retention-days",
    env="RETENTION_DAYS",
    default=None,
    type=click.FloatRange(min=0, min_open=True),
    help="Delete sessions, spans, logs and metrics older than this many days, every --retention-interval.",
)
@_option(
    "--retention-interval",
    env="RETENTION_INTERVAL",
    default=600.0,
    type=click.FloatRange(min=1),
    help="Seconds between retention runs (the first runs at start).",
)
@_option(
    "--prices",
    env="PRICES",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='TOML file of model prices in US dollars per million tokens, [prices."PREFIX"] with input, output '
    "and cached_input; its rows add to and replace those shipped (collector/prices.toml). A model that "
    "matches no prefix has no cost (NULL, not 0). Applies to sessions built from then on.",
)
@_option(
    "--disk-reserve",
    env="DISK_RESERVE",
    default="auto",
    help="Free space to keep on the --db file's volume: below it, new exports are refused (503 / UNAVAILABLE, "
    "exporters retry) until space is freed. A size such as 200MB or 1GiB, or auto: a tenth of the volume, "
    "at least 16 MiB and at most 1 GiB.",
)
def serve(
    db: Path,
    store: str | None,
    host: str,
    grpc_port: int,
    http_port: int,
    api_port: int,
    ui_port: int,
    no_ui: bool,
    no_receivers: bool,
    memory_limit: str,
    duckdb_threads: int | None,
    max_request_bytes: int,
    max_decompressed_bytes: int,
    max_spans_per_request: int,
    max_attribute_value_bytes: int,
    max_attributes_per_span: int,
    max_queue_items: int,
    decode_workers: int | None,
    cors_origin: tuple[str, ...],
    query_timeout: float,
    analyze_after: float,
    analyzer_config: Path | None,
    token: str | None,
    redact: bool,
    redaction_config: Path | None,
    retention_days: float | None,
    retention_interval: float,
    disk_reserve: str,
    prices: Path | None,
) -> None:
    """Run the collector: OTLP receivers, the store, the analyzer, the query API and the dashboard.

    Stop it with Ctrl-C or SIGTERM: it stops accepting, writes everything it acknowledged, and
    closes the file cleanly.
    """
    from analyzer.config import ConfigFileError, load_config
    from collector.config import ConfigError, Limits
    from collector.pricing import PriceFileError, load_prices
    from collector.redact import RedactionConfigError, load_redactor
    from stepseven.service import ServeConfig, ServeError
    from stepseven.service import serve as run_service
    from store.disk_space import DiskReserveError, parse_reserve
    from store.duckdb_store import StoreError

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        redactor = load_redactor(redact, redaction_config)
    except RedactionConfigError as exc:
        raise click.ClickException(str(exc)) from None
    limits = Limits(
        max_request_bytes=max_request_bytes,
        max_decompressed_bytes=max_decompressed_bytes,
        max_spans_per_request=max_spans_per_request,
        max_attribute_value_bytes=max_attribute_value_bytes,
        max_attributes_per_span=max_attributes_per_span,
    )
    collector = CollectorConfig(
        host=host,
        grpc_port=grpc_port,
        http_port=http_port,
        limits=limits,
        cors_origins=cors_origin,
        max_queue_items=max_queue_items,
        max_batch_items=min(_COLLECTOR.max_batch_items, max_queue_items),
        decode_workers=decode_workers,
        token=token,
        redactor=redactor,
    )
    try:
        reserve = parse_reserve(disk_reserve)
    except DiskReserveError as exc:
        raise click.BadParameter(str(exc), param_hint="--disk-reserve") from None
    try:
        analysis = load_config(analyzer_config)
        price_table = load_prices(prices)
    except (ConfigFileError, PriceFileError) as exc:
        raise click.ClickException(str(exc)) from None
    config = ServeConfig(
        db=db,
        store_url=store or None,
        collector=collector,
        api_port=api_port,
        memory_limit=memory_limit,
        duckdb_threads=duckdb_threads,
        query_timeout_seconds=query_timeout,
        receivers=not no_receivers,
        analyzer=analysis,
        analyze_after_seconds=analyze_after,
        ui_port=None if no_ui else ui_port,
        retention_days=retention_days,
        retention_interval_seconds=retention_interval,
        disk_reserve_bytes=reserve,
        prices=price_table,
    )
    try:
        run_service(config, lambda line: click.echo(line, err=True))
    except (ConfigError, ServeError, StoreError) as exc:
        raise click.ClickException(str(exc)) from None


@cli.command()
@click.argument("sql")
@_read_source_options
@_option(
    "--format",
    "fmt",
    env="FORMAT",
    default="table",
    type=click.Choice(["table", "json", "csv", "parquet"]),
    help="json prints an array of row objects; parquet keeps the column types and needs --output.",
)
@_option("--limit", env="LIMIT", default=10_000, type=click.IntRange(1, 1_000_000), help="Most rows to return.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the result to this file instead of the terminal.",
)
@_token_option
@click.pass_context
def query(
    ctx: click.Context, sql: str, url: str, db: Path, fmt: str, limit: int, output: Path | None, token: str | None
) -> None:
    """Run one read-only SQL statement over the stored traces.

    Goes through the collector's query API when one runs at --url; otherwise, or when --db is
    given, reads the file directly. The views are described in docs/sql.md.

    \b
    Examples:
      stepseven query "SELECT name, count(*) FROM spans GROUP BY 1 ORDER BY 2 DESC"
      stepseven query --format json "SELECT * FROM spans WHERE status = 'error' LIMIT 5"
      stepseven query --format parquet -o tools.parquet "SELECT * FROM tool_calls"
    """
    if fmt == "parquet" and output is None:
        raise click.UsageError("--format parquet writes a file: add --output FILE.parquet")
    with _reader(ctx, url, db, token) as read:
        table, truncated = read(sql, [], limit)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        assert output is not None
        pq.write_table(table, output, compression="zstd")
        click.echo(f"wrote {table.num_rows} rows to {output}", err=True)
        if truncated:
            click.echo(f"(truncated to {table.num_rows} rows; raise --limit to see more)", err=True)
        return
    from store.query import to_result

    result = to_result(table, truncated)
    if output is None:
        _print(result, fmt)
        return
    with output.open("w", encoding="utf-8", newline="") as file:
        _print(result, fmt, file)
    click.echo(f"wrote {len(result.rows)} rows to {output}", err=True)


@contextlib.contextmanager
def _reader(ctx: click.Context, url: str, db: Path, token: str | None) -> Iterator[ReadArrow]:
    """Reads through the collector's API when one runs at --url, else (or with --db alone) from the file."""
    from api.client import ApiClient, ApiError, ApiUnreachable
    from store.duckdb_store import DuckDBStore, StoreError
    from store.query import QueryFailed, QueryRefused, run_sql_arrow

    db_given, url_given = _given(ctx, "db"), _given(ctx, "url")
    if not (db_given and not url_given):
        client = ApiClient(url, token=token)
        try:
            client.health()
        except ApiUnreachable as exc:
            client.close()
            if url_given or not db.exists():
                raise click.ClickException(
                    f"{exc} Start one with `stepseven serve`, or read a file with --db PATH."
                ) from None
        else:

            def read_api(sql: str, params: list[Any], limit: int) -> tuple[Any, bool]:
                try:
                    result = client.sql_arrow(sql, params, limit=limit)
                except ApiError as exc:
                    raise click.ClickException(str(exc)) from None
                if client.warning:
                    click.echo(f"warning: {client.warning}", err=True)
                return result

            try:
                yield read_api
            finally:
                client.close()
            return
    try:
        store = DuckDBStore(db, read_only=True)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None

    def read_file(sql: str, params: list[Any], limit: int) -> tuple[Any, bool]:
        try:
            return run_sql_arrow(store.cursor, sql, params=params, max_rows=limit)
        except (QueryRefused, QueryFailed) as exc:
            raise click.ClickException(str(exc)) from None

    try:
        yield read_file
    finally:
        store.close()


@cli.command()
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
@_read_source_options
@_token_option
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
        with _reader(ctx, url, db, token) as read:
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
    with _reader(ctx, url, db, token) as read:
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


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_option(
    "--endpoint",
    env="ENDPOINT",
    default="http://127.0.0.1:4318",
    help="OTLP/HTTP endpoint of a collector (stepseven or any other).",
)
@_option(
    "--header",
    "headers",
    env="SEND_HEADER",
    multiple=True,
    help="Extra header as NAME=VALUE (repeatable), e.g. X-Tenant=acme.",
)
@_token_option
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


@cli.command()
@click.option("--before", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), default=None,
              help="Delete what is older than this UTC date or time.")  # fmt: skip
@click.option("--older-than-days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Or: delete what is older than this many days.")  # fmt: skip
@_option(
    "--db",
    env="DB",
    default=DEFAULT_DB,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The DuckDB file to prune (a running collector prunes itself: serve --retention-days).",
)
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


@cli.command()
@_option(
    "--db",
    env="DB",
    default=DEFAULT_DB,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The DuckDB file to update (stop the collector that holds it first).",
)
def renormalize(db: Path) -> None:
    """Recompute the normalized GenAI columns, sessions, steps and handoffs from the raw spans.

    Run it after upgrading stepseven when the normalization rules changed: nothing needs to be
    re-ingested, because every span is kept raw.
    """
    import orjson

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


@cli.command()
@click.option("--session", "sessions", multiple=True, help="Analyze only this session (repeatable).")
@_option("--url", env="URL", default=DEFAULT_URL, help="Query API of a running collector (findings are printed only).")
@_option(
    "--db",
    env="DB",
    default=DEFAULT_DB,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Analyze this DuckDB file directly (only when no collector holds it); the findings are saved in it.",
)
@_option(
    "--config",
    "config_file",
    env="ANALYZER_CONFIG",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file with [thresholds] and [context_windows]; options given here override it.",
)
@_option(
    "--format",
    "fmt",
    env="FORMAT",
    default="text",
    type=click.Choice(["text", "json"]),
    help="json prints an array of finding objects.",
)
@click.option("--no-save", is_flag=True, help="With --db, print the findings without storing them.")
@_token_option
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
    from analyzer.load import Norms, Reader, SessionRowsReader, iter_sessions, rows_by_sql, session_ids
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

    db_given, url_given = _given(ctx, "db"), _given(ctx, "url")
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

            findings = run(store.read, store.session_rows, None if no_save else save)
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


@cli.command()
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
        result = run_evaluation(corpus or _default_samples())
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.table())


@cli.command()
@_option("--url", env="URL", default=DEFAULT_URL, help="Query API of the collector to show.")
@_option("--host", env="UI_HOST", default="127.0.0.1", help="Address the dashboard listens on.")
@_option("--port", env="UI_PORT", default=8501, type=int, help="Dashboard port.")
@_token_option
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


@cli.command()
@_option("--ui-port", env="UI_PORT", default=8501, type=int, help="Dashboard port.")
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
    from collector.config import CollectorConfig
    from collector.otlp_files import signal_of
    from stepseven.service import ServeConfig, ServeError
    from stepseven.service import serve as run_service
    from store.duckdb_store import StoreError

    folder = samples or _default_samples()
    files = sorted(p for p in folder.glob("*.json") if not p.name.endswith(".expected.json"))
    config_file = folder / "analyzer.toml"
    analyzer = load_config(config_file) if config_file.exists() else AnalyzerConfig()
    collector = CollectorConfig(grpc_port=_free_port(), http_port=_free_port())

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
            api_port=_free_port(),
            analyzer=analyzer,
            analyze_after_seconds=1.0,
            ui_port=ui_port,
        )
        try:
            run_service(config, announce)
        except (ServeError, StoreError) as exc:
            raise click.ClickException(str(exc)) from None


def _default_samples() -> Path:
    from stepseven.samples import SamplesMissing, samples_directory

    try:
        return samples_directory()
    except SamplesMissing as exc:
        raise click.ClickException(str(exc)) from None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _given(ctx: click.Context, name: str) -> bool:
    """Whether the user set this option (on the command line or in the environment), not its default."""
    return ctx.get_parameter_source(name) not in (click.core.ParameterSource.DEFAULT, None)


def _print(result: QueryResult, fmt: str, file: Any = None) -> None:
    if fmt == "json":
        rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
        click.echo(orjson.dumps(rows, default=str, option=orjson.OPT_INDENT_2).decode(), file=file)
    elif fmt == "csv":
        click.echo(result.to_csv(), nl=False, file=file)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*result.columns, show_lines=False)
        for row in result.rows:
            # Trace content is hostile: render it as plain text, never as rich markup.
            table.add_row(*(_cell(v) for v in row))
        Console(markup=False, highlight=False, file=file).print(table)
    if result.truncated:
        click.echo(f"(truncated to {len(result.rows)} rows; raise --limit to see more)", err=True)


def _cell(value: Any) -> Any:
    from rich.text import Text

    text = "NULL" if value is None else str(value)
    return Text(text if len(text) <= 200 else text[:200] + "…")


def main() -> None:
    cli(prog_name="stepseven")


if __name__ == "__main__":
    main()
