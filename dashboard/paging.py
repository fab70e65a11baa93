"""Paging for the long tables (sessions, findings): a page of rows read with LIMIT / OFFSET, and controls
that say which rows of how many are shown."""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from typing import Any

import streamlit as st

SIZES = (50, 100, 200, 500)
# A click on any cell picks its row (as does the row's checkbox): one click opens it.
ROW_CLICK: list[Any] = ["single-row", "single-cell"]


def table_key(name: str, row_ids: list[str]) -> str:
    """A table's widget key, new whenever its rows change: a grid given other rows under the same key lost
    the first click on it (seen in Chromium after Next)."""
    return f"{name}_table_{hashlib.sha256(chr(0).join(row_ids).encode()).hexdigest()[:16]}"


def picked_row(state: Any) -> list[int]:
    """The row picked in a table's selection state, by its checkbox or one of its cells; [] when none."""
    selection = state.selection
    if selection.rows:
        return [int(selection.rows[0])]
    return [int(selection.cells[0][0])] if selection.cells else []


class Pager:
    """The page a table shows, kept in the session state under ``key``; back to the first page when
    ``filters`` change (page 7 of one filter means nothing under another)."""

    def __init__(self, key: str, filters: Hashable, default_size: int = 100) -> None:
        self.key = key
        state = st.session_state
        state.setdefault(f"{key}_size", default_size)
        if state.get(f"{key}_filters") != filters:
            state[f"{key}_filters"] = filters
            state[f"{key}_page"] = 1
        state.setdefault(f"{key}_page", 1)

    @property
    def size(self) -> int:
        return int(st.session_state[f"{self.key}_size"])

    @property
    def page(self) -> int:
        return int(st.session_state[f"{self.key}_page"])

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def pages(self, total: int) -> int:
        return max(1, -(-total // self.size))

    def past_the_end(self, total: int) -> bool:
        """The page is beyond the rows there are (they were deleted, or fewer match): go to the last page."""
        if self.page > self.pages(total):
            st.session_state[f"{self.key}_page"] = self.pages(total)
            return True
        return False

    def caption(self, total: int, noun: str) -> str:
        if total == 0:
            return f"no {noun}"
        first, last = self.offset + 1, min(self.offset + self.size, total)
        return f"{first:,}\u2013{last:,} of {total:,} {noun}"  # an en dash

    def controls(self, total: int) -> None:
        """Previous / page / Next and the page size, under the table."""
        pages = self.pages(total)
        key = self.key

        def go(to: int) -> None:
            st.session_state[f"{key}_page"] = min(max(1, to), pages)

        def resize() -> None:
            st.session_state[f"{key}_page"] = 1

        first, previous, number, following, last, _, size = st.columns([1, 1.3, 1.6, 1.1, 1, 2, 1.6])
        first.button("« First", key=f"{key}_first", disabled=self.page <= 1, on_click=go, args=(1,))
        previous.button("◀ Previous", key=f"{key}_prev", disabled=self.page <= 1, on_click=go, args=(self.page - 1,))
        number.number_input(
            f"Page (of {pages:,})", min_value=1, max_value=pages, step=1, key=f"{key}_page",
            label_visibility="collapsed", help=f"Page, of {pages:,}",
        )  # fmt: skip
        following.button("Next ▶", key=f"{key}_next", disabled=self.page >= pages, on_click=go, args=(self.page + 1,))
        last.button("Last »", key=f"{key}_last", disabled=self.page >= pages, on_click=go, args=(pages,))
        size.selectbox(
            "Rows per page", SIZES, key=f"{key}_size", on_change=resize, label_visibility="collapsed",
            format_func=lambda n: f"{n} per page",
        )  # fmt: skip
