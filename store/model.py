"""Records that cross package boundaries. Column-oriented, because the store appends in bulk."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from store import raw_columns
from store.raw_columns import ColumnType

# No SQLAlchemy here: the decode workers import this module (see store/raw_columns.py).
_ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    "string": pa.string(),
    "json": pa.string(),  # JSON travels as text; the stores parse it
    "bigint": pa.int64(),
    "smallint": pa.int16(),
    "integer": pa.int32(),
    "float": pa.float64(),
    "boolean": pa.bool_(),
}


def arrow_schema(columns: Iterable[tuple[str, ColumnType]]) -> pa.Schema:
    """An Arrow schema for columns given as (name, type) pairs."""
    return pa.schema([pa.field(name, _ARROW_TYPES[type_]) for name, type_ in columns])


ARROW_SCHEMAS: dict[str, pa.Schema] = {
    table: arrow_schema((c.name, c.type) for c in columns)
    for table, columns in (
        (raw_columns.SPANS_TABLE, raw_columns.SPANS),
        (raw_columns.LOGS_TABLE, raw_columns.LOGS),
        (raw_columns.METRIC_POINTS_TABLE, raw_columns.METRIC_POINTS),
    )
}


class StoreOutOfMemory(Exception):
    """The store ran out of its memory for one statement: the same work in smaller pieces may fit."""


# The IPC streams that go from a decode worker to the collector and into the journal: lz4 makes them
# 4.4 times smaller (2,358 against 538 bytes per agent span) for less time to write than a plain copy
# (3.8 against 4.7 µs per span, in the decode worker) and about 1.2 µs per span to read back. The
# journal then holds what a small volume can keep (docs/ingest.md, "Disk full"); zstd, at 283 bytes,
# costs twice as long to read, in the collector's busiest process.
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")


class RowsError(ValueError):
    """Values that do not fit their columns (a decoder bug or a value it should have refused)."""


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows of one raw table as an Arrow table: built once by the decoder, appended as is by the store.

    Arrow, not Python lists, so that a batch crosses from a decode process to the writer as buffers
    and the writer thread does no per-value work.
    """

    table: pa.Table
    # The Arrow IPC stream the table was read from, when it came from a decode worker: the journal
    # writes it as it is instead of serializing the table again.
    ipc: bytes | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_columns(cls, table_name: str, columns: dict[str, list[Any]]) -> Rows:
        try:
            return cls(pa.Table.from_pydict(columns, schema=ARROW_SCHEMAS[table_name]))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise RowsError(f"a value does not fit its column in {table_name}: {exc}") from None

    @classmethod
    def empty(cls, table_name: str) -> Rows:
        return cls(ARROW_SCHEMAS[table_name].empty_table())

    @classmethod
    def concat(cls, parts: list[Rows]) -> Rows:
        if len(parts) == 1:
            return parts[0]
        return cls(pa.concat_tables([p.table for p in parts]))

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def to_ipc(self) -> bytes:
        """The rows as one Arrow IPC stream (the one they were read from, if any)."""
        if self.ipc is not None:
            return self.ipc
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, self.table.schema, options=_IPC_OPTIONS) as writer:
            writer.write_table(self.table)
        return sink.getvalue().to_pybytes()  # type: ignore[no-any-return]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # From a decode worker to the collector as one Arrow IPC stream: a copy of the buffers,
        # nothing per value on either side.
        return (_rows_from_ipc, (self.to_ipc(),))

    def column(self, name: str) -> list[Any]:
        return self.table.column(name).to_pylist()  # type: ignore[no-any-return]


def _rows_from_ipc(data: bytes) -> Rows:
    return Rows(pa.ipc.open_stream(pa.py_buffer(data)).read_all(), data)


# The columns each raw table refuses NULL in: a batch is checked against them before the journal
# acknowledges it, since the store's commit comes after the answer.
_NOT_NULL: dict[str, tuple[str, ...]] = {
    raw_columns.SPANS_TABLE: tuple(c.name for c in raw_columns.SPANS if not c.nullable),
    raw_columns.LOGS_TABLE: tuple(c.name for c in raw_columns.LOGS if not c.nullable),
    raw_columns.METRIC_POINTS_TABLE: tuple(c.name for c in raw_columns.METRIC_POINTS if not c.nullable),
}


def _span_rows() -> Rows:
    return Rows.empty(raw_columns.SPANS_TABLE)


def _log_rows() -> Rows:
    return Rows.empty(raw_columns.LOGS_TABLE)


def _metric_rows() -> Rows:
    return Rows.empty(raw_columns.METRIC_POINTS_TABLE)


