"""Overview: sessions, steps, tokens, cost, errors and findings over time, in buckets sized to the data's span;
top agents, tools, models; latency."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

from api.client import ApiError
from dashboard.buckets import Bucket
from dashboard.cost import dollars
from dashboard.render import data, empty_store_help, hover, unreachable


def _time(nanos: int) -> str:
    return f"{pd.to_datetime(nanos, unit='ns'):%Y-%m-%d %H:%M}"


RANGES = {
    "busiest": "where the sessions are",
    "all": "all",
    "1": "last hour",
    "24": "last 24 hours",
    "168": "last 7 days",
    "720": "last 30 days",
}

st.title("Overview")
with st.sidebar:
    chosen = st.selectbox(
        "Time range",
        list(RANGES),
        format_func=RANGES.__getitem__,
        help="Where the sessions are: all of them, except the first percentile of their start times when it alone "
        "spans more time than the rest (stray old sessions that would squeeze a day of traffic into one bar).",
    )
try:
    span = data().session_span()
except ApiError as exc:
    unreachable(exc)
    st.stop()
if not span:
    empty_store_help()
    st.stop()
now = time.time_ns()
# A few stray sessions long before the rest (an old capture replayed, a clock off by a year) would stretch the
# axis until the bars of the rest are slivers: "where the sessions are" leaves out the first percentile when
# it alone spans more than the rest do.
stray = span["p01"] - span["first"] > span["last"] - span["p01"]
busiest = span["p01"] if stray else span["first"]
since = {"busiest": busiest, "all": span["first"]}.get(chosen) or now - int(chosen) * 3600 * 10**9
until = span["last"] if chosen in ("busiest", "all") else now
try:
    frames = data().overview(since, until)
except ApiError as exc:
    unreachable(exc)
    st.stop()
bucket: Bucket = frames["bucket"]
per_bucket: pd.DataFrame = frames["per_bucket"]
findings: pd.DataFrame = frames["findings"]
if per_bucket.empty:
    st.info(f"No session started in the {RANGES[chosen]}; {span['sessions']:,} are stored. Pick another range.")
    st.stop()
unpriced = int(per_bucket["unpriced_calls"].sum())
left_out = span["sessions"] - int(per_bucket["sessions"].sum())
st.caption(
    f"Sessions that started {_time(since)} to {_time(until)} UTC, counted per {bucket.name}."
    + (f" {left_out:,} earlier session{'s' if left_out != 1 else ''}, from {_time(span['first'])}, "
       "outside this range ('all' in the sidebar shows them)." if left_out and chosen == "busiest" else "")
)  # fmt: skip

totals = st.columns(6)
totals[0].metric("sessions", f"{int(per_bucket['sessions'].sum()):,}")
totals[1].metric("steps", f"{int(per_bucket['steps'].sum()):,}")
totals[2].metric("tokens", f"{int(per_bucket['tokens'].sum()):,}")
totals[3].metric(
    "cost",
    dollars(per_bucket["cost_usd"].sum(min_count=1)) or "no price",
    help="US dollars of the LLM calls whose model is in the price table (collector/prices.toml, serve --prices)."
    + (f" {unpriced:,} calls with token usage have a model with no price and are not counted." if unpriced else ""),
)
totals[4].metric("errors", f"{int(per_bucket['errors'].sum()):,}")
totals[5].metric("findings", f"{int(findings['findings'].sum()) if not findings.empty else 0:,}")
if unpriced:
    st.caption(f"{unpriced:,} LLM calls have a model with no price: the cost leaves them out.")


def over_time(frame: pd.DataFrame, y: str, title: str, **kwargs: Any) -> Any:
    """Bars one bucket wide on an axis that spans the data (plus half a bucket each side), whatever its span."""
    chart = px.bar(frame, x="time", y=y, title=f"{title} per {bucket.name}", **kwargs)
    width = bucket.seconds * 1000
    chart.update_traces(width=width * 0.9, offset=0)
    chart.update_xaxes(
        range=[pd.to_datetime(since - since % bucket.nanos - bucket.nanos // 2, unit="ns"),
               pd.to_datetime(until - until % bucket.nanos + bucket.nanos * 3 // 2, unit="ns")],
        title=None,
    )  # fmt: skip
    chart.update_layout(bargap=0, height=320, margin={"t": 50, "b": 10})
    return chart


left, right = st.columns(2)
for column, metric, label in ((left, "sessions", "sessions"), (right, "tokens", "tokens"),
                              (left, "steps", "steps"), (right, "cost_usd", "cost (US$)"),
                              (left, "errors", "errors")):  # fmt: skip
    chart = over_time(per_bucket, metric, label)
    if metric == "cost_usd":
        chart.update_yaxes(tickformat="$,.3~r", title="US$")
    column.plotly_chart(chart, width="stretch")
if not findings.empty:
    right.plotly_chart(over_time(findings, "findings", "findings", color="kind"), width="stretch")
# Names come from traces and Plotly renders a subset of HTML in labels: escape them first.
for column, key, x, y in ((left, "agents", "agent_name", "steps"), (right, "tools", "tool_name", "calls"),
                          (left, "models", "model", "calls")):  # fmt: skip
    frame = frames[key]
    if not frame.empty:
        frame[x] = frame[x].map(hover)
        column.plotly_chart(px.bar(frame, x=y, y=x, orientation="h", title=f"top {key}"), width="stretch")
for key, name in (("models", "model"), ("agents", "agent_name")):
    frame = frames[key]
    if not frame.empty and frame["cost_usd"].notna().any():
        priced = frame[frame["cost_usd"].notna()].sort_values("cost_usd", ascending=False)
        right.plotly_chart(
            px.bar(priced, x="cost_usd", y=name, orientation="h", title=f"cost per {key[:-1]} (US$)")
            .update_xaxes(tickformat="$,.3~r", title=None)
            .update_yaxes(title=None)
            # Plotly's default margins would leave a one-bar chart a sliver: room for the title and the ticks only.
            .update_layout(height=110 + 40 * len(priced), margin={"t": 40, "b": 30}),
            width="stretch",
        )
latency = frames["latency"]
if not latency.empty:
    right.plotly_chart(
        px.histogram(latency, x="duration_ms", color="step_kind", log_y=True, nbins=60, title="latency (ms)"),
        width="stretch",
    )
