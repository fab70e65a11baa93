"""Every way frameworks write prompts and completions, turned into the GenAI parts model.

A message is ``{"role": str, "parts": [part, ...]}`` with optional ``name`` and ``finish_reason``;
parts are ``{"type": "text", "content"}``, ``{"type": "tool_call", "id", "name", "arguments"}``,
``{"type": "tool_call_response", "id", "response"}`` and the other types of the conventions,
which pass through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

Message = dict[str, Any]
Attributes = Mapping[str, Any]

# Deprecated (v1.28-v1.36) per-message events, as span events or log records.
EVENT_ROLES = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
CHOICE_EVENT = "gen_ai.choice"


def maybe_json(value: Any) -> Any:
    """Parses JSON text; anything else (or text that is not JSON) comes back as it was."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def text_part(content: Any) -> dict[str, Any]:
    return {"type": "text", "content": content if isinstance(content, str) else orjson.dumps(content).decode()}


def _part(part: Any) -> dict[str, Any]:
    if not isinstance(part, dict):
        return text_part(part)
    if part.get("type") == "tool_call_response" and "response" not in part and "result" in part:
        # Pydantic AI (and the registry's own example) say "result" where the schema says "response".
        part = {**part, "response": part["result"]}
        part.pop("result")
    if part.get("type") == "tool_call" and isinstance(part.get("arguments"), str):
        part = {**part, "arguments": maybe_json(part["arguments"])}
    return dict(part)


def _message(raw: Any, default_role: str) -> Message | None:
    if not isinstance(raw, dict):
        return {"role": default_role, "parts": [text_part(raw)]} if raw not in (None, "") else None
    message: Message = {"role": str(raw.get("role") or default_role)}
    if isinstance(raw.get("parts"), list):
        message["parts"] = [_part(p) for p in raw["parts"]]
    else:
        message["parts"] = _legacy_parts(raw)
    for key in ("name", "finish_reason"):
        if raw.get(key) is not None:
            message[key] = raw[key]
    return message


