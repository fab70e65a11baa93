"""The HTTP server under the OTLP/HTTP receiver and the query API: uvicorn, with bounds on slow clients.

uvicorn closes a connection that stays idle after a response (``timeout_keep_alive``), but any byte
cancels that timer, and nothing bounds how long a client may take to send a request's headers: 1,000
clients sending a byte a second held 1,000 connections, and 1,100 idle ones made every port time out
at a 1,024 open-file limit. Here a request's headers must arrive within HEADER_SECONDS of the
connection or of the previous response, or the connection is closed. A request's body has its own
deadline in the receiver (``Limits.body_timeout_seconds``).
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
from collections.abc import Iterator
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 30


class TimelyH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections whose request headers do not arrive in time."""

    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the headers are in

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()  # the next request on this connection gets the same time for its headers

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(HEADER_SECONDS, self._too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


class Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # One handler for the whole process (the service's), not one per uvicorn server.
        yield


def server(app: Any) -> Server:
    return Server(
        uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            access_log=False,
            http=TimelyH11Protocol,
            # Past this many open connections a request is answered 503 (exporters retry) instead of
            # the process running out of files: a quarter of the open-file limit each, for the three
            # servers and the store's files.
            limit_concurrency=_connection_cap(),
        )
    )


def _connection_cap() -> int:
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return 10_000 if soft == resource.RLIM_INFINITY else max(100, soft // 4)


def raise_open_file_limit() -> int:
    """Raises this process's soft limit on open files to its hard limit (at most 65,536); returns it.

    Each connection is a file: at the usual soft limit of 1,024, a thousand idle clients leave no room
    for exporters, queries or the store's own files.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65_536 if hard == resource.RLIM_INFINITY else min(hard, 65_536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            return wanted
    return soft
