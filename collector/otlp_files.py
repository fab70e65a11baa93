"""OTLP files (one export request each, as `stepseven send` takes them) decoded the way the receivers decode."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from collector.config import Limits
from collector.encoding import parse_json, parse_protobuf
from collector.session_worker import SessionStore, SessionWorker
from collector.signals import LOGS, METRICS, TRACES, Signal
from store.model import Batch, WriteResult


class SessionStoreWriter(SessionStore, Protocol):
    def write(self, batch: Batch) -> WriteResult: ...


def signal_of(path: Path, body: bytes) -> Signal:
    if path.suffix in (".pb", ".bin", ".protobuf"):
        return TRACES
    head = body[:4096].decode("utf-8", errors="replace")
    if "resourceLogs" in head or "resource_logs" in head:
        return LOGS
    if "resourceMetrics" in head or "resource_metrics" in head:
        return METRICS
    return TRACES


def load_batch(path: Path, limits: Limits | None = None) -> Batch:
    body = path.read_bytes()
    signal = signal_of(path, body)
    parse = parse_protobuf if path.suffix in (".pb", ".bin", ".protobuf") else parse_json
    request = parse(body, signal.request_type)
    return signal.decoder(request, limits or Limits(), None).batch


def store_files(store: SessionStoreWriter, paths: Iterable[Path]) -> None:
    """Writes OTLP files into a store and builds their sessions, offline (evaluation, tests)."""
    trace_ids: set[str] = set()
    for path in paths:
        batch = load_batch(path)
        store.write(batch)
        trace_ids.update(batch.trace_ids())
    SessionWorker(store).process(sorted(trace_ids))
