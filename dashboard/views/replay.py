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
from dashboard.conversation import duration_label, short_duration, short_number, visible
from dashboard.cost import COST_HELP, dollars
from dashboard.data import PAGE, SessionFilter, parse_json
from dashboard.keys import step_keys
from dashboard.render import data, empty_store_help, text, unreachable

WINDOWS = AnalyzerConfig()


# The summary is re-read every couple of seconds (a live session grows); what follows from it (the
# handoffs, the outline, the step tree, the charts, the pages of steps) is built once per version of
# the session, so that "next" on a 20,000-step session reads only the new step. Findings change when the
# analyzer runs, which does not change the session's version: they are read once per analysis.
@st.cache_data(ttl=2, show_spinner=False)
def _summary(url: str, session_id: str) -> dict[str, Any] | None:
    return data().session(session_id)


def _version(summary: dict[str, Any]) -> tuple[int, int]:
    return int(summary["step_count"]), int(summary["last_time_unix_nano"])


def _drawn_as(summary: dict[str, Any]) -> tuple[Any, ...]:
    """What the page around the step view shows of a session: its version and its analysis (the findings)."""
    return _version(summary), summary.get("analysis"), str(summary.get("analyzed_at"))


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


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _findings(url: str, session_id: str, analysis: tuple[Any, ...]) -> pd.DataFrame:
    return data().findings_of(session_id)


# Steps are read a few at a time: the next ones are what "next" asks for, and the previous LLM call
# (whose input the card compares with this one's) is usually among them. Shared, not copied: a step of
# a long conversation carries its whole history.
STEP_BLOCK = 4


@st.cache_resource(ttl=600, max_entries=16, show_spinner=False)
def _steps(url: str, session_id: str, version: tuple[int, int], first: int) -> dict[int, dict[str, Any]]:
    return data().steps(session_id, first, first + STEP_BLOCK - 1)


def _step(session_id: str, version: tuple[int, int], index: int) -> dict[str, Any] | None:
    first = (index - 1) // STEP_BLOCK * STEP_BLOCK + 1
    return _steps(db.client.url, session_id, version, first).get(index)


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
    findings = _findings(db.client.url, session_id, _drawn_as(summary))
except ApiError as exc:
    unreachable(exc)
    st.stop()

total = int(summary["step_count"])
if total == 0:
    st.info("This session has no steps yet.")
    st.stop()

st.text(visible(f"session {session_id}"))
cols = st.columns([1, 1, 1, 1, 1, 1, 2])  # the cost's small amounts need room: $0.000079
cols[0].metric("steps", total)
took = float(summary["duration_ms"])
cols[1].metric("duration", short_duration(took), help=f"{duration_label(took)} ({took:,.0f} ms)")
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


def _current(total: int) -> int:
    try:
        return min(max(int(params.get("step", 1)), 1), total)
    except ValueError:
        return 1


def go_to(step: int) -> None:
    params["step"] = str(min(max(step, 1), total))


# "next" reruns only the step view (Streamlit's fragment): the navigator, the card and the marks of the
# current step. The figures above it and the column beside it (the tree's window, the waterfall's
# chunk, the agents, the token chart, the findings) stay as the browser drew them, which halves a
# click: the browser no longer re-renders a hundred elements and three charts. A move out of the
# tree's window or the waterfall's chunk, a session that grew or was analyzed since, draws the whole
# page again.
_full_run = True


