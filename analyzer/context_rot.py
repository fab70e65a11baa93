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
    constraint_clauses,
    contains,
    fingerprint,
    forced_final_answer,
    message_text,
    missing_constraints,
    output_text,
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
    return [
        *_pressure(session, config),
        *_early_context_lost(session),
        *_re_requested(session),
        *_drift(session, config),
    ]


# Share of the pressure threshold from which a filling window is a note.
_NOTE_RATIO = 0.8


def _llm_calls(session: SessionSteps) -> list[AnalysisStep]:
    return [s for s in session.steps if s.step_kind == "llm"]


def _pressure(session: SessionSteps, config: AnalyzerConfig) -> list[Finding]:
    found: list[Finding] = []
    ratio = config.thresholds.context_pressure_ratio
    near: dict[str | None, list[tuple[AnalysisStep, int]]] = defaultdict(list)
    filling: dict[str | None, list[tuple[AnalysisStep, int]]] = defaultdict(list)
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
            recovered = _recovered_by(session, step)
            if recovered is not None:
                # The framework compacted or trimmed the history and the run went on: still a window that
                # overflowed, less urgent. What the compaction kept is judged by early_context_lost.
                why += (
                    f" The run recovered: the next call of the same agent (step {recovered.step_index}) "
                    "went through with a shorter context."
                )
            found.append(
                finding(
                    session,
                    KIND,
                    "context_exceeded",
                    "medium" if recovered is not None else "high",
                    [step, *([recovered] if recovered else [])],
                    f"the model call at step {step.step_index} {why}",
                )
            )
        elif window and step.input_tokens and step.input_tokens >= ratio * window:
            near[step.scope_id or step.agent_name].append((step, window))
        elif window and step.input_tokens and step.input_tokens >= _NOTE_RATIO * ratio * window:
            filling[step.scope_id or step.agent_name].append((step, window))
    for agent, calls in filling.items():
        if agent in near:
            continue
        peak, window = max(calls, key=lambda c: (c[0].input_tokens or 0) / c[1])
        found.append(
            finding(
                session,
                KIND,
                "context_pressure",
                "note",
                [peak],
                f"step {peak.step_index} sent {peak.input_tokens:,} of {window:,} tokens to {peak.model} "
                f"({(peak.input_tokens or 0) / window:.0%} of its window): not yet the {ratio:.0%} that makes a "
                "finding, but the window is filling.",
                anchor=f"filling:{agent}",
            )
        )
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
    calls: list[AnalysisStep] = field(default_factory=list)


# A call is matched against this many of its agent's latest conversation threads: each call of a 20,000-step
# session that shared nothing started a thread of its own, and matching every call against all of them took
# 99 s of the 102 s its analysis took.
RECENT_THREADS = 256


def _same_prompt(a: str, b: str) -> bool:
    return contains(a, b) or contains(b, a)


def _thread_of(
    threads: list[_Thread], system: str, inputs: list[dict[str, Any]], prints: set[str], trace_id: str
) -> _Thread | None:
    """The thread a call continues: the one whose model answers it feeds back (else whose messages it shares),
    under the same system prompt or under none. A call that carries history none of the threads has (a
    compaction's summary before the new request) continues the latest thread under its system prompt."""
    best: tuple[int, int, _Thread] | None = None
    # A different system prompt is a deliberate new conversation (planning, a summary, a final-answer call, a
    # sub-agent given the caller's history under its own instructions): not this thread.
    threads = [t for t in threads if not (system and t.system) or _same_prompt(system, t.system)]
    for t in reversed(threads):
        fed_back, shared = len(prints & t.outputs), len(prints & t.history)
        if shared and (best is None or (fed_back, shared) > best[:2]):
            best = (fed_back, shared, t)
    if best is not None:
        return best[2]
    carried = [m for m in inputs if m.get("role") != "system"]
    if len(carried) >= 2 and any(m.get("role") != "user" for m in carried[:-1]):
        return next((t for t in reversed(threads) if t.system and system), None)
    # A later user turn of the session that carries none of the earlier ones: the history was dropped between
    # turns (a trimming window, a memory reset). The earlier turns' standing rules must still hold.
    return next(
        (t for t in reversed(threads) if t.origin.trace_id != trace_id and bool(t.system) == bool(system)), None
    )


