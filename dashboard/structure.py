"""The replay's structure beside the step card: what is computed once per version of a session (the
outline, the step tree, the charts) and how it is drawn (the tree, the handoff links, the waterfall,
the agent graph, the token chart, find-in-session and compare).

Names of agents, tools and steps come from traces: button labels are Markdown in Streamlit, so they
go through ``plain_label``; everything else is ``st.text`` / ``st.code`` or escaped Plotly text.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analyzer.config import AnalyzerConfig
from dashboard import timeline
from dashboard.compare import diff
from dashboard.data import DashboardData, peaks
from dashboard.step_tree import Row, StepTree, ancestors, build_tree, still_shows, window

WINDOWS = AnalyzerConfig()
GoTo = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Structure:
    """Everything of a session that does not change from one step to the next (one version of it)."""

    handoffs: pd.DataFrame
    outline: pd.DataFrame
    context: pd.DataFrame  # step_index, agent_name, model, input_tokens of each LLM call
    tree: StepTree
    graph: go.Figure | None
    agents_left_out: int
    tokens: go.Figure | None


def build_structure(db: DashboardData, session_id: str) -> Structure:
    handoffs = db.handoffs(session_id)
    outline = db.outline(session_id)
    llm = outline[(outline["step_kind"] == "llm") & outline["input_tokens"].notna()]
    context = pd.DataFrame(
        {
            "step_index": llm["step_index"],
            "agent_name": llm["agent_name"],
            "model": llm["response_model"].fillna(llm["request_model"]),
            "input_tokens": llm["input_tokens"],
        }
    )
    graph, left_out = timeline.agent_graph(handoffs)
    tokens = None
    if not context.empty:
        windows = {w for w in (WINDOWS.context_window(m) for m in context["model"].dropna().unique()) if w}
        tokens = timeline.token_chart(peaks(context, 0), windows)
    return Structure(handoffs, outline, context, build_tree(outline, handoffs), graph, left_out, tokens)


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&^])")


def plain_label(value: str) -> str:
    """Text for a Streamlit label (Markdown there): every Markdown character escaped, so that a name such
    as ``![x](http://host/pixel)`` or ``:red[...]`` stays the literal text it is."""
    return _MARKDOWN.sub(r"\\\1", value.replace("\n", " "))


def _short(value: Any, limit: int = 48) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- the step tree ----------------------------------------------------------------------------------

# Compact rows: the tree is a list of link-like buttons, one per step. Static CSS, no trace content.
_TREE_CSS = """<style>
div.st-key-step-tree[data-testid="stVerticalBlock"] { gap: 1px; }
.st-key-step-tree button { min-height: 1.5rem; padding: 0 0.4rem; justify-content: flex-start; }
.st-key-step-tree button p { font-family: monospace; font-size: 0.8rem; white-space: pre; text-align: left; }
</style>"""


def tree(structure: Structure, rows: list[Row], hidden_before: int, hidden_after: int, go_to: GoTo) -> None:
    """The window of the step tree (``step_tree.window``); ``current_row_css`` marks the current step."""
    st.markdown("#### Steps")
    agents = structure.tree.agents
    st.caption(f"{len(structure.tree.order):,} steps · {len(agents):,} agent(s) · sub-agents under their handoff")
    st.html(_TREE_CSS)
    with st.container(height=380, key="step-tree"):
        if hidden_before:
            st.text(f"… {hidden_before:,} steps before")
        for row in rows:
            marks = "⚠ " if row.status == "error" else ""
            links = structure.tree.hands_off_to.get(row.step_index, [])
            after = "".join(
                (f" → #{link.step_index}" if link.step_index > 0 else " → never started")
                + ("" if link.agent and link.agent in row.label else f" ({_short(link.agent, 24)})")
                for link in links
            )
            # No-break spaces: leading ASCII spaces would make the Markdown label a code block.
            indent = "\u00a0\u00a0" * row.indent + ("└\u00a0" if row.indent else "")
            text = f"{indent}{marks}#{row.step_index} {_short(row.label)}{after}"
            st.button(
                plain_label(text),
                key=f"tree-{'path-' if row.ancestor else ''}{row.step_index}",
                type="tertiary",
                on_click=go_to,
                args=(row.step_index,),
                help=None,
            )
        if hidden_after:
            st.text(f"… {hidden_after:,} steps after")


@dataclass(frozen=True, slots=True)
class Beside:
    """What the column beside the card shows of a session: a window of the step tree and a waterfall chunk."""

    session_id: str
    version: tuple[int, int]
    rows: list[Row]
    hidden_before: int
    hidden_after: int
    chunk: int

    @classmethod
    def around(cls, session_id: str, version: tuple[int, int], tree: StepTree, current: int) -> Beside:
        rows, hidden_before, hidden_after = window(tree, current)
        return cls(session_id, version, rows, hidden_before, hidden_after, timeline.chunk_start(current))

    def serves(self, session_id: str, version: tuple[int, int], tree: StepTree, current: int) -> bool:
        """Whether it shows step ``current`` of that version of the session as it should."""
        return (
            (self.session_id, self.version) == (session_id, version)
            and timeline.chunk_start(current) == self.chunk
            and still_shows(self.rows, tree, current)
        )


def current_row_css(current: int) -> str:
    """CSS that marks the current step's row in the tree: a style, so that "next" leaves the tree as drawn."""
    scope = f".st-key-tree-{int(current)} button"
    return (
        f"<style>{scope} {{ background-color: {timeline.CURRENT}; }}\n"
        f"{scope} p {{ color: white; font-weight: 600; }}</style>"
    )


# -- handoffs: follow them both ways ----------------------------------------------------------------


def handoff_links(structure: Structure, current: int, go_to: GoTo) -> None:
    """Under the navigator: where the current step hands off to, and who called the agent it runs for."""
    t = structure.tree
    targets = t.hands_off_to.get(current, [])
    caller = t.called_by.get(current)
    if caller is None:  # a step inside a sub-agent's run: its caller is the nearest handoff above it
        caller = next((t.called_by[a] for a in reversed(ancestors(t, current)) if a in t.called_by), None)
    if not targets and caller is None:
        return
    # Two to a row: in the card's column, four cut the agents' names.
    buttons: list[tuple[str, str, int]] = []
    notes: list[str] = []
    if caller is not None:
        label = f"← caller: {_short(caller.agent, 24) or 'agent'}, step {caller.step_index}"
        buttons.append((label, f"handoff-back-{caller.step_index}", caller.step_index))
    for link in targets[:3]:
        if link.step_index < 0:
            notes.append(f"→ hands off to {_short(link.agent, 30)}: it never started ({link.outcome})")
        else:
            label = f"→ {_short(link.agent, 24) or 'agent'}: first step, {link.step_index}"
            buttons.append((label, f"handoff-to-{link.step_index}", link.step_index))
    for first in range(0, len(buttons), 2):
        for column, (label, key, step) in zip(st.columns(2), buttons[first : first + 2], strict=False):
            column.button(plain_label(label), key=key, on_click=go_to, args=(step,), width="stretch")
    for note in notes:
        st.text(note)
    if len(targets) > 3:
        st.caption(f"and {len(targets) - 3} more handoffs from this step (in the step tree)")


# -- charts -----------------------------------------------------------------------------------------


def waterfall_key(session_key: str, first: int) -> str:
    """The widget key of the waterfall of the chunk starting at step ``first``.

    One chart per chunk: the same figure and key on every step of it, so "next" leaves the chart as it
    is and only the style that marks the current bar moves (``timeline.current_bar_css``). Session ids
    are trace data: the key (a CSS class in the page) carries a checksum of it. A pick starts a new
    chart, which drops the selection Plotly keeps (it would dim the other bars and swallow a second
    pick of the same one)."""
    picks = int(st.session_state.get("waterfall-picks", 0))
    return f"waterfall-{zlib.crc32(session_key.encode())}-{first}-{picks}"


def waterfall(figure: go.Figure | None, key: str, go_to: GoTo) -> None:
    st.markdown("#### Timeline")
    if figure is None:
        return

    def picked() -> None:
        points = st.session_state[key].selection.points
        if points:
            st.session_state["waterfall-picks"] = int(st.session_state.get("waterfall-picks", 0)) + 1
            go_to(int(points[0]["customdata"]))

    st.plotly_chart(
        figure,
        width="stretch",
        key=key,
        on_select=picked,
        selection_mode="points",
        config={"displayModeBar": False},
    )


def agent_graph(structure: Structure) -> None:
    if structure.graph is None:
        return
    st.markdown("#### Agents")
    count = len(structure.handoffs)
    fewest = structure.agents_left_out
    left_out = f"; the {fewest} agents with the fewest handoffs are left out" if fewest else ""
    st.caption(f"{count:,} handoff(s), one edge per pair of agents with its count{left_out}")
    st.plotly_chart(structure.graph, width="stretch", config={"displayModeBar": False})


def tokens(figure: go.Figure | None, first: int, last: int) -> None:
    """The token chart (``timeline.mark_chunk``'s, cached per chunk by the replay)."""
    if figure is None:
        return
    st.markdown("#### Input tokens per LLM call")
    st.caption(f"the band: steps {first:,} to {last:,}, the timeline's")
    st.plotly_chart(figure, width="stretch")


# -- find in the session ----------------------------------------------------------------------------


def find(matches_of: Callable[[str], list[int]], current: int, go_to: GoTo) -> None:
    """A search box that jumps from match to match (matches are read server-side, once per text)."""

    def jump(direction: int) -> None:
        text = str(st.session_state.get("find-text") or "").strip()
        if not text:
            return
        found = matches_of(text)
        if not found:
            st.session_state["find-note"] = f"No step contains {text!r}."
            return
        if direction > 0:
            target = next((i for i in found if i > current), found[0])
        elif direction < 0:
            target = next((i for i in reversed(found) if i < current), found[-1])
        else:
            target = next((i for i in found if i >= current), found[0])
        st.session_state["find-note"] = ""
        go_to(target)

    cols = st.columns([2.2, 1, 1], vertical_alignment="bottom")
    cols[0].text_input(
        "Find in this session",
        key="find-text",
        placeholder="text in prompts, results, tool or agent names",
        on_change=jump,
        args=(0,),
    )
    cols[1].button("◀ match", key="find-previous", width="stretch", on_click=jump, args=(-1,))
    cols[2].button("match ▶", key="find-next", width="stretch", on_click=jump, args=(1,))
    text = str(st.session_state.get("find-text") or "").strip()
    note = st.session_state.get("find-note")
    if text:
        found = matches_of(text)
        if found:
            where = found.index(current) + 1 if current in found else None
            shown = ", ".join(str(i) for i in found[:8]) + (" …" if len(found) > 8 else "")
            at = f"match {where} of {len(found):,}" if where else f"{len(found):,} matching steps"
            st.text(f"{at}: steps {shown}")
        else:
            st.text(note or f"No step contains {text!r}.")


# -- compare two steps ------------------------------------------------------------------------------


def previous_llm_call(outline: pd.DataFrame, current: int) -> int | None:
    """The same agent's previous LLM call, else the previous LLM call, before ``current``."""
    here = outline[outline["step_index"] == current]
    earlier = outline[(outline["step_index"] < current) & (outline["step_kind"] == "llm")]
    if not here.empty:
        agent = here.iloc[0]["agent_name"]
        same = earlier[earlier["agent_name"].fillna("\x00") == (agent if agent is not None else "\x00")]
        if not same.empty:
            return int(same["step_index"].max())
    return int(earlier["step_index"].max()) if not earlier.empty else None


def compare(step_of: Callable[[int], dict[str, Any] | None], outline: pd.DataFrame, current: int, total: int) -> None:
    """Off by default (it reads a second step): what changed in the input from another step to this one."""
    if not st.toggle("Compare with another step", key="compare-on"):
        return
    default = previous_llm_call(outline, current) or max(current - 1, 1)
    other = st.number_input(
        "compare the input of step", min_value=1, max_value=total, value=default, key=f"compare-with-{current}"
    )
    older, newer = step_of(int(other)), step_of(current)
    if older is None or newer is None:
        st.warning("One of the two steps is not there any more; reload the page.")
        return
    if int(other) > current:
        older, newer = newer, older
    text, added, removed, cut = diff(older, newer)
    st.text(
        f"input of step {older['step_index']} → input of step {newer['step_index']}: "
        f"{added:,} line(s) added, {removed:,} removed" + (" (the first 4,000 lines of each)" if cut else "")
    )
    if text:
        st.code(text, language="diff", wrap_lines=True, height=480)
    else:
        st.caption("The two inputs are the same.")
