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
from dashboard.conversation import as_text, key_value_text, shown, size_label, turns, visible
from dashboard.data import DashboardData
from stepseven.samples import send_samples_command

DEFAULT_URL = "http://127.0.0.1:4319"


@st.cache_resource
def _data(url: str) -> DashboardData:
    return DashboardData(url)


def data() -> DashboardData:
    return _data(os.environ.get("STEPSEVEN_URL", DEFAULT_URL))


def text(value: Any, *, language: str = "text") -> None:
    """Trace content as literal text (wrapped, copyable), invisible and reordering characters shown."""
    if value is None:
        return
    if not isinstance(value, str):
        value = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
        language = "json"
    st.code(visible(value), language=language, wrap_lines=True)


def hover(value: Any, limit: int = 200) -> str:
    """Text for a Plotly hover label: escaped, because Plotly renders a subset of HTML there."""
    raw = "" if value is None else str(value)
    raw = raw if len(raw) <= limit else raw[: limit - 1] + "…"
    return html.escape(visible(raw))


TALL_CHARS, TALL_LINES, TALL_PIXELS = 2_500, 30, 420


def long_text(value: Any, name: str, *, language: str = "text") -> None:
    """Trace content that may be huge: up to a few thousand characters shown, beyond that a head with
    the size and a download of the whole (a megabyte in a code block costs the browser seconds)."""
    whole = as_text(value)
    if not isinstance(value, str) and value is not None:
        language = "json"
    seen = shown(whole)
    # A tall text scrolls in its own box, so that the turns after it stay near.
    tall = len(seen.head) > TALL_CHARS or seen.head.count("\n") > TALL_LINES
    st.code(seen.head, language=language if not seen.cut_here else "text", wrap_lines=True,
            height=TALL_PIXELS if tall else "content")  # fmt: skip
    if seen.cut_here:
        st.caption(f"Showing the first {len(seen.head):,} of {size_label(seen.total)}.")
        st.download_button(
            f"download all {size_label(seen.total)}",
            data=whole,
            file_name=f"{name}.{'json' if language == 'json' else 'txt'}",
            mime="application/json" if language == "json" else "text/plain",
            key=f"download-{name}",
            on_click="ignore",  # a download needs no rerun of the page
            icon=":material/download:",
        )
    if seen.cut_by_collector:
        st.caption(
            f"The collector stored only the start of this value: {seen.cut_by_collector:,} characters past its "
            "limit for one attribute (serve --max-attribute-value-bytes) were cut."
        )


# st.chat_message shows its own icon for "user" and "assistant"; the other roles get one of these.
_AVATARS = {"system": ":material/settings:", "tool": ":material/build:", "developer": ":material/settings:"}
_ASSISTANT = {"assistant", "model", "ai", "bot"}


def conversation(items: Any, name: str) -> None:
    """Messages as chat turns: who speaks, their text, tool calls with readable arguments, tool results.

    ``name`` makes the downloads of this conversation's long parts distinct (file names and widget keys)."""
    for t, turn in enumerate(turns(items)):
        role = turn.role.lower()
        speaker = "assistant" if role in _ASSISTANT else "user" if role in ("user", "human") else "other"
        avatar = _AVATARS.get(role, ":material/chat:") if speaker == "other" else None
        with st.chat_message(speaker, avatar=avatar):
            st.text(visible(turn.role) if turn.role else "(no role)")
            for p, part in enumerate(turn.parts):
                where = f"{name}-{t + 1}-{p + 1}"
                call_id = f"  ·  id {visible(part.call_id)}" if part.call_id else ""
                if part.kind == "tool_call":
                    st.text(f"→ tool call {visible(part.name)}{call_id}")
                    if part.arguments is not None:
                        long_text(key_value_text(part.arguments), f"{where}-arguments")
                    elif part.text:
                        long_text(part.text, f"{where}-arguments")
                elif part.kind == "tool_result":
                    st.text(f"← tool result{call_id}")
                    long_text(part.text, f"{where}-result")
                else:
                    long_text(part.text, where, language="json" if part.kind == "other" else "text")


def messages(items: Any, name: str = "messages") -> None:
    """GenAI parts-model messages as chat turns (see ``conversation``)."""
    if items:
        conversation(items, name)


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
