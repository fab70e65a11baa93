"""The Vercel AI SDK's own span format (`ai.*`, SDK 4 to 6, and `LegacyOpenTelemetry` in SDK 7).

`ai.generateText` / `ai.streamText` / `ai.generateObject` / `ai.streamObject` is one agent run (named by
`ai.telemetry.functionId`), `ai.<operation>.doGenerate` / `.doStream` a model call, `ai.toolCall` a tool call.
Messages are the SDK's own ({role, content: text | [{type: text | tool-call | tool-result, ...}]}); the
session id is what the app put in `runtimeContext` or `telemetry.metadata`.
"""

from __future__ import annotations

from typing import Any

from collector.normalize import messages
from collector.normalize.fields import SpanInput, first, int_or_none, string_list

_RUNS = frozenset({"ai.generateText", "ai.streamText", "ai.generateObject", "ai.streamObject"})
_CALLS = frozenset({f"{run}.{step}" for run in _RUNS for step in ("doGenerate", "doStream")})


def _part(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return messages.text_part(raw)
    kind = raw.get("type")
    if kind == "tool-call":
        arguments = raw.get("input", raw.get("args"))
        return {
            "type": "tool_call",
            "id": raw.get("toolCallId"),
            "name": raw.get("toolName"),
            "arguments": messages.maybe_json(arguments),
        }
    if kind == "tool-result":
        output = raw.get("output", raw.get("result"))
        if isinstance(output, dict) and "value" in output and str(output.get("type", "")).endswith(("text", "json")):
            output = output["value"]  # SDK 5+: {"type": "text" | "json" | "error-text" | ..., "value": ...}
        return {"type": "tool_call_response", "id": raw.get("toolCallId"), "response": output}
    if kind == "text":
        return messages.text_part(raw.get("text", ""))
    return dict(raw)


def _messages(value: Any) -> list[dict[str, Any]] | None:
    parsed = messages.maybe_json(value)
    if not isinstance(parsed, list):
        return None
    found: list[dict[str, Any]] = []
    for raw in parsed:
        if not isinstance(raw, dict):
            continue
        content = raw.get("content")
        parts = [_part(p) for p in content] if isinstance(content, list) else [messages.text_part(content)]
        found.append({"role": str(raw.get("role") or "user"), "parts": parts})
    return found


def _prompt(value: Any) -> list[dict[str, Any]] | None:
    """A run's `ai.prompt`: {"system", "prompt" | "messages"}."""
    parsed = messages.maybe_json(value)
    if not isinstance(parsed, dict):
        return None
    found = [{"role": "system", "parts": [messages.text_part(parsed["system"])]}] if parsed.get("system") else []
    if parsed.get("prompt"):
        found.append({"role": "user", "parts": [messages.text_part(parsed["prompt"])]})
    found += _messages(parsed.get("messages")) or []
    return found or None


def _answer(a: Any) -> list[dict[str, Any]] | None:
    parts: list[dict[str, Any]] = []
    text = first(a, "ai.response.text", "ai.response.object")
    if text:
        parts.append(messages.text_part(text))
    calls = messages.maybe_json(a.get("ai.response.toolCalls"))
    for call in calls if isinstance(calls, list) else []:
        parts.append(_part({"type": "tool-call", **call}) if isinstance(call, dict) else messages.text_part(call))
    return [{"role": "assistant", "parts": parts}] if parts else None


def _session(a: Any) -> Any:
    return first(
        a,
        "ai.settings.context.sessionId",
        "ai.telemetry.metadata.sessionId",
        "ai.settings.context.session_id",
        "ai.telemetry.metadata.session_id",
    )


def extract(span: SpanInput) -> dict[str, Any]:
    a = span.attributes
    if span.name in _RUNS:
        return {
            "operation": "invoke_agent",
            "agent_name": first(a, "ai.telemetry.functionId"),
            "conversation_id": _session(a),
            "input_messages": _prompt(a.get("ai.prompt")),
            "output_messages": _answer(a),
            "finish_reasons": string_list(a.get("ai.response.finishReason")),
        }
    if span.name in _CALLS:
        return {
            "operation": "chat",
            "agent_name": first(a, "ai.telemetry.functionId"),
            "conversation_id": _session(a),
            "provider": first(a, "ai.model.provider"),
            "request_model": first(a, "ai.model.id"),
            "response_model": first(a, "ai.response.model"),
            "input_tokens": int_or_none(first(a, "ai.usage.inputTokens", "ai.usage.promptTokens")),
            "output_tokens": int_or_none(first(a, "ai.usage.outputTokens", "ai.usage.completionTokens")),
            "input_messages": _messages(a.get("ai.prompt.messages")),
            "output_messages": _answer(a),
            "finish_reasons": string_list(a.get("ai.response.finishReason")),
        }
    if span.name == "ai.toolCall":
        return {
            "operation": "execute_tool",
            "agent_name": first(a, "ai.telemetry.functionId"),
            "conversation_id": _session(a),
            "tool_name": first(a, "ai.toolCall.name"),
            "tool_call_id": first(a, "ai.toolCall.id"),
            "tool_arguments": messages.maybe_json(a.get("ai.toolCall.args", a.get("ai.toolCall.input"))),
            "tool_result": messages.maybe_json(a.get("ai.toolCall.result", a.get("ai.toolCall.output"))),
        }
    return {}
