"""Taking data out: views to Parquet partitioned by day, and one session back to OTLP/JSON.

Everything is read through the same one-statement, row-capped query path as user SQL (the API of a
running collector, or the file when none runs), so an export can never do more than a query can.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from store.reads import VIEWS

# (sql, params, max rows) -> (typed rows, truncated)
ReadArrow = Callable[[str, list[Any], int], tuple[pa.Table, bool]]

PAGE_ROWS = 200_000  # rows per read and per Parquet file: bounds the memory an export needs

# Each view's columns, where they come from, and the time that puts a row in a day. Handoffs have no
# time of their own: they go with their session's start.
_SOURCES: dict[str, tuple[str, str, str]] = {
    "sessions": ("*", "sessions", "start_time"),
    "steps": ("*", "steps", "start_time"),
    "llm_calls": ("*", "llm_calls", "start_time"),
    "tool_calls": ("*", "tool_calls", "start_time"),
    "handoffs": ("h.*", "handoffs h JOIN sessions s ON s.session_id = h.session_id", "s.start_time"),
    "findings": ("*", "findings", "detected_at"),
    "spans": ("*", "spans", "start_time"),
    "logs": ("*", "logs", "time"),
    "metrics": ("*", "metrics", "time"),
}
assert set(_SOURCES) == set(VIEWS)


class ExportError(Exception):
    """An export that cannot be done; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Unit:
    """One view's rows of one day: the unit of progress."""

    view: str
    day: date


def plan(read: ReadArrow, views: list[str], since: date | None, until: date | None) -> list[Unit]:
    """The (view, day) pairs that hold rows, oldest first."""
    units: list[Unit] = []
    for view in views:
        _, source, time = _SOURCES[view]
        where, params = [], []
        for bound, op in ((since, ">="), (until, "<")):
            if bound is not None:
                where.append(f"{time} {op} CAST(? AS TIMESTAMP)")
                params.append(datetime.combine(bound, datetime.min.time()).isoformat())
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        table, _ = read(
            f"SELECT DISTINCT CAST({time} AS DATE) AS day FROM {source} {clause} ORDER BY day", params, 1_000_000
        )
        units += [Unit(view, d) for d in table.column("day").to_pylist() if d is not None]
    return units


def export_day(read: ReadArrow, unit: Unit, out: Path) -> int:
    """Writes one view's rows of one day under ``out/VIEW/day=YYYY-MM-DD/``; returns the row count."""
    columns, source, time = _SOURCES[unit.view]
    folder = out / unit.view / f"day={unit.day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime.combine(unit.day, datetime.min.time())
    written = 0
    for part, table in enumerate(
        _windows(read, f"SELECT {columns} FROM {source}", time, start, start + timedelta(days=1))
    ):
        pq.write_table(table, folder / f"part-{part:05d}.parquet", compression="zstd")
        written += table.num_rows
    return written


def _windows(read: ReadArrow, select: str, time: str, start: datetime, end: datetime) -> Iterator[pa.Table]:
    """The rows with ``start <= time < end``, in pieces of at most PAGE_ROWS (a busy window is halved)."""
    table, truncated = read(
        f"{select} WHERE {time} >= CAST(? AS TIMESTAMP) AND {time} < CAST(? AS TIMESTAMP)",
        [start.isoformat(), end.isoformat()],
        PAGE_ROWS,
    )
    if not truncated:
        if table.num_rows:
            yield table
        return
    middle = start + (end - start) / 2
    if middle <= start or end - start < timedelta(microseconds=2):
        raise ExportError(f"more than {PAGE_ROWS} rows share the time {start.isoformat()}; cannot split them")
    yield from _windows(read, select, time, start, middle)
    yield from _windows(read, select, time, middle, end)


# -- one session back to OTLP/JSON ---------------------------------------------------------------

