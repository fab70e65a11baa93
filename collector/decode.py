"""Decoded OTLP protobuf messages to column batches for the store.

This is the ingest hot path: one pass over each span, attribute values converted once and
serialized with orjson, nothing per span that is not needed.
"""

from __future__ import annotations

import base64
import hashlib
import operator
import time
from dataclasses import dataclass
from typing import Any

import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from collector.config import Limits
from collector.normalize import SpanInput, normalize
from collector.redact import Redactor
from store import raw_columns
from store.model import Batch, Rows
from store.raw_columns import LOG_COLUMNS, METRIC_COLUMNS, NORMALIZED_NAMES

_MAX_NANOS = 2**63 - 1  # the store keeps times as signed 64-bit nanoseconds
_MAX_SMALL = 2**15 - 1  # kinds, status codes and severities are SMALLINT columns
_normalized_values = operator.itemgetter(*NORMALIZED_NAMES)
# The order of the values in the tuples decode_traces builds, one per span.
_SPAN_ROW: tuple[str, ...] = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "trace_state",
    "flags",
    "name",
    "kind",
    "start_time_unix_nano",
    "end_time_unix_nano",
    "status_code",
    "status_message",
    "attributes",
    "dropped_attributes_count",
    "events",
    "dropped_events_count",
    "links",
    "dropped_links_count",
    "service_name",
    "resource_attributes",
    "resource_schema_url",
    "scope_name",
    "scope_version",
    "scope_attributes",
    "scope_schema_url",
    "received_time_unix_nano",
    *NORMALIZED_NAMES,
    "redacted_values",
)
_ZERO_TRACE = bytes(16)
_ZERO_SPAN = bytes(8)


@dataclass(slots=True)
class DecodeOutcome:
    batch: Batch
    rejected: int
    errors: list[str]
    truncated_values: int
    dropped_attributes: int
    redacted_values: int = 0
    received: int = 0  # records in the request, refused ones included (set by signals.decode_request)


class _Converter:
    """AnyValue to plain Python values, with the attribute limits applied."""

    __slots__ = ("dropped", "max_attributes", "max_value", "redacted", "redactor", "truncated")

    def __init__(self, limits: Limits, redactor: Redactor | None = None) -> None:
        self.max_value = limits.max_attribute_value_bytes
        self.max_attributes = limits.max_attributes_per_span
        self.redactor = redactor
        self.truncated = 0
        self.dropped = 0
        self.redacted = 0

    def text(self, s: str) -> str:
        """A free-text value (status message) with the redaction applied."""
        if self.redactor is None or not s:
            return s
        s, n = self.redactor.text(s)
        self.redacted += n
        return s

    def value(self, v: Any) -> Any:
        kind = v.WhichOneof("value")
        if kind == "string_value":
            s: str = v.string_value
            if self.redactor is not None:
                s, n = self.redactor.text(s)
                self.redacted += n
            if len(s) > self.max_value:
                self.truncated += 1
                return cut_text(s, self.max_value)
            return s
        if kind == "int_value":
            return v.int_value
        if kind == "double_value":
            return v.double_value
        if kind == "bool_value":
            return v.bool_value
        if kind == "array_value":
            return [self.value(x) for x in v.array_value.values]
        if kind == "kvlist_value":
            return {kv.key: self.value(kv.value) for kv in v.kvlist_value.values}
        if kind == "bytes_value":
            b: bytes = v.bytes_value
            if len(b) > self.max_value:
                self.truncated += 1
                b = b[: self.max_value]
            return base64.b64encode(b).decode("ascii")
        return None

    def attributes(self, kvs: Any) -> tuple[dict[str, Any], int]:
        """Returns the attributes and how many were dropped over the count limit."""
        n = len(kvs)
        if n > self.max_attributes:
            self.dropped += n - self.max_attributes
            return {kv.key: self.value(kv.value) for kv in kvs[: self.max_attributes]}, n - self.max_attributes
        return {kv.key: self.value(kv.value) for kv in kvs}, 0


def _cut_mark(chars: int) -> str:
    return f"...[stepseven: truncated {chars} chars]"


