"""OTLP files (one export request each, as `stepseven send` takes them) decoded the way the receivers decode."""

from __future__ import annotations

from pathlib import Path

from collector.config import Limits
from collector.encoding import parse_json, parse_protobuf
from collector.ingest import LOGS, METRICS, TRACES, Signal
from store.model import Batch


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
    return signal.decoder(request, limits or Limits()).batch
