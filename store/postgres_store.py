"""The PostgreSQL store: the same schema and views as DuckDB, for several collectors sharing one database.

So far: schema creation and migration (safe when several collectors start at once), group-committed
idempotent appends (a span delivered to two collectors, or twice to one, is stored once), and what
the session worker reads and writes. The analyzer's and the query API's paths come next; until then
`serve` runs on DuckDB only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from store import schema
from store.duckdb_store import StoreError
from store.model import Batch, Finding, Pruned, Rows, SessionView, SpanRecord, WriteResult
from store.session_io import LOG_EVENTS_SQL, SPAN_RECORDS_SQL, finding_columns, log_events, record_columns

# pg_advisory_xact_lock key: "stepseven" as a number. Migrations take it, so concurrent starts queue.
_MIGRATION_LOCK = 0x73746570736576

# PostgreSQL enforces the dedupe keys itself (DuckDB's writer dedupes instead; see schema.py).
_KEYS: dict[str, tuple[str, ...]] = {
    schema.spans.name: ("trace_id", "span_id"),
    schema.logs.name: ("record_id",),
    schema.metric_points.name: ("point_id",),
}


def _key_indexes() -> list[str]:
    keys = [
        f"CREATE UNIQUE INDEX IF NOT EXISTS {table}_key ON {table} ({', '.join(key)})" for table, key in _KEYS.items()
    ]
    # What the session worker, the analyzer and the replay look up by (DuckDB scans instead).
    lookups = [
        "CREATE INDEX IF NOT EXISTS derived_steps_session ON derived_steps (session_id, step_index)",
        "CREATE INDEX IF NOT EXISTS derived_handoffs_session ON derived_handoffs (session_id)",
        "CREATE INDEX IF NOT EXISTS derived_session_traces_trace ON derived_session_traces (trace_id)",
        "CREATE INDEX IF NOT EXISTS derived_session_traces_session ON derived_session_traces (session_id)",
        "CREATE INDEX IF NOT EXISTS derived_sessions_session ON derived_sessions (session_id)",
        "CREATE INDEX IF NOT EXISTS derived_findings_session ON derived_findings (session_id)",
        "CREATE INDEX IF NOT EXISTS derived_analyses_session ON derived_analyses (session_id)",
    ]
    return keys + lookups


class PostgresStore:
    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self._engine = sa.create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=4)
            self._migrate()
        except sa.exc.OperationalError as exc:
            raise StoreError(f"Cannot reach the PostgreSQL store: {exc.orig}") from None

    def _migrate(self) -> None:
        with self._engine.begin() as connection:
            # Two collectors starting on a fresh database: the second waits here, then finds the schema.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            exists = connection.execute(sa.text("SELECT to_regclass(:name)"), {"name": schema.schema_meta.name})
            version = (
                connection.execute(sa.text(f"SELECT max(version) FROM {schema.schema_meta.name}")).scalar()
                if exists.scalar() is not None
                else None
            )
            if version is not None and version > schema.SCHEMA_VERSION:
                raise StoreError(
                    f"The PostgreSQL store has schema version {version}, newer than this stepseven "
                    f"({schema.SCHEMA_VERSION}); upgrade stepseven."
                )
            if version is None:
                schema.metadata.create_all(connection)
                statements = [*_key_indexes(), *schema.fresh_statements("postgresql")]
                versions = [schema.SCHEMA_VERSION]
            else:
                statements, versions = [], []
                for target in range(version + 1, schema.SCHEMA_VERSION + 1):
                    for table in schema.TABLES_ADDED.get(target, ()):
                        table.create(connection, checkfirst=True)
                    statements += schema.migration_statements("postgresql", target)
                    versions.append(target)
                if versions:
                    statements += schema.fresh_statements("postgresql")
            for statement in statements:
                connection.execute(sa.text(statement))
            for target in versions:
                connection.execute(
                    schema.schema_meta.insert().values(version=target, applied_time_unix_nano=time.time_ns())
                )

    def schema_version(self) -> int:
        with self._engine.connect() as connection:
            return int(connection.execute(sa.text(f"SELECT max(version) FROM {schema.schema_meta.name}")).scalar_one())

    def write(self, batch: Batch) -> WriteResult:
        """Appends a batch in one transaction; returns how many records were new (not already stored)."""
        raw = self._engine.raw_connection()
        try:
            connection: Any = raw.driver_connection
            with connection.transaction():
                counts = [
                    self._append(connection, table, rows)
                    for table, rows in (
                        (schema.spans, batch.spans),
                        (schema.logs, batch.logs),
                        (schema.metric_points, batch.metric_points),
                    )
                ]
        finally:
            raw.close()
        return WriteResult(*counts)

    @staticmethod
    def _append(connection: Any, table: sa.Table, rows: Rows) -> int:
        n = len(rows)
        if n == 0:
            return 0
        names = [c.name for c in table.columns]
        staging = f"stepseven_batch_{table.name}"
        with connection.cursor() as cursor:
            # COPY into a staging table, then one INSERT that skips what is stored already (and repeats
            # inside the batch): the fastest bulk path PostgreSQL has, and JSON text goes in as is.
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table.name}) ON COMMIT DELETE ROWS")
            with cursor.copy(f"COPY {staging} ({', '.join(names)}) FROM STDIN") as copy:
                for row in zip(*(rows.columns[name] for name in names), strict=True):
                    copy.write_row(row)
            key = ", ".join(_KEYS[table.name])
            cursor.execute(
                f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(names)} FROM {staging} "
                f"ON CONFLICT ({key}) DO NOTHING"
            )
            return int(cursor.rowcount)

    # -- sessions (read and written by the session worker) ---------------------------------------

    def session_inputs(
        self, trace_ids: list[str]
    ) -> tuple[list[SpanRecord], dict[str, list[tuple[str, dict[str, Any]]]]]:
        """The spans of these traces as session building needs them, and their GenAI log events."""
        if not trace_ids:
            return [], {}
        where = "trace_id = ANY(CAST(:ids AS text[]))"
        with self._engine.connect() as connection:
            rows = connection.execute(sa.text(SPAN_RECORDS_SQL.format(where=where)), {"ids": trace_ids})
            records = [SpanRecord(*row) for row in rows]
            logs = connection.execute(sa.text(LOG_EVENTS_SQL.format(where=where)), {"ids": trace_ids})
            return records, log_events([tuple(row) for row in logs])

    def input_messages_of(self, span_ids: list[tuple[str, str]]) -> dict[str, str]:
        """span_id -> input_messages JSON, for a few spans (the sessions' first model calls)."""
        if not span_ids:
            return {}
        with self._engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT span_id, coalesce(CAST(input_messages AS VARCHAR), attributes->>'gen_ai.input.messages') "
                    "FROM raw_spans WHERE (trace_id, span_id) IN "
                    "(SELECT * FROM unnest(CAST(:traces AS text[]), CAST(:spans AS text[])))"
                ),
                {"traces": [k[0] for k in span_ids], "spans": [k[1] for k in span_ids]},
            )
            return {str(span): text for span, text in rows}

    def session_memberships(self, *, trace_ids: Sequence[str] = (), session_ids: Sequence[str] = ()) -> dict[str, str]:
        """trace_id -> session_id, for the given traces and every trace of the given sessions."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT trace_id, session_id FROM derived_session_traces "
                    "WHERE trace_id = ANY(CAST(:traces AS text[])) OR session_id = ANY(CAST(:sessions AS text[]))"
                ),
                {"traces": list(trace_ids), "sessions": list(session_ids)},
            )
            return {str(t): str(s) for t, s in rows}

    def replace_sessions(self, memberships: dict[str, str], views: dict[str, SessionView]) -> None:
        """Replaces the derived rows of these traces and sessions in one transaction."""
        raw = self._engine.raw_connection()
        try:
            connection: Any = raw.driver_connection
            with connection.transaction(), connection.cursor() as cursor:
                cursor.execute("DELETE FROM derived_session_traces WHERE trace_id = ANY(%s)", [list(memberships)])
                for table in ("derived_steps", "derived_handoffs", "derived_sessions"):
                    cursor.execute(f"DELETE FROM {table} WHERE session_id = ANY(%s)", [list(views)])
                _copy(cursor, schema.session_traces, [list(memberships), list(memberships.values())])
                steps = [step for view in views.values() for step in view.steps]
                handoffs = [h for view in views.values() for h in view.handoffs]
                summaries = [v.summary for v in views.values() if v.summary is not None]
                if steps:
                    _copy(cursor, schema.steps, record_columns(schema.steps, steps))
                if handoffs:
                    _copy(cursor, schema.handoffs, record_columns(schema.handoffs, handoffs))
                if summaries:
                    columns = record_columns(
                        schema.sessions,
                        summaries,
                        extra={"updated_time_unix_nano": time.time_ns()},
                        json_columns=("agents", "models", "child_scopes"),
                    )
                    _copy(cursor, schema.sessions, columns)
        finally:
            raw.close()

    # -- findings (written by the analyzer) -----------------------------------------------------

    def sessions_to_analyze(self) -> dict[str, int]:
        """session_id -> updated time, for sessions changed since their last analysis (or never analyzed)."""
        return dict(
            self.read(
                "SELECT s.session_id, s.updated_time_unix_nano FROM derived_sessions s "
                "LEFT JOIN derived_analyses a ON a.session_id = s.session_id "
                "WHERE a.session_id IS NULL OR a.session_updated_time_unix_nano < s.updated_time_unix_nano"
            )
        )

    def session_updated_times(self, session_ids: Sequence[str]) -> dict[str, int]:
        return dict(
            self.read(
                "SELECT session_id, updated_time_unix_nano FROM derived_sessions WHERE session_id = ANY(?)",
                [list(session_ids)],
            )
        )

    def replace_findings(self, analyzed: dict[str, int], findings: list[Finding]) -> None:
        """Replaces the findings of the analyzed sessions; a finding found again keeps its detection time."""
        now = time.time_ns()
        raw = self._engine.raw_connection()
        try:
            connection: Any = raw.driver_connection
            with connection.transaction(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT finding_id, detected_time_unix_nano FROM derived_findings WHERE session_id = ANY(%s)",
                    [list(analyzed)],
                )
                detected = dict(cursor.fetchall())
                for table in ("derived_findings", "derived_analyses"):
                    cursor.execute(f"DELETE FROM {table} WHERE session_id = ANY(%s)", [list(analyzed)])
                unique = list({f.finding_id: f for f in findings}.values())
                if unique:
                    _copy(cursor, schema.findings, finding_columns(unique, detected, now))
                counts = {session: 0 for session in analyzed}
                for f in unique:
                    counts[f.session_id] = counts.get(f.session_id, 0) + 1
                if analyzed:
                    _copy(
                        cursor,
                        schema.analyses,
                        [list(analyzed), list(analyzed.values()), [now] * len(analyzed), [counts[s] for s in analyzed]],
                    )
        finally:
            raw.close()

    def session_rows(
        self, view: str, session_ids: Sequence[str], columns: str, steps: tuple[int, int] | None = None
    ) -> list[tuple[Any, ...]]:
        """``SELECT {columns} FROM {view}`` (`steps` or `handoffs`) for these sessions, in session and index order.

        The indexes on the derived tables and the span key make this a lookup on PostgreSQL.
        """
        order = {"steps": "step_index", "handoffs": "handoff_index"}[view]
        if not session_ids:
            return []
        low, high = steps or (0, 2**31 - 1)
        within = f" AND {order} BETWEEN ? AND ?" if view == "steps" else ""
        params: list[Any] = [list(session_ids), low, high] if view == "steps" else [list(session_ids)]
        return self.read(
            f"SELECT {columns} FROM {view} WHERE session_id = ANY(?){within} ORDER BY session_id, {order}", params
        )

    # -- retention ------------------------------------------------------------------------------

    def prune(self, before_unix_nano: int, max_sessions: int = 200, max_records: int = 50_000) -> Pruned:
        """One bounded batch of retention, as DuckDBStore.prune: whole old sessions, then old records."""
        raw = self._engine.raw_connection()
        try:
            connection: Any = raw.driver_connection
            with connection.transaction(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT session_id FROM derived_sessions WHERE last_time_unix_nano < %s "
                    "ORDER BY last_time_unix_nano LIMIT %s",
                    [before_unix_nano, max_sessions],
                )
                sessions = [row[0] for row in cursor.fetchall()]
                cursor.execute("SELECT trace_id FROM derived_session_traces WHERE session_id = ANY(%s)", [sessions])
                traces = [row[0] for row in cursor.fetchall()]
                cursor.execute("DELETE FROM raw_spans WHERE trace_id = ANY(%s)", [traces])
                spans = cursor.rowcount
                for table in ("derived_steps", "derived_handoffs", "derived_findings", "derived_analyses",
                              "derived_sessions"):  # fmt: skip
                    cursor.execute(f"DELETE FROM {table} WHERE session_id = ANY(%s)", [sessions])
                cursor.execute("DELETE FROM derived_session_traces WHERE trace_id = ANY(%s)", [traces])
                cursor.execute(
                    "DELETE FROM raw_logs WHERE record_id IN (SELECT record_id FROM raw_logs "
                    "WHERE greatest(time_unix_nano, observed_time_unix_nano) < %s LIMIT %s)",
                    [before_unix_nano, max_records],
                )
                logs = cursor.rowcount
                cursor.execute(
                    "DELETE FROM raw_metric_points WHERE point_id IN (SELECT point_id FROM raw_metric_points "
                    "WHERE time_unix_nano < %s LIMIT %s)",
                    [before_unix_nano, max_records],
                )
                points = cursor.rowcount
        finally:
            raw.close()
        return Pruned(len(sessions), int(spans), int(logs), int(points))

    # -- reads ----------------------------------------------------------------------------------

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one internal query over the views, values bound to ``?`` as on DuckDB (trusted SQL only:
        stepseven's own, never a user's, so no ``?`` appears inside its string literals)."""
        with self._engine.connect() as connection:
            result = connection.exec_driver_sql(sql.replace("%", "%%").replace("?", "%s"), tuple(params))
            return [tuple(row) for row in result]

    def close(self) -> None:
        self._engine.dispose()


def _copy(cursor: Any, table: sa.Table, columns: list[list[Any]]) -> None:
    """Rows (given column by column, in the table's order) into a table, with COPY."""
    names = [c.name for c in table.columns]
    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in zip(*columns, strict=True):
            copy.write_row(row)
