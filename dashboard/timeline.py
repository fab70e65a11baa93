"""The replay's charts, built once per version of a session (the replay caches what these return).

- The waterfall: one row per step, bars on an axis of events (each start and end of a step in the
  chunk is one tick), so a 40 ms tool call is as visible as the 3-minute agent run around it; the
  real times are in the bar's text and hover.
- The agent graph: one edge per pair of agents with the number of handoffs on it. One annotation
  per handoff cost 3 s a step at 100 handoffs and never drew at 713.
- The token chart: input tokens per LLM call, against the model's window.
Each returns a Plotly figure, which the replay caches and hands to Streamlit as it is: a figure
passed as a dict is validated by Plotly on every run (15 ms for the waterfall). The current step is
marked by a style on the waterfall (``current_bar_css``) and, on the token chart, by a band over the
waterfall's chunk (``mark_chunk``).
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from dashboard.render import hover
from dashboard.step_tree import step_label

CHUNK = 30  # steps per waterfall: the chunk holding the current step
MOST_AGENTS = 40  # the graph shows the agents with the most handoffs; a caption says how many are left out
CURRENT = "crimson"


def chunk_start(current: int) -> int:
    return (current - 1) // CHUNK * CHUNK + 1


def _seconds(ns: float) -> str:
    seconds = ns / 1e9
    return f"{seconds * 1000:,.0f} ms" if seconds < 1 else f"{seconds:,.1f} s"


def waterfall(outline: pd.DataFrame, first: int) -> go.Figure | None:
    """Steps ``first`` to ``first + CHUNK - 1`` as a waterfall, or None when there are none."""
    frame = outline[(outline["step_index"] >= first) & (outline["step_index"] < first + CHUNK)]
    if frame.empty:
        return None
    starts = frame["start_time_unix_nano"].astype("int64")
    ends = frame["end_time_unix_nano"].astype("int64").clip(lower=starts)
    # Rank every distinct instant: equal times share a tick, so overlap and nesting stay true.
    ticks = {t: k for k, t in enumerate(sorted(set(starts) | set(ends)))}
    t0 = int(starts.min())
    rows = [f"#{i}" for i in frame["step_index"]]
    labels = [
        step_label(k, n, a, t)
        for k, n, a, t in zip(frame["step_kind"], frame["name"], frame["agent_name"], frame["tool_name"], strict=True)
    ]
    base = [ticks[int(s)] for s in starts]
    length = [max(ticks[int(e)] - ticks[int(s)], 0.6) for s, e in zip(starts, ends, strict=True)]
    took = [_seconds(int(e) - int(s)) for s, e in zip(starts, ends, strict=True)]
    colors = ["darkorange" if s == "error" else "steelblue" for s in frame["status"]]
    figure = go.Figure(
        go.Bar(
            x=length,
            base=base,
            y=rows,
            orientation="h",
            marker_color=colors,
            customdata=[int(i) for i in frame["step_index"]],
            text=[hover(f"{label} · {t}", 60) for label, t in zip(labels, took, strict=True)],
            textposition="auto",
            insidetextanchor="start",
            cliponaxis=False,
            hovertext=[
                hover(f"step {i}: {label} · {t} · starts at +{_seconds(int(s) - t0)} · {agent or 'no agent'}")
                for i, label, t, s, agent in zip(
                    frame["step_index"], labels, took, starts, frame["agent_name"], strict=True
                )
            ],
            hoverinfo="text",
        )
    )
    last = int(frame["step_index"].max())
    figure.update_layout(
        height=18 * len(frame) + 70,
        margin={"t": 10, "b": 40, "l": 10, "r": 10},
        # Room on the right for the text of the last bars, which sits after them.
        xaxis={
            "showticklabels": False,
            "title": f"steps {first} to {last}, in order of events (not to scale)",
            "range": [-0.5, len(ticks) - 1 + max(3.0, 0.6 * len(ticks))],
        },
        yaxis={"autorange": "reversed", "type": "category"},
        showlegend=False,
        bargap=0.25,
        dragmode=False,
        clickmode="event+select",
    )
    return figure


def current_bar_css(figure: go.Figure, widget_key: str, current: int) -> str:
    """CSS that marks the current step's bar and row label in the waterfall drawn under ``widget_key``.

    The mark is a style, not part of the figure: Streamlit identifies a chart by its figure, so a figure
    that changed with every step was a new chart, built from scratch by Plotly in the browser on every
    "next". Plotly draws one ``g.point`` per bar, in the order of the data.
    """
    steps = [int(i) for i in figure.data[0].customdata]
    if current not in steps:
        return ""
    scope = f".st-key-{widget_key}"
    # The row label is found by its text (Plotly keeps it in data-unformatted): labels may be skipped
    # or drawn in reverse order, bars are not.
    return (
        f"<style>{scope} .barlayer .point:nth-child({steps.index(current) + 1}) path "
        f"{{ fill: {CURRENT} !important; }}\n"
        f'{scope} .yaxislayer-above text[data-unformatted="#{int(current)}"] '
        f"{{ fill: {CURRENT} !important; font-weight: bold; }}</style>"
    )


def agent_graph(handoffs: pd.DataFrame) -> tuple[go.Figure | None, int]:
    """The agents and one edge per (from, to) pair with its count; and how many agents were left out."""
    pairs = handoffs.dropna(subset=["from_agent", "to_agent"])
    if pairs.empty:
        return None, 0
    failed = pairs["outcome"] != "completed"
    edges = (
        pairs.assign(failed=failed)
        .groupby(["from_agent", "to_agent"], sort=False)
        .agg(count=("failed", "size"), failed=("failed", "sum"))
        .reset_index()
    )
    weight = pd.concat([edges.groupby("from_agent")["count"].sum(), edges.groupby("to_agent")["count"].sum()])
    ranked = weight.groupby(level=0).sum().sort_values(ascending=False)
    names = sorted(str(n) for n in ranked.index[:MOST_AGENTS])
    left_out = max(len(ranked) - MOST_AGENTS, 0)
    position = {
        name: (math.cos(2 * math.pi * k / len(names)), math.sin(2 * math.pi * k / len(names)))
        for k, name in enumerate(names)
    }
    edges = edges[edges["from_agent"].astype(str).isin(position) & edges["to_agent"].astype(str).isin(position)]
    figure = go.Figure()
    for is_failed, color in ((False, "grey"), (True, CURRENT)):
        chosen = edges[(edges["failed"] > 0) == is_failed]
        xs: list[float | None] = []
        ys: list[float | None] = []
        mid_x: list[float] = []
        mid_y: list[float] = []
        words: list[str] = []
        for e in chosen.to_dict("records"):
            source, target, count, failures = (
                str(e["from_agent"]),
                str(e["to_agent"]),
                int(e["count"]),
                int(e["failed"]),
            )
            (x0, y0), (x1, y1) = position[source], position[target]
            if source == target:  # an agent handing off to itself: a small loop outwards
                x1, y1 = x0 * 1.25, y0 * 1.25
            # Two agents that hand off both ways get two edges, bent apart so both counts read.
            bend = 0.08
            mx, my = (x0 + x1) / 2 - bend * (y1 - y0), (y0 + y1) / 2 + bend * (x1 - x0)
            xs += [x0, mx, x1, None]
            ys += [y0, my, y1, None]
            mid_x.append(mx)
            mid_y.append(my)
            failed_part = f", {failures} failed" if failures else ""
            words.append(hover(f"{source} → {target}: {count} handoff(s){failed_part}"))
        if xs:
            figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": color, "width": 1.5},
                                        hoverinfo="skip"))  # fmt: skip
            figure.add_trace(
                go.Scatter(
                    x=mid_x,
                    y=mid_y,
                    mode="markers+text",
                    text=[f"{int(c)}" for c in chosen["count"]],
                    textposition="middle right",
                    textfont={"color": color},
                    marker={"symbol": "arrow", "size": 11, "color": color, "angleref": "previous"},
                    hovertext=words,
                    hoverinfo="text",
                )
            )
    figure.add_trace(
        go.Scatter(
            x=[position[n][0] for n in names],
            y=[position[n][1] for n in names],
            mode="markers+text",
            text=[hover(n, 40) for n in names],
            textposition="top center",
            hovertext=[hover(f"{n}: {int(ranked[n])} handoff(s) in or out") for n in names],
            hoverinfo="text",
            marker={"size": 18, "color": "steelblue"},
        )
    )
    figure.update_layout(
        height=280, margin={"t": 10, "b": 10, "l": 10, "r": 10}, showlegend=False, dragmode=False,
        xaxis={"visible": False, "range": [-1.6, 1.6]}, yaxis={"visible": False, "range": [-1.5, 1.5]},
    )  # fmt: skip
    return figure, left_out


def token_chart(shown: pd.DataFrame, windows: set[int]) -> go.Figure:
    """Input tokens per LLM call (``shown``: step_index, model, input_tokens), with the models' windows."""
    chart = go.Figure(
        go.Scatter(
            x=shown["step_index"],
            y=shown["input_tokens"],
            mode="lines+markers" if len(shown) < 200 else "lines",
            hovertext=[hover(f"step {i}: {m}") for i, m in zip(shown["step_index"], shown["model"], strict=True)],
            hoverinfo="text+y",
        )
    )
    for size in sorted(windows):
        chart.add_hline(y=size, line_dash="dash", annotation_text=f"window {size:,}")
    chart.update_layout(height=220, margin={"t": 10, "b": 30, "l": 10, "r": 10}, xaxis_title="step")
    return chart


def mark_chunk(figure: go.Figure, first: int, last: int) -> go.Figure:
    """The token chart with the waterfall's steps (``first`` to ``last``) as a band: it changes once per
    chunk, not per step, so "next" does not rebuild the chart (see ``current_bar_css``)."""
    marked = go.Figure(figure)
    # A solid edge: on a 20,000-step axis the band of 30 steps is narrower than a pixel.
    marked.add_vrect(x0=first - 0.5, x1=last + 0.5, fillcolor="rgba(220, 20, 60, 0.15)", line_color=CURRENT,
                     line_width=1.5, opacity=1)  # fmt: skip
    return marked
