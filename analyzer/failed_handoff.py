"""Failed handoffs: work handed to another agent that failed, never came back, or never arrived."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable

from analyzer import runaway_loop
from analyzer.config import AnalyzerConfig
from analyzer.content import (
    acknowledges_trouble,
    canonical,
    clean_error,
    contains,
    forced_final_answer,
    is_empty,
    looks_like_error,
    message_text,
    output_text,
    role_texts,
    short,
)
from analyzer.model import AnalysisHandoff, AnalysisStep, Finding, SessionSteps, finding
from analyzer.runaway_loop import limit_reason, limit_stops

KIND = "failed_handoff"

# Mechanisms where the caller waits for the other agent's answer; a handoff proper passes control for good.
_RETURNING = ("agent_as_tool", "remote_agent")
_A2A = {"task_failed": "failed", "task_rejected": "rejected", "task_canceled": "canceled"}


def detect(session: SessionSteps, config: AnalyzerConfig) -> list[Finding]:
    found: list[Finding] = _never_delegated(session)
    if not found:
        found = _claimed_handoff(session)
    stops = limit_stops(session)
    # The session's loops, found once and only if a hand-off needs them (a limit above its target).
    loops = functools.cache(
        lambda: [
            set(f.step_indexes)
            for f in runaway_loop.detect(session, config)
            if f.severity != "note" and f.sub_kind != "limit_reached"
        ]
    )
    cut_short = functools.partial(_cut_short, stops=stops, loops=loops)
    for handoff in session.handoffs:
        delegating = session.step(handoff.delegating_step_index)
        target = session.step(handoff.target_step_index)
        evidence = [s for s in (delegating, target) if s is not None]
        if not evidence:
            continue
        if handoff.to_agent is None:
            handoff = dataclasses.replace(handoff, to_agent=_named_target(session, delegating))
        who = _who(handoff)
        failure = _failure(session, handoff, who, evidence)
        if failure is not None:
            retry = _retried(session, handoff)
            if retry is not None:
                # The caller delegated the same work again and it went through: shown, not a finding.
                failure = dataclasses.replace(
                    failure,
                    severity="note",
                    explanation=f"{failure.explanation} The caller tried again and the hand-off at step "
                    f"{retry.delegating_step_index or retry.target_step_index} went through.",
                )
            found.append(failure)
            continue
        for check in (
            _not_awaited,
            _ended_on_a_call,
            _result_unused,
            cut_short,
            _empty_answer,
            _redone_by_caller,
            _slow,
            _context_not_propagated,
            _empty_payload,
            _lost_or_mistaken,
        ):
            result = check(session, config, handoff, delegating, target, who)
            if result is not None:
                found.append(result)
    return found


def _retried(session: SessionSteps, failed: AnalysisHandoff) -> AnalysisHandoff | None:
    """A later hand-off of the same caller to the same agent that completed."""
    return next(
        (
            h
            for h in session.handoffs
            if h.handoff_index > failed.handoff_index
            and h.outcome == "completed"
            and h.from_agent == failed.from_agent
            and h.to_agent == failed.to_agent
            and failed.to_agent is not None
        ),
        None,
    )


def _who(handoff: AnalysisHandoff) -> str:
    source = f"`{handoff.from_agent}`" if handoff.from_agent else "an agent"
    target = f"`{handoff.to_agent}`" if handoff.to_agent else "another agent"
    return f"{source} → {target}"


def _failure(session: SessionSteps, handoff: AnalysisHandoff, who: str, evidence: list[AnalysisStep]) -> Finding | None:
    error = f": {short(clean_error(handoff.error_message), 160)}" if handoff.error_message else ""
    outcome = handoff.outcome
    if outcome in _A2A:
        return finding(
            session,
            KIND,
            outcome,
            "high",
            evidence,
            f"handoff {who} ({handoff.mechanism}): the remote agent's task was {_A2A[outcome]}{error}.",
        )
    if outcome == "target_failed":
        return finding(
            session,
            KIND,
            "target_failed",
            "high",
            evidence,
            f"handoff {who}: the agent that took the work failed{error}. Nothing it did reached the caller.",
        )
    forced = _forced_answer_of(session, handoff) if outcome == "completed" else None
    if forced is not None:
        return finding(
            session,
            KIND,
            "target_failed",
            "high",
            [*evidence, forced],
            f"handoff {who}: the agent that took the work ran out of steps, and its framework made it answer at "
            f"step {forced.step_index}. What reached the caller is that forced answer, not the work.",
        )
    if outcome == "failed":
        return finding(
            session,
            KIND,
            "delegation_failed",
            "high",
            evidence,
            f"handoff {who}: the delegating step failed{error}.",
        )
    if outcome == "target_not_started":
        step = evidence[0]
        failed = next(
            (s for s in _ancestors(session, step) if s.failed and s.error_message),
            None,
        )
        why = ""
        if failed is not None:
            why = f" The run failed with: '{short(failed.error_message or '', 160)}' (step {failed.step_index})."
        target = f"`{handoff.to_agent}`" if handoff.to_agent else "the target"
        return finding(
            session,
            KIND,
            "target_not_started",
            "high",
            [*evidence, *([failed] if failed else [])],
            f"handoff {who} at step {step.step_index}, but {target} never started: no step of it arrived in this "
            f"session.{why}",
        )
    return None


def _forced_answer_of(session: SessionSteps, handoff: AnalysisHandoff) -> AnalysisStep | None:
    """The forced final answer (the target ran out of steps) inside the target agent's run, if any."""
    target = session.step(handoff.target_step_index)
    if target is None:
        return None
    return next(
        (
            s
            for s in session.steps
            if s.step_index > target.step_index and forced_final_answer(s) and target in _ancestors(session, s)[1:]
        ),
        None,
    )


