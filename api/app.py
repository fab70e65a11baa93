"""The query API: the only way the dashboard and the CLI read a live store.

FastAPI validates the requests and writes the OpenAPI document (served at /api/v1/openapi.json);
every read is one read-only statement over the documented views, with a row cap and a time limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

import orjson
import pyarrow as pa
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from collector.auth import authorized
from stepseven import __version__
from store import reads
from store.model import QueryResult
from store.query import DEFAULT_MAX_ROWS, QueryFailed, QueryRefused, Reader, run_sql, to_result
from store.sql_guard import MAX_SQL_CHARS

MAX_ROWS_LIMIT = 1_000_000
ARROW = "application/vnd.apache.arrow.stream"
CSV = "text/csv"
JSON = "application/json"

# (session_id, first step, last step, columns) -> rows of those columns of the `steps` view.
SessionSteps = Callable[[str, int, int, list[str]], list[tuple[Any, ...]]]


class ErrorBody(BaseModel):
    error: str = Field(description="What went wrong, in a sentence that says what to do.")


class SqlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sql: str = Field(
        min_length=1,
        max_length=MAX_SQL_CHARS,
        description="One read-only statement: SELECT, WITH ... SELECT, EXPLAIN, DESCRIBE, SHOW.",
    )
    params: list[str | int | float | bool | None] = Field(
        default_factory=list,
        description="Values for the placeholders, in order: $1, $2, ... (or ? on DuckDB); never paste values into sql.",
    )
    limit: int = Field(DEFAULT_MAX_ROWS, ge=1, le=MAX_ROWS_LIMIT, description="The most rows to return.")
    wait_for_pending: bool = Field(
        False,
        description="First wait until every record acknowledged before the query is in the store, so that the "
        "result counts them all: on DuckDB up to the journal's next write, every 2 s (the collector does not "
        "write sooner for it). Without it the result counts what is in the store and says what it does not "
        "count yet (pending_records).",
    )


class SqlResult(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool = Field(description="True when the query had more rows than `limit`.")
    pending_records: int = Field(
        0,
        description="Acknowledged records that were not in the store when the query began (in the journal, "
        "written within seconds, or retried after a failed write): the result does not count them. "
        "Also in the header X-Stepseven-Pending.",
    )
    warning: str | None = Field(
        default=None,
        description="Why the result may be short, when pending_records is not 0 (also in the header "
        "X-Stepseven-Warning).",
    )


class Page(BaseModel):
    total: int = Field(description="How many match in all (the page holds at most `limit`).")
    limit: int
    offset: int


class SessionsPage(Page):
    sessions: list[dict[str, Any]]


class SessionDetail(BaseModel):
    session: dict[str, Any] = Field(
        description="The session's row of the `sessions` view, with `analysis_error`: why its analysis failed "
        "when `analysis` is `failed` (it is retried), else null."
    )
    handoffs: list[dict[str, Any]]
    findings: list[dict[str, Any]]


class StepsPage(BaseModel):
    session_id: str
    columns: list[str]
    steps: list[dict[str, Any]]


class FindingsPage(Page):
    findings: list[dict[str, Any]]


class Facets(BaseModel):
    agents: list[str]
    services: list[str]
    models: list[str]


class ViewColumn(BaseModel):
    name: str
    type: str


class View(BaseModel):
    name: str
    columns: list[ViewColumn]


ISO_TIME = r"^$|^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$"
SessionOrder = Literal["newest", "oldest", "duration", "steps", "tokens", "cost", "errors"]
assert set(get_args(SessionOrder)) == set(reads.SESSION_ORDER)

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The request cannot run; the sentence says why."},
    401: {"model": ErrorBody, "description": "A token is set and the request did not carry it."},
}


# Module level: FastAPI resolves the (string) annotations that name it in this module's globals.
_BEARER = HTTPBearer(auto_error=False, description="Needed when the collector runs with --token.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]


def _default(value: Any) -> Any:
    # Decimal, datetime, UUID, bytes...: everything JSON has no type for becomes text.
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return str(value)


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(payload, default=_default, option=orjson.OPT_NON_STR_KEYS),
        status_code=status,
        media_type=JSON,
        headers=headers,
    )


def _error(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return _json({"error": message}, status, headers)


def _records(result: QueryResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def _analysis_error(run: reads.Run, session_id: str) -> str | None:
    """The error of a session's failing analysis, as the `derived_failures` view lists it."""
    result = run("SELECT error FROM derived_failures WHERE stage = 'analysis' AND key = ?", [session_id], 1)
    return str(result.rows[0][0]) if result.rows else None


