"""Findings across sessions, filterable, each opening the replay at its first evidence step."""

from __future__ import annotations

import urllib.parse

import streamlit as st

from api.client import ApiError
from dashboard.data import parse_json
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

try:
    frame = data().findings(kind, severity, agent, notes=notes)
except ApiError as exc:
    unreachable(exc)
    st.stop()
if frame.empty:
    st.info(
        "No findings. The collector analyzes each session once it has been quiet for a few seconds; "
        "sessions that loop, lose work between agents or rot over a long run show up here."
    )
    st.stop()


def replay_link(session_id: str, steps: object) -> str:
    evidence = parse_json(steps) or [1]
    first = evidence[0] if isinstance(evidence, list) and evidence else 1
    return f"./replay?session={urllib.parse.quote(str(session_id), safe='')}&step={int(first)}"


frame.insert(0, "replay", [replay_link(s, e) for s, e in zip(frame["session_id"], frame["step_indexes"], strict=True)])
st.caption(f"{len(frame)} findings")
st.dataframe(
    frame,
    hide_index=True,
    width="stretch",
    column_config={
        "replay": st.column_config.LinkColumn("replay", display_text="open"),
        "explanation": st.column_config.TextColumn("explanation", width="large"),
    },
)
