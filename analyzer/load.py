"""Reads sessions for the detectors through SQL over the documented views.

The same queries run on the collector's own store (in the collector and `stepseven analyze --db`)
and through the query API (`--url`), so every path sees a session the same way.
"""

from __future__ import annotations

import bisect
import functools
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import orjson

from analyzer.model import AgentNorm, AnalysisHandoff, AnalysisStep, SessionSteps

# Runs one parameterized SELECT (values bound to ``$1, $2, ...``), returns its rows.
Reader = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]

# Columns of the `steps` view the detectors read, in AnalysisStep's order (JSON as text for every backend).
STEP_COLUMNS = """
    step_index, span_id, trace_id, parent_step_index, depth, step_kind, operation, name, agent_name, scope_id,
    tool_name, tool_call_id, CAST(tool_arguments AS VARCHAR), CAST(tool_result AS VARCHAR),
    CAST(input_messages AS VARCHAR), CAST(output_messages AS VARCHAR), CAST(system_instructions AS VARCHAR),
    request_model, response_model, input_tokens, output_tokens, CAST(finish_reasons AS VARCHAR), status,
    error_type, error_message, handoff_from, handoff_to, start_time_unix_nano, end_time_unix_nano,
    parent_span_id, kind, CAST(links AS VARCHAR), dropped_attributes_count"""

# (view, session_ids, columns) -> rows of ``SELECT {columns} FROM {view}`` for those sessions, ordered by
# session and index: many sessions in one go (the collector's store has a faster path than the view).
SessionRowsReader = Callable[[str, Sequence[str], str], list[tuple[Any, ...]]]

HANDOFF_COLUMNS = """handoff_index, from_agent, to_agent, mechanism, outcome, error_message, delegating_step_index,
    target_step_index, CAST(payload AS VARCHAR)"""

# Per session of each root agent: steps taken and tokens spent (what "usual" is measured against).
# From the sessions view alone (one row per session), so it is cheap enough to read on every run.
_USAGE_SQL = """
SELECT root_agent, session_id, step_count, input_tokens + output_tokens
FROM sessions WHERE root_agent IS NOT NULL
"""


# What instrumentations write in place of content when its capture is off: no content, not the same content.
_WITHHELD = frozenset({"__REDACTED__", "<REDACTED>", "<redacted>", "[REDACTED]"})


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = text
    return None if isinstance(value, str) and value.strip() in _WITHHELD else value


def _withheld(message: dict[str, Any]) -> bool:
    parts = message.get("parts")
    return isinstance(parts, list) and all(
        isinstance(p, dict) and p.get("type") == "text" and str(p.get("content", "")).strip() in _WITHHELD
        for p in parts
    )


def _messages(text: str | None) -> list[dict[str, Any]] | None:
    value = _json(text)
    if value is None:
        return None
    if isinstance(value, list):
        messages = [m for m in value if isinstance(m, dict)]
        # Every message withheld (OpenInference's hide_inputs, Strands' redaction): the content is unknown.
        spoken = [m for m in messages if m.get("parts")]
        if spoken and all(_withheld(m) for m in spoken):
            return None
        _share_texts(messages)
        return messages
    return [{"role": "user", "parts": [{"type": "text", "content": sys.intern(str(value))}]}]


def _share_texts(messages: list[dict[str, Any]]) -> None:
    """One copy of each text: every model call repeats the conversation so far, so a long session's
    messages are mostly the same texts again, each parsed anew from its own row."""
    for message in messages:
        parts = message.get("parts")
        if isinstance(parts, list):
            for part in parts:
                if isinstance(part, dict) and type(part.get("content")) is str:
                    part["content"] = sys.intern(part["content"])


def _error_in_result(result: Any) -> tuple[str, str] | None:
    """A tool failure a framework handed back to the model as the result, with the span left unmarked
    (Google ADK's ReflectAndRetryToolPlugin): (error type, message)."""
    if isinstance(result, dict) and str(result.get("response_type", "")).startswith("ERROR_HANDLED"):
        return str(result.get("error_type") or "error"), str(result.get("error_details") or result.get("error_type"))
    return None


def _step(row: tuple[Any, ...]) -> AnalysisStep:
    (
        step_index, span_id, trace_id, parent, depth, step_kind, operation, name, agent, scope,
        tool_name, tool_call_id, arguments, result, inputs, outputs, system,
        request_model, response_model, input_tokens, output_tokens, finish, status,
        error_type, error_message, handoff_from, handoff_to, start, end, parent_span_id, kind, links, dropped,
    ) = row  # fmt: skip
    reasons = _json(finish)
    link_list = _json(links)
    tool_result = _json(result)
    handled = _error_in_result(tool_result) if status != "error" else None
    if handled is not None:
        status, (error_type, error_message) = "error", handled
    return AnalysisStep(
        step_index=int(step_index),
        span_id=span_id,
        trace_id=trace_id,
        parent_step_index=parent,
        depth=int(depth),
        step_kind=step_kind,
        operation=operation,
        name=name,
        agent_name=agent,
        scope_id=scope,
        tool_name=tool_name,
        tool_call_id=tool_call_id,
        tool_arguments=_json(arguments),
        tool_result=tool_result,
        input_messages=_messages(inputs),
        output_messages=_messages(outputs),
        system_instructions=_json(system),
        request_model=request_model,
        response_model=response_model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        finish_reasons=[str(r) for r in reasons] if isinstance(reasons, list) else [],
        status=status,
        error_type=error_type,
        error_message=error_message,
        handoff_from=handoff_from,
        handoff_to=handoff_to,
        start_time_unix_nano=int(start),
        end_time_unix_nano=int(end),
        parent_span_id=parent_span_id,
        span_kind=kind,
        link_count=len(link_list) if isinstance(link_list, list) else 0,
        dropped_attributes=int(dropped or 0),
    )