_KINDS = {"unspecified": 0, "internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
_STATUS = {"unset": 0, "ok": 1, "error": 2}
_SPAN_COLUMNS = (
    "trace_id, span_id, parent_span_id, trace_state, flags, name, kind, start_time_unix_nano, end_time_unix_nano, "
    "status, status_message, attributes, dropped_attributes_count, events, dropped_events_count, links, "
    "dropped_links_count, resource_attributes, resource_schema_url, scope_name, scope_version, scope_attributes, "
    "scope_schema_url"
)
MAX_SESSION_SPANS = 1_000_000


def session_as_otlp(read: ReadArrow, session_id: str) -> dict[str, Any]:
    """An ExportTraceServiceRequest in OTLP/JSON holding every span of the session, as it was received."""
    table, truncated = read(
        f"SELECT {_SPAN_COLUMNS} FROM spans WHERE session_id = ? ORDER BY start_time_unix_nano, span_id",
        [session_id],
        MAX_SESSION_SPANS,
    )
    if truncated:
        raise ExportError(f"the session has more than {MAX_SESSION_SPANS} spans; export it as Parquet instead")
    if table.num_rows == 0:
        raise ExportError(f"there is no session {session_id!r} (list them with `stepseven query`)")
    resources: dict[tuple[str, str], dict[tuple[str, str, str, str], list[dict[str, Any]]]] = {}
    for row in table.to_pylist():
        resource_key = (row["resource_attributes"] or "{}", row["resource_schema_url"] or "")
        scope_key = (
            row["scope_name"] or "",
            row["scope_version"] or "",
            row["scope_attributes"] or "{}",
            row["scope_schema_url"] or "",
        )
        resources.setdefault(resource_key, {}).setdefault(scope_key, []).append(_span(row))
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _key_values(orjson.loads(resource_attributes))},
                "schemaUrl": resource_schema_url,
                "scopeSpans": [
                    {
                        "scope": {
                            "name": name,
                            "version": version,
                            "attributes": _key_values(orjson.loads(scope_attributes)),
                        },
                        "schemaUrl": scope_schema_url,
                        "spans": spans,
                    }
                    for (name, version, scope_attributes, scope_schema_url), spans in scopes.items()
                ],
            }
            for (resource_attributes, resource_schema_url), scopes in resources.items()
        ]
    }


def _span(row: dict[str, Any]) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": row["trace_id"],
        "spanId": row["span_id"],
        "name": row["name"],
        "kind": _KINDS.get(row["kind"], 0),
        "startTimeUnixNano": str(row["start_time_unix_nano"]),
        "endTimeUnixNano": str(row["end_time_unix_nano"]),
        "attributes": _key_values(orjson.loads(row["attributes"] or "{}")),
        "droppedAttributesCount": row["dropped_attributes_count"] or 0,
        "events": [
            {
                "timeUnixNano": str(event.get("time_unix_nano", 0)),
                "name": event.get("name", ""),
                "attributes": _key_values(event.get("attributes") or {}),
                "droppedAttributesCount": event.get("dropped_attributes_count", 0),
            }
            for event in orjson.loads(row["events"] or "[]")
        ],
        "droppedEventsCount": row["dropped_events_count"] or 0,
        "links": [
            {
                "traceId": link.get("trace_id", ""),
                "spanId": link.get("span_id", ""),
                "traceState": link.get("trace_state", ""),
                "flags": link.get("flags", 0),
                "attributes": _key_values(link.get("attributes") or {}),
                "droppedAttributesCount": link.get("dropped_attributes_count", 0),
            }
            for link in orjson.loads(row["links"] or "[]")
        ],
        "droppedLinksCount": row["dropped_links_count"] or 0,
        "status": {"code": _STATUS.get(row["status"], 0), "message": row["status_message"] or ""},
    }
    if row["parent_span_id"]:
        span["parentSpanId"] = row["parent_span_id"]
    if row["trace_state"]:
        span["traceState"] = row["trace_state"]
    if row["flags"]:
        span["flags"] = row["flags"]
    return span


def _key_values(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": _any_value(value)} for key, value in attributes.items()]


def _any_value(value: Any) -> dict[str, Any]:
    # Stored attribute values kept their OTLP types in JSON; bool before int, since bool is an int in Python.
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [_any_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": _key_values(value)}}
    return {}
