"""SQL over the documented views: examples, a results table, a chart when it fits, CSV download."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from api.client import ApiError
from dashboard.render import data, text

EXAMPLES = {
    "Sessions with errors": "SELECT session_id, root_agent, error_count, start_time FROM sessions "
    "WHERE error_count > 0 ORDER BY start_time DESC",
    "Which tool fails most": "SELECT tool_name, count(*) AS calls, count(*) FILTER (WHERE status = 'error') "
    "AS failures, round(avg(duration_ms)) AS avg_ms FROM tool_calls GROUP BY 1 ORDER BY 3 DESC, 2 DESC",
    "Tokens per agent and model": "SELECT agent_name, model, sum(input_tokens) AS input, sum(output_tokens) "
    "AS output FROM llm_calls GROUP BY 1, 2 ORDER BY 3 DESC",
    # Written to run on both stores (DuckDB and PostgreSQL).
    "Model latency": "SELECT model, count(*) AS calls, "
    "round(percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)) AS p50_ms, "
    "round(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)) AS p95_ms "
    "FROM llm_calls GROUP BY 1 ORDER BY 4 DESC",
    "Findings by kind": "SELECT kind, sub_kind, count(*) AS findings FROM findings GROUP BY 1, 2 ORDER BY 3 DESC",
    "Handoffs that failed": "SELECT session_id, from_agent, to_agent, mechanism, outcome FROM handoffs "
    "WHERE outcome <> 'completed'",
    "Sessions per hour": "SELECT date_trunc('hour', start_time) AS hour, count(*) AS sessions FROM sessions "
    "GROUP BY 1 ORDER BY 1",
    "Cost per model": "SELECT model, count(*) AS calls, sum(cost_usd) AS cost_usd, "
    "count(*) FILTER (WHERE cost_usd IS NULL) AS calls_without_cost FROM llm_calls "
    "GROUP BY 1 ORDER BY 3 DESC NULLS LAST",
    "Most expensive sessions": "SELECT session_id, root_agent, llm_calls, input_tokens, output_tokens, cost_usd, "
    "unpriced_calls FROM sessions WHERE cost_usd IS NOT NULL ORDER BY cost_usd DESC LIMIT 20",
}

st.title("SQL")
st.caption(
    "One read-only statement over the views below. The same API answers `stepseven query` and "
    "POST /api/v1/sql; docs/sql.md describes every column and has more examples."
)
with st.expander("Views and their columns"):
    try:
        for view, columns in data().views().items():
            st.text(f"{view}: " + ", ".join(f"{name} {kind}" for name, kind in columns))
    except ApiError as exc:
        text(str(exc))


def run(sql: str) -> None:
    """Runs ``sql`` and keeps its result (or why it failed) with the query it answers."""
    st.session_state["sql_ran"] = sql
    try:
        st.session_state["sql_result"], st.session_state["sql_warning"] = data().frame_warned(sql)
        st.session_state["sql_error"] = None
    except ApiError as exc:
        st.session_state["sql_result"], st.session_state["sql_error"] = None, str(exc)
        st.session_state["sql_warning"] = None


def pick() -> None:
    """A picked example replaces the query and runs: the old result never sits under the new query."""
    sql = EXAMPLES[st.session_state["sql_example"]]
    st.session_state["sql_text"] = sql
    run(sql)


st.session_state.setdefault("sql_text", EXAMPLES[next(iter(EXAMPLES))])
st.selectbox("Examples", list(EXAMPLES), key="sql_example", on_change=pick)
sql = st.text_area("Query", key="sql_text", height=140)
if st.button("Run", type="primary") or "sql_ran" not in st.session_state:
    run(sql)
if st.session_state["sql_ran"] != sql:
    st.caption("The result below is of the query as it was when it last ran; Run to see this one's.")

if st.session_state.get("sql_error"):
    st.error("The query failed:")
    text(st.session_state["sql_error"])
result: pd.DataFrame | None = st.session_state.get("sql_result")
if result is not None:
    if st.session_state.get("sql_warning"):
        # The collector's own sentence (counts and an error of its store), not trace content.
        st.warning(st.session_state["sql_warning"] + ". Run again in a moment to count them.")
    st.caption(f"{len(result)} rows")
    st.dataframe(result, hide_index=True, width="stretch")
    st.download_button("Download CSV", result.to_csv(index=False), file_name="stepseven.csv", mime="text/csv")
    numeric = [c for c in result.columns if pd.api.types.is_numeric_dtype(result[c])]
    labels = [c for c in result.columns if c not in numeric]
    if numeric and labels and len(result) > 1:
        x = labels[0]
        temporal = pd.api.types.is_datetime64_any_dtype(result[x]) or "time" in x or "hour" in x
        chart = (px.line if temporal else px.bar)(result.head(500), x=x, y=numeric[0])
        chart.update_traces(hovertemplate="%{x}<br>%{y}<extra></extra>")
        st.plotly_chart(chart, width="stretch")