class RowsOfStore(Protocol):
    def session_rows(
        self, view: str, session_ids: Sequence[str], columns: str, *, unchecked_json: bool = ...
    ) -> list[tuple[Any, ...]]: ...


def rows_of_store(store: RowsOfStore) -> SessionRowsReader:
    """Session rows through a store's own fast path, its message columns as unchecked text: ``_json`` parses
    each once and keeps what does not parse as text, as the view would have."""
    return functools.partial(store.session_rows, unchecked_json=True)


def rows_by_sql(read: Reader) -> SessionRowsReader:
    """Session rows through plain SQL over the views (the query API's path)."""

    def rows_of(view: str, session_ids: Sequence[str], columns: str) -> list[tuple[Any, ...]]:
        order = {"steps": "step_index", "handoffs": "handoff_index"}[view]
        marks = ", ".join(f"${i}" for i in range(1, len(session_ids) + 1))  # read alike by DuckDB and PostgreSQL
        sql = f"SELECT {columns} FROM {view} WHERE session_id IN ({marks}) ORDER BY session_id, {order}"
        return read(sql, list(session_ids))

    return rows_of


# Sessions read at a time: one read of 50 sessions' steps stays within a few tens of MB of DuckDB
# memory, which the collector's ingest shares.
SESSIONS_PER_READ = 50
# The collector's analyzer knows the sessions' sizes and reads by steps instead: up to 2,000 steps a read
# (a long session alone), 500 sessions at most. Each read has a fixed cost (a join over the raw spans'
# rowid windows): 50 sessions of 7 steps a read cost 4.7 ms a session, 300 of them 1.9 ms.
STEPS_PER_READ = 2000
SESSIONS_PER_RUN = 500


def reads_by_steps(step_counts: dict[str, int], steps_per_read: int = STEPS_PER_READ) -> list[list[str]]:
    """The sessions in groups of at most ``steps_per_read`` steps (a larger session alone), in order."""
    groups: list[list[str]] = []
    steps = steps_per_read
    for session, count in step_counts.items():
        if steps + count > steps_per_read:
            groups.append([])
            steps = 0
        groups[-1].append(session)
        steps += count
    return groups


def iter_sessions(rows_of: SessionRowsReader, session_ids: Sequence[str]) -> Iterator[SessionSteps]:
    """Every session, read SESSIONS_PER_READ at a time."""
    for start in range(0, len(session_ids), SESSIONS_PER_READ):
        yield from load_sessions(rows_of, session_ids[start : start + SESSIONS_PER_READ])


def load_sessions(rows_of: SessionRowsReader, session_ids: Sequence[str]) -> list[SessionSteps]:
    """Many sessions, each view read once for all of them."""
    sessions = {session_id: SessionSteps(session_id, []) for session_id in session_ids}
    rows = rows_of("steps", session_ids, f"session_id, {STEP_COLUMNS}")
    # Each row's text is let go once it is parsed: a 10,000-step session's messages as text and parsed
    # would otherwise be held twice over at the peak.
    rows.reverse()
    while rows:
        row = rows.pop()
        sessions[row[0]].steps.append(_step(row[1:]))
    for row in rows_of("handoffs", session_ids, f"session_id, {HANDOFF_COLUMNS}"):
        sessions[row[0]].handoffs.append(_handoff(row[1:]))
    return list(sessions.values())


def _handoff(row: tuple[Any, ...]) -> AnalysisHandoff:
    return AnalysisHandoff(
        handoff_index=row[0],
        from_agent=row[1],
        to_agent=row[2],
        mechanism=row[3],
        outcome=row[4],
        error_message=row[5],
        delegating_step_index=row[6],
        target_step_index=row[7],
        payload=_json(row[8]),
    )


class Norms:
    """Each root agent's usual steps and tokens per session, over the sessions stored so far."""

    def __init__(self, read: Reader) -> None:
        self._usage: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
        for agent, session, steps, tokens in read(_USAGE_SQL, []):
            self._usage[agent][session] = (int(steps), int(tokens or 0))
        self._sorted = {
            agent: (sorted(u[0] for u in sessions.values()), sorted(u[1] for u in sessions.values()))
            for agent, sessions in self._usage.items()
        }

    def for_session(self, session_id: str) -> dict[str, AgentNorm]:
        """Norms from every other session, so a session is never compared with itself."""
        norms: dict[str, AgentNorm] = {}
        for agent, sessions in self._usage.items():
            steps, tokens = self._sorted[agent]
            own = sessions.get(session_id)
            others = len(steps) - (1 if own else 0)
            if others:
                norms[agent] = AgentNorm(
                    sessions=others,
                    median_steps=_median_without(steps, own[0] if own else None),
                    median_tokens=_median_without(tokens, own[1] if own else None),
                )
        return norms


def _median_without(ordered: list[int], value: int | None) -> float:
    """The median of a sorted list with one occurrence of ``value`` left out, without copying it."""
    skip = bisect.bisect_left(ordered, value) if value is not None else len(ordered)
    n = len(ordered) - (1 if value is not None else 0)

    def at(i: int) -> int:
        return ordered[i + 1 if i >= skip else i]

    return float(at(n // 2)) if n % 2 else (at(n // 2 - 1) + at(n // 2)) / 2


def session_ids(read: Reader) -> list[str]:
    return [row[0] for row in read("SELECT session_id FROM sessions ORDER BY first_time_unix_nano", [])]
