"""Reading messages and tool values the way the detectors compare them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from functools import lru_cache
from typing import Any

import orjson

Message = dict[str, Any]


def squeeze(text: str) -> str:
    """Runs of whitespace as one space, ends stripped (str.split, several times faster than a regex)."""
    return " ".join(text.split())


# The texts of a session come back again and again (each LLM call re-sends the history; an agent's system
# prompt and tool descriptions are the same in every session), and reading one costs up to a millisecond:
# recent ones are kept. Only short ones, so that the cache stays within a few MB whatever the traffic.
_CACHED_TEXT = 8192
_CACHE_ENTRIES = 2048


# Request ids, counters, timestamps and hashes change from one identical answer to the next.
# Short numbers are kept: they are data ("node-a02: 66% used" is not "node-a01: 53% used").
_VOLATILE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{16,}\b"
    r"|\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?|\b\d{1,2}:\d\d(?::\d\d(?:\.\d+)?)?\b"
    r"|\b(?=[a-z_-]*\d)(?=[\d_-]*[a-z])[a-z\d_-]{8,}\b"  # request ids, hashes, cursors: letters and digits mixed
    r"|\d{4,}",
    re.I,
)


# Every alternative of _VOLATILE needs a digit, or (a hash or a uuid of letters only) eight hex letters
# in a row: a text with neither has nothing to mask, and is returned without running the regex, which
# took 0.6 ms on a 1.8 KB tool result (the analyzer's largest cost on a 100k-span store).
_HEX_LETTERS = re.compile(r"[a-fA-F]{8}")
_DIGITS = "0123456789"


def gist(value: Any) -> str:
    """A result with its volatile tokens masked: two answers with the same gist say the same thing."""
    text = canonical(value)
    return _masked(text) if len(text) <= _CACHED_TEXT else _mask(text)


def _mask(text: str) -> str:
    if not any(digit in text for digit in _DIGITS) and _HEX_LETTERS.search(text) is None:
        return text
    return _VOLATILE.sub("#", text)


_masked = lru_cache(maxsize=_CACHE_ENTRIES)(_mask)


def canonical(value: Any) -> str:
    """The same value gives the same text whatever its key order or spacing (tool arguments, results)."""
    if isinstance(value, str):
        return _canonical_text(value) if len(value) <= _CACHED_TEXT else _canonical(value)
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return str(value)


def _canonical(text: str) -> str:
    stripped = text.strip()
    # JSON inside the text, an object or a string encoded once more (the AI SDK's tool outputs).
    if stripped[:1] in ("{", "[") or (len(stripped) > 1 and stripped[0] == stripped[-1] == '"'):
        try:
            return canonical(orjson.loads(stripped))
        except orjson.JSONDecodeError:
            pass
    return squeeze(stripped)


_canonical_text = lru_cache(maxsize=_CACHE_ENTRIES)(_canonical)


def is_empty(value: Any) -> bool:
    """No content at all: None, blank text, an empty container, or containers of such."""
    if value is None:
        return True
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                return is_empty(orjson.loads(stripped))
            except orjson.JSONDecodeError:
                return False
        return not stripped
    if isinstance(value, dict):
        return all(is_empty(v) for v in value.values())
    if isinstance(value, list):
        return all(is_empty(v) for v in value)
    return False


def parts(message: Message) -> list[dict[str, Any]]:
    found = message.get("parts")
    return [p for p in found if isinstance(p, dict)] if isinstance(found, list) else []


def message_text(message: Message) -> str:
    """All the text a message carries, tool call arguments and tool results included."""
    pieces: list[str] = []
    for part in parts(message):
        kind = part.get("type")
        if kind == "text":
            pieces.append(canonical(part.get("content", "")))
        elif kind == "tool_call":
            pieces.append(f"{part.get('name')}({canonical(part.get('arguments'))})")
        elif kind == "tool_call_response":
            pieces.append(canonical(part.get("response")))
    return "\n".join(pieces)


def role_texts(messages: list[Message] | None, role: str) -> Iterator[str]:
    for message in messages or []:
        if message.get("role") == role:
            text = message_text(message)
            if text.strip():
                yield text


def fingerprint(message: Message) -> str:
    """Identity of a message across calls (the same history re-sent gives the same fingerprints)."""
    return f"{message.get('role')}\x00{message_text(message)}"


def system_text(system_instructions: Any, messages: list[Message] | None) -> str:
    """The system instructions of an LLM call: the attribute, or the system messages of its input."""
    pieces: list[str] = []
    if isinstance(system_instructions, list):
        pieces.extend(
            canonical(p.get("content", "")) if isinstance(p, dict) else canonical(p) for p in system_instructions
        )
    elif system_instructions:
        pieces.append(canonical(system_instructions))
    pieces.extend(role_texts(messages, "system"))
    return "\n".join(p for p in pieces if p)


def contains(haystack: str, needle: str, *, prefix: int = 200) -> bool:
    """Whether the needle (or its first ``prefix`` characters, for long texts) appears in the haystack."""
    needle = squeeze(needle)
    if not needle:
        return True
    return needle[:prefix] in squeeze(haystack)


# What a failure looks like when it comes back as text: a leading error word, or a technical failure
# anywhere. Not plain "cannot" or "could not", which good news uses too ("I cannot see any problem").
_ERROR_TEXT = re.compile(
    r"^\W*(error|exception|traceback|failed|failure)\b"
    r"|\b(exception|traceback \(most recent call last\)|unreachable|timed out|timeout|connection (refused|reset)"
    r"|internal server error|service unavailable|bad gateway|(status|status code|http) [45]\d\d|permission denied"
    r"|forbidden|unauthorized|rate limit(ed)?|failed to|(could not|couldn't|unable to|cannot) "
    r"(reach|connect|contact|access|complete|process|perform|issue|load|fetch|retrieve))\b",
    re.IGNORECASE,
)

_ACKNOWLEDGES = re.compile(
    r"\b(sorry|unfortunately|error|failed|fail|unable|couldn't|could not|cannot|can't|not able|"
    r"unavailable|unreachable|problem|issue|try again|later)\b",
    re.IGNORECASE,
)


def looks_like_error(text: str) -> bool:
    return bool(_ERROR_TEXT.search(text[:2000]))


def acknowledges_trouble(text: str) -> bool:
    return bool(_ACKNOWLEDGES.search(text))


def output_text(messages: list[Message] | None) -> str:
    """What a call answered in words (its tool calls left out)."""
    pieces = []
    for message in messages or []:
        for part in parts(message):
            if part.get("type") == "text":
                pieces.append(canonical(part.get("content", "")))
    return "\n".join(pieces)


def around(text: str, pattern: re.Pattern[str], limit: int = 140) -> str:
    """The part of a long message that matters: from a little before the match of ``pattern``."""
    text = squeeze(text)
    match = pattern.search(text)
    if match is None or len(text) <= limit:
        return short(text, limit)
    start = max(0, match.start() - 30)
    return ("…" if start else "") + short(text[start:], limit)


def first_sentence(text: str, limit: int = 140) -> str:
    text = squeeze(text)
    end = text.find(". ")
    return short(text[:end] if 0 < end < limit else text.rstrip("."), limit)


def short(text: str, limit: int = 80) -> str:
    text = squeeze(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# What a framework sends its model when an agent ran out of steps: a forced final answer, under a system
# prompt of its own (smolagents' final_answer.pre_messages, LlamaIndex's closing system message). The agent
# hit its limit; its prompt is not lost.
_FORCED_FINAL_ANSWER = (
    "An agent tried to answer a user query but it got stuck and failed to do so",  # smolagents
    "You have reached the maximum number of iterations",  # LlamaIndex, early_stopping_method="generate"
)


# What a framework answers in the agent's name when it ran out of steps without calling the model again.
_OUT_OF_STEPS_ANSWERS = ("Sorry, need more steps to process this request",)  # LangGraph's create_react_agent


def out_of_steps_answer(step: Any) -> bool:
    """Whether this step's answer is a framework's canned reply for a run that ran out of steps."""
    text = output_text(step.output_messages)
    return any(marker in text for marker in _OUT_OF_STEPS_ANSWERS)


def forced_final_answer(step: Any) -> bool:
    """Whether this LLM call is a framework's forced final answer after the agent ran out of steps."""
    if step.step_kind != "llm" or not step.input_messages:
        return False
    text = system_text(step.system_instructions, step.input_messages) or next(
        role_texts(step.input_messages, "user"), ""
    )
    return any(marker in text for marker in _FORCED_FINAL_ANSWER)


