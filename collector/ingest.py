"""What both receivers do with a decoded request: check, convert, queue, wait for the commit.

The gRPC and HTTP receivers only differ in how bytes arrive and how answers leave; everything
between is here, once.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs_pb
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as metrics_pb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as trace_pb

from collector import decode
from collector.config import CollectorConfig, Limits
from collector.encoding import JSON, parse_json, parse_protobuf
from collector.errors import ExportError, InvalidRequest, PayloadTooLarge, QueueFull, Unavailable
from collector.limits import Counters
from collector.redact import Redactor
from store.model import RowsError, WriteResult
from store.writer import CommitFailed, Writer, WriterClosed
from store.writer import QueueFull as WriterQueueFull


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

if TYPE_CHECKING:
    from collector.decode_pool import DecodePool


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


@dataclass(slots=True)
class Accepted:
    """A request that passed the checks, with what its answer must say."""

    signal: Signal
    outcome: decode.DecodeOutcome
    future: Future[WriteResult]

    def response(self) -> Message:
        response = self.signal.response_type()
        if self.outcome.rejected:
            partial = response.partial_success  # type: ignore[attr-defined]
            setattr(partial, self.signal.rejected_field, self.outcome.rejected)
            partial.error_message = f"{self.outcome.rejected} {self.signal.item} rejected: " + "; ".join(
                self.outcome.errors
            )
        return response


class Ingest:
    def __init__(self, config: CollectorConfig, writer: Writer, counters: Counters, decoders: DecodePool) -> None:
        self.config = config
        self.limits = config.limits
        self.writer = writer
        self.counters = counters
        self.decoders = decoders

    def accept(self, signal: Signal, body: bytes, media: str) -> Accepted:
        """Decodes a request's (decompressed) body in a decode worker and queues it for the writer."""
        outcome = self.decoders.decode(signal.name, body, media)
        n = outcome.received
        try:
            future = self.writer.submit(outcome.batch)
        except WriterQueueFull as exc:
            raise QueueFull(f"{exc}; retry later") from None
        except WriterClosed as exc:
            raise Unavailable(str(exc)) from None
        self.counters.add(f"received_{signal.item}", n)
        self.counters.add(f"rejected_{signal.item}", outcome.rejected)
        self.counters.add("truncated_attribute_values", outcome.truncated_values)
        self.counters.add("dropped_attributes", outcome.dropped_attributes)
        self.counters.add("redacted_values", outcome.redacted_values)
        return Accepted(signal, outcome, future)

    def wait(self, accepted: Accepted, timeout: float | None = None) -> Message:
        """Blocks until the commit (at most ``timeout``); the answer the exporter gets."""
        try:
            accepted.future.result(timeout=self.config.commit_timeout_seconds if timeout is None else timeout)
        except FutureTimeout:
            raise Unavailable(
                f"the data was not committed within {self.config.commit_timeout_seconds:g} s; retry"
            ) from None
        except CommitFailed as exc:
            raise Unavailable(f"{exc}; retry") from None
        return accepted.response()

    def refused(self, err: ExportError) -> None:
        self.counters.add(f"refused_{err.reason}")
