"""Normalization: one span, whatever dialect it speaks, to the normalized GenAI columns.

Each dialect module extracts what it knows; for every field the first source that has a value
wins, in this order: the OpenTelemetry GenAI conventions (current names, then deprecated names
and per-message events), OpenLLMetry, OpenInference, and last the span name. Unknown attributes
stay in the raw span. A span whose messages cannot be read keeps every other field, with
``normalize_error`` saying why; a span that cannot be normalized at all keeps ``normalize_error`` alone.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from collector.normalize import genai, messages, openinference, openllmetry, vercel_ai
from collector.normalize.fields import SAME_AS_RAW, SpanInput, first
from store.raw_columns import NORMALIZED_NAMES

__all__ = ["COLUMNS", "SpanInput", "normalize", "step_kind"]

COLUMNS: tuple[str, ...] = NORMALIZED_NAMES
_JSON_COLUMNS = frozenset(
    {"finish_reasons", "tool_arguments", "tool_result", "input_messages", "output_messages", "system_instructions"}
)
_INT_COLUMNS = frozenset(
    {
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "reasoning_output_tokens",
    }
)
_DIALECTS = (genai.extract, vercel_ai.extract, openllmetry.extract, openinference.extract)

_STEP_KINDS = {
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "embeddings": "llm",
    "completion": "llm",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "execute_tool": "tool",
    "handoff": "handoff",
    "agent_handoff": "handoff",
    "invoke_workflow": "workflow",
    "invoke_swarm": "workflow",
    "invoke_graph": "workflow",
    "retrieval": "retrieval",
    "rerank": "retrieval",
    "search_memory": "retrieval",
}

# "chat gpt-4o", "execute_tool search", "invoke_agent triage" (the conventions' span names).
_GENAI_NAME = re.compile(
    r"^(?P<op>chat|text_completion|generate_content|embeddings|execute_tool|invoke_agent|create_agent|"
    r"invoke_workflow|retrieval|handoff|agent_handoff)(?: (?P<subject>.+))?$"
)
# "{model}.llm", "{agent}.agent", "{tool}.tool" (Traceloop's span names).
_TRACELOOP_NAME = re.compile(r"^(?P<subject>.+)\.(?P<kind>agent|tool|workflow|llm)$")
_TRACELOOP_KIND = {"agent": "invoke_agent", "tool": "execute_tool", "workflow": "invoke_workflow", "llm": "chat"}
# Google ADK's first schema.
_ADK_NAMES = {"call_llm": "chat", "invocation": "invoke_workflow"}

# Tools whose call is a hand-off to another agent (ADK, Strands swarm, LangGraph supervisor/swarm).
_TRANSFER_TOOLS = ("transfer_to_agent", "handoff_to_agent", "handoff")  # "handoff": LlamaIndex's AgentWorkflow
_TRANSFER_PREFIXES = ("transfer_to_", "transfer_back_to_", "handoff_to_")
_TRANSFER_TYPES = frozenset({"TransferToAgentTool"})  # gen_ai.tool.type of ADK's transfer tool


def step_kind(operation: str | None) -> str:
    return _STEP_KINDS.get(operation or "", "other")


def _from_name(span: SpanInput) -> dict[str, Any]:
    match = _GENAI_NAME.match(span.name)
    if match:
        op, subject = match.group("op"), match.group("subject")
        if op == "create_agent" and not any(key.startswith("gen_ai.") for key in span.attributes):
            # A harness's own "create_agent" function span: a name alone does not make an agent run.
            return {}
        out: dict[str, Any] = {"operation": op}
        if subject:
            key = {
                "chat": "request_model",
                "text_completion": "request_model",
                "generate_content": "request_model",
                "embeddings": "request_model",
                "execute_tool": "tool_name",
                "invoke_agent": "agent_name",
                "create_agent": "agent_name",
            }.get(op)
            if key:
                out[key] = subject
        return out
    match = _TRACELOOP_NAME.match(span.name)
    if match:
        kind, subject = match.group("kind"), match.group("subject")
        key = {"agent": "agent_name", "tool": "tool_name", "llm": "request_model"}.get(kind)
        return {"operation": _TRACELOOP_KIND[kind], **({key: subject} if key else {})}
    if span.name in _ADK_NAMES:
        return {"operation": _ADK_NAMES[span.name]}
    return {}


def _errors(span: SpanInput) -> dict[str, Any]:
    if span.status_code != 2 and not span.events and "error.type" not in span.attributes:
        return {}
    exception = next((e["attributes"] for e in span.events if e.get("name") == "exception"), None) or {}
    error_type = first(span.attributes, "error.type") or first(exception, "exception.type")
    message = span.status_message or first(exception, "exception.message")
    if span.status_code == 2 and error_type is None:
        error_type = "error"
    return {"error_type": error_type, "error_message": message if (error_type or span.status_code == 2) else None}


def _transfer_target(tool_name: str, arguments: Any) -> str | None:
    if tool_name in _TRANSFER_TOOLS or tool_name.startswith(_TRANSFER_PREFIXES):
        if isinstance(arguments, dict):
            for key in ("agent_name", "to_agent", "agent", "target", "to", "name"):
                if isinstance(arguments.get(key), str):
                    return str(arguments[key])
        for prefix in _TRANSFER_PREFIXES:
            if tool_name.startswith(prefix) and tool_name not in _TRANSFER_TOOLS:
                return tool_name[len(prefix) :]
    return None


def _merge(span: SpanInput) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in (*(extract(span) for extract in _DIALECTS), _from_name(span)):
        for key, value in part.items():
            if merged.get(key) is None and value is not None:
                merged[key] = value
    merged.update(_errors(span))
    kind = step_kind(merged.get("operation"))
    tool_name = merged.get("tool_name")
    if kind == "tool" and isinstance(tool_name, str):
        arguments = merged.get("tool_arguments")
        if arguments is SAME_AS_RAW:
            arguments = messages.maybe_json(span.attributes.get("gen_ai.tool.call.arguments"))
        target = merged.get("handoff_to") or _transfer_target(tool_name, arguments)
        # ADK's transfer_to_agent records no arguments with content capture off (its default): it is a
        # hand-off all the same, whose target the session builder finds (the next agent that starts).
        if target or tool_name in _TRANSFER_TOOLS or span.attributes.get("gen_ai.tool.type") in _TRANSFER_TYPES:
            kind = "handoff"
            merged["handoff_to"] = target
    if kind == "agent":
        # An agent span's usage is its run's total (Strands, smolagents), already counted on its model calls:
        # left in the raw span, so that a plain SUM over steps is the session's usage.
        for field in _INT_COLUMNS:
            merged.pop(field, None)
    inputs = merged.get("input_messages")
    if merged.get("system_instructions") is None and inputs and inputs is not SAME_AS_RAW:
        merged["system_instructions"] = messages.system_parts(inputs)
    merged["step_kind"] = kind
    if merged.get("conversation_id") is not None:
        merged["conversation_id"] = str(merged["conversation_id"])
    return merged


def normalize(span: SpanInput) -> dict[str, Any]:
    """The normalized columns of one span, JSON columns serialized; never raises."""
    try:
        merged = _merge(span)
        row = dict.fromkeys(COLUMNS)
        for column, value in merged.items():
            if value is None or value is SAME_AS_RAW or column not in row:
                continue
            if column in _JSON_COLUMNS:
                row[column] = orjson.dumps(value).decode()
            elif column in _INT_COLUMNS:
                row[column] = value
            else:
                row[column] = str(value)
        return row
    except Exception as exc:  # a bad span must never fail the export
        row = dict.fromkeys(COLUMNS)
        row["normalize_error"] = f"{type(exc).__name__}: {exc}"[:1000]
        return row
