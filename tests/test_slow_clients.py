"""Idle and slow clients cannot take the collector's ports away from exporters and users."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx

from collector.grpc_receiver import IDLE_SECONDS, RECEIVE_SECONDS, RECEIVE_SLOTS
from stepseven.http_server import HEADER_SECONDS, raise_open_file_limit
from stepseven.service import _bind
from tests.conftest import RunningCollector
from tests.otlp import request_bytes

TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def _connect(port: int, first_bytes: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    if first_bytes:
        sock.sendall(first_bytes)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closed it: what it sent before (HTTP/2 settings, a GOAWAY) is read past."""
    sock.settimeout(0.2)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def test_a_thousand_idle_and_slow_connections_neither_block_exports_nor_stay_open_on_any_port(tmp_path: Path) -> None:
    raise_open_file_limit()  # this test's own 1,300 sockets
    collector = RunningCollector(tmp_path / "s.duckdb", ui=True)
    held: list[socket.socket] = []
    idle_channel = grpc.insecure_channel(collector.grpc_endpoint)
    try:
        collector.wait_for_dashboard()
        # An exporter that exports once and then has nothing more to send for a while.
        idle_channel.unary_unary(TRACE_EXPORT)(request_bytes(1), timeout=10)
        idle_since = time.monotonic()
        states: list[grpc.ChannelConnectivity] = []
        idle_channel.subscribe(states.append)
        # 700 that connect and say nothing, 400 that start a request and never finish its headers,
        # and 200 that open the gRPC port and never complete the HTTP/2 handshake; on the dashboard's
        # port, 100 silent and 100 that start a request and never finish it.
        held += [_connect(collector.http_port) for _ in range(700)]
        held += [_connect(collector.http_port, b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n") for _ in range(400)]
        grpc_held = [_connect(collector.grpc_port) for _ in range(200)]
        held += grpc_held
        held += [_connect(collector.ui_port) for _ in range(100)]
        held += [_connect(collector.ui_port, b"GET / HTTP/1.1\r\nHost: x\r\n") for _ in range(100)]

        # Meanwhile, exports and queries are served as usual.
        export = httpx.post(f"{collector.http_url}/v1/traces", content=request_bytes(2), headers=PROTOBUF, timeout=10)
        assert export.status_code == 200
        with grpc.insecure_channel(collector.grpc_endpoint) as channel:
            channel.unary_unary(TRACE_EXPORT)(request_bytes(3), timeout=10)
        assert collector.sql("SELECT count(*) AS n FROM spans") == [{"n": 6}]
        assert httpx.get(f"{collector.ui_url}/_stcore/health", timeout=10).status_code == 200

        # Past the header deadline (and gRPC's handshake timeout), the server has closed them all.
        time.sleep(max(HEADER_SECONDS, 10) + 3)
        still_open = [s for s in held if not _closed_by_server(s)]
        assert still_open == [], f"{len(still_open)} of {len(held)} idle connections are still open"
        assert collector.proc is not None and collector.proc.poll() is None

        # A connected gRPC client that makes no call is let go after one to two IDLE_SECONDS (the
        # server's GOAWAY turns the client's channel idle; it reconnects when it next exports).
        while states[-1] != grpc.ChannelConnectivity.IDLE and time.monotonic() < idle_since + 2 * IDLE_SECONDS + 5:
            time.sleep(0.2)
        assert states[-1] == grpc.ChannelConnectivity.IDLE, states
        idle_channel.unary_unary(TRACE_EXPORT)(request_bytes(1), timeout=10)
    finally:
        idle_channel.close()
        for sock in held:
            sock.close()
        collector.stop()


def test_grpc_exporters_whose_message_never_arrives_lose_their_call_and_do_not_keep_others_out(tmp_path: Path) -> None:
    collector = RunningCollector(tmp_path / "s.duckdb")
    release = threading.Event()

    def message_that_never_comes() -> Iterator[bytes]:
        release.wait(120)  # the call is open, its message is not sent
        yield request_bytes(1)

    channel = grpc.insecure_channel(collector.grpc_endpoint)
    try:
        export = channel.stream_unary(TRACE_EXPORT)
        started = time.monotonic()
        stalled = [export.future(message_that_never_comes(), timeout=120) for _ in range(RECEIVE_SLOTS)]
        time.sleep(1.0)
        # While they hold every receive slot, another exporter is told to come back (and would retry).
        try:
            channel.unary_unary(TRACE_EXPORT)(request_bytes(2), timeout=10)
            refused = None
        except grpc.RpcError as err:
            refused = err
        assert refused is not None and refused.code() == grpc.StatusCode.UNAVAILABLE, refused

        # The collector ends the stalled calls itself, with a retryable status that says why.
        for call in stalled:
            ended = call.exception(timeout=RECEIVE_SECONDS + 20)
            assert isinstance(ended, grpc.RpcError)
            assert ended.code() == grpc.StatusCode.DEADLINE_EXCEEDED, ended
            assert f"did not arrive within {RECEIVE_SECONDS:g} s" in (ended.details() or "")
        assert time.monotonic() - started < RECEIVE_SECONDS + 10

        # Their slots are free again: the exporter's retry goes through and is stored.
        channel.unary_unary(TRACE_EXPORT)(request_bytes(2), timeout=10)
        assert collector.sql("SELECT count(*) AS n FROM spans") == [{"n": 2}]
        assert collector.proc is not None and collector.proc.poll() is None
    finally:
        release.set()
        channel.close()
        collector.stop()


def test_the_collectors_ports_answer_kept_alive_connections_without_waiting_for_a_delayed_ack() -> None:
    """A dashboard or exporter reuses its connection; with Nagle's algorithm on, every answer after the
    first waited 40 ms for the client's delayed ACK (h11 writes headers and body apart). asyncio turns
    it off on the connections of a listening socket that says it is TCP, as the collector's now do."""
    listener = _bind("127.0.0.1", 0, "a test port", "--port")
    port = listener.getsockname()[1]
    seen: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def accept_one() -> None:
        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)  # as uvicorn serves
        async with server:
            await asyncio.to_thread(lambda: _connect(port).close())
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)

    asyncio.run(accept_one())
    assert seen and seen[0] != 0, "the accepted connection keeps Nagle's algorithm on"
