"""What the commands share: options read from STEPSEVEN_<OPTION>, where reads go, how results print."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from api import DEFAULT_URL
from collector.config import CollectorConfig
from store.model import QueryResult

ReadArrow = Callable[[str, list[Any], int], tuple[Any, bool]]


DEFAULT_DB = "stepseven.duckdb"


# The option defaults are the components' own, so that they cannot drift apart.
COLLECTOR_DEFAULTS = CollectorConfig()


LIMIT_DEFAULTS = COLLECTOR_DEFAULTS.limits


F = TypeVar("F", bound=Callable[..., Any])


def option(*decls: str, env: str, **kwargs: Any) -> Callable[[F], F]:
    return click.option(*decls, envvar=f"STEPSEVEN_{env}", show_envvar=True, show_default=True, **kwargs)


def token_option(fn: F) -> F:
    return click.option(
        "--token",
        envvar="STEPSEVEN_TOKEN",
        show_envvar=True,
        default=None,
        help="Bearer token of a collector started with --token (sent as `Authorization: Bearer TOKEN`).",
    )(fn)


def db_option(help: str) -> Callable[[F], F]:
    """--db (STEPSEVEN_DB): the DuckDB file, with what this command does with it."""
    return option("--db", env="DB", default=DEFAULT_DB, type=click.Path(dir_okay=False, path_type=Path), help=help)


def read_source_options(fn: F) -> F:
    """--url and --db for the commands that read (see `read_source`): the API of a running collector, else the file."""
    fn = db_option("Read this DuckDB file directly (only when no collector holds it).")(fn)
    return option("--url", env="URL", default=DEFAULT_URL, help="Query API of a running collector.")(fn)


@contextlib.contextmanager
def read_source(ctx: click.Context, url: str, db: Path, token: str | None) -> Iterator[ReadArrow]:
    """Reads through the collector's API when one runs at --url, else (or with --db alone) from the file."""
    from api.client import ApiClient, ApiError, ApiUnreachable
    from store.duckdb_store import DuckDBStore, StoreError
    from store.query import QueryFailed, QueryRefused, run_sql_arrow

    db_given, url_given = given(ctx, "db"), given(ctx, "url")
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
                    # Everything exported before the command ran is counted: the collector's journal is
                    # written to the store every 2 s, and the read waits for that write (never forces it).
                    result = client.sql_arrow(sql, params, limit=limit, wait_for_pending=True)
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


def default_samples() -> Path:
    from stepseven.samples import SamplesMissing, samples_directory

    try:
        return samples_directory()
    except SamplesMissing as exc:
        raise click.ClickException(str(exc)) from None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def given(ctx: click.Context, name: str) -> bool:
    """Whether the user set this option (on the command line or in the environment), not its default."""
    return ctx.get_parameter_source(name) not in (click.core.ParameterSource.DEFAULT, None)


def print_result(result: QueryResult, fmt: str, file: Any = None) -> None:
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
