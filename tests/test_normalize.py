"""Normalization, one dialect at a time, on spans shaped like what each framework emits."""

from __future__ import annotations

import json
from typing import Any

from collector.normalize import SpanInput, normalize
from collector.sessions import assign_sessions, build_session
from store.model import SpanRecord


def norm(
    name: str,
    attributes: dict[str, Any],
    events: list[dict[str, Any]] | None = None,
    status: int = 0,
    message: str | None = None,
) -> dict[str, Any]:
    row = normalize(SpanInput(name, 1, status, message, attributes, events or []))
    return {
        k: (
            json.loads(v)
            if k
            in (
                "input_messages",
                "output_messages",
                "system_instructions",
                "tool_arguments",
                "tool_result",
                "finish_reasons",
            )
            and v
            else v
        )
        for k, v in row.items()
    }


def test_current_genai_attributes_with_json_messages() -> None:
    row = norm(
        "chat gpt-4o",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.system": "ignored",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.model": "gpt-4o-2024",
            "gen_ai.conversation.id": "c1",
            "gen_ai.usage.input_tokens": 100,
            "gen_ai.usage.output_tokens": 7,
            "gen_ai.usage.cache_read.input_tokens": 40,
            "gen_ai.response.finish_reasons": ["tool_call"],
            "gen_ai.system_instructions": '[{"type":"text","content":"Be brief."}]',
            "gen_ai.input.messages": json.dumps(
                [
                    {"role": "user", "parts": [{"type": "text", "content": "hi"}]},
                    {"role": "user", "parts": [{"type": "tool_call_response", "id": "c", "name": "t", "result": "42"}]},
                ]
            ),
            "gen_ai.output.messages": '[{"role":"assistant","parts":[{"type":"tool_call","id":"c","name":"t",'
            '"arguments":"{\\"q\\": 1}"}],"finish_reason":"tool_call"}]',
        },
    )
    assert (row["operation"], row["step_kind"], row["provider"], row["conversation_id"]) == (
        "chat",
        "llm",
        "openai",
        "c1",
    )
    assert (row["request_model"], row["response_model"]) == ("gpt-4o", "gpt-4o-2024")
    assert (row["input_tokens"], row["output_tokens"], row["cache_read_input_tokens"]) == (100, 7, 40)
    assert row["finish_reasons"] == ["tool_call"]
    # Already in the conventions' schema: not stored a second time (the views read the raw attribute).
    assert row["system_instructions"] is None
    # Pydantic AI's "result" is read as the schema's "response"; JSON-text arguments become objects.
    assert row["input_messages"][1]["parts"][0]["response"] == "42"
    assert row["output_messages"][0]["parts"][0]["arguments"] == {"q": 1}


def test_deprecated_names_and_per_message_span_events() -> None:
    row = norm(
        "chat gpt-35",
        {"gen_ai.system": "openai", "gen_ai.usage.prompt_tokens": 9, "gen_ai.usage.completion_tokens": 3},
        events=[
            {"name": "gen_ai.system.message", "attributes": {"content": "You are terse."}},
            {"name": "gen_ai.user.message", "attributes": {"content": "2+2?"}},
            {
                "name": "gen_ai.choice",
                "attributes": {"message": '{"role": "assistant", "content": "4"}', "finish_reason": "stop"},
            },
        ],
    )
    assert (row["operation"], row["provider"], row["input_tokens"], row["output_tokens"]) == ("chat", "openai", 9, 3)
    assert [m["role"] for m in row["input_messages"]] == ["system", "user"]
    assert row["system_instructions"] == [{"type": "text", "content": "You are terse."}]
    assert row["output_messages"] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "4"}], "finish_reason": "stop"}
    ]


