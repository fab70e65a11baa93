"""OpenInference (Arize): ``openinference.span.kind``, ``llm.*``, flattened messages, ``input.value``."""

from __future__ import annotations

import re
from typing import Any

from collector.normalize import messages
from collector.normalize.fields import SpanInput, first, int_or_none, string_list, unreadable_messages

_OPERATIONS = {
    "LLM": "chat",
    "TOOL": "execute_tool",
    "AGENT": "invoke_agent",
    "RETRIEVER": "retrieval",
    "EMBEDDING": "embeddings",
    "RERANKER": "rerank",
    "GUARDRAIL": "guardrail",
    "EVALUATOR": "evaluate",
    "CHAIN": "chain",
    "PROMPT": "prompt",
}


# LangGraph's own nodes inside a compiled agent: plumbing, not agents.
_LANGGRAPH_PLUMBING = frozenset(
    {"agent", "tools", "call_model", "acall_model", "call_agent", "should_continue", "__start__", "__end__"}
)
_SMOLAGENTS_STEP = re.compile(r"^Step \d+$")
_WORKFLOW_RUN = re.compile(r"^\w*(Agent|Workflow)\.run$")
_CURRENT_AGENT = re.compile(r"current_agent_name='([^']+)'")


def _langgraph_metadata(a: Any) -> dict[str, Any] | None:
    raw = a.get("metadata")
    if not isinstance(raw, str) or "lang" not in raw:
        return None
    parsed = messages.maybe_json(raw)
    if not isinstance(parsed, dict) or not (
        "langgraph_node" in parsed or parsed.get("ls_integration") in ("langgraph", "langchain")
    ):
        return None
    return parsed


def _graph_input(a: Any) -> bool:
    """Whether a run was given a graph's state (its messages): a compiled graph invoked, not a plain runnable."""
    value = a.get("input.value")
    return "llm.input_messages.0.message.role" in a or (isinstance(value, str) and value.startswith('{"messages"'))


def _langgraph_step(name: str, metadata: dict[str, Any], a: Any) -> tuple[str | None, str | None]:
    """(operation, agent) of a LangGraph run: the root graph, an agent (a top-level node, or a compiled agent run
    inside a tool of the outer graph), or neither."""
    if name == "LangGraph":
        return "invoke_workflow", None
    if name in _LANGGRAPH_PLUMBING or name.startswith(("transfer_to_", "transfer_back_to_")):
        return None, None
    node = metadata.get("langgraph_node")
    namespace = str(metadata.get("langgraph_checkpoint_ns") or "")
    if node is None:
        # create_react_agent(name=...) run on its own: the root run carries the agent's name.
        return ("invoke_agent", name) if "langgraph_step" not in metadata else (None, None)
    if node == name and "|" not in namespace and namespace.split(":", 1)[0] == name:
        return "invoke_agent", name
    if node == "tools" and "|" not in namespace and _graph_input(a):
        # create_react_agent(name=...) wrapped in a @tool: the sub-agent runs inside the outer graph's ToolNode.
        return "invoke_agent", name
    return None, None


def _current_agent(a: Any) -> str | None:
    """The agent LlamaIndex's AgentWorkflow is running, from the repr of its step's event (input, else output);
    OpenInference cuts long values short, so either may have lost it."""
    for key in ("input.value", "output.value"):
        named = _CURRENT_AGENT.search(str(a.get(key) or ""))
        if named:
            return named.group(1)
    return None


def _command_text(result: Any) -> Any:
    """A LangGraph Command returned by a hand-off tool ({"graph", "update": {"messages": [...]}}): what it says
    is its last message, the tool's own ("Successfully transferred to research_agent")."""
    update = result.get("update") if isinstance(result, dict) and "graph" in result else None
    items = update.get("messages") if isinstance(update, dict) else None
    if isinstance(items, list) and items and isinstance(items[-1], dict):
        data = items[-1].get("data")
        if isinstance(data, dict) and isinstance(data.get("content"), str):
            return data["content"]
    return result


def _tool_output_text(result: Any) -> Any:
    """LlamaIndex's ToolOutput, serialized ({"blocks": [{"text": ...}], "tool_name": ..., "is_error": ...}):
    the tool's own output is the text of its blocks."""
    if isinstance(result, dict) and isinstance(result.get("blocks"), list) and "tool_name" in result:
        texts = [b["text"] for b in result["blocks"] if isinstance(b, dict) and isinstance(b.get("text"), str)]
        if texts and len(texts) == len(result["blocks"]):
            return messages.maybe_json("\n".join(texts)) if len(texts) == 1 else "\n".join(texts)
    return result