@st.fragment
def _step_view(session_id: str, total: int, version: tuple[int, int], drawn_as: tuple[Any, ...]) -> None:
    try:
        latest = _summary(db.client.url, session_id)
    except ApiError as exc:
        unreachable(exc)
        st.stop()
    if not _full_run and (latest is None or _drawn_as(latest) != drawn_as):
        st.rerun()
    current = _current(total)

    # -- the navigator ---------------------------------------------------------------------------------
    # Two rows: the step view is the card's column, and one row of five cut the buttons' labels.
    nav = [*st.columns([1, 1, 1.2]), *st.columns([1, 1, 1.2])[:2]]
    # Callbacks move the step before the script reruns: one run per click, not two. ``shortcut=`` shows
    # the key on each button; the presses themselves go through dashboard/keys.py (see why there).
    nav[0].button("◀ previous", key="replay-previous", shortcut="K", disabled=current <= 1, width="stretch",
                  on_click=go_to, args=(current - 1,))  # fmt: skip
    nav[1].button("next ▶", key="replay-next", shortcut="J", disabled=current >= total, width="stretch",
                  on_click=go_to, args=(current + 1,))  # fmt: skip

    def _from_widget(key: str) -> None:
        go_to(int(st.session_state[key]))

    # The same widgets on every step, set to the current one: a widget with a new key would be built anew
    # by the browser on every "next".
    st.session_state["replay-jump"] = current
    nav[2].number_input(
        "jump to step",
        min_value=1,
        max_value=total,
        label_visibility="collapsed",
        key="replay-jump",
        on_change=_from_widget,
        args=("replay-jump",),
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
        st.session_state["replay-slider"] = current
        st.slider(
            "step",
            1,
            total,
            label_visibility="collapsed",
            key="replay-slider",
            on_change=_from_widget,
            args=("replay-slider",),
        )
    # After the navigator, so that its buttons show while a big session's outline is read the first time.
    try:
        structure = _structure(db.client.url, session_id, version)
    except ApiError as exc:
        unreachable(exc)
        st.stop()
    # The column beside keeps its window of the tree and its chunk of the waterfall while they show the
    # step; past them, the whole page is drawn again around it.
    beside = st.session_state.get("replay-beside")
    if not isinstance(beside, panel.Beside) or not beside.serves(session_id, version, structure.tree, current):
        st.session_state["replay-beside"] = panel.Beside.around(session_id, version, structure.tree, current)
        if not _full_run:
            st.rerun()
    handoffs = structure.handoffs
    panel.find(lambda text: _matches(db.client.url, str(session_id), version, text), current, go_to)
    panel.handoff_links(structure, current, go_to)

    # Only the page of steps holding the current one is read: a 20,000-step session stays light.
    start = (current - 1) // PAGE * PAGE + 1
    window = _page_of_steps(db.client.url, session_id, start, version)
    step = _step(session_id, version, current)
    if step is None:
        st.warning(f"Step {current} is not there any more; the session was rebuilt. Reload the page.")
        st.stop()

    # The marks of the current step in the column beside: styles, which leave the tree and the chart as drawn.
    chunk = timeline.chunk_start(current)
    figure = _waterfall(db.client.url, session_id, version, chunk)
    marks = panel.current_row_css(current)
    if figure is not None:
        marks += timeline.current_bar_css(figure, panel.waterfall_key(session_id, chunk), current)
    st.html(marks)

    # -- the step card ---------------------------------------------------------------------------------
    step_card.draw(db, session_id, step, current, total, window, lambda index: _step(session_id, version, index))
    made = handoffs[handoffs["delegating_step_index"] == current]
    received = handoffs[handoffs["target_step_index"] == current]
    for label, rows in (("hands off", made), ("receives a handoff", received)):
        for _, h in rows.iterrows():
            st.text(f"{label}: {h['from_agent']} → {h['to_agent']} ({h['mechanism']}, {h['outcome']})")

    # -- under the card: compare this step's input with another's --------------------------------------
    panel.compare(lambda index: _step(session_id, version, index), structure.outline, current, total)


left, right = st.columns([3, 2])
with left:
    try:
        _step_view(str(session_id), total, version, _drawn_as(summary))
    finally:
        _full_run = False

# -- beside the step: the tree, the timeline, the agents, the context, the findings ----------------
beside: panel.Beside = st.session_state["replay-beside"]
structure = _structure(db.client.url, session_id, version)
with right:
    panel.tree(structure, beside.rows, beside.hidden_before, beside.hidden_after, go_to)
    chunk_end = min(beside.chunk + timeline.CHUNK - 1, total)
    panel.waterfall(
        _waterfall(db.client.url, session_id, version, beside.chunk),
        panel.waterfall_key(session_id, beside.chunk),
        go_to,
    )
    panel.agent_graph(structure)
    panel.tokens(_tokens(db.client.url, session_id, version, beside.chunk, chunk_end), beside.chunk, chunk_end)

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