@dataclass(frozen=True, slots=True)
class Batch:
    """What one export request (or several, merged by the writer) adds to the store."""

    spans: Rows = field(default_factory=_span_rows)
    logs: Rows = field(default_factory=_log_rows)
    metric_points: Rows = field(default_factory=_metric_rows)

    def __len__(self) -> int:
        return len(self.spans) + len(self.logs) + len(self.metric_points)

    @classmethod
    def merge(cls, batches: list[Batch]) -> Batch:
        if len(batches) == 1:
            return batches[0]
        return cls(
            Rows.concat([b.spans for b in batches]),
            Rows.concat([b.logs for b in batches]),
            Rows.concat([b.metric_points for b in batches]),
        )

    @property
    def nbytes(self) -> int:
        """The bytes of its Arrow buffers (a slice counts what it covers)."""
        return int(self.spans.table.nbytes + self.logs.table.nbytes + self.metric_points.table.nbytes)

    def split(self, at: int) -> tuple[Batch, Batch]:
        """The first ``at`` records (spans, then log records, then points) and the rest, without copying."""
        first: list[Rows] = []
        rest: list[Rows] = []
        for rows in (self.spans, self.logs, self.metric_points):
            take = min(max(at, 0), len(rows))
            at -= take
            first.append(Rows(rows.table.slice(0, take)))
            rest.append(Rows(rows.table.slice(take)))
        return Batch(*first), Batch(*rest)

    def problem(self) -> str | None:
        """Why the store would refuse this batch whatever its state, or None.

        Checked in the writer's thread on buffers, not per value: the schema (the decoders build it,
        so this catches a decoder bug) and the columns that refuse NULL.
        """
        for table_name, rows in (
            (raw_columns.SPANS_TABLE, self.spans),
            (raw_columns.LOGS_TABLE, self.logs),
            (raw_columns.METRIC_POINTS_TABLE, self.metric_points),
        ):
            if not len(rows):
                continue
            if not rows.table.schema.equals(ARROW_SCHEMAS[table_name]):
                return f"its {table_name} columns are not the store's"
            for name in _NOT_NULL[table_name]:
                if rows.table.column(name).null_count:
                    return f"{table_name}.{name} may not be NULL"
        return None

    def trace_ids(self) -> set[str]:
        """The traces this batch touches (spans and log records)."""
        found: set[str] = set()
        for rows in (self.spans, self.logs):
            if len(rows):
                found.update(t for t in pc.unique(rows.table.column("trace_id")).to_pylist() if t)
        return found

    def trace_starts(self) -> dict[str, int]:
        """trace_id -> the earliest start of this batch's spans of that trace (traces it has log records of
        only are not in it)."""
        if not len(self.spans):
            return {}
        firsts = self.spans.table.group_by("trace_id", use_threads=False).aggregate([("start_time_unix_nano", "min")])
        return dict(
            zip(
                firsts.column("trace_id").to_pylist(),
                firsts.column("start_time_unix_nano_min").to_pylist(),
                strict=True,
            )
        )


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one committed transaction stored (after dedupe)."""

    spans: int
    logs: int
    metric_points: int

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(self.spans + other.spans, self.logs + other.logs, self.metric_points + other.metric_points)


@dataclass(frozen=True, slots=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return out.getvalue()


@dataclass(slots=True)
class SpanRecord:
    """What session building needs of a stored span (normalized columns and a few raw attributes)."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: int
    start_time_unix_nano: int
    end_time_unix_nano: int
    status_code: int
    service_name: str | None = None
    conversation_id: str | None = None  # the span's own session key (conversation / session id), if any
    step_kind: str | None = None
    operation: str | None = None
    agent_name: str | None = None
    tool_name: str | None = None
    tool_arguments: str | None = None  # JSON text
    request_model: str | None = None
    response_model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    reasoning_output_tokens: int | None = None
    input_messages: str | None = None  # JSON text, loaded for remote agent calls only
    has_input_messages: bool = False
    error_message: str | None = None
    handoff_from: str | None = None
    handoff_to: str | None = None
    graph_parent: str | None = None  # OpenInference graph.node.parent_id
    a2a_task_state: str | None = None


@dataclass(slots=True)
class Step:
    session_id: str
    step_index: int
    trace_id: str
    span_id: str
    parent_step_index: int | None
    depth: int
    agent_name: str | None
    scope_id: str | None  # a sub-agent's own conversation id, when it differs from the session's
    input_messages: str | None = None  # filled only from linked log records
    output_messages: str | None = None
    cost_usd: float | None = None  # this call's own usage priced (collector/pricing.py); None: unknown


@dataclass(slots=True)
class Handoff:
    session_id: str
    handoff_index: int
    from_agent: str | None
    to_agent: str | None
    mechanism: str
    delegating_step_index: int | None
    delegating_span_id: str | None
    target_step_index: int | None
    target_span_id: str | None
    payload: str | None
    outcome: str
    error_message: str | None


@dataclass(slots=True)
class SessionSummary:
    session_id: str
    first_time_unix_nano: int
    last_time_unix_nano: int
    duration_ms: float
    service_name: str | None
    root_agent: str | None
    agents: list[str]
    trace_count: int
    step_count: int
    llm_calls: int
    tool_calls: int
    handoff_count: int
    error_count: int
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    reasoning_output_tokens: int
    models: list[str]
    status: str
    input_preview: str | None
    child_scopes: list[str]
    cost_usd: float | None = None  # the priced calls' sum; None when no call could be priced
    unpriced_calls: int = 0  # calls with token usage whose model has no price (left out of cost_usd)


@dataclass(slots=True)
class SessionView:
    steps: list[Step] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    summary: SessionSummary | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """Something the analyzer found in a session, with the steps that prove it."""

    finding_id: str
    session_id: str
    kind: str
    sub_kind: str
    severity: str
    agent_name: str | None
    step_indexes: list[int]
    span_ids: list[str]
    explanation: str


@dataclass(frozen=True, slots=True)
class Pruned:
    """What one retention batch deleted."""

    sessions: int = 0
    spans: int = 0
    log_records: int = 0
    metric_points: int = 0

    def __add__(self, other: Pruned) -> Pruned:
        return Pruned(
            self.sessions + other.sessions,
            self.spans + other.spans,
            self.log_records + other.log_records,
            self.metric_points + other.metric_points,
        )

    @property
    def empty(self) -> bool:
        return not (self.sessions or self.spans or self.log_records or self.metric_points)
