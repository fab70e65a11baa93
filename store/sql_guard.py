"""Which user SQL may run: exactly one read-only statement, as DuckDB's own parser sees it."""

from __future__ import annotations

import duckdb

MAX_SQL_CHARS = 100_000

_ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class QueryRefused(Exception):
    """User SQL that will not run; the message says why in one sentence."""


def _check_size(sql: str) -> None:
    if not sql.strip():
        raise QueryRefused("The query is empty; write one SELECT statement.")
    if len(sql) > MAX_SQL_CHARS:
        raise QueryRefused(f"The query is {len(sql)} characters long; the limit is {MAX_SQL_CHARS}.")


def check(sql: str) -> duckdb.Statement:
    """The one statement to run, or QueryRefused."""
    _check_size(sql)
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


def check_postgres(sql: str) -> bool:
    """As ``check``, for a PostgreSQL store, by PostgreSQL's own parser (libpg_query, through pglast).

    Returns whether the statement is a query (which can be read through a cursor) rather than EXPLAIN or SHOW.

    The parser only decides what kind of statement this is; the read-only transaction, the
    `statement_timeout` and a login role that can only read the views are what keep it harmless.
    """
    from pglast import ast, parse_sql
    from pglast.parser import ParseError

    _check_size(sql)
    try:
        statements = parse_sql(sql)
    except ParseError as exc:
        raise QueryRefused(f"The query does not parse: {exc}") from None
    if len(statements) != 1:
        raise QueryRefused(f"The query has {len(statements)} statements; send exactly one read-only statement.")
    node = statements[0].stmt
    query = node.query if isinstance(node, ast.ExplainStmt) else node
    if isinstance(query, ast.SelectStmt):
        if query.intoClause is not None:
            raise QueryRefused("SELECT ... INTO creates a table; only reads run here.")
        if query.lockingClause:
            raise QueryRefused("SELECT ... FOR UPDATE/SHARE takes locks; only plain reads run here.")
        with_clause = query.withClause
        for cte in (with_clause.ctes or ()) if with_clause is not None else ():
            if not isinstance(cte.ctequery, ast.SelectStmt):
                raise QueryRefused("WITH holds a statement that writes; only reads run here.")
        return query is node
    if isinstance(node, ast.VariableShowStmt):
        return False
    kind = type(query).__name__.removesuffix("Stmt")
    raise QueryRefused(f"{kind} statements are not allowed; only SELECT, WITH, EXPLAIN and SHOW run here, read-only.")
