"""The collector's errors and their one mapping to HTTP statuses and gRPC codes.

Permanent errors tell the exporter to drop the data (it will never be accepted); retryable
errors tell it to back off and send again, which is safe because the store dedupes.
"""

from __future__ import annotations

from dataclasses import dataclass

# google.rpc.Code, not grpc.StatusCode: the decode workers import this module, and gRPC would add
# about 17 MB to the fork server they are forked from. The numbers are the same (the gRPC receiver converts).
from google.rpc import code_pb2


class ExportError(Exception):
    """An export request the collector does not accept; ``str(err)`` is said to the sender."""

    reason = "error"


class PermanentError(ExportError):
    pass


class InvalidRequest(PermanentError):
    reason = "invalid_request"


class PayloadTooLarge(PermanentError):
    reason = "payload_too_large"


class UnsupportedMediaType(PermanentError):
    reason = "unsupported_media_type"


class Unauthenticated(PermanentError):
    reason = "unauthenticated"


class RetryableError(ExportError):
    retry_after_seconds = 1


class QueueFull(RetryableError):
    reason = "queue_full"


class Unavailable(RetryableError):
    """Shutting down, or the store could not commit: nothing was acknowledged, send again."""

    reason = "unavailable"


class DiskLow(RetryableError):
    """Less than the reserve is free under the store: refused before the disk fills, accepted again once freed."""

    reason = "disk_low"
    retry_after_seconds = 5


class RequestTimeout(RetryableError):
    reason = "timeout"


@dataclass(frozen=True, slots=True)
class Status:
    http_status: int
    grpc_code: int  # a google.rpc.Code value
    retry_after_seconds: int | None


def status_for(err: ExportError) -> Status:
    if isinstance(err, InvalidRequest):
        return Status(400, code_pb2.INVALID_ARGUMENT, None)
    if isinstance(err, PayloadTooLarge):
        # RESOURCE_EXHAUSTED without RetryInfo is not retried by exporters, as intended here.
        return Status(413, code_pb2.RESOURCE_EXHAUSTED, None)
    if isinstance(err, UnsupportedMediaType):
        return Status(415, code_pb2.INVALID_ARGUMENT, None)
    if isinstance(err, Unauthenticated):
        return Status(401, code_pb2.UNAUTHENTICATED, None)
    if isinstance(err, RequestTimeout):
        return Status(408, code_pb2.DEADLINE_EXCEEDED, None)
    if isinstance(err, RetryableError):
        return Status(503, code_pb2.UNAVAILABLE, err.retry_after_seconds)
    return Status(400, code_pb2.INVALID_ARGUMENT, None)