def _crewai_task(a: Any) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]] | None] | None:
    """A CrewAI agent's run (default instrumentation): its input is a dump of the Agent object, its output the
    TaskOutput. What a user recognises is the task's description and the agent's raw answer."""
    given = messages.maybe_json(a.get("input.value"))
    if not isinstance(given, dict) or not {"agent", "tools"} <= set(given):
        return None
    result = messages.maybe_json(a.get("output.value"))
    if not isinstance(result, dict) or "raw" not in result:
        return _text_message("user", given.get("context")) or None, None
    return _text_message("user", result.get("description")), _text_message("assistant", result.get("raw"))


def _graph_messages(value: Any, kind: str, role: str) -> list[dict[str, Any]] | None:
    """A LangGraph run's state ({"messages": [serialized LangChain messages]}) read as what a user recognises:
    its input as the human requests, its output as the last answer of the model."""
    state = messages.maybe_json(value)
    items = state.get("messages") if isinstance(state, dict) else None
    if not isinstance(items, list):
        return None
    texts = []
    for item in items:
        data = item.get("data") if isinstance(item, dict) else None
        if isinstance(data, dict) and item.get("type") == kind and isinstance(data.get("content"), str):
            if data["content"].strip():
                texts.append(data["content"])
    if not texts:
        return None
    chosen = texts if kind == "human" else texts[-1:]
    return [{"role": role, "parts": [messages.text_part(text)]} for text in chosen]


_CALL_WRAPPER = frozenset({"args", "kwargs", "sanitize_inputs_outputs"})


def _tool_arguments(value: Any) -> Any:
    """smolagents wraps a tool call's arguments as {"args": [...], "kwargs": {...}, "sanitize_inputs_outputs": ...},
    LlamaIndex as {"kwargs": {...}}: the arguments are the keyword arguments."""
    if isinstance(value, dict) and set(value) <= _CALL_WRAPPER and isinstance(value.get("kwargs"), dict):
        args = value.get("args") or []
        return value["kwargs"] if not args else {**value["kwargs"], "args": args}
    return value


def _text_message(role: str, value: Any) -> list[dict[str, Any]] | None:
    return [{"role": role, "parts": [messages.text_part(value)]}] if value not in (None, "") else None


def _task_message(value: Any) -> list[dict[str, Any]] | None:
    """A smolagents run's input is its bound arguments; the user's request is the task."""
    parsed = messages.maybe_json(value)
    if isinstance(parsed, dict) and isinstance(parsed.get("task"), str):
        return _text_message("user", parsed["task"])
    return _text_message("user", value)


