"""The raw tables' columns, names and types only, without SQLAlchemy.

The decode workers build Arrow tables of exactly these columns. They import this module and not
``store.schema``: SQLAlchemy adds about 23 MB to the fork server the workers are forked from, and
the workers copy whatever pages they write to. ``store.schema`` builds its SQLAlchemy tables from
these same tuples, so each column is still defined once.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

ColumnType = Literal["string", "json", "bigint", "smallint", "integer", "float", "boolean"]

SPANS_TABLE = "raw_spans"
LOGS_TABLE = "raw_logs"
METRIC_POINTS_TABLE = "raw_metric_points"


class RawColumn(NamedTuple):
    name: str
    type: ColumnType  # JSON travels as text; the stores parse it
    nullable: bool = True
    server_default: str | None = None
    # Prompts, completions and tool results: kilobytes of text per record. DuckDB compresses them with
    # zstd instead of choosing per row group (see store/duckdb_store.py, CONTENT_COMPRESSION).
    content: bool = False


# The normalized GenAI view of a span, in the GenAI conventions' names.
NORMALIZED: tuple[RawColumn, ...] = (
    RawColumn("conversation_id", "string"),
    RawColumn("operation", "string"),
    RawColumn("step_kind", "string"),
    RawColumn("agent_name", "string"),
    RawColumn("agent_id", "string"),
    RawColumn("provider", "string"),
    RawColumn("request_model", "string"),
    RawColumn("response_model", "string"),
    RawColumn("input_tokens", "bigint"),
    RawColumn("output_tokens", "bigint"),
    RawColumn("cache_read_input_tokens", "bigint"),
    RawColumn("cache_creation_input_tokens", "bigint"),
    RawColumn("reasoning_output_tokens", "bigint"),
    RawColumn("finish_reasons", "json"),
    RawColumn("tool_name", "string"),
    RawColumn("tool_call_id", "string"),
    RawColumn("tool_arguments", "json"),
    RawColumn("tool_result", "json"),
    RawColumn("input_messages", "json"),
    RawColumn("output_messages", "json"),
    RawColumn("system_instructions", "json"),
    RawColumn("error_type", "string"),
    RawColumn("error_message", "string"),
    RawColumn("handoff_from", "string"),
    RawColumn("handoff_to", "string"),
    RawColumn("normalize_error", "string"),
)

# Raw OTLP spans, kept losslessly: ids as lowercase hex, times in nanoseconds, attributes, events
# and links as JSON; next to them the normalized columns, which can be recomputed at any time.
SPANS: tuple[RawColumn, ...] = (
    RawColumn("trace_id", "string", nullable=False),
    RawColumn("span_id", "string", nullable=False),
    RawColumn("parent_span_id", "string"),
    RawColumn("trace_state", "string"),
    RawColumn("flags", "bigint"),
    RawColumn("name", "string", nullable=False),
    RawColumn("kind", "smallint", nullable=False),
    RawColumn("start_time_unix_nano", "bigint", nullable=False),
    RawColumn("end_time_unix_nano", "bigint", nullable=False),
    RawColumn("status_code", "smallint", nullable=False),
    RawColumn("status_message", "string"),
    RawColumn("attributes", "json", nullable=False, content=True),
    RawColumn("dropped_attributes_count", "bigint", nullable=False),
    RawColumn("events", "json", nullable=False, content=True),
    RawColumn("dropped_events_count", "bigint", nullable=False),
    RawColumn("links", "json", nullable=False),
    RawColumn("dropped_links_count", "bigint", nullable=False),
    RawColumn("service_name", "string"),
    RawColumn("resource_attributes", "json", nullable=False),
    RawColumn("resource_schema_url", "string"),
    RawColumn("scope_name", "string"),
    RawColumn("scope_version", "string"),
    RawColumn("scope_attributes", "json", nullable=False),
    RawColumn("scope_schema_url", "string"),
    RawColumn("received_time_unix_nano", "bigint", nullable=False),
    *NORMALIZED,
    # How many values redaction replaced in this span (0 when redaction is off). Schema version 4.
    RawColumn("redacted_values", "bigint", nullable=False, server_default="0"),
)

# Log records: GenAI content can arrive as log events linked to a span by trace and span id.
# ``record_id`` is a hash of the encoded record and its resource, so a retried export is stored once.
LOGS: tuple[RawColumn, ...] = (
    RawColumn("record_id", "string", nullable=False),
    RawColumn("trace_id", "string"),
    RawColumn("span_id", "string"),
    RawColumn("time_unix_nano", "bigint", nullable=False),
    RawColumn("observed_time_unix_nano", "bigint", nullable=False),
    RawColumn("severity_number", "smallint", nullable=False),
    RawColumn("severity_text", "string"),
    RawColumn("event_name", "string"),
    RawColumn("body", "json", content=True),
    RawColumn("attributes", "json", nullable=False, content=True),
    RawColumn("dropped_attributes_count", "bigint", nullable=False),
    RawColumn("flags", "bigint"),
    RawColumn("service_name", "string"),
    RawColumn("resource_attributes", "json", nullable=False),
    RawColumn("scope_name", "string"),
    RawColumn("scope_version", "string"),
    RawColumn("received_time_unix_nano", "bigint", nullable=False),
)

# Metric data points of every type, one row each; histogram buckets as JSON.
METRIC_POINTS: tuple[RawColumn, ...] = (
    RawColumn("point_id", "string", nullable=False),
    RawColumn("metric_name", "string", nullable=False),
    RawColumn("metric_type", "string", nullable=False),
    RawColumn("unit", "string"),
    RawColumn("description", "string"),
    RawColumn("start_time_unix_nano", "bigint"),
    RawColumn("time_unix_nano", "bigint", nullable=False),
    RawColumn("attributes", "json", nullable=False),
    RawColumn("value", "float"),
    RawColumn("count", "bigint"),
    RawColumn("sum", "float"),
    RawColumn("min", "float"),
    RawColumn("max", "float"),
    RawColumn("buckets", "json"),
    RawColumn("aggregation_temporality", "smallint"),
    RawColumn("is_monotonic", "boolean"),
    RawColumn("service_name", "string"),
    RawColumn("resource_attributes", "json", nullable=False),
    RawColumn("scope_name", "string"),
    RawColumn("scope_version", "string"),
    RawColumn("received_time_unix_nano", "bigint", nullable=False),
)


NORMALIZED_NAMES: tuple[str, ...] = tuple(c.name for c in NORMALIZED)
LOG_COLUMNS: tuple[str, ...] = tuple(c.name for c in LOGS)
METRIC_COLUMNS: tuple[str, ...] = tuple(c.name for c in METRIC_POINTS)
