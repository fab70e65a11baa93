"""Runaway loops: an agent repeating itself without progress, or stopped by a limit."""

from __future__ import annotations

import re
from collections import defaultdict

from analyzer.config import AnalyzerConfig
from analyzer.content import (
    canonical,
    first_sentence,
    forced_final_answer,
    gist,
    out_of_steps_answer,
    output_text,
    short,
    similarity,
    words,
)
from analyzer.model import AnalysisStep, Finding, SessionSteps, finding, step_range

KIND = "runaway_loop"

# How frameworks say a run was stopped by a turn, step, iteration, recursion or usage limit.
_LIMIT = re.compile(
    r"max(imum)?[ _]?turns?[ _]?exceeded|UsageLimitExceeded|request_limit|(request|tool[ _]calls?)[ _]limit"
    r"|tokens?[ _]budget|total_tokens_limit"
    r"|recursion[ _]limit|GraphRecursionError|max(imum)?[ _]?(iterations?|steps)|iteration limit"
    r"|reached max steps|stopped due to (iteration|time) limit|max_turns"
    r"|LlmCallsLimitExceeded|max number of llm calls",  # Google ADK's RunConfig.max_llm_calls
    re.IGNORECASE,
)
# One answer cut at its max_tokens is a truncation, not a run out of turns: not matched here.
# A wall-clock limit (LlamaIndex's workflow timeout) stops a slow run as well as a looping one: not a loop by
# itself. A run that repeated itself before the timeout is caught by what it repeated.


_TOOL_CALL_FINISH = frozenset({"tool-calls", "tool_calls", "tool_call", "tool_use"})


def limit_reason(step: AnalysisStep) -> str | None:
    for text in (step.error_type, step.error_message):
        if text and _LIMIT.search(text):
            return first_sentence(step.error_message or step.error_type or "", 120)
    return None


def detect(session: SessionSteps, config: AnalyzerConfig) -> list[Finding]:
    found: list[Finding] = []
    stopped = limit_stops(session)
    ending = f"; the run ended with '{stopped[0][1]}'" if stopped else ""
    cycles = _cycles(session, config, ending)
    in_cycles = {i for f in cycles for i in f.step_indexes}
    found += _repeated_calls(session, config, ending, in_cycles)
    found += cycles
    in_loops = {i for f in found for i in f.step_indexes}
    found += _no_progress(session, config, ending, in_loops)
    in_loops |= {i for f in found for i in f.step_indexes}
    found += _endless_paging(session, config, stopped, in_loops)
    found += _repeated_errors(session, config, ending)
    found += _repeated_answers(session, config, ending)
    looping = {s.trace_id for f in found for i in f.step_indexes if (s := session.step(i))}
    found += _recovered_errors(session, {i for f in found for i in f.step_indexes})
    for step, reason in stopped:
        found.append(_limit_finding(session, step, reason, progressing=step.trace_id not in looping))
    found += _ping_pong(session, config)
    # An agent already caught looping needs no second finding saying it also used a lot.
    explained = {s.agent_name for f in found for i in f.step_indexes if (s := session.step(i))}
    found += [f for f in _excess(session, config) if f.agent_name not in explained]
    return found


def _recovered_errors(session: SessionSteps, flagged: set[int]) -> list[Finding]:
    """A tool call that failed and, called again in the same run, went through: not a finding, but a note the
    replay shows at its step (a flaky dependency is worth seeing before it starts looping)."""
    found: list[Finding] = []
    for calls in _tool_calls_by_agent(session).values():
        for i, call in enumerate(calls):
            if not call.failed or call.step_index in flagged:
                continue
            retry = next((c for c in calls[i + 1 :] if c.tool_name == call.tool_name and not c.failed), None)
            if retry is None or any(
                c.failed for c in calls[i + 1 :] if c.step_index < retry.step_index and c.tool_name == call.tool_name
            ):
                continue
            found.append(
                finding(
                    session,
                    KIND,
                    "recovered_error",
                    "note",
                    [call, retry],
                    f"{call.label} failed at step {call.step_index} "
                    f"('{short(first_sentence(call.error_message or call.error_type or 'error'), 100)}') and went "
                    f"through when called again at step {retry.step_index}.",
                    anchor=f"recovered:{call.span_id}",
                )
            )
    return found


