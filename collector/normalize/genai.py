"""The OpenTelemetry GenAI conventions: current ``gen_ai.*`` names first, then the deprecated ones."""

from __future__ import annotations

from typing import Any

from collector.normalize import messages
from collector.normalize.fields import SAME_AS_RAW, SpanInput, int_or_none, string_list, unreadable_messages

# attribute -> field: the current names, which win over the deprecated ones below.
_CURRENT: dict[str, str] = {
    "gen_ai.conversation.id": "conversation_id",
    "gen_ai.operation.name": "operation",
    "gen_ai.agent.name": "agent_name",
    "gen_ai.agent.id": "agent_id",
    "gen_ai.provider.name": "provider",
    "gen_ai.request.model": "request_model",
    "gen_ai.response.model": "response_model",
    "gen_ai.usage.input_tokens": "input_tokens",
    "gen_ai.usage.output_tokens": "output_tokens",
    "gen_ai.usage.cache_read.input_tokens": "cache_read_input_tokens",
    "gen_ai.usage.cache_creation.input_tokens": "cache_creation_input_tokens",
    "gen_ai.usage.reasoning.output_tokens": "reasoning_output_tokens",
    "gen_ai.response.finish_reasons": "finish_reasons",
    "gen_ai.tool.name": "tool_name",
    "gen_ai.tool.call.id": "tool_call_id",
    "gen_ai.tool.call.arguments": "tool_arguments",
    "gen_ai.tool.call.result": "tool_result",
    "gen_ai.input.messages": "input_messages",
    "gen_ai.output.messages": "output_messages",
    "gen_ai.system_instructions": "system_instructions",
    "gen_ai.handoff.from_agent": "handoff_from",
    "gen_ai.handoff.to_agent": "handoff_to",
}
_DEPRECATED: dict[str, str] = {
    "gen_ai.system": "provider",
    "gen_ai.usage.prompt_tokens": "input_tokens",
    "gen_ai.usage.completion_tokens": "output_tokens",
    "gen_ai.usage.cache_read_input_tokens": "cache_read_input_tokens",
    "gen_ai.usage.cache_creation_input_tokens": "cache_creation_input_tokens",
    "gen_ai.usage.reasoning_tokens": "reasoning_output_tokens",
    "gen_ai.response.finish_reason": "finish_reasons",
    "gen_ai.caller.name": "handoff_from",
    "gen_ai.transfer.target.name": "handoff_to",
}
_NAMES = frozenset(_CURRENT.keys() | _DEPRECATED.keys())
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
# What ADK writes as the call id of a tool that raised: no id, not data.
_PLACEHOLDER_IDS = frozenset({"<not specified>"})


def extract(span: SpanInput) -> dict[str, Any]:
    attributes = span.attributes
    out: dict[str, Any] = {}
    # Most spans carry a dozen attributes, few of them ours: the set intersection runs in C.
    for key in _NAMES.intersection(attributes):
        value = attributes[key]
        if value is None or value == "":
            continue
        field = _CURRENT.get(key)
        if field is not None:
            out[field] = value
        else:
            out.setdefault(_DEPRECATED[key], value)
    if out.get("tool_call_id") in _PLACEHOLDER_IDS:
        del out["tool_call_id"]
    for field in out.keys() & _TOKENS:
        out[field] = int_or_none(out[field])
    if "finish_reasons" in out:
        out["finish_reasons"] = string_list(out["finish_reasons"])
    rewritten = False
    if "tool_result" in out:
        # Strands returns a tool's result as content blocks ([{"text": ...}]): the text is the result.
        text = messages.blocks_text(messages.maybe_json(out["tool_result"]))
        if text is not None:
            out["tool_result"], rewritten = text, True
    for field in ("tool_arguments", "tool_result"):
        if field in out and not (field == "tool_result" and rewritten):
            # The views read these from the raw attribute (parsed when it is JSON): not stored twice.
            out[field] = SAME_AS_RAW if isinstance(out[field], str) else out[field]
    try:
        _details(span, out)
        _messages(span, out)
        if out.get("operation") == "execute_tool" or "tool_name" in out:
            _tool_call_from_events(span, out)
        outputs = out.get("output_messages")
        if "finish_reasons" not in out and isinstance(outputs, list):
            reasons = [str(m["finish_reason"]) for m in outputs if isinstance(m, dict) and m.get("finish_reason")]
            out["finish_reasons"] = reasons or None
    except Exception as exc:  # unreadable messages must not cost the span its model, tokens, tool and agent
        for field in ("input_messages", "output_messages", "system_instructions"):
            out.pop(field, None)
        out["normalize_error"] = unreadable_messages(exc)
    return out


