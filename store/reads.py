"""The fixed reads behind the query API's REST endpoints, as parameterized SQL over the documented views.

Filters only ever become ``?`` parameters; the few words that shape the SQL text (the sort order)
come from the fixed tables below, never from the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store.model import QueryResult

Run = Callable[[str, list[Any], int], QueryResult]  # (sql, params, max rows) -> result

VIEWS = (
    "sessions", "steps", "llm_calls", "tool_calls", "handoffs", "findings", "redactions", "spans", "logs", "metrics",
    "derived_failures",
)  # fmt: skip

SESSION_ORDER = {
    "newest": "start_time DESC",
    "oldest": "start_time ASC",
    "duration": "duration_ms DESC",
    "steps": "step_count DESC",
    "tokens": "input_tokens + output_tokens DESC",
    "cost": "cost_usd DESC NULLS LAST",
    "errors": "error_count DESC",
}

SESSION_COLUMNS = (
    "session_id", "start_time", "end_time", "duration_ms", "service_name", "root_agent", "agents", "trace_count",
    "step_count", "llm_calls", "tool_calls", "handoff_count", "error_count", "input_tokens", "output_tokens",
    "cache_read_input_tokens", "reasoning_output_tokens", "models", "status", "input_preview", "cost_usd",
    "unpriced_calls",
)  # fmt: skip

FINDING_COLUMNS = (
    "finding_id", "session_id", "kind", "sub_kind", "severity", "agent_name", "step_indexes", "span_ids",
    "explanation", "detected_at", "updated_at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SessionFilter:
    search: str = ""  # session id, agent, tool, or any text in prompts, completions and attributes
    agent: str = ""
    status: str = ""
    service: str = ""
    model: str = ""
    finding_kind: str = ""
    since: datetime | None = None  # sessions active at or after this time (UTC)
    until: datetime | None = None  # sessions started before this time (UTC)
    order: str = "newest"
    limit: int = 100
    offset: int = 0


# The two places where the backends' SQL differs: membership in a JSON list of names, and its elements.
_CONTAINS = {
    "duckdb": "list_contains(CAST({column} AS VARCHAR[]), ?)",
    "postgresql": "CAST({column} AS jsonb) @> jsonb_build_array(CAST(? AS text))",
}
_ELEMENTS = {
    "duckdb": "unnest(CAST({column} AS VARCHAR[]))",
    "postgresql": "json_array_elements_text({column})",
}


def _where(f: SessionFilter, dialect: str) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if f.search:
        # Whatever the user remembers: message text lives in the raw attributes and events.
        where.append(
            "(session_id ILIKE ? OR CAST(agents AS VARCHAR) ILIKE ? OR input_preview ILIKE ? OR session_id IN "
            "(SELECT session_id FROM spans WHERE tool_name ILIKE ? OR CAST(attributes AS VARCHAR) ILIKE ? "
            "OR CAST(events AS VARCHAR) ILIKE ?))"
        )
        params += [f"%{f.search}%"] * 6
    for value, condition in (
        (f.agent, _CONTAINS[dialect].format(column="agents")),
        (f.status, "status = ?"),
        (f.service, "service_name = ?"),
        (f.model, _CONTAINS[dialect].format(column="models")),
        (f.finding_kind, "session_id IN (SELECT session_id FROM findings WHERE kind = ? AND severity <> 'note')"),
        (f.since, "end_time >= CAST(? AS TIMESTAMP)"),
        (f.until, "start_time < CAST(? AS TIMESTAMP)"),
    ):
        if value:
            where.append(condition)
            params.append(value.isoformat() if isinstance(value, datetime) else value)
    return (f"WHERE {' AND '.join(where)}" if where else ""), params


def sessions(run: Run, f: SessionFilter, dialect: str = "duckdb") -> tuple[QueryResult, int]:
    """One page of sessions with their finding kinds, and how many sessions match in all."""
    clause, params = _where(f, dialect)
    order = SESSION_ORDER.get(f.order, SESSION_ORDER["newest"])
    result = run(
        f"""SELECT {", ".join(f"s.{c}" for c in SESSION_COLUMNS)},
                (SELECT string_agg(DISTINCT kind, ', ' ORDER BY kind) FROM findings x
                 WHERE x.session_id = s.session_id AND x.severity <> 'note') AS findings,
                count(*) OVER () AS total_matching
            FROM (SELECT * FROM sessions {clause}) s
            ORDER BY {order}, s.session_id LIMIT ? OFFSET ?""",
        [*params, int(f.limit), int(f.offset)],
        int(f.limit),
    )
    total = int(result.rows[0][-1]) if result.rows else _count(run, clause, params)
    return QueryResult(result.columns[:-1], [r[:-1] for r in result.rows], result.truncated), total


def _count(run: Run, clause: str, params: list[Any]) -> int:
    rows = run(f"SELECT count(*) FROM sessions {clause}", params, 1).rows
    return int(rows[0][0])


def session(run: Run, session_id: str) -> dict[str, Any] | None:
    result = run("SELECT * FROM sessions WHERE session_id = ?", [session_id], 1)
    return dict(zip(result.columns, result.rows[0], strict=True)) if result.rows else None


def handoffs(run: Run, session_id: str) -> QueryResult:
    return run("SELECT * FROM handoffs WHERE session_id = ? ORDER BY handoff_index", [session_id], 100_000)


def findings(
    run: Run,
    *,
    session_id: str = "",
    kind: str = "",
    severity: str = "",
    agent: str = "",
    limit: int = 1000,
    offset: int = 0,
    notes: bool = False,
) -> tuple[QueryResult, int]:
    """Findings, newest first. Notes (severity `note`: recovered errors, limits hit while making progress) are
    left out unless asked for, by ``notes`` or by severity."""
    where, params = [], []
    for column, value in (("session_id", session_id), ("kind", kind), ("severity", severity), ("agent_name", agent)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if not notes and not severity:
        where.append("severity <> 'note'")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    result = run(
        f"SELECT {', '.join(FINDING_COLUMNS)}, count(*) OVER () AS total_matching FROM findings {clause} "
        "ORDER BY detected_at DESC, finding_id LIMIT ? OFFSET ?",
        [*params, int(limit), int(offset)],
        int(limit),
    )
    if result.rows:
        total = int(result.rows[0][-1])
    else:
        total = int(run(f"SELECT count(*) FROM findings {clause}", params, 1).rows[0][0])
    return QueryResult(result.columns[:-1], [r[:-1] for r in result.rows], result.truncated), total


def views(run: Run) -> dict[str, list[tuple[str, str]]]:
    """Each documented view's columns and their types."""
    result = run(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = current_schema() AND table_name IN ({', '.join('?' for _ in VIEWS)}) "
        "ORDER BY table_name, ordinal_position",
        list(VIEWS),
        100_000,
    )
    found: dict[str, list[tuple[str, str]]] = {view: [] for view in VIEWS}
    for table, column, data_type in result.rows:
        found[table].append((column, data_type))
    return found


def facets(run: Run, dialect: str = "duckdb") -> dict[str, list[str]]:
    """The agents, services and models that occur in sessions, for filter menus."""
    elements = _ELEMENTS[dialect]
    result = run(
        f"""SELECT 'agents' AS facet, {elements.format(column="agents")} AS value FROM sessions
            UNION SELECT 'services', service_name FROM sessions WHERE service_name IS NOT NULL
            UNION SELECT 'models', {elements.format(column="models")} FROM sessions
            ORDER BY 1, 2""",
        [],
        100_000,
    )
    found: dict[str, list[str]] = {"agents": [], "services": [], "models": []}
    for facet, value in result.rows:
        if value is not None:
            found[facet].append(value)
    return found
