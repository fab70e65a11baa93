"""OTLP/gRPC receiver: TraceService, LogsService and MetricsService on one server (port 4317)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc

from collector.auth import UNAUTHENTICATED, authorized
from collector.encoding import PROTOBUF
from collector.errors import (
    ExportError,
    InvalidRequest,
    PayloadTooLarge,
    QueueFull,
    RequestTimeout,
    Unauthenticated,
    status_for,
)
from collector.ingest import Ingest
from collector.limits import Lease
from collector.signals import LOGS, METRICS, TRACES, Signal

_SERVICES = {
    TRACES: "opentelemetry.proto.collector.trace.v1.TraceService",
    LOGS: "opentelemetry.proto.collector.logs.v1.LogsService",
    METRICS: "opentelemetry.proto.collector.metrics.v1.MetricsService",
}
# collector/errors.py names codes by their google.rpc.Code number, which gRPC's enum carries too.
_STATUS_CODES: dict[int, grpc.StatusCode] = {code.value[0]: code for code in grpc.StatusCode}


class _TokenCheck(grpc.ServerInterceptor):  # type: ignore[misc]
    """Refuses a call without the token from its metadata alone, before its message is read: an unauthenticated
    client must not make the server receive (and inflate) a body. The refusing handler takes the request as a
    stream it never reads."""

    def __init__(self, token: str, ingest: Ingest) -> None:
        self._token = token
        self._ingest = ingest

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        header = dict(handler_call_details.invocation_metadata or ()).get("authorization")
        if authorized(self._token, header if isinstance(header, str) else None):
            return continuation(handler_call_details)

        def refuse(requests: Any, context: grpc.ServicerContext) -> bytes:
            self._ingest.refused(Unauthenticated(UNAUTHENTICATED))
            context.abort(grpc.StatusCode.UNAUTHENTICATED, UNAUTHENTICATED)
            raise AssertionError("abort raises")

        return grpc.stream_unary_rpc_method_handler(refuse)


# A connection with no call for this long is closed (max_connection_idle, a GOAWAY). gRPC looks again
# only one period after the last call ended, so a connection goes after one to two of them: at 30 s
# it took 58.6 s. Exporters of the SDK's batch processor export every 5 s and are not disturbed.
IDLE_SECONDS = 15
# A connection that has not completed its HTTP/2 handshake by then is closed (gRPC's default is 120 s).
HANDSHAKE_SECONDS = 10


# gRPC inflates a compressed message as it receives it, before any check of ours can meter it, into a
# buffer that is then copied into bytes: twice the message. Messages are received in this many slots at
# most, so that at most RECEIVE_SLOTS * 2 * --max-decompressed-bytes are being inflated at once (16
# concurrent gzip bombs of 120 MiB took the collector 2.5 GB up without it). A slot is held only while
# a message arrives: a few milliseconds for an exporter on the same network.
RECEIVE_SLOTS = 2
RECEIVE_WAIT_SECONDS = 0.5
# A call whose message has not arrived this long after its slot was taken is ended with
# DEADLINE_EXCEEDED (retryable for exporters), so that a client that stalls or trickles cannot keep a
# slot: two such calls once kept every other exporter out for as long as they stayed open. The SDK's
# exporters give up on an export after 10 s themselves.
RECEIVE_SECONDS = 10.0


def _end_call(context: grpc.ServicerContext, details: str, ended: threading.Event) -> None:
    """Ends a call from outside its handler, which is blocked receiving: with DEADLINE_EXCEEDED and the
    reason where this grpcio exposes the call (``ServicerContext`` itself can only cancel, which the
    client sees as CANCELLED, with no reason)."""
    ended.set()
    try:
        from grpc._cython import cygrpc  # grpcio's own layer: not a public API, hence the fallback

        call: Any = context._rpc_event.call
        call.cancel(cygrpc.StatusCode.deadline_exceeded, details)
    except Exception:  # a grpcio without that call: cancel without the reason
        context.cancel()


class GrpcReceiver:
    def __init__(self, ingest: Ingest, host: str, port: int, workers: int, token: str | None = None) -> None:
        self._ingest = ingest
        self._token = token
        limits = ingest.limits
        # gRPC refuses larger messages itself (RESOURCE_EXHAUSTED); the headroom lets our own
        # check below answer with a counted refusal and a clear message first.
        self._max_message = limits.max_decompressed_bytes
        self._receiving = threading.BoundedSemaphore(RECEIVE_SLOTS)
        self._server = grpc.server(
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stepseven-grpc"),
            interceptors=[_TokenCheck(token, ingest)] if token is not None else [],
            options=[
                ("grpc.max_receive_message_length", limits.max_decompressed_bytes + 1024 * 1024),
                ("grpc.max_send_message_length", 4 * 1024 * 1024),
                # Connections that send nothing are closed (exporters reconnect when they next export),
                # and dead peers are found by keepalive pings: idle clients cannot pile up.
                ("grpc.max_connection_idle_ms", IDLE_SECONDS * 1000),
                ("grpc.server_handshake_timeout_ms", HANDSHAKE_SECONDS * 1000),
                ("grpc.keepalive_time_ms", 60_000),
                ("grpc.keepalive_timeout_ms", 20_000),
                # Streams in flight per connection: each may hold a message of up to the limit.
                ("grpc.max_concurrent_streams", 16),
            ],
        )
        for signal, service in _SERVICES.items():
            # No deserializer: the handler gets raw bytes, so a bad message is ours to refuse
            # with INVALID_ARGUMENT instead of gRPC's INTERNAL. A stream handler (the wire is the same
            # for a unary call) so that the handler decides when the message is received (_receive).
            handler = grpc.stream_unary_rpc_method_handler(self._handler(signal))
            self._server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, {"Export": handler}),))
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.port = self._server.add_insecure_port(address)
        if self.port == 0:
            raise OSError(f"cannot listen for OTLP/gRPC on {address}")

    def _handler(self, signal: Signal) -> Any:
        def export(messages: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
            try:
                if self._token is not None:
                    header = dict(context.invocation_metadata()).get("authorization")
                    if not authorized(self._token, header if isinstance(header, str) else None):
                        raise Unauthenticated(UNAUTHENTICATED)
                self._ingest.admit()
                raw = self._receive(messages, context)
                with Lease(self._ingest.inflating) as lease:
                    lease.take(2 * len(raw))  # the message, and its copy to a decode worker
                    accepted = self._ingest.accept(signal, raw, PROTOBUF)
                    del raw
                return bytes(self._ingest.wait(accepted).SerializeToString())
            except ExportError as err:
                self._ingest.refused(err)
                context.abort(_STATUS_CODES[status_for(err).grpc_code], str(err))
                raise  # abort raises; this line is never reached

        return export

    def _receive(self, messages: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
        """The call's message, received (and inflated, by gRPC) in one of RECEIVE_SLOTS at most, within
        RECEIVE_SECONDS of taking it."""
        if not self._receiving.acquire(timeout=RECEIVE_WAIT_SECONDS):
            raise QueueFull(
                f"{RECEIVE_SLOTS} gRPC messages are being received at once (each may inflate to "
                f"{self._max_message // (1024 * 1024)} MiB); send again in a moment"
            )
        late = f"the message did not arrive within {RECEIVE_SECONDS:g} s"
        ended = threading.Event()
        timer = threading.Timer(RECEIVE_SECONDS, _end_call, (context, late, ended))
        timer.daemon = True
        timer.start()
        try:
            raw = next(messages, None)
        except grpc.RpcError:
            if not ended.is_set():
                raise  # the client ended the call itself
            raise RequestTimeout(late) from None
        finally:
            timer.cancel()
            self._receiving.release()
        if raw is None:
            raise InvalidRequest("the call carried no message")
        if len(raw) > self._max_message:
            raise PayloadTooLarge(f"the message has {len(raw)} bytes; the limit is {self._max_message}")
        return raw

    def start(self) -> None:
        self._server.start()

    def stop(self, grace_seconds: float) -> None:
        """Stops accepting and waits for in-flight exports (which wait for their commits)."""
        self._server.stop(grace_seconds).wait()
