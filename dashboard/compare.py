"""What changed between the inputs of two steps (typically two LLM calls): a unified diff of their
messages written out as lines of text. Trace content stays text: the diff is shown with ``st.code``,
and the characters that could disguise it (bidi overrides, other controls) are written as their names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

import orjson

# A bounded diff: difflib is quadratic on the worst inputs, and a 1 MiB prompt is one line of JSON.
MOST_LINES = 4000
LONGEST_LINE = 2000

# Bidi overrides/isolates/marks and C0/C1 controls except tab and newline: shown as <U+202E>.
_HIDDEN = re.compile("[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def visible(value: str) -> str:
    return _HIDDEN.sub(lambda m: f"<U+{ord(m.group()):04X}>", value)


def _dump(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


def _part_lines(part: Any) -> Iterator[str]:
    if not isinstance(part, dict):
        yield _dump(part)
    elif part.get("type") == "text":
        yield _dump(part.get("content"))
    elif part.get("type") == "tool_call":
        yield f"→ tool call {part.get('name')} (id {part.get('id')})"
        yield _dump(part.get("arguments"))
    elif part.get("type") == "tool_call_response":
        yield f"← tool result (id {part.get('id')})"
        yield _dump(part.get("response"))
    else:
        yield _dump(part)


def _message_lines(messages: Any) -> Iterator[str]:
    if messages is None:
        return
    if not isinstance(messages, list):
        yield _dump(messages)
        return
    for k, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            yield f"[message {k}]"
            yield _dump(message)
            continue
        yield f"[message {k}: {message.get('role', '?')}]"
        for part in message.get("parts") or []:
            yield from _part_lines(part)


def input_lines(step: dict[str, Any]) -> list[str]:
    """What a step was given, one line per line of text: system instructions, messages, tool arguments."""
    raw: list[str] = []
    if step.get("system_instructions") is not None:
        raw.append("[system instructions]")
        system = step["system_instructions"]
        if isinstance(system, list):
            for part in system:
                raw.extend(_part_lines(part))
        else:
            raw.append(_dump(system))
    raw.extend(_message_lines(step.get("input_messages")))
    if step.get("tool_arguments") is not None:
        raw.append(f"[tool arguments: {step.get('tool_name')}]")
        raw.append(_dump(step["tool_arguments"]))
    lines: list[str] = []
    for block in raw:
        for line in block.splitlines() or [""]:
            lines.append(visible(line if len(line) <= LONGEST_LINE else line[:LONGEST_LINE] + " …(cut)"))
    return lines


def diff(older: dict[str, Any], newer: dict[str, Any]) -> tuple[str, int, int, bool]:
    """The unified diff of two steps' inputs, lines added and removed, and whether either was cut."""
    a, b = input_lines(older), input_lines(newer)
    cut = len(a) > MOST_LINES or len(b) > MOST_LINES
    a, b = a[:MOST_LINES], b[:MOST_LINES]
    lines = list(
        difflib.unified_diff(
            a, b, f"step {older.get('step_index')}", f"step {newer.get('step_index')}", n=2, lineterm=""
        )
    )
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    return "\n".join(lines), added, removed, cut
