"""The PostgreSQL store: the same schema and views as DuckDB, for several collectors sharing one database.

Schema creation and migration are safe when several collectors start at once; appends are
group-committed and idempotent (a span delivered to two collectors, or twice to one, is stored once);
user SQL reads through `store.postgres_query.PostgresReader`, as a role that can only read the views.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from store import schema
from store.duckdb_store import StoreError
from store.model import Batch, Finding, Pruned, Rows, SessionView, SpanRecord, WriteResult
from store.postgres_query import (
    READER_ROLE,
    PostgresReader,
    json_as_text,
    reader_password,
    reader_setup_statements,
    reader_url,
)
from store.query import numbered
from store.reads import VIEWS
from store.session_io import (
    LOG_EVENTS_SQL,
    UNBUILT_TRACES_SQL,
    finding_columns,
    log_events,
    record_columns,
    span_records_sql,
)

# pg_advisory_xact_lock key: "stepseven" as a number. Migrations take it, so concurrent starts queue.
_MIGRATION_LOCK = 0x73746570736576
_REBUILD_LOCK = _MIGRATION_LOCK + 1
_FINDINGS_LOCK = _MIGRATION_LOCK + 2

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


def store_url(url: str) -> sa.URL:
    """A `postgresql://` URL as SQLAlchemy's psycopg (version 3) URL."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise StoreError(
            f"{url!r} is not a database URL; write postgresql://USER:PASSWORD@HOST:5432/DATABASE."
        ) from None
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise StoreError(f"Only PostgreSQL stores are supported by URL (postgresql://...), not {parsed.drivername}.")
    return parsed.set(drivername="postgresql+psycopg")


