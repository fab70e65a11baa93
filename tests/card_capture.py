"""A session made for the step card: a conversation with tool calls, a failed tool, a bidi file name,
a 1 MiB prompt and a 2 MB attribute the collector must cut, all in OTLP/JSON as an exporter sends it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

SESSION = "session-card"
TRACE = "ca4dca4dca4dca4dca4dca4dca4dca4d"
# Reads "invoice_exe.png" when a right-to-left override is interpreted; the file is an .exe.
BIDI_NAME = "invoice_\u202egnp.exe"
HUGE_PROMPT = "All work and no play makes Jack a dull boy. " * 23_818  # 1,047,992 characters: 1 MiB with its JSON
SYSTEM = "You plan trips. Never book without asking."

_T0 = 1_764_000_000_000_000_000
_SECOND = 1_000_000_000


def _attribute(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value if isinstance(value, str) else orjson.dumps(value).decode()}}


def _text(role: str, content: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": content}]}


def _span(n: int, name: str, attributes: dict[str, Any], *, parent: int | None = 1, **extra: Any) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": TRACE,
        "spanId": f"ca4d{n:012x}",
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(_T0 + n * _SECOND),
        "endTimeUnixNano": str(_T0 + n * _SECOND + (30 if n == 1 else 1) * _SECOND // 2),
        "attributes": [_attribute(k, v) for k, v in attributes.items()],
        **extra,
    }
    if parent is not None:
        span["parentSpanId"] = f"ca4d{parent:012x}"
    return span


def card_spans() -> list[dict[str, Any]]:
    common = {"gen_ai.agent.name": "planner", "gen_ai.conversation.id": SESSION}
    request = "Plan a weekend in Paris and attach the invoice."
    call = {
        "type": "tool_call",
        "id": "call_1",
        "name": "get_weather",
        "arguments": {"city": "Paris", "days": 3, "units": "metric"},
    }
    asked = [_text("user", request), {"role": "assistant", "parts": [call]}]
    answered = [
        *asked,
        {
            "role": "tool",
            "parts": [
                {"type": "tool_call_response", "id": "call_1", "response": f"18°C, sunny. Attachment: {BIDI_NAME}"}
            ],
        },
    ]
    final = "Paris: 18°C and sunny all weekend. The invoice could not be fetched."
    instructions = [{"type": "text", "content": SYSTEM}]
    return [
        _span(
            1,
            "invoke_agent planner",
            {
                **common,
                "gen_ai.operation.name": "invoke_agent",
                "agent_name": "planner",
                "pydantic_ai.all_messages": [*answered, _text("assistant", final)],
                "final_result": final,
                "gen_ai.system_instructions": instructions,
            },
            parent=None,
        ),
        _span(
            2,
            "chat gpt-4o",
            {
                **common,
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.system_instructions": instructions,
                "gen_ai.input.messages": [_text("user", request)],
                "gen_ai.output.messages": [{"role": "assistant", "parts": [call]}],
                "gen_ai.usage.input_tokens": 27_996_123,
                "gen_ai.usage.output_tokens": 1_234_567,
            },
        ),
        _span(
            3,
            "execute_tool get_weather",
            {
                **common,
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "get_weather",
                "gen_ai.tool.call.id": "call_1",
                "gen_ai.tool.call.arguments": call["arguments"],
                "gen_ai.tool.call.result": f"18°C, sunny. Attachment: {BIDI_NAME}",
            },
        ),
        _span(
            4,
            "execute_tool fetch_invoice",
            {
                **common,
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "fetch_invoice",
                "gen_ai.tool.call.arguments": {"file": BIDI_NAME},
            },
            status={"code": 2, "message": "ConnectionError: billing backend unreachable"},
            events=[
                {
                    "name": "exception",
                    "timeUnixNano": str(_T0 + 4 * _SECOND),
                    "attributes": [
                        _attribute("exception.type", "ConnectionError"),
                        _attribute("exception.message", "billing backend unreachable"),
                    ],
                }
            ],
        ),
        _span(
            5,
            "chat gpt-4o",
            {
                **common,
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.system_instructions": instructions,
                "gen_ai.input.messages": answered,
                "gen_ai.output.messages": [_text("assistant", final)],
                "gen_ai.usage.input_tokens": 812,
                "gen_ai.usage.output_tokens": 40,
            },
        ),
        _span(
            6,
            "chat gpt-4o",
            {
                **common,
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.input.messages": [_text("user", HUGE_PROMPT)],
                "gen_ai.output.messages": [_text("assistant", "Here is Johnny!")],
            },
        ),
        _span(
            7,
            "chat gpt-4o",
            {
                # 2 MB of messages, past the collector's 1 MiB cut for one attribute value.
                **common,
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.input.messages": [
                    _text("user", "first half. " * 87_000),
                    _text("user", "second half. " * 80_000),
                ],
                "gen_ai.output.messages": [_text("assistant", "ok")],
            },
        ),
    ]


def card_capture(folder: Path) -> Path:
    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": [_attribute("service.name", "card")]},
                "scopeSpans": [{"scope": {"name": "pydantic-ai"}, "spans": card_spans()}],
            }
        ]
    }
    path = folder / "card.json"
    path.write_bytes(orjson.dumps(document))
    return path
