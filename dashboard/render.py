"""Showing trace content safely: prompts and completions are hostile input.

Everything written by users or models goes through ``st.code`` / ``st.text`` / dataframes (plain
text), never through Markdown or HTML; Plotly hover text is HTML-escaped.
"""

from __future__ import annotations

import html
import os
from typing import Any

import orjson
import streamlit as st

from api.client import ApiError
from dashboard.data import DashboardData
from stepseven.samples import send_samples_command

DEFAULT_URL = "http://127.0.0.1:4319"


@st.cache_resource
def _data(url: str) -> DashboardData:
    return DashboardData(url)


def data() -> DashboardData:
    return _data(os.environ.get("STEPSEVEN_URL", DEFAULT_URL))


def text(value: Any, *, language: str = "text") -> None:
    """Trace content as literal text (wrapped, copyable)."""
    if value is None:
        return
    if not isinstance(value, str):
        value = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
        language = "json"
    st.code(value, language=language, wrap_lines=True)


def hover(value: Any, limit: int = 200) -> str:
    """Text for a Plotly hover label: escaped, because Plotly renders a subset of HTML there."""
    raw = "" if value is None else str(value)
    raw = raw if len(raw) <= limit else raw[: limit - 1] + "…"
    return html.escape(raw)


def messages(items: Any) -> None:
    """GenAI parts-model messages, one block per part, all as text."""
    if not items:
        return
    if not isinstance(items, list):
        text(items)
        return
    for message in items:
        if not isinstance(message, dict):
            text(message)
            continue
        st.text(f"[{message.get('role', '?')}]")
        for part in message.get("parts") or []:
            if not isinstance(part, dict):
                text(part)
            elif part.get("type") == "text":
                text(part.get("content"))
            elif part.get("type") == "tool_call":
                st.text(f"→ tool call {part.get('name')} (id {part.get('id')})")
                text(part.get("arguments"))
            elif part.get("type") == "tool_call_response":
                st.text(f"← tool result (id {part.get('id')})")
                text(part.get("response"))
            else:
                text(part)


def degraded_banner() -> None:
    """On every page: what the collector could not store, build or analyze yet (its /healthz problems)."""
    try:
        health = data().client.health()
    except ApiError:
        return  # the page itself says the collector does not answer
    problems = health.get("problems") or []
    if health.get("status") != "degraded" or not problems:
        return
    st.warning(
        "The collector is degraded: some data it acknowledged is not stored, in a session or analyzed yet. "
        "It retries by itself; counts and findings may be short until then."
    )
    for problem in problems:
        text(str(problem))  # plain text: it names sessions, whose ids come from traces


def empty_store_help() -> None:
    st.info("No sessions yet. Point an agent's OpenTelemetry exporter at this collector, or send it the samples.")
    try:
        endpoints = data().endpoints()
    except ApiError:
        endpoints = None
    st.code(where_to_send(endpoints), language="bash")


def where_to_send(endpoints: dict[str, str | None] | None) -> str:
    """How to send data to the collector, on the ports it listens on (its /healthz says which)."""
    if endpoints is None:  # a collector that does not say (older than this dashboard)
        return (
            "export OTEL_EXPORTER_OTLP_ENDPOINT=http://COLLECTOR:4318   # its OTLP/HTTP address (serve --http-port)\n"
            "# or, to see something right away:\n" + send_samples_command("http://COLLECTOR:4318")
        )
    http, grpc = endpoints.get("otlp_http"), endpoints.get("otlp_grpc")
    if not http or not grpc:
        return (
            "# This collector runs without OTLP receivers (serve --no-receivers): it only shows what is stored.\n"
            "# Send data to a collector that receives, on the same store."
        )
    return (
        f"export OTEL_EXPORTER_OTLP_ENDPOINT={http}     # OTLP/HTTP\n"
        f"# or: OTEL_EXPORTER_OTLP_ENDPOINT=http://{grpc} OTEL_EXPORTER_OTLP_PROTOCOL=grpc\n"
        "# or, to see something right away:\n" + send_samples_command(http)
    )


def unreachable(exc: Exception) -> None:
    st.error("The collector's query API does not answer, or refused the request:")
    text(str(exc))
    st.code("stepseven serve    # or: stepseven dashboard --url http://HOST:4319", language="bash")
