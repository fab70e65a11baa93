"""What the dashboard reads, all of it through the collector's query API (parameterized SQL over the views).

The dashboard never opens the database: it works the same against a live collector and any store.
Steps are read a page at a time, so a 20,000-step session never travels to the browser whole.
"""

from __future__ import annotations

from typing import Any

import orjson
import pandas as pd

from api.client import ApiClient
from dashboard.buckets import bucket_for
from store.reads import SessionFilter

__all__ = ["OUTLINE", "PAGE", "DashboardData", "SessionFilter", "parse_json", "peaks", "previous_call"]

PAGE = 200  # steps per read around the current step

_STEP_LIST = [
    "step_index", "parent_step_index", "depth", "step_kind", "operation", "name", "agent_name", "tool_name",
    "status", "start_time_unix_nano", "end_time_unix_nano", "duration_ms", "input_tokens", "output_tokens",
    "request_model", "response_model", "handoff_to", "error_type",
]  # fmt: skip


# One light row per step of a whole session: the step tree, the waterfall and the token chart.
OUTLINE = [
    "step_index", "parent_step_index", "step_kind", "name", "agent_name", "tool_name", "status",
    "start_time_unix_nano", "end_time_unix_nano", "input_tokens", "request_model", "response_model",
]  # fmt: skip

# The columns of a step that hold JSON (messages, arguments, results): parsed when a step is read.
_JSON_COLUMNS = (
    "input_messages", "output_messages", "system_instructions", "tool_arguments", "tool_result", "finish_reasons",
    "links",
)  # fmt: skip

# What "find in this session" looks in: names, and the text of prompts, completions and tool values.
_SEARCHED = [
    "name", "agent_name", "tool_name", "error_message", "CAST(input_messages AS VARCHAR)",
    "CAST(output_messages AS VARCHAR)", "CAST(system_instructions AS VARCHAR)", "CAST(tool_arguments AS VARCHAR)",
    "CAST(tool_result AS VARCHAR)",
]  # fmt: skip


def peaks(series: pd.DataFrame, current: int, most: int = 600) -> pd.DataFrame:
    """At most ``most`` rows of a token series: the largest ``input_tokens`` of each stretch of steps (the
    peaks are what matter against a context window), plus the ``current`` step. Ten thousand points
    would cost the browser seconds on every step for no visible difference."""
    if len(series) <= most:
        return series
    bucket = pd.Series(range(len(series)), index=series.index) * most // len(series)
    keep = set(series.groupby(bucket)["input_tokens"].idxmax())
    keep.update(series.index[series["step_index"] == current])
    return series.loc[sorted(keep)]


def previous_call(window: pd.DataFrame, step_index: int, agent: str | None) -> int | None:
    """The same agent's previous LLM call before ``step_index``, looked for in a page of steps."""
    earlier = window[
        (window["step_index"] < step_index)
        & (window["step_kind"] == "llm")
        & (window["agent_name"].fillna("\x00") == (agent if agent is not None else "\x00"))
    ]
    return None if earlier.empty else int(earlier["step_index"].max())


def parse_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("[", "{", '"'):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


