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
        role = _SMOLAGENTS_ROLES.get(role, role)
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


# smolagents replays its memory with roles of its own: the model's earlier tool calls and their observations.
_SMOLAGENTS_ROLES = {"tool-call": "assistant", "tool-response": "tool"}


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


def _block_parts(blocks: list[Any]) -> list[dict[str, Any]] | None:
    """Bedrock / Strands content blocks (``{"text"}``, ``{"toolUse"}``, ``{"toolResult"}``) to parts, or None."""
    parts: list[dict[str, Any]] = []
    for block in blocks:
        if not isinstance(block, dict):
            return None
        if isinstance(block.get("text"), str):
            parts.append(text_part(block["text"]))
        elif isinstance(block.get("toolUse"), dict):
            use = block["toolUse"]
            parts.append(
                {
                    "type": "tool_call",
                    "id": use.get("toolUseId"),
                    "name": use.get("name"),
                    "arguments": use.get("input"),
                }
            )
        elif isinstance(block.get("toolResult"), dict):
            result = block["toolResult"]
            content = result.get("content")
            texts = (
                [c["text"] for c in content if isinstance(c, dict) and isinstance(c.get("text"), str)]
                if (isinstance(content, list))
                else []
            )
            response: Any = "\n".join(texts) if texts and len(texts) == len(content) else content
            part: dict[str, Any] = {"type": "tool_call_response", "id": result.get("toolUseId"), "response": response}
            if result.get("status") == "error":
                part["status"] = "error"
            parts.append(part)
        else:
            return None
    return parts


def blocks_text(value: Any) -> str | None:
    """The text of a list of text content blocks ([{"text": ...}, ...]), or None if it is not one."""
    if not isinstance(value, list) or not value:
        return None
    texts = [block.get("text") for block in value if isinstance(block, dict)]
    if len(texts) != len(value) or not all(isinstance(t, str) for t in texts):
        return None
    return "\n".join(str(t) for t in texts)


def _event_message(body: Mapping[str, Any], content_key: str, role: str) -> Message | None:
    """One deprecated message event; its content may be text, JSON text, parts or content blocks."""
    content = maybe_json(body.get(content_key))
    if isinstance(content, list):
        blocks = _block_parts(content)
        if blocks is not None:
            message: Message = {"role": str(body.get("role") or role), "parts": blocks}
            return message if blocks else None
    if isinstance(content, dict) and ("parts" in content or "content" in content or "tool_calls" in content):
        fields = dict(content)
    else:
        fields = {"content": content}
    for key in ("role", "name", "tool_calls", "tool_call_id", "id"):
        if key in body and key not in fields:
            fields[key] = maybe_json(body[key])
    fields.setdefault("role", role)
    return _message(fields, role)


def from_events(events: Sequence[tuple[str, Mapping[str, Any]]]) -> tuple[list[Message], list[Message]]:
    """Deprecated per-message events (name, attributes-or-body) to (input, output) messages."""
    inputs: list[Message] = []
    outputs: list[Message] = []
    for name, body in events:
        role = EVENT_ROLES.get(name)
        if role is not None:
            message = _event_message(body, "content", role)
            if message is not None:
                inputs.append(message)
        elif name == CHOICE_EVENT:
            message = _event_message(body, "message" if "message" in body else "content", "assistant")
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