def _ancestors(session: SessionSteps, step: AnalysisStep) -> list[AnalysisStep]:
    chain = [step]
    parent = session.step(step.parent_step_index)
    while parent is not None and len(chain) < 1000:
        chain.append(parent)
        parent = session.step(parent.parent_step_index)
    return chain


def _named_target(session: SessionSteps, delegating: AnalysisStep | None) -> str | None:
    """The target a failed handoff was meant for, from the transfer tool the model called just before it."""
    if delegating is None:
        return None
    for step in reversed(session.steps[: delegating.step_index - 1]):
        if step.step_kind == "llm" and step.agent_name == delegating.agent_name:
            for message in step.output_messages or []:
                for part in message.get("parts") or []:
                    if not isinstance(part, dict) or part.get("type") != "tool_call":
                        continue
                    name = str(part.get("name") or "")
                    if name.startswith("transfer_to_"):
                        return name[len("transfer_to_") :]
            return None
    return None


def _slow(
    session: SessionSteps,
    config: AnalyzerConfig,
    handoff: AnalysisHandoff,
    delegating: AnalysisStep | None,
    target: AnalysisStep | None,
    who: str,
) -> Finding | None:
    if handoff.mechanism not in _RETURNING or target is None:
        return None
    seconds = (target.end_time_unix_nano - target.start_time_unix_nano) / 1e9
    if seconds <= config.thresholds.handoff_answer_seconds:
        return None
    evidence = [s for s in (delegating, target) if s]
    return finding(
        session,
        KIND,
        "no_answer_in_time",
        "medium",
        evidence,
        f"handoff {who}: the other agent took {seconds / 60:.1f} minutes to answer (limit "
        f"{config.thresholds.handoff_answer_seconds / 60:g} minutes), steps {target.step_index} onward.",
    )


def _context_not_propagated(
    session: SessionSteps,
    config: AnalyzerConfig,
    handoff: AnalysisHandoff,
    delegating: AnalysisStep | None,
    target: AnalysisStep | None,
    who: str,
) -> Finding | None:
    if handoff.mechanism != "remote_agent" or delegating is None or target is None:
        return None
    if target.trace_id == delegating.trace_id or target.parent_span_id or target.link_count:
        return None
    return finding(
        session,
        KIND,
        "context_not_propagated",
        "low",
        [delegating, target],
        f"handoff {who}: the remote agent's spans arrived as a separate trace with no parent and no link "
        f"(step {target.step_index}), so its work cannot be tied to the call at step {delegating.step_index}. "
        "Propagate the W3C traceparent header on the call to the remote agent.",
    )


def _first_llm(session: SessionSteps, under: AnalysisStep) -> AnalysisStep | None:
    """The first LLM call of the agent that started at ``under``."""
    for step in session.steps:
        if step.step_index > under.step_index and step.step_kind == "llm" and step.agent_name == under.agent_name:
            return step
    return None


