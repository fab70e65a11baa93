"""Fixtures that run stepseven the way a user does: `stepseven serve` as a process, real sockets."""

from __future__ import annotations

import itertools
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, sync_playwright

from api.client import ApiClient
from collector.compiled import decoder_build


def pytest_configure(config: pytest.Config) -> None:
    build = decoder_build()
    if build.state == "stale":
        pytest.exit(build.describe(), returncode=4)


def free_port() -> int:
    """A free port below the kernel's ephemeral range, so no outgoing connection takes it meanwhile."""
    while True:
        port = random.randint(20_000, 32_000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


class PortTaken(RuntimeError):
    pass


def counted_rows(client: ApiClient, query: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """The rows, once they count every record acknowledged before: queries never wait for the journal's
    flush, they say how many records they do not count yet, and this asks again (20 s at most), as a user
    would."""
    deadline = time.monotonic() + 20
    result = client.sql(query, params, limit=1_000_000)
    while client.pending_records and time.monotonic() < deadline:
        time.sleep(0.2)
        result = client.sql(query, params, limit=1_000_000)
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


class RunningCollector:
    """`stepseven serve` in a child process on free loopback ports."""

    def __init__(
        self, db: Path, *extra: str, ui: bool = False, entry: tuple[str, ...] = ("-m", "stepseven"), **env: str
    ) -> None:
        """``entry``: how Python runs the command line (a test may run it behind a fault of its own), with
        ``env`` added to the environment; both may be changed before ``start()`` runs it again."""
        self.db = db
        self.extra = extra
        self.ui = ui
        self.entry = entry
        self.env = env
        self.output: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        for _attempt in range(3):
            self.grpc_port, self.http_port, self.api_port = free_port(), free_port(), free_port()
            self.ui_port = free_port()
            try:
                self.start()
                return
            except PortTaken:
                continue
        raise RuntimeError("no free ports for the collector after 3 attempts")

    @property
    def backend(self) -> str:
        return "postgresql" if "--store" in self.extra else "duckdb"

    @property
    def grpc_endpoint(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    def start(self) -> None:
        self.output = []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                *self.entry,
                "serve",
                *(["--ui-port", str(self.ui_port)] if self.ui else ["--no-ui"]),
                "--db",
                str(self.db),
                "--grpc-port",
                str(self.grpc_port),
                "--http-port",
                str(self.http_port),
                "--api-port",
                str(self.api_port),
                *self.extra,
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
        )
        ready = threading.Event()
        proc = self.proc

        def pump() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                self.output.append(line)
                if "stepseven is ready" in line:
                    ready.set()

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        deadline = time.monotonic() + 30
        while not ready.wait(0.05):
            if proc.poll() is not None or time.monotonic() > deadline:
                if proc.poll() is None:
                    proc.kill()
                proc.wait(10)
                self._reap()
                output = "".join(self.output)
                if "Address already in use" in output:
                    raise PortTaken(output)
                raise RuntimeError("the collector did not start:\n" + output)

    def sql(self, query: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """The rows, once they count every record acknowledged before (see ``counted_rows``)."""
        with ApiClient(self.api_url) as client:
            return counted_rows(client, query, params)

    def settle(self, timeout: float = 30, *, analyzed: bool = False) -> None:
        """Waits until everything received is committed and every session is rebuilt (and analyzed)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 2:
            health = self.health()
            sessions = health["sessions"]
            writer = health["writer"]
            idle = writer["queued_items"] == 0 and writer["unflushed_items"] == 0
            idle = idle and sessions["pending_traces"] == 0 and not sessions["busy"]
            if analyzed:
                idle = idle and health["analyzer"]["waiting_sessions"] == 0 and not health["analyzer"]["busy"]
            quiet = quiet + 1 if idle else 0
            if time.monotonic() > deadline:
                raise TimeoutError(f"the collector did not settle: {health}")
            time.sleep(0.6)

    def wait_for_dashboard(self, timeout: float = 60) -> None:
        """The dashboard is a child process that starts after the collector says it is ready."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.ui_url}/_stcore/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the dashboard did not start within {timeout:g} s")
            time.sleep(0.3)

    def health(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.api_url}/healthz", timeout=10).json())

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            # Still failed, but killed and reaped here: a collector left running would hold its ports, and
            # its pipe, closed by the garbage collector during a later test, would fail that one instead.
            self.kill()
            raise
        self._reap()
        return code

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self._reap()

    def _reap(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        self._pump.join(10)
        self.proc.stderr.close()


# The stories run on both stores: the embedded DuckDB file and a shared PostgreSQL database.
BACKENDS = ["duckdb", "postgresql"]
_databases = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[str]:
    """One throwaway PostgreSQL server for the whole run (Debian's packages, installed by scripts/test)."""
    from tests.postgres import postgres_cluster

    with postgres_cluster() as url:
        yield url


def fresh_database(cluster_url: str) -> str:
    """A new, empty database on the test server; its `postgresql://` URL, as a user would pass to --store."""
    name = f"stepseven_{os.getpid()}_{next(_databases)}"
    engine = sa.create_engine(cluster_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return sa.make_url(cluster_url).set(drivername="postgresql", database=name).render_as_string(hide_password=False)


def store_args(backend: str, request: pytest.FixtureRequest) -> list[str]:
    """The `serve` options that put a collector on ``backend`` (DuckDB: the --db file the caller gives)."""
    if backend == "duckdb":
        return []
    return ["--store", fresh_database(request.getfixturevalue("pg_cluster"))]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def collector(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[RunningCollector]:
    running = RunningCollector(tmp_path / "stepseven.duckdb", *store_args(backend, request))
    yield running
    running.stop()


@pytest.fixture
def duckdb_collector(tmp_path: Path) -> Iterator[RunningCollector]:
    """For the stories about the DuckDB file itself (reading it directly, its lock)."""
    running = RunningCollector(tmp_path / "stepseven.duckdb")
    yield running
    running.stop()


@pytest.fixture
def strict_collector(tmp_path: Path) -> Iterator[RunningCollector]:
    """A collector with small limits, to test refusals without sending hundreds of megabytes."""
    running = RunningCollector(
        tmp_path / "stepseven.duckdb",
        "--max-request-bytes",
        str(1024 * 1024),
        "--max-decompressed-bytes",
        str(4 * 1024 * 1024),
        "--max-spans-per-request",
        "1000",
        "--max-attribute-value-bytes",
        str(64 * 1024),
        "--max-attributes-per-span",
        "100",
        "--max-queue-items",
        "10000",
    )
    yield running
    running.stop()


# -- a real headless Chromium (Debian's package, driven by Playwright) for the dashboard's tests ------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()
