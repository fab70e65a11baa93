"""Replay: walk one session step by step, like a debugger. The URL carries ?session=...&step=N."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analyzer.config import AnalyzerConfig
from api.client import ApiError
from dashboard import step_card
from dashboard.conversation import duration_label, short_number, visible
from dashboard.cost import COST_HELP, dollars
from dashboard.data import PAGE, SessionFilter, parse_json, peaks
from dashboard.render import data, empty_store_help, hover, text, unreachable

WINDOWS = AnalyzerConfig()


# The summary is re-read every couple of seconds (a live session grows); what follows from it (the
# handoffs, the token series, the pages of steps) is read once per version of the session, so that
# "next" on a 20,000-step session reads only the new step. Findings are small and change when the
# analyzer runs, which does not change the session: they get a short expiry instead.
@st.cache_data(ttl=2, show_spinner=False)
def _summary(url: str, session_id: str) -> dict[str, Any] | None:
    return data().session(session_id)


def _version(summary: dict[str, Any]) -> tuple[int, int]:
    return int(summary["step_count"]), int(summary["last_time_unix_nano"])


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _per_version(url: str, session_id: str, version: tuple[int, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    db = data()
    return db.handoffs(session_id), db.context_series(session_id)


@st.cache_data(ttl=5, show_spinner=False)
def _findings(url: str, session_id: str) -> pd.DataFrame:
    return data().findings_of(session_id)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _page_of_steps(url: str, session_id: str, start: int, version: tuple[int, int]) -> pd.DataFrame:
    return data().step_list(session_id, start, PAGE)


st.title("Replay")
params = st.query_params
db = data()

try:
    session_id = params.get("session")
    if not session_id:
        recent = db.sessions(SessionFilter(limit=50))[0]
        if recent.empty:
            empty_store_help()
            st.stop()
        session_id = st.selectbox("Session", list(recent["session_id"]))
        params["session"] = session_id
    summary = _summary(db.client.url, session_id)
    if summary is None:
        st.warning("There is no such session (yet). Pick one on the Sessions page.")
        st.stop()
    version = _version(summary)
    handoffs, context = _per_version(db.client.url, session_id, version)
    findings = _findings(db.client.url, session_id)
except ApiError as exc:
    unreachable(exc)
    st.stop()

total = int(summary["step_count"])
if total == 0:
    st.info("This session has no steps yet.")
    st.stop()

try:
    current = min(max(int(params.get("step", 1)), 1), total)
except ValueError:
    current = 1


def go_to(step: int) -> None:
    params["step"] = str(min(max(step, 1), total))


st.text(visible(f"session {session_id}"))
cols = st.columns([1, 1, 1, 1, 1, 1, 2])  # the cost's small amounts need room: $0.000079
cols[0].metric("steps", total)
cols[1].metric("duration", duration_label(float(summary["duration_ms"])))
cols[2].metric("LLM calls", int(summary["llm_calls"]))
cols[3].metric("tool calls", int(summary["tool_calls"]))
tokens = int(summary["input_tokens"]) + int(summary["output_tokens"])
# Short, or a narrow column cuts it to "29,231,…"; the exact figure on hover.
cols[4].metric("tokens", short_number(tokens), help=f"{tokens:,} tokens (input and output)")
cols[5].metric("errors", int(summary["error_count"]))
unpriced = int(summary.get("unpriced_calls") or 0)
left_out = f" Not counted: {unpriced:,} LLM call(s) of a model with no price." if unpriced else ""
cols[6].metric(
    "cost", dollars(summary.get("cost_usd")) or ("no price" if unpriced else "none"), help=COST_HELP + left_out
)

# -- the navigator ---------------------------------------------------------------------------------
nav = st.columns([1, 1, 2, 1.3, 1.3])
# Callbacks move the step before the script reruns: one run per click, not two.
nav[0].button("◀ previous", disabled=current <= 1, width="stretch", on_click=go_to, args=(current - 1,))
nav[1].button("next ▶", disabled=current >= total, width="stretch", on_click=go_to, args=(current + 1,))


def _from_widget(key: str) -> None:
    go_to(int(st.session_state[key]))


# Widgets keyed by step, so that they show the current step after every move.
nav[2].number_input(
    "jump to step",
    min_value=1,
    max_value=total,
    value=current,
    label_visibility="collapsed",
    key=f"jump-{current}",
    on_change=_from_widget,
    args=(f"jump-{current}",),
)


def _to_next(what: str) -> None:
    found = db.next_marked_step(str(session_id), current, what)
    if found is None:
        st.toast(f"No {what} after step {current}.")
    else:
        go_to(found)


nav[3].button("next error", width="stretch", on_click=_to_next, args=("error",))
nav[4].button("next finding", width="stretch", on_click=_to_next, args=("finding",))
if total > 1:
    st.slider(
        "step",
        1,
        total,
        current,
        label_visibility="collapsed",
        key=f"slider-{current}",
        on_change=_from_widget,
        args=(f"slider-{current}",),
    )

# Only the page of steps holding the current one is read: a 20,000-step session stays light.
start = (current - 1) // PAGE * PAGE + 1
window = _page_of_steps(db.client.url, session_id, start, version)
step = db.step(session_id, current)
if step is None:
    st.warning(f"Step {current} is not there any more; the session was rebuilt. Reload the page.")
    st.stop()

left, right = st.columns([3, 2])

# -- the step card ---------------------------------------------------------------------------------
with left:
    step_card.draw(db, str(session_id), step, current, total, window)

    made = handoffs[handoffs["delegating_step_index"] == current]
    received = handoffs[handoffs["target_step_index"] == current]
    for label, rows in (("hands off", made), ("receives a handoff", received)):
        for _, h in rows.iterrows():
            st.text(f"{label}: {h['from_agent']} → {h['to_agent']} ({h['mechanism']}, {h['outcome']})")

# -- beside it: timeline, agents, context, findings ------------------------------------------------
with right:
    st.markdown("#### Timeline")
    if not window.empty:
        frame = window.copy()
        t0 = int(frame["start_time_unix_nano"].min())
        frame["start_s"] = (frame["start_time_unix_nano"] - t0) / 1e9
        frame["length_s"] = ((frame["end_time_unix_nano"] - frame["start_time_unix_nano"]) / 1e9).clip(lower=1e-3)
        frame["lane"] = frame["agent_name"].fillna("(no agent)").map(hover)
        colors = [
            "crimson" if i == current else ("orange" if s == "error" else "steelblue")
            for i, s in zip(frame["step_index"], frame["status"], strict=True)
        ]
        labels = [
            hover(f"#{i} {k} {n}")
            for i, k, n in zip(frame["step_index"], frame["step_kind"], frame["name"], strict=True)
        ]
        timeline = go.Figure(
            go.Bar(
                x=frame["length_s"],
                base=frame["start_s"],
                y=frame["lane"],
                orientation="h",
                marker_color=colors,
                hovertext=labels,
                hoverinfo="text",
            )
        )
        timeline.update_layout(
            height=max(200, 40 * frame["lane"].nunique() + 80),
            margin={"t": 10, "b": 30, "l": 10, "r": 10},
            xaxis_title=f"seconds (steps {start} to {start + len(frame) - 1})",
            showlegend=False,
        )
        st.plotly_chart(timeline, width="stretch")

    if not handoffs.empty:
        st.markdown("#### Agents")
        names = sorted({str(a) for a in pd.concat([handoffs["from_agent"], handoffs["to_agent"]]).dropna()})
        position = {
            name: (math.cos(2 * math.pi * k / len(names)), math.sin(2 * math.pi * k / len(names)))
            for k, name in enumerate(names)
        }
        graph = go.Figure()
        for _, h in handoffs.iterrows():
            if h["from_agent"] in position and h["to_agent"] in position:
                (x0, y0), (x1, y1) = position[h["from_agent"]], position[h["to_agent"]]
                graph.add_annotation(
                    x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y",
                    showarrow=True, arrowhead=3, arrowwidth=1.5,
                    arrowcolor="crimson" if h["outcome"] != "completed" else "grey",
                )  # fmt: skip
        graph.add_trace(
            go.Scatter(
                x=[position[n][0] for n in names],
                y=[position[n][1] for n in names],
                mode="markers+text",
                text=[hover(n, 40) for n in names],
                textposition="top center",
                hovertext=[hover(n) for n in names],
                hoverinfo="text",
                marker={"size": 18},
            )
        )
        graph.update_layout(
            height=260, margin={"t": 10, "b": 10, "l": 10, "r": 10}, showlegend=False,
            xaxis={"visible": False, "range": [-1.5, 1.5]}, yaxis={"visible": False, "range": [-1.5, 1.5]},
        )  # fmt: skip
        st.plotly_chart(graph, width="stretch")

    if not context.empty:
        st.markdown("#### Input tokens per LLM call")
        shown = peaks(context, current)
        chart = go.Figure(
            go.Scatter(
                x=shown["step_index"],
                y=shown["input_tokens"],
                mode="lines+markers" if len(shown) < 200 else "lines",
                hovertext=[hover(f"step {i}: {m}") for i, m in zip(shown["step_index"], shown["model"], strict=True)],
                hoverinfo="text+y",
            )
        )
        windows = {WINDOWS.context_window(m) for m in context["model"]} - {None}
        for size in windows:
            chart.add_hline(y=size, line_dash="dash", annotation_text=f"window {size:,}")
        chart.add_vline(x=current, line_color="crimson")
        chart.update_layout(height=220, margin={"t": 10, "b": 30, "l": 10, "r": 10}, xaxis_title="step")
        st.plotly_chart(chart, width="stretch")

    st.markdown("#### Findings")
    # One line of plain text (st.text, never markdown): the error can quote trace content.
    analysis = summary.get("analysis")
    if analysis == "failed":
        st.text(f"Analysis failed: {summary.get('analysis_error') or 'unknown error'}; retried automatically")
    elif analysis == "pending":
        st.text("Findings not computed yet: the analyzer runs once the session has been quiet for a while")
    elif findings.empty:
        st.caption("none in this session")
    for k, f in findings.iterrows():
        evidence: Any = parse_json(f["step_indexes"]) or []
        st.text(f"{str(f['severity']).upper()} {f['kind']} / {f['sub_kind']}")
        text(f["explanation"])
        if evidence:
            st.button(f"go to step {evidence[0]}", key=f"finding-{k}", on_click=go_to, args=(int(evidence[0]),))
