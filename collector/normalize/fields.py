"""The span as the normalizer sees it, and small readers of attribute values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class SpanInput:
    name: str
    kind: int = 0
    status_code: int = 0
    status_message: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    # Each event: {"name": str, "attributes": {...}} (span events, or log records linked to the span).
    events: list[dict[str, Any]] = field(default_factory=list)


class _SameAsRaw:
    """A normalized value identical to the span's own ``gen_ai.*`` JSON attribute: stored as NULL."""

    def __repr__(self) -> str:
        return "SAME_AS_RAW"


SAME_AS_RAW: Any = _SameAsRaw()


def first(attributes: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = attributes.get(key)
        if value is not None and value != "":
            return value
    return None


_INT64 = 2**63


def int_or_none(value: Any) -> int | None:
    """A count as an integer the store can hold (64-bit), or None."""
    if isinstance(value, bool) or value is None:
        return None
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 19:
        number = int(value)
    return number if number is not None and -_INT64 <= number < _INT64 else None


def string_list(value: Any) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if value.startswith("["):
            try:
                parsed = orjson.loads(value)
            except orjson.JSONDecodeError:
                return [value]
            return [str(v) for v in parsed] if isinstance(parsed, list) else [value]
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def unreadable_messages(exc: Exception) -> str:
    """``normalize_error`` for a span whose messages could not be read (everything else is kept)."""
    return f"messages unreadable ({type(exc).__name__}: {exc})"[:1000]
