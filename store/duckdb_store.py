"""The embedded DuckDB store: one process owns the file, one writer appends Arrow batches.

DuckDB lets one process open a file read-write and no other process open it at all while it
does, so the collector owns the file and everyone else reads through its query API.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from duckdb_engine import Dialect as DuckDBDialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateColumn, CreateTable

from store import schema
from store.model import (
    ARROW_SCHEMAS,
    Batch,
    Finding,
    Pruned,
    Rows,
    SessionView,
    SpanRecord,
    StoreOutOfMemory,
    WriteResult,
    arrow_schema,
)
from store.query import DuckDBReader
from store.session_io import (
    LOG_EVENTS_SQL,
    UNBUILT_TRACES_SQL,
    finding_columns,
    log_events,
    record_columns,
    span_records_sql,
)

_DIALECT = DuckDBDialect()

DEFAULT_MEMORY_LIMIT = "128MB"
# DuckDB's worker threads in the collector. Its statements are small (a commit of about 800 spans),
# and a second DuckDB thread cost more CPU than it saved there: on 1M-span gRPC runs, one thread
# measured 7-15% more durable spans per second, with 58-63 instead of 63-74 µs of main-process CPU
# per span (docs/ingest.md). While it receives, SQL queries use one core too; --duckdb-threads raises it.
COLLECTOR_THREADS = 1

log = logging.getLogger(__name__)


class StoreError(Exception):
    """A store that cannot be opened or used; the message says what to do."""


class StoreLocked(StoreError):
    def __init__(self, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        holder = f"a running collector (PID {pid})" if pid else "another process"
        super().__init__(
            f"The database {path} is held by {holder}. DuckDB allows one process per file: "
            "query it through the collector's API (--url http://127.0.0.1:4319), or stop that process first."
        )


# The file is attached under this name to an in-memory instance (only ATTACH takes a row group size);
# every connection and cursor works in it.
CATALOG = "stepseven"
# Rows per row group. A transaction of at least this many rows DuckDB writes straight into the file,
# compressed, instead of into its WAL and again at a checkpoint: half the writer's CPU per span
# (store_append.py: 14-15 against 29 µs). The writer flushes its journal in transactions of this size
# (store/journal.py). On the 1M run, alternating with 8,192: 19,449 / 18,734 spans/s and 493 / 496 MB
# against 19,193 / 15,780 and 489 / 500, and 560 against 566 bytes per span on disk (before the content
# columns were zstd, below); 6,144 was slower and larger still. (Was 30,720, when every commit went
# through the WAL.)
ROW_GROUP_SIZE = 10_240
# DuckDB checkpoints by itself past this much WAL; checkpoint_if_due does sooner, by size and by time.
# Small flushes (fewer rows than a row group) go through the WAL, at about twice the bytes they take in
# the file: a WAL of 64 MB filled a 64 MiB volume before it was ever checkpointed (docs/ingest.md).
WAL_AUTOCHECKPOINT = "16MB"
CHECKPOINT_WAL_BYTES = 8 * 1024 * 1024
CHECKPOINT_SECONDS = 60.0
# The content columns (RawColumn.content: attributes, events, log bodies) hold most of a span's bytes.
# DuckDB's automatic choice for them was DICT_FSST, analysed anew for every row group; zstd halved the
# writer's CPU per span and took a third of the disk (store_append.py, 200k spans: 7.3-9.5 against
# 14.6-16.6 µs, 156 against 515 bytes per span). Queries on a 1M-span store took about as long as
# before; on 100k spans a LIKE over every span's attributes took 149 against 101 ms (docs/ingest.md).
# Set when a table is created: stores created before keep DuckDB's choice.
CONTENT_COMPRESSION = "zstd"


@compiles(CreateColumn, "duckdb")
def _create_column(element: CreateColumn, compiler: Any, **kw: Any) -> str:
    text: str = compiler.visit_create_column(element, **kw)
    if element.element.info.get("content"):
        text += f" USING COMPRESSION {CONTENT_COMPRESSION}"
    return text


# The smallest --memory-limit `serve` accepts. Measured with benchmarks/ingest_throughput.py (60,000
# agent spans over HTTP): at 8 and 16 MB exports were refused, the flush of one batch ran out of
# memory; 32 MB ingested them all, but one 1,024-row window of 40 KB spans, which the session worker
# and the analyzer read (see _rowid_windows), takes 40 MB. Half the default, 64 MB, leaves room for both.
MIN_COLLECTOR_MEMORY = "64MB"
_DUCKDB_SIZES = {"bytes": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4}


def memory_limit_bytes(memory_limit: str) -> int:
    """What DuckDB reads a memory limit as, in bytes (StoreError if it cannot read it)."""
    try:
        con = duckdb.connect(":memory:", config={"memory_limit": memory_limit})
    except duckdb.Error as exc:
        raise StoreError(
            f"--memory-limit {memory_limit!r} is not a size DuckDB reads ({exc}); give e.g. 256MB"
        ) from None
    try:
        row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    finally:
        con.close()
    number, unit = str(row[0] if row else "0 bytes").split()
    return int(float(number) * _DUCKDB_SIZES.get(unit, 1))


def _spill_cap(path: Path) -> int:
    """What DuckDB may spill next to the store: a quarter of the free space at start, 64 MiB to 4 GiB.

    DuckDB's own default is 90% of the free space: one large sort or join in a user's query could fill
    the disk the journal and the WAL need. Past the cap the query fails with DuckDB's message.
    """
    try:
        free = shutil.disk_usage(path.parent if path.parent.exists() else Path.cwd()).free
    except OSError:
        free = 0
    return min(4 * 1024**3, max(64 * 1024**2, free // 4))


def _connect(path: Path, *, read_only: bool, memory_limit: str, threads: int | None) -> duckdb.DuckDBPyConnection:
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "memory_limit": memory_limit,
        **({"threads": threads} if threads is not None else {}),
        "wal_autocheckpoint": WAL_AUTOCHECKPOINT,
        # Where DuckDB spills when the limit is reached; an in-memory instance would use ./.tmp.
        "temp_directory": f"{path}.tmp",
        "max_temp_directory_size": f"{_spill_cap(path)}B",
    }
    literal = str(path).replace("'", "''")
    options = f"ROW_GROUP_SIZE {ROW_GROUP_SIZE}" + (", READ_ONLY" if read_only else "")
    try:
        con = duckdb.connect(":memory:", config=config)
    except duckdb.Error as exc:  # a setting DuckDB refuses, such as a --memory-limit it cannot read
        raise StoreError(f"Cannot open the database {path}: {exc}") from None
    try:
        con.execute(f"ATTACH '{literal}' AS {CATALOG} ({options})")
    except duckdb.IOException as exc:
        con.close()
        text = str(exc)
        if "lock" in text.lower():
            match = re.search(r"PID (\d+)", text)
            raise StoreLocked(path, int(match.group(1)) if match else None) from None
        raise StoreError(f"Cannot open the database {path}: {text}") from None
    except duckdb.Error as exc:
        con.close()
        raise StoreError(f"Cannot open the database {path}: {exc}") from None
    con.execute(f"USE {CATALOG}")
    # User SQL runs on this instance: no files, URLs, extensions or other attached databases, ever.
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


class DuckDBStore:
    """The collector's store. ``write`` is called by the single writer thread only."""

    backend = "duckdb"

    def __init__(
        self,
        path: str | Path,
        *,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        threads: int | None = None,
        read_only: bool = False,
    ) -> None:
        """``threads``: DuckDB's worker threads; None is DuckDB's default, one per core."""
        self.path = Path(path)
        self.read_only = read_only
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise StoreError(f"There is no database at {self.path}; start `stepseven serve --db {self.path}` first.")
        self._memory_limit = memory_limit
        self._threads = threads
        self._con = _connect(self.path, read_only=read_only, memory_limit=memory_limit, threads=threads)
        self._cursor_lock = threading.Lock()
        self._invalidated = False  # stays set only if reopening failed: the next write or cursor retries
        self.reopens = 0  # times the database was reopened after a fatal error
        self.checkpoints = 0  # run by checkpoint_if_due
        self._checkpointed_at = time.monotonic()
        self._checkpoint_retry_at = 0.0
        if read_only:
            self._check_version()
        else:
            self._migrate()

    # -- schema ---------------------------------------------------------------------------------

    def _version(self) -> int | None:
        exists = self._con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [schema.schema_meta.name]
        ).fetchone()
        if not exists or not exists[0]:
            return None
        row = self._con.execute(f"SELECT max(version) FROM {schema.schema_meta.name}").fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def _check_version(self) -> None:
        version = self._version()
        if version is None:
            raise StoreError(f"{self.path} is not a stepseven database (no schema version).")
        if version > schema.SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this stepseven "
                f"({schema.SCHEMA_VERSION}); upgrade stepseven."
            )

    def _migrate(self) -> None:
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            version = self._version()
            if version is not None and version > schema.SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has schema version {version}, newer than this stepseven "
                    f"({schema.SCHEMA_VERSION}); upgrade stepseven."
                )
            if version is None:
                for table in schema.metadata.sorted_tables:
                    con.execute(str(CreateTable(table, if_not_exists=True).compile(dialect=_DIALECT)))
                for statement in schema.fresh_statements("duckdb"):
                    con.execute(statement)
                self._record_version(schema.SCHEMA_VERSION)
            else:
                for target in range(version + 1, schema.SCHEMA_VERSION + 1):
                    for table in schema.TABLES_ADDED.get(target, ()):
                        con.execute(str(CreateTable(table, if_not_exists=True).compile(dialect=_DIALECT)))
                    for statement in schema.migration_statements("duckdb", target):
                        con.execute(statement)
                    self._record_version(target)
                if version < schema.SCHEMA_VERSION:
                    for statement in schema.fresh_statements("duckdb"):
                        con.execute(statement)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _record_version(self, version: int) -> None:
        self._con.execute(f"INSERT INTO {schema.schema_meta.name} VALUES (?, ?)", [version, time.time_ns()])

    # -- writes ---------------------------------------------------------------------------------

    def write(self, batch: Batch) -> WriteResult:
        if self._invalidated:
            self._reopen()
        con = self._con
        try:
            self._begin(con)
            spans = self._append(schema.spans, batch.spans, ("trace_id", "span_id"), "start_time_unix_nano")
            logs = self._append(schema.logs, batch.logs, ("record_id",), "time_unix_nano")
            points = self._append(schema.metric_points, batch.metric_points, ("point_id",), "time_unix_nano")
            con.execute("COMMIT")
        except BaseException as exc:
            _rollback(con)
            self.recover_from(exc)
            if isinstance(exc, duckdb.OutOfMemoryException):
                # The writer splits the batch and tries again: say so in the store's own terms.
                raise StoreOutOfMemory(f"{len(batch)} records did not fit the memory limit ({exc})") from exc
            raise
        return WriteResult(spans, logs, points)

    # -- recovery -------------------------------------------------------------------------------

    def recover_from(self, exc: BaseException) -> None:
        """Reopens the database if ``exc`` is DuckDB's fatal error, which invalidates it for good.

        A checkpoint that cannot be written (disk full, out of memory) invalidates the database:
        DuckDB refuses all later work until it is reopened. Every committed transaction is still in
        the file or its WAL, so reopening loses nothing; the failed commit is answered 503 and the
        exporter sends it again.
        """
        if not self.read_only and is_fatal(exc):
            self._invalidated = True
            self._reopen()

    def _reopen(self) -> None:
        with self._cursor_lock:
            if not self._invalidated or self._usable():
                # Another thread reopened it already (the error came from a cursor of the old one).
                self._invalidated = False
                return
            log.error("the database %s was invalidated by a fatal error; reopening it", self.path)
            try:
                self._con.close()
            except duckdb.Error:
                pass
            try:
                self._con = _connect(self.path, read_only=False, memory_limit=self._memory_limit, threads=self._threads)
            except StoreError:
                log.exception("could not reopen %s; trying again on the next write or read", self.path)
                return
            self._invalidated = False
            self.reopens += 1

    def _usable(self) -> bool:
        try:
            probe = self._con.cursor()
            try:
                probe.execute(f"USE {CATALOG}")  # the in-memory instance itself stays usable
                probe.execute("SELECT 1").fetchall()
            finally:
                probe.close()
        except duckdb.Error:
            return False
        return True

    @staticmethod
    def _begin(con: duckdb.DuckDBPyConnection) -> None:
        try:
            con.execute("BEGIN TRANSACTION")
        except duckdb.TransactionException:
            # A failed commit (out of memory, say) can leave the transaction aborted even after a
            # rollback attempt; clear it, or every later write would fail the same way.
            _rollback(con)
            con.execute("BEGIN TRANSACTION")

    def _append(self, table: sa.Table, rows: Rows, key: tuple[str, ...], time_column: str) -> int:
        n = len(rows)
        if n == 0:
            return 0
        arrow = _first_occurrences(rows.table, key)
        times = pc.min_max(arrow.column(time_column)).as_py()
        names = ", ".join(table.columns.keys())
        keys = ", ".join(key)
        # Which of these are stored already, joining on the keys alone: an `INSERT ... ANTI JOIN` put
        # every column of the batch in its hash table and cost 39 instead of 15 ms per 1,536 spans.
        # A re-delivered record is identical, so it has the same time: the range lets DuckDB's zone
        # maps skip every row group outside this batch instead of scanning the whole table.
        stored_sql = (
            f"SELECT {keys} FROM {table.name} SEMI JOIN (SELECT {keys} FROM stepseven_batch) USING ({keys}) "
            f"WHERE {time_column} BETWEEN $lo AND $hi"
        )
        con = self._con
        # Registered once for both statements: each registration costs about half a millisecond.
        con.register("stepseven_batch", arrow)
        try:
            stored = con.execute(stored_sql, {"lo": times["min"], "hi": times["max"]}).fetchall()
            if stored:
                repeats = pa.array(["/".join(row) for row in stored], pa.string())
                arrow = arrow.filter(pc.invert(pc.is_in(_joined_key(arrow, key), value_set=repeats)))
                if arrow.num_rows == 0:
                    return 0
                con.register("stepseven_batch", arrow)  # replaces the registration above
            con.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM stepseven_batch")
        finally:
            _unregister(con, "stepseven_batch")
        return int(arrow.num_rows)

    # -- maintenance (offline: `stepseven renormalize`) -------------------------------------------

    def count_spans(self) -> int:
        row = self._con.execute("SELECT count(*) FROM raw_spans").fetchone()
        return int(row[0]) if row else 0

    def iter_raw_spans(self, chunk: int = 5000) -> Iterator[list[tuple[Any, ...]]]:
        """(trace_id, span_id, name, kind, status_code, status_message, attributes, events), in chunks.

        By rowid ranges, with each chunk fetched whole, so that updates can run between chunks.
        """
        row = self._con.execute("SELECT max(rowid) FROM raw_spans").fetchone()
        last = int(row[0]) if row and row[0] is not None else -1
        for start in range(0, last + 1, chunk):
            rows = self._con.execute(
                "SELECT trace_id, span_id, name, kind, status_code, status_message, "
                "CAST(attributes AS VARCHAR), CAST(events AS VARCHAR) FROM raw_spans "
                "WHERE rowid >= ? AND rowid < ?",
                [start, start + chunk],
            ).fetchall()
            if rows:
                yield rows

    def update_normalized(self, keys: list[tuple[str, str]], rows: list[dict[str, Any]]) -> None:
        columns = [c.name for c in schema.NORMALIZED_COLUMNS]
        arrow_schema = pa.schema(
            [pa.field("trace_id", pa.string()), pa.field("span_id", pa.string())]
            + [ARROW_SCHEMAS[schema.spans.name].field(c) for c in columns]
        )
        data = {"trace_id": [k[0] for k in keys], "span_id": [k[1] for k in keys]}
        data.update({c: [r[c] for r in rows] for c in columns})
        con = self._con
        con.register("stepseven_normalized", pa.table(data, schema=arrow_schema))
        try:
            assignments = ", ".join(f"{c} = n.{c}" for c in columns)
            self._begin(con)
            con.execute(
                f"UPDATE raw_spans SET {assignments} FROM stepseven_normalized n "
                "WHERE raw_spans.trace_id = n.trace_id AND raw_spans.span_id = n.span_id"
            )
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        finally:
            con.unregister("stepseven_normalized")

    def all_trace_ids(self) -> list[str]:
        return [row[0] for row in self._con.execute("SELECT DISTINCT trace_id FROM raw_spans").fetchall()]

    # -- sessions (read and written by the session worker only) ---------------------------------

    def session_inputs(
        self, trace_ids: list[str], since: int = 0
    ) -> tuple[list[SpanRecord], dict[str, list[tuple[str, dict[str, Any]]]]]:
        """The spans of these traces as session building needs them, and their GenAI log events.

        ``since``: no span of these traces starts earlier (the caller's bound: only what is newer is read)."""
        if not trace_ids:
            return [], {}
        with self._reading() as cursor:
            cursor.register("stepseven_ids", pa.table({"trace_id": trace_ids}))
            mine = "AND trace_id IN (SELECT trace_id FROM stepseven_ids)"
            rows = _read_windows(
                cursor,
                lambda window: span_records_sql("duckdb", f"{window} {mine}"),
                _rowid_windows(cursor, "raw_spans", since=since or None),
            )
            records = [SpanRecord(*row) for row in rows]
            log_rows = _read_windows(
                cursor,
                lambda window: LOG_EVENTS_SQL.format(where=f"{window} {mine}"),
                _rowid_windows(cursor, "raw_logs"),
            )
            # Windows come in rowid order; the events of one span keep their time order.
            log_rows.sort(key=lambda row: row[4:6])
            return records, log_events(log_rows)

    def input_messages_of(self, span_ids: list[tuple[str, str]], since: int = 0) -> dict[str, str]:
        """span_id -> input_messages JSON, for a few spans (the sessions' first model calls), none of which
        starts before ``since``."""
        if not span_ids:
            return {}
        with self._reading() as cursor:
            cursor.register(
                "stepseven_keys", pa.table({"trace_id": [k[0] for k in span_ids], "span_id": [k[1] for k in span_ids]})
            )
            cursor.register("stepseven_ids", pa.table({"trace_id": sorted({k[0] for k in span_ids})}))
            # Without the rowid windows the join would read the message columns of every stored span.
            rows = _read_windows(
                cursor,
                lambda window: (
                    "SELECT r.span_id, coalesce(CAST(r.input_messages AS VARCHAR), "
                    "r.attributes->>'gen_ai.input.messages') "
                    f"FROM (SELECT trace_id, span_id, input_messages, attributes FROM raw_spans WHERE {window}) r "
                    "JOIN stepseven_keys k ON r.trace_id = k.trace_id AND r.span_id = k.span_id"
                ),
                _rowid_windows(cursor, "raw_spans", since=since or None),
            )
            return dict(rows)

    def traces_without_sessions(self) -> list[str]:
        with self._reading() as cursor:
            return [row[0] for row in cursor.execute(UNBUILT_TRACES_SQL).fetchall()]

    def session_first_times(self, session_ids: Sequence[str]) -> dict[str, int]:
        """session_id -> the start of its earliest span, for the stored sessions among these."""
        with self._reading() as cursor:
            cursor.register("stepseven_sessions", pa.table({"id": pa.array(list(session_ids), pa.string())}))
            rows = cursor.execute(
                "SELECT session_id, first_time_unix_nano FROM derived_sessions "
                "WHERE session_id IN (SELECT id FROM stepseven_sessions)"
            ).fetchall()
            return {str(s): int(t) for s, t in rows}

    def session_memberships(self, *, trace_ids: Sequence[str] = (), session_ids: Sequence[str] = ()) -> dict[str, str]:
        """trace_id -> session_id, for the given traces and every trace of the given sessions."""
        with self._reading() as cursor:
            cursor.register("stepseven_traces", pa.table({"id": pa.array(list(trace_ids), pa.string())}))
            cursor.register("stepseven_sessions", pa.table({"id": pa.array(list(session_ids), pa.string())}))
            rows = cursor.execute(
                "SELECT trace_id, session_id FROM derived_session_traces "
                "WHERE trace_id IN (SELECT id FROM stepseven_traces) "
                "OR session_id IN (SELECT id FROM stepseven_sessions)"
            ).fetchall()
            return dict(rows)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for one read or transaction, closed after it; a fatal error met through it reopens the store."""
        cursor = self.cursor()
        try:
            yield cursor
        except BaseException as exc:
            self.recover_from(exc)
            raise
        finally:
            cursor.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside one transaction: committed when the block ends, rolled back on any error."""
        with self._reading() as cursor:
            cursor.execute("BEGIN TRANSACTION")
            try:
                yield cursor
                cursor.execute("COMMIT")
            except BaseException:
                _rollback(cursor)
                raise

    @contextlib.contextmanager
    def rebuilding(self) -> Iterator[None]:
        yield  # one process owns the file: its single session worker needs no lock

    def replace_sessions(self, memberships: dict[str, str], views: dict[str, SessionView]) -> None:
        """Replaces the derived rows of these traces and sessions in one transaction."""
        with self._transaction() as cursor:
            cursor.register("stepseven_traces", pa.table({"id": pa.array(list(memberships), pa.string())}))
            cursor.register("stepseven_sessions", pa.table({"id": pa.array(list(views), pa.string())}))
            # Each DELETE scans its whole table. Under steady traffic most sessions are new: a session has
            # derived rows only if it has a trace in derived_session_traces (both are written here, and
            # retention deletes them together), so one scan of that table finds what there is to delete.
            ((traces_stored, sessions_stored),) = cursor.execute(
                "SELECT coalesce(bool_or(trace_id IN (SELECT id FROM stepseven_traces)), false), "
                "coalesce(bool_or(session_id IN (SELECT id FROM stepseven_sessions)), false) "
                "FROM derived_session_traces WHERE trace_id IN (SELECT id FROM stepseven_traces) "
                "OR session_id IN (SELECT id FROM stepseven_sessions)"
            ).fetchall()
            if traces_stored:
                cursor.execute("DELETE FROM derived_session_traces WHERE trace_id IN (SELECT id FROM stepseven_traces)")
            if sessions_stored:
                for table in ("derived_steps", "derived_handoffs", "derived_sessions"):
                    cursor.execute(f"DELETE FROM {table} WHERE session_id IN (SELECT id FROM stepseven_sessions)")
            self._insert(cursor, schema.session_traces, [list(memberships), list(memberships.values())])
            now = time.time_ns()
            steps = [step for view in views.values() for step in view.steps]
            self._insert_records(cursor, schema.steps, steps, extra={"session_updated_time_unix_nano": now})
            self._insert_records(cursor, schema.handoffs, [h for v in views.values() for h in v.handoffs])
            summaries = [v.summary for v in views.values() if v.summary is not None]
            self._insert_records(
                cursor,
                schema.sessions,
                summaries,
                extra={"updated_time_unix_nano": now},
                json_columns=("agents", "models", "child_scopes"),
            )

    def _insert(self, cursor: duckdb.DuckDBPyConnection, table: sa.Table, columns: list[list[Any]]) -> None:
        if not columns or not columns[0]:
            return
        names = list(table.columns.keys())
        types = arrow_schema((c.name, schema.type_name(c)) for c in table.columns)
        arrow = pa.table(dict(zip(names, columns, strict=True)), schema=types)
        cursor.register("stepseven_rows", arrow)
        cursor.execute(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(names)} FROM stepseven_rows")
        cursor.unregister("stepseven_rows")

    def _insert_records(
        self,
        cursor: duckdb.DuckDBPyConnection,
        table: sa.Table,
        records: list[Any],
        extra: dict[str, Any] | None = None,
        json_columns: tuple[str, ...] = (),
    ) -> None:
        if records:
            self._insert(cursor, table, record_columns(table, records, extra, json_columns))

    # -- findings (written by the analyzer) -----------------------------------------------------

    def sessions_to_analyze(self) -> dict[str, int]:
        """session_id -> updated time, for sessions changed since their last analysis (or never analyzed)."""
        with self._reading() as cursor:
            rows = cursor.execute(
                "SELECT s.session_id, s.updated_time_unix_nano FROM derived_sessions s "
                "LEFT JOIN derived_analyses a ON a.session_id = s.session_id "
                "WHERE a.session_id IS NULL OR a.session_updated_time_unix_nano < s.updated_time_unix_nano "
                # In the order they were stored: a batch of them then reads a few narrow rowid ranges
                # (8 against 25 ms per session on a 100k-span store, in random order).
                "ORDER BY s.first_time_unix_nano"
            ).fetchall()
            return dict(rows)

    def session_updated_times(self, session_ids: Sequence[str]) -> dict[str, int]:
        with self._reading() as cursor:
            cursor.register("stepseven_sessions", pa.table({"id": pa.array(list(session_ids), pa.string())}))
            rows = cursor.execute(
                "SELECT session_id, updated_time_unix_nano FROM derived_sessions "
                "WHERE session_id IN (SELECT id FROM stepseven_sessions)"
            ).fetchall()
            return dict(rows)

    def session_step_counts(self, session_ids: Sequence[str]) -> dict[str, int]:
        with self._reading() as cursor:
            cursor.register("stepseven_sessions", pa.table({"id": pa.array(list(session_ids), pa.string())}))
            rows = cursor.execute(
                "SELECT session_id, step_count FROM derived_sessions "
                "WHERE session_id IN (SELECT id FROM stepseven_sessions)"
            ).fetchall()
            return dict(rows)

    def replace_findings(self, analyzed: dict[str, int], findings: list[Finding]) -> None:
        """Replaces the findings of the analyzed sessions (session_id -> the session version analyzed).

        A finding found again keeps the time it was first detected.
        """
        now = time.time_ns()
        with self._transaction() as cursor:
            cursor.register("stepseven_sessions", pa.table({"id": pa.array(list(analyzed), pa.string())}))
            # A session has findings only if it has an analysis (both are written here, and deleted
            # together): sessions analyzed for the first time, most of them under steady traffic, cost one
            # scan instead of three.
            ((seen,),) = cursor.execute(
                "SELECT count(*) FROM derived_analyses WHERE session_id IN (SELECT id FROM stepseven_sessions)"
            ).fetchall()
            detected: dict[str, int] = {}
            if seen:
                detected = dict(
                    cursor.execute(
                        "SELECT finding_id, detected_time_unix_nano FROM derived_findings "
                        "WHERE session_id IN (SELECT id FROM stepseven_sessions)"
                    ).fetchall()
                )
                for table in ("derived_findings", "derived_analyses"):
                    cursor.execute(f"DELETE FROM {table} WHERE session_id IN (SELECT id FROM stepseven_sessions)")
            unique = list({f.finding_id: f for f in findings}.values())
            columns = finding_columns(unique, detected, now)
            self._insert(cursor, schema.findings, columns)
            counts = {session: 0 for session in analyzed}
            for f in unique:
                counts[f.session_id] = counts.get(f.session_id, 0) + 1
            self._insert(
                cursor,
                schema.analyses,
                [list(analyzed), list(analyzed.values()), [now] * len(analyzed), [counts[s] for s in analyzed]],
            )

    # -- failing derived work (listed by collector/derived_work.py) ------------------------------

    def listed_failures(self, stage: str) -> list[tuple[str, str | None, str, int, int, int]]:
        """(key, session_id, error, attempts, first and last failure in ns) of the keys listed as failing."""
        with self._reading() as cursor:
            rows = cursor.execute(schema.LISTED_FAILURES_SQL, [stage]).fetchall()
            return [(str(k), s, str(e), int(a), int(f), int(la)) for k, s, e, a, f, la in rows]

    def record_failure(self, stage: str, key: str, session_id: str | None, error: str, attempts: int) -> None:
        """Lists a key as failing, or updates its row (its first failure stays)."""
        now = time.time_ns()
        with self._transaction() as cursor:
            trace = key if stage == "sessions" else None
            error = error[: schema.FAILURE_ERROR_CHARS]
            cursor.execute(schema.RECORD_FAILURE_SQL, [stage, key, session_id, trace, error, attempts, now, now])

    def pending_traces(self) -> list[str]:
        """Traces a stopped collector left waiting for their sessions' rebuild."""
        with self._reading() as cursor:
            return [str(row[0]) for row in cursor.execute("SELECT trace_id FROM derived_pending_traces").fetchall()]

    def save_pending_traces(self, trace_ids: Sequence[str]) -> None:
        if not trace_ids:
            return
        with self._transaction() as cursor:
            cursor.register("stepseven_keys", pa.table({"id": pa.array(list(trace_ids), pa.string())}))
            cursor.execute(
                "INSERT INTO derived_pending_traces SELECT DISTINCT id FROM stepseven_keys ON CONFLICT DO NOTHING"
            )

    def clear_pending_traces(self, trace_ids: Sequence[str]) -> None:
        if not trace_ids:
            return
        with self._transaction() as cursor:
            cursor.register("stepseven_keys", pa.table({"id": pa.array(list(trace_ids), pa.string())}))
            cursor.execute("DELETE FROM derived_pending_traces WHERE trace_id IN (SELECT id FROM stepseven_keys)")

    def clear_failures(self, stage: str, keys: Sequence[str]) -> None:
        """Deletes the rows of keys that succeeded."""
        if not keys:
            return
        with self._transaction() as cursor:
            cursor.register("stepseven_keys", pa.table({"id": pa.array(list(keys), pa.string())}))
            cursor.execute(
                "DELETE FROM derived_work_failures WHERE stage = ? AND key IN (SELECT id FROM stepseven_keys)", [stage]
            )

    # -- retention ------------------------------------------------------------------------------

    def prune(self, before_unix_nano: int, max_sessions: int = 200, max_records: int = 50_000) -> Pruned:
        """Deletes one bounded batch of data older than ``before_unix_nano``, in one short transaction.

        Whole sessions go (their spans, steps, handoffs, findings), never half of one: a session is
        old when its last span ended before the cutoff. Log records and metric points go by their own
        time. Call it until it returns an empty result; each call holds the writer back only briefly.
        """
        with self._transaction() as cursor:
            cursor.execute(
                "CREATE OR REPLACE TEMP TABLE stepseven_old_sessions AS SELECT session_id FROM derived_sessions "
                "WHERE last_time_unix_nano < ? ORDER BY last_time_unix_nano LIMIT ?",
                [before_unix_nano, max_sessions],
            )
            cursor.execute(
                "CREATE OR REPLACE TEMP TABLE stepseven_old_traces AS SELECT trace_id FROM derived_session_traces "
                "WHERE session_id IN (SELECT session_id FROM stepseven_old_sessions)"
            )
            sessions = _count(cursor, "SELECT count(*) FROM stepseven_old_sessions")
            spans = _count(
                cursor, "DELETE FROM raw_spans WHERE trace_id IN (SELECT trace_id FROM stepseven_old_traces)"
            )
            for table in ("derived_steps", "derived_handoffs", "derived_findings", "derived_analyses",
                          "derived_sessions"):  # fmt: skip
                cursor.execute(
                    f"DELETE FROM {table} WHERE session_id IN (SELECT session_id FROM stepseven_old_sessions)"
                )
            cursor.execute(
                "DELETE FROM derived_session_traces WHERE trace_id IN (SELECT trace_id FROM stepseven_old_traces)"
            )
            logs = _count(
                cursor,
                "DELETE FROM raw_logs WHERE record_id IN (SELECT record_id FROM raw_logs "
                "WHERE greatest(time_unix_nano, observed_time_unix_nano) < ? LIMIT ?)",
                [before_unix_nano, max_records],
            )
            points = _count(
                cursor,
                "DELETE FROM raw_metric_points WHERE rowid IN (SELECT rowid FROM raw_metric_points "
                "WHERE time_unix_nano < ? LIMIT ?)",
                [before_unix_nano, max_records],
            )
            cursor.execute("DROP TABLE stepseven_old_sessions")
            cursor.execute("DROP TABLE stepseven_old_traces")
        return Pruned(sessions, spans, logs, points)

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

        For `steps`, the raw spans are read only within the rowid ranges of the sessions' traces:
        through the view, every batch would scan the content of every stored span. ``steps`` narrows
        `steps` to a range of step indexes. ``unchecked_json``: the message columns as text that may not
        parse (for a reader that parses them itself and keeps such text as text: the analyzer).
        """
        order = {"steps": "step_index", "handoffs": "handoff_index"}[view]
        if not session_ids:
            return []
        with self._reading() as cursor:
            cursor.register("stepseven_sessions", pa.table({"id": pa.array(list(session_ids), pa.string())}))
            if view == "steps":
                # The sessions' derived steps first (a few hundred rows), so that the join keeps them in
                # its hash table and streams the raw spans past it, read only within their rowid ranges.
                # Only the builds the sessions are at, and raw spans from their first start on, are
                # scanned: rows are appended in that order, so the zone maps skip the rest of each table
                # (a scan of every stored step grew with the store: 26 ms for 500 sessions of a 300k-span
                # store, 11 ms bounded). One snapshot for both reads.
                low, high = steps or (0, 2**31 - 1)
                cursor.execute("BEGIN TRANSACTION")
                try:
                    ((first, oldest, newest),) = cursor.execute(
                        "SELECT min(first_time_unix_nano), min(updated_time_unix_nano), "
                        "max(updated_time_unix_nano) FROM derived_sessions "
                        "WHERE session_id IN (SELECT id FROM stepseven_sessions)"
                    ).fetchall()
                    cursor.execute(
                        "CREATE OR REPLACE TEMP TABLE stepseven_steps AS SELECT * FROM derived_steps "
                        "WHERE session_updated_time_unix_nano BETWEEN ? AND ? "
                        "AND session_id IN (SELECT id FROM stepseven_sessions) AND step_index BETWEEN ? AND ?",
                        [oldest or 0, newest or 0, low, high],
                    )
                except BaseException:
                    _rollback(cursor)  # the error to report is the statement's, not COMMIT's on an aborted one
                    raise
                cursor.execute("COMMIT")
                cursor.execute(
                    "CREATE OR REPLACE TEMP TABLE stepseven_ids AS SELECT DISTINCT trace_id FROM stepseven_steps"
                )
                try:
                    rows = _read_windows(
                        cursor,
                        lambda window: (
                            f"SELECT session_id, {order}, {columns} FROM ("
                            + schema.steps_query("duckdb", window, "stepseven_steps", unchecked_json=unchecked_json)
                            + ") steps"
                        ),
                        _rowid_windows(cursor, "raw_spans", "stepseven_steps", since=first),
                        rowid="r.rowid",
                    )
                    rows.sort(key=lambda row: (row[0], row[1]))
                    return [row[2:] for row in rows]
                finally:
                    cursor.execute("DROP TABLE IF EXISTS stepseven_ids")
                    cursor.execute("DROP TABLE IF EXISTS stepseven_steps")
            return cursor.execute(
                f"SELECT {columns} FROM {view} WHERE session_id IN (SELECT id FROM stepseven_sessions) "
                f"ORDER BY session_id, {order}"
            ).fetchall()

    # -- reads ----------------------------------------------------------------------------------

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one internal read-only query over the documented views (values as parameters)."""
        with self._reading() as cursor:
            return cursor.execute(sql, list(params)).fetchall()

    @property
    def location(self) -> str:
        return str(self.path)

    def reader(self) -> DuckDBReader:
        return DuckDBReader(self.cursor, on_error=self.recover_from)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection for one reading thread; DuckDB's MVCC shows it committed data only."""
        if self._invalidated:
            self._reopen()
        with self._cursor_lock:
            cursor = self._con.cursor()
        try:
            cursor.execute(f"USE {CATALOG}")  # a new cursor starts in the empty in-memory catalog
        except duckdb.Error as exc:
            cursor.close()
            self.recover_from(exc)
            raise
        return cursor

    # -- the disk ---------------------------------------------------------------------------------

    def folders(self) -> list[Path]:
        """Where the store writes: its file, WAL, journal and spill folder all sit next to the file."""
        return [self.path.parent]

    def wal_bytes(self) -> int:
        try:
            return os.path.getsize(f"{self.path}.wal")
        except OSError:
            return 0

    def checkpoint_if_due(self, *, low_disk: bool = False) -> bool:
        """Moves the WAL into the file when it is large or old, or when the disk is low; True if it ran.

        DuckDB only checkpoints by itself past wal_autocheckpoint bytes of WAL, which a quiet collector
        may never reach: its WAL would hold hours of small flushes, about twice the bytes they take in
        the file. A checkpoint that fails (a full disk) leaves the WAL as it was; nothing is lost.
        """
        if self.read_only:
            return False
        wal = self.wal_bytes()
        now = time.monotonic()
        if wal == 0 or now < self._checkpoint_retry_at:
            return False
        since = now - self._checkpointed_at
        if not (wal >= CHECKPOINT_WAL_BYTES or since >= CHECKPOINT_SECONDS or (low_disk and since >= 5.0)):
            return False
        self._checkpointed_at = now
        try:
            with self._reading() as cursor:
                cursor.execute(f"CHECKPOINT {CATALOG}")
        except duckdb.Error as exc:
            self._checkpoint_retry_at = now + 10.0
            log.warning("could not checkpoint %s (%s); the WAL is kept and the checkpoint tried again", self.path, exc)
            return False
        self.checkpoints += 1
        return True

    def close(self) -> None:
        """Checkpoints and closes; on a full disk the WAL stays, and is replayed on the next start."""
        if not self.read_only and not self._invalidated:
            try:
                self._con.execute("CHECKPOINT")
            except duckdb.Error as exc:
                log.warning(
                    "the last checkpoint of %s could not be written (%s); its WAL holds everything and is "
                    "replayed on the next start",
                    self.path,
                    exc,
                )
        try:
            self._con.close()
        except duckdb.Error as exc:
            log.warning("closing %s: %s", self.path, exc)


