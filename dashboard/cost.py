"""Dollars as the tables and cards show them. A cost is None (NULL) when the model has no price: shown as
such, never as $0."""

from __future__ import annotations

import math
from typing import Any

COST_HELP = (
    "US dollars of the LLM calls' token usage at the prices of the model price table (shipped as "
    "collector/prices.toml; `stepseven serve --prices FILE` adds or replaces models). A call of a model with no "
    "price has no cost: it is counted apart, never as $0."
)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def dollars(value: Any) -> str:
    """$1,234.56, $0.0123, $0.000027 (two significant digits at least); '' for no cost."""
    if _missing(value):
        return ""
    amount = float(value)
    if amount == 0:
        return "$0"
    if amount >= 1:
        return f"${amount:,.2f}"
    if amount < 1e-8:
        return "<$0.00000001"
    decimals = max(4, math.ceil(-math.log10(amount)) + 1)
    return f"${amount:.{decimals}f}"


def cost_label(cost: Any, unpriced_calls: Any = 0) -> str:
    """A session's cost, saying when calls of a model with no price are left out of it."""
    unpriced = 0 if _missing(unpriced_calls) else int(unpriced_calls)
    calls = f"{unpriced:,} call{'s' if unpriced != 1 else ''}"
    if _missing(cost):
        return f"no price ({calls})" if unpriced else ""
    return f"{dollars(cost)} + {calls} unpriced" if unpriced else dollars(cost)


def step_cost(step: dict[str, Any]) -> str:
    """The ' · $0.0012' that ends an LLM step card's header; ' · no price' for usage of a model with no
    price; '' for a step with no usage of its own (an agent's or a tool's calls carry their own cost)."""
    if not _missing(step.get("cost_usd")):
        return f" · {dollars(step['cost_usd'])}"
    used = any(not _missing(step.get(c)) for c in ("input_tokens", "output_tokens"))
    return " · no price" if used and step.get("step_kind") == "llm" else ""
