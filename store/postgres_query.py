"""User SQL on the PostgreSQL store: a login that can only read the views, in a read-only transaction.

The reader logs in as its own role (`stepseven_reader`), not as the collector's login: a query that
calls `set_config('role', ...)` or `RESET ROLE` can then only become what it already is. Each query
runs in `BEGIN READ ONLY` with a `statement_timeout`, and the rollback that ends it also undoes any
setting the query changed, so a pooled connection comes back clean.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from typing import Any

import psycopg
import pyarrow as pa
import sqlalchemy as sa
from psycopg.adapt import AdaptersMap
from psycopg.types.string import TextLoader

from store.query import QueryFailed, QueryTimeout, numbered, timeout_message
from store.sql_guard import check_postgres

READER_ROLE = "stepseven_reader"
_BATCH_ROWS = 8_192

# PostgreSQL type oids -> the Arrow types DuckDB's reader gives for the same view columns.
_ARROW_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int64(),
    23: pa.int64(),
    700: pa.float64(),
    701: pa.float64(),
    25: pa.string(),
    1042: pa.string(),
    1043: pa.string(),
    114: pa.string(),  # json, loaded as text as DuckDB hands JSON over
    3802: pa.string(),  # jsonb
    19: pa.string(),  # name (information_schema, SHOW)
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
    1082: pa.date32(),
    17: pa.binary(),
}


def reader_password(url: sa.URL) -> str:
    """The reader role's password, the same for every collector given the same login (and only for them)."""
    secret = f"{url.username or ''}:{url.password or ''}".encode()
    return hmac.new(secret, b"stepseven query reader", hashlib.sha256).hexdigest()


def reader_url(url: sa.URL) -> sa.URL:
    return url.set(username=READER_ROLE, password=reader_password(url))


def reader_setup_statements(database: str, views: tuple[str, ...]) -> list[str]:
    """What makes `stepseven_reader` able to read the views, and nothing else, in this database."""
    quoted_db = '"' + database.replace('"', '""') + '"'
    return [
        f"GRANT CONNECT ON DATABASE {quoted_db} TO {READER_ROLE}",
        f"GRANT USAGE ON SCHEMA public TO {READER_ROLE}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {READER_ROLE}",
        f"GRANT SELECT ON {', '.join(views)} TO {READER_ROLE}",
    ]


class PostgresReader:
    dialect = "postgresql"

    def __init__(self, url: sa.URL) -> None:
        self._engine = sa.create_engine(reader_url(url), pool_pre_ping=True, pool_size=4, max_overflow=4)
        sa.event.listen(self._engine, "connect", _as_reader)

    def run_arrow(
        self, sql: str, params: list[Any], *, max_rows: int, timeout_seconds: float, trusted: bool = False
    ) -> tuple[pa.Table, bool]:
        is_query = True if trusted else check_postgres(sql)
        statement = numbered(sql) if trusted else sql
        try:
            raw = self._engine.raw_connection()
        except sa.exc.OperationalError as exc:
            raise QueryFailed(f"Cannot reach the PostgreSQL store as {READER_ROLE}: {exc.orig}") from None
        connection: psycopg.Connection[Any] = raw.driver_connection  # type: ignore[assignment]
        timed_out = threading.Event()

        def interrupt() -> None:
            # A backstop to statement_timeout, which a query cannot switch off for itself once started.
            timed_out.set()
            connection.cancel_safe()

        timer = threading.Timer(timeout_seconds + 1.0, interrupt)
        timer.daemon = True
        try:
            with connection.cursor() as setup:
                setup.execute("BEGIN TRANSACTION READ ONLY")
                setup.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout_seconds * 1000))}")
            timer.start()
            try:
                return _fetch(connection, statement, params, max_rows, is_query)
            finally:
                timer.cancel()
        except psycopg.Error as exc:
            if timed_out.is_set() or isinstance(exc, psycopg.errors.QueryCanceled):
                raise QueryTimeout(timeout_message(timeout_seconds)) from None
            message = (exc.diag.message_primary or str(exc)).strip()
            if isinstance(exc, psycopg.errors.InsufficientPrivilege):
                message += " (the SQL API reads the documented views only)"
            raise QueryFailed(message) from None
        finally:
            try:
                connection.rollback()
            except psycopg.Error:
                pass
            raw.close()

    def close(self) -> None:
        self._engine.dispose()


def json_as_text(adapters: AdaptersMap) -> None:
    """JSON values come back as their text, as DuckDB hands them over (not parsed into Python objects)."""
    adapters.register_loader("json", TextLoader)
    adapters.register_loader("jsonb", TextLoader)


def _as_reader(dbapi_connection: Any, _record: Any) -> None:
    connection: psycopg.Connection[Any] = dbapi_connection
    json_as_text(connection.adapters)
    connection.autocommit = True  # the transaction is ours to open, read-only


def _fetch(
    connection: psycopg.Connection[Any], statement: str, params: list[Any], max_rows: int, is_query: bool
) -> tuple[pa.Table, bool]:
    # A server-side cursor for queries, so a huge result stops at the cap instead of crossing the wire whole;
    # EXPLAIN and SHOW cannot be declared as cursors, and their answers are small.
    cursor: psycopg.RawCursor[Any] | psycopg.RawServerCursor[Any]
    cursor = psycopg.RawServerCursor(connection, "stepseven_read") if is_query else psycopg.RawCursor(connection)
    with cursor:
        cursor.execute(statement, params or None)
        description = cursor.description or []
        rows: list[tuple[Any, ...]] = []
        truncated = False
        while True:
            chunk = cursor.fetchmany(_BATCH_ROWS)
            if not chunk:
                break
            room = max_rows - len(rows)
            if len(chunk) > room:
                rows.extend(chunk[:room])
                truncated = True
                break
            rows.extend(chunk)
    names = [d.name for d in description]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = [_array(values, _ARROW_TYPES.get(d.type_code)) for values, d in zip(columns, description, strict=True)]
    return pa.Table.from_arrays(arrays, names=_unique(names)), truncated


def _array(values: tuple[Any, ...], arrow_type: pa.DataType | None) -> pa.Array:
    if arrow_type is not None:
        try:
            return pa.array(values, type=arrow_type)
        except (pa.ArrowException, TypeError, ValueError):
            pass
    if not values:
        return pa.array([], type=pa.string())
    try:
        return pa.array(values)
    except (pa.ArrowException, TypeError, ValueError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _unique(names: list[str]) -> list[str]:
    # `SELECT 1, 1` names both columns ?column?; Arrow keeps duplicates, JSON objects would not.
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if n == 0 else f"{name}_{n}")
    return out
