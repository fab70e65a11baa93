"""Overview: sessions, steps, tokens, errors and findings over time; top agents, tools, models; latency."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from api.client import ApiError
from dashboard.render import data, empty_store_help, hover, unreachable

st.title("Overview")
try:
    frames = data().overview()
except ApiError as exc:
    unreachable(exc)
    st.stop()
per_hour = frames["per_hour"]
if per_hour.empty:
    empty_store_help()
    st.stop()

totals = st.columns(5)
totals[0].metric("sessions", f"{int(per_hour['sessions'].sum()):,}")
totals[1].metric("steps", f"{int(per_hour['steps'].sum()):,}")
totals[2].metric("tokens", f"{int(per_hour['tokens'].sum()):,}")
totals[3].metric("errors", f"{int(per_hour['errors'].sum()):,}")
totals[4].metric(
    "findings",
    f"{int(frames['findings_per_hour']['findings'].sum()) if not frames['findings_per_hour'].empty else 0:,}",
)

left, right = st.columns(2)
for column, metric in ((left, "sessions"), (right, "tokens"), (left, "steps"), (right, "errors")):
    column.plotly_chart(px.bar(per_hour, x="hour", y=metric, title=f"{metric} per hour"), width="stretch")
if not frames["findings_per_hour"].empty:
    right.plotly_chart(
        px.bar(frames["findings_per_hour"], x="hour", y="findings", color="kind", title="findings per hour"),
        width="stretch",
    )
# Names come from traces and Plotly renders a subset of HTML in labels: escape them first.
for column, key, x, y in ((left, "agents", "agent_name", "steps"), (right, "tools", "tool_name", "calls"),
                          (left, "models", "model", "calls")):  # fmt: skip
    frame = frames[key]
    if not frame.empty:
        frame[x] = frame[x].map(hover)
        column.plotly_chart(px.bar(frame, x=y, y=x, orientation="h", title=f"top {key}"), width="stretch")
latency = frames["latency"]
if not latency.empty:
    right.plotly_chart(
        px.histogram(latency, x="duration_ms", color="step_kind", log_y=True, nbins=60, title="latency (ms)"),
        width="stretch",
    )
