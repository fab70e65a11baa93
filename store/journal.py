"""The write-ahead journal in front of the DuckDB store: an export is acknowledged once it is here.

DuckDB writes a transaction of fewer rows than a row group twice: into its write-ahead log and
again, compressed, at the next checkpoint, holding the rows in memory in between. A transaction of
whole row groups it writes once, compressed, straight into the file: half the writer's CPU per span
(docs/ingest.md). Exports arrive a request (512 spans) at a time, so the writer appends each group of
requests here, syncs it to disk and acknowledges it, and writes to DuckDB in row-group-sized
transactions. A collector killed in between finds the journal on its next start and writes it to
the store; the store's dedupe makes writing a record twice harmless.

A journal is a directory of numbered segment files. The writer appends to the newest one and starts
a new one for each flush to the store, so that a segment can be deleted once every record in it is
committed to the store. A record is a header (magic, which table, CRC-32 and length of the payload)
and one Arrow IPC stream. Only Arrow is read back, never pickle: the file holds trace content.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from store import raw_columns
from store.model import Batch, Rows

log = logging.getLogger(__name__)

_MAGIC = b"S7J1"
_HEADER = struct.Struct("<4sBIQ")  # magic, table code, CRC-32 of the payload, payload length
# A record's table code is its index here, and in the tuple _by_code returns.
_TABLES = (raw_columns.SPANS_TABLE, raw_columns.LOGS_TABLE, raw_columns.METRIC_POINTS_TABLE)


def _by_code(batch: Batch) -> tuple[Rows, Rows, Rows]:
    return batch.spans, batch.logs, batch.metric_points


_SUFFIX = ".s7j"
_IOV_MAX = 512  # buffers per writev call; Linux refuses more than 1,024


@dataclass(frozen=True, slots=True)
class Record:
    """Where one table of one acknowledged batch is in the journal."""

    segment: int
    code: int  # which raw table: spans, logs, metric points
    offset: int  # of the payload (the IPC stream), after the header
    length: int


class JournalError(Exception):
    """A journal that cannot be created or used; the message says what to do."""


class Journal:
    """Segments of acknowledged batches not yet committed to the store; used by the writer's threads."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(
                f"Cannot create the journal directory {self.directory} ({exc}); "
                "the collector needs write access next to its database file."
            ) from None
        found = self.segments()
        self._number = (found[-1] + 1) if found else 1
        self._fd = self._open(self._number)
        self._size = 0  # bytes in the current segment
        self.bytes_written = 0

    def _path(self, number: int) -> Path:
        return self.directory / f"{number:012d}{_SUFFIX}"

    def _open(self, number: int) -> int:
        fd = os.open(self._path(number), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        # The new file's name must survive a crash too, not only its content.
        dir_fd = os.open(self.directory, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return fd

    @property
    def current(self) -> int:
        """The segment appends go to."""
        return self._number

    def segments(self) -> list[int]:
        numbers = []
        for path in self.directory.glob(f"*{_SUFFIX}"):
            try:
                numbers.append(int(path.stem))
            except ValueError:
                continue
        return sorted(numbers)

    def append(self, batches: list[Batch]) -> list[list[Record]]:
        """Writes the batches to the current segment and syncs it; returns where each batch's tables are.

        Raises OSError when the disk refuses; then nothing may be acknowledged.
        """
        parts: list[bytes] = []
        positions: list[list[Record]] = []
        at = self._size
        for batch in batches:
            records = []
            for code, rows in enumerate(_by_code(batch)):
                if len(rows):
                    payload = rows.to_ipc()
                    parts.append(_HEADER.pack(_MAGIC, code, zlib.crc32(payload), len(payload)))
                    parts.append(payload)
                    records.append(Record(self._number, code, at + _HEADER.size, len(payload)))
                    at += _HEADER.size + len(payload)
            positions.append(records)
        try:
            for i in range(0, len(parts), _IOV_MAX):
                chunk = parts[i : i + _IOV_MAX]
                _write_all(self._fd, [memoryview(p) for p in chunk])
                written = sum(len(p) for p in chunk)
                self._size += written
                self.bytes_written += written
            os.fdatasync(self._fd)
        except OSError:
            # What this append wrote may end in a torn record, and a reader stops there: later
            # records go to a new segment.
            try:
                self.rotate()
            except OSError:
                log.exception("could not start a new journal segment after a failed write")
            raise
        return positions

    def rotate(self) -> int:
        """Starts a new segment; returns the number of the one it closed."""
        closed = self._number
        os.close(self._fd)
        self._number += 1
        self._size = 0
        self._fd = self._open(self._number)
        return closed

    def remove(self, number: int) -> None:
        """Deletes a segment whose every record is committed to the store."""
        if number == self._number:
            raise JournalError("the current segment cannot be removed; rotate first")
        try:
            self._path(number).unlink()
        except FileNotFoundError:
            pass

    def records(self, number: int) -> list[tuple[Record, int]]:
        """The records of a segment a stopped collector left, with their row counts.

        A record a crash cut short while it was written (so never synced, never acknowledged) ends
        the segment: it and anything after it are ignored, with a warning.
        """
        data = self._path(number).read_bytes()
        found: list[tuple[Record, int]] = []
        at = 0
        while len(data) - at >= _HEADER.size:
            magic, code, crc, length = _HEADER.unpack_from(data, at)
            start, end = at + _HEADER.size, at + _HEADER.size + length
            if magic != _MAGIC or code >= len(_TABLES) or end > len(data) or zlib.crc32(data[start:end]) != crc:
                break
            try:
                rows = pa.ipc.open_stream(pa.py_buffer(data[start:end])).read_all().num_rows
            except pa.ArrowInvalid:
                break
            found.append((Record(number, code, start, length), rows))
            at = end
        if at < len(data):
            log.warning(
                "journal segment %s: ignored %d bytes at its end, a record cut short by a crash (never acknowledged)",
                self._path(number),
                len(data) - at,
            )
        return found

    def load(self, records: list[Record]) -> Batch:
        """The batch these records hold, its buffers mapped from the segment files (no copy).

        The mapping lasts as long as the batch's buffers; a segment deleted meanwhile stays readable.
        """
        maps: dict[int, pa.MemoryMappedFile] = {}
        tables: list[list[pa.Table]] = [[], [], []]
        for record in records:
            mapped = maps.get(record.segment)
            if mapped is None:
                mapped = maps[record.segment] = pa.memory_map(str(self._path(record.segment)))
            buffer = mapped.read_at(record.length, record.offset)
            tables[record.code].append(pa.ipc.open_stream(buffer).read_all())
        return Batch(
            *(
                Rows.concat([Rows(t) for t in found]) if found else Rows.empty(name)
                for name, found in zip(_TABLES, tables, strict=True)
            )
        )

    def close(self) -> None:
        os.close(self._fd)
        if self._path(self._number).stat().st_size == 0:
            self._path(self._number).unlink()


def _write_all(fd: int, views: list[memoryview]) -> None:
    # writev may write less than asked (a signal, a nearly full disk): go on from where it stopped.
    while views:
        n = os.writev(fd, views)
        if n == 0:
            raise OSError("the journal write made no progress")
        while views and n >= len(views[0]):
            n -= len(views[0])
            views.pop(0)
        if views and n:
            views[0] = views[0][n:]
