"""Spans to sessions of steps, with handoffs: pure functions, recomputed whole for each changed session.

Recomputing a session from every span it has (instead of patching it as spans arrive) is what
makes the result the same whatever the arrival order: late, out of order or duplicated spans
lead to the same sessions, steps and handoffs once they are all in.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from collector.normalize import messages
from collector.pricing import DEFAULT_PRICES, PriceTable
from store.model import Handoff, SessionSummary, SessionView, SpanRecord, Step

ERROR = 2
CLIENT, SERVER = 3, 2
# Named apart from "failed" (the delegating step itself failed), so the two cannot be confused.
A2A_FAILED = {
    "TASK_STATE_FAILED": "task_failed",
    "TASK_STATE_REJECTED": "task_rejected",
    "TASK_STATE_CANCELED": "task_canceled",
}


def _roots(spans: list[SpanRecord]) -> tuple[list[SpanRecord], dict[str, list[SpanRecord]]]:
    ids = {s.span_id for s in spans}
    children: dict[str, list[SpanRecord]] = defaultdict(list)
    roots: list[SpanRecord] = []
    for span in spans:
        if span.parent_span_id and span.parent_span_id in ids and span.parent_span_id != span.span_id:
            children[span.parent_span_id].append(span)
        else:
            roots.append(span)
    roots.sort(key=_order_key)
    for kids in children.values():
        kids.sort(key=_order_key)
    return roots, children


def _order_key(span: SpanRecord) -> tuple[int, str]:
    return (span.start_time_unix_nano, span.span_id)


def trace_session(trace_id: str, spans: list[SpanRecord]) -> str:
    """The session of one trace: the key nearest the root (breadth first), else the trace itself."""
    roots, children = _roots(spans)
    level = roots
    seen: set[str] = set()
    while level:
        for span in level:
            if span.conversation_id:
                return span.conversation_id
        next_level: list[SpanRecord] = []
        for span in level:
            if span.span_id not in seen:
                seen.add(span.span_id)
                next_level.extend(children.get(span.span_id, ()))
        next_level.sort(key=_order_key)
        level = next_level
    return trace_id


def assign_sessions(spans: Iterable[SpanRecord]) -> dict[str, str]:
    by_trace: dict[str, list[SpanRecord]] = defaultdict(list)
    for span in spans:
        by_trace[span.trace_id].append(span)
    return {trace_id: trace_session(trace_id, trace_spans) for trace_id, trace_spans in by_trace.items()}


def _dedupe(spans: Iterable[SpanRecord]) -> list[SpanRecord]:
    unique: dict[tuple[str, str], SpanRecord] = {}
    for span in spans:
        unique.setdefault((span.trace_id, span.span_id), span)
    return list(unique.values())


def preview_source(view: SessionView, spans: Iterable[SpanRecord]) -> tuple[str, str] | None:
    """The (trace_id, span_id) whose input should be the session's preview: its first model call."""
    by_span = {s.span_id: s for s in spans}
    candidates = [s for s in view.steps if by_span.get(s.span_id) and by_span[s.span_id].has_input_messages]
    first = next((s for s in candidates if by_span[s.span_id].step_kind == "llm"), None) or next(iter(candidates), None)
    return (first.trace_id, first.span_id) if first else None