def _empty_payload(
    session: SessionSteps,
    config: AnalyzerConfig,
    handoff: AnalysisHandoff,
    delegating: AnalysisStep | None,
    target: AnalysisStep | None,
    who: str,
) -> Finding | None:
    if target is None:
        return None
    first = _first_llm(session, target)
    if first is None or first.input_messages is None:
        return None  # content not recorded: nothing to judge
    if any(role_texts(first.input_messages, "user")):
        return None
    if handoff.mechanism in _RETURNING and not is_empty(handoff.payload):
        return None
    evidence = [s for s in (delegating, target, first) if s]
    what = "an empty payload" if is_empty(handoff.payload) else "no task"
    return finding(
        session,
        KIND,
        "empty_payload",
        "high",
        evidence,
        f"handoff {who} passed {what}: the first model call of {handoff.to_agent or 'the target'} "
        f"(step {first.step_index}) had no user request to work on.",
    )


def _not_awaited(
    session: SessionSteps,
    config: AnalyzerConfig,
    handoff: AnalysisHandoff,
    delegating: AnalysisStep | None,
    target: AnalysisStep | None,
    who: str,
) -> Finding | None:
    """Fire and forget: the call meant to return the other agent's answer returned before that agent finished,
    and the caller never took another step once it had (no later call that could have fetched the result).
    Times only: holds with content off."""
    if handoff.mechanism not in _RETURNING or delegating is None or target is None:
        return None
    if target.trace_id != delegating.trace_id:
        return None  # another process's clock: its times cannot be set against the caller's
    if target.end_time_unix_nano <= delegating.end_time_unix_nano:
        return None
    caller = delegating.agent_name or handoff.from_agent
    if any(
        s.agent_name == caller and s.start_time_unix_nano >= target.end_time_unix_nano
        for s in session.steps
        if s is not delegating
    ):
        return None  # the caller came back after the work was done (a status check, a later turn)
    return finding(
        session,
        KIND,
        "result_never_returned",
        "high",
        [delegating, target],
        f"handoff {who}: {delegating.label} (step {delegating.step_index}) returned "
        f"{(target.end_time_unix_nano - delegating.end_time_unix_nano) / 1e9:.1f} s before "
        f"`{handoff.to_agent or 'the other agent'}` finished (step {target.step_index}), and "
        f"`{caller or 'the caller'}` never took another step after that: the work was started, not awaited, "
        "and its result reached no one.",
    )


def _ended_on_a_call(
    session: SessionSteps,
    config: AnalyzerConfig,
    handoff: AnalysisHandoff,
    delegating: AnalysisStep | None,
    target: AnalysisStep | None,
    who: str,
) -> Finding | None:
    """The agent that took the work stopped right after one of its tool calls, with no model call after it to read
    the result and answer: an agent run ends with its model's answer, so this one was stopped (a token, time or
    call limit that leaves no status). Structure only: holds with content off."""
    if target is None or target.step_kind != "agent":
        return None
    own = [s for s in _run_of(session, target) if s.agent_name == target.agent_name and s is not target]
    calls = [s for s in own if s.step_kind == "llm"]
    if len(calls) < 2:
        return None
    last = max(own, key=lambda s: (s.end_time_unix_nano, s.step_index))
    if last.step_kind != "tool" or last.failed or _ends_a_run(last.tool_name):
        return None
    return finding(
        session,
        KIND,
        "stopped_before_answering",
        "high",
        [s for s in (delegating, target, last) if s],
        f"handoff {who}: `{handoff.to_agent or target.agent_name or 'the other agent'}` stopped right after "
        f"{last.label} (step {last.step_index}), with no model call after it to read the result and answer: "
        "it was cut short, and what it had found never reached the caller as an answer.",
    )


def _ends_a_run(tool_name: str | None) -> bool:
    """Tools whose call is the answer or the hand-back itself (final_answer, transfer_back_to_supervisor)."""
    words = _name_words(tool_name)
    return bool(words & _ENDING_WORDS) or _names_an_agent(tool_name)


_ENDING_WORDS = frozenset(
    "final answer respond response output result submit finish done exit stop end complete escalate".split()
)


def _later_caller_calls(session: SessionSteps, delegating: AnalysisStep) -> list[AnalysisStep]:
    return [
        s
        for s in session.steps
        if s.step_kind == "llm"
        and s.agent_name == delegating.agent_name
        and s.start_time_unix_nano >= delegating.end_time_unix_nano
        and s.step_index > delegating.step_index
    ]


