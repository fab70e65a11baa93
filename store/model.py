"""Records that cross package boundaries. Column-oriented, because the store appends in bulk."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from store.schema import LOG_COLUMNS, METRIC_COLUMNS, SPAN_COLUMNS


@dataclass(slots=True)
class Rows:
    """Rows of one table as a list per column (every list has the same length)."""

    columns: dict[str, list[Any]]

    @classmethod
    def empty(cls, names: tuple[str, ...]) -> Rows:
        return cls({name: [] for name in names})

    def __len__(self) -> int:
        for values in self.columns.values():
            return len(values)
        return 0

    def extend(self, other: Rows) -> None:
        for name, values in self.columns.items():
            values.extend(other.columns[name])


def _span_rows() -> Rows:
    return Rows.empty(SPAN_COLUMNS)


def _log_rows() -> Rows:
    return Rows.empty(LOG_COLUMNS)


def _metric_rows() -> Rows:
    return Rows.empty(METRIC_COLUMNS)


@dataclass(slots=True)
class Batch:
    """What one export request (or several, merged by the writer) adds to the store."""

    spans: Rows = field(default_factory=_span_rows)
    logs: Rows = field(default_factory=_log_rows)
    metric_points: Rows = field(default_factory=_metric_rows)

    def __len__(self) -> int:
        return len(self.spans) + len(self.logs) + len(self.metric_points)

    def extend(self, other: Batch) -> None:
        self.spans.extend(other.spans)
        self.logs.extend(other.logs)
        self.metric_points.extend(other.metric_points)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one committed transaction stored (after dedupe)."""

    spans: int
    logs: int
    metric_points: int


@dataclass(frozen=True, slots=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return out.getvalue()