_DETAILS_EVENT = "gen_ai.client.inference.operation.details"
_DETAILS_FIELDS = {
    "gen_ai.input.messages": "input_messages",
    "gen_ai.output.messages": "output_messages",
    "gen_ai.system_instructions": "system_instructions",
}


def _details(span: SpanInput, out: dict[str, Any]) -> None:
    """The conventions' message attributes carried by operation-details events (Strands' latest conventions).

    A span may spread them over several events (its history in one, the tool results in another): they are
    read in order and joined. An attribute on the span itself wins.
    """
    found: dict[str, list[Any]] = {}
    for event in span.events:
        if event["name"] != _DETAILS_EVENT:
            continue
        for key, field in _DETAILS_FIELDS.items():
            value = messages.maybe_json(event["attributes"].get(key))
            if value is None or field in out:
                continue
            found.setdefault(field, []).extend(value if isinstance(value, list) else [value])
    out.update(found)


def _tool_call_from_events(span: SpanInput, out: dict[str, Any]) -> None:
    """A tool span's arguments and result when they travel as messages, not as gen_ai.tool.call.* attributes."""
    if "tool_arguments" not in out:
        arguments = _first_part(out.get("input_messages"), "tool_call", "arguments")
        if arguments is None:  # the deprecated events: the tool message holds the call's input
            arguments = next(
                (
                    messages.maybe_json(e["attributes"].get("content"))
                    for e in span.events
                    if e["name"] == "gen_ai.tool.message"
                ),
                None,
            )
        if arguments is not None:
            out["tool_arguments"] = arguments
    if "tool_result" not in out:
        result = _first_part(out.get("output_messages"), "tool_call_response", "response")
        if result is None:
            outputs = out.get("output_messages")
            if isinstance(outputs, list) and outputs and isinstance(outputs[0], dict):
                texts = [p.get("content") for p in outputs[0].get("parts", []) if p.get("type") == "text"]
                result = "\n".join(str(t) for t in texts) if texts else None
        if result is not None:
            text = messages.blocks_text(messages.maybe_json(result))
            out["tool_result"] = text if text is not None else result


def _first_part(items: Any, kind: str, key: str) -> Any:
    if not isinstance(items, list):
        return None
    for message in items:
        for part in message.get("parts", []) if isinstance(message, dict) else []:
            if isinstance(part, dict) and part.get("type") == kind and part.get(key) is not None:
                return part[key]
    return None


def _messages(span: SpanInput, out: dict[str, Any]) -> None:
    for field, role in (("input_messages", "user"), ("output_messages", "assistant"), ("system_instructions", "")):
        if field in out:
            raw = out[field]
            decoded = messages.maybe_json(raw)  # parsed once: both readers below take parsed values
            if isinstance(raw, str) and (
                messages.is_canonical_messages(decoded) if role else messages.is_canonical_parts(decoded)
            ):
                # Already in the conventions' schema: the view reads the raw attribute, nothing is stored twice.
                out[field] = SAME_AS_RAW
                continue
            parsed = messages.from_json_attribute(decoded, role) if role else messages.parts_from_attribute(decoded)
            out[field] = parsed
            if parsed is not None and isinstance(raw, str) and decoded == parsed:
                out[field] = SAME_AS_RAW
    if span.events and any(e["name"] in _EVENT_NAMES for e in span.events):
        inputs, outputs = messages.from_events([(e["name"], e["attributes"]) for e in span.events])
        out.setdefault("input_messages", inputs or None)
        out.setdefault("output_messages", outputs or None)
