"""The replay's step card: one step as a conversation (what it was given, what it returned), its facts,
and its raw JSON one click away. All trace content goes through render's plain-text components."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from analyzer.config import AnalyzerConfig
from dashboard.conversation import (
    agent_exchange,
    duration_label,
    error_line,
    key_value_text,
    key_values,
    raw_json,
    short_duration,
    short_number,
    size_label,
    status_label,
    system_text,
    visible,
)
from dashboard.cost import step_cost
from dashboard.data import DashboardData, parse_json, previous_call
from dashboard.render import conversation, data, long_text, text

WINDOWS = AnalyzerConfig()

# Where agent spans keep their run when the steps view has no messages for them (Pydantic AI).
_AGENT_SQL = (
    "SELECT attributes->>'pydantic_ai.all_messages' AS all_messages, attributes->>'final_result' AS final_result "
    "FROM spans WHERE trace_id = $1 AND span_id = $2"
)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _agent_run(url: str, trace_id: str, span_id: str) -> dict[str, Any]:
    frame = data().frame(_AGENT_SQL, [trace_id, span_id], limit=1)
    if frame.empty:
        return {}
    row = frame.iloc[0]
    return {k: parse_json(row[k]) for k in ("all_messages", "final_result") if isinstance(row[k], str)}


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _facts(step: dict[str, Any]) -> str | None:
    """The figures in a row of metrics (short, so they fit), and the model; the exact figures in a line below."""
    status = status_label(step.get("status"), step.get("error_type"))
    latency = _number(step.get("duration_ms")) or 0.0
    tokens = {
        label: _number(step.get(column))
        for label, column in (("input tokens", "input_tokens"), ("output tokens", "output_tokens"),
                              ("cached", "cache_read_input_tokens"))
    }  # fmt: skip
    facts = st.columns(4)
    facts[0].metric("status", status, help="OpenTelemetry status 'unset': no error reported" if step.get(
        "status") == "unset" and status == "ok" else None)  # fmt: skip
    facts[1].metric("latency", short_duration(latency), help=f"{duration_label(latency)} ({latency:,.2f} ms)")
    for column, label in ((facts[2], "input tokens"), (facts[3], "output tokens")):
        value = tokens[label]
        if value is not None:
            column.metric(label, short_number(value), help=f"{value:,.0f} {label}")
    exact = [f"{v:,.0f} {k}" for k, v in tokens.items() if v is not None]
    model = step.get("response_model") or step.get("request_model")
    if model:
        exact.append(f"model {model}")
    if exact:
        st.text(visible(" · ".join(exact)))
    return str(model) if model else None


def _gauge(step: dict[str, Any], model: str | None) -> None:
    input_tokens = _number(step.get("input_tokens"))
    window_size = WINDOWS.context_window(model)
    if not input_tokens or not window_size:
        return
    share = input_tokens / window_size
    # A bar, not a Plotly gauge: a chart whose figure changes with every step is built anew by the
    # browser on every "next" (about 20 ms of Plotly and a relayout), for one number.
    st.progress(
        min(share, 1.0),
        text=f"context used: {share * 100:.1f}% of the {window_size:,}-token window ({input_tokens:,.0f} tokens)",
    )
    if share >= 0.9:
        st.caption("⚠ the input is at 90% or more of the model's window: the next turns may lose context")


def draw(db: DashboardData, session_id: str, step: dict[str, Any], current: int, total: int,
         window: pd.DataFrame, step_of: Callable[[int], dict[str, Any] | None]) -> None:  # fmt: skip
    """The card of step ``current``; ``window`` is the page of steps around it and ``step_of`` reads one
    (for the history repeated from the previous call)."""
    kind = str(step.get("step_kind") or "step")
    st.subheader(f"Step {current} of {total} · {kind}{step_cost(step)}")
    who = [step.get("name"), f"agent {step['agent_name']}" if step.get("agent_name") else None]
    st.text(visible(" · ".join(str(v) for v in who if v)))
    model = _facts(step)
    if status_label(step.get("status"), step.get("error_type")) == "error":
        st.error("This step failed:")
        text(error_line(step.get("error_type"), step.get("error_message")) or "(no error message recorded)")

    run: dict[str, Any] = {}
    if kind == "agent" and not step.get("input_messages") and not step.get("output_messages"):
        run = _agent_run(db.client.url, str(step["trace_id"]), str(step["span_id"]))
    name = f"step-{current}"
    # Keyed by session and step: the raw view is a choice per step, not sticky across steps.
    if st.toggle("raw JSON", key=f"raw-{session_id}-{current}", help="the step as stored, every column"):
        long_text(raw_json({**step, **({"agent_run": run} if run else {})}), f"{name}-raw", language="json")
        return
    if kind == "llm":
        _gauge(step, model)

    st.markdown("#### What it was given")
    instructions = system_text(step.get("system_instructions"))
    if instructions:
        with st.expander(f"system instructions · {size_label(len(instructions))}", icon=":material/settings:"):
            long_text(instructions, f"{name}-system")
    inputs = step.get("input_messages")
    exchange = agent_exchange(run.get("all_messages"), run.get("final_result")) if run else None
    if kind == "llm" and isinstance(inputs, list):
        earlier = previous_call(window, current, step.get("agent_name"))
        previous = (step_of(earlier) or {}).get("input_messages") if earlier is not None else None
        repeated = len(previous) if isinstance(previous, list) and inputs[: len(previous)] == previous else 0
        if repeated:
            with st.expander(f"{repeated} earlier message(s), repeated from the previous call"):
                conversation(inputs[:repeated], f"{name}-earlier")
        st.caption(f"new at this step: {len(inputs) - repeated} message(s)")  # counts only, no content
        conversation(inputs[repeated:], f"{name}-input")
    elif inputs:
        conversation(inputs, f"{name}-input")
    elif exchange is not None and exchange.request:
        st.caption("the request the agent got")
        conversation(_turns_as_messages(exchange.request), f"{name}-request")
    if step.get("tool_arguments") is not None:
        tool = step.get("tool_name")
        st.text(visible(f"tool arguments ({tool})" if tool else "tool arguments"))
        rows = key_values(step["tool_arguments"])
        long_text(key_value_text(rows) if rows else step["tool_arguments"], f"{name}-arguments")

    st.markdown("#### What it decided or returned")
    outputs = step.get("output_messages")
    if outputs:
        conversation(outputs, f"{name}-output")
    if step.get("tool_result") is not None:
        st.text("tool result")
        long_text(step["tool_result"], f"{name}-result")
    if exchange is not None and exchange.answer is not None:
        st.caption("the answer the agent gave")
        conversation([{"role": "assistant", "content": exchange.answer}], f"{name}-answer")
    if exchange is not None and exchange.conversation:
        with st.expander(f"the agent's whole conversation ({len(exchange.conversation)} messages)"):
            conversation(run.get("all_messages"), f"{name}-run")
    if not outputs and step.get("tool_result") is None and (exchange is None or exchange.answer is None):
        st.caption("nothing recorded")


def _turns_as_messages(items: list[Any]) -> list[dict[str, Any]]:
    """Turns back to parts-model messages, for ``conversation`` (which draws messages)."""
    return [
        {"role": t.role, "parts": [{"type": "text", "content": p.text} for p in t.parts if p.kind == "text"]}
        for t in items
    ]