class DashboardData:
    def __init__(self, url: str) -> None:
        self.client = ApiClient(url, timeout=60)

    def frame(self, sql: str, params: list[Any] | None = None, limit: int = 10_000) -> pd.DataFrame:
        # Arrow keeps the types: timestamps arrive as timestamps, which the charts need.
        table, _ = self.client.sql_arrow(sql, params, limit=limit)
        frame: pd.DataFrame = table.to_pandas()
        return frame

    def frame_warned(self, sql: str, limit: int = 10_000) -> tuple[pd.DataFrame, str | None]:
        """As ``frame``, with the collector's warning when acknowledged records are not counted yet."""
        table, _, warning = self.client.sql_arrow_warned(sql, None, limit=limit)
        return table.to_pandas(), warning

    def views(self) -> dict[str, list[tuple[str, str]]]:
        return self.client.views()

    def endpoints(self) -> dict[str, str | None] | None:
        """Where the collector receives OTLP (None values: no receivers; None: a collector that does not say)."""
        found: dict[str, str | None] | None = self.client.health().get("endpoints")
        return found

    # -- sessions ------------------------------------------------------------------------------

    def sessions(self, f: SessionFilter) -> tuple[pd.DataFrame, int]:
        """A page of sessions for the table, and how many match in all."""
        result, total = self.client.sessions(f)
        frame = pd.DataFrame(result.rows, columns=result.columns)
        frame["start_time"] = pd.to_datetime(frame["start_time"], format="ISO8601")
        frame["duration_s"] = frame["duration_ms"] / 1000
        frame["tokens"] = frame["input_tokens"] + frame["output_tokens"]
        frame["cost_usd"] = pd.to_numeric(frame["cost_usd"], errors="coerce")
        columns = [
            "status", "error_count", "findings", "cost_usd", "unpriced_calls", "session_id", "start_time",
            "duration_s", "root_agent", "step_count", "llm_calls", "tool_calls", "handoff_count", "tokens",
            "service_name", "input_preview",
        ]  # fmt: skip
        return frame[columns], total

    def session(self, session_id: str) -> dict[str, Any] | None:
        found = self.client.session(session_id)
        return None if found is None else dict(found["session"])

    def choices(self) -> dict[str, list[str]]:
        """The agents, services and models of the stored sessions, for the filters (from the small sessions view)."""
        found = self.client.facets()
        return {"agent": found["agents"], "service": found["services"], "model": found["models"]}

    # -- one session ---------------------------------------------------------------------------

    def session_steps(self, session_id: str, first: int, last: int, columns: list[str]) -> pd.DataFrame:
        """Steps of one session through the API's session-scoped read (the view would scan every span)."""
        result = self.client.session_steps(session_id, first, last, columns)
        return pd.DataFrame(result.rows, columns=result.columns)

    def step_list(self, session_id: str, start: int = 1, count: int = PAGE) -> pd.DataFrame:
        """A page of steps (no message bodies): the navigator and the timeline."""
        return self.session_steps(session_id, start, start + count - 1, _STEP_LIST)

    def steps(self, session_id: str, first: int, last: int) -> dict[int, dict[str, Any]]:
        """Steps ``first`` to ``last`` with every column, their JSON values parsed, by step index."""
        # Rows as the API gave them, not through a DataFrame: pandas turns a missing value of a column that
        # has values in other rows into NaN, which reads as an error type.
        result = self.client.session_steps(session_id, first, last, self._all_step_columns())
        found: dict[int, dict[str, Any]] = {}
        for values in result.rows:
            row = dict(zip(result.columns, values, strict=True))
            for key in _JSON_COLUMNS:
                row[key] = parse_json(row.get(key))
            found[int(row["step_index"])] = row
        return found

    def _all_step_columns(self) -> list[str]:
        if not hasattr(self, "_step_columns"):
            self._step_columns = list(self.frame("SELECT * FROM steps LIMIT 0").columns)
        return self._step_columns

    def next_marked_step(self, session_id: str, after: int, what: str) -> int | None:
        """The next step after ``after`` that failed (``error``) or is evidence of a finding (``finding``)."""
        if what == "finding":
            evidence = [int(i) for indexes in self.findings_of(session_id)["step_indexes"] for i in parse_json(indexes)]
            return min((i for i in evidence if i > after), default=None)
        # $1-style parameters read the same on DuckDB and PostgreSQL stores.
        frame = self.frame(
            "SELECT min(step_index) AS i FROM steps WHERE session_id = $1 AND step_index > $2 AND status = 'error'",
            [session_id, after],
        )
        value = frame.iloc[0]["i"] if not frame.empty else None
        return None if value is None or pd.isna(value) else int(value)

    def outline(self, session_id: str) -> pd.DataFrame:
        """Every step of a session, without bodies (``OUTLINE`` columns), in step order."""
        return self.session_steps(session_id, 1, 2**31 - 1, OUTLINE)

    def search_steps(self, session_id: str, text: str, limit: int = 10_000) -> list[int]:
        """The steps of a session whose names, messages or tool values contain ``text`` (any case).

        One parameterized statement: the text is a value, never SQL, and strpos takes it literally (ILIKE
        would read % and _ in it as wildcards)."""
        if not text:
            return []
        where = " OR ".join(f"strpos(lower({column}), $2) > 0" for column in _SEARCHED)
        frame = self.frame(
            f"SELECT step_index FROM steps WHERE session_id = $1 AND ({where}) ORDER BY step_index",
            [session_id, text.lower()],
            limit=limit,
        )
        return [int(i) for i in frame["step_index"]]

    def handoffs(self, session_id: str) -> pd.DataFrame:
        return self.frame(
            "SELECT handoff_index, from_agent, to_agent, mechanism, outcome, delegating_step_index, target_step_index, "
            "error_message FROM handoffs WHERE session_id = $1 ORDER BY handoff_index",
            [session_id],
        )

    def findings_of(self, session_id: str) -> pd.DataFrame:
        return self.frame(
            "SELECT kind, sub_kind, severity, agent_name, step_indexes, explanation FROM findings "
            "WHERE session_id = $1 ORDER BY CAST(step_indexes AS VARCHAR)",
            [session_id],
        )

    def context_series(self, session_id: str) -> pd.DataFrame:
        frame = self.session_steps(
            session_id, 1, 2**31 - 1, ["step_index", "step_kind", "agent_name", "response_model", "request_model",
                                       "input_tokens"]
        )  # fmt: skip
        frame = frame[(frame["step_kind"] == "llm") & frame["input_tokens"].notna()].copy()
        frame["model"] = frame["response_model"].fillna(frame["request_model"])
        return frame[["step_index", "agent_name", "model", "input_tokens"]]

    # -- across sessions -----------------------------------------------------------------------

    def findings(
        self,
        kind: str = "",
        severity: str = "",
        agent: str = "",
        limit: int = 1000,
        notes: bool = False,
        offset: int = 0,
    ) -> tuple[pd.DataFrame, int]:
        """A page of findings, newest first, and how many match in all."""
        result, total = self.client.findings(
            kind=kind, severity=severity, agent=agent, limit=limit, notes=notes, offset=offset
        )
        frame = pd.DataFrame(result.rows, columns=result.columns)
        frame["detected_at"] = pd.to_datetime(frame["detected_at"], format="ISO8601")
        columns = ["severity", "kind", "sub_kind", "agent_name", "session_id", "explanation", "detected_at",
                   "step_indexes"]  # fmt: skip
        return frame[columns], total

    def session_span(self) -> dict[str, int]:
        """When the stored sessions started (nanoseconds): the first, the last, the 1st percentile (past a few
        stray old sessions), and how many there are; {} when there are none."""
        frame = self.frame(
            "SELECT min(first_time_unix_nano) AS first, max(first_time_unix_nano) AS last, "
            "percentile_disc(0.01) WITHIN GROUP (ORDER BY first_time_unix_nano) AS p01, count(*) AS sessions "
            "FROM sessions"
        )
        row = frame.iloc[0]
        return {} if pd.isna(row["first"]) else {k: int(row[k]) for k in ("first", "last", "p01", "sessions")}

    def overview(self, since: int, until: int) -> dict[str, Any]:
        """The Overview's frames for the sessions that started from ``since`` to ``until`` (nanoseconds),
        counted per time bucket sized to that span."""
        bucket = bucket_for(since, until)
        # Integer arithmetic on the nanosecond columns buckets the same on DuckDB and PostgreSQL.
        start = "first_time_unix_nano - first_time_unix_nano % CAST($1 AS BIGINT)"
        within = "first_time_unix_nano BETWEEN CAST($2 AS BIGINT) AND CAST($3 AS BIGINT)"
        # The steps of those sessions: those that started since (the latest sessions' steps run past their start).
        steps_within = "start_time_unix_nano >= CAST($1 AS BIGINT)"
        per_bucket = self.frame(
            f"SELECT {start} AS bucket, count(*) AS sessions, sum(step_count) AS steps, "
            "sum(input_tokens + output_tokens) AS tokens, sum(error_count) AS errors, sum(cost_usd) AS cost_usd, "
            f"sum(unpriced_calls) AS unpriced_calls FROM sessions WHERE {within} GROUP BY 1 ORDER BY 1",
            [bucket.nanos, since, until],
        )
        findings = self.frame(
            f"SELECT {start} AS bucket, f.kind, count(*) AS findings FROM findings f "
            f"JOIN sessions s ON s.session_id = f.session_id WHERE f.severity <> 'note' AND {within} "
            "GROUP BY 1, 2 ORDER BY 1",
            [bucket.nanos, since, until],
        )
        for frame in (per_bucket, findings):
            frame["time"] = pd.to_datetime(frame["bucket"].astype("int64"), unit="ns")
        steps_range = [since]
        return {
            "bucket": bucket,
            "per_bucket": per_bucket,
            "findings": findings,
            "agents": self.frame(
                # Only LLM steps carry a cost: an agent's sum is that of the calls it made.
                f"SELECT agent_name, count(*) AS steps, sum(cost_usd) AS cost_usd FROM steps "
                f"WHERE agent_name IS NOT NULL AND {steps_within} "
                "GROUP BY 1 ORDER BY 2 DESC LIMIT 15",
                steps_range,
            ),
            "tools": self.frame(
                "SELECT tool_name, count(*) AS calls, count(*) FILTER (WHERE status = 'error') AS errors "
                f"FROM steps WHERE tool_name IS NOT NULL AND {steps_within} GROUP BY 1 ORDER BY 2 DESC LIMIT 15",
                steps_range,
            ),
            "models": self.frame(
                "SELECT coalesce(response_model, request_model) AS model, count(*) AS calls, "
                "sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) AS tokens, sum(cost_usd) AS cost_usd "
                f"FROM steps WHERE step_kind = 'llm' AND {steps_within} GROUP BY 1 ORDER BY 2 DESC LIMIT 15",
                steps_range,
            ),
            "latency": self.frame(
                f"SELECT step_kind, duration_ms FROM steps WHERE step_kind IN ('llm', 'tool') AND {steps_within} "
                "ORDER BY start_time_unix_nano DESC LIMIT 20000",
                steps_range,
            ),
        }