class PostgresStore:
    backend = "postgresql"
    reopens = 0  # DuckDB's count of reopens after a fatal error; the server's pool reconnects by itself here

    def __init__(self, url: str) -> None:
        self.url = store_url(url)
        try:
            self._engine = sa.create_engine(self.url, pool_pre_ping=True, pool_size=4, max_overflow=4)
            self._migrate()
            self._ensure_reader()
        except sa.exc.OperationalError as exc:
            raise StoreError(f"Cannot reach the PostgreSQL store: {exc.orig}") from None

    @property
    def location(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def reader(self) -> PostgresReader:
        return PostgresReader(self.url)

    def _ensure_reader(self) -> None:
        """The login the SQL API reads as: it can read the views in this database, and nothing else."""
        database = self.url.database or "postgres"
        # Roles belong to the whole server and advisory locks to one database, so two collectors of
        # different databases may race here: the loser finds the role made and logs in on its next look.
        for attempt in range(3):
            if self._reader_can_log_in():
                break
            try:
                self._create_reader()
            except (sa.exc.IntegrityError, sa.exc.InternalError):
                if attempt == 2:
                    raise
        with self._engine.begin() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            for statement in reader_setup_statements(database, VIEWS):
                connection.execute(sa.text(statement))
            # Failing derived work is queryable too (schema version 8), beside the views of store.reads.
            connection.execute(sa.text(f"GRANT SELECT ON derived_failures TO {READER_ROLE}"))

    def _create_reader(self) -> None:
        password = reader_password(self.url)  # hex digits only, so safe inside the literal
        with self._engine.begin() as connection:
            exists = connection.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": READER_ROLE})
            verb = "ALTER" if exists.scalar() else "CREATE"
            try:
                connection.execute(
                    sa.text(
                        f"{verb} ROLE {READER_ROLE} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                        f"NOREPLICATION NOBYPASSRLS PASSWORD '{password}'"
                    )
                )
            except sa.exc.ProgrammingError as exc:
                raise StoreError(
                    f"The store's login {self.url.username!r} cannot create the read-only role {READER_ROLE} "
                    f"that the SQL API uses ({exc.orig}); grant it CREATEROLE "
                    f"(ALTER ROLE {self.url.username} CREATEROLE) or run stepseven as the database owner."
                ) from None
            connection.execute(sa.text(f"ALTER ROLE {READER_ROLE} SET default_transaction_read_only = on"))

    def _reader_can_log_in(self) -> bool:
        engine = sa.create_engine(reader_url(self.url), poolclass=sa.pool.NullPool)
        try:
            with engine.connect():
                return True
        except sa.exc.OperationalError:
            return False
        finally:
            engine.dispose()

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
        try:
            return self._write(batch)
        except psycopg.DataError as exc:
            # PostgreSQL text cannot hold NUL characters (DuckDB's can). Rather than refuse the whole
            # batch, and with it every other span in it, they are stored as U+FFFD; rare enough to retry.
            if "NUL" not in str(exc) and "0x00" not in str(exc):
                raise
            return self._write(_without_nul(batch))

    def _write(self, batch: Batch) -> WriteResult:
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
                for row in zip(*(rows.column(name) for name in names), strict=True):
                    copy.write_row(row)
            key = ", ".join(_KEYS[table.name])
            cursor.execute(
                f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(names)} FROM {staging} "
                f"ON CONFLICT ({key}) DO NOTHING"
            )
            return int(cursor.rowcount)

    # -- sessions (read and written by the session worker) ---------------------------------------

    def session_inputs(
        self, trace_ids: list[str], since: int = 0
    ) -> tuple[list[SpanRecord], dict[str, list[tuple[str, dict[str, Any]]]]]:
        """The spans of these traces as session building needs them, and their GenAI log events (``since``
        narrows DuckDB's scans; the trace index makes this a lookup here)."""
        if not trace_ids:
            return [], {}
        where = "trace_id = ANY(CAST(:ids AS text[]))"
        with self._engine.connect() as connection:
            rows = connection.execute(sa.text(span_records_sql("postgresql", where)), {"ids": trace_ids})
            records = [SpanRecord(*row) for row in rows]
            logs = connection.execute(sa.text(LOG_EVENTS_SQL.format(where=where)), {"ids": trace_ids})
            return records, log_events([tuple(row) for row in logs])

    def input_messages_of(self, span_ids: list[tuple[str, str]], since: int = 0) -> dict[str, str]:
        """span_id -> input_messages JSON, for a few spans (the sessions' first model calls; a lookup by key,
        so ``since`` is not needed here)."""
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

    def traces_without_sessions(self) -> list[str]:
        with self._engine.connect() as connection:
            return [str(row[0]) for row in connection.execute(sa.text(UNBUILT_TRACES_SQL))]

    def session_first_times(self, session_ids: Sequence[str]) -> dict[str, int]:
        """session_id -> the start of its earliest span, for the stored sessions among these."""
        rows = self.read(
            "SELECT session_id, first_time_unix_nano FROM derived_sessions WHERE session_id = ANY(?)",
            [list(session_ids)],
        )
        return {str(s): int(t) for s, t in rows}

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

    @contextlib.contextmanager
    def rebuilding(self) -> Iterator[None]:
        """Held while one collector reads a session's spans and writes its steps, so that collectors sharing
        this database rebuild one at a time: whichever goes second reads what the first committed, and a
        rebuild from fewer spans can never land after one from more."""
        raw = self._engine.raw_connection()
        try:
            connection: Any = raw.driver_connection
            connection.execute("SELECT pg_advisory_lock(%s)", [_REBUILD_LOCK])
            try:
                yield
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", [_REBUILD_LOCK])
                connection.commit()
        finally:
            raw.close()

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
                now = time.time_ns()
                if steps:
                    _copy(
                        cursor,
                        schema.steps,
                        record_columns(schema.steps, steps, extra={"session_updated_time_unix_nano": now}),
                    )
                if handoffs:
                    _copy(cursor, schema.handoffs, record_columns(schema.handoffs, handoffs))
                if summaries:
                    columns = record_columns(
                        schema.sessions,
                        summaries,
                        extra={"updated_time_unix_nano": now},
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
                "WHERE a.session_id IS NULL OR a.session_updated_time_unix_nano < s.updated_time_unix_nano "
                # In the order they were stored: a batch of them then reads a few narrow rowid ranges
                # (8 against 25 ms per session on a 100k-span store, in random order).
                "ORDER BY s.first_time_unix_nano"
            )
        )

    def session_updated_times(self, session_ids: Sequence[str]) -> dict[str, int]:
        return dict(
            self.read(
                "SELECT session_id, updated_time_unix_nano FROM derived_sessions WHERE session_id = ANY(?)",
                [list(session_ids)],
            )
        )

    def session_step_counts(self, session_ids: Sequence[str]) -> dict[str, int]:
        return dict(
            self.read(
                "SELECT session_id, step_count FROM derived_sessions WHERE session_id = ANY(?)", [list(session_ids)]
            )
        )

    def replace_findings(self, analyzed: dict[str, int], findings: list[Finding]) -> None:
        """Replaces the findings of the analyzed sessions; a finding found again keeps its detection time."""
        now = time.time_ns()
        raw = self._engine.raw_connection()
        try:
            connection: Any = raw.driver_connection
            with connection.transaction(), connection.cursor() as cursor:
                # Collectors sharing the database analyze the same sessions: one writes at a time, and an
                # analysis of an older version of a session never replaces one of a newer version.
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FINDINGS_LOCK])
                cursor.execute(
                    "SELECT session_id, session_updated_time_unix_nano FROM derived_analyses "
                    "WHERE session_id = ANY(%s)",
                    [list(analyzed)],
                )
                newer = {session for session, version in cursor.fetchall() if version > analyzed[session]}
                if newer:
                    analyzed = {s: v for s, v in analyzed.items() if s not in newer}
                    findings = [f for f in findings if f.session_id not in newer]
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
        self,
        view: str,
        session_ids: Sequence[str],
        columns: str,
        steps: tuple[int, int] | None = None,
        *,
        unchecked_json: bool = False,
    ) -> list[tuple[Any, ...]]:
        """``SELECT {columns} FROM {view}`` (`steps` or `handoffs`) for these sessions, in session and index order.

        The indexes on the derived tables and the span key make this a lookup on PostgreSQL. The view's JSON
        is what DuckDB's ``unchecked_json`` gives once parsed, so the flag changes nothing here.
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

    # -- failing derived work (listed by collector/derived_work.py) ------------------------------

    def listed_failures(self, stage: str) -> list[tuple[str, str | None, str, int, int, int]]:
        """(key, session_id, error, attempts, first and last failure in ns) of the keys listed as failing."""
        rows = self.read(schema.LISTED_FAILURES_SQL, [stage])
        return [(str(k), s, str(e), int(a), int(f), int(la)) for k, s, e, a, f, la in rows]

    def record_failure(self, stage: str, key: str, session_id: str | None, error: str, attempts: int) -> None:
        """Lists a key as failing, or updates its row (its first failure stays; collectors upsert on the key)."""
        now = time.time_ns()
        trace = key if stage == "sessions" else None
        params = [stage, key, session_id, trace, error[: schema.FAILURE_ERROR_CHARS], attempts, now, now]
        self._execute(schema.RECORD_FAILURE_SQL, params)

    def pending_traces(self) -> list[str]:
        """Traces a stopped collector left waiting for their sessions' rebuild."""
        with self._engine.connect() as connection:
            return [str(row[0]) for row in connection.execute(sa.text("SELECT trace_id FROM derived_pending_traces"))]

    def save_pending_traces(self, trace_ids: Sequence[str]) -> None:
        if trace_ids:
            self._execute(
                "INSERT INTO derived_pending_traces SELECT DISTINCT unnest(CAST(? AS text[])) ON CONFLICT DO NOTHING",
                [list(trace_ids)],
            )

    def clear_pending_traces(self, trace_ids: Sequence[str]) -> None:
        if trace_ids:
            self._execute("DELETE FROM derived_pending_traces WHERE trace_id = ANY(?)", [list(trace_ids)])

    def clear_failures(self, stage: str, keys: Sequence[str]) -> None:
        """Deletes the rows of keys that succeeded."""
        if keys:
            self._execute("DELETE FROM derived_work_failures WHERE stage = ? AND key = ANY(?)", [stage, list(keys)])

    def _execute(self, sql: str, params: Sequence[Any]) -> None:
        """One statement of stepseven's own (``?`` placeholders) in its own transaction."""
        raw = self._engine.raw_connection()
        try:
            connection: Any = raw.driver_connection
            with connection.transaction(), psycopg.RawCursor(connection) as cursor:
                cursor.execute(numbered(sql), list(params))
        finally:
            raw.close()

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
        """Rows of one internal query over the views, values bound to ``?`` or ``$1`` as on DuckDB, JSON as
        its text as DuckDB gives it (trusted SQL only: stepseven's own, never a user's, so no ``?`` appears
        inside its string literals)."""
        raw = self._engine.raw_connection()
        try:
            connection: Any = raw.driver_connection
            with psycopg.RawCursor(connection) as cursor:
                json_as_text(cursor.adapters)
                cursor.execute(numbered(sql), list(params) or None)
                rows = [tuple(row) for row in cursor.fetchall()] if cursor.description else []
            connection.commit()
            return rows
        finally:
            raw.close()

    def close(self) -> None:
        self._engine.dispose()


def _without_nul(batch: Batch) -> Batch:
    def clean(rows: Rows) -> Rows:
        table = rows.table
        for i, field in enumerate(table.schema):
            if pa.types.is_string(field.type):
                table = table.set_column(i, field, pc.replace_substring(table.column(i), "\x00", "\ufffd"))
        return Rows(table)

    return Batch(clean(batch.spans), clean(batch.logs), clean(batch.metric_points))


def _copy(cursor: Any, table: sa.Table, columns: list[list[Any]]) -> None:
    """Rows (given column by column, in the table's order) into a table, with COPY."""
    names = [c.name for c in table.columns]
    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in zip(*columns, strict=True):
            copy.write_row(row)
