"""A step's content as a conversation: pure functions, no Streamlit, so they are tested fast and alone.

Trace content is hostile. Nothing here interprets it: control and bidirectional characters are made
visible as ``⟨U+202E⟩`` markers (a right-to-left override would otherwise show ``invoice_‮gnp.exe``
as ``invoice_exe.png``), and long texts are cut to a head for the screen, the whole kept for a download.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

# What the collector appends where it cut a value (collector/decode.py).
CUT_MARK = re.compile(r"\.\.\.\[stepseven: truncated (\d+) chars\]")

# C0/C1 controls (but tab and newline), bidi embeddings, overrides and isolates, zero-width and other
# invisible format characters, line/paragraph separators, BOM, interlinear annotations, tag characters.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)

_JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
HEAD_CHARS = 5_000  # a text longer than LONG_CHARS shows this much, with its size and a download
LONG_CHARS = 8_000


def visible(text: str) -> str:
    """``text`` with every invisible or reordering character replaced by a visible ``⟨U+XXXX⟩``."""
    text = text.replace("\r\n", "\n")
    return _INVISIBLE.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)


def size_label(chars: int) -> str:
    """``1,048,564 characters (1.0 MiB)``: how big a text is, in words a user reads at a glance."""
    if chars < 1024:
        return f"{chars:,} characters"
    unit, amount = ("MiB", chars / 2**20) if chars >= 1000 * 2**10 else ("KiB", chars / 2**10)
    return f"{chars:,} characters ({amount:.1f} {unit})"


@dataclass(frozen=True, slots=True)
class Shown:
    """A text as the screen shows it: its head (made visible) and what the user must be told."""

    head: str
    total: int  # characters in the whole text
    cut_here: bool  # the head is shorter than the text (a download has the rest)
    cut_by_collector: int  # characters the collector dropped before storing (0: none)


def shown(text: str, limit: int = LONG_CHARS, head: int = HEAD_CHARS) -> Shown:
    dropped = sum(int(n) for n in CUT_MARK.findall(text[-200:])) if "[stepseven: truncated" in text[-200:] else 0
    if len(text) <= limit:
        return Shown(visible(text), len(text), False, dropped)
    return Shown(visible(text[:head]), len(text), True, dropped)


def short_number(value: float) -> str:
    """``27,996,123`` as ``28.0M``: a figure that fits a narrow metric (the exact one goes beside it)."""
    for size, unit, suffix in ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):  # 9,999 still fits whole
        if abs(value) >= size:
            return f"{value / unit:.1f}{suffix}"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def duration_label(ms: float) -> str:
    if ms >= 60_000:
        return f"{int(ms // 60_000)} min {ms % 60_000 / 1000:.0f} s"
    if ms >= 1000:
        return f"{ms / 1000:.1f} s"
    return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.2f} ms"


def short_duration(ms: float) -> str:
    """A duration in at most six characters, for a metric in a narrow column ("149 min 59 s" was cut to
    "149 …"); ``duration_label`` gives it whole."""
    if ms >= 3_600_000:
        return f"{ms / 3_600_000:.1f} h"
    if ms >= 60_000:
        return f"{ms / 60_000:.1f} min"
    return duration_label(ms)


def status_label(status: Any, error_type: Any) -> str:
    """OpenTelemetry's ``unset`` means the instrumentation reported no error: say ``ok``, unless an
    error type was recorded anyway."""
    if status == "error" or error_type:
        return "error"
    return "ok" if status in ("ok", "unset") else "—"


def error_line(error_type: Any, message: Any) -> str:
    """``ConnectionError: backend unreachable``, once, though spans often repeat the type in the message."""
    kind, text = str(error_type or "").strip(), str(message or "").strip()
    if not text:
        return kind
    if not kind or text == kind or text.startswith((f"{kind}:", f"{kind}(", f"{kind} ")):
        return text
    return f"{kind}: {text}"


# -- messages as turns -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Part:
    kind: str  # text | tool_call | tool_result | other
    text: str = ""  # the text, the tool result, or the JSON of an unknown part
    name: str = ""  # the tool's name (calls)
    call_id: str = ""
    arguments: list[tuple[str, str]] | None = None  # key/values when the arguments are an object


@dataclass(frozen=True, slots=True)
class Turn:
    role: str
    parts: list[Part] = field(default_factory=list)


def as_text(value: Any) -> str:
    """A value as text: strings as they are, anything else as indented JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=_JSON_OPTIONS, default=str).decode()


