"""OpenLLMetry / Traceloop: ``traceloop.*``, legacy ``gen_ai.prompt.N.*``, association properties."""

from __future__ import annotations

import re
from typing import Any

from collector.normalize import messages
from collector.normalize.fields import SpanInput, first, unreadable_messages

_OPERATIONS = {
    "workflow": "invoke_workflow",
    "agent": "invoke_agent",
    "tool": "execute_tool",
    "task": "task",
    "handoff": "handoff",
}
_REQUEST_TYPES = {"chat": "chat", "completion": "text_completion", "embedding": "embeddings", "rerank": "rerank"}
_HANDOFF_NAME = re.compile(r"^(?P<from>.+?) → (?P<to>.+)\.handoff$")


def extract(span: SpanInput) -> dict[str, Any]:
    a = span.attributes
    kind = str(a.get("traceloop.span.kind") or "")
    request_type = a.get("llm.request.type")
    has_legacy = "gen_ai.prompt.0.role" in a or "gen_ai.prompt.0.content" in a or "gen_ai.completion.0.content" in a
    session = first(
        a,
        "traceloop.association.properties.session_id",
        "traceloop.association.properties.chat_id",
        "traceloop.association.properties.conversation_id",
    )
    if not kind and request_type is None and not has_legacy and session is None:
        return {}
    entity = first(a, "traceloop.entity.name")
    out: dict[str, Any] = {
        "conversation_id": session,
        "operation": _OPERATIONS.get(kind) or _REQUEST_TYPES.get(str(request_type)),
    }
    if kind == "agent":
        out["agent_name"] = entity
    if kind == "tool":
        out["tool_name"] = entity
        out["tool_arguments"] = messages.maybe_json(a.get("traceloop.entity.input"))
        out["tool_result"] = messages.maybe_json(a.get("traceloop.entity.output"))
    if kind == "handoff":
        match = _HANDOFF_NAME.match(span.name)
        if match:
            out["handoff_from"] = match.group("from")
            to = match.group("to")
            out["handoff_to"] = None if to == "unknown" else to
    try:
        inputs = messages.from_openllmetry(a, "gen_ai.prompt.", "user")
        outputs = messages.from_openllmetry(a, "gen_ai.completion.", "assistant")
    except Exception as exc:  # unreadable messages must not cost the span everything else
        inputs = outputs = None
        out["normalize_error"] = unreadable_messages(exc)
    if inputs is None and kind in ("agent", "workflow", "task") and a.get("traceloop.entity.input") is not None:
        inputs = [{"role": "user", "parts": [messages.text_part(a["traceloop.entity.input"])]}]
    if outputs is None and kind in ("agent", "workflow", "task") and a.get("traceloop.entity.output") is not None:
        outputs = [{"role": "assistant", "parts": [messages.text_part(a["traceloop.entity.output"])]}]
    out["input_messages"] = inputs
    out["output_messages"] = outputs
    out["system_instructions"] = messages.system_parts(inputs)
    if outputs and outputs[0].get("finish_reason"):
        out["finish_reasons"] = [m["finish_reason"] for m in outputs if m.get("finish_reason")]
    return out
