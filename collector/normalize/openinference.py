"""OpenInference (Arize): ``openinference.span.kind``, ``llm.*``, flattened messages, ``input.value``."""

from __future__ import annotations

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


def extract(span: SpanInput) -> dict[str, Any]:
    a = span.attributes
    kind = str(a.get("openinference.span.kind") or "").upper()
    if not kind and "session.id" not in a and "llm.model_name" not in a and "agent.name" not in a:
        return {}
    operation = _OPERATIONS.get(kind)
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
        out["tool_arguments"] = messages.maybe_json(first(a, "tool.parameters_value", "input.value"))
        out["tool_result"] = messages.maybe_json(a.get("output.value"))
    elif kind in ("AGENT", "CHAIN", "LLM") and not inputs:
        value = a.get("input.value")
        inputs = [{"role": "user", "parts": [messages.text_part(value)]}] if value not in (None, "") else None
        if kind != "LLM" and not outputs:
            result = a.get("output.value")
            outputs = (
                [{"role": "assistant", "parts": [messages.text_part(result)]}] if result not in (None, "") else None
            )
    out["input_messages"] = inputs
    out["output_messages"] = outputs
    out["system_instructions"] = messages.system_parts(inputs)
    return out
