"""Sessions: newest first, filtered and searched, a page at a time; a row opens its replay in this tab.
Refreshes while agents run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from api.client import ApiError
from dashboard.cost import cost_label
from dashboard.data import SessionFilter
from dashboard.paging import ROW_CLICK, Pager, picked_row, table_key
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
    order = st.selectbox("Sort by", ["newest", "oldest", "duration", "steps", "tokens", "cost", "errors"])
    live = st.toggle("Live", value=True, help="Refresh every 5 seconds while agents run.")

# Status, errors, findings and cost first: what a row is scanned for, all in view in a 1440-pixel window.
COLUMNS = [
    "status", "error_count", "findings", "cost", "session_id", "start_time", "duration_s", "root_agent", "step_count",
    "llm_calls", "tool_calls", "handoff_count", "tokens", "service_name", "input_preview",
]  # fmt: skip
pager = Pager("sessions", (search, agent, service, model, status, finding_kind, since, order))


def _open(key: str, session_ids: list[str]) -> None:
    """A picked row opens its replay here, in this tab (the browser's Back returns to this page)."""
    rows = picked_row(st.session_state[key])
    if rows and rows[0] < len(session_ids):
        st.session_state["sessions_open"] = session_ids[rows[0]]


@st.fragment(run_every=5 if live else None)
def table() -> None:
    chosen = st.session_state.pop("sessions_open", None)
    if chosen is not None:
        st.switch_page("views/replay.py", query_params={"session": chosen})
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=since) if since else None
    try:
        while True:
            f = SessionFilter(
                search, agent, status, service, model, finding_kind, since=start, order=order,
                limit=pager.size, offset=pager.offset,
            )  # fmt: skip
            frame, total = data().sessions(f)
            if not pager.past_the_end(total):
                break
    except ApiError as exc:
        unreachable(exc)
        return
    if frame.empty:
        if not any((search, agent, status, service, model, finding_kind, since)):
            empty_store_help()
        else:
            st.info("No session matches these filters.")
        return
    st.caption(
        f"{pager.caption(total, 'sessions')} · page {pager.page:,} of {pager.pages(total):,} · "
        "click a row to open its replay"
    )
    frame["cost"] = [cost_label(c, u) for c, u in zip(frame["cost_usd"], frame["unpriced_calls"], strict=True)]
    frame["findings"] = frame["findings"].fillna("")
    shown = frame.drop(columns=["cost_usd", "unpriced_calls"])
    session_ids = [str(s) for s in frame["session_id"]]
    key = table_key("sessions", session_ids)
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        key=key,
        on_select=lambda: _open(key, session_ids),
        selection_mode=ROW_CLICK,
        column_order=COLUMNS,
        column_config={
            "status": st.column_config.TextColumn("status", width="small"),
            "error_count": st.column_config.NumberColumn("errors", width="small"),
            "findings": st.column_config.TextColumn("findings", width="small"),
            "cost": st.column_config.TextColumn(
                "cost", width="medium", help="US dollars, from the model price table; blank: no token usage recorded"
            ),
            "session_id": st.column_config.TextColumn("session", width="medium"),
            "start_time": st.column_config.DatetimeColumn("start", format="YYYY-MM-DD HH:mm:ss"),
            "duration_s": st.column_config.NumberColumn("duration (s)", format="%.1f", width="small"),
            "root_agent": st.column_config.TextColumn("agent", width="small"),
            "step_count": st.column_config.NumberColumn("steps", width="small"),
            "llm_calls": st.column_config.NumberColumn("LLM calls", width="small"),
            "tool_calls": st.column_config.NumberColumn("tool calls", width="small"),
            "handoff_count": st.column_config.NumberColumn("handoffs", width="small"),
            "tokens": st.column_config.NumberColumn("tokens", format="localized", width="small"),
            "service_name": st.column_config.TextColumn("service", width="small"),
            "input_preview": st.column_config.TextColumn("first request", width="large"),
        },
    )
    pager.controls(total)


table()