def test_openinference_flattened_messages_and_token_counts() -> None:
    row = norm(
        "response",
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o",
            "llm.system": "openai",
            "session.id": "s9",
            "llm.token_count.prompt": 50,
            "llm.token_count.completion": 5,
            "llm.token_count.completion_details.reasoning": 2,
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": "Route.",
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.content": "refund?",
            "llm.input_messages.2.message.role": "tool",
            "llm.input_messages.2.message.content": '{"ok": true}',
            "llm.input_messages.2.message.tool_call_id": "call_1",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.tool_calls.0.tool_call.id": "call_2",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "lookup",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"id": 7}',
        },
    )
    assert (row["step_kind"], row["request_model"], row["conversation_id"]) == ("llm", "gpt-4o", "s9")
    assert (row["input_tokens"], row["output_tokens"], row["reasoning_output_tokens"]) == (50, 5, 2)
    assert row["input_messages"][2] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_1", "response": {"ok": True}}],
    }
    assert row["output_messages"][0]["parts"] == [
        {"type": "tool_call", "id": "call_2", "name": "lookup", "arguments": {"id": 7}}
    ]
    assert row["system_instructions"] == [{"type": "text", "content": "Route."}]


def test_openllmetry_legacy_prompt_and_completion_attributes() -> None:
    row = norm(
        "openai.chat",
        {
            "llm.request.type": "chat",
            "gen_ai.system": "OpenAI",
            "gen_ai.request.model": "gpt-4",
            "traceloop.association.properties.session_id": "tl-1",
            "gen_ai.prompt.0.role": "user",
            "gen_ai.prompt.0.content": "hello",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": "hi!",
            "gen_ai.completion.0.finish_reason": "stop",
            "gen_ai.completion.0.tool_calls.0.id": "t1",
            "gen_ai.completion.0.tool_calls.0.name": "search",
            "gen_ai.completion.0.tool_calls.0.arguments": '{"q": "x"}',
        },
    )
    assert (row["operation"], row["conversation_id"], row["finish_reasons"]) == ("chat", "tl-1", ["stop"])
    assert row["input_messages"] == [{"role": "user", "parts": [{"type": "text", "content": "hello"}]}]
    assert row["output_messages"][0]["parts"][1] == {
        "type": "tool_call",
        "id": "t1",
        "name": "search",
        "arguments": {"q": "x"},
    }


def test_transfer_tools_are_handoffs_with_their_target() -> None:
    adk = norm(
        "execute_tool transfer_to_agent",
        {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.call.arguments": '{"agent_name": "billing"}'},
    )
    langgraph = norm("transfer_to_research", {"openinference.span.kind": "TOOL", "tool.name": "transfer_to_research"})
    strands = norm(
        "execute_tool handoff_to_agent",
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "handoff_to_agent",
            "gen_ai.tool.call.arguments": {"agent_name": "coder"},
        },
    )
    plain = norm("execute_tool search", {"gen_ai.operation.name": "execute_tool"})
    assert [(r["step_kind"], r["handoff_to"]) for r in (adk, langgraph, strands, plain)] == [
        ("handoff", "billing"),
        ("handoff", "research"),
        ("handoff", "coder"),
        ("tool", None),
    ]
    assert adk["tool_name"] == "transfer_to_agent"


def test_errors_come_from_status_and_the_exception_event() -> None:
    row = norm(
        "execute_tool get",
        {"gen_ai.operation.name": "execute_tool"},
        status=2,
        message="boom",
        events=[{"name": "exception", "attributes": {"exception.type": "TimeoutError", "exception.message": "late"}}],
    )
    assert (row["error_type"], row["error_message"]) == ("TimeoutError", "boom")
    assert norm("x", {"error.type": "rate_limited"})["error_type"] == "rate_limited"
    assert norm("x", {}, status=2)["error_type"] == "error"
    assert norm("x", {})["error_type"] is None


def test_a_span_that_cannot_be_normalized_keeps_the_error_and_nothing_else() -> None:
    class Hostile(dict[str, Any]):
        # Any way of reading the attributes fails, whichever the normalizer uses.
        def _fail(self, *args: Any) -> Any:
            raise RuntimeError("cannot read")

        items = keys = values = get = __iter__ = __getitem__ = __contains__ = __len__ = _fail

    row = normalize(SpanInput("x", attributes=Hostile()))
    assert row["normalize_error"] == "RuntimeError: cannot read"
    assert row["step_kind"] is None


