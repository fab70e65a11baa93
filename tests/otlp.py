"""Building OTLP requests for tests: through the real SDK, or by hand for hostile payloads."""

from __future__ import annotations

import json
import os
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode


def emit_agent_run(exporter: SpanExporter, service: str = "support-bot") -> None:
    """A small agent run as an instrumented framework emits it: agent, chat, tool (which fails)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.agent", "1.2.3")
    with tracer.start_as_current_span(
        "invoke_agent triage_agent",
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "triage_agent",
            "gen_ai.conversation.id": "conv-42",
        },
    ):
        with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT) as chat:
            chat.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.usage.input_tokens": 321,
                    "gen_ai.response.finish_reasons": ["tool_call"],
                    "gen_ai.input.messages": json.dumps(
                        [{"role": "user", "parts": [{"type": "text", "content": "<script>alert(1)</script>"}]}]
                    ),
                    "stepseven.test.ratio": 0.25,
                    "stepseven.test.flag": True,
                }
            )
            chat.add_event("gen_ai.user.message", {"content": "book a flight", "role": "user"})
        with tracer.start_as_current_span("execute_tool search_flights") as tool:
            tool.set_attributes(
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "search_flights",
                    "gen_ai.tool.call.id": "call_1",
                }
            )
            tool.record_exception(ConnectionError("upstream down"))
            tool.set_status(Status(StatusCode.ERROR, "ConnectionError: upstream down"))
    provider.shutdown()


def sdk_spans(count: int = 3) -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "hand-made"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    with tracer.start_as_current_span("root"):
        for i in range(count - 1):
            with tracer.start_as_current_span(f"child {i}", attributes={"i": i}):
                pass
    provider.shutdown()
    return list(exporter.get_finished_spans())


def request_bytes(count: int = 3) -> bytes:
    return bytes(encode_spans(sdk_spans(count)).SerializeToString())


def raw_span(name: str = "hand-made", **fields: Any) -> Span:
    span = Span(
        trace_id=fields.pop("trace_id", os.urandom(16)),
        span_id=fields.pop("span_id", os.urandom(8)),
        name=name,
        start_time_unix_nano=fields.pop("start_time_unix_nano", 1_700_000_000_000_000_000),
        end_time_unix_nano=fields.pop("end_time_unix_nano", 1_700_000_001_000_000_000),
        **fields,
    )
    return span


def raw_request(*spans: Span) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=list(spans))])])


def attribute(key: str, value: AnyValue) -> KeyValue:
    return KeyValue(key=key, value=value)