def _limit_finding(session: SessionSteps, step: AnalysisStep, reason: str, *, progressing: bool) -> Finding:
    """A run stopped by a limit. When every tool call of the run is recorded and each brought something the
    run had not seen, it was still making progress: the limit was too tight for the task, which is shown as a
    note, not a loop. Without that evidence (content not recorded, no tool calls) the limit is a loop's mark."""
    calls = [s for s in session.steps if s.trace_id == step.trace_id and s.step_kind == "tool" and s.tool_name]
    if progressing and calls and all(_learned_something(calls[: i + 1]) for i in range(len(calls))):
        return finding(
            session,
            KIND,
            "limit_reached",
            "note",
            [step],
            f"{step.label} was stopped by a limit at step {step.step_index}: '{reason}', while still making "
            f"progress (each of its {len(calls)} tool calls brought something new): the limit may be too tight for "
            "the task.",
        )
    return finding(
        session,
        KIND,
        "limit_reached",
        "high",
        [step],
        f"{step.label} was stopped by a limit at step {step.step_index}: '{reason}'. "
        "The agent ran out of turns or budget before it finished.",
    )


_NUMBERED_STEP = re.compile(r"^Step \d+$")


def _answer_after_last_step(session: SessionSteps, run: AnalysisStep) -> AnalysisStep | None:
    """A model call after the last numbered step of a smolagents run: the answer it was made to give when it had
    used all its steps (a run that finishes calls final_answer inside its last step; planning calls come before
    a step). Visible with content capture off too. Not generalized to other frameworks' turns: a memory
    summary after the last turn (LlamaIndex) looks the same there."""
    children = [s for s in session.steps if s.parent_step_index == run.step_index]
    turns = [s for s in children if s.step_kind == "workflow" and _NUMBERED_STEP.match(s.name)]
    if len(turns) < 2 or children[-1].step_kind != "llm":
        return None
    last = children[-1]
    return last if last.start_time_unix_nano >= turns[-1].end_time_unix_nano else None


def limit_stops(session: SessionSteps) -> list[tuple[AnalysisStep, str]]:
    """The outermost failed step per limit error (the same error propagates up through every parent)."""
    stops: list[tuple[AnalysisStep, str]] = []
    seen: set[str] = set()
    covered: set[int] = set()  # forced answers already told as their run's limit
    for step in sorted(session.steps, key=lambda s: (s.depth, s.step_index)):
        if step.failed or step.error_type:
            reason = limit_reason(step)
        else:
            who = step.agent_name or "the agent"
            # Strands ends a run cut by its limits with the finish reason limit_turns / limit_*_tokens.
            cap = next((r for r in step.finish_reasons if r.startswith("limit_")), None)
            if cap is not None:
                reason = f"{who} was stopped by its {cap.removeprefix('limit_').replace('_', ' ')} limit"
            elif step.step_kind == "agent" and _TOOL_CALL_FINISH.intersection(step.finish_reasons):
                # The run's last model output asked for a tool that never ran: it was cut at its step limit
                # (the Vercel AI SDK's stopWhen / maxSteps), not finished.
                reason = f"{who} stopped at its step limit while still calling tools"
            elif forced_final_answer(step) and step.step_index not in covered:
                reason = f"{who} reached its step limit and was made to answer"
            elif step.step_kind in ("agent", "workflow") and out_of_steps_answer(step):
                reason = f"{who} ran out of steps and answered '{first_sentence(output_text(step.output_messages))}'"
            elif step.step_kind in ("agent", "workflow") and (forced := _answer_after_last_step(session, step)):
                reason = f"{who} used all its steps and was made to answer at step {forced.step_index}"
                covered.add(forced.step_index)
            else:
                reason = None
        if reason and reason not in seen:
            seen.add(reason)
            stops.append((step, reason))
    return stops