def _parsed(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def key_values(arguments: Any) -> list[tuple[str, str]] | None:
    """Tool arguments as ``(key, value)`` rows when they are an object (also as JSON text), else None."""
    arguments = _parsed(arguments)
    if not isinstance(arguments, dict) or not arguments:
        return None
    return [(str(k), v if isinstance(v, str) else orjson.dumps(v, default=str).decode()) for k, v in arguments.items()]


def key_value_text(rows: list[tuple[str, str]]) -> str:
    """``key: value`` lines, keys aligned; a value's later lines indented under it."""
    width = min(max(len(k) for k, _ in rows), 24)
    lines = []
    for key, value in rows:
        first, *rest = value.split("\n") or [""]
        lines.append(f"{key.ljust(width)}  {first}")
        lines.extend(" " * (width + 2) + line for line in rest)
    return "\n".join(lines)


def _part(part: Any) -> Part:
    if not isinstance(part, dict):
        return Part("text", as_text(part))
    kind = part.get("type")
    if kind == "text" or (kind is None and "content" in part):
        return Part("text", as_text(part.get("content")))
    if kind == "tool_call":
        arguments = part.get("arguments")
        return Part("tool_call", as_text(_parsed(arguments)), str(part.get("name") or "?"),
                    str(part.get("id") or ""), key_values(arguments))  # fmt: skip
    if kind == "tool_call_response":
        return Part("tool_result", as_text(_parsed(part.get("response"))), call_id=str(part.get("id") or ""))
    if kind == "reasoning" and isinstance(part.get("content"), str):
        return Part("text", "(reasoning) " + part["content"])
    return Part("other", as_text(part))


def turns(messages: Any) -> list[Turn]:
    """GenAI parts-model messages (also plain strings and ``{"role", "content"}`` ones) as turns."""
    messages = _parsed(messages)
    if messages is None or messages == []:
        return []
    if not isinstance(messages, list):
        return [Turn("", [Part("text", as_text(messages))])]
    found: list[Turn] = []
    for message in messages:
        if not isinstance(message, dict):
            found.append(Turn("", [Part("text", as_text(message))]))
            continue
        parts = message.get("parts")
        if isinstance(parts, list):
            items = [_part(p) for p in parts]
        else:
            items = [_part({"type": "text", "content": message.get("content")})] if "content" in message else []
        found.append(Turn(str(message.get("role") or ""), items))
    return found


def system_text(instructions: Any) -> str:
    """System instructions as the text the model read: parts joined, not their JSON."""
    instructions = _parsed(instructions)
    if isinstance(instructions, str):
        return instructions
    if isinstance(instructions, dict):
        instructions = [instructions]
    if not isinstance(instructions, list):
        return as_text(instructions)
    texts: list[str] = []
    for item in instructions:
        if isinstance(item, dict) and isinstance(item.get("parts"), list):  # whole system messages
            texts.extend(p.text for p in turns([item])[0].parts)
        else:
            texts.append(_part(item).text)
    return "\n\n".join(t for t in texts if t)


# -- what an agent step got and gave -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Exchange:
    """An agent run: the request it got, the answer it gave, and its whole conversation."""

    request: list[Turn]
    answer: str | None
    conversation: list[Turn]


def agent_exchange(all_messages: Any, final_result: Any) -> Exchange | None:
    """From Pydantic AI's ``pydantic_ai.all_messages`` and ``final_result`` attributes of an agent span.

    The request is the last user message with text: earlier ones are history handed to the run."""
    conversation = turns(all_messages)
    answer = None if final_result is None else as_text(_parsed(final_result))
    if not conversation and answer is None:
        return None
    asked = [t for t in conversation if t.role == "user" and any(p.kind == "text" for p in t.parts)]
    if answer is None:
        said = [t for t in conversation if t.role == "assistant" and any(p.kind == "text" for p in t.parts)]
        answer = "\n".join(p.text for p in said[-1].parts if p.kind == "text") if said else None
    return Exchange(asked[-1:], answer, conversation)


def raw_json(step: dict[str, Any]) -> str:
    """The step as stored, for the raw view: every column, content parsed, as indented JSON."""
    return orjson.dumps(step, option=_JSON_OPTIONS, default=str).decode()