def cut_text(s: str, limit: int) -> str:
    """``s`` brought to about ``limit`` characters, the cut marked. A JSON object or array (the GenAI
    messages are JSON text in one attribute) stays valid JSON: its longest strings are cut, each with
    the mark, so that the messages, their roles and their order survive. Anything else is cut at the end."""
    if s[:1] in ("[", "{"):
        try:
            document = orjson.loads(s)
        except orjson.JSONDecodeError:
            document = None
        if isinstance(document, (dict, list)):
            try:
                written = _cut_json(document, len(s) - limit, limit)
            except (orjson.JSONEncodeError, RecursionError):
                written = None  # nested deeper than orjson writes (255 levels): hostile or odd, cut as text
            if written is not None:
                return written
    return s[:limit] + _cut_mark(len(s) - limit)


def _cut_json(document: Any, excess: int, limit: int) -> str | None:
    """``document`` written in ``limit`` characters with its strings cut, or None if it will not fit."""
    lengths: list[int] = []
    _string_lengths(document, lengths)
    for _attempt in range(4):  # escapes make the written length differ a little from the estimate
        if _saved(lengths, 0) < excess:
            return None  # mostly structure (many short messages): cutting every string is not enough
        written = orjson.dumps(_cut_strings(document, _cap(lengths, excess))).decode()
        if len(written) <= limit:
            return written
        excess += len(written) - limit
    return None


def _string_lengths(value: Any, found: list[int]) -> None:
    if isinstance(value, str):
        found.append(len(value))
    elif isinstance(value, dict):
        for item in value.values():
            _string_lengths(item, found)
    elif isinstance(value, list):
        for item in value:
            _string_lengths(item, found)


def _saved(lengths: list[int], cap: int) -> int:
    """Characters saved by keeping ``cap`` characters of every longer string (plus its mark)."""
    return sum(max(0, n - cap - len(_cut_mark(n - cap))) for n in lengths)


def _cap(lengths: list[int], excess: int) -> int:
    """The longest cap on the strings that saves ``excess`` characters (0: cut all)."""
    low, high = 0, max(lengths, default=0)
    while low < high:  # the largest cap whose saving is still enough
        middle = (low + high + 1) // 2
        if _saved(lengths, middle) >= excess + 16:
            low = middle
        else:
            high = middle - 1
    return low


def _cut_strings(value: Any, cap: int) -> Any:
    if isinstance(value, str):
        if len(value) - cap > len(_cut_mark(len(value) - cap)):
            return value[:cap] + _cut_mark(len(value) - cap)
        return value
    if isinstance(value, dict):
        return {key: _cut_strings(item, cap) for key, item in value.items()}
    if isinstance(value, list):
        return [_cut_strings(item, cap) for item in value]
    return value


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _service_name(attributes: dict[str, Any]) -> str | None:
    name = attributes.get("service.name")
    return name if isinstance(name, str) else None


def _span_problem(span: Any) -> str | None:
    if len(span.trace_id) != 16 or span.trace_id == _ZERO_TRACE:
        return "trace_id must be 16 bytes and not all zero"
    if len(span.span_id) != 8 or span.span_id == _ZERO_SPAN:
        return "span_id must be 8 bytes and not all zero"
    if span.parent_span_id and len(span.parent_span_id) != 8:
        return "parent_span_id must be empty or 8 bytes"
    if span.start_time_unix_nano > _MAX_NANOS or span.end_time_unix_nano > _MAX_NANOS:
        return "timestamps must be before the year 2262"
    if not 0 <= span.kind <= _MAX_SMALL or not 0 <= span.status.code <= _MAX_SMALL:
        return f"kind {span.kind} or status code {span.status.code} is not a SpanKind / StatusCode value"
    return None