def _tool_calls_by_agent(session: SessionSteps) -> dict[tuple[str, str | None], list[AnalysisStep]]:
    """Each agent run's tool calls. A run is one trace of one agent: repetition across user turns (a new
    request each time) is not a runaway loop."""
    calls: dict[tuple[str, str | None], list[AnalysisStep]] = defaultdict(list)
    for step in session.steps:
        if step.step_kind == "tool" and step.tool_name:
            calls[(step.trace_id, step.scope_id or step.agent_name)].append(step)
    return calls


def _signature(step: AnalysisStep) -> tuple[str, str]:
    if step.tool_arguments is None:
        # Not recorded (content capture off, ADK's default): unknown arguments are not the same arguments.
        return (step.tool_name or "", f"unrecorded step {step.step_index}")
    return (step.tool_name or "", canonical(step.tool_arguments))


def _outcome(step: AnalysisStep) -> str:
    return "error:" + (step.error_type or "") if step.failed else gist(step.tool_result)


def _repeated_calls(session: SessionSteps, config: AnalyzerConfig, ending: str, in_cycles: set[int]) -> list[Finding]:
    """The same tool with the same arguments, again and again, learning nothing new.

    A repetition that ends in a new result (a job polled until it is done, a retry that succeeds)
    is progress, not a loop.
    """
    t = config.thresholds
    found: list[Finding] = []
    for calls in _tool_calls_by_agent(session).values():
        flagged: set[int] = set(in_cycles)
        i = 0
        while i < len(calls):
            j = i
            while j + 1 < len(calls) and _signature(calls[j + 1]) == _signature(calls[i]):
                j += 1
            run = calls[i : j + 1]
            outcomes = {_outcome(c) for c in run}
            # No progress: every call answered what an earlier one had (the last result is not new).
            if (
                len(run) >= t.repeat_min_calls
                and _outcome(run[-1]) in {_outcome(c) for c in run[:-1]}
                and not any(c.step_index in flagged for c in run)
            ):
                found.append(_repeat_finding(session, run, "in a row", outcomes, ending))
                flagged.update(c.step_index for c in run)
            i = j + 1
        # Non-consecutive repeats inside a window of calls (A, B, A, C, A, B, A...).
        for start in range(len(calls)):
            window = calls[start : start + t.repeat_window]
            groups: dict[tuple[str, str], list[AnalysisStep]] = defaultdict(list)
            for call in window:
                groups[_signature(call)].append(call)
            for group in groups.values():
                if len(group) < t.repeat_window_min_calls or any(c.step_index in flagged for c in group):
                    continue
                outcomes = {_outcome(c) for c in group}
                if _outcome(group[-1]) not in {_outcome(c) for c in group[:-1]}:
                    continue
                found.append(_repeat_finding(session, group, f"within {len(window)} tool calls", outcomes, ending))
                flagged.update(c.step_index for c in group)
    return found


def _learned_something(calls: list[AnalysisStep]) -> bool:
    """Whether the last of these calls (recorded, and not failed) answered something the earlier ones had not."""
    last = calls[-1]
    if _unrecorded(last) or last.tool_result is None or last.failed:
        return False
    earlier = set().union(*(words(_outcome(c)) for c in calls[:-1])) if len(calls) > 1 else set()
    answer = words(_outcome(last)) - words(last.tool_arguments)
    return len(answer - earlier) >= (1 if len(answer) <= 10 else 2)


def _unrecorded(step: AnalysisStep) -> bool:
    return step.tool_arguments is None


def _no_progress(session: SessionSteps, config: AnalyzerConfig, ending: str, flagged: set[int]) -> list[Finding]:
    """The same request re-worded again and again (a search with other words), each answer bringing nothing the
    earlier ones had not: repetition measured by similarity and by what was learned, not by identical text."""
    t = config.thresholds
    found: list[Finding] = []
    for calls in _tool_calls_by_agent(session).values():
        by_tool: dict[str, list[AnalysisStep]] = defaultdict(list)
        for call in calls:
            by_tool[call.tool_name or ""].append(call)
        for tool_calls in by_tool.values():
            for streak in _streaks(tool_calls, t.similar_arguments):
                if len({canonical(c.tool_arguments) for c in streak}) == 1:
                    continue  # the very same request: repeated_tool_call's, with its own thresholds
                if len(streak) >= t.no_progress_min_calls and not any(c.step_index in flagged for c in streak):
                    found.append(_no_progress_finding(session, streak, ending))
                    flagged.update(c.step_index for c in streak)
    return found