def build_session(
    session_id: str,
    spans: Iterable[SpanRecord],
    logs: Mapping[str, list[tuple[str, dict[str, Any]]]] | None = None,
    prices: PriceTable = DEFAULT_PRICES,
) -> SessionView:
    """Steps, handoffs and the summary of one session from all of its spans (of every trace), with the cost
    of each call that carries the session's token usage."""
    spans = _dedupe(spans)
    if not spans:
        return SessionView()
    logs = logs or {}
    roots, children = _roots_per_trace(spans)
    # Depth-first walk in start order, carrying the nearest step ancestor, agent and scope; only
    # steps are kept, other spans just pass their context down.
    step_rows: list[tuple[SpanRecord, int, str | None, str | None, str | None]] = []

    def walk(root: SpanRecord) -> None:
        # Iterative: a hostile trace may nest deeper than Python's recursion limit.
        stack: list[tuple[SpanRecord, str | None, int, str | None, str | None]] = [(root, None, 0, None, None)]
        while stack:
            span, parent_key, depth, agent, scope = stack.pop()
            if span.span_id in visited:
                continue
            visited.add(span.span_id)
            is_step = (span.step_kind or "other") != "other"
            own_scope = span.conversation_id if span.conversation_id and span.conversation_id != session_id else scope
            if span.step_kind == "agent" and span.agent_name:
                agent = span.agent_name
            elif span.step_kind == "agent" and agent:
                # An agent step that does not name itself, named by the span before it (LlamaIndex).
                span = dataclasses.replace(span, agent_name=agent)
            if is_step:
                step_rows.append((span, depth, parent_key, agent, own_scope))
            key = span.span_id if is_step else parent_key
            kids = children.get((span.trace_id, span.span_id), ())
            stack.extend(
                (kid, key, depth + (1 if is_step else 0), kid_agent, own_scope)
                for kid, kid_agent in reversed(_named_by_siblings(kids, agent))
            )

    visited: set[str] = set()
    for root in roots:
        walk(root)
    # Spans in a parent cycle (A under B, B under A) have no root: walk them from their earliest one.
    for span in sorted(spans, key=_order_key):
        if span.span_id not in visited:
            walk(span)

    step_rows.sort(key=lambda r: (r[0].start_time_unix_nano, r[1], r[0].span_id))
    index_of = {row[0].span_id: i + 1 for i, row in enumerate(step_rows)}
    steps: list[Step] = []
    for i, (span, depth, parent, agent, scope) in enumerate(step_rows, start=1):
        agent_name = span.agent_name if span.step_kind == "agent" else (agent or span.agent_name)
        step = Step(
            session_id,
            i,
            span.trace_id,
            span.span_id,
            index_of.get(parent) if parent else None,
            depth,
            agent_name,
            scope,
        )
        if span.step_kind == "llm" and not span.has_input_messages and span.span_id in logs:
            inputs, outputs = messages.from_events(logs[span.span_id])
            step.input_messages = orjson.dumps(inputs).decode() if inputs else None
            step.output_messages = orjson.dumps(outputs).decode() if outputs else None
        steps.append(step)
    by_span = {row[0].span_id: row[0] for row in step_rows}
    handoffs = _handoffs(session_id, steps, by_span)
    unpriced = _price(steps, by_span, prices)
    summary = _summary(session_id, spans, steps, by_span, handoffs)
    costs = [s.cost_usd for s in steps if s.cost_usd is not None]
    summary.cost_usd = sum(costs) if costs else None
    summary.unpriced_calls = unpriced
    return SessionView(steps, handoffs, summary)


def _counted(steps: list[Step], by_span: dict[str, SpanRecord]) -> list[Step]:
    """The steps whose token usage is the session's: its LLM calls, or when none of them recorded usage, its
    top-level steps. Usage is counted once; agent spans that carry totals would count it twice."""
    llm = [s for s in steps if by_span[s.span_id].step_kind == "llm"]
    if any(by_span[s.span_id].input_tokens or by_span[s.span_id].output_tokens for s in llm):
        return llm
    return [s for s in steps if s.depth == 0]


def _price(steps: list[Step], by_span: dict[str, SpanRecord], prices: PriceTable) -> int:
    """Sets the cost of each counted step; returns how many recorded usage but have a model with no price."""
    unpriced = 0
    for step in _counted(steps, by_span):
        span = by_span[step.span_id]
        step.cost_usd = prices.cost(
            span.response_model, span.request_model, span.input_tokens, span.output_tokens,
            span.cache_read_input_tokens,
        )  # fmt: skip
        if step.cost_usd is None and (span.input_tokens is not None or span.output_tokens is not None):
            unpriced += 1
    return unpriced


def _named_by_siblings(kids: Sequence[SpanRecord], agent: str | None) -> list[tuple[SpanRecord, str | None]]:
    """Each child with the agent it works for. A span that names an agent without being a step (LlamaIndex's
    AgentWorkflow.setup_agent) hands that name to the siblings after it: the agent whose turn it set up."""
    named: list[tuple[SpanRecord, str | None]] = []
    current = agent
    for kid in kids:
        if (kid.step_kind or "other") == "other" and kid.agent_name:
            current = kid.agent_name
        named.append((kid, current))
    return named