def _target_result(session: SessionSteps, delegating: AnalysisStep, target: AnalysisStep | None) -> str:
    if delegating.tool_result is not None and not is_empty(delegating.tool_result):
        return canonical(delegating.tool_result)
    if target is not None:
        if target.output_messages:
            return output_text(target.output_messages)
        last = None
        for step in session.steps:
            if step.step_kind == "llm" and step.agent_name == target.agent_name and step.step_index > target.step_index:
                if step.start_time_unix_nano <= target.end_time_unix_nano:
                    last = step
        if last is not None:
            return output_text(last.output_messages)
    return ""


def _lost_or_mistaken(
    session: SessionSteps,
    config: AnalyzerConfig,
    handoff: AnalysisHandoff,
    delegating: AnalysisStep | None,
    target: AnalysisStep | None,
    who: str,
) -> Finding | None:
    if handoff.mechanism not in _RETURNING or delegating is None:
        return None
    result = _target_result(session, delegating, target)
    later = _later_caller_calls(session, delegating)
    if not result.strip() or not later or any(s.input_messages is None for s in later):
        return None  # nothing came back, no later call, or content not recorded: nothing to judge
    evidence = [s for s in (delegating, target) if s]
    if looks_like_error(result):
        answer = "\n".join(output_text(s.output_messages) for s in later)
        if answer.strip() and not acknowledges_trouble(answer):
            last = later[-1]
            return finding(
                session,
                KIND,
                "error_as_result",
                "high",
                [*evidence, last],
                f"handoff {who}: the other agent answered with an error ('{short(result, 100)}') at step "
                f"{delegating.step_index}, and `{delegating.agent_name}` carried on as if it had succeeded "
                f"(step {last.step_index}: '{short(answer, 100)}').",
            )
        return None
    if any(contains("\n".join(message_text(m) for m in s.input_messages or []), result) for s in later):
        return None
    return finding(
        session,
        KIND,
        "lost_work",
        "high",
        [*evidence, later[0]],
        f"handoff {who}: the other agent's answer ('{short(result, 100)}', step {delegating.step_index}) never "
        f"reached `{delegating.agent_name}`: its next model call (step {later[0].step_index}) did not include it.",
    )


def _run_of(session: SessionSteps, target: AnalysisStep | None) -> list[AnalysisStep]:
    """The steps of the target agent's run: everything below its step, and, where an agent works in turns
    side by side (LlamaIndex's AgentWorkflow), its next turns until another agent's turn."""
    if target is None:
        return []
    run: list[AnalysisStep] = []
    turns = {target.step_index}
    for step in session.steps[target.step_index :]:
        if step.trace_id != target.trace_id:
            continue
        if step.parent_step_index == target.parent_step_index and step.step_kind == "agent":
            if step.agent_name != target.agent_name:
                break
            turns.add(step.step_index)
        elif step.parent_step_index == target.parent_step_index and step.agent_name != target.agent_name:
            continue
        if any(a.step_index in turns for a in _ancestors(session, step)) or step.agent_name == target.agent_name:
            run.append(step)
    return run


def _cut_short(
    session: SessionSteps,
    config: AnalyzerConfig,
    handoff: AnalysisHandoff,
    delegating: AnalysisStep | None,
    target: AnalysisStep | None,
    who: str,
    *,
    stops: list[tuple[AnalysisStep, str]],
    loops: Callable[[], list[set[int]]],
) -> Finding | None:
    """The agent that took the work was stopped by a limit (steps, turns, recursion) without failing."""
    if handoff.outcome != "completed" or target is None:
        return None
    run = {s.step_index for s in _run_of(session, target)} | {target.step_index}
    # The limit stopped the target's own run, or the whole run while the target was the agent at work and
    # repeating itself (not while work bounced between agents: that is the ping-pong's limit, not the target's).
    stop = next(
        (
            (s, why)
            for s, why in stops
            if s.step_index in run
            or (
                s in _ancestors(session, target)
                and _last_agent_below(session, s) in (None, target.agent_name)
                and any(evidence <= run for evidence in loops())
            )
        ),
        None,
    )
    if stop is None:
        # The whole run failed (not by a limit: a timeout, a crash) while the target had the work.
        failed = next(
            (
                a
                for a in _ancestors(session, target)[1:]
                if a.failed and limit_reason(a) is None and _last_agent_below(session, a) in (None, target.agent_name)
            ),
            None,
        )
        if failed is None:
            return None
        return finding(
            session,
            KIND,
            "target_failed",
            "high",
            [s for s in (delegating, target, failed) if s],
            f"handoff {who}: the run failed at step {failed.step_index} while the other agent had the work "
            f"('{short(clean_error(failed.error_message or failed.error_type or 'error'), 140)}'); its answer "
            "never came back.",
        )
    step, why = stop
    return finding(
        session,
        KIND,
        "target_failed",
        "high",
        [s for s in (delegating, target, step) if s],
        f"handoff {who}: the agent that took the work was stopped by a limit at step {step.step_index} ('{why}'). "
        "What came back is not the finished work.",
    )


