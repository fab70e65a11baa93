"""GenAI content sent as log records is kept and linked to its span; metrics are kept too."""

from __future__ import annotations

import json

from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from tests.conftest import RunningCollector


def test_gen_ai_events_sent_as_log_records_are_kept_with_their_span(collector: RunningCollector) -> None:
    resource = Resource.create({"service.name": "sk-agent"})
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=collector.grpc_endpoint, insecure=True))
    )
    logger = logger_provider.get_logger("semantic_kernel")
    tracer = TracerProvider(resource=resource).get_tracer("semantic_kernel")
    with tracer.start_as_current_span("chat gpt-4o") as span:
        logger.emit(
            event_name="gen_ai.user.message",
            body={"content": "Where is my refund?", "role": "user"},
            attributes={"gen_ai.system": "openai"},
        )
        context = span.get_span_context()
    logger_provider.shutdown()

    [row] = collector.sql("SELECT trace_id, span_id, event_name, body, attributes, service_name FROM logs")
    assert row["trace_id"] == format(context.trace_id, "032x")
    assert row["span_id"] == format(context.span_id, "016x")
    assert row["event_name"] == "gen_ai.user.message"
    assert json.loads(row["body"]) == {"content": "Where is my refund?", "role": "user"}
    assert json.loads(row["attributes"])["gen_ai.system"] == "openai"
    assert row["service_name"] == "sk-agent"


def test_gen_ai_token_histograms_are_kept(collector: RunningCollector) -> None:
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{collector.http_url}/v1/metrics"), export_interval_millis=60_000
    )
    provider = MeterProvider(resource=Resource.create({"service.name": "bot"}), metric_readers=[reader])
    histogram = provider.get_meter("gen_ai").create_histogram("gen_ai.client.token.usage", unit="{token}")
    histogram.record(120, {"gen_ai.token.type": "input", "gen_ai.request.model": "gpt-4o"})
    histogram.record(30, {"gen_ai.token.type": "input", "gen_ai.request.model": "gpt-4o"})
    provider.get_meter("gen_ai").create_counter("agent.runs").add(3)
    provider.shutdown()

    rows = collector.sql("SELECT metric_name, metric_type, unit, count, sum, value, attributes FROM metrics ORDER BY 1")
    by_name = {r["metric_name"]: r for r in rows}
    tokens = by_name["gen_ai.client.token.usage"]
    assert (tokens["metric_type"], tokens["unit"], tokens["count"], tokens["sum"]) == ("histogram", "{token}", 2, 150)
    assert json.loads(tokens["attributes"])["gen_ai.token.type"] == "input"
    assert by_name["agent.runs"]["value"] == 3
