"""The query API: the only way the dashboard and the CLI read a live store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from store.query import DEFAULT_MAX_ROWS, QueryFailed, QueryRefused, QueryTimeout, run_sql

MAX_ROWS_LIMIT = 1_000_000


def _default(value: Any) -> Any:
    # DuckDB returns Decimal, datetime, UUID, bytes...: everything JSON has no type for becomes text.
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return str(value)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(payload, default=_default, option=orjson.OPT_NON_STR_KEYS),
        status_code=status,
        media_type="application/json",
    )


def _error(message: str, status: int) -> Response:
    return _json({"error": message}, status)


# (session_id, first step, last step, columns) -> rows of those columns of the `steps` view.
SessionSteps = Callable[[str, int, int, list[str]], list[tuple[Any, ...]]]


def build_app(
    cursor_factory: Callable[[], duckdb.DuckDBPyConnection],
    health: Callable[[], dict[str, Any]],
    *,
    query_timeout_seconds: float,
    session_steps: SessionSteps | None = None,
) -> Starlette:
    async def sql(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error('The body must be JSON: {"sql": "SELECT ..."}.', 400)
        if not isinstance(body, dict) or not isinstance(body.get("sql"), str):
            return _error('The body must be a JSON object with a string "sql".', 400)
        limit = body.get("limit", DEFAULT_MAX_ROWS)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= MAX_ROWS_LIMIT:
            return _error(f'"limit" must be a whole number from 1 to {MAX_ROWS_LIMIT}.', 400)
        params = body.get("params", [])
        if not isinstance(params, list) or not all(
            p is None or isinstance(p, str | int | float | bool) for p in params
        ):
            return _error('"params" must be a list of strings, numbers, booleans or nulls (one per ? in the SQL).', 400)
        try:
            result = await run_in_threadpool(
                run_sql,
                cursor_factory,
                body["sql"],
                params=params,
                max_rows=limit,
                timeout_seconds=query_timeout_seconds,
            )
        except QueryRefused as exc:
            return _error(str(exc), 400)
        except QueryTimeout as exc:
            return _error(str(exc), 400)
        except QueryFailed as exc:
            return _error(f"The query failed: {exc}", 400)
        if "text/csv" in request.headers.get("accept", ""):
            return Response(result.to_csv(), media_type="text/csv")
        return _json(
            {
                "columns": result.columns,
                "rows": [list(row) for row in result.rows],
                "row_count": len(result.rows),
                "truncated": result.truncated,
            }
        )

    step_columns: list[str] = []

    async def steps_of_session(request: Request) -> Response:
        """A range of one session's steps, read the fast way (the `steps` view joins every stored span)."""
        if session_steps is None:
            return _error("This server has no session step reader.", 404)
        if not step_columns:
            cursor = cursor_factory()
            try:
                step_columns.extend(d[0] for d in cursor.execute("SELECT * FROM steps LIMIT 0").description or [])
            finally:
                cursor.close()
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error('The body must be JSON: {"session_id": "...", "from": 1, "to": 200, "columns": [...]}.', 400)
        if not isinstance(body, dict) or not isinstance(body.get("session_id"), str):
            return _error('The body must be a JSON object with a string "session_id".', 400)
        first, last = body.get("from", 1), body.get("to", 2**31 - 1)
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**31 for v in (first, last)):
            return _error('"from" and "to" must be step indexes (whole numbers).', 400)
        columns = body.get("columns", step_columns)
        if not isinstance(columns, list) or not columns or any(c not in step_columns for c in columns):
            return _error(f'"columns" must be a list of columns of the steps view: {", ".join(step_columns)}.', 400)
        rows = await run_in_threadpool(session_steps, body["session_id"], first, last, columns)
        return _json({"columns": columns, "rows": [list(r) for r in rows], "row_count": len(rows)})

    async def healthz(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(health))

    return Starlette(
        routes=[
            Route("/api/v1/sql", sql, methods=["POST"]),
            Route("/api/v1/session-steps", steps_of_session, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
