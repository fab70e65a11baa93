"""The read side: user SQL with a row cap and a time limit, on a read-only transaction.

A `Reader` is what the query API and the CLI read through; `DuckDBReader` is the embedded store's,
`store.postgres_query.PostgresReader` the PostgreSQL store's. Both answer with Arrow tables.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from store.model import QueryResult
from store.sql_guard import QueryRefused, check

DEFAULT_MAX_ROWS = 10_000
DEFAULT_TIMEOUT_SECONDS = 30.0
_BATCH_ROWS = 8_192

__all__ = ["DuckDBReader", "QueryFailed", "QueryRefused", "QueryTimeout", "Reader", "run_sql", "run_sql_arrow"]


class QueryFailed(Exception):
    """The database refused or failed the query; the message is the database's."""


class QueryTimeout(QueryFailed):
    pass


# The words an out-of-memory refusal starts with, on every path (API error, CLI message), so that a bulk
# reader can tell "read less at a time" from other failures.
OUT_OF_MEMORY = "the query needs more memory than the collector's --memory-limit allows"


def timeout_message(seconds: float) -> str:
    return f"The query ran longer than {seconds:g} s and was stopped; narrow it with WHERE or LIMIT."


class Reader(Protocol):
    dialect: str  # "duckdb" or "postgresql": the SQL the user writes is the backend's

    def run_arrow(
        self, sql: str, params: list[Any], *, max_rows: int, timeout_seconds: float, trusted: bool = False
    ) -> tuple[pa.Table, bool]:
        """One read-only statement's first ``max_rows`` rows and whether there were more.

        ``trusted`` SQL is stepseven's own, written with ``?`` placeholders on every backend.
        """
        ...

    def close(self) -> None: ...


class DuckDBReader:
    dialect = "duckdb"

    def __init__(
        self,
        cursor_factory: Callable[[], duckdb.DuckDBPyConnection],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._cursor_factory = cursor_factory
        self._on_error = on_error  # the store's recovery from DuckDB's fatal errors

    def run_arrow(
        self, sql: str, params: list[Any], *, max_rows: int, timeout_seconds: float, trusted: bool = False
    ) -> tuple[pa.Table, bool]:
        return run_sql_arrow(
            self._cursor_factory,
            sql,
            params=params,
            max_rows=max_rows,
            timeout_seconds=timeout_seconds,
            on_error=self._on_error,
            trusted=trusted,
        )

    def close(self) -> None:
        pass  # the store's connection is the store's to close


_QUESTION_MARK = re.compile(r"\?")


def numbered(sql: str) -> str:
    """stepseven's own ``?`` placeholders as PostgreSQL's ``$1, $2, ...`` (never applied to user SQL)."""
    counter = iter(range(1, 1_000_000))
    return _QUESTION_MARK.sub(lambda _: f"${next(counter)}", sql)


def run_sql_arrow(
    cursor_factory: Callable[[], duckdb.DuckDBPyConnection],
    sql: str,
    *,
    params: list[Any] | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    on_error: Callable[[BaseException], None] | None = None,
    trusted: bool = False,
) -> tuple[pa.Table, bool]:
    """Runs one read-only statement; values go in ``params`` (``?`` or ``$1`` placeholders), never in the text.

    Returns the first ``max_rows`` rows, typed, and whether there were more. ``trusted`` SQL (stepseven's own
    fixed reads, values in ``params``) skips the guard, whose parse cost a replay's reads 25 ms each.
    """
    query = sql if trusted else check(sql).query
    try:
        cursor = cursor_factory()
    except duckdb.Error as exc:  # the store could not give a cursor (and has begun its recovery, if any)
        raise QueryFailed(str(exc).strip()) from None
    timed_out = threading.Event()

    def interrupt() -> None:
        timed_out.set()
        cursor.interrupt()

    timer = threading.Timer(timeout_seconds, interrupt)
    timer.daemon = True
    try:
        cursor.execute("BEGIN TRANSACTION READ ONLY")
        timer.start()
        try:
            relation = cursor.sql(query, params=params or None)
            if relation is None:  # not a query after all (the guard lets only reads through)
                raise QueryRefused("The statement returns no rows; send a SELECT.")
            # Batches are pulled one by one, so a huge result stops at the cap instead of being built whole.
            reader = relation.to_arrow_reader(_BATCH_ROWS)
            batches: list[pa.RecordBatch] = []
            count = 0
            truncated = False
            for batch in reader:
                if count + batch.num_rows > max_rows:
                    batches.append(batch.slice(0, max_rows - count))
                    truncated = True
                    break
                batches.append(batch)
                count += batch.num_rows
            table = pa.Table.from_batches(batches, schema=reader.schema)
        finally:
            timer.cancel()
        return table, truncated
    except (duckdb.Error, pa.ArrowException, OSError) as exc:
        # Errors met while streaming batches come through Arrow's C stream as OSError.
        if timed_out.is_set():
            raise QueryTimeout(timeout_message(timeout_seconds)) from None
        if on_error is not None:
            on_error(exc)
        message = str(exc).strip()
        if "Out of Memory" in message:
            raise QueryFailed(
                f"{OUT_OF_MEMORY}; select fewer columns or rows (WHERE, LIMIT), or raise --memory-limit. "
                "DuckDB said: " + message.split("\n", 1)[0]
            ) from None
        raise QueryFailed(message) from None
    finally:
        try:
            cursor.execute("ROLLBACK")
        except duckdb.Error:
            pass
        cursor.close()


def run_sql(
    reader: Reader,
    sql: str,
    *,
    params: list[Any] | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    trusted: bool = False,
) -> QueryResult:
    """As ``Reader.run_arrow``, as Python rows."""
    table, truncated = reader.run_arrow(
        sql, params or [], max_rows=max_rows, timeout_seconds=timeout_seconds, trusted=trusted
    )
    return to_result(table, truncated)


def to_result(table: pa.Table, truncated: bool) -> QueryResult:
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return QueryResult(list(table.column_names), list(zip(*columns, strict=True)) if columns else [], truncated)