def decode_traces(
    request: ExportTraceServiceRequest, limits: Limits, redactor: Redactor | None = None
) -> DecodeOutcome:
    # One tuple per span in the table's column order, turned into columns once at the end: in this
    # loop, which runs per span, that is cheaper than fifty list appends.
    rows: list[tuple[Any, ...]] = []
    conv = _Converter(limits, redactor)
    received = time.time_ns()
    rejected = 0
    errors: list[str] = []
    for resource_spans in request.resource_spans:
        resource_attrs, _ = conv.attributes(resource_spans.resource.attributes)
        resource_json = _json(resource_attrs)
        service = _service_name(resource_attrs)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            context = (
                service,
                resource_json,
                resource_spans.schema_url or None,
                scope.name or None,
                scope.version or None,
                _json(conv.attributes(scope.attributes)[0]),
                scope_spans.schema_url or None,
                received,
            )
            for span in scope_spans.spans:
                problem = _span_problem(span)
                if problem is not None:
                    rejected += 1
                    if len(errors) < 5:
                        errors.append(f"span {span.span_id.hex() or '(empty)'}: {problem}")
                    continue
                redacted_before = conv.redacted
                name, kind, status = span.name, span.kind, span.status
                attributes, over = conv.attributes(span.attributes)
                events = [_event(conv, e) for e in span.events]
                status_message = conv.text(status.message) or None
                links = _json([_link(conv, ln) for ln in span.links]) if span.links else "[]"
                normalized = normalize(SpanInput(name, kind, status.code, status_message, attributes, events))
                rows.append(
                    (
                        span.trace_id.hex(),
                        span.span_id.hex(),
                        span.parent_span_id.hex() or None,
                        span.trace_state or None,
                        span.flags,
                        name,
                        kind,
                        span.start_time_unix_nano,
                        span.end_time_unix_nano,
                        status.code,
                        status_message,
                        _json(attributes),
                        span.dropped_attributes_count + over,
                        _json(events) if events else "[]",
                        span.dropped_events_count,
                        links,
                        span.dropped_links_count,
                        *context,
                        *_normalized_values(normalized),
                        conv.redacted - redacted_before,
                    )
                )
    spans = (
        Rows.from_columns(
            raw_columns.SPANS_TABLE, dict(zip(_SPAN_ROW, map(list, zip(*rows, strict=True)), strict=True))
        )
        if rows
        else Rows.empty(raw_columns.SPANS_TABLE)
    )
    return DecodeOutcome(Batch(spans=spans), rejected, errors, conv.truncated, conv.dropped, conv.redacted)


def _event(conv: _Converter, event: Any) -> dict[str, Any]:
    attributes, over = conv.attributes(event.attributes)
    return {
        "name": event.name,
        "time_unix_nano": event.time_unix_nano,
        "attributes": attributes,
        "dropped_attributes_count": event.dropped_attributes_count + over,
    }


def _link(conv: _Converter, link: Any) -> dict[str, Any]:
    attributes, over = conv.attributes(link.attributes)
    return {
        "trace_id": link.trace_id.hex(),
        "span_id": link.span_id.hex(),
        "trace_state": link.trace_state,
        "flags": link.flags,
        "attributes": attributes,
        "dropped_attributes_count": link.dropped_attributes_count + over,
    }


def _record_id(*parts: bytes) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def decode_logs(request: ExportLogsServiceRequest, limits: Limits, redactor: Redactor | None = None) -> DecodeOutcome:
    cols: dict[str, list[Any]] = {name: [] for name in LOG_COLUMNS}
    conv = _Converter(limits, redactor)
    received = time.time_ns()
    rejected = 0
    errors: list[str] = []
    for resource_logs in request.resource_logs:
        resource_bytes = resource_logs.resource.SerializeToString(deterministic=True)
        resource_attrs, _ = conv.attributes(resource_logs.resource.attributes)
        resource_json = _json(resource_attrs)
        service = _service_name(resource_attrs)
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            scope_bytes = scope.SerializeToString(deterministic=True)
            for record in scope_logs.log_records:
                if record.time_unix_nano > _MAX_NANOS or record.observed_time_unix_nano > _MAX_NANOS:
                    rejected += 1
                    if len(errors) < 5:
                        errors.append("log record: timestamps must be before the year 2262")
                    continue
                if not 0 <= record.severity_number <= _MAX_SMALL:
                    rejected += 1
                    if len(errors) < 5:
                        errors.append(f"log record: severity_number {record.severity_number} is not a SeverityNumber")
                    continue
                attributes, over = conv.attributes(record.attributes)
                event_name = record.event_name or attributes.get("event.name")
                cols["record_id"].append(
                    _record_id(resource_bytes, scope_bytes, record.SerializeToString(deterministic=True))
                )
                cols["trace_id"].append(record.trace_id.hex() or None)
                cols["span_id"].append(record.span_id.hex() or None)
                cols["time_unix_nano"].append(record.time_unix_nano)
                cols["observed_time_unix_nano"].append(record.observed_time_unix_nano)
                cols["severity_number"].append(record.severity_number)
                cols["severity_text"].append(record.severity_text or None)
                cols["event_name"].append(event_name if isinstance(event_name, str) else None)
                cols["body"].append(_json(conv.value(record.body)) if record.HasField("body") else None)
                cols["attributes"].append(_json(attributes))
                cols["dropped_attributes_count"].append(record.dropped_attributes_count + over)
                cols["flags"].append(record.flags)
                cols["service_name"].append(service)
                cols["resource_attributes"].append(resource_json)
                cols["scope_name"].append(scope.name or None)
                cols["scope_version"].append(scope.version or None)
                cols["received_time_unix_nano"].append(received)
    batch = Batch(logs=Rows.from_columns(raw_columns.LOGS_TABLE, cols))
    return DecodeOutcome(batch, rejected, errors, conv.truncated, conv.dropped, conv.redacted)