def _validation_sentence(exc: RequestValidationError, path: str) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "the body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    hint = ' The body of /api/v1/sql is {"sql": "SELECT ..."}.' if path.endswith("/sql") else ""
    return "The request is not valid (" + "; ".join(parts) + ")." + hint


# User SQL statements run at once; more wait (up to the query timeout) for one to finish. Each runs on
# the collector's DuckDB threads and cores it shares with ingest (docs/sql.md, "Queries and ingest").
MAX_RUNNING_QUERIES = 2


def _yield_to_ingest() -> None:
    """Runs a query thread at a lower priority (nice 10) than ingest: the collector's DuckDB runs a
    statement on the thread that calls it, so a heavy query then takes the cores ingest leaves."""
    with contextlib.suppress(OSError, AttributeError):  # Linux: a thread id is a process id to setpriority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def build_app(
    reader: Reader,
    health: Callable[[], dict[str, Any]],
    *,
    query_timeout_seconds: float,
    session_steps: SessionSteps | None = None,
    token: str | None = None,
    pending: Callable[[], tuple[int, str | None]] = lambda: (0, None),
    wait_for_pending: Callable[[float], bool] = lambda timeout: True,
    hidden_paths: Sequence[tuple[str, str]] = (),
) -> FastAPI:
    """``hidden_paths``: (folder, what to say instead) for folders error messages must not show."""
    # Longest first, so that a folder inside another is replaced whole.
    hidden = sorted(((p.rstrip("/"), say) for p, say in hidden_paths if p.rstrip("/")), key=lambda h: -len(h[0]))

    def scrub(message: str) -> str:
        for path, say in hidden:
            message = message.replace(path, say)
        return message

    running_queries = asyncio.Semaphore(MAX_RUNNING_QUERIES)
    query_threads = ThreadPoolExecutor(
        MAX_RUNNING_QUERIES, thread_name_prefix="stepseven-sql", initializer=_yield_to_ingest
    )

    def require_token(request: Request, _: Credentials) -> None:
        # HTTPBearer only documents the scheme in the OpenAPI document; the check is the collector's one.
        if not authorized(token, request.headers.get("authorization")):
            raise HTTPException(
                401,
                "This collector needs a token: send the header `Authorization: Bearer TOKEN` "
                "(the value of --token / STEPSEVEN_TOKEN).",
                headers={"WWW-Authenticate": "Bearer"},
            )

    app = FastAPI(
        title="stepseven query API",
        version=__version__,
        description="Read-only access to the traces, sessions, steps and findings a stepseven collector stores.",
        openapi_url="/api/v1/openapi.json",
        # The interactive pages load scripts from a CDN; the document itself is what clients need.
        docs_url=None,
        redoc_url=None,
    )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return _error(_validation_sentence(exc, request.url.path), 400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(str(exc.detail), exc.status_code, dict(exc.headers or {}))

    def read(sql: str, params: list[Any], max_rows: int) -> QueryResult:
        return run_sql(
            reader, sql, params=params, max_rows=max_rows, timeout_seconds=query_timeout_seconds, trusted=True
        )

    async def fixed_read(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await run_in_threadpool(fn, read, *args, **kwargs)
        except QueryFailed as exc:  # a timeout on a huge store, most likely
            raise HTTPException(400, scrub(f"The read failed: {exc}")) from None

    guarded = [Depends(require_token)]

    @app.middleware("http")
    async def token_before_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # FastAPI reads a request's body before its dependencies run: without the token, a POST is
        # refused here, before a byte of its body is read.
        if request.method == "POST" and not authorized(token, request.headers.get("authorization")):
            return _error(
                "This collector needs a token: send the header `Authorization: Bearer TOKEN` "
                "(the value of --token / STEPSEVEN_TOKEN).",
                401,
                {"WWW-Authenticate": "Bearer"},
            )
        return await call_next(request)

    @app.post(
        "/api/v1/sql",
        dependencies=guarded,
        response_model=SqlResult,
        responses={
            **_ERRORS,
            200: {
                "description": "The result: JSON by default, CSV or Arrow IPC stream by the Accept header.",
                "content": {
                    CSV: {"schema": {"type": "string"}},
                    ARROW: {"schema": {"type": "string", "format": "binary"}},
                },
            },
        },
        summary="Run one read-only SQL statement over the views",
    )
    async def sql(body: SqlRequest, request: Request) -> Response:
        accept = request.headers.get("accept", "")
        try:
            await asyncio.wait_for(running_queries.acquire(), query_timeout_seconds)
        except TimeoutError:
            return _error(
                f"{MAX_RUNNING_QUERIES} queries have been running for {query_timeout_seconds:g} s; send it again "
                "when one finishes",
                503,
                {"Retry-After": "5"},
            )
        # Taken before the query: if nothing was waiting then, it sees every record acknowledged before it.
        if body.wait_for_pending and await run_in_threadpool(wait_for_pending, query_timeout_seconds):
            pending_records, warning = 0, None
        else:
            pending_records, warning = pending()
        try:
            table, truncated = await asyncio.get_running_loop().run_in_executor(
                query_threads,
                lambda: reader.run_arrow(
                    body.sql, list(body.params), max_rows=body.limit, timeout_seconds=query_timeout_seconds
                ),
            )
        except QueryRefused as exc:
            return _error(scrub(str(exc)), 400)
        except QueryFailed as exc:
            return _error(scrub(f"The query failed: {exc}"), 400)
        finally:
            running_queries.release()
        flag = {"X-Stepseven-Truncated": "true" if truncated else "false", "X-Stepseven-Pending": str(pending_records)}
        if warning is not None:
            flag["X-Stepseven-Warning"] = warning
        if ARROW in accept:
            sink = pa.BufferOutputStream()
            schema = table.schema.with_metadata({b"truncated": b"true" if truncated else b"false"})
            with pa.ipc.new_stream(sink, schema) as writer:
                writer.write_table(table.replace_schema_metadata(schema.metadata))
            return Response(sink.getvalue().to_pybytes(), media_type=ARROW, headers=flag)
        result = await run_in_threadpool(to_result, table, truncated)
        if CSV in accept:
            return Response(result.to_csv(), media_type=CSV, headers=flag)
        return _json(
            {
                "columns": result.columns,
                "rows": [list(row) for row in result.rows],
                "row_count": len(result.rows),
                "truncated": truncated,
                "pending_records": pending_records,
                "warning": warning,
            },
            headers=flag,
        )

    @app.get("/api/v1/views", dependencies=guarded, response_model=list[View], responses=_ERRORS,
             summary="The documented views and their columns")  # fmt: skip
    async def views() -> Response:
        found = await fixed_read(reads.views)
        return _json([{"name": v, "columns": [{"name": c, "type": t} for c, t in cols]} for v, cols in found.items()])

    @app.get("/api/v1/sessions", dependencies=guarded, response_model=SessionsPage, responses=_ERRORS,
             summary="Sessions, newest first, filtered")  # fmt: skip
    async def sessions(
        q: Annotated[str, Query(max_length=1000, description="Text in session ids, agents, tools, messages.")] = "",
        agent: Annotated[str, Query(max_length=1000)] = "",
        status: Annotated[str, Query(max_length=100, description="ok or error")] = "",
        service: Annotated[str, Query(max_length=1000)] = "",
        model: Annotated[str, Query(max_length=1000)] = "",
        finding: Annotated[str, Query(max_length=100, description="Only sessions with a finding of this kind.")] = "",
        since: Annotated[
            str, Query(pattern=ISO_TIME, description="Sessions active at or after this time (ISO 8601).")
        ] = "",
        until: Annotated[
            str, Query(pattern=ISO_TIME, description="Sessions started before this time (ISO 8601).")
        ] = "",
        order: Annotated[SessionOrder, Query()] = "newest",
        limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
        offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    ) -> Response:
        f = reads.SessionFilter(
            search=q, agent=agent, status=status, service=service, model=model, finding_kind=finding,
            since=_utc(since, "since"), until=_utc(until, "until"), order=order, limit=limit, offset=offset,
        )  # fmt: skip
        result, total = await fixed_read(reads.sessions, f, reader.dialect)
        return _json({"sessions": _records(result), "total": total, "limit": limit, "offset": offset})

    step_columns: list[str] = []

    def all_step_columns() -> list[str]:
        if not step_columns:
            table, _ = reader.run_arrow(
                "SELECT * FROM steps LIMIT 0", [], max_rows=1, timeout_seconds=query_timeout_seconds, trusted=True
            )
            step_columns.extend(table.column_names)
        return step_columns

    @app.get("/api/v1/sessions/{session_id:path}/steps", dependencies=guarded, response_model=StepsPage,
             responses={**_ERRORS, 404: {"model": ErrorBody}},
             summary="A range of one session's steps")  # fmt: skip
    async def steps(
        session_id: Annotated[str, Path(max_length=1024)],
        first: Annotated[int, Query(alias="from", ge=0, le=2**31 - 1, description="First step index.")] = 1,
        last: Annotated[int, Query(alias="to", ge=0, le=2**31 - 1, description="Last step index.")] = 2**31 - 1,
        columns: Annotated[
            str, Query(max_length=4096, description="Comma-separated columns of the steps view; all when empty.")
        ] = "",
    ) -> Response:
        known = await run_in_threadpool(all_step_columns)
        wanted = [c.strip() for c in columns.split(",") if c.strip()] or known
        unknown = [c for c in wanted if c not in known]
        if unknown:
            return _error(f"{', '.join(unknown)[:200]} are not columns of the steps view: {', '.join(known)}.", 400)
        if session_steps is None:
            result = await fixed_read(
                lambda run: run(
                    f"SELECT {', '.join(wanted)} FROM steps WHERE session_id = ? AND step_index BETWEEN ? AND ? "
                    "ORDER BY step_index",
                    [session_id, first, last],
                    MAX_ROWS_LIMIT,
                )
            )
            rows = result.rows
        else:
            # The columns were checked against the view's own names above.
            rows = await run_in_threadpool(session_steps, session_id, first, last, wanted)
        # Only an empty answer needs the second look: no such session, or no steps in that range.
        if not rows and await fixed_read(reads.session, session_id) is None:
            return _error(f"There is no session {session_id!r}; list them with GET /api/v1/sessions.", 404)
        return _json(
            {"session_id": session_id, "columns": wanted, "steps": [dict(zip(wanted, r, strict=True)) for r in rows]}
        )

    @app.get("/api/v1/sessions/{session_id:path}", dependencies=guarded, response_model=SessionDetail,
             responses={**_ERRORS, 404: {"model": ErrorBody}},
             summary="One session, its handoffs and findings")  # fmt: skip
    async def session(session_id: Annotated[str, Path(max_length=1024)]) -> Response:
        found = await fixed_read(reads.session, session_id)
        if found is None:
            return _error(f"There is no session {session_id!r}; list them with GET /api/v1/sessions.", 404)
        # Why its findings are not current, when its analysis fails (and is retried): `analysis` says `failed`.
        found["analysis_error"] = (
            await fixed_read(_analysis_error, session_id) if found.get("analysis") == "failed" else None
        )
        handoffs = await fixed_read(reads.handoffs, session_id)
        findings, _ = await fixed_read(reads.findings, session_id=session_id, limit=100_000, notes=True)
        return _json({"session": found, "handoffs": _records(handoffs), "findings": _records(findings)})

    @app.get("/api/v1/findings", dependencies=guarded, response_model=FindingsPage, responses=_ERRORS,
             summary="Findings across sessions, newest first")  # fmt: skip
    async def findings(
        kind: Annotated[str, Query(max_length=100)] = "",
        severity: Annotated[str, Query(max_length=100)] = "",
        agent: Annotated[str, Query(max_length=1000)] = "",
        session_id: Annotated[str, Query(max_length=1024)] = "",
        limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
        offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
        notes: Annotated[
            bool, Query(description="Also return notes (severity note), which are left out by default")
        ] = False,
    ) -> Response:
        result, total = await fixed_read(
            reads.findings,
            session_id=session_id,
            kind=kind,
            severity=severity,
            agent=agent,
            limit=limit,
            offset=offset,
            notes=notes,
        )
        return _json({"findings": _records(result), "total": total, "limit": limit, "offset": offset})

    @app.get("/api/v1/facets", dependencies=guarded, response_model=Facets, responses=_ERRORS,
             summary="The agents, services and models that occur in sessions")  # fmt: skip
    async def facets() -> Response:
        return _json(await fixed_read(reads.facets, reader.dialect))

    @app.get("/healthz", summary="Liveness and the collector's counters (no token needed)")
    async def healthz() -> Response:
        return _json(await run_in_threadpool(health))

    return app


def _utc(value: str, name: str) -> datetime | None:
    """An ISO 8601 time as the views hold times: UTC without a zone (a time without a zone is taken as UTC)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name} must be an ISO 8601 time such as 2026-11-25T08:00:00Z.") from None
    return parsed if parsed.tzinfo is None else parsed.astimezone(UTC).replace(tzinfo=None)