_WORD = re.compile(r"[$€£]?\d+(?:[.,]\d+)*%?|[A-Za-z][A-Za-z'-]{3,}")
_CLAUSE = re.compile(r"[.;!?]+(?=\s|$)|\n+|,\s+(?:and|but)\s+")
# What makes a clause of a request a constraint the answer must keep: limits, prohibitions, requirements.
_CONSTRAINT = re.compile(
    r"\b(only|must|never|always|don't|do not|without|under|below|at (most|least)|no more than|"
    r"less than|more than|within|avoid|exactly|maximum|minimum|budget|strictly|except|exclude|"
    r"no later than|required?|ensure|make sure|keep|preserve|stay|stick to|every|each|no|not|nothing|none|"
    r"cannot|can't|won't|allerg\w*|vegan|vegetarian|kosher|halal|gluten)\b|[$€£]\s?\d|\d+\s?%",
    re.IGNORECASE,
)
# Words that carry no content of their own: a summary may word the rest differently ("nothing may be sent").
_STOP = frozenset(
    "please could would should with that this from into about your have them they then than what when where which "
    "will just also some more most very want need like help find give tell make sure must shall anything nothing "
    "something everything first".split()
)


def _salient(text: str) -> frozenset[str]:
    return frozenset({w.lower().strip("$€£%").rstrip(".,") for w in _WORD.findall(text)} - _STOP)