def _roots_per_trace(
    spans: list[SpanRecord],
) -> tuple[list[SpanRecord], dict[tuple[str, str], list[SpanRecord]]]:
    by_trace: dict[str, list[SpanRecord]] = defaultdict(list)
    for span in spans:
        by_trace[span.trace_id].append(span)
    roots: list[SpanRecord] = []
    children: dict[tuple[str, str], list[SpanRecord]] = {}
    for trace_id, trace_spans in by_trace.items():
        trace_roots, trace_children = _roots(trace_spans)
        roots.extend(trace_roots)
        for parent, kids in trace_children.items():
            children[(trace_id, parent)] = kids
    roots.sort(key=_order_key)
    return roots, children


def _failed(span: SpanRecord) -> bool:
    return span.status_code == ERROR


def _handoffs(session_id: str, steps: list[Step], by_span: dict[str, SpanRecord]) -> list[Handoff]:
    found: list[Handoff] = []
    targets_taken: set[int] = set()

    def add(
        delegating: Step | None,
        target: Step | None,
        from_agent: str | None,
        to_agent: str | None,
        mechanism: str,
        payload: str | None,
    ) -> None:
        if target is not None and target.step_index in targets_taken:
            return
        delegating_span = by_span[delegating.span_id] if delegating else None
        target_span = by_span[target.span_id] if target else None
        outcome, error = "completed", None
        if delegating_span is not None and delegating_span.a2a_task_state in A2A_FAILED:
            outcome = A2A_FAILED[delegating_span.a2a_task_state]
        elif target_span is not None and target_span.a2a_task_state in A2A_FAILED:
            outcome = A2A_FAILED[target_span.a2a_task_state]
        elif target is None:
            outcome = "target_not_started"
        elif _failed(target_span) if target_span else False:
            outcome, error = "target_failed", target_span.error_message if target_span else None
        elif delegating_span is not None and _failed(delegating_span):
            outcome, error = "failed", delegating_span.error_message
        if target is not None:
            targets_taken.add(target.step_index)
        found.append(
            Handoff(
                session_id,
                len(found) + 1,
                from_agent,
                to_agent,
                mechanism,
                delegating.step_index if delegating else None,
                delegating.span_id if delegating else None,
                target.step_index if target else None,
                target.span_id if target else None,
                _json_text(payload),
                outcome,
                error,
            )
        )

    agent_steps = [s for s in steps if by_span[s.span_id].step_kind == "agent"]
    children: dict[int, list[Step]] = defaultdict(list)
    for step in steps:
        if step.parent_step_index is not None:
            children[step.parent_step_index].append(step)

    def first_agent_below(step: Step) -> Step | None:
        stack = list(reversed(children.get(step.step_index, [])))
        while stack:
            child = stack.pop()
            if by_span[child.span_id].step_kind == "agent":
                return child
            stack.extend(reversed(children.get(child.step_index, [])))
        return None

    def runs_here(step: Step) -> bool:
        """An agent span marked CLIENT that is the agent's own run, in this process (OpenAI Agents under
        opentelemetry-instrumentation-openai-agents-v2 marks every invoke_agent CLIENT): its model and tool
        calls are right below it, and no agent's. Span kind alone does not make an agent remote."""
        below = children.get(step.step_index, [])
        return first_agent_below(step) is None and any(by_span[c.span_id].step_kind in ("llm", "tool") for c in below)

    def records_agents(step: Step) -> bool:
        """Whether this trace records the agents' own work (their model calls): CrewAI's instrumentation by
        default does not, and a delegation with nothing below it proves nothing there."""
        return any(s.trace_id == step.trace_id and by_span[s.span_id].step_kind == "llm" for s in steps)

    def remote(step: Step) -> bool:
        return by_span[step.span_id].kind == CLIENT and not runs_here(step)

    for step in steps:
        span = by_span[step.span_id]
        if span.step_kind == "handoff":
            to_agent = span.handoff_to
            from_agent = span.handoff_from or step.agent_name
            target = next(
                (
                    a
                    for a in agent_steps
                    if a.step_index > step.step_index
                    and to_agent
                    and by_span[a.span_id].agent_name == to_agent
                    and a.step_index not in targets_taken
                ),
                None,
            )
            if target is None:
                below = first_agent_below(step)
                if below is not None and (to_agent is None or by_span[below.span_id].agent_name == to_agent):
                    target = below
            if target is None and to_agent is None:
                # The target is not named (OpenLLMetry opens the span before the SDK knows it): the next
                # agent that starts afterwards, other than the one handing off, is where the work went.
                target = next(
                    (
                        a
                        for a in agent_steps
                        if a.step_index > step.step_index
                        and a.step_index not in targets_taken
                        and by_span[a.span_id].agent_name not in (None, from_agent)
                    ),
                    None,
                )
            if target is None and to_agent is None:
                # Neither side named (content capture off, and a framework that names its agents only in
                # content, as LlamaIndex): the next agent step that runs after it took the work.
                target = next(
                    (
                        a
                        for a in agent_steps
                        if a.step_index > step.step_index
                        and a.trace_id == step.trace_id
                        and a.step_index not in targets_taken
                        and by_span[a.span_id].start_time_unix_nano >= span.start_time_unix_nano
                    ),
                    None,
                )
            if to_agent is None and target is not None:
                to_agent = by_span[target.span_id].agent_name
            mechanism = "transfer_tool" if span.operation == "execute_tool" else "handoff"
            add(step, target, from_agent, to_agent, mechanism, span.tool_arguments)
        elif span.step_kind == "tool":
            below = first_agent_below(step)
            below_span = by_span[below.span_id] if below is not None else None
            if (
                below is not None
                and below_span is not None
                and not remote(below)
                and below_span.agent_name != step.agent_name
            ):
                add(
                    step,
                    below,
                    step.agent_name,
                    by_span[below.span_id].agent_name,
                    "agent_as_tool",
                    span.tool_arguments,
                )
            elif below is None and span.tool_name in _DELEGATION_TOOLS and records_agents(step):
                # CrewAI's delegation to a coworker that never ran (one not in the crew, or the call failed).
                add(step, None, step.agent_name, _coworker(span.tool_arguments), "agent_as_tool", span.tool_arguments)
        elif span.step_kind == "agent" and remote(step) and (caller := _caller(step, steps, by_span)):
            # invoke_agent CLIENT span under another agent: a call to a remote agent, whose own spans
            # are below it (context propagated) or in another trace of the session (not propagated).
            target = first_agent_below(step) or next(
                (
                    a
                    for a in agent_steps
                    if a.step_index > step.step_index
                    and a.trace_id != step.trace_id
                    and by_span[a.span_id].agent_name == span.agent_name
                    and a.step_index not in targets_taken
                ),
                None,
            )
            add(step, target, caller, span.agent_name, "remote_agent", span.input_messages)
    for step in agent_steps:
        # An agent run inside another agent's run, with no tool or hand-off span between (smolagents'
        # managed agents, called from the manager's code): the outer agent delegated to it.
        span = by_span[step.span_id]
        outer = _caller_step(step, steps, by_span)
        if step.step_index in targets_taken or outer is None or remote(step) or not span.agent_name:
            continue
        if outer.agent_name in (None, span.agent_name):
            continue
        delegating = steps[step.parent_step_index - 1] if step.parent_step_index is not None else outer
        earlier = next(
            (h for h in found if h.delegating_step_index == delegating.step_index and h.to_agent == span.agent_name),
            None,
        )
        if earlier is not None:
            # The framework ran the same delegation again (CrewAI retries a failed coworker): one hand-off,
            # whose outcome is its last attempt's.
            earlier.target_step_index, earlier.target_span_id = step.step_index, step.span_id
            earlier.outcome, earlier.error_message = (
                ("target_failed", span.error_message) if _failed(span) else ("completed", None)
            )
            targets_taken.add(step.step_index)
            continue
        add(delegating, step, outer.agent_name, span.agent_name, "agent_as_tool", span.input_messages)
    for step in agent_steps:
        span = by_span[step.span_id]
        if step.step_index in targets_taken or not span.graph_parent or span.graph_parent == span.agent_name:
            continue
        add(None, step, span.graph_parent, span.agent_name, "graph_parent", span.input_messages)
    found.sort(key=lambda h: h.delegating_step_index or h.target_step_index or 0)
    for i, handoff in enumerate(found, start=1):
        handoff.handoff_index = i
    return found


