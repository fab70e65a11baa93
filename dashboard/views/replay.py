"""Replay: walk one session step by step, like a debugger. The URL carries ?session=...&step=N.

Around the step card: the navigator (buttons with keys: j/k or the arrows, n for the next finding,
e for the next error), find-in-session, the handoff links, and beside the card the step tree, the
waterfall, the agent graph and the token chart (dashboard/structure.py), built once per version of
the session so that a step costs the same on a 20,000-step or 1,000-handoff session.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analyzer.config import AnalyzerConfig
from api.client import ApiError
from dashboard import preload, step_card, timeline
from dashboard import structure as panel
from dashboard.conversation import duration_label, short_number, visible
from dashboard.cost import COST_HELP, dollars
from dashboard.data import PAGE, SessionFilter, parse_json
from dashboard.keys import step_keys
from dashboard.render import data, empty_store_help, text, unreachable

WINDOWS = AnalyzerConfig()


# The summary is re-read every couple of seconds (a live session grows); what follows from it (the
# handoffs, the outline, the step tree, the charts, the pages of steps) is built once per version of
# the session, so that "next" on a 20,000-step session reads only the new step. Findings are small and
# change when the analyzer runs, which does not change the session: they get a short expiry instead.
@st.cache_data(ttl=2, show_spinner=False)
def _summary(url: str, session_id: str) -> dict[str, Any] | None:
    return data().session(session_id)


def _version(summary: dict[str, Any]) -> tuple[int, int]:
    return int(summary["step_count"]), int(summary["last_time_unix_nano"])


# Resources, not data: read-only objects shared by the reruns, not copied (a 20,000-step tree would be).
@st.cache_resource(ttl=3600, max_entries=8, show_spinner=False)
def _structure(url: str, session_id: str, version: tuple[int, int]) -> panel.Structure:
    return panel.build_structure(data(), session_id)


@st.cache_resource(ttl=3600, max_entries=64, show_spinner=False)
def _waterfall(url: str, session_id: str, version: tuple[int, int], first: int) -> go.Figure | None:
    return timeline.waterfall(_structure(url, session_id, version).outline, first)


@st.cache_resource(ttl=3600, max_entries=64, show_spinner=False)
def _tokens(url: str, session_id: str, version: tuple[int, int], first: int, last: int) -> go.Figure | None:
    figure = _structure(url, session_id, version).tokens
    return None if figure is None else timeline.mark_chunk(figure, first, last)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _matches(url: str, session_id: str, version: tuple[int, int], text: str) -> list[int]:
    return data().search_steps(session_id, text)


@st.cache_data(ttl=5, show_spinner=False)
def _findings(url: str, session_id: str) -> pd.DataFrame:
    return data().findings_of(session_id)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _page_of_steps(url: str, session_id: str, start: int, version: tuple[int, int]) -> pd.DataFrame:
    return data().step_list(session_id, start, PAGE)


st.title("Replay")
preload.element_code()  # with the first element: a fresh tab fetches the code of the elements meanwhile
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
# Callbacks move the step before the script reruns: one run per click, not two. ``shortcut=`` shows
# the key on each button; the presses themselves go through dashboard/keys.py (see why there).
nav[0].button("◀ previous", key="replay-previous", shortcut="K", disabled=current <= 1, width="stretch",
              on_click=go_to, args=(current - 1,))  # fmt: skip
nav[1].button("next ▶", key="replay-next", shortcut="J", disabled=current >= total, width="stretch",
              on_click=go_to, args=(current + 1,))  # fmt: skip


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


nav[3].button("next error", key="replay-next-error", shortcut="E", width="stretch", on_click=_to_next,
              args=("error",))  # fmt: skip
nav[4].button("next finding", key="replay-next-finding", shortcut="N", width="stretch", on_click=_to_next,
              args=("finding",))  # fmt: skip
step_keys(previous="replay-previous", next="replay-next", finding="replay-next-finding", error="replay-next-error")
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
# After the navigator, so that its buttons show while a big session's outline is read the first time.
try:
    structure = _structure(db.client.url, session_id, version)
except ApiError as exc:
    unreachable(exc)
    st.stop()
handoffs = structure.handoffs
panel.find(lambda text: _matches(db.client.url, str(session_id), version, text), current, go_to)
panel.handoff_links(structure, current, go_to)

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
    panel.tree(structure, current, go_to)
    chunk, chunk_end = timeline.chunk_start(current), min(timeline.chunk_start(current) + timeline.CHUNK - 1, total)
    panel.waterfall(_waterfall(db.client.url, session_id, version, chunk), session_id, current, go_to)
    panel.agent_graph(structure)
    panel.tokens(_tokens(db.client.url, session_id, version, chunk, chunk_end), chunk, chunk_end)

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

# -- under the card: compare this step's input with another's --------------------------------------
with left:
    panel.compare(lambda index: db.step(str(session_id), index), structure.outline, current, total)
