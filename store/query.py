"""The read side: user SQL with a row cap and a time limit, on a read-only transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import duckdb

from store.model import QueryResult
from store.sql_guard import QueryRefused, check

DEFAULT_MAX_ROWS = 10_000
DEFAULT_TIMEOUT_SECONDS = 30.0

__all__ = ["QueryFailed", "QueryRefused", "QueryTimeout", "run_sql"]


class QueryFailed(Exception):
    """The database refused or failed the query; the message is the database's."""


class QueryTimeout(QueryFailed):
    pass


def run_sql(
    cursor_factory: Callable[[], duckdb.DuckDBPyConnection],
    sql: str,
    *,
    params: list[Any] | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> QueryResult:
    """Runs one read-only statement; values go in ``params`` (``?`` or ``$1`` placeholders), never in the text."""
    statement = check(sql)
    cursor = cursor_factory()
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
            cursor.execute(statement, params) if params else cursor.execute(statement)
            columns = [d[0] for d in cursor.description or []]
            rows = cursor.fetchmany(max_rows + 1)
        finally:
            timer.cancel()
        truncated = len(rows) > max_rows
        return QueryResult(columns, rows[:max_rows], truncated)
    except duckdb.Error as exc:
        if timed_out.is_set():
            raise QueryTimeout(
                f"The query ran longer than {timeout_seconds:g} s and was stopped; narrow it with WHERE or LIMIT."
            ) from None
        raise QueryFailed(str(exc).strip()) from None
    finally:
        try:
            cursor.execute("ROLLBACK")
        except duckdb.Error:
            pass
        cursor.close()
