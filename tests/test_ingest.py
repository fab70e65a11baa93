"""Stories: an agent's spans sent by any OTLP exporter end up in the store, whole."""

from __future__ import annotations

import gzip
import json
import logging
import time

import grpc
import httpx
import orjson
import psutil
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace.export import SpanExporter

from tests.conftest import RunningCollector
from tests.otlp import emit_agent_run, raw_request, raw_span, request_bytes


def _exporter(protocol: str, collector: RunningCollector) -> SpanExporter:
    if protocol == "grpc":
        return GrpcSpanExporter(endpoint=collector.grpc_endpoint, insecure=True)
    if protocol == "http-gzip":
        return HttpSpanExporter(endpoint=f"{collector.http_url}/v1/traces", compression=Compression.Gzip)
    return HttpSpanExporter(endpoint=f"{collector.http_url}/v1/traces")


@pytest.mark.parametrize("protocol", ["grpc", "http", "http-gzip"])
def test_an_agent_exporting_with_the_sdk_is_stored_with_attributes_and_events(
    collector: RunningCollector, protocol: str
) -> None:
    emit_agent_run(_exporter(protocol, collector), service=f"bot-{protocol}")

    rows = collector.sql(
        "SELECT name, kind, status, status_message, service_name, scope_name, scope_version, "
        "attributes, events, parent_span_id, trace_id FROM spans ORDER BY start_time"
    )
    assert [r["name"] for r in rows] == [
        "invoke_agent triage_agent",
        "chat gpt-4o",
        "execute_tool search_flights",
    ]
    agent, chat, tool = rows
    assert {r["trace_id"] for r in rows} == {agent["trace_id"]}
    assert agent["parent_span_id"] is None
    assert chat["parent_span_id"] is not None and tool["parent_span_id"] == chat["parent_span_id"]
    assert {r["service_name"] for r in rows} == {f"bot-{protocol}"}
    assert (chat["scope_name"], chat["scope_version"]) == ("tests.agent", "1.2.3")
    assert chat["kind"] == "client"

    attributes = json.loads(chat["attributes"])
    assert attributes["gen_ai.usage.input_tokens"] == 321
    assert attributes["gen_ai.response.finish_reasons"] == ["tool_call"]
    assert attributes["stepseven.test.ratio"] == 0.25
    assert attributes["stepseven.test.flag"] is True
    assert "<script>alert(1)</script>" in attributes["gen_ai.input.messages"]
    events = json.loads(chat["events"])
    assert events[0]["name"] == "gen_ai.user.message"
    assert events[0]["attributes"] == {"content": "book a flight", "role": "user"}

    assert tool["status"] == "error"
    assert tool["status_message"] == "ConnectionError: upstream down"
    exception = json.loads(tool["events"])[0]
    assert exception["name"] == "exception"
    assert exception["attributes"]["exception.type"] == "ConnectionError"


def test_an_otlp_json_request_with_hex_ids_is_stored(collector: RunningCollector) -> None:
    trace_id, span_id, parent = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "eee19b7ec3c1b173"
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "js-agent"}}]},
                "scopeSpans": [
                    {
                        "scope": {"name": "browser"},
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": span_id,
                                "parentSpanId": parent,
                                "name": "chat claude",
                                "kind": 3,
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": 1700000000500000000,
                                "attributes": [
                                    {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "17"}},
                                    {
                                        "key": "nested",
                                        "value": {
                                            "kvlistValue": {
                                                "values": [
                                                    {
                                                        "key": "list",
                                                        "value": {
                                                            "arrayValue": {
                                                                "values": [
                                                                    {"doubleValue": 1.5},
                                                                    {"boolValue": True},
                                                                ]
                                                            }
                                                        },
                                                    }
                                                ]
                                            }
                                        },
                                    },
                                ],
                                "links": [{"traceId": trace_id, "spanId": parent}],
                                "status": {"code": 2, "message": "boom"},
                            }
                        ],
                    }
                ],
            }
        ]
    }
    response = httpx.post(f"{collector.http_url}/v1/traces", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}

    [row] = collector.sql(f"SELECT * FROM spans WHERE trace_id = '{trace_id}'")
    assert (row["span_id"], row["parent_span_id"], row["kind"], row["status"]) == (
        span_id,
        parent,
        "client",
        "error",
    )
    assert row["start_time_unix_nano"] == 1_700_000_000_000_000_000
    assert row["duration_ms"] == 500
    assert json.loads(row["attributes"]) == {
        "gen_ai.usage.output_tokens": 17,
        "nested": {"list": [1.5, True]},
    }
    assert json.loads(row["links"])[0]["span_id"] == parent