def test_strands_content_blocks_in_message_events_read_as_text_tool_calls_and_results() -> None:
    """Strands' default conventions: each event's content is a JSON array of Bedrock content blocks, or a string."""
    row = norm(
        "chat",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "us.anthropic.claude",
            "gen_ai.usage.input_tokens": 40,
        },
        events=[
            {"name": "gen_ai.user.message", "attributes": {"content": json.dumps([{"text": "What is 6*7?"}])}},
            {
                "name": "gen_ai.assistant.message",
                "attributes": {
                    "content": json.dumps(
                        [{"toolUse": {"toolUseId": "t1", "name": "calculator", "input": {"x": "6*7"}}}]
                    )
                },
            },
            {
                "name": "gen_ai.tool.message",
                "attributes": {
                    "content": json.dumps(
                        [{"toolResult": {"toolUseId": "t1", "status": "success", "content": [{"text": "42"}]}}]
                    ),
                    "id": "t1",
                },
            },
            {
                "name": "gen_ai.choice",
                "attributes": {"message": json.dumps([{"text": "It is 42."}]), "finish_reason": "end_turn"},
            },
        ],
    )
    assert row["normalize_error"] is None
    assert (row["request_model"], row["input_tokens"]) == ("us.anthropic.claude", 40)
    assert row["input_messages"] == [
        {"role": "user", "parts": [{"type": "text", "content": "What is 6*7?"}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "t1", "name": "calculator", "arguments": {"x": "6*7"}}],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "t1", "response": "42"}]},
    ]
    assert row["output_messages"] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "It is 42."}], "finish_reason": "end_turn"}
    ]
    plain = norm(
        "chat", {"gen_ai.operation.name": "chat"}, [{"name": "gen_ai.choice", "attributes": {"message": "Hi"}}]
    )
    assert plain["output_messages"] == [{"role": "assistant", "parts": [{"type": "text", "content": "Hi"}]}]


def test_a_span_whose_messages_cannot_be_read_keeps_its_model_tokens_tool_and_agent() -> None:
    class Unreadable(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:  # what the event readers call
            raise RuntimeError("cannot read this event")

    row = norm(
        "chat claude",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "claude",
            "gen_ai.agent.name": "researcher",
            "gen_ai.usage.input_tokens": 12,
            "gen_ai.usage.output_tokens": 3,
        },
        events=[{"name": "gen_ai.user.message", "attributes": Unreadable(content="x")}],
    )
    assert (row["request_model"], row["agent_name"], row["input_tokens"], row["output_tokens"]) == (
        "claude",
        "researcher",
        12,
        3,
    )
    assert row["step_kind"] == "llm" and row["input_messages"] is None
    assert row["normalize_error"] == "messages unreadable (RuntimeError: cannot read this event)"


def _record(span_id: str, parent: str | None, start: int, **fields: Any) -> SpanRecord:
    return SpanRecord(
        "t1",
        span_id,
        parent,
        fields.pop("name", span_id),
        fields.pop("kind", 1),
        start,
        start + 10,
        fields.pop("status_code", 0),
        **fields,
    )


def test_remote_agent_calls_and_a2a_failures_are_handoffs() -> None:
    spans = [
        _record("a", None, 1, step_kind="agent", agent_name="planner", conversation_id="conv"),
        _record("b", "a", 2, step_kind="agent", agent_name="researcher", kind=3),  # invoke_agent CLIENT
        _record("c", "b", 3, step_kind="agent", agent_name="researcher", kind=2, a2a_task_state="TASK_STATE_FAILED"),
        _record("d", "a", 4, step_kind="agent", agent_name="writer", kind=3),  # never answered
    ]
    assert assign_sessions(spans) == {"t1": "conv"}
    view = build_session("conv", spans)
    assert [(h.from_agent, h.to_agent, h.mechanism, h.outcome) for h in view.handoffs] == [
        ("planner", "researcher", "remote_agent", "task_failed"),
        ("planner", "writer", "remote_agent", "target_not_started"),
    ]