def _count(cursor: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    row = cursor.execute(sql, params or []).fetchone()
    return int(row[0]) if row else 0


def is_fatal(exc: BaseException) -> bool:
    """DuckDB's invalidated database, raised directly or passed through Arrow's stream as an OSError.

    An attached file says `Database "stepseven" has been invalidated because checkpointing failed`
    (an IOException); a file opened directly raises a FatalException ("database has been invalidated").
    """
    return isinstance(exc, duckdb.FatalException) or "has been invalidated" in str(exc)


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # nothing to roll back, or the transaction is gone already


# Raw rows one read of content columns scans at a time. DuckDB scans 2,048 rows a vector: with spans
# that carry long message histories (tens of KB each) one vector of two content columns is more than
# the default memory limit, whatever the query keeps. A window of 1,024 rowids read a 10,000-step
# session of 40 KB spans under 128 MB (2,048 did not); a window that still runs out of memory is
# halved, down to one row (docs/ingest.md, "Large requests").
READ_WINDOW_ROWS = 1024


def _rowid_windows(
    cursor: duckdb.DuckDBPyConnection, table: str, spans: str | None = None, since: int | None = None
) -> list[tuple[int, int]]:
    """Rowid windows of at most READ_WINDOW_ROWS rows covering the rows of the traces in ``stepseven_ids``
    (and only the spans in the ``span_id`` column of the table ``spans``, when given; and only spans that
    start at ``since`` or later, when given: a bound the caller knows holds for every span it wants).

    A semi-join would read every projected column of the whole table; finding the rowids first reads
    one column, and rowid ranges let the scan skip every row group outside them (recent traces sit
    together at the end of the table). Narrowed to the spans wanted, one step of a 20,000-step trace is
    read in one window instead of twenty.
    """
    narrow = f" AND span_id IN (SELECT span_id FROM {spans})" if spans is not None else ""
    if since is not None:
        narrow += f" AND start_time_unix_nano >= {int(since)}"
    rowids = sorted(
        r[0]
        for r in cursor.execute(
            f"SELECT rowid FROM {table} WHERE trace_id IN (SELECT trace_id FROM stepseven_ids){narrow}"
        ).fetchall()
    )
    windows: list[tuple[int, int]] = []
    if not rowids:
        return windows
    start = previous = rowids[0]
    for rowid in rowids[1:]:
        if rowid - start >= READ_WINDOW_ROWS:
            windows.append((start, previous))
            start = rowid
        previous = rowid
    windows.append((start, previous))
    return windows


def _read_windows(
    cursor: duckdb.DuckDBPyConnection, sql: Callable[[str], str], windows: list[tuple[int, int]], rowid: str = "rowid"
) -> list[tuple[Any, ...]]:
    """The rows of ``sql(predicate)`` over every window, halving a window that runs out of memory."""
    rows: list[tuple[Any, ...]] = []
    todo = list(reversed(windows))
    while todo:
        lo, hi = todo.pop()
        try:
            rows += cursor.execute(sql(f"{rowid} BETWEEN {int(lo)} AND {int(hi)}")).fetchall()
        except duckdb.OutOfMemoryException as exc:
            if lo == hi:
                raise StoreOutOfMemory(f"one stored record does not fit the memory limit ({exc})") from exc
            middle = (lo + hi) // 2
            todo += [(middle + 1, hi), (lo, middle)]
    return rows


def _joined_key(table: pa.Table, key: tuple[str, ...]) -> pa.ChunkedArray:
    """One string per row for a key of one or more string columns (ids are hex, so "/" cannot occur in them)."""
    if len(key) == 1:
        return table.column(key[0])
    return pc.binary_join_element_wise(*(table.column(k) for k in key), "/")


def _unregister(con: duckdb.DuckDBPyConnection, name: str) -> None:
    try:
        con.unregister(name)
    except duckdb.Error:
        pass  # the statement's own error is the one to report


def _first_occurrences(table: pa.Table, key: tuple[str, ...]) -> pa.Table:
    """Drops repeats of a key inside one batch (a retry can be queued next to the original)."""
    if pc.count_distinct(_joined_key(table, key)).as_py() == table.num_rows:
        return table
    numbered = table.append_column("stepseven_row", pa.array(range(table.num_rows), pa.int64()))
    firsts = numbered.group_by(list(key), use_threads=False).aggregate([("stepseven_row", "min")])
    rows = firsts.column("stepseven_row_min")
    return table.take(pc.take(rows, pc.sort_indices(rows)))
