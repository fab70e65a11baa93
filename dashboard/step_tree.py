"""The step tree of a session: agents, their steps, and each sub-agent nested under the handoff that started it.

Built once per version of a session from its outline (one light row per step) and its handoffs; the
replay then shows a window of it around the current step, so a 20,000-step session costs the same
as a small one. Pure data, no Streamlit: the tests build trees by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

# How deep the window is indented at most: a 1,000-handoff ping-pong nests 1,000 levels.
MAX_INDENT = 10
PATH = 4  # ancestors shown above the window at most
LEAD = 4  # levels shown above the current step's, at most, in the window


@dataclass(frozen=True, slots=True)
class Link:
    """One handoff seen from one of its ends: the step at the other end and the agent there."""

    step_index: int
    agent: str | None
    outcome: str


@dataclass(slots=True)
class StepTree:
    order: list[int] = field(default_factory=list)  # step indexes, depth first
    parent: dict[int, int | None] = field(default_factory=dict)
    level: dict[int, int] = field(default_factory=dict)
    label: dict[int, str] = field(default_factory=dict)
    status: dict[int, str] = field(default_factory=dict)
    position: dict[int, int] = field(default_factory=dict)  # step index -> place in `order`
    hands_off_to: dict[int, list[Link]] = field(default_factory=dict)  # delegating step -> targets
    called_by: dict[int, Link] = field(default_factory=dict)  # a target's first step -> its caller
    agents: list[tuple[str, int, int]] = field(default_factory=list)  # (agent, steps, first step)


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def step_label(kind: Any, name: Any, agent: Any, tool: Any) -> str:
    """A short description of a step: its kind and what it ran (plain text, shown escaped)."""
    sort = str(kind or "step")
    chosen = tool if sort == "tool" and tool else (agent if sort == "agent" and agent else name)
    if chosen is None or (isinstance(chosen, float) and pd.isna(chosen)) or not str(chosen):
        return sort
    what = str(chosen)
    return what if what.split(" ", 1)[0] == sort else f"{sort} {what}"


def build_tree(outline: pd.DataFrame, handoffs: pd.DataFrame) -> StepTree:
    """``outline``: step_index, parent_step_index, step_kind, name, agent_name, tool_name, status (in step order).
    ``handoffs``: from_agent, to_agent, outcome, delegating_step_index, target_step_index."""
    tree = StepTree()
    if outline.empty:
        return tree
    indexes = [int(i) for i in outline["step_index"]]
    known = set(indexes)
    parent: dict[int, int | None] = {}
    for i, p in zip(indexes, outline["parent_step_index"], strict=True):
        p = _int(p)
        parent[i] = p if p in known and p is not None and p < i else None
    for i, kind, name, agent, tool, status in zip(
        indexes, outline["step_kind"], outline["name"], outline["agent_name"], outline["tool_name"],
        outline["status"], strict=True,
    ):  # fmt: skip
        tree.label[i] = step_label(kind, name, agent, tool)
        tree.status[i] = str(status or "")

    for h in handoffs.to_dict("records"):
        source, target = _int(h["delegating_step_index"]), _int(h["target_step_index"])
        if source is None or source not in known:
            continue
        if target is not None and target in known:
            tree.hands_off_to.setdefault(source, []).append(Link(target, _text(h["to_agent"]), str(h["outcome"])))
            tree.called_by.setdefault(target, Link(source, _text(h["from_agent"]), str(h["outcome"])))
            # The sub-agent's run goes under the handoff, unless it already runs inside it. Only later
            # steps move under earlier ones, so no cycle can form.
            if target > source and not _below(parent, target, source):
                parent[target] = source
        else:
            tree.hands_off_to.setdefault(source, []).append(Link(-1, _text(h["to_agent"]), str(h["outcome"])))

    children: dict[int | None, list[int]] = {}
    for i in indexes:
        children.setdefault(parent[i], []).append(i)
    # Depth first, iteratively: a hostile or ping-pong session nests deeper than Python recurses.
    stack: list[tuple[int, int]] = [(i, 0) for i in reversed(children.get(None, []))]
    while stack:
        i, level = stack.pop()
        tree.position[i] = len(tree.order)
        tree.order.append(i)
        tree.level[i] = level
        stack.extend((kid, level + 1) for kid in reversed(children.get(i, [])))
    tree.parent = parent

    counts = outline.groupby(outline["agent_name"].fillna("(no agent)"), sort=False)["step_index"].agg(["count", "min"])
    tree.agents = sorted(((str(a), int(c), int(m)) for a, (c, m) in counts.iterrows()), key=lambda t: t[2])
    return tree


def _below(parent: dict[int, int | None], step: int, ancestor: int, limit: int = 100_000) -> bool:
    """Whether ``ancestor`` is above ``step`` already."""
    seen = 0
    node = parent.get(step)
    while node is not None and seen < limit:
        if node == ancestor:
            return True
        node = parent.get(node)
        seen += 1
    return False


@dataclass(frozen=True, slots=True)
class Row:
    step_index: int
    indent: int
    label: str
    status: str
    current: bool
    ancestor: bool  # shown above the window: the path from the root down to it


def ancestors(tree: StepTree, step: int) -> list[int]:
    path: list[int] = []
    node = tree.parent.get(step)
    while node is not None:
        path.append(node)
        node = tree.parent.get(node)
    return path[::-1]


def window(tree: StepTree, current: int, before: int = 4, after: int = 10) -> tuple[list[Row], int, int]:
    """The rows to show around ``current``: its ancestors that are out of view (the path), then ``before``
    and ``after`` steps of the depth-first order. Also how many rows are hidden before and after."""
    if current not in tree.position:
        return [], 0, 0
    at = tree.position[current]
    first, last = max(0, at - before), min(len(tree.order), at + after + 1)
    shown = tree.order[first:last]
    path = _path(tree, current, set(shown))
    # The path is drawn as a staircase of its own; below it, the window is indented from its shallowest
    # step, but never so far that the current step sits deep at the right edge.
    rows = [Row(i, min(k, MAX_INDENT), tree.label[i], tree.status[i], False, True) for k, i in enumerate(path)]
    base = max(min(tree.level[i] for i in shown), tree.level[current] - LEAD)
    rows += [
        Row(i, len(path) + min(max(tree.level[i] - base, 0), MAX_INDENT), tree.label[i], tree.status[i],
            i == current, False)
        for i in shown
    ]  # fmt: skip
    return rows, first, len(tree.order) - last


def _path(tree: StepTree, current: int, on_screen: set[int]) -> list[int]:
    path = [a for a in ancestors(tree, current) if a not in on_screen]
    if len(path) > PATH:  # a deep nest (a long chain of handoffs): the root and the nearest levels
        path = [path[0], *path[-(PATH - 1) :]]
    return path


def still_shows(rows: list[Row], tree: StepTree, current: int) -> bool:
    """Whether a window drawn around another step serves ``current`` as well: the step is among its rows
    and the ancestors drawn above them are the ones ``current`` would get."""
    shown = [r.step_index for r in rows if not r.ancestor]
    if current not in shown:
        return False
    return _path(tree, current, set(shown)) == [r.step_index for r in rows if r.ancestor]
