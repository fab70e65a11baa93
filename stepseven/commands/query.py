"""`stepseven query`: one read-only SQL statement, through a running collector or on the file."""

from __future__ import annotations

from pathlib import Path

import click

from stepseven.commands.options import (
    option,
    print_result,
    read_source,
    read_source_options,
    token_option,
)


@click.command()
@click.argument("sql")
@read_source_options
@option(
    "--format",
    "fmt",
    env="FORMAT",
    default="table",
    type=click.Choice(["table", "json", "csv", "parquet"]),
    help="json prints an array of row objects; parquet keeps the column types and needs --output.",
)
@option("--limit", env="LIMIT", default=10_000, type=click.IntRange(1, 1_000_000), help="Most rows to return.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the result to this file instead of the terminal.",
)
@token_option
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
    with read_source(ctx, url, db, token) as read:
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
        print_result(result, fmt)
        return
    with output.open("w", encoding="utf-8", newline="") as file:
        print_result(result, fmt, file)
    click.echo(f"wrote {len(result.rows)} rows to {output}", err=True)
