"""The tables, defined once in SQLAlchemy Core so that every backend gets the same schema.

The raw tables' columns are listed in ``store.raw_columns`` (names and types, no SQLAlchemy, for
the decode workers) and turned into SQLAlchemy tables here.

Raw OTLP data is kept losslessly (ids as lowercase hex, times in nanoseconds, attributes,
events and links as JSON). Next to the raw columns each span carries the normalized GenAI
columns that the normalizer fills in; they can be recomputed from the raw columns at any time.

There is deliberately no primary key on ``spans``: in DuckDB a PRIMARY KEY is an ART index that
lives in memory and cannot be evicted (measured: about 100 MB per million spans, and an
out-of-memory error once it outgrows ``memory_limit``). Dedupe is done by the writer instead.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from store import raw_columns
from store.raw_columns import ColumnType, RawColumn

SCHEMA_VERSION = 11

metadata = sa.MetaData()

_SA_TYPES: dict[ColumnType, type[sa.types.TypeEngine[Any]]] = {
    "string": sa.String,
    "json": sa.JSON,
    "bigint": sa.BigInteger,
    "smallint": sa.SmallInteger,
    "integer": sa.Integer,
    "float": sa.Float,
    "boolean": sa.Boolean,
}
_TYPE_NAMES: dict[type[sa.types.TypeEngine[Any]], ColumnType] = {t: name for name, t in _SA_TYPES.items()}


def _columns(raw: tuple[RawColumn, ...]) -> list[sa.Column[Any]]:
    return [
        sa.Column(
            c.name,
            _SA_TYPES[c.type],
            nullable=c.nullable,
            server_default=c.server_default,
            info={"content": True} if c.content else {},
        )
        for c in raw
    ]


def type_name(column: sa.Column[Any]) -> ColumnType:
    """The column's type as ``store.raw_columns`` names it (for building Arrow schemas)."""
    return _TYPE_NAMES[type(column.type)]


# DuckDB's FLOAT has 24 bits of precision: a sum of dollars needs a DOUBLE (PostgreSQL's FLOAT is one).
DOLLARS = sa.Float().with_variant(sa.Double(), "duckdb")

# The raw tables' columns are defined in store/raw_columns.py, which the decode workers import.
NORMALIZED_COLUMNS: tuple[sa.Column[Any], ...] = tuple(_columns(raw_columns.NORMALIZED))
spans = sa.Table(raw_columns.SPANS_TABLE, metadata, *_columns(raw_columns.SPANS))
logs = sa.Table(raw_columns.LOGS_TABLE, metadata, *_columns(raw_columns.LOGS))
metric_points = sa.Table(raw_columns.METRIC_POINTS_TABLE, metadata, *_columns(raw_columns.METRIC_POINTS))

# Derived from the raw spans by the session worker, recomputed whole per changed session.
session_traces = sa.Table(
    "derived_session_traces",
    metadata,
    sa.Column("trace_id", sa.String, nullable=False),
    sa.Column("session_id", sa.String, nullable=False),
)

steps = sa.Table(
    "derived_steps",
    metadata,
    sa.Column("session_id", sa.String, nullable=False),
    sa.Column("step_index", sa.Integer, nullable=False),
    sa.Column("trace_id", sa.String, nullable=False),
    sa.Column("span_id", sa.String, nullable=False),
    sa.Column("parent_step_index", sa.Integer),
    sa.Column("depth", sa.Integer, nullable=False),
    sa.Column("agent_name", sa.String),
    sa.Column("scope_id", sa.String),
    # Only when the content came from linked log records; otherwise the span's own columns serve.
    sa.Column("input_messages", sa.JSON),
    sa.Column("output_messages", sa.JSON),
    # US dollars of the step's own token usage (collector/pricing.py); NULL: no usage, or a model with no price.
    sa.Column("cost_usd", DOLLARS),
    # The build these steps belong to (derived_sessions.updated_time_unix_nano). Rows are appended in build
    # order, so DuckDB's zone maps on it let the analyzer read a batch of sessions without scanning the
    # steps of every stored session (a cost that grew with the store).
    sa.Column("session_updated_time_unix_nano", sa.BigInteger),
)