def test_graph_parent_links_agents_that_delegate_without_a_handoff_span() -> None:
    spans = [
        _record("a", None, 1, step_kind="workflow"),
        _record("b", "a", 2, step_kind="agent", agent_name="manager"),
        _record("c", "a", 3, step_kind="agent", agent_name="analyst", graph_parent="manager"),
    ]
    view = build_session("t1", spans)
    assert [(h.from_agent, h.to_agent, h.mechanism, h.target_step_index) for h in view.handoffs] == [
        ("manager", "analyst", "graph_parent", 3)
    ]


def test_steps_are_ordered_by_start_time_with_their_parent_step() -> None:
    spans = [
        _record("child", "root", 5, step_kind="llm", agent_name=None),
        _record("http", "child", 6),  # not a step: its children attach to the nearest step above
        _record("tool", "http", 7, step_kind="tool"),
        _record("root", None, 5, step_kind="agent", agent_name="solo"),
    ]
    steps = build_session("t1", spans).steps
    assert [(s.span_id, s.step_index, s.parent_step_index, s.depth, s.agent_name) for s in steps] == [
        ("root", 1, None, 0, "solo"),
        ("child", 2, 1, 1, "solo"),
        ("tool", 3, 2, 2, "solo"),
    ]


def test_messages_are_stored_once_only_when_the_raw_attribute_already_reads_the_same() -> None:
    """Messages in the conventions' schema are read from the raw attribute; any other shape is stored normalized."""
    text = {"type": "text", "content": "hi"}
    stored_once: list[Any] = [
        [{"role": "user", "parts": [text]}],
        [{"role": "assistant", "parts": [], "name": "bot", "finish_reason": "stop"}],
        [{"role": "assistant", "parts": [{"type": "tool_call", "id": "c", "name": "t", "arguments": {"q": 1}}]}],
        [{"role": "assistant", "parts": [{"type": "tool_call", "id": "c", "name": "t", "arguments": "plain"}]}],
        [{"role": "tool", "parts": [{"type": "tool_call_response", "id": "c", "response": 42, "result": 1}]}],
    ]
    rewritten: list[Any] = [
        {"role": "user", "parts": [text]},  # one message, not an array
        [{"role": "user", "parts": [text], "id": "m1"}],  # a key outside the schema
        [{"role": "", "parts": [text]}],  # no role: the default is filled in
        [{"role": "user", "parts": [text], "name": None}],  # a null name is left out
        [{"role": "user", "parts": ["hi"]}],  # a bare string part becomes a text part
        [{"role": "user", "content": "hi"}],  # OpenAI style
        [{"role": "assistant", "parts": [{"type": "tool_call", "id": "c", "name": "t", "arguments": '{"q": 1}'}]}],
        [{"role": "tool", "parts": [{"type": "tool_call_response", "id": "c", "result": 42}]}],
        [None, {"role": "user", "parts": [text]}],
    ]
    for messages in stored_once:
        row = norm("chat m", {"gen_ai.operation.name": "chat", "gen_ai.input.messages": json.dumps(messages)})
        assert row["input_messages"] is None, messages
    for messages in rewritten:
        row = norm("chat m", {"gen_ai.operation.name": "chat", "gen_ai.input.messages": json.dumps(messages)})
        assert row["input_messages"] is not None and row["input_messages"] != messages, messages
    for parts, once in (([text], True), ([text, "plain"], False), ([{"type": "tool_call", "arguments": "[1]"}], False)):
        row = norm("chat m", {"gen_ai.system_instructions": json.dumps(parts)})
        assert (row["system_instructions"] is None) is once, parts