def _recovered_by(session: SessionSteps, failed: AnalysisStep) -> AnalysisStep | None:
    """A later model call of the same agent in the same run that went through (after a context overflow)."""
    if not failed.failed:
        return None
    return next(
        (
            s
            for s in _llm_calls(session)
            if s.step_index > failed.step_index
            and s.trace_id == failed.trace_id
            and (s.scope_id or s.agent_name) == (failed.scope_id or failed.agent_name)
            and not s.failed
            and not forced_final_answer(s)
        ),
        None,
    )


def _early_context_lost(session: SessionSteps) -> list[Finding]:
    """System instructions or the original task, present early and gone later from the same conversation."""
    found: list[Finding] = []
    lineages: dict[str | None, list[AnalysisStep]] = defaultdict(list)
    for step in _llm_calls(session):
        # A forced final answer runs under the framework's own prompt on purpose: a limit, not rot. A span that
        # lost attributes to the SDK's count limit lost its oldest messages there, not in the conversation.
        if step.input_messages is not None and not forced_final_answer(step) and not step.dropped_attributes:
            # One lineage per agent across the session's turns: a later turn may carry the earlier ones compacted.
            lineages[step.agent_name or step.scope_id].append(step)
    for calls in lineages.values():
        threads: list[_Thread] = []
        switches: list[tuple[_Thread, _Thread]] = []
        for call in calls:
            inputs = call.input_messages or []
            prints = {fingerprint(m) for m in inputs if m.get("role") != "system"}
            system = system_text(call.system_instructions, inputs)
            recent = threads[-RECENT_THREADS:]
            thread = _thread_of(recent, system, inputs, prints, call.trace_id)
            if thread is None:
                replaced = next((t for t in reversed(recent) if prints & t.history), None)
                thread = _Thread(call, system, next(role_texts(inputs, "user"), ""))
                threads.append(thread)
                if replaced is not None:
                    # The conversation goes on (its messages carried over) under another system prompt.
                    switches.append((replaced, thread))
            else:
                lost = _lost(thread, system, inputs, same_run=call.trace_id == thread.origin.trace_id)
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
            thread.calls.append(call)
        found += _instructions_replaced(session, switches)
    return found


def _instructions_replaced(session: SessionSteps, switches: list[tuple[_Thread, _Thread]]) -> list[Finding]:
    """A conversation carried on for good under other system instructions that lack the rules of the first ones
    (a callback that swaps the prompt to save tokens). A one-off call under its own prompt (a plan, a summary, a
    final answer) hands back to the first instructions, and is not this."""
    found: list[Finding] = []
    for before, after in switches:
        resumed = any(c.start_time_unix_nano > after.origin.start_time_unix_nano for c in before.calls)
        if resumed or len(after.calls) < 2 or not before.system:
            continue
        carried = after.system + "\n" + "\n".join(message_text(m) for m in after.origin.input_messages or [])
        missing = missing_constraints(before.system, carried, whole=False)
        # A shorter prompt that kept some of the rules was written with them in mind; one that kept none lost them.
        if not missing or len(missing) < len(constraint_clauses(before.system)):
            continue
        found.append(
            finding(
                session,
                KIND,
                "early_context_lost",
                "high",
                [before.origin, after.origin],
                f"from step {after.origin.step_index} on, the conversation went on under other system "
                f"instructions than those of step {before.origin.step_index}, without their rules "
                f"({'; '.join(missing)}): the instructions were replaced while the work continued.",
                anchor=f"replaced:{after.origin.span_id}",
            )
        )
    return found


def _lost(thread: _Thread, system: str, inputs: list[dict[str, Any]], *, same_run: bool) -> list[str]:
    """What the thread's start had and this call lacks. In a later user turn the first request itself may be
    done with: only its standing rules (constraints) must still be there."""
    lost: list[str] = []
    if thread.system and not system and "system" not in thread.reported:
        lost.append(f"the system instructions ('{short(thread.system, 70)}')")
        thread.reported.add("system")
    text = "\n".join(message_text(m) for m in inputs)
    if thread.task and "task" not in thread.reported and not contains(text, thread.task):
        missing = missing_constraints(thread.task, text, whole=same_run)
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


