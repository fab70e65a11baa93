"""Taking data out: views to Parquet partitioned by day, and one session back to OTLP/JSON.

Everything is read through the same one-statement, row-capped query path as user SQL (the API of a
running collector, or the file when none runs), so an export can never do more than a query can.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from store.query import OUT_OF_MEMORY
from store.reads import VIEWS

# (sql, params, max rows) -> (typed rows, truncated)
ReadArrow = Callable[[str, list[Any], int], tuple[pa.Table, bool]]

# Rows per read and per Parquet file. It bounds what one read costs the collector: wide rows (spans with
# their messages) at 200,000 per read ran out of a 256 MB memory limit on a 1M-span store.
PAGE_ROWS = 20_000
NS_PER_DAY = 86_400 * 10**9

# Each view's columns, where they come from, and the time (in ns) that puts a row in a day. Windows are
# filtered on the stored nanoseconds, not on the timestamp the view computes from them, so that the
# filter reaches the table scan and a window reads only its own rows. Handoffs have no time of their
# own: they go with their session's start.
_SOURCES: dict[str, tuple[str, str, str]] = {
    "sessions": ("*", "sessions", "first_time_unix_nano"),
    "steps": ("*", "steps", "start_time_unix_nano"),
    "llm_calls": ("*", "llm_calls", "start_time_unix_nano"),
    "tool_calls": ("*", "tool_calls", "start_time_unix_nano"),
    "handoffs": ("h.*", "handoffs h JOIN sessions s ON s.session_id = h.session_id", "s.first_time_unix_nano"),
    "findings": ("*", "findings", "detected_time_unix_nano"),
    "redactions": ("r.*", "redactions r JOIN sessions s ON s.session_id = r.session_id", "s.first_time_unix_nano"),
    "spans": ("*", "spans", "start_time_unix_nano"),
    "logs": ("*", "logs", "time_unix_nano"),
    "metrics": ("*", "metrics", "time_unix_nano"),
    "derived_failures": ("*", "derived_failures", "last_failed_time_unix_nano"),
}
assert set(_SOURCES) == set(VIEWS)


class ExportError(Exception):
    """An export that cannot be done; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Unit:
    """One view's rows of one day: the unit of progress."""

    view: str
    day: date


def _floor_div(value: str, divisor: str) -> str:
    """Integer division, exact and written the same for DuckDB (where / gives a double) and PostgreSQL."""
    return f"CAST(({value} - ({value}) % {divisor}) / {divisor} AS BIGINT)"


def plan(read: ReadArrow, views: list[str], since: date | None, until: date | None) -> list[Unit]:
    """The (view, day) pairs that hold rows, oldest first."""
    units: list[Unit] = []
    for view in views:
        _, source, ns = _SOURCES[view]
        where, params = [], []
        for bound, op in ((since, ">="), (until, "<")):
            if bound is not None:
                params.append(_day_start(bound))
                where.append(f"{ns} {op} ${len(params)}")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        day = _floor_div(ns, str(NS_PER_DAY))
        table, _ = read(f"SELECT DISTINCT {day} AS day FROM {source} {clause} ORDER BY day", params, 100_000)
        epoch = date(1970, 1, 1)
        units += [Unit(view, epoch + timedelta(days=d)) for d in table.column("day").to_pylist() if d is not None]
    return units


def _day_start(day: date) -> int:
    return (day - date(1970, 1, 1)).days * NS_PER_DAY


def export_day(read: ReadArrow, unit: Unit, out: Path) -> int:
    """Writes one view's rows of one day under ``out/VIEW/day=YYYY-MM-DD/``; returns the row count."""
    columns, source, ns = _SOURCES[unit.view]
    folder = out / unit.view / f"day={unit.day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    start = _day_start(unit.day)
    written = 0
    part = 0
    for lo, hi in _windows(_pieces(read, source, ns, start, start + NS_PER_DAY, 60 * 10**9)):
        for table in _read_window(read, f"SELECT {columns} FROM {source}", ns, lo, hi):
            pq.write_table(table, folder / f"part-{part:05d}.parquet", compression="zstd")
            written += table.num_rows
            part += 1
    return written


def _pieces(read: ReadArrow, source: str, ns: str, lo: int, hi: int, width: int) -> list[tuple[int, int, int]]:
    """(start, end, rows) of the populated stretches of [lo, hi), each of at most PAGE_ROWS rows unless
    more than that share one microsecond. Counting is a narrow aggregate: cheap where reading is not."""
    table, _ = read(
        f"SELECT {_floor_div(f'{ns} - $1', '$2')} AS bucket, count(*) AS n FROM {source} "
        f"WHERE {ns} >= $1 AND {ns} < $3 GROUP BY 1 ORDER BY 1",
        [lo, width, hi],
        1_000_000,
    )
    found: list[tuple[int, int, int]] = []
    for bucket, n in zip(table.column("bucket").to_pylist(), table.column("n").to_pylist(), strict=True):
        start = lo + bucket * width
        end = min(start + width, hi)
        if n > PAGE_ROWS and width > 1000:
            found += _pieces(read, source, ns, start, end, max(width // 100, 1000))
        else:
            found.append((start, end, n))
    return found


def _windows(pieces: list[tuple[int, int, int]]) -> Iterator[tuple[int, int]]:
    """Consecutive pieces joined into windows of at most PAGE_ROWS rows."""
    lo = hi = rows = 0
    for start, end, n in pieces:
        if rows and rows + n > PAGE_ROWS:
            yield lo, hi
            rows = 0
        if not rows:
            lo = start
        hi, rows = end, rows + n
    if rows:
        yield lo, hi


def _read_window(read: ReadArrow, select: str, ns: str, lo: int, hi: int) -> Iterator[pa.Table]:
    """The rows of [lo, hi). A window is halved when it grew past the page since it was counted (a live
    store), or when its rows are too wide for the collector's memory limit in one read."""
    try:
        table, truncated = read(f"{select} WHERE {ns} >= $1 AND {ns} < $2", [lo, hi], PAGE_ROWS * 2)
    except Exception as exc:
        if OUT_OF_MEMORY not in str(exc) or hi - lo < 2:
            raise
        table, truncated = pa.table({}), True
    if not truncated:
        if table.num_rows:
            yield table
        return
    middle = lo + (hi - lo) // 2
    if middle <= lo:
        raise ExportError(f"the rows at the nanosecond {lo} do not fit one read; cannot split them")
    yield from _read_window(read, select, ns, lo, middle)
    yield from _read_window(read, select, ns, middle, hi)


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
        f"SELECT {_SPAN_COLUMNS} FROM spans WHERE session_id = $1 ORDER BY start_time_unix_nano, span_id",
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
