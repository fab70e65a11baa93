"""What the detectors read (a session's steps and handoffs) and what they write (findings)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from store.model import Finding

__all__ = ["KINDS", "AnalysisStep", "Finding", "SessionSteps", "finding", "step_range"]

KINDS = ("context_rot", "runaway_loop", "failed_handoff")


@dataclass(slots=True)
class AnalysisStep:
    """One step as the `steps` view shows it, with JSON columns parsed."""

    step_index: int
    span_id: str
    trace_id: str
    parent_step_index: int | None
    depth: int
    step_kind: str | None
    operation: str | None
    name: str
    agent_name: str | None
    scope_id: str | None = None
    tool_name: str | None = None
    tool_call_id: str | None = None
    tool_arguments: Any = None
    tool_result: Any = None
    input_messages: list[dict[str, Any]] | None = None
    output_messages: list[dict[str, Any]] | None = None
    system_instructions: Any = None
    request_model: str | None = None
    response_model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    finish_reasons: list[str] = field(default_factory=list)
    status: str = "unset"
    error_type: str | None = None
    error_message: str | None = None
    handoff_from: str | None = None
    handoff_to: str | None = None
    start_time_unix_nano: int = 0
    end_time_unix_nano: int = 0
    parent_span_id: str | None = None
    span_kind: str = "internal"
    link_count: int = 0
    # Attributes the SDK dropped over its count limit (128 by default): the oldest indexed messages of a long
    # run go first, so what the messages lack proves nothing.
    dropped_attributes: int = 0

    @property
    def failed(self) -> bool:
        return self.status == "error"

    @property
    def model(self) -> str | None:
        return self.response_model or self.request_model

    @property
    def label(self) -> str:
        """How a user would name this step in a sentence."""
        if self.step_kind == "tool" and self.tool_name:
            return f"`{self.tool_name}`"
        if self.step_kind == "agent" and self.agent_name:
            return f"agent `{self.agent_name}`"
        return f"`{self.name}`"


@dataclass(slots=True)
class AnalysisHandoff:
    handoff_index: int
    from_agent: str | None
    to_agent: str | None
    mechanism: str
    outcome: str
    error_message: str | None
    delegating_step_index: int | None
    target_step_index: int | None
    payload: Any = None


@dataclass(slots=True)
class AgentNorm:
    """What an agent usually does in a session, from the other sessions of the store."""

    sessions: int
    median_steps: float
    median_tokens: float


@dataclass(slots=True)
class SessionSteps:
    session_id: str
    steps: list[AnalysisStep]
    handoffs: list[AnalysisHandoff] = field(default_factory=list)
    norms: dict[str, AgentNorm] = field(default_factory=dict)

    def step(self, index: int | None) -> AnalysisStep | None:
        if index is None or not 0 < index <= len(self.steps):
            return None
        candidate = self.steps[index - 1]
        return (
            candidate if candidate.step_index == index else next((s for s in self.steps if s.step_index == index), None)
        )


def finding(
    session: SessionSteps,
    kind: str,
    sub_kind: str,
    severity: str,
    evidence: list[AnalysisStep],
    explanation: str,
    *,
    agent_name: str | None = None,
    anchor: str | None = None,
) -> Finding:
    """A finding whose id depends on what it is about, not on when it was found.

    The anchor is a span id (stable when late spans shift step indexes), so re-analysis of a grown
    session updates the finding instead of adding a second one.
    """
    ordered = sorted({s.step_index: s for s in evidence}.values(), key=lambda s: s.step_index)
    key = anchor or (ordered[0].span_id if ordered else "")
    digest = hashlib.sha256(f"{session.session_id}\x00{kind}\x00{sub_kind}\x00{key}".encode()).hexdigest()[:24]
    return Finding(
        finding_id=digest,
        session_id=session.session_id,
        kind=kind,
        sub_kind=sub_kind,
        severity=severity,
        agent_name=agent_name
        if agent_name is not None
        else next((s.agent_name for s in ordered if s.agent_name), None),
        step_indexes=[s.step_index for s in ordered],
        span_ids=[s.span_id for s in ordered],
        explanation=explanation,
    )


def step_range(steps: list[AnalysisStep]) -> str:
    """'step 7', 'steps 7 and 9', 'steps 7 to 12' or 'steps 3, 8 and 11'."""
    indexes = sorted({s.step_index for s in steps})
    if not indexes:
        return "no step"
    if len(indexes) == 1:
        return f"step {indexes[0]}"
    if len(indexes) == 2:
        return f"steps {indexes[0]} and {indexes[1]}"
    if indexes == list(range(indexes[0], indexes[-1] + 1)):
        return f"steps {indexes[0]} to {indexes[-1]}"
    shown = indexes if len(indexes) <= 8 else [*indexes[:7]]
    text = ", ".join(str(i) for i in shown[:-1]) + f" and {shown[-1]}"
    if len(indexes) > 8:
        text = ", ".join(str(i) for i in shown) + f" and {len(indexes) - 7} more"
    return f"steps {text}"