# The agent asking the user for something: "Could you share your account number?", "What is your order id?"
_ASKS = re.compile(
    r"\b((could|can|would) you (please )?(share|provide|give|send|tell|confirm|remind)|please (share|provide|give|"
    r"send|tell|confirm)|what(?:'s| is) (?:your|the)|may i (have|ask)|i(?:'ll| will)? need (?:your|the)|"
    r"(which|what) [a-z-]+(?: [a-z-]+)? (should|do|does|can|shall|is|are))\b",
    re.IGNORECASE,
)
_ASKED_FOR = re.compile(r"\b(?:your|the|which|what)\s+((?:[a-z][a-z-]+\s*){1,3})", re.IGNORECASE)
_NOT_THE_THING = frozenset(
    "please first again exact full correct current that which what for you your should would could can shall "
    "does are the new send give tell share provide confirm".split()
)
_DIGIT = re.compile(r"\d")


def _has_value(text: str) -> bool:
    """Whether a user message gives a value (a number, an id with digits, an email address). The cheap tests
    first: the pattern alone retried every word at every letter, 67 µs a message on agent traffic."""
    return _DIGIT.search(text) is not None or ("@" in text and _EMAIL.search(text) is not None)


def _asked_for(text: str) -> set[str]:
    """What a question asks the user for ("account number"), or nothing if it asks for nothing."""
    wanted: set[str] = set()
    for sentence in re.split(r"(?<=[.?!])\s+", text):
        if "?" not in sentence or not _ASKS.search(sentence):
            continue
        for match in _ASKED_FOR.finditer(sentence):
            wanted |= {w.lower() for w in match.group(1).split() if len(w) > 2} - _NOT_THE_THING
    return wanted


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_PHONE = re.compile(r"\+?\d[\d ()-]{6,}\d")


def _gave(wanted: set[str], text: str) -> bool:
    """Whether a user message gave what is asked for: named ("account 887139"), or recognisable by its form (an
    email address given without saying "email")."""
    if wanted & {w.lower() for w in re.findall(r"[A-Za-z]+", text)}:
        return True
    if wanted & {"email", "e-mail", "mail"} and _EMAIL.search(text):
        return True
    return bool(wanted & {"phone", "mobile", "telephone"} and _PHONE.search(text))


def _said(call: AnalysisStep) -> str:
    """What a model call said to the user: its text, or the answer it gave through a final-answer tool."""
    texts = [output_text(call.output_messages)]
    for message in call.output_messages or []:
        for part in message.get("parts") or []:
            if isinstance(part, dict) and part.get("type") == "tool_call" and part.get("name") == "final_answer":
                arguments = part.get("arguments")
                answer = arguments.get("answer") if isinstance(arguments, dict) else arguments
                texts.append(answer if isinstance(answer, str) else "")
    return "\n".join(t for t in texts if t)


def _re_requested(session: SessionSteps) -> list[Finding]:
    """The agent asks the user again for something the user gave earlier in the session (an account number, an
    order id), which has fallen out of what the model sees: the conversation lost it."""
    found: list[Finding] = []
    given: list[tuple[AnalysisStep, str]] = []  # (first call that saw it, a user message with a value in it)
    seen: set[str] = set()
    for call in _llm_calls(session):
        if call.input_messages is None or call.dropped_attributes:
            continue
        inputs = "\n".join(message_text(m) for m in call.input_messages)
        wanted = _asked_for(_said(call))
        if wanted:
            earlier = next(
                (
                    (step, text)
                    for step, text in given
                    if step.trace_id != call.trace_id and _gave(wanted, text) and not contains(inputs, text)
                ),
                None,
            )
            if earlier is not None:
                step, text = earlier
                found.append(
                    finding(
                        session,
                        KIND,
                        "re_requested",
                        "medium",
                        [step, call],
                        f"at step {call.step_index} the agent asked the user for the {' '.join(sorted(wanted))} "
                        f"again, which the user had given earlier ('{short(text, 80)}', seen at step "
                        f"{step.step_index}); it is no longer in what the model sees.",
                        anchor=f"reask:{call.span_id}",
                    )
                )
                break
        for text in role_texts(call.input_messages, "user"):
            if text not in seen and _has_value(text):
                seen.add(text)
                given.append((call, text))
    return found
