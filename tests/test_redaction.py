"""Redaction: with `serve --redact`, secrets an agent sends never reach the store; without it, nothing changes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from collector.redact import BUILTIN, RedactionConfigError, load_redactor
from tests.conftest import RunningCollector, store_args
from tests.test_sql_surface import stepseven

EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"
OPENAI_KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2
BEARER = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig"
CUSTOMER = "CUST-204815"
SECRETS = [EMAIL, CARD, OPENAI_KEY, BEARER, CUSTOMER, "hunter2hunter2"]


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"mail me at {EMAIL} please", "mail me at [REDACTED:email] please"),
        (f"Authorization: Bearer {BEARER}", "Authorization: Bearer [REDACTED:bearer_token]"),
        (f"use {OPENAI_KEY} here", "use [REDACTED:api_key] here"),
        ("AKIAIOSFODNN7EXAMPLE", "[REDACTED:api_key]"),
        ('{"api_key": "abcd1234efgh5678"}', '{"api_key": "[REDACTED:secret_assignment]"}'),
        ("password=hunter2hunter2", "password=[REDACTED:secret_assignment]"),
        (f"card {CARD} expires", "card [REDACTED:card_number] expires"),
        ("card 5500-0000-0000-0004", "card [REDACTED:card_number]"),
        # Not secrets: a 16-digit order number that fails the Luhn check, short numbers, plain words.
        ("order 1234567890123456 shipped", "order 1234567890123456 shipped"),
        ("the meeting is at 10:30, room 4111", "the meeting is at 10:30, room 4111"),
        ("email me later about the token budget", "email me later about the token budget"),
    ],
)
def test_the_built_in_patterns_replace_secrets_and_leave_the_rest(text: str, expected: str) -> None:
    redactor = load_redactor(True, None)
    assert redactor is not None
    assert redactor.text(text)[0] == expected


def test_a_message_stays_valid_json_after_redaction() -> None:
    redactor = load_redactor(True, None)
    assert redactor is not None
    messages = json.dumps([{"role": "user", "parts": [{"type": "text", "content": f"I am {EMAIL}, card {CARD}"}]}])
    redacted, count = redactor.text(messages)
    assert count == 2
    assert json.loads(redacted)[0]["parts"][0]["content"] == "I am [REDACTED:email], card [REDACTED:card_number]"


@pytest.mark.parametrize(
    "toml, words",
    [
        ('builtins = ["email", "ssn"]', "builtins must be a list of"),
        ('[[patterns]]\nname = "x"\nregex = "(unclosed"', "not a valid regex"),
        ('[[patterns]]\nname = "Bad Name"\nregex = "x"', "lowercase letters"),
        ('[[patterns]]\nname = "empty"\nregex = ""', "empty regex"),
        ("paterns = []", "unknown key 'paterns'"),
        ("builtins = [", "redaction.toml"),
    ],
)
def test_a_bad_redaction_file_is_refused_with_a_sentence(tmp_path: Path, toml: str, words: str) -> None:
    config = tmp_path / "redaction.toml"
    config.write_text(toml)
    with pytest.raises(RedactionConfigError, match=re.escape("redaction.toml")) as refused:
        load_redactor(False, config)
    assert words in str(refused.value)
    out = stepseven("serve", "--no-ui", "--db", str(tmp_path / "x.duckdb"), "--redaction-config", str(config))
    assert out.returncode == 1 and words in out.stderr and "Traceback" not in out.stderr


def _agent_leaking_secrets(collector: RunningCollector) -> None:
    """An agent whose user, model and tools pass secrets around, exported with the real SDK over gRPC."""
    provider = TracerProvider(resource=Resource.create({"service.name": "leaky-bot", "owner.email": EMAIL}))
    provider.add_span_processor(SimpleSpanProcessor(GrpcSpanExporter(endpoint=collector.grpc_endpoint, insecure=True)))
    tracer = provider.get_tracer("tests.redaction")
    prompt = [{"role": "user", "parts": [{"type": "text", "content": f"I'm {EMAIL}, refund card {CARD}"}]}]
    with tracer.start_as_current_span(
        "invoke_agent support", attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support",
                                            "gen_ai.conversation.id": "leaky-session"},
    ):  # fmt: skip
        with tracer.start_as_current_span("chat fake-model") as chat:
            chat.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": "fake-model",
                    "gen_ai.input.messages": json.dumps(prompt),
                    "gen_ai.output.messages": json.dumps(
                        [{"role": "assistant", "parts": [{"type": "text", "content": "Looking up the customer."}]}]
                    ),
                }
            )
        with tracer.start_as_current_span("execute_tool crm_lookup") as tool:
            tool.set_attributes(
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "crm_lookup",
                    "gen_ai.tool.call.arguments": json.dumps({"email": EMAIL, "api_key": OPENAI_KEY}),
                    "gen_ai.tool.call.result": json.dumps({"customer": CUSTOMER, "note": "password=hunter2hunter2"}),
                    "http.request.header.authorization": [f"Bearer {BEARER}"],
                }
            )
            tool.add_event("retry", {"reason": f"401 for Bearer {BEARER}"})
            tool.set_status(Status(StatusCode.ERROR, f"CRM refused {EMAIL}"))
    provider.shutdown()
    collector.settle()


def _everything_stored(collector: RunningCollector) -> str:
    rows = collector.sql(
        "SELECT name, status_message, attributes, events, links, resource_attributes, input_messages, "
        "output_messages, tool_arguments, tool_result, error_message FROM spans"
    )
    return orjson.dumps(rows, default=str).decode()


@pytest.fixture
def redacting(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[RunningCollector]:
    config = tmp_path / "redaction.toml"
    config.write_text('[[patterns]]\nname = "customer_id"\nregex = "CUST-[0-9]{6}"\n')
    running = RunningCollector(
        tmp_path / "r.duckdb", *store_args(backend, request), "--redact", "--redaction-config", str(config)
    )
    yield running
    running.stop()


def test_secrets_sent_by_an_agent_never_reach_the_store(redacting: RunningCollector) -> None:
    _agent_leaking_secrets(redacting)
    stored = _everything_stored(redacting)
    assert [s for s in SECRETS if s in stored] == []
    for marker in ("[REDACTED:email]", "[REDACTED:card_number]", "[REDACTED:api_key]", "[REDACTED:bearer_token]",
                   "[REDACTED:customer_id]", "[REDACTED:secret_assignment]"):  # fmt: skip
        assert marker in stored
    # The normalized step still reads as a tool call with JSON arguments.
    tool = redacting.sql("SELECT tool_name, tool_arguments FROM steps WHERE step_kind = 'tool'")[0]
    assert tool["tool_name"] == "crm_lookup"
    assert orjson.loads(tool["tool_arguments"]) == {"email": "[REDACTED:email]", "api_key": "[REDACTED:api_key]"}
    # Counted per session, and on /healthz.
    per_session = redacting.sql("SELECT session_id, spans_redacted, values_redacted FROM redactions")
    # chat: the email and card of the prompt; tool: email and key in the arguments, customer id and
    # password in the result, the header, the event and the status message.
    assert per_session == [{"session_id": "leaky-session", "spans_redacted": 2, "values_redacted": 9}]
    # /healthz also counts the resource's owner.email, once per export request (one per span here).
    assert redacting.health()["counters"]["redacted_values"] == 9 + 3


def test_without_redaction_the_store_keeps_what_was_sent(collector: RunningCollector) -> None:
    _agent_leaking_secrets(collector)
    stored = _everything_stored(collector)
    assert all(s in stored for s in (EMAIL, OPENAI_KEY, CUSTOMER))
    assert collector.sql("SELECT count(*) AS n FROM redactions") == [{"n": 0}]


def test_every_built_in_pattern_is_documented() -> None:
    text = (Path(__file__).parent.parent / "docs" / "ingest.md").read_text()
    assert [name for name in BUILTIN if f"`{name}`" not in text] == []
