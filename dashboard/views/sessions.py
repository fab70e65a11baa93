"""Sessions: newest first, filtered and searched, each a link to its replay. Refreshes while agents run."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime, timedelta

import streamlit as st

from api.client import ApiError
from dashboard.data import SessionFilter
from dashboard.render import data, empty_store_help, unreachable

st.title("Sessions")

with st.sidebar:
    search = st.text_input("Search", placeholder="session id, agent, tool or prompt text")
    try:
        choices = data().choices()
    except ApiError as exc:
        unreachable(exc)
        st.stop()
    agent = st.selectbox("Agent", ["", *choices["agent"]], format_func=lambda a: a or "any")
    service = st.selectbox("Service", ["", *choices["service"]], format_func=lambda a: a or "any")
    model = st.selectbox("Model", ["", *choices["model"]], format_func=lambda a: a or "any")
    status = st.selectbox("Status", ["", "ok", "error"], format_func=lambda s: s or "any")
    finding_kind = st.selectbox(
        "Finding", ["", "context_rot", "runaway_loop", "failed_handoff"], format_func=lambda k: k or "any"
    )
    since = st.selectbox(
        "Time range",
        [0.0, 1.0, 24.0, 168.0],
        format_func=lambda h: {0.0: "all", 1.0: "last hour"}.get(h, f"last {h:g} h"),
    )
    order = st.selectbox("Sort by", ["newest", "duration", "steps", "tokens", "errors"])
    live = st.toggle("Live", value=True, help="Refresh every 5 seconds while agents run.")


@st.fragment(run_every=5 if live else None)
def table() -> None:
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=since) if since else None
    f = SessionFilter(search, agent, status, service, model, finding_kind, since=start, order=order, limit=500)
    try:
        frame, total = data().sessions(f)
    except ApiError as exc:
        unreachable(exc)
        return
    if frame.empty:
        if not any((search, agent, status, service, model, finding_kind, since)):
            empty_store_help()
        else:
            st.info("No session matches these filters.")
        return
    frame.insert(0, "replay", ["./replay?session=" + urllib.parse.quote(str(s), safe="") for s in frame["session_id"]])
    st.caption(f"{total:,} sessions" if total == len(frame) else f"the first {len(frame):,} of {total:,} sessions")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "replay": st.column_config.LinkColumn("replay", display_text="open"),
            "start_time": st.column_config.DatetimeColumn("start", format="YYYY-MM-DD HH:mm:ss"),
            "duration_s": st.column_config.NumberColumn("duration (s)", format="%.1f"),
            "input_preview": st.column_config.TextColumn("first request", width="large"),
        },
    )


table()