def _json_text(value: str | None) -> str | None:
    """A payload as JSON text: arguments recorded as plain text ("[REDACTED]", "book it") become a JSON string."""
    if value is None:
        return None
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        return orjson.dumps(value).decode()
    return value


# Tools whose call hands work to another agent and waits for its answer (CrewAI's allow_delegation tools).
_DELEGATION_TOOLS = frozenset(
    {"delegate_work_to_coworker", "ask_question_to_coworker", "Delegate work to coworker", "Ask question to coworker"}
)


def _coworker(arguments: str | None) -> str | None:
    if not arguments:
        return None
    try:
        parsed = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return None
    name = parsed.get("coworker") if isinstance(parsed, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def _caller(step: Step, steps: list[Step], by_span: dict[str, SpanRecord]) -> str | None:
    caller = _caller_step(step, steps, by_span)
    return caller.agent_name if caller is not None else None


def _caller_step(step: Step, steps: list[Step], by_span: dict[str, SpanRecord]) -> Step | None:
    """The nearest agent step above this one."""
    parent = step.parent_step_index
    while parent is not None:
        candidate = steps[parent - 1]
        if by_span[candidate.span_id].step_kind == "agent":
            return candidate
        parent = candidate.parent_step_index
    return None


def first_text(raw: str | None) -> str | None:
    """The first user text of a messages JSON document (a session's preview)."""
    if not raw:
        return None
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    for message in parsed if isinstance(parsed, list) else []:
        if isinstance(message, dict) and message.get("role") == "user":
            for part in message.get("parts", []):
                if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("content"), str):
                    return str(part["content"])[:300]
    return None


