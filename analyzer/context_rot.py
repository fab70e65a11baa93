"""Context rot: the context window filling up, early context falling out of it, long sessions degrading."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from analyzer.config import AnalyzerConfig
from analyzer.content import (
    around,
    canonical,
    contains,
    fingerprint,
    forced_final_answer,
    message_text,
    missing_constraints,
    role_texts,
    short,
    system_text,
)
from analyzer.model import AnalysisStep, Finding, SessionSteps, finding, step_range

KIND = "context_rot"

# Provider errors when the prompt does not fit (OpenAI, Anthropic, Gemini, Bedrock, vLLM, LiteLLM...).
_TOO_LONG = re.compile(
    r"context[_ ]length[_ ]exceeded|maximum context length|context window|prompt is too long|input is too long"
    r"|too many (input )?tokens|exceeds the (model's )?(maximum|max)|ContextWindowExceeded|reduce the length",
    re.IGNORECASE,
)
_CUT_OFF = {"length", "max_tokens", "model_length", "max_output_tokens"}


def detect(session: SessionSteps, config: AnalyzerConfig) -> list[Finding]:
    return [*_pressure(session, config), *_early_context_lost(session), *_drift(session, config)]


def _llm_calls(session: SessionSteps) -> list[AnalysisStep]:
    return [s for s in session.steps if s.step_kind == "llm"]


def _pressure(session: SessionSteps, config: AnalyzerConfig) -> list[Finding]:
    found: list[Finding] = []
    ratio = config.thresholds.context_pressure_ratio
    near: dict[str | None, list[tuple[AnalysisStep, int]]] = defaultdict(list)
    for step in _llm_calls(session):
        window = config.context_window(step.model)
        error = step.error_message or step.error_type or ""
        used = (step.input_tokens or 0) + (step.output_tokens or 0)
        why = None
        if error and _TOO_LONG.search(error):
            why = f"was refused because the context was too long: '{around(error, _TOO_LONG)}'."
        elif window and _CUT_OFF & {r.lower() for r in step.finish_reasons} and used >= 0.8 * window:
            why = (
                f"ran out of room: {used:,} of {window:,} tokens of {step.model}'s window, and its answer was cut "
                f"off (finish reason {', '.join(step.finish_reasons)})."
            )
        if why is not None:
            found.append(
                finding(
                    session, KIND, "context_exceeded", "high", [step], f"the model call at step {step.step_index} {why}"
                )
            )
        elif window and step.input_tokens and step.input_tokens >= ratio * window:
            near[step.scope_id or step.agent_name].append((step, window))
    for agent, calls in near.items():
        peak, window = max(calls, key=lambda c: (c[0].input_tokens or 0) / c[1])
        share = (peak.input_tokens or 0) / window
        found.append(
            finding(
                session,
                KIND,
                "context_pressure",
                "high" if share >= 0.98 else "medium",
                [c[0] for c in calls],
                f"{len(calls)} model call{'s' if len(calls) > 1 else ''} of "
                f"{f'`{peak.agent_name}`' if peak.agent_name else 'the agent'} used {ratio:.0%} or more of the "
                f"context window ({step_range([c[0] for c in calls])}); the fullest, step {peak.step_index}, sent "
                f"{peak.input_tokens:,} of {window:,} tokens ({share:.0%}) to {peak.model}. Quality drops as "
                "the window fills; summarize or trim the history.",
                anchor=f"pressure:{agent}",
            )
        )
    return found


@dataclass(slots=True)
class _Thread:
    """One conversation an agent keeps with its model: a system prompt, a first request, and what came back."""

    origin: AnalysisStep
    system: str
    task: str
    history: set[str] = field(default_factory=set)
    outputs: set[str] = field(default_factory=set)
    reported: set[str] = field(default_factory=set)


def _same_prompt(a: str, b: str) -> bool:
    return contains(a, b) or contains(b, a)


def _thread_of(threads: list[_Thread], system: str, prints: set[str]) -> _Thread | None:
    """The thread a call continues: the one whose model answers it feeds back (else whose messages it shares),
    under the same system prompt or under none."""
    best: tuple[int, int, _Thread] | None = None
    for t in reversed(threads):
        fed_back, shared = len(prints & t.outputs), len(prints & t.history)
        if not shared or (system and t.system and not _same_prompt(system, t.system)):
            # A different system prompt is a deliberate new conversation (planning, a final-answer call, a
            # sub-agent given the caller's history under its own instructions): not this thread.
            continue
        if best is None or (fed_back, shared) > best[:2]:
            best = (fed_back, shared, t)
    return best[2] if best else None


def _early_context_lost(session: SessionSteps) -> list[Finding]:
    """System instructions or the original task, present early and gone later from the same conversation."""
    found: list[Finding] = []
    lineages: dict[str | None, list[AnalysisStep]] = defaultdict(list)
    for step in _llm_calls(session):
        # A forced final answer runs under the framework's own prompt on purpose: a limit, not rot. A span that
        # lost attributes to the SDK's count limit lost its oldest messages there, not in the conversation.
        if step.input_messages is not None and not forced_final_answer(step) and not step.dropped_attributes:
            lineages[step.scope_id or step.agent_name].append(step)
    for calls in lineages.values():
        threads: list[_Thread] = []
        for call in calls:
            inputs = call.input_messages or []
            prints = {fingerprint(m) for m in inputs if m.get("role") != "system"}
            system = system_text(call.system_instructions, inputs)
            thread = _thread_of(threads, system, prints)
            if thread is None:
                thread = _Thread(call, system, next(role_texts(inputs, "user"), ""))
                threads.append(thread)
            else:
                lost = _lost(thread, system, inputs)
                if lost:
                    found.append(
                        finding(
                            session,
                            KIND,
                            "early_context_lost",
                            "high" if len(lost) == 2 else "medium",
                            [thread.origin, call],
                            f"{' and '.join(lost)} were in the input of step {thread.origin.step_index} but are "
                            f"missing from step {call.step_index}, which continues the same conversation: the "
                            "history was truncated or compacted without them.",
                            anchor=f"lost:{call.span_id}",
                        )
                    )
            thread.history |= prints
            answers = {fingerprint(m) for m in call.output_messages or []}
            thread.history |= answers
            thread.outputs |= answers
    return found


def _lost(thread: _Thread, system: str, inputs: list[dict[str, Any]]) -> list[str]:
    lost: list[str] = []
    if thread.system and not system and "system" not in thread.reported:
        lost.append(f"the system instructions ('{short(thread.system, 70)}')")
        thread.reported.add("system")
    text = "\n".join(message_text(m) for m in inputs)
    if thread.task and "task" not in thread.reported and not contains(text, thread.task):
        missing = missing_constraints(thread.task, text)
        if missing:
            lost.append(f"the original task ('{short(thread.task, 70)}'; gone: {'; '.join(missing)})")
            thread.reported.add("task")
    return lost


def _agent_time_mark(session: SessionSteps, limit_ns: float) -> int | None:
    """The wall-clock time at which the agents had worked ``limit_ns`` (idle gaps between runs excluded)."""
    tops = sorted(
        ((s.start_time_unix_nano, s.end_time_unix_nano) for s in session.steps if s.depth == 0),
    ) or sorted((s.start_time_unix_nano, s.end_time_unix_nano) for s in session.steps)
    worked = 0.0
    cursor = None
    for start, end in tops:
        start = max(start, cursor) if cursor is not None else start
        if end <= start:
            continue
        if worked + (end - start) >= limit_ns:
            return int(start + (limit_ns - worked))
        worked += end - start
        cursor = end
    return None


def _drift(session: SessionSteps, config: AnalyzerConfig) -> list[Finding]:
    minutes = config.thresholds.long_session_minutes
    mark = _agent_time_mark(session, minutes * 60e9)
    if mark is None:
        return []
    work = [s for s in session.steps if s.step_kind in ("llm", "tool")]
    early = [s for s in work if s.start_time_unix_nano < mark]
    late = [s for s in work if s.start_time_unix_nano >= mark]
    if not late:
        return []
    degraded: list[AnalysisStep] = []
    reasons: list[str] = []
    early_rate = sum(s.failed for s in early) / len(early) if early else 0.0
    late_errors = [s for s in late if s.failed]
    late_rate = len(late_errors) / len(late)
    if len(late_errors) >= 2 and late_rate >= early_rate + 0.15:
        degraded += late_errors
        reasons.append(f"errors rose from {early_rate:.0%} to {late_rate:.0%} of steps")
    answered: set[tuple[str | None, str]] = set()
    repeats: list[AnalysisStep] = []
    for step in work:
        if step.step_kind != "tool":
            continue
        key = (step.tool_name, canonical(step.tool_arguments))
        if key in answered and step.start_time_unix_nano >= mark:
            repeats.append(step)
        if not step.failed:
            answered.add(key)
    if repeats:
        degraded += repeats
        names = ", ".join(sorted({f"`{s.tool_name}`" for s in repeats}))
        reasons.append(f"{len(repeats)} calls asked again for what earlier calls had already returned ({names})")
    if len(degraded) < config.thresholds.drift_min_signals:
        return []
    crossing = next((s for s in session.steps if s.start_time_unix_nano >= mark), late[0])
    evidence = sorted({s.step_index: s for s in [crossing, *degraded]}.values(), key=lambda s: s.step_index)
    return [
        finding(
            session,
            KIND,
            "long_session_drift",
            "medium",
            evidence,
            f"the agents had worked {minutes:g} minutes by step {crossing.step_index}, and after that the "
            f"session degraded: {'; '.join(reasons)} ({step_range(degraded)}).",
            anchor="drift",
        )
    ]