def _empty_answer(
    session: SessionSteps,
    config: AnalyzerConfig,
    handoff: AnalysisHandoff,
    delegating: AnalysisStep | None,
    target: AnalysisStep | None,
    who: str,
) -> Finding | None:
    """The agent that took the work ended with a model answer that says nothing: no text, no tool call."""
    llm = [s for s in _run_of(session, target) if s.step_kind == "llm" and not s.failed]
    if handoff.outcome != "completed" or not llm or not llm[-1].output_messages:
        return None  # content not recorded: nothing to judge
    last = llm[-1]
    said = any(
        p.get("type") in ("text", "tool_call") and not is_empty(p.get("content") or p.get("name"))
        for m in last.output_messages or []
        for p in m.get("parts") or []
        if isinstance(p, dict)
    )
    if said:
        return None
    return finding(
        session,
        KIND,
        "empty_answer",
        "high",
        [s for s in (delegating, target, last) if s],
        f"handoff {who}: the agent that took the work ended with an empty answer (step {last.step_index}), so "
        "nothing of its work reached the caller.",
    )


# Verbs that say how a tool works, not what it works on: get_carrier_quotes and search_carrier_rates share their work.
_TOOL_VERBS = frozenset("get set search fetch find list query lookup look run call load read make create do".split())


def _name_words(name: str | None) -> set[str]:
    words = re.split(r"[_\W]+|(?<=[a-z])(?=[A-Z])", name or "")
    return {w.lower() for w in words if len(w) > 2} - _TOOL_VERBS


def _redone_by_caller(
    session: SessionSteps,
    config: AnalyzerConfig,
    handoff: AnalysisHandoff,
    delegating: AnalysisStep | None,
    target: AnalysisStep | None,
    who: str,
) -> Finding | None:
    """The agent that took the work failed at it (a tool error it never got past), and the caller then did the
    same work itself: the delegation bought nothing. Tool names and statuses only: holds with content off."""
    if handoff.outcome != "completed" or target is None or not handoff.from_agent:
        return None
    run = _run_of(session, target)
    tools = [s for s in run if s.step_kind == "tool"]
    unrecovered = [
        s
        for i, s in enumerate(tools)
        if s.failed and not any(not t.failed and t.tool_name == s.tool_name for t in tools[i + 1 :])
    ]
    if not unrecovered:
        return None
    end = max([target.end_time_unix_nano, *(s.end_time_unix_nano for s in run)])
    for failed in unrecovered:
        wanted = _name_words(failed.tool_name)
        redo = next(
            (
                s
                for s in session.steps
                if s.step_kind == "tool"
                and s.agent_name == handoff.from_agent
                and s.start_time_unix_nano >= end
                and wanted
                and len(wanted & _name_words(s.tool_name)) / len(wanted) >= 0.5
            ),
            None,
        )
        if redo is not None:
            return finding(
                session,
                KIND,
                "work_redone_by_caller",
                "high",
                [s for s in (delegating, target, failed, redo) if s],
                f"handoff {who}: `{handoff.to_agent or 'the other agent'}` failed at {failed.label} (step "
                f"{failed.step_index}) and never got past it; `{handoff.from_agent}` then did the work itself with "
                f"{redo.label} (step {redo.step_index}).",
            )
    return None


def _last_agent_below(session: SessionSteps, step: AnalysisStep) -> str | None:
    """The agent whose step was the last to run below ``step``."""
    below = [s for s in session.steps if s.step_index > step.step_index and step in _ancestors(session, s)[1:]]
    agents = [s for s in below if s.agent_name]
    return max(agents, key=lambda s: s.start_time_unix_nano).agent_name if agents else None