def _legacy_parts(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    """OpenAI-style ``{content, tool_calls, tool_call_id}`` to parts."""
    parts: list[dict[str, Any]] = []
    content = raw.get("content")
    tool_call_id = raw.get("tool_call_id") or raw.get("id")
    if raw.get("role") == "tool" and content is not None:
        parts.append({"type": "tool_call_response", "id": tool_call_id, "response": maybe_json(content)})
    elif isinstance(content, list):
        parts.extend(_part(p) if isinstance(p, dict) and "type" in p else text_part(p) for p in content)
    elif content not in (None, ""):
        parts.append(text_part(content))
    for call in raw.get("tool_calls") or ():
        if not isinstance(call, dict):
            continue
        function: dict[str, Any] = call["function"] if isinstance(call.get("function"), dict) else call
        parts.append(
            {
                "type": "tool_call",
                "id": call.get("id"),
                "name": function.get("name"),
                "arguments": maybe_json(function.get("arguments")),
            }
        )
    return parts


def from_json_attribute(value: Any, default_role: str) -> list[Message] | None:
    """``gen_ai.input.messages`` / ``gen_ai.output.messages``: JSON text or structured values."""
    parsed = maybe_json(value)
    if parsed is None or parsed == "":
        return None
    if isinstance(parsed, dict):
        parsed = [parsed]
    if not isinstance(parsed, list):
        return [{"role": default_role, "parts": [text_part(parsed)]}]
    messages = [m for m in (_message(raw, default_role) for raw in parsed) if m is not None]
    return messages or None


_MESSAGE_KEYS = frozenset({"role", "parts", "name", "finish_reason"})


def _canonical_part(part: Any) -> bool:
    if not isinstance(part, dict):
        return False
    kind = part.get("type")
    if kind == "tool_call_response":
        return "response" in part or "result" not in part
    if kind == "tool_call":
        arguments = part.get("arguments")
        return not (isinstance(arguments, str) and arguments[:1] in ("{", "["))
    return True


def is_canonical_parts(parsed: Any) -> bool:
    """True when ``parts_from_attribute`` would return this parsed value unchanged.

    A cheap walk that builds nothing; False only means "rebuild and compare".
    """
    return isinstance(parsed, list) and bool(parsed) and all(map(_canonical_part, parsed))


def is_canonical_messages(parsed: Any) -> bool:
    """True when ``from_json_attribute`` would return this parsed value unchanged (see is_canonical_parts)."""
    if not isinstance(parsed, list) or not parsed:
        return False
    for message in parsed:
        if not isinstance(message, dict) or not _MESSAGE_KEYS.issuperset(message):
            return False
        role, parts = message.get("role"), message.get("parts")
        if not isinstance(role, str) or not role or not isinstance(parts, list):
            return False
        if message.get("name", "") is None or message.get("finish_reason", "") is None:
            return False
        if not all(map(_canonical_part, parts)):
            return False
    return True


def parts_from_attribute(value: Any) -> list[dict[str, Any]] | None:
    """``gen_ai.system_instructions``: an array of parts (or plain text)."""
    parsed = maybe_json(value)
    if parsed in (None, "", []):
        return None
    if isinstance(parsed, list):
        return [_part(p) for p in parsed]
    return [text_part(parsed)]


_INDEXED = re.compile(r"^(\d+)\.(.+)$")


def _indexed(attributes: Attributes, prefix: str) -> dict[int, dict[str, Any]]:
    """``prefix.N.rest`` attributes grouped by N."""
    grouped: dict[int, dict[str, Any]] = {}
    for key, value in attributes.items():
        if not key.startswith(prefix):
            continue
        match = _INDEXED.match(key[len(prefix) :])
        if match:
            grouped.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return grouped


def from_openinference(attributes: Attributes, prefix: str) -> list[Message] | None:
    """Flattened ``llm.input_messages.N.message.*`` (and ``llm.output_messages``)."""
    grouped = _indexed(attributes, prefix)
    if not grouped:
        return None
    messages: list[Message] = []
    for _, fields in sorted(grouped.items()):
        role = str(fields.get("message.role") or "user")
        parts: list[dict[str, Any]] = []
        content = fields.get("message.content")
        tool_call_id = fields.get("message.tool_call_id")
        if role == "tool" and content is not None:
            parts.append({"type": "tool_call_response", "id": tool_call_id, "response": maybe_json(content)})
        elif content not in (None, ""):
            parts.append(text_part(content))
        contents = _indexed(fields, "message.contents.")
        for _, item in sorted(contents.items()):
            if item.get("message_content.type", "text") == "text" and "message_content.text" in item:
                parts.append(text_part(item["message_content.text"]))
            elif "message_content.image.image.url" in item:
                parts.append({"type": "uri", "modality": "image", "uri": item["message_content.image.image.url"]})
        calls = _indexed(fields, "message.tool_calls.")
        for _, call in sorted(calls.items()):
            parts.append(
                {
                    "type": "tool_call",
                    "id": call.get("tool_call.id"),
                    "name": call.get("tool_call.function.name"),
                    "arguments": maybe_json(call.get("tool_call.function.arguments")),
                }
            )
        message: Message = {"role": role, "parts": parts}
        if fields.get("message.name"):
            message["name"] = fields["message.name"]
        messages.append(message)
    return messages


def from_openllmetry(attributes: Attributes, prefix: str, default_role: str) -> list[Message] | None:
    """Legacy ``gen_ai.prompt.N.*`` / ``gen_ai.completion.N.*``."""
    grouped = _indexed(attributes, prefix)
    if not grouped:
        return None
    messages: list[Message] = []
    for _, fields in sorted(grouped.items()):
        raw: dict[str, Any] = {"role": fields.get("role") or default_role, "content": fields.get("content")}
        if fields.get("tool_call_id"):
            raw["tool_call_id"] = fields["tool_call_id"]
        calls = _indexed(fields, "tool_calls.")
        raw["tool_calls"] = [
            {"id": c.get("id"), "name": c.get("name"), "arguments": c.get("arguments")}
            for _, c in sorted(calls.items())
        ]
        message = _message(raw, default_role)
        if message is not None:
            if fields.get("finish_reason"):
                message["finish_reason"] = fields["finish_reason"]
            messages.append(message)
    return messages


def from_events(events: Sequence[tuple[str, Mapping[str, Any]]]) -> tuple[list[Message], list[Message]]:
    """Deprecated per-message events (name, attributes-or-body) to (input, output) messages."""
    inputs: list[Message] = []
    outputs: list[Message] = []
    for name, body in events:
        role = EVENT_ROLES.get(name)
        if role is not None:
            raw = dict(body)
            content = maybe_json(raw.get("content"))
            if isinstance(content, list) and content and all(isinstance(c, dict) for c in content):
                # Strands: the content is a JSON array of {"text": ...} / {"toolUse": ...} blocks.
                raw["content"] = [c.get("text", c) for c in content]
            raw.setdefault("role", role)
            raw["tool_calls"] = maybe_json(raw.get("tool_calls"))
            message = _message(raw, role)
            if message is not None:
                inputs.append(message)
        elif name == CHOICE_EVENT:
            raw = maybe_json(body.get("message"))
            message_body = (
                dict(raw) if isinstance(raw, dict) else {"content": body.get("message") or body.get("content")}
            )
            message_body.setdefault("role", "assistant")
            if "tool_calls" in body:
                message_body["tool_calls"] = maybe_json(body["tool_calls"])
            message = _message(message_body, "assistant")
            if message is not None:
                if body.get("finish_reason"):
                    message["finish_reason"] = body["finish_reason"]
                outputs.append(message)
    return inputs, outputs


def system_parts(messages: list[Message] | None) -> list[dict[str, Any]] | None:
    """System instructions carried as system messages (OpenLLMetry, OpenInference, old events)."""
    if not messages:
        return None
    parts = [p for m in messages if m.get("role") in ("system", "developer") for p in m.get("parts", [])]
    return parts or None
