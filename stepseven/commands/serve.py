"""`stepseven serve`: the collector (receivers, store, session building, analyzer, query API, dashboard)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from collector.config import CollectorConfig
from stepseven.commands.options import (
    COLLECTOR_DEFAULTS,
    LIMIT_DEFAULTS,
    db_option,
    option,
)
from store.duckdb_store import COLLECTOR_THREADS, DEFAULT_MEMORY_LIMIT


@click.command()
@db_option("The DuckDB file the collector owns (created if missing).")
@option(
    "--store",
    env="STORE",
    default=None,
    help="Store everything in PostgreSQL instead of the --db file: postgresql://USER:PASSWORD@HOST:5432/DATABASE. "
    "Several collectors may share one database (see docs/scaling.md).",
)
@option(
    "--host",
    env="HOST",
    default="127.0.0.1",
    help="Address to listen on. Anything but loopback exposes the ports to the network: choose it on purpose.",
)
@option("--grpc-port", env="GRPC_PORT", default=4317, type=int, help="OTLP/gRPC port.")
@option(
    "--http-port",
    env="HTTP_PORT",
    default=4318,
    type=int,
    help="OTLP/HTTP port (/v1/traces, /v1/logs, /v1/metrics).",
)
@option("--api-port", env="API_PORT", default=4319, type=int, help="Read-only query API port.")
@option("--ui-port", env="UI_PORT", default=8501, type=int, help="Dashboard port (Streamlit).")
@option("--no-ui", env="NO_UI", is_flag=True, help="Do not start the dashboard.")
@option(
    "--no-receivers",
    env="NO_RECEIVERS",
    is_flag=True,
    help="Only serve the query API over an existing file (no OTLP ports).",
)
@option(
    "--memory-limit",
    env="MEMORY_LIMIT",
    default=DEFAULT_MEMORY_LIMIT,
    help="DuckDB's memory limit (ingest, sessions and SQL queries share it; past it, DuckDB spills to "
    "DB.tmp). The default holds a million-span ingest; raise it for large SQL sorts and joins.",
)
@option(
    "--duckdb-threads",
    env="DUCKDB_THREADS",
    default=None,
    type=click.IntRange(min=1),
    help=f"DuckDB's worker threads (ingest, sessions and SQL queries share them). Default: "
    f"{COLLECTOR_THREADS}, which writes fastest on a small machine; one per core with --no-receivers. "
    "More make large SQL queries faster where cores are to spare.",
)
@option(
    "--max-request-bytes",
    env="MAX_REQUEST_BYTES",
    default=LIMIT_DEFAULTS.max_request_bytes,
    type=int,
    help="Largest export body accepted as sent (compressed); larger gets 413.",
)
@option(
    "--max-decompressed-bytes",
    env="MAX_DECOMPRESSED_BYTES",
    default=LIMIT_DEFAULTS.max_decompressed_bytes,
    type=int,
    help="Largest export after decompression (and largest gRPC message); larger gets 413.",
)
@option(
    "--max-spans-per-request",
    env="MAX_SPANS_PER_REQUEST",
    default=LIMIT_DEFAULTS.max_spans_per_request,
    type=int,
    help="Most spans in one export request; more gets 413.",
)
@option(
    "--max-attribute-value-bytes",
    env="MAX_ATTRIBUTE_VALUE_BYTES",
    default=LIMIT_DEFAULTS.max_attribute_value_bytes,
    type=int,
    help="Longer attribute values are truncated with a marker (counted on /healthz).",
)
@option(
    "--max-attributes-per-span",
    env="MAX_ATTRIBUTES_PER_SPAN",
    default=LIMIT_DEFAULTS.max_attributes_per_span,
    type=int,
    help="Attributes past this count are dropped and counted in dropped_attributes_count.",
)
@option(
    "--max-queue-items",
    env="MAX_QUEUE_ITEMS",
    default=COLLECTOR_DEFAULTS.max_queue_items,
    type=int,
    help="Items accepted but not yet committed; past it exporters get 503 / UNAVAILABLE and retry.",
)
@option(
    "--decode-workers",
    env="DECODE_WORKERS",
    default=None,
    type=click.IntRange(min=1),
    help="Processes that decode and normalize incoming data (default: one per CPU core, at most 8).",
)
@option(
    "--cors-origin",
    env="CORS_ORIGIN",
    multiple=True,
    help="Origin allowed to export from a browser (repeatable; '*' for any).",
)
@option(
    "--query-timeout",
    env="QUERY_TIMEOUT",
    default=30.0,
    type=float,
    help="Seconds a query may run before it is stopped.",
)
@option(
    "--analyze-after",
    env="ANALYZE_AFTER",
    default=10.0,
    type=click.FloatRange(min=0),
    help="Analyze a session once it has had no new spans for this many seconds.",
)
@option(
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
@option(
    "--redact",
    env="REDACT",
    is_flag=True,
    help="Replace emails, API keys, bearer tokens and card numbers in "
    "everything received, before it is written (see docs/ingest.md#redaction).",
)
@option(
    "--redaction-config",
    env="REDACTION_CONFIG",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file choosing built-in patterns and adding your own regular expressions (implies --redact).",
)
@option(
    "--retention-days",
    env="RETENTION_DAYS",
    default=None,
    type=click.FloatRange(min=0, min_open=True),
    help="Delete sessions, spans, logs and metrics older than this many days, every --retention-interval.",
)
@option(
    "--retention-interval",
    env="RETENTION_INTERVAL",
    default=600.0,
    type=click.FloatRange(min=1),
    help="Seconds between retention runs (the first runs at start).",
)
@option(
    "--prices",
    env="PRICES",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='TOML file of model prices in US dollars per million tokens, [prices."PREFIX"] with input, output '
    "and cached_input; its rows add to and replace those shipped (collector/prices.toml). A model that "
    "matches no prefix has no cost (NULL, not 0). Applies to sessions built from then on.",
)
@option(
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
        max_batch_items=min(COLLECTOR_DEFAULTS.max_batch_items, max_queue_items),
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
