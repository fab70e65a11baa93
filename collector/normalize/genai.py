"""The OpenTelemetry GenAI conventions: current ``gen_ai.*`` names first, then the deprecated ones."""

from __future__ import annotations

from typing import Any

from collector.normalize import messages
from collector.normalize.fields import SAME_AS_RAW, SpanInput, int_or_none, string_list

# attribute -> (field, rank): one pass over the span's attributes; a lower rank wins.
_FIELDS: dict[str, tuple[str, int]] = {
    "gen_ai.conversation.id": ("conversation_id", 0),
    "gen_ai.operation.name": ("operation", 0),
    "gen_ai.agent.name": ("agent_name", 0),
    "gen_ai.agent.id": ("agent_id", 0),
    "gen_ai.provider.name": ("provider", 0),
    "gen_ai.system": ("provider", 1),
    "gen_ai.request.model": ("request_model", 0),
    "gen_ai.response.model": ("response_model", 0),
    "gen_ai.usage.input_tokens": ("input_tokens", 0),
    "gen_ai.usage.prompt_tokens": ("input_tokens", 1),
    "gen_ai.usage.output_tokens": ("output_tokens", 0),
    "gen_ai.usage.completion_tokens": ("output_tokens", 1),
    "gen_ai.usage.cache_read.input_tokens": ("cache_read_input_tokens", 0),
    "gen_ai.usage.cache_read_input_tokens": ("cache_read_input_tokens", 1),
    "gen_ai.usage.cache_creation.input_tokens": ("cache_creation_input_tokens", 0),
    "gen_ai.usage.cache_creation_input_tokens": ("cache_creation_input_tokens", 1),
    "gen_ai.usage.reasoning.output_tokens": ("reasoning_output_tokens", 0),
    "gen_ai.usage.reasoning_tokens": ("reasoning_output_tokens", 1),
    "gen_ai.response.finish_reasons": ("finish_reasons", 0),
    "gen_ai.response.finish_reason": ("finish_reasons", 1),
    "gen_ai.tool.name": ("tool_name", 0),
    "gen_ai.tool.call.id": ("tool_call_id", 0),
    "gen_ai.tool.call.arguments": ("tool_arguments", 0),
    "gen_ai.tool.call.result": ("tool_result", 0),
    "gen_ai.input.messages": ("input_messages", 0),
    "gen_ai.output.messages": ("output_messages", 0),
    "gen_ai.system_instructions": ("system_instructions", 0),
    "gen_ai.handoff.from_agent": ("handoff_from", 0),
    "gen_ai.caller.name": ("handoff_from", 1),
    "gen_ai.handoff.to_agent": ("handoff_to", 0),
    "gen_ai.transfer.target.name": ("handoff_to", 1),
}
_TOKENS = frozenset(
    {
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "reasoning_output_tokens",
    }
)
_EVENT_NAMES = frozenset({*messages.EVENT_ROLES, messages.CHOICE_EVENT})


def extract(span: SpanInput) -> dict[str, Any]:
    found: dict[str, tuple[int, Any]] = {}
    for key, value in span.attributes.items():
        spec = _FIELDS.get(key)
        if spec is None or value is None or value == "":
            continue
        field, rank = spec
        held = found.get(field)
        if held is None or rank < held[0]:
            found[field] = (rank, value)
    out: dict[str, Any] = {field: value for field, (_, value) in found.items()}
    for field in _TOKENS & out.keys():
        out[field] = int_or_none(out[field])
    if "finish_reasons" in out:
        out["finish_reasons"] = string_list(out["finish_reasons"])
    for field in ("tool_arguments", "tool_result"):
        if field in out:
            # The views read these from the raw attribute (parsed when it is JSON): not stored twice.
            out[field] = SAME_AS_RAW if isinstance(out[field], str) else out[field]
    for field, role in (("input_messages", "user"), ("output_messages", "assistant"), ("system_instructions", "")):
        if field in out:
            raw = out[field]
            decoded = messages.maybe_json(raw)  # parsed once: both readers below take parsed values
            parsed = messages.from_json_attribute(decoded, role) if role else messages.parts_from_attribute(decoded)
            out[field] = parsed
            if parsed is not None and isinstance(raw, str) and decoded == parsed:
                # Already in the conventions' schema: the view reads the raw attribute, nothing is stored twice.
                out[field] = SAME_AS_RAW
    if span.events and any(e["name"] in _EVENT_NAMES for e in span.events):
        inputs, outputs = messages.from_events([(e["name"], e["attributes"]) for e in span.events])
        out.setdefault("input_messages", inputs or None)
        out.setdefault("output_messages", outputs or None)
    return out