_DELEGATING = frozenset({"agent", "agents", "delegate", "delegation", "handoff", "transfer", "coworker"})


def _names_an_agent(name: str | None) -> bool:
    """A tool whose name says it hands work to an agent (ask_legal_agent, delegate, transfer_to_billing)."""
    return bool(_name_words(name) & _DELEGATING)


def _never_delegated(session: SessionSteps) -> list[Finding]:
    """A call meant for another agent (a tool named after one: ask_legal_agent, calendar_agent) that failed before
    any agent ran: bad arguments, a validation error. The work was never handed over."""
    found: list[Finding] = []
    handed = {h.delegating_step_index for h in session.handoffs}
    for step in session.steps:
        if step.step_index in handed or not step.failed:
            continue
        if step.step_kind == "tool" and _names_an_agent(step.tool_name):
            below = [s for s in session.steps if s.step_index > step.step_index and step in _ancestors(session, s)]
            if any(s.step_kind == "agent" for s in below):
                continue
            name, evidence = step.tool_name, [step]
        elif step.step_kind == "workflow" and step.error_message:
            # smolagents: the managed agent's call fails in the step that runs it, with no tool span.
            asked = [
                str(p.get("name"))
                for s in session.steps
                if s.parent_step_index == step.step_index and s.step_kind == "llm"
                for m in s.output_messages or []
                for p in m.get("parts") or []
                if isinstance(p, dict) and p.get("type") == "tool_call" and _names_an_agent(str(p.get("name")))
            ]
            if not asked:
                continue
            name, evidence = asked[0], [step]
        else:
            continue
        found.append(
            finding(
                session,
                KIND,
                "delegation_failed",
                "high",
                evidence,
                f"`{step.agent_name or 'the agent'}` called `{name}` to hand over work, but the call failed "
                f"('{short(clean_error(step.error_message or step.error_type or ''), 140)}') before any agent "
                "started: the work was never handed over.",
                anchor=f"never:{step.span_id}",
            )
        )
    return found


# An answer telling the user their request was passed on: "I've forwarded your dispute to our billing
# specialist", "I have transferred you to the billing team".
_CLAIMS_HANDOFF = re.compile(
    r"\b(i'?ve|i have|has been|have been|is being|was|were)\s+(forwarded|transferred|handed (it |this )?(over|off)"
    r"|passed (it |this )?(on|along)|routed|escalated)\b|\b(forwarded|transferred|handed over|routed|escalated) "
    r"(you|your \w+|it|this|the \w+) to\b",
    re.IGNORECASE,
)


def _claimed_handoff(session: SessionSteps) -> list[Finding]:
    """The agent tells the user it passed the work on, but its last attempt to call anything failed and no other
    agent ever ran: a call to an agent the framework rejected ("Unknown tool billing_specialist", a schema
    the arguments broke) that the model then reported as done. Needs the answer's words: silent with content off.
    """
    agents = {s.agent_name for s in session.steps if s.agent_name}
    if len(agents) > 1 or any(h.outcome == "completed" for h in session.handoffs):
        return []
    answers = [s for s in session.steps if s.step_kind in ("agent", "llm") and _answer_text(s)]
    if not answers:
        return []
    last = max(answers, key=lambda s: (s.start_time_unix_nano, s.step_index))  # an agent's span starts first
    claim = _CLAIMS_HANDOFF.search(_answer_text(last))
    if claim is None:
        return []
    failed = _last_failed_call(session, last)
    if failed is None:
        return []
    step, name, error = failed
    return [
        finding(
            session,
            KIND,
            "delegation_failed",
            "high",
            [step, last],
            f"`{last.agent_name or 'the agent'}` told the user '{short(_answer_text(last), 100)}', but its call to "
            f"`{name}` failed ('{short(clean_error(error), 120)}', step {step.step_index}) and no other agent ever "
            "ran: the work was never handed over.",
            anchor=f"claimed:{step.span_id}",
        )
    ]


def _answer_text(step: AnalysisStep) -> str:
    text = output_text(step.output_messages)
    if text or step.step_kind != "llm":
        return text
    return " ".join(
        _final_answer(p.get("arguments"))
        for m in step.output_messages or []
        for p in m.get("parts") or []
        if isinstance(p, dict) and p.get("type") == "tool_call" and p.get("name") == "final_answer"
    )


