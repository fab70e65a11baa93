"""What session building reads from and writes to a store, the same on every backend.

The SQL is portable (DuckDB and PostgreSQL both take it); each store supplies the ``{where}`` that
selects the traces at hand in its own fast way.
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from store.model import Finding

# The attributes session building reads beside the normalized columns, in this order.
_SESSION_ATTRIBUTES = ("gen_ai.tool.call.arguments", "gen_ai.input.messages", "graph.node.parent_id", "a2a.task.state")

# The fields of SpanRecord, in order; {a1}..{a4} are the attributes above.
_SPAN_RECORDS_SQL = """
    SELECT trace_id, span_id, parent_span_id, name, kind, start_time_unix_nano, end_time_unix_nano, status_code,
        service_name, conversation_id, step_kind, operation, agent_name, tool_name,
        coalesce(CAST(tool_arguments AS VARCHAR), {a1}),
        request_model, response_model,
        input_tokens, output_tokens, cache_read_input_tokens, reasoning_output_tokens,
        -- Message bodies are the bulk of a span: only a remote agent call's input (its payload) is needed.
        CASE WHEN kind = 3 AND step_kind = 'agent' THEN coalesce(CAST(input_messages AS VARCHAR), {a2}) END,
        input_messages IS NOT NULL OR {a2} IS NOT NULL,
        error_message, handoff_from, handoff_to, {a3}, {a4}
    FROM {source}
"""


def span_records_sql(dialect: str, where: str) -> str:
    """The SpanRecords of the spans matching ``where``.

    DuckDB parses a JSON value again for every ``->>``: it extracts the four attributes in one parse
    (half the cost of the query on agent traffic, measured).
    """
    if dialect == "duckdb":
        paths = ", ".join(f"'$.\"{key}\"'" for key in _SESSION_ATTRIBUTES)
        fields = {f"a{i}": f"stepseven_attributes[{i}]" for i in range(1, len(_SESSION_ATTRIBUTES) + 1)}
        source = (
            f"(SELECT *, json_extract_string(attributes, [{paths}]) AS stepseven_attributes "
            f"FROM raw_spans WHERE {where})"
        )
        return _SPAN_RECORDS_SQL.format(source=source, **fields)
    fields = {f"a{i}": f"attributes->>'{key}'" for i, key in enumerate(_SESSION_ATTRIBUTES, 1)}
    return _SPAN_RECORDS_SQL.format(source=f"raw_spans WHERE {where}", **fields)


# Traces stored but in no session: their rebuild was still pending when the last collector stopped
# (killed, or its shutdown cut short). The oldest first, as the session worker takes them.
UNBUILT_TRACES_SQL = """
    SELECT r.trace_id FROM raw_spans r
    WHERE NOT EXISTS (SELECT 1 FROM derived_session_traces d WHERE d.trace_id = r.trace_id)
    GROUP BY r.trace_id ORDER BY min(r.start_time_unix_nano)
"""

LOG_EVENTS_SQL = """
    SELECT span_id, event_name, CAST(body AS VARCHAR), CAST(attributes AS VARCHAR), time_unix_nano,
        observed_time_unix_nano
    FROM raw_logs
    WHERE {where} AND span_id IS NOT NULL
        AND event_name IN ('gen_ai.system.message', 'gen_ai.user.message', 'gen_ai.assistant.message',
                           'gen_ai.tool.message', 'gen_ai.choice')
    ORDER BY time_unix_nano, observed_time_unix_nano
"""


def log_events(rows: list[tuple[Any, ...]]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """span_id -> its GenAI log events (name, payload), from rows of LOG_EVENTS_SQL."""
    events: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for span_id, event_name, body, attributes, *_times in rows:
        payload = orjson.loads(body) if body else None
        if not isinstance(payload, dict):
            payload = orjson.loads(attributes) if attributes else {}
        events.setdefault(span_id, []).append((event_name, payload))
    return events


def record_columns(
    table: sa.Table, records: list[Any], extra: dict[str, Any] | None = None, json_columns: tuple[str, ...] = ()
) -> list[list[Any]]:
    """A table's columns, in order, from records with an attribute per column (JSON columns as text)."""
    columns = []
    for name in table.columns.keys():
        if extra and name in extra:
            columns.append([extra[name]] * len(records))
        elif name in json_columns:
            columns.append([orjson.dumps(getattr(r, name)).decode() for r in records])
        else:
            columns.append([getattr(r, name) for r in records])
    return columns


def finding_columns(findings: list[Finding], detected: dict[str, int], now: int) -> list[list[Any]]:
    """derived_findings columns, in order; a finding seen before keeps its first detection time."""
    return [
        [f.finding_id for f in findings],
        [f.session_id for f in findings],
        [f.kind for f in findings],
        [f.sub_kind for f in findings],
        [f.severity for f in findings],
        [f.agent_name for f in findings],
        [orjson.dumps(f.step_indexes).decode() for f in findings],
        [orjson.dumps(f.span_ids).decode() for f in findings],
        [f.explanation for f in findings],
        [detected.get(f.finding_id, now) for f in findings],
        [now] * len(findings),
    ]