def decode_metrics(
    request: ExportMetricsServiceRequest, limits: Limits, redactor: Redactor | None = None
) -> DecodeOutcome:
    cols: dict[str, list[Any]] = {name: [] for name in METRIC_COLUMNS}
    conv = _Converter(limits, redactor)
    received = time.time_ns()
    rejected = 0
    errors: list[str] = []
    for resource_metrics in request.resource_metrics:
        resource_bytes = resource_metrics.resource.SerializeToString(deterministic=True)
        resource_attrs, _ = conv.attributes(resource_metrics.resource.attributes)
        context = {
            "service_name": _service_name(resource_attrs),
            "resource_attributes": _json(resource_attrs),
            "received_time_unix_nano": received,
        }
        for scope_metrics in resource_metrics.scope_metrics:
            scope = scope_metrics.scope
            scope_bytes = scope.SerializeToString(deterministic=True)
            scope_context = {
                **context,
                "scope_name": scope.name or None,
                "scope_version": scope.version or None,
            }
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                if kind is None:
                    continue
                data = getattr(metric, kind)
                temporality: int | None = getattr(data, "aggregation_temporality", None)
                head = {
                    **scope_context,
                    "metric_name": metric.name,
                    "metric_type": kind,
                    "unit": metric.unit or None,
                    "description": metric.description or None,
                    "aggregation_temporality": temporality,
                    "is_monotonic": getattr(data, "is_monotonic", None),
                }
                name_bytes = metric.name.encode()
                temporality_ok = 0 <= (temporality or 0) <= _MAX_SMALL
                for point in data.data_points:
                    problem = None
                    if point.time_unix_nano > _MAX_NANOS or point.start_time_unix_nano > _MAX_NANOS:
                        problem = "timestamps must be before the year 2262"
                    elif not temporality_ok:
                        problem = f"aggregation_temporality {temporality} is not a temporality"
                    elif getattr(point, "count", 0) > _MAX_NANOS:
                        problem = "count must fit in 63 bits"
                    if problem is not None:
                        rejected += 1
                        if len(errors) < 5:
                            errors.append(f"metric {metric.name}: {problem}")
                        continue
                    row = {**head, **_point_values(kind, point)}
                    row["point_id"] = _record_id(
                        resource_bytes, scope_bytes, name_bytes, point.SerializeToString(deterministic=True)
                    )
                    row["start_time_unix_nano"] = point.start_time_unix_nano or None
                    row["time_unix_nano"] = point.time_unix_nano
                    row["attributes"] = _json(conv.attributes(point.attributes)[0])
                    for name, values in cols.items():
                        values.append(row.get(name))
    batch = Batch(metric_points=Rows.from_columns(raw_columns.METRIC_POINTS_TABLE, cols))
    return DecodeOutcome(batch, rejected, errors, conv.truncated, conv.dropped, conv.redacted)


def _point_values(kind: str, point: Any) -> dict[str, Any]:
    if kind in ("gauge", "sum"):
        which = point.WhichOneof("value")
        return {"value": float(getattr(point, which)) if which else None}
    if kind == "histogram":
        return {
            "count": point.count,
            "sum": point.sum if point.HasField("sum") else None,
            "min": point.min if point.HasField("min") else None,
            "max": point.max if point.HasField("max") else None,
            "buckets": _json({"explicit_bounds": list(point.explicit_bounds), "counts": list(point.bucket_counts)}),
        }
    if kind == "exponential_histogram":
        return {
            "count": point.count,
            "sum": point.sum if point.HasField("sum") else None,
            "min": point.min if point.HasField("min") else None,
            "max": point.max if point.HasField("max") else None,
            "buckets": _json(
                {
                    "scale": point.scale,
                    "zero_count": point.zero_count,
                    "positive": {
                        "offset": point.positive.offset,
                        "counts": list(point.positive.bucket_counts),
                    },
                    "negative": {
                        "offset": point.negative.offset,
                        "counts": list(point.negative.bucket_counts),
                    },
                }
            ),
        }
    # summary
    return {
        "count": point.count,
        "sum": point.sum,
        "buckets": _json([{"quantile": q.quantile, "value": q.value} for q in point.quantile_values]),
    }