def _streaks(calls: list[AnalysisStep], similar: float) -> list[list[AnalysisStep]]:
    """Runs of calls, each asking much what the one before asked, that learned nothing new.

    A run that ends in something new for the same request (a job polled until "done", a retry that succeeds)
    is progress, not a loop, and is not returned.
    """
    streaks: list[list[AnalysisStep]] = []
    learned: frozenset[str] = frozenset()
    streak: list[AnalysisStep] = []
    for call in calls:
        if _unrecorded(call):
            # Content capture off: nothing to compare, so nothing to conclude.
            streaks.append(streak)
            streak, learned = [], frozenset()
            continue
        asked = words(call.tool_arguments)
        # Volatile tokens (ids, counters) masked; an echo of the request ("no results for <query>") is no news.
        answer = words(_outcome(call)) - asked
        new = answer - learned
        again = bool(streak) and similarity(asked, words(streak[-1].tool_arguments)) >= similar
        # Something new: two words the run had not seen (one, for a short answer such as "done").
        progress = (streak and streak[-1].failed and not call.failed) or len(new) >= (1 if len(answer) <= 10 else 2)
        if again and not progress:
            streak.append(call)
        elif again:
            streak = []  # the repetition ended in something new
        else:
            streaks.append(streak)
            streak = [call]
        learned |= answer
    streaks.append(streak)
    return [s for s in streaks if s]


def _no_progress_finding(session: SessionSteps, run: list[AnalysisStep], ending: str) -> Finding:
    first = run[0]
    asked = "; ".join(dict.fromkeys(short(canonical(c.tool_arguments), 40) for c in run[:3]))
    more = f" and {len(run) - 3} more" if len(run) > 3 else ""
    return finding(
        session,
        KIND,
        "no_progress",
        "high" if ending or len(run) >= 6 else "medium",
        run,
        f"called {first.label} {len(run)} times with the same request in other words ({asked}{more}), "
        f"{step_range(run)}, and no answer after the first brought anything new{ending}.",
    )


_DIGITS = re.compile(r"\d+")


def _moved_on(before: AnalysisStep, after: AnalysisStep) -> bool:
    """The same call with its page, offset or cursor moved on: only numbers differ, or, for arguments given as
    an object, the value of one key (an opaque cursor)."""
    if before.tool_name != after.tool_name:
        return False
    a, b = before.tool_arguments, after.tool_arguments
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return False
        return sum(1 for k in a if canonical(a[k]) != canonical(b[k])) == 1
    return _DIGITS.sub("#", canonical(a)) == _DIGITS.sub("#", canonical(b))


def _endless_paging(
    session: SessionSteps, config: AnalyzerConfig, stopped: list[tuple[AnalysisStep, str]], flagged: set[int]
) -> list[Finding]:
    """A pager or poller that moves its argument on each call (page 1, 2, 3...) in a run that never finished:
    stopped by a limit, or still paging when it ended."""
    t = config.thresholds
    found: list[Finding] = []
    stopped_traces = {step.trace_id: reason for step, reason in stopped}
    for (trace_id, _scope), calls in _tool_calls_by_agent(session).items():
        run: list[AnalysisStep] = []
        groups: list[list[AnalysisStep]] = []
        for call in calls:
            if run and not _unrecorded(call) and _moved_on(run[-1], call):
                run.append(call)
            else:
                groups.append(run)
                run = [] if _unrecorded(call) else [call]
        groups.append(run)
        last_step = max((s for s in session.steps if s.trace_id == trace_id), key=lambda s: s.end_time_unix_nano)
        for group in groups:
            if len(group) < t.pager_min_calls or any(c.step_index in flagged for c in group):
                continue
            moved = len({canonical(c.tool_arguments) for c in group}) == len(group)
            unfinished = trace_id in stopped_traces or (group[-1] is calls[-1] and last_step.failed)
            if not moved or not unfinished:
                continue
            ending = f"; the run ended with '{stopped_traces[trace_id]}'" if trace_id in stopped_traces else ""
            found.append(
                finding(
                    session,
                    KIND,
                    "endless_paging",
                    "high",
                    group,
                    f"called {group[0].label} {len(group)} times moving on one page or cursor each time "
                    f"({short(canonical(group[0].tool_arguments), 40)} … "
                    f"{short(canonical(group[-1].tool_arguments), 40)}), "
                    f"{step_range(group)}, and never finished{ending}.",
                )
            )
            flagged.update(c.step_index for c in group)
    return found


