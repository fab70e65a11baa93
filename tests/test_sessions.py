"""Stories: real frameworks' traces, sent over OTLP, become the right sessions, steps and handoffs.

The expected results live beside each capture as ``sample_traces/<name>.expected.json``. After a
deliberate change of the rules, rewrite them with ``STEPSEVEN_UPDATE_GOLDEN=1 scripts/test -k golden``
and review the diff like code.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BACKENDS, RunningCollector, store_args

SAMPLES = Path(__file__).parent.parent / "sample_traces"
CAPTURES = sorted(p for p in SAMPLES.glob("*.json") if not p.name.endswith(".expected.json"))

SESSION_COLUMNS = (
    "session_id, service_name, root_agent, agents, trace_count, step_count, llm_calls, tool_calls, handoff_count, "
    "error_count, input_tokens, output_tokens, models, status, input_preview, child_scopes"
)
STEP_COLUMNS = (
    "session_id, step_index, parent_step_index, depth, span_id, step_kind, operation, agent_name, tool_name, "
    "request_model, response_model, input_tokens, output_tokens, status, error_type, handoff_to, scope_id"
)
HANDOFF_COLUMNS = (
    "session_id, handoff_index, from_agent, to_agent, mechanism, outcome, delegating_step_index, target_step_index"
)


def observed(collector: RunningCollector, service: str | None = None) -> dict[str, list[dict[str, Any]]]:
    # A session belongs to a capture when any of its spans came from it (a remote agent has its own service).
    where = "WHERE session_id IN (SELECT session_id FROM spans WHERE service_name = $1)" if service else ""
    params = [service] if service else None
    return {
        "sessions": collector.sql(f"SELECT {SESSION_COLUMNS} FROM sessions {where} ORDER BY session_id", params),
        "steps": collector.sql(f"SELECT {STEP_COLUMNS} FROM steps {where} ORDER BY session_id, step_index", params),
        "handoffs": collector.sql(
            f"SELECT {HANDOFF_COLUMNS} FROM handoffs {where} ORDER BY session_id, handoff_index", params
        ),
    }


def send(collector: RunningCollector, *files: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "stepseven", "send", "--endpoint", collector.http_url, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr


@pytest.fixture(scope="module", params=BACKENDS)
def all_samples(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    collector = RunningCollector(
        tmp_path_factory.mktemp("samples") / "samples.duckdb", *store_args(request.param, request)
    )
    send(collector, *CAPTURES)
    collector.settle()
    yield collector
    collector.stop()


@pytest.mark.parametrize("capture", CAPTURES, ids=[p.stem for p in CAPTURES])
def test_golden_each_framework_capture_becomes_the_expected_sessions_steps_and_handoffs(
    all_samples: RunningCollector, capture: Path
) -> None:
    got = observed(all_samples, capture.stem)
    expected_path = capture.with_name(f"{capture.stem}.expected.json")
    if os.environ.get("STEPSEVEN_UPDATE_GOLDEN"):
        expected_path.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n")
    assert got["sessions"], f"{capture.name} produced no session"
    assert got == json.loads(expected_path.read_text())


def _requests_in_pieces(rng: random.Random) -> list[dict[str, Any]]:
    """Every span of every capture, one to five per request, shuffled, a fifth of them sent twice."""
    pieces: list[dict[str, Any]] = []
    for capture in CAPTURES:
        document = json.loads(capture.read_text())
        for resource_spans in document["resourceSpans"]:
            for scope_spans in resource_spans["scopeSpans"]:
                spans = list(scope_spans["spans"])
                spans += [s for s in spans if rng.random() < 0.2]
                rng.shuffle(spans)
                while spans:
                    take = rng.randint(1, 5)
                    chunk, spans = spans[:take], spans[take:]
                    pieces.append(
                        {
                            "resourceSpans": [
                                {
                                    "resource": resource_spans.get("resource", {}),
                                    "scopeSpans": [{"scope": scope_spans.get("scope", {}), "spans": chunk}],
                                }
                            ]
                        }
                    )
    rng.shuffle(pieces)
    return pieces


def test_shuffled_and_duplicated_delivery_converges_to_the_same_result(
    all_samples: RunningCollector, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    collector = RunningCollector(tmp_path / "shuffled.duckdb", *store_args(all_samples.backend, request))
    try:
        pieces = _requests_in_pieces(random.Random(20261125))
        for i, piece in enumerate(pieces):
            httpx.post(f"{collector.http_url}/v1/traces", json=piece).raise_for_status()
            if i % 7 == 0:
                collector.settle()  # let the worker build partial sessions, which later spans must correct
        collector.settle()
        assert observed(collector) == observed(all_samples)
    finally:
        collector.stop()


def test_one_program_under_openinference_and_openllmetry_gives_the_same_steps(all_samples: RunningCollector) -> None:
    def shape(service: str) -> list[tuple[Any, ...]]:
        rows = observed(all_samples, service)["steps"]
        return [
            (
                r["step_index"],
                r["parent_step_index"],
                r["step_kind"],
                r["operation"],
                r["agent_name"],
                r["tool_name"],
                r["response_model"],
                r["input_tokens"],
                r["output_tokens"],
                r["status"],
            )
            for r in rows
        ]

    openinference = shape("openai_agents_openinference_handoff")
    assert openinference, "no steps"
    assert shape("openai_agents_openllmetry_handoff") == openinference
    handoffs = {
        s: observed(all_samples, s)["handoffs"]
        for s in ("openai_agents_openinference_handoff", "openai_agents_openllmetry_handoff")
    }
    assert [(h["from_agent"], h["to_agent"], h["outcome"]) for hs in handoffs.values() for h in hs] == [
        ("triage_agent", "billing_agent", "completed")
    ] * 2


def test_a_second_turn_in_a_new_trace_joins_the_same_session(all_samples: RunningCollector) -> None:
    [session] = all_samples.sql("SELECT * FROM sessions WHERE session_id = 'session-weather-001'")
    assert session["trace_count"] == 2
    # The sub-agent's own conversation id is kept as a child scope of the caller's session.
    assert len(json.loads(session["child_scopes"])) == 2
    scoped = all_samples.sql(
        "SELECT DISTINCT agent_name FROM steps WHERE session_id = 'session-weather-001' AND scope_id IS NOT NULL"
    )
    assert scoped == [{"agent_name": "weather_agent"}]


def test_prompts_sent_as_log_records_fill_the_llm_step(collector: RunningCollector) -> None:
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    resource = Resource.create({"service.name": "semantic-kernel-app"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=collector.grpc_endpoint, insecure=True))
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=collector.grpc_endpoint, insecure=True))
    )
    logger = logger_provider.get_logger("semantic_kernel")
    tracer = tracer_provider.get_tracer("semantic_kernel")
    with tracer.start_as_current_span(
        "invoke_agent concierge", attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "concierge"}
    ):
        with tracer.start_as_current_span(
            "chat gpt-4o", attributes={"gen_ai.operation.name": "chat", "gen_ai.system": "openai"}
        ):
            logger.emit(event_name="gen_ai.user.message", body={"content": "Book a table for two", "role": "user"})
            logger.emit(
                event_name="gen_ai.choice",
                body={"index": 0, "finish_reason": "stop", "message": {"content": "Done.", "role": "assistant"}},
            )
    logger_provider.shutdown()
    tracer_provider.shutdown()
    collector.settle()

    [step] = collector.sql("SELECT input_messages, output_messages FROM steps WHERE step_kind = 'llm'")
    assert json.loads(step["input_messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Book a table for two"}]}
    ]
    assert json.loads(step["output_messages"])[0]["parts"] == [{"type": "text", "content": "Done."}]


def test_renormalize_recomputes_everything_from_the_raw_spans(tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "renormalize.duckdb"
    collector = RunningCollector(db)
    send(collector, *CAPTURES)
    collector.settle()
    before = observed(collector)
    locked = subprocess.run(
        [sys.executable, "-m", "stepseven", "renormalize", "--db", str(db)], capture_output=True, text=True, timeout=60
    )
    assert locked.returncode == 1 and "held by a running collector" in locked.stderr
    collector.stop()
    # Simulate rules that changed: wipe what the normalizer and the session worker produced.
    con = duckdb.connect(str(db))
    con.execute("UPDATE raw_spans SET step_kind = NULL, agent_name = NULL, operation = NULL")
    con.execute("DELETE FROM derived_steps")
    con.execute("DELETE FROM derived_sessions")
    con.close()

    out = subprocess.run(
        [sys.executable, "-m", "stepseven", "renormalize", "--db", str(db)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "Renormalized" in out.stdout
    collector.start()
    try:
        assert observed(collector) == before
    finally:
        collector.stop()


def test_steps_show_messages_whether_stored_normalized_or_read_from_the_raw_attribute(
    all_samples: RunningCollector,
) -> None:
    rows = all_samples.sql(
        "SELECT input_messages, output_messages, system_instructions FROM steps "
        "WHERE session_id = 'session-weather-001' AND step_kind = 'llm' ORDER BY step_index LIMIT 1"
    )
    [first] = rows
    assert json.loads(first["input_messages"])[-1]["parts"][0] == {
        "type": "text",
        "content": "What's the weather in Paris?",
    }
    assert json.loads(first["system_instructions"])[0]["content"] == "You route questions to the right specialist."
    assert json.loads(first["output_messages"])[0]["parts"][0]["name"] == "ask_weather_agent"


def test_tool_arguments_and_results_read_back_as_json(all_samples: RunningCollector) -> None:
    rows = all_samples.sql(
        "SELECT tool_name, tool_arguments, tool_result FROM steps "
        "WHERE session_id = 'session-weather-001' AND tool_name = 'get_weather' ORDER BY step_index LIMIT 1"
    )
    assert json.loads(rows[0]["tool_arguments"]) == {"city": "Paris"}
    assert json.loads(rows[0]["tool_result"]) == "18C sunny in Paris"


def test_a_remote_agent_whose_a2a_task_failed_is_a_failed_handoff(collector: RunningCollector) -> None:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import SpanKind

    provider = TracerProvider(resource=Resource.create({"service.name": "planner-app"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=collector.grpc_endpoint, insecure=True)))
    tracer = provider.get_tracer("a2a.client")
    agent = {"gen_ai.operation.name": "invoke_agent"}
    with tracer.start_as_current_span(
        "invoke_agent planner", attributes={**agent, "gen_ai.agent.name": "planner", "gen_ai.conversation.id": "a2a-1"}
    ):
        with tracer.start_as_current_span(
            "invoke_agent researcher",
            kind=SpanKind.CLIENT,
            attributes={**agent, "gen_ai.agent.name": "researcher", "a2a.task.state": "TASK_STATE_FAILED"},
        ):
            pass
    provider.shutdown()
    collector.settle()

    handoffs = collector.sql("SELECT from_agent, to_agent, mechanism, outcome FROM handoffs WHERE session_id = 'a2a-1'")
    assert handoffs == [
        {"from_agent": "planner", "to_agent": "researcher", "mechanism": "remote_agent", "outcome": "task_failed"}
    ]