def test_tool_arguments_and_results_sent_as_text_are_read_from_the_raw_attribute() -> None:
    row = norm(
        "execute_tool search",
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.call.arguments": '{"q": "x"}',
            "gen_ai.tool.call.result": "plain text",
        },
    )
    assert (row["tool_arguments"], row["tool_result"]) == (None, None)  # not stored twice
    structured = norm(
        "execute_tool search", {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.call.arguments": {"q": "x"}}
    )
    assert structured["tool_arguments"] == {"q": "x"}


def test_a_remote_agent_whose_spans_arrive_in_another_trace_is_still_the_target() -> None:
    # Trace context was not propagated: the remote agent's spans form their own trace, joined to the
    # caller's session only by the conversation id (A2A contextId) they share.
    caller = [
        SpanRecord(
            "t1",
            "a",
            None,
            "invoke_agent planner",
            1,
            1,
            100,
            0,
            conversation_id="ctx-1",
            step_kind="agent",
            agent_name="planner",
        ),
        SpanRecord("t1", "b", "a", "invoke_agent researcher", 3, 2, 90, 0, step_kind="agent", agent_name="researcher"),
    ]
    remote = [
        SpanRecord(
            "t2",
            "c",
            None,
            "invoke_agent researcher",
            2,
            5,
            80,
            0,
            conversation_id="ctx-1",
            step_kind="agent",
            agent_name="researcher",
        )
    ]
    assert assign_sessions(caller + remote) == {"t1": "ctx-1", "t2": "ctx-1"}
    view = build_session("ctx-1", caller + remote)
    [handoff] = view.handoffs
    assert (handoff.from_agent, handoff.to_agent, handoff.mechanism, handoff.outcome) == (
        "planner",
        "researcher",
        "remote_agent",
        "completed",
    )
    assert handoff.target_span_id == "c"


def test_hostile_span_trees_still_give_every_step() -> None:
    # A chain far deeper than Python's recursion limit, and two spans that are each other's parent.
    chain = [_record(f"s{i}", f"s{i - 1}" if i else None, i, step_kind="tool") for i in range(5000)]
    cycle = [_record("x", "y", 9000, step_kind="llm"), _record("y", "x", 9001, step_kind="llm")]
    steps = build_session("t1", chain + cycle).steps
    assert len(steps) == 5002
    assert steps[4999].depth == 4999 and steps[4999].parent_step_index == 4999
    assert {s.span_id for s in steps[-2:]} == {"x", "y"}


def test_token_counts_the_store_cannot_hold_become_null_not_a_failed_commit() -> None:
    row = norm(
        "chat gpt-4o",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.input_tokens": 2**70,
            "gen_ai.usage.output_tokens": "99999999999999999999",
            "gen_ai.usage.cache_read.input_tokens": 12,
        },
    )
    assert row["input_tokens"] is None and row["output_tokens"] is None
    assert row["cache_read_input_tokens"] == 12
    assert row["normalize_error"] is None


def test_a_harness_function_named_create_agent_is_no_agent_run_but_the_conventions_span_is() -> None:
    """Name rules must not outrank attributes: a span name alone does not make an agent."""
    assert norm("create_agent", {"code.function": "create_agent"})["step_kind"] == "other"
    assert norm("create_agent", {})["agent_name"] is None
    created = norm("create_agent support", {"gen_ai.operation.name": "create_agent", "gen_ai.agent.name": "support"})
    assert (created["step_kind"], created["agent_name"]) == ("agent", "support")


def test_a_langgraph_agent_run_reads_as_the_request_it_got_and_the_answer_it_gave() -> None:
    state_in = {"messages": [{"type": "human", "data": {"content": "Headcount of Meta?", "type": "human"}}]}
    state_out = {
        "messages": [
            {"type": "human", "data": {"content": "Headcount of Meta?"}},
            {"type": "ai", "data": {"content": "", "tool_calls": [{"name": "web_search"}]}},
            {"type": "tool", "data": {"content": "67,317 employees"}},
            {"type": "ai", "data": {"content": "Meta had 67,317 employees."}},
        ]
    }
    row = norm(
        "research_agent",
        {
            "openinference.span.kind": "CHAIN",
            "metadata": json.dumps({"langgraph_node": "research_agent", "langgraph_checkpoint_ns": "research_agent:1"}),
            "input.value": json.dumps(state_in),
            "output.value": json.dumps(state_out),
        },
    )
    assert (row["step_kind"], row["agent_name"]) == ("agent", "research_agent")
    assert row["input_messages"] == [{"role": "user", "parts": [{"type": "text", "content": "Headcount of Meta?"}]}]
    assert row["output_messages"] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Meta had 67,317 employees."}]}
    ]