def _repeated_errors(session: SessionSteps, config: AnalyzerConfig, ending: str) -> list[Finding]:
    """The same error again and again in one agent run, whatever was called in between."""
    failed_children: dict[int, set[str]] = defaultdict(set)
    for step in session.steps:
        if step.failed and step.parent_step_index is not None:
            failed_children[step.parent_step_index].add(_error_gist(step))
    errors: dict[tuple[str, str | None, str], list[AnalysisStep]] = defaultdict(list)
    for step in session.steps:
        gist_ = _error_gist(step)
        # The same error propagating up through the parents (often re-worded around) is one error, recorded
        # where it happened. A model call failing again and again is the provider's trouble and the
        # framework's retries, not the agent's.
        below = failed_children.get(step.step_index, set())
        if not step.failed or not gist_ or any(gist_ in child or child in gist_ for child in below):
            continue
        if step.step_kind == "llm":
            continue
        if limit_reason(step):
            continue
        errors[(step.trace_id, step.scope_id or step.agent_name, gist_)].append(step)
    found: list[Finding] = []
    for group in errors.values():
        if len(group) < config.thresholds.repeated_error_min:
            continue
        message = first_sentence(group[0].error_message or group[0].error_type or "", 100)
        labels = ", ".join(dict.fromkeys(s.label for s in group))
        found.append(
            finding(
                session,
                KIND,
                "repeated_error",
                "high" if ending or len(group) >= 5 else "medium",
                group,
                f"failed {len(group)} times with the same error ('{message}') in one run, {step_range(group)} "
                f"({labels}), trying again without changing what made it fail{ending}.",
            )
        )
    return found


def _repeated_answers(session: SessionSteps, config: AnalyzerConfig, ending: str) -> list[Finding]:
    """An agent giving the same answer again and again in one run (a reviewer asking for the same revision
    each round, a writer resubmitting the same draft): a loop between agents that no tool call shows."""
    answers: dict[tuple[str, str | None, str], list[AnalysisStep]] = defaultdict(list)
    for step in session.steps:
        if step.step_kind != "llm" or not step.output_messages or step.failed:
            continue
        parts = [p for m in step.output_messages for p in m.get("parts") or [] if isinstance(p, dict)]
        if not parts or any(p.get("type") != "text" for p in parts):
            continue  # tool calls are judged as tool calls
        said = gist(output_text(step.output_messages))
        if len(said) >= 12:
            answers[(step.trace_id, step.agent_name, said)].append(step)
    found: list[Finding] = []
    for (_trace, agent, _said), group in answers.items():
        if len(group) < config.thresholds.repeat_min_calls:
            continue
        who = f"`{agent}`" if agent else "the agent"
        found.append(
            finding(
                session,
                KIND,
                "repeated_answer",
                "high" if ending or len(group) >= 5 else "medium",
                group,
                f"{who} gave the same answer {len(group)} times in one run "
                f"('{short(output_text(group[0].output_messages), 80)}'), "
                f"{step_range(group)}: the work went round without moving on{ending}.",
            )
        )
    return found


def _error_gist(step: AnalysisStep) -> str:
    return gist(step.error_message or step.error_type or "") if step.failed else ""


def _repeat_finding(
    session: SessionSteps, run: list[AnalysisStep], how: str, outcomes: set[str], ending: str
) -> Finding:
    first = run[0]
    result = "each time the same result" if len(outcomes) == 1 else f"only {len(outcomes)} different results"
    if all(c.failed for c in run):
        result = "failing each time"
    args = short(canonical(first.tool_arguments), 60)
    severity = "high" if ending or len(run) >= 6 else "medium"
    return finding(
        session,
        KIND,
        "repeated_tool_call",
        severity,
        run,
        f"called {first.label} with the same arguments ({args}) {len(run)} times {how}, {step_range(run)}, "
        f"{result}{ending}.",
    )