def extract(span: SpanInput) -> dict[str, Any]:
    a = span.attributes
    kind = str(a.get("openinference.span.kind") or "").upper()
    if not kind and "session.id" not in a and "llm.model_name" not in a and "agent.name" not in a:
        return {}
    operation = _OPERATIONS.get(kind)
    if "tool.name" in a and kind in ("AGENT", "CHAIN"):
        # LangChain marks a run AGENT when its name contains "agent": transfer_to_research_agent is a tool.
        kind, operation = "TOOL", "execute_tool"
    langgraph = _langgraph_metadata(a) if kind in ("AGENT", "CHAIN") else None
    if langgraph is not None or (kind == "CHAIN" and span.name == "LangGraph"):
        operation, agent = _langgraph_step(span.name, langgraph or {}, a)
        run: dict[str, Any] = {"operation": operation, "agent_name": agent, "conversation_id": first(a, "session.id")}
        if operation is not None:
            run["input_messages"] = _graph_messages(a.get("input.value"), "human", "user")
            run["output_messages"] = _graph_messages(a.get("output.value"), "ai", "assistant")
        return run
    smolagents_run = kind == "AGENT" and span.name.endswith(".run") and any(k.startswith("smolagents.") for k in a)
    if smolagents_run:
        # smolagents names its run spans "{agent}.run" and sets no agent.name; its token counts there are the
        # agent's running totals, already counted on its model calls: not a step's own usage.
        return {
            "operation": "invoke_agent",
            "agent_name": span.name[: -len(".run")],
            "conversation_id": first(a, "session.id"),
            "input_messages": _task_message(a.get("input.value")),
            "output_messages": _text_message("assistant", a.get("output.value")),
        }
    if kind == "LLM" and span.name.endswith("._prepare_chat_with_tools"):
        # LlamaIndex: building the request of the model call that follows, not a call of its own.
        return {"conversation_id": first(a, "session.id")}
    if kind == "CHAIN" and span.name.endswith(".setup_agent"):
        # LlamaIndex's AgentWorkflow names the agent whose turn comes next here, and nowhere else:
        # "AgentSetup(input=[...], current_agent_name='billing_agent')". Not a step; the session builder
        # gives the name to the agent step that follows it.
        return {"agent_name": _current_agent(a), "conversation_id": first(a, "session.id")}
    if kind == "CHAIN" and span.name.endswith(".run_agent_step"):
        # One turn of the current agent: its model call (the tool calls it asks for run beside it).
        return {"operation": "invoke_agent", "agent_name": _current_agent(a), "conversation_id": first(a, "session.id")}
    if kind == "CHAIN" and _WORKFLOW_RUN.match(span.name):
        # LlamaIndex's FunctionAgent.run / AgentWorkflow.run: the run whose failure (a limit) ends it.
        return {"operation": "invoke_workflow", "conversation_id": first(a, "session.id")}
    if kind == "CHAIN" and _SMOLAGENTS_STEP.match(span.name):
        # A code agent's "Step N": where its code-execution and parsing errors are recorded.
        return {"operation": "invoke_workflow", "conversation_id": first(a, "session.id")}
    if kind == "AGENT" and "agent.name" not in a and "graph.node.id" not in a:
        # OpenAI Agents' trace span is marked AGENT but names the workflow, not an agent.
        operation = "invoke_workflow"
    out: dict[str, Any] = {"operation": operation, "conversation_id": first(a, "session.id")}
    name = span.name.lower()
    if kind == "TOOL" and (name.startswith("handoff to ") or name == "handoff"):
        # OpenAI Agents under OpenInference: "handoff to X", input.value = from, output.value = to.
        # A handoff that failed before its target was known is just "handoff", with no output.value.
        out["operation"] = "handoff"
        out["handoff_from"] = first(a, "input.value")
        out["handoff_to"] = first(a, "output.value") or span.name[len("handoff to ") :] or None
        return out
    out["agent_name"] = first(a, "agent.name") or (
        first(a, "graph.node.id") if kind == "AGENT" and operation == "invoke_agent" else None
    )
    out["provider"] = first(a, "llm.provider", "llm.system")
    out["request_model"] = first(a, "llm.request.model_name", "llm.model_name") if kind == "LLM" else None
    out["response_model"] = first(a, "llm.response.model_name", "llm.model_name") if kind == "LLM" else None
    out["input_tokens"] = int_or_none(a.get("llm.token_count.prompt"))
    out["output_tokens"] = int_or_none(a.get("llm.token_count.completion"))
    out["cache_read_input_tokens"] = int_or_none(a.get("llm.token_count.prompt_details.cache_read"))
    out["cache_creation_input_tokens"] = int_or_none(a.get("llm.token_count.prompt_details.cache_write"))
    out["reasoning_output_tokens"] = int_or_none(a.get("llm.token_count.completion_details.reasoning"))
    out["finish_reasons"] = string_list(a.get("llm.finish_reason"))
    try:
        inputs = messages.from_openinference(a, "llm.input_messages.")
        outputs = messages.from_openinference(a, "llm.output_messages.")
    except Exception as exc:  # unreadable messages must not cost the span everything else
        inputs = outputs = None
        out["normalize_error"] = unreadable_messages(exc)
    if kind == "TOOL":
        out["tool_name"] = first(a, "tool.name") or span.name
        out["tool_call_id"] = first(a, "tool.id", "tool_call.id")
        out["tool_arguments"] = _tool_arguments(messages.maybe_json(first(a, "tool.parameters_value", "input.value")))
        result = messages.maybe_json(a.get("output.value"))
        message = result.get("data") if isinstance(result, dict) and result.get("type") == "tool" else None
        if isinstance(message, dict) and "content" in message:
            # A LangChain ToolMessage, serialized: the tool's own output is its content.
            result = messages.maybe_json(message["content"])
            out["tool_call_id"] = out["tool_call_id"] or message.get("tool_call_id")
        out["tool_result"] = _tool_output_text(_command_text(result))
    elif kind == "AGENT" and (task := _crewai_task(a)) is not None:
        inputs, outputs = task
    elif kind in ("AGENT", "CHAIN", "LLM") and not inputs:
        inputs = _text_message("user", a.get("input.value"))
        if kind != "LLM" and not outputs:
            outputs = _text_message("assistant", a.get("output.value"))
    out["input_messages"] = inputs
    out["output_messages"] = outputs
    out["system_instructions"] = messages.system_parts(inputs)
    return out
