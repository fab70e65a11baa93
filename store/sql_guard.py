"""Which user SQL may run: exactly one read-only statement, as DuckDB's own parser sees it."""

from __future__ import annotations

import re
import threading
from typing import Any

import duckdb
import orjson

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
    if statement.type == duckdb.StatementType.EXPLAIN:
        inner = _explained(statement.query)
        if duckdb.extract_statements(inner)[0].type != duckdb.StatementType.SELECT:
            raise QueryRefused("EXPLAIN is allowed of a SELECT only; only reads run here.")
        _check_tree(inner)
    else:
        _check_tree(statement.query)
    return statement


def _explained(query: str) -> str:
    """The statement an EXPLAIN explains. EXPLAIN ANALYZE runs it (a COPY inside writes files): refused."""
    tokens = [(at, kind) for at, kind in duckdb.tokenize(query) if kind != duckdb.token_type.comment]
    words = [(at, query[at:].split(None, 1)[0].upper()) for at, _ in tokens[:3]]
    if len(words) < 2 or words[0][1] != "EXPLAIN":
        raise QueryRefused("The EXPLAIN cannot be read; send EXPLAIN followed by one SELECT.")
    if words[1][1].startswith(("ANALYZE", "ANALYSE", "(")):
        raise QueryRefused("EXPLAIN ANALYZE runs the statement; use EXPLAIN alone (it shows the plan).")
    return query[words[1][0] :]


# Functions that read or list files (the store's own database, its WAL and temp files are readable even with
# external access off), reach other databases or change the store's state.
_FILE_OR_STATE_PREFIXES = (
    "read_", "parquet_", "glob", "sniff_csv", "iceberg_", "delta_", "sqlite_", "postgres_", "mysql_", "st_read",
    "pragma_", "duckdb_", "checkpoint", "force_checkpoint", "query", "getenv", "current_setting", "which_secret",
    "load_", "install_", "export_", "copy_",
)  # fmt: skip
_FILE_NAME = re.compile(r"[/\\:]|\.[A-Za-z0-9]{1,8}$")


_PATH_SETTINGS = re.compile(r"dir|path|file|home|secret|extension|log|temp", re.IGNORECASE)


def _harmless_setting(node: dict[str, Any]) -> bool:
    """current_setting of a named setting that holds no path (threads, memory_limit), given as a literal."""
    arguments = node.get("arguments") or node.get("children") or []
    if len(arguments) != 1 or not isinstance(arguments[0], dict):
        return False
    expression = arguments[0].get("expression", arguments[0])
    literal = expression.get("literal") if isinstance(expression, dict) else None
    text = literal.get("text") if isinstance(literal, dict) else None
    return isinstance(text, str) and not _PATH_SETTINGS.search(text)


_scratch = threading.local()


def _parse_tree(sql: str) -> Any:
    """DuckDB's parse tree of ``sql`` as JSON, from an in-memory database of this thread's own (opening one
    per query cost 25 ms; it holds no data and is never written)."""
    scratch: duckdb.DuckDBPyConnection | None = getattr(_scratch, "connection", None)
    if scratch is None:
        scratch = _scratch.connection = duckdb.connect()
    return orjson.loads(scratch.execute("SELECT json_serialize_sql($1)", [sql]).fetchone()[0])  # type: ignore[index]


def _check_tree(sql: str) -> None:
    """Walk the statement's parse tree (DuckDB's own, as JSON) for file, state and path references."""
    tree = _parse_tree(sql)
    if tree.get("error"):
        raise QueryRefused(f"The query cannot be checked: {tree.get('error_message', 'unknown error')}")
    stack: list[Any] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            name = node.get("function_name")
            if isinstance(name, str) and name.lower() == "current_setting" and _harmless_setting(node):
                pass  # current_setting('threads'): a number, not a path
            elif isinstance(name, str) and name.lower().startswith(_FILE_OR_STATE_PREFIXES):
                raise QueryRefused(
                    f"{name}() is not allowed: it reads files or changes the store; query the views instead."
                )
            table = node.get("table_name") if node.get("type") == "BASE_TABLE" else None
            if isinstance(table, str) and _FILE_NAME.search(table):
                raise QueryRefused("Reading a file by its name is not allowed; query the views instead.")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


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