def test_a_local_agent_run_marked_client_is_an_agent_as_tool_that_ran_not_a_remote_one_that_never_started() -> None:
    """OpenAI Agents under opentelemetry-instrumentation-openai-agents-v2 marks in-process invoke_agent CLIENT."""
    spans = [
        _record("a", None, 1, step_kind="agent", agent_name="manager", kind=3, conversation_id="conv"),
        _record("b", "a", 2, step_kind="llm", agent_name="manager"),
        _record("c", "a", 3, step_kind="tool", tool_name="ask_researcher", agent_name="manager"),
        _record("d", "c", 4, step_kind="agent", agent_name="researcher", kind=3),
        _record("e", "d", 5, step_kind="llm", agent_name="researcher"),
    ]
    view = build_session("conv", spans)
    assert [(h.from_agent, h.to_agent, h.mechanism, h.outcome) for h in view.handoffs] == [
        ("manager", "researcher", "agent_as_tool", "completed")
    ]


def test_a_delegation_whose_arguments_were_withheld_keeps_a_json_payload() -> None:
    """Strands with redaction records "[REDACTED]" as the arguments: the hand-off payload must still be JSON
    (a JSON column on both stores), or the session could never be written."""
    spans = [
        _record("a", None, 1, step_kind="agent", agent_name="lead", conversation_id="conv"),
        _record("b", "a", 2, step_kind="llm", agent_name="lead"),
        _record("c", "a", 3, step_kind="tool", tool_name="delegate_work_to_coworker", tool_arguments="[REDACTED]"),
        _record("d", "c", 4, step_kind="agent", agent_name="analyst"),
        _record("e", "d", 5, step_kind="llm", agent_name="analyst"),
    ]
    [handoff] = build_session("conv", spans).handoffs
    assert (handoff.from_agent, handoff.to_agent, handoff.mechanism) == ("lead", "analyst", "agent_as_tool")
    assert json.loads(handoff.payload or "null") == "[REDACTED]"


def test_crewai_delegation_to_a_coworker_that_never_ran_is_a_handoff_that_never_started() -> None:
    spans = [
        _record("a", None, 1, step_kind="agent", agent_name="Project Lead", conversation_id="conv"),
        _record("b", "a", 2, step_kind="llm", agent_name="Project Lead"),
        _record(
            "c",
            "a",
            3,
            step_kind="tool",
            tool_name="delegate_work_to_coworker",
            tool_arguments='{"task": "audit", "coworker": "Compliance Auditor"}',
        ),
    ]
    [handoff] = build_session("conv", spans).handoffs
    assert (handoff.to_agent, handoff.outcome) == ("Compliance Auditor", "target_not_started")
    # CrewAI's default instrumentation records no model calls: a delegation with nothing below proves nothing.
    assert build_session("conv", [spans[0], spans[2]]).handoffs == []


def test_a_langgraph_hand_off_tool_shows_what_its_command_says() -> None:
    command = {
        "graph": "__parent__",
        "update": {
            "messages": [
                {"type": "human", "data": {"content": "How did WAU trend?"}},
                {"type": "tool", "data": {"content": "Successfully transferred to data_agent", "tool_call_id": "c1"}},
            ]
        },
        "goto": "data_agent",
    }
    row = norm(
        "transfer_to_data_agent",
        {
            "openinference.span.kind": "TOOL",
            "tool.name": "transfer_to_data_agent",
            "input.value": "{}",
            "output.value": json.dumps(command),
        },
    )
    assert (row["step_kind"], row["handoff_to"]) == ("handoff", "data_agent")
    assert row["tool_result"] == "Successfully transferred to data_agent"
