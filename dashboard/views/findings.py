"""Findings across sessions, filterable, a page at a time; a row opens the replay at its first evidence step,
in this tab."""

from __future__ import annotations

import streamlit as st

from api.client import ApiError
from dashboard.data import parse_json
from dashboard.paging import ROW_CLICK, Pager, picked_row, table_key
from dashboard.render import data, unreachable

st.title("Findings")
with st.sidebar:
    kind = st.selectbox("Kind", ["", "context_rot", "runaway_loop", "failed_handoff"], format_func=lambda k: k or "any")
    severity = st.selectbox("Severity", ["", "high", "medium", "low", "note"], format_func=lambda s: s or "any")
    notes = st.checkbox(
        "Include notes",
        help="Notes are signals below a finding: an error that recovered, a limit hit while still making progress, "
        "a hand-off that went through on a second try. The replay shows them at their steps.",
    )
    try:
        agents = data().choices()["agent"]
    except ApiError as exc:
        unreachable(exc)
        st.stop()
    agent = st.selectbox("Agent", ["", *agents], format_func=lambda a: a or "any")

pager = Pager("findings", (kind, severity, agent, notes))


def first_step(steps: object) -> int:
    evidence = parse_json(steps)
    return int(evidence[0]) if isinstance(evidence, list) and evidence else 1


def _open(key: str, targets: list[tuple[str, int]]) -> None:
    """A picked row opens the replay at its evidence, in this tab (the browser's Back returns here)."""
    rows = picked_row(st.session_state[key])
    if rows and rows[0] < len(targets):
        st.session_state["findings_open"] = targets[rows[0]]


chosen = st.session_state.pop("findings_open", None)
if chosen is not None:
    st.switch_page("views/replay.py", query_params={"session": chosen[0], "step": str(chosen[1])})

try:
    while True:
        frame, total = data().findings(kind, severity, agent, notes=notes, limit=pager.size, offset=pager.offset)
        if not pager.past_the_end(total):
            break
except ApiError as exc:
    unreachable(exc)
    st.stop()
if frame.empty:
    st.info(
        "No findings. The collector analyzes each session once it has been quiet for a few seconds; "
        "sessions that loop, lose work between agents or rot over a long run show up here."
    )
    st.stop()

targets = [(str(s), first_step(e)) for s, e in zip(frame["session_id"], frame["step_indexes"], strict=True)]
key = table_key("findings", [f"{s}\x00{e}" for s, e in zip(frame["session_id"], frame["explanation"], strict=True)])
frame["evidence"] = [", ".join(str(i) for i in (parse_json(e) or [])) for e in frame["step_indexes"]]
st.caption(
    f"{pager.caption(total, 'findings')} · page {pager.page:,} of {pager.pages(total):,} · "
    "click a row to open the replay at its first evidence step"
)
st.dataframe(
    frame.drop(columns=["step_indexes"]),
    hide_index=True,
    width="stretch",
    key=key,
    on_select=lambda: _open(key, targets),
    selection_mode=ROW_CLICK,
    column_config={
        "severity": st.column_config.TextColumn("severity", width="small"),
        "kind": st.column_config.TextColumn("kind", width="medium"),
        "sub_kind": st.column_config.TextColumn("what", width="medium"),
        "agent_name": st.column_config.TextColumn("agent", width="small"),
        "explanation": st.column_config.TextColumn("explanation", width="large"),
        "detected_at": st.column_config.DatetimeColumn("detected", format="YYYY-MM-DD HH:mm:ss"),
        "session_id": st.column_config.TextColumn("session", width="medium"),
        "evidence": st.column_config.TextColumn("evidence steps", width="small"),
    },
)
pager.controls(total)
