"""Which user SQL may run: exactly one read-only statement, as DuckDB's own parser sees it."""

from __future__ import annotations

import duckdb

MAX_SQL_CHARS = 100_000

_ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class QueryRefused(Exception):
    """User SQL that will not run; the message says why in one sentence."""


def check(sql: str) -> duckdb.Statement:
    """The one statement to run, or QueryRefused."""
    if not sql.strip():
        raise QueryRefused("The query is empty; write one SELECT statement.")
    if len(sql) > MAX_SQL_CHARS:
        raise QueryRefused(f"The query is {len(sql)} characters long; the limit is {MAX_SQL_CHARS}.")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(f"The query does not parse: {exc}") from None
    if len(statements) != 1:
        raise QueryRefused(f"The query has {len(statements)} statements; send exactly one read-only statement.")
    statement = statements[0]
    if statement.type not in _ALLOWED:
        kind = str(statement.type).rsplit(".", 1)[-1]
        raise QueryRefused(
            f"{kind} statements are not allowed; only SELECT, WITH, EXPLAIN, DESCRIBE, SHOW and SUMMARIZE "
            "run here, read-only."
        )
    return statement
