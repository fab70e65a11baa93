"""The three OTLP signals, and what a decode worker does with an export request's bytes.

Both the receiving side (collector/ingest.py) and the decode workers (collector/decode_pool.py)
import this module; it imports neither of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs_pb
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as metrics_pb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as trace_pb

from collector import decode
from collector.config import Limits
from collector.encoding import JSON, parse_json, parse_protobuf
from collector.errors import InvalidRequest, PayloadTooLarge
from collector.redact import Redactor
from store.model import RowsError


@dataclass(frozen=True, slots=True)
class Signal:
    """One OTLP signal: its messages, how to decode it, and how to count it."""

    name: str  # traces | logs | metrics
    item: str  # spans | log_records | data_points
    request_type: type[Message]
    response_type: type[Message]
    decoder: Callable[[Any, Limits, Redactor | None], decode.DecodeOutcome]
    count: Callable[[Any], int]
    rejected_field: str


TRACES = Signal(
    "traces",
    "spans",
    trace_pb.ExportTraceServiceRequest,
    trace_pb.ExportTraceServiceResponse,
    decode.decode_traces,
    lambda r: sum(len(ss.spans) for rs in r.resource_spans for ss in rs.scope_spans),
    "rejected_spans",
)
LOGS = Signal(
    "logs",
    "log_records",
    logs_pb.ExportLogsServiceRequest,
    logs_pb.ExportLogsServiceResponse,
    decode.decode_logs,
    lambda r: sum(len(sl.log_records) for rl in r.resource_logs for sl in rl.scope_logs),
    "rejected_log_records",
)
METRICS = Signal(
    "metrics",
    "data_points",
    metrics_pb.ExportMetricsServiceRequest,
    metrics_pb.ExportMetricsServiceResponse,
    decode.decode_metrics,
    lambda r: sum(
        len(getattr(m, m.WhichOneof("data")).data_points) if m.WhichOneof("data") else 0
        for rm in r.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
    ),
    "rejected_data_points",
)
SIGNALS = {s.name: s for s in (TRACES, LOGS, METRICS)}


def decode_request(
    signal_name: str, body: bytes, media: str, limits: Limits, redactor: Redactor | None
) -> decode.DecodeOutcome:
    """An export request's bytes to the batch it adds to the store; raises ExportError. Runs in a decode worker."""
    signal = SIGNALS[signal_name]
    request = (parse_json if media == JSON else parse_protobuf)(body, signal.request_type)
    received = signal.count(request)
    if signal is TRACES and received > limits.max_spans_per_request:
        raise PayloadTooLarge(
            f"the request has {received} spans; the limit is {limits.max_spans_per_request} per request"
        )
    try:
        outcome = signal.decoder(request, limits, redactor)
    except RowsError as exc:
        raise InvalidRequest(str(exc)) from None
    outcome.received = received
    return outcome