def _summary(
    session_id: str, spans: list[SpanRecord], steps: list[Step], by_span: dict[str, SpanRecord], handoffs: list[Handoff]
) -> SessionSummary:
    first = min(s.start_time_unix_nano for s in spans)
    last = max(max(s.end_time_unix_nano, s.start_time_unix_nano) for s in spans)
    step_spans = [by_span[s.span_id] for s in steps]
    llm = [s for s in step_spans if s.step_kind == "llm"]
    agents: list[str] = []
    for step in steps:
        if step.agent_name and step.agent_name not in agents:
            agents.append(step.agent_name)
    counted = [by_span[s.span_id] for s in _counted(steps, by_span)]
    models = list(dict.fromkeys(m for s in llm if (m := s.response_model or s.request_model)))
    top = [by_span[s.span_id] for s in steps if s.depth == 0] or spans
    # The service that started the session (the earliest span's): the same whatever the arrival order.
    service = min(((s.start_time_unix_nano, s.span_id, s.service_name) for s in spans if s.service_name), default=None)
    # From log records here; the worker fills it from the first model call's stored input otherwise.
    preview = next((t for s in steps if (t := first_text(s.input_messages))), None)
    root_agent = next((s.agent_name for s in steps if s.agent_name), None)
    return SessionSummary(
        session_id=session_id,
        first_time_unix_nano=first,
        last_time_unix_nano=last,
        duration_ms=(last - first) / 1e6,
        service_name=service[2] if service else None,
        root_agent=root_agent,
        agents=agents,
        trace_count=len({s.trace_id for s in spans}),
        step_count=len(steps),
        llm_calls=len(llm),
        tool_calls=sum(1 for s in step_spans if s.step_kind == "tool"),
        handoff_count=len(handoffs),
        error_count=sum(1 for s in step_spans if _failed(s)),
        input_tokens=sum(s.input_tokens or 0 for s in counted),
        output_tokens=sum(s.output_tokens or 0 for s in counted),
        cache_read_input_tokens=sum(s.cache_read_input_tokens or 0 for s in counted),
        reasoning_output_tokens=sum(s.reasoning_output_tokens or 0 for s in counted),
        models=models,
        status="error" if any(_failed(s) for s in top) else "ok",
        input_preview=preview,
        child_scopes=sorted({s.scope_id for s in steps if s.scope_id}),
    )
