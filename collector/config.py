"""Collector configuration: one frozen dataclass per concern, validated before anything starts."""

from __future__ import annotations

from dataclasses import dataclass, field

from collector.auth import check_token
from collector.redact import Redactor

MIB = 1024 * 1024


class ConfigError(ValueError):
    """A setting that cannot work; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one export request may cost the collector."""

    # A compressed or plain body larger than this is refused with 413 before it is read whole.
    max_request_bytes: int = 32 * MIB
    # Bound on the decompressed body (and on a gRPC message): a gzip bomb stops here.
    max_decompressed_bytes: int = 128 * MIB
    max_spans_per_request: int = 100_000
    # Longer string values are truncated with a marker (counted on /healthz), the span is kept.
    max_attribute_value_bytes: int = 1 * MIB
    # Attributes past this count are dropped and added to dropped_attributes_count, as OTLP does.
    max_attributes_per_span: int = 8_192
    # Seconds a client may take to send its body (slow or half-open clients).
    body_timeout_seconds: float = 30.0

    def validate(self) -> None:
        for name in (
            "max_request_bytes",
            "max_decompressed_bytes",
            "max_spans_per_request",
            "max_attribute_value_bytes",
            "max_attributes_per_span",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be a positive number")
        if self.max_decompressed_bytes < self.max_request_bytes:
            raise ConfigError("max_decompressed_bytes must be at least max_request_bytes")


@dataclass(frozen=True, slots=True)
class CollectorConfig:
    host: str = "127.0.0.1"
    grpc_port: int = 4317
    http_port: int = 4318
    limits: Limits = field(default_factory=Limits)
    # Origins allowed to export from a browser (CORS on the OTLP/HTTP receiver); empty = CORS off.
    cors_origins: tuple[str, ...] = ()
    # Spans (plus log records and data points) accepted but not yet committed; past it: 503 / UNAVAILABLE.
    max_queue_items: int = 100_000
    # The most items one group commit writes.
    max_batch_items: int = 50_000
    # How long a receiver waits for the commit of its request before answering "retry".
    commit_timeout_seconds: float = 60.0
    grpc_workers: int = 16
    # Processes that parse, normalize and batch incoming requests; None: one per CPU core.
    decode_workers: int | None = None
    # When set, secrets and personal data in string values are replaced before anything is written.
    redactor: Redactor | None = None
    # When set, every OTLP export and query API call must carry `Authorization: Bearer <token>`.
    token: str | None = field(default=None, repr=False)

    def validate(self) -> None:
        self.limits.validate()
        for name in ("grpc_port", "http_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                raise ConfigError(f"{name} {port} is not a TCP port")
        if self.max_queue_items < self.limits.max_spans_per_request:
            raise ConfigError(
                "max_queue_items must be at least max_spans_per_request, or a full request could never fit"
            )
        if self.token is not None and (problem := check_token(self.token)):
            raise ConfigError(problem)
        if self.max_batch_items <= 0 or self.grpc_workers <= 0 or self.commit_timeout_seconds <= 0:
            raise ConfigError("max_batch_items, grpc_workers and commit_timeout_seconds must be positive")
        if self.decode_workers is not None and self.decode_workers <= 0:
            raise ConfigError("decode_workers must be positive")

    def endpoints(self) -> dict[str, str]:
        """Where an exporter on this machine reaches the receivers: the OTLP/HTTP URL and the OTLP/gRPC address."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)  # wildcards
        if ":" in host:
            host = f"[{host}]"
        return {"otlp_http": f"http://{host}:{self.http_port}", "otlp_grpc": f"{host}:{self.grpc_port}"}