def test_snake_case_otlp_json_is_accepted_too(collector: RunningCollector) -> None:
    body = {
        "resource_spans": [
            {
                "scope_spans": [
                    {
                        "spans": [
                            {
                                "trace_id": "0af7651916cd43dd8448eb211c80319c",
                                "span_id": "b7ad6b7169203331",
                                "name": "snake",
                                "start_time_unix_nano": "1",
                                "end_time_unix_nano": "2",
                            }
                        ]
                    }
                ]
            }
        ]
    }
    assert httpx.post(f"{collector.http_url}/v1/traces", json=body).status_code == 200
    assert collector.sql("SELECT name FROM spans") == [{"name": "snake"}]


def test_a_gzip_protobuf_request_is_stored(collector: RunningCollector) -> None:
    response = httpx.post(
        f"{collector.http_url}/v1/traces",
        content=gzip.compress(request_bytes(5)),
        headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    ExportTraceServiceResponse.FromString(response.content)
    assert collector.sql("SELECT count(*) AS n FROM spans") == [{"n": 5}]


def test_a_retried_export_is_stored_once(collector: RunningCollector) -> None:
    body = request_bytes(4)
    for _ in range(3):
        assert (
            httpx.post(
                f"{collector.http_url}/v1/traces",
                content=body,
                headers={"Content-Type": "application/x-protobuf"},
            ).status_code
            == 200
        )
    channel = grpc.insecure_channel(collector.grpc_endpoint)
    channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")(body, timeout=10)
    channel.close()
    # The same span twice inside one request, too.
    span = raw_span("twin")
    twice = raw_request(span, span).SerializeToString()
    assert (
        httpx.post(
            f"{collector.http_url}/v1/traces",
            content=twice,
            headers={"Content-Type": "application/x-protobuf"},
        ).status_code
        == 200
    )

    assert collector.sql("SELECT count(*) AS n, count(DISTINCT span_id) AS d FROM spans") == [{"n": 5, "d": 5}]
    assert collector.health()["writer"]["duplicates_skipped"] >= 13
    # A request that repeats a stored span next to new ones: only the new ones are added.
    fresh = [raw_span("fresh one"), raw_span("fresh two", start_time_unix_nano=1_600_000_000_000_000_000)]
    overlap = raw_request(span, *fresh).SerializeToString()
    response = httpx.post(
        f"{collector.http_url}/v1/traces", content=overlap, headers={"Content-Type": "application/x-protobuf"}
    )
    assert response.status_code == 200
    assert collector.sql(
        "SELECT name, count(*) AS n FROM spans WHERE name IN ('twin', 'fresh one', 'fresh two') "
        "GROUP BY name ORDER BY name"
    ) == [
        {"name": "fresh one", "n": 1},
        {"name": "fresh two", "n": 1},
        {"name": "twin", "n": 1},
    ]


def test_invalid_spans_are_refused_in_a_partial_success_and_the_rest_is_kept(
    collector: RunningCollector,
) -> None:
    good = raw_span("good")
    bad_trace = raw_span("zero trace", trace_id=bytes(16))
    short_span = raw_span("short span id", span_id=b"\x01\x02")
    future = raw_span("far future", end_time_unix_nano=2**64 - 1)
    odd_kind = raw_span("odd kind", kind=70_000)  # proto3 enums carry any number; the column holds 16 bits
    body = raw_request(good, bad_trace, short_span, future, odd_kind).SerializeToString()

    response = httpx.post(
        f"{collector.http_url}/v1/traces", content=body, headers={"Content-Type": "application/x-protobuf"}
    )

    assert response.status_code == 200
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 4
    assert "trace_id must be 16 bytes" in answer.partial_success.error_message
    assert "kind 70000" in answer.partial_success.error_message
    assert collector.sql("SELECT name FROM spans") == [{"name": "good"}]
    assert collector.health()["counters"]["rejected_spans"] == 4


def test_partial_success_comes_back_as_json_to_a_json_request(collector: RunningCollector) -> None:
    body = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "00000000000000000000000000000000",
                                "spanId": "b7ad6b7169203331",
                                "name": "zero",
                            }
                        ]
                    }
                ]
            }
        ]
    }
    response = httpx.post(f"{collector.http_url}/v1/traces", json=body)
    assert response.status_code == 200
    partial = response.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "1"
    assert "trace_id" in partial["errorMessage"]