handoffs = sa.Table(
    "derived_handoffs",
    metadata,
    sa.Column("session_id", sa.String, nullable=False),
    sa.Column("handoff_index", sa.Integer, nullable=False),
    sa.Column("from_agent", sa.String),
    sa.Column("to_agent", sa.String),
    sa.Column("mechanism", sa.String, nullable=False),
    sa.Column("delegating_step_index", sa.Integer),
    sa.Column("delegating_span_id", sa.String),
    sa.Column("target_step_index", sa.Integer),
    sa.Column("target_span_id", sa.String),
    sa.Column("payload", sa.JSON),
    sa.Column("outcome", sa.String, nullable=False),
    sa.Column("error_message", sa.String),
)

sessions = sa.Table(
    "derived_sessions",
    metadata,
    sa.Column("session_id", sa.String, nullable=False),
    sa.Column("first_time_unix_nano", sa.BigInteger, nullable=False),
    sa.Column("last_time_unix_nano", sa.BigInteger, nullable=False),
    sa.Column("duration_ms", sa.Float, nullable=False),
    sa.Column("service_name", sa.String),
    sa.Column("root_agent", sa.String),
    sa.Column("agents", sa.JSON, nullable=False),
    sa.Column("trace_count", sa.Integer, nullable=False),
    sa.Column("step_count", sa.Integer, nullable=False),
    sa.Column("llm_calls", sa.Integer, nullable=False),
    sa.Column("tool_calls", sa.Integer, nullable=False),
    sa.Column("handoff_count", sa.Integer, nullable=False),
    sa.Column("error_count", sa.Integer, nullable=False),
    sa.Column("input_tokens", sa.BigInteger, nullable=False),
    sa.Column("output_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_read_input_tokens", sa.BigInteger, nullable=False),
    sa.Column("reasoning_output_tokens", sa.BigInteger, nullable=False),
    sa.Column("models", sa.JSON, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("input_preview", sa.String),
    sa.Column("child_scopes", sa.JSON, nullable=False),
    sa.Column("updated_time_unix_nano", sa.BigInteger, nullable=False),
    # Last, as ALTER TABLE adds them to a store made before schema version 10.
    sa.Column("cost_usd", DOLLARS),  # NULL when no call could be priced
    sa.Column("unpriced_calls", sa.Integer, server_default="0"),
)

# Written by the analyzer: one row per finding, replaced whole per analyzed session.
findings = sa.Table(
    "derived_findings",
    metadata,
    sa.Column("finding_id", sa.String, nullable=False),
    sa.Column("session_id", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("sub_kind", sa.String, nullable=False),
    sa.Column("severity", sa.String, nullable=False),
    sa.Column("agent_name", sa.String),
    sa.Column("step_indexes", sa.JSON, nullable=False),
    sa.Column("span_ids", sa.JSON, nullable=False),
    sa.Column("explanation", sa.String, nullable=False),
    # Kept across re-analysis of the same finding: when it was first seen.
    sa.Column("detected_time_unix_nano", sa.BigInteger, nullable=False),
    sa.Column("updated_time_unix_nano", sa.BigInteger, nullable=False),
)

# Which version of each session was analyzed, so a restarted collector knows what is left to do.
analyses = sa.Table(
    "derived_analyses",
    metadata,
    sa.Column("session_id", sa.String, nullable=False),
    sa.Column("session_updated_time_unix_nano", sa.BigInteger, nullable=False),
    sa.Column("analyzed_time_unix_nano", sa.BigInteger, nullable=False),
    sa.Column("finding_count", sa.Integer, nullable=False),
)

# Derived work that failed on one key and is retried (collector/derived_work.py): a session rebuild
# (stage 'sessions', key a trace id) or an analysis (stage 'analysis', key a session id). A row is
# written when the key fails on its own and deleted when it later succeeds; a collector that starts
# retries every key listed. Read through the `derived_failures` view.
derived_work_failures = sa.Table(
    "derived_work_failures",
    metadata,
    sa.Column("stage", sa.String, nullable=False),
    sa.Column("key", sa.String, nullable=False),
    sa.Column("session_id", sa.String),  # NULL when unknown (a trace that was never in a session)
    sa.Column("error", sa.String, nullable=False),  # bounded: MAX_ERROR_CHARS in collector/derived_work.py
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("first_failed_time_unix_nano", sa.BigInteger, nullable=False),
    sa.Column("last_failed_time_unix_nano", sa.BigInteger, nullable=False),
    # A few rows at most: the key's index costs nothing, and collectors sharing a store upsert on it.
    sa.PrimaryKeyConstraint("stage", "key"),
)
FAILURE_ERROR_CHARS = 2000  # the most of an error a row keeps

# Traces whose sessions were waiting for a rebuild when a collector stopped: a stop does not wait for a
# backlog of tens of thousands (48 s on a 30 s burst), it leaves them here; a collector that starts
# rebuilds them and deletes their rows once built.
derived_pending_traces = sa.Table(
    "derived_pending_traces",
    metadata,
    sa.Column("trace_id", sa.String, nullable=False),
    sa.PrimaryKeyConstraint("trace_id"),
)

# Both stores' statements for it, with stepseven's own ``?`` placeholders. A key listed again keeps its
# first failure; its attempts count on from the row's (collectors sharing a store add theirs up), or
# from the caller's count when that is higher (an earlier write the store refused). A trace's session
# is the one it was built into last, when it was.
RECORD_FAILURE_SQL = """INSERT INTO derived_work_failures (stage, key, session_id, error, attempts,
        first_failed_time_unix_nano, last_failed_time_unix_nano)
    SELECT CAST(? AS VARCHAR), CAST(? AS VARCHAR), coalesce(CAST(? AS VARCHAR),
        (SELECT min(session_id) FROM derived_session_traces WHERE trace_id = CAST(? AS VARCHAR))),
        CAST(? AS VARCHAR), CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS BIGINT)
    ON CONFLICT (stage, key) DO UPDATE SET
        session_id = coalesce(excluded.session_id, derived_work_failures.session_id),
        error = excluded.error,
        attempts = greatest(derived_work_failures.attempts + 1, excluded.attempts),
        last_failed_time_unix_nano = excluded.last_failed_time_unix_nano"""
LISTED_FAILURES_SQL = """SELECT key, session_id, error, attempts, first_failed_time_unix_nano,
        last_failed_time_unix_nano FROM derived_work_failures WHERE stage = ? ORDER BY key"""

# Tables each schema version added (version 1 is the first schema), for migrating older files.
# 3: the views llm_calls and tool_calls; 4: raw_spans.redacted_values and the redactions view;
# 5: on DuckDB, the views parse each span's attributes once (see _raw_spans); 6: each message attribute
# its own column there, and a message attribute that starts like JSON but is not JSON reads as text;
# 7: sessions.analysis and analyzed_at; 8: derived_work_failures, the derived_failures view, and
# sessions.analysis 'failed'; 9: derived_pending_traces; 10: cost_usd in steps, llm_calls and sessions, and
# sessions.unpriced_calls (the stored sessions are rebuilt to get them); 11: derived_steps'
# session_updated_time_unix_nano.
TABLES_ADDED: dict[int, tuple[sa.Table, ...]] = {
    2: (findings, analyses), 3: (), 4: (), 5: (), 6: (), 7: (), 8: (derived_work_failures,),
    9: (derived_pending_traces,), 10: (), 11: (),
}  # fmt: skip

schema_meta = sa.Table(
    "stepseven_schema",
    metadata,
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("applied_time_unix_nano", sa.BigInteger, nullable=False),
)

# The documented SQL surface: stable views over the raw tables, which migrations may reshape.
_KIND = (
    "CASE kind WHEN 1 THEN 'internal' WHEN 2 THEN 'server' WHEN 3 THEN 'client' WHEN 4 THEN 'producer' "
    "WHEN 5 THEN 'consumer' ELSE 'unspecified' END"
)
_STATUS = "CASE status_code WHEN 1 THEN 'ok' WHEN 2 THEN 'error' ELSE 'unset' END"


def _timestamp(dialect: str, column: str) -> str:
    if dialect == "duckdb":
        return f"make_timestamp({column} // 1000)"
    return f"to_timestamp({column} / 1e9) AT TIME ZONE 'UTC'"


_RAW_MESSAGE_ATTRIBUTES = {
    "input_messages": "gen_ai.input.messages",
    "output_messages": "gen_ai.output.messages",
    "system_instructions": "gen_ai.system_instructions",
    "tool_arguments": "gen_ai.tool.call.arguments",
    "tool_result": "gen_ai.tool.call.result",
}


_MESSAGES_COLUMN = "stepseven_raw_messages"


def _raw_column(column: str) -> str:
    return f"stepseven_raw_{column}"


def _raw_spans(dialect: str) -> str:
    """``raw_spans`` as the views read it.

    On DuckDB, with the five message attributes extracted in one parse per span: DuckDB parses the
    JSON again for every ``->>``, and holds each parse of a whole vector (2,048 spans) in memory. With
    ten of them, the `steps` view of the sample corpus (2.5 MB of attributes) needed more than 90 MB.
    Each attribute then gets its own column, so that a query carries only the ones it reads through
    the `steps` join: carrying all five, `count(*) FROM steps WHERE output_messages IS NOT NULL` on a
    1M-span store ran out of memory at the default 128 MB.
    """
    if dialect != "duckdb":
        return "raw_spans"
    paths = ", ".join(f"'$.\"{key}\"'" for key in _RAW_MESSAGE_ATTRIBUTES.values())
    columns = ", ".join(
        f"{_MESSAGES_COLUMN}[{i}] AS {_raw_column(column)}" for i, column in enumerate(_RAW_MESSAGE_ATTRIBUTES, 1)
    )
    return (
        f"(SELECT * EXCLUDE ({_MESSAGES_COLUMN}), {columns} FROM (SELECT *, rowid AS rowid, "
        f"json_extract_string(attributes, [{paths}]) AS {_MESSAGES_COLUMN} FROM raw_spans))"
    )


def _raw_json(dialect: str, alias: str, column: str) -> str:
    """A normalized message column, or the raw GenAI attribute it was left NULL for (same content).

    Text that starts like JSON but does not parse ("[1/3] downloading", a truncated object) is text,
    as the normalizer reads it, not NULL.
    """
    if dialect == "duckdb":
        attribute = f"{alias}.{_raw_column(column)}"
        parsed = f"TRY_CAST({attribute} AS JSON)"
    else:
        attribute = f"({alias}.attributes->>'{_RAW_MESSAGE_ATTRIBUTES[column]}')"
        parsed = f"stepseven_try_json({attribute})"
    as_json = (
        f"CASE WHEN left({attribute}, 1) IN ('{{', '[') THEN coalesce({parsed}, to_json({attribute})) "
        f"ELSE to_json({attribute}) END"
    )
    return f"coalesce({alias}.{column}, {as_json})"


def _raw_text(alias: str, column: str) -> str:
    """What ``_raw_json`` gives, as text, without checking that text which starts like JSON is JSON.

    For readers that parse it themselves and read text that does not parse as text (the analyzer): the same
    values for a third less of the read's CPU (DuckDB parsed and printed every message once more)."""
    attribute = f"{alias}.{_raw_column(column)}"
    return (
        f"coalesce(CAST({alias}.{column} AS VARCHAR), CASE WHEN left({attribute}, 1) IN ('{{', '[') "
        f"THEN {attribute} ELSE CAST(to_json({attribute}) AS VARCHAR) END)"
    )


def steps_query(
    dialect: str, where: str | None = None, steps_table: str = "derived_steps", *, unchecked_json: bool = False
) -> str:
    """The body of the `steps` view. The analyzer's fast path passes a small table of the derived steps
    it wants and a ``where`` over ``r`` (the raw spans) that narrows what is read, and, on DuckDB, asks for
    the message columns as ``unchecked_json`` (``_raw_text``)."""
    ts = _timestamp
    where = f" WHERE {where}" if where else ""
    raw = _raw_spans(dialect)

    unchecked = unchecked_json and dialect == "duckdb"

    def content(column: str) -> str:
        return _raw_text("r", column) if unchecked else _raw_json(dialect, "r", column)

    def derived(column: str) -> str:
        # Text beside text: a JSON value here would make DuckDB parse the raw text as JSON again.
        return f"CAST(d.{column} AS VARCHAR)" if unchecked else f"d.{column}"

    return f"""SELECT
            d.session_id, d.step_index, d.parent_step_index, d.depth, r.trace_id, r.span_id, r.parent_span_id,
            r.step_kind, r.operation, r.name, d.agent_name, r.agent_id, d.scope_id, r.provider,
            r.request_model, r.response_model, r.tool_name, r.tool_call_id,
            {content("tool_arguments")} AS tool_arguments,
            {content("tool_result")} AS tool_result,
            coalesce({derived("input_messages")}, {content("input_messages")}) AS input_messages,
            coalesce({derived("output_messages")}, {content("output_messages")}) AS output_messages,
            {content("system_instructions")} AS system_instructions,
            r.input_tokens, r.output_tokens, r.cache_read_input_tokens, r.cache_creation_input_tokens,
            r.reasoning_output_tokens, r.finish_reasons, {_STATUS} AS status, r.error_type, r.error_message,
            r.handoff_from, r.handoff_to, r.conversation_id, {_KIND.replace("kind", "r.kind")} AS kind, r.links,
            {ts(dialect, "r.start_time_unix_nano")} AS start_time, {ts(dialect, "r.end_time_unix_nano")} AS end_time,
            (r.end_time_unix_nano - r.start_time_unix_nano) / CAST(1e6 AS FLOAT8) AS duration_ms,
            r.start_time_unix_nano, r.end_time_unix_nano, r.service_name, r.dropped_attributes_count,
            d.cost_usd
            FROM {steps_table} d JOIN {raw} r ON r.trace_id = d.trace_id AND r.span_id = d.span_id{where}"""


# PostgreSQL has no TRY_CAST: a JSON text that does not parse becomes NULL, as on DuckDB.
_PG_TRY_JSON = """CREATE OR REPLACE FUNCTION stepseven_try_json(value text) RETURNS json
    LANGUAGE plpgsql IMMUTABLE AS $$
    BEGIN
        RETURN CAST(value AS json);
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END $$"""


def _views(dialect: str) -> list[str]:
    ts = _timestamp
    normalized = ", ".join(f"r.{c.name}" for c in NORMALIZED_COLUMNS if c.name not in _RAW_MESSAGE_ATTRIBUTES)
    functions = [_PG_TRY_JSON] if dialect == "postgresql" else []
    return [
        *functions,
        f"""CREATE OR REPLACE VIEW spans AS SELECT
            st.session_id, r.trace_id, span_id, parent_span_id, name, {_KIND} AS kind,
            {ts(dialect, "start_time_unix_nano")} AS start_time, {ts(dialect, "end_time_unix_nano")} AS end_time,
            (end_time_unix_nano - start_time_unix_nano) / CAST(1e6 AS FLOAT8) AS duration_ms,
            {_STATUS} AS status, status_message, service_name,
            attributes, events, links, resource_attributes, resource_schema_url, scope_name, scope_version,
            scope_attributes, scope_schema_url, dropped_attributes_count, dropped_events_count, dropped_links_count,
            trace_state, flags, redacted_values,
            start_time_unix_nano, end_time_unix_nano, received_time_unix_nano, {normalized},
            {_raw_json(dialect, "r", "input_messages")} AS input_messages,
            {_raw_json(dialect, "r", "output_messages")} AS output_messages,
            {_raw_json(dialect, "r", "system_instructions")} AS system_instructions,
            {_raw_json(dialect, "r", "tool_arguments")} AS tool_arguments,
            {_raw_json(dialect, "r", "tool_result")} AS tool_result
            FROM {_raw_spans(dialect)} r LEFT JOIN derived_session_traces st ON st.trace_id = r.trace_id""",
        f"CREATE OR REPLACE VIEW steps AS {steps_query(dialect)}",
        f"""CREATE OR REPLACE VIEW sessions AS SELECT
            s.session_id, {ts(dialect, "first_time_unix_nano")} AS start_time,
            {ts(dialect, "last_time_unix_nano")} AS end_time, duration_ms, service_name, root_agent, agents,
            trace_count, step_count, llm_calls, tool_calls, handoff_count, error_count,
            input_tokens, output_tokens, cache_read_input_tokens, reasoning_output_tokens, models, status,
            input_preview, child_scopes, first_time_unix_nano, last_time_unix_nano,
            CASE WHEN a.session_updated_time_unix_nano >= s.updated_time_unix_nano THEN 'done'
                WHEN f.key IS NOT NULL THEN 'failed' ELSE 'pending' END AS analysis,
            {ts(dialect, "a.analyzed_time_unix_nano")} AS analyzed_at,
            s.cost_usd, coalesce(s.unpriced_calls, 0) AS unpriced_calls
            FROM derived_sessions s LEFT JOIN derived_analyses a ON a.session_id = s.session_id
            LEFT JOIN derived_work_failures f ON f.stage = 'analysis' AND f.key = s.session_id""",
        f"""CREATE OR REPLACE VIEW llm_calls AS SELECT
            session_id, step_index, trace_id, span_id, agent_name, operation, provider, request_model,
            response_model, coalesce(response_model, request_model) AS model, input_tokens, output_tokens,
            cache_read_input_tokens, cache_creation_input_tokens, reasoning_output_tokens, finish_reasons,
            status, error_type, error_message, input_messages, output_messages, system_instructions,
            start_time, end_time, duration_ms, start_time_unix_nano, end_time_unix_nano, service_name, cost_usd
            FROM ({steps_query(dialect, "r.step_kind = 'llm'")}) llm""",
        f"""CREATE OR REPLACE VIEW tool_calls AS SELECT
            session_id, step_index, trace_id, span_id, agent_name, tool_name, tool_call_id, tool_arguments,
            tool_result, status, error_type, error_message, start_time, end_time, duration_ms,
            start_time_unix_nano, end_time_unix_nano, service_name
            FROM ({steps_query(dialect, "r.step_kind = 'tool'")}) tool""",
        """CREATE OR REPLACE VIEW redactions AS SELECT
            st.session_id, count(*) FILTER (WHERE r.redacted_values > 0) AS spans_redacted,
            CAST(sum(r.redacted_values) AS BIGINT) AS values_redacted
            FROM raw_spans r JOIN derived_session_traces st ON st.trace_id = r.trace_id
            GROUP BY st.session_id HAVING sum(r.redacted_values) > 0""",
        """CREATE OR REPLACE VIEW handoffs AS SELECT
            session_id, handoff_index, from_agent, to_agent, mechanism, outcome, error_message,
            delegating_step_index, delegating_span_id, target_step_index, target_span_id, payload
            FROM derived_handoffs""",
        f"""CREATE OR REPLACE VIEW findings AS SELECT
            finding_id, session_id, kind, sub_kind, severity, agent_name, step_indexes, span_ids, explanation,
            {ts(dialect, "detected_time_unix_nano")} AS detected_at,
            {ts(dialect, "updated_time_unix_nano")} AS updated_at,
            detected_time_unix_nano, updated_time_unix_nano
            FROM derived_findings""",
        f"""CREATE OR REPLACE VIEW derived_failures AS SELECT
            stage, key, session_id, error, attempts,
            {ts(dialect, "first_failed_time_unix_nano")} AS first_failed_at,
            {ts(dialect, "last_failed_time_unix_nano")} AS last_failed_at,
            first_failed_time_unix_nano, last_failed_time_unix_nano
            FROM derived_work_failures""",
        f"""CREATE OR REPLACE VIEW logs AS SELECT
            record_id, trace_id, span_id, {ts(dialect, "time_unix_nano")} AS time, event_name,
            severity_number, severity_text, body, attributes, service_name, resource_attributes,
            scope_name, scope_version, time_unix_nano, observed_time_unix_nano, received_time_unix_nano
            FROM raw_logs""",
        f"""CREATE OR REPLACE VIEW metrics AS SELECT
            metric_name, metric_type, unit, description, {ts(dialect, "time_unix_nano")} AS time,
            attributes, value, count, sum, min, max, buckets, aggregation_temporality, is_monotonic,
            service_name, resource_attributes, scope_name, scope_version, start_time_unix_nano, time_unix_nano
            FROM raw_metric_points""",
    ]


def fresh_statements(dialect: str) -> list[str]:
    """What a new database needs after the tables of ``metadata`` are created."""
    return _views(dialect)


def migration_statements(dialect: str, version: int) -> list[str]:
    """What takes an existing database from ``version - 1`` to ``version``, besides creating TABLES_ADDED.

    Views are recreated after every migration, so a version that only adds tables or view columns
    needs nothing here.
    """
    if version not in TABLES_ADDED:
        raise ValueError(f"no migration to schema version {version} (from {version - 1}) is defined")
    if version == 4:
        # DuckDB cannot add a NOT NULL column with IF NOT EXISTS; the default fills every existing row.
        return ["ALTER TABLE raw_spans ADD COLUMN IF NOT EXISTS redacted_values BIGINT DEFAULT 0"]
    if version == 10:
        return [
            "ALTER TABLE derived_steps ADD COLUMN IF NOT EXISTS cost_usd DOUBLE PRECISION",
            "ALTER TABLE derived_sessions ADD COLUMN IF NOT EXISTS cost_usd DOUBLE PRECISION",
            "ALTER TABLE derived_sessions ADD COLUMN IF NOT EXISTS unpriced_calls INTEGER DEFAULT 0",
            # The stored sessions are priced by rebuilding them: the next start takes these as pending.
            "INSERT INTO derived_pending_traces (trace_id) SELECT DISTINCT trace_id FROM derived_session_traces "
            "ON CONFLICT DO NOTHING",
        ]
    if version == 11:
        return [
            "ALTER TABLE derived_steps ADD COLUMN IF NOT EXISTS session_updated_time_unix_nano BIGINT",
            "UPDATE derived_steps SET session_updated_time_unix_nano = s.updated_time_unix_nano "
            "FROM derived_sessions s WHERE derived_steps.session_id = s.session_id",
        ]
    return []