def _cycles(session: SessionSteps, config: AnalyzerConfig, ending: str) -> list[Finding]:
    """A cycle of 2 to 4 different calls (A, B, A, B, ...) whose calls and results keep coming back."""
    found: list[Finding] = []
    need = config.thresholds.cycle_min_repeats
    for calls in _tool_calls_by_agent(session).values():
        keys = [(_signature(c), _outcome(c)) for c in calls]
        i = 0
        while i < len(keys):
            best: tuple[int, int] | None = None
            for period in (2, 3, 4):
                if len({k[0] for k in keys[i : i + period]}) < 2:
                    continue
                end = i + period
                while end < len(keys) and keys[end] == keys[end - period]:
                    end += 1
                if (end - i) // period >= need and (best is None or end - i > best[1] - i):
                    best = (period, end)
            if best is None:
                i += 1
                continue
            period, end = best
            cycle = calls[i:end]
            names = " → ".join(c.tool_name or "?" for c in calls[i : i + period])
            found.append(
                finding(
                    session,
                    KIND,
                    "repeating_cycle",
                    "high" if ending else "medium",
                    cycle,
                    f"went round the same cycle of calls ({names}) {(end - i) // period} times, {step_range(cycle)}, "
                    f"with the same arguments and the same results each time{ending}.",
                )
            )
            i = end
    return found


def _excess(session: SessionSteps, config: AnalyzerConfig) -> list[Finding]:
    """A session in which its agent used far more steps or tokens than in its other sessions."""
    t = config.thresholds
    agent = next((s.agent_name for s in session.steps if s.agent_name), None)
    norm = session.norms.get(agent) if agent else None
    if agent is None or norm is None or norm.sessions < t.excess_min_sessions:
        return []
    llm = [s for s in session.steps if s.step_kind == "llm"]
    tokens = sum((s.input_tokens or 0) + (s.output_tokens or 0) for s in llm)
    over: list[str] = []
    if norm.median_steps > 0 and len(session.steps) >= t.excess_ratio * norm.median_steps:
        over.append(f"{len(session.steps)} steps where it usually takes {norm.median_steps:g}")
    if norm.median_tokens > 0 and tokens >= t.excess_ratio * norm.median_tokens:
        over.append(f"{tokens:,} tokens where it usually spends {norm.median_tokens:,.0f}")
    if not over:
        return []
    evidence = llm or session.steps
    return [
        finding(
            session,
            KIND,
            "excessive_usage",
            "medium",
            evidence,
            f"agent `{agent}` used {' and '.join(over)} (median of its other {norm.sessions} sessions); its model "
            f"calls are {step_range(evidence)}.",
            agent_name=agent,
            anchor=f"agent:{agent}",
        )
    ]


def _ping_pong(session: SessionSteps, config: AnalyzerConfig) -> list[Finding]:
    """Handoffs back and forth between the same two agents."""
    found: list[Finding] = []
    chain: list[int] = []
    handoffs = [h for h in session.handoffs if h.from_agent and h.to_agent and h.from_agent != h.to_agent]

    def close() -> None:
        if len(chain) >= config.thresholds.ping_pong_min_handoffs:
            hs = [handoffs[k] for k in chain]
            evidence = [s for h in hs if (s := session.step(h.delegating_step_index or h.target_step_index))]
            pair = f"`{hs[0].from_agent}` and `{hs[0].to_agent}`"
            found.append(
                finding(
                    session,
                    KIND,
                    "ping_pong_handoff",
                    "medium",
                    evidence,
                    f"work went back and forth between {pair} {len(hs)} times, {step_range(evidence)}, "
                    "without either agent finishing it.",
                    agent_name=hs[0].from_agent,
                )
            )
        chain.clear()

    for k, handoff in enumerate(handoffs):
        if chain:
            last = handoffs[chain[-1]]
            if handoff.from_agent == last.to_agent and handoff.to_agent == last.from_agent:
                chain.append(k)
                continue
            close()
        chain.append(k)
    close()
    return found