def test_hostile_strings_are_stored_exactly(collector: RunningCollector) -> None:
    name = "<img src=x onerror=alert(1)>\x00'; DROP TABLE raw_spans; --"
    span = raw_span(name)
    httpx.post(
        f"{collector.http_url}/v1/traces",
        content=raw_request(span).SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
    ).raise_for_status()
    rows = collector.sql("SELECT name FROM spans")
    # PostgreSQL text cannot hold NUL; that store keeps the rest of the span and marks the spot with U+FFFD.
    assert rows == [{"name": name if collector.backend == "duckdb" else name.replace("\x00", "\ufffd")}]


def test_health_reports_what_was_received(collector: RunningCollector) -> None:
    httpx.post(
        f"{collector.http_url}/v1/traces",
        content=request_bytes(3),
        headers={"Content-Type": "application/x-protobuf"},
    ).raise_for_status()
    health = collector.health()
    assert health["status"] == "ok"
    assert health["counters"]["received_spans"] == 3
    # On DuckDB an acknowledged span is in the journal first, and in the store within half a second.
    deadline = time.monotonic() + 10
    while health["writer"]["committed_spans"] < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
        health = collector.health()
    assert health["writer"]["committed_spans"] == 3
    assert health["writer"]["unflushed_items"] == 0
    assert orjson.loads(httpx.get(f"{collector.http_url}/healthz").content)["status"] == "ok"
    # Answered exports are no longer counted as in flight (background work yields to those), nor is one
    # refused in its decode.
    httpx.post(
        f"{collector.http_url}/v1/traces", content=b"\xff\xff", headers={"Content-Type": "application/x-protobuf"}
    )
    assert collector.health()["exports"]["in_flight"] == 0


def test_the_decode_workers_run_the_decoders_compiled_by_the_install(collector: RunningCollector) -> None:
    """The test command installs a C compiler, so its install compiles the per-span path (setup.py)."""
    emit_agent_run(_exporter("grpc", collector), service="bot-compiled")
    collector.settle()
    assert collector.sql("SELECT count(*) AS n FROM spans WHERE operation IS NOT NULL") == [{"n": 3}]
    assert collector.health()["decoders"]["build"] == "compiled"
    assert collector.proc is not None
    workers = [
        p for p in psutil.Process(collector.proc.pid).children(recursive=True) if "forkserver" in " ".join(p.cmdline())
    ]
    assert workers
    for process in workers:
        assert [m.path for m in process.memory_maps() if "stepseven_compiled__mypyc" in m.path], process.cmdline()


def test_a_collector_that_has_stored_spans_never_loaded_pandas(collector: RunningCollector) -> None:
    """pyarrow would import pandas (installed for the dashboard) on its first conversion: 30 MB per process."""
    emit_agent_run(_exporter("grpc", collector), service="bot-lean")
    collector.settle()
    assert collector.sql("SELECT count(*) AS n FROM spans") == [{"n": 3}]
    assert collector.proc is not None
    main = psutil.Process(collector.proc.pid)
    decoders = [p for p in main.children(recursive=True) if "forkserver" in " ".join(p.cmdline())]
    assert len(decoders) >= 2, "the fork server and its decode workers"
    for process in (main, *decoders):
        mapped = {m.path for m in process.memory_maps()}
        assert [path for path in mapped if "/pyarrow/" in path], "pyarrow's libraries are loaded, so they show"
        assert not [path for path in mapped if "/pandas/" in path], f"{process.cmdline()[-3:]} loaded pandas"


def test_the_collector_fixes_glibcs_mmap_threshold_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    # Memory under load depends on it (docs/ingest.md, Compression and memory); on this glibc it must take.
    from stepseven.service import _fix_mmap_threshold

    with caplog.at_level(logging.WARNING, logger="stepseven"):
        _fix_mmap_threshold()
    assert not [r for r in caplog.records if "mmap threshold" in r.getMessage()]