def _final_answer(arguments: object) -> str:
    answer = arguments.get("answer") if isinstance(arguments, dict) else None
    return answer if isinstance(answer, str) else canonical(arguments)


def _last_failed_call(session: SessionSteps, answer: AnalysisStep) -> tuple[AnalysisStep, str, str] | None:
    """The last call the agent attempted before ``answer``, if it failed and was not made again successfully: a
    failed step (a tool, or a code agent's step naming the tool it could not run), or an error handed back to
    the model as the call's result. (step, tool name, error)."""
    attempts: list[tuple[int, AnalysisStep, str, str | None]] = []  # (start, step, name, error or None)
    # Before the answering call; an agent step's answer comes at its end, after its own steps.
    before = answer.end_time_unix_nano if answer.step_kind == "agent" else answer.start_time_unix_nano
    for step in session.steps:
        if step.start_time_unix_nano > before or step is answer:
            continue
        if step.step_kind == "tool" and step.tool_name and step.tool_name != "final_answer":
            error = (step.error_message or step.error_type or "error") if step.failed else None
            attempts.append((step.start_time_unix_nano, step, step.tool_name, error))
        elif step.step_kind == "workflow" and step.failed and step.error_message:
            match = re.search(r"Unknown tool (\w+)", step.error_message)
            if match:
                attempts.append((step.end_time_unix_nano, step, match.group(1), step.error_message))
    for message in answer.input_messages or []:
        for part in message.get("parts") or []:
            if isinstance(part, dict) and part.get("type") == "tool_call_response":
                text = canonical(part.get("response"))
                if looks_like_error(text) or _NAMED_ERROR.match(text):
                    name = _called_name(answer, part.get("id"))
                    if name:
                        attempts.append((answer.start_time_unix_nano - 1, answer, name, text))
    if not attempts:
        return None
    attempts.sort(key=lambda a: a[0])
    _, step, name, error = attempts[-1]
    if error is None:
        return None
    return step, name, error


_NAMED_ERROR = re.compile(r"\W*[\w.]*(Error|Exception)\b")  # "AI_InvalidToolInputError: Invalid input for tool ..."


def _called_name(step: AnalysisStep, call_id: object) -> str | None:
    """The name of the tool call ``call_id`` in the input messages of ``step``."""
    for message in step.input_messages or []:
        for part in message.get("parts") or []:
            if isinstance(part, dict) and part.get("type") == "tool_call" and part.get("id") == call_id:
                return str(part.get("name"))
    return None


_FIGURE = re.compile(r"\d+(?:[.,]\d+)*%?")
# An answer saying the work is not there (yet): what a caller says when the delegated result never reached it.
_ABSENT = re.compile(
    r"\b(pending|not (yet )?(available|ready|done|complete|finished|in)|no (data|results?|figures|numbers|answer)|"
    r"still (waiting|working|running|in progress)|will follow|(could|can)( ?not|n't) (get|find|obtain)|unable to)\b",
    re.IGNORECASE,
)


def _result_unused(
    session: SessionSteps,
    config: AnalyzerConfig,
    handoff: AnalysisHandoff,
    delegating: AnalysisStep | None,
    target: AnalysisStep | None,
    who: str,
) -> Finding | None:
    """The other agent came back with figures, and the caller's final answer has none of them and says the work
    is not there ("still pending"): it answered as if the work had not been done. Content only: silent when the
    answer or the result was not recorded."""
    if handoff.mechanism not in _RETURNING or handoff.outcome != "completed" or delegating is None:
        return None
    result = _target_result(session, delegating, target)
    figures = {f for f in _FIGURE.findall(result) if len(f.strip("%")) >= 2}
    if len(figures) < 2:
        return None
    later = [s for s in _later_caller_calls(session, delegating) if s.trace_id == delegating.trace_id]
    answers = [s for s in later if output_text(s.output_messages).strip()]
    if not answers:
        return None
    final = answers[-1]
    said = output_text(final.output_messages)
    if any(f in said for f in figures) or not _ABSENT.search(said):
        return None
    return finding(
        session,
        KIND,
        "result_unused",
        "high",
        [s for s in (delegating, target, final) if s],
        f"handoff {who}: the other agent came back with figures ({', '.join(sorted(figures)[:4])}) at step "
        f"{delegating.step_index}, and none of them is in `{delegating.agent_name}`'s answer at step "
        f"{final.step_index} ('{short(said, 100)}'): its work did not reach the answer.",
    )