# A thread's task and instructions are checked against every later call of the thread: split them once.
_salient_words = lru_cache(maxsize=_CACHE_ENTRIES)(_salient)


def constraint_clauses(task: str) -> tuple[str, ...]:
    """The clauses of a request that set a rule the whole conversation must keep ("budget under $500")."""
    return _constraint_clauses(task) if len(task) <= _CACHED_TEXT else _clauses(task)


def _clauses(task: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in _CLAUSE.split(task) if c.strip() and _CONSTRAINT.search(c))


_constraint_clauses = lru_cache(maxsize=_CACHE_ENTRIES)(_clauses)


def missing_constraints(task: str, text: str, *, whole: bool = True) -> list[str]:
    """The clauses of a request that a later input no longer carries, in any wording.

    A compaction that kept the request's constraints ("budget under $500") in its summary keeps the task; one
    that dropped them does not. Without constraint clauses, the request as a whole must be mostly carried
    (unless ``whole`` is false: a later user turn has moved on from an earlier request).
    """
    present = _salient(text)
    constraints = constraint_clauses(task) or ((task,) if whole else ())
    gone = []
    for clause in constraints:
        words = _salient_words(clause) if len(clause) <= _CACHED_TEXT else _salient(clause)
        numbers = {w for w in words if w[:1].isdigit()}
        if not words:
            continue
        kept = len(words & present) / len(words)
        if numbers - present or kept < 0.6:
            gone.append(f"'{short(clause, 60)}'")
    return gone


_TOKEN = re.compile(r"\w+")


def words(value: Any) -> frozenset[str]:
    """The words of a value (a tool's arguments or result), keys of JSON objects left out."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return _text_words(value) if len(value) <= _CACHED_TEXT else _words(value)
    if isinstance(value, dict):
        return frozenset().union(*(words(v) for v in value.values()))
    if isinstance(value, list):
        return frozenset().union(*(words(v) for v in value))
    return words(str(value))


def _words(text: str) -> frozenset[str]:
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            return words(orjson.loads(stripped))
        except orjson.JSONDecodeError:
            pass
    return frozenset(w.lower() for w in _TOKEN.findall(text) if len(w) > 1 or w.isdigit())


_text_words = lru_cache(maxsize=_CACHE_ENTRIES)(_words)


def similarity(a: AbstractSet[str], b: AbstractSet[str]) -> float:
    """Share of words in common (Jaccard): 1.0 for the same words in any order."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


_TRACEBACK = re.compile(r"\s*Traceback \(most recent call last\)", re.IGNORECASE)


def clean_error(text: str) -> str:
    """An error message without the traceback some frameworks append to it."""
    return _TRACEBACK.split(text, maxsplit=1)[0].strip() or text.strip()
