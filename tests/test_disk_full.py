"""A collector on a small volume: it refuses exports before the disk fills, and takes them again once space is freed.

The volume is a real tmpfs of 48 MiB (mounting one needs root, which CI has). Exports are real OTLP/HTTP
requests; the store is the real DuckDB file, its WAL and journal on that volume.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from tests.conftest import RunningCollector
from tests.otlp import attribute, raw_request, raw_span

MIB = 1024 * 1024


@pytest.fixture
def small_volume(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    folder = tmp_path / "volume"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _request(spans: int) -> tuple[bytes, set[str]]:
    """Spans whose content barely compresses (hex of random bytes), so that the disk fills fast."""
    made = [
        raw_span(
            "execute_tool search",
            attributes=[attribute("gen_ai.tool.call.result", AnyValue(string_value=os.urandom(1500).hex()))],
        )
        for _ in range(spans)
    ]
    return raw_request(*made).SerializeToString(), {s.trace_id.hex() for s in made}


class LowestFree:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.value = shutil.disk_usage(folder).free
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.value = min(self.value, shutil.disk_usage(self.folder).free)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.value


def test_a_collector_on_a_filling_disk_refuses_before_it_is_full_and_resumes_once_space_is_freed(
    small_volume: Path,
) -> None:
    ballast = small_volume / "ballast"
    ballast.write_bytes(b"\0" * (16 * MIB))
    collector = RunningCollector(small_volume / "store.duckdb", "--disk-reserve", "12MB")
    try:
        lowest = LowestFree(small_volume)
        acknowledged: set[str] = set()
        refusal = None
        with httpx.Client(timeout=30) as client:
            url = f"{collector.http_url}/v1/traces"
            headers = {"Content-Type": "application/x-protobuf"}
            transient: list[str] = []
            for _ in range(200):
                body, traces = _request(200)
                response = client.post(url, content=body, headers=headers)
                if response.status_code == 200:
                    acknowledged |= traces
                    continue
                if response.status_code == 503 and response.headers.get("Retry-After") == "1" and len(transient) < 20:
                    # A busy writer (queue full, slow commit) says "again in a second"; an exporter retries
                    # it, and so does this one. Only the reserve's refusal ends the filling.
                    transient.append(response.text)
                    time.sleep(1)
                    continue
                refusal = response
                break
            assert refusal is not None, "the collector never refused, though the volume is smaller than what was sent"
            assert refusal.status_code == 503, refusal.text
            assert refusal.headers["Retry-After"] == "5", (refusal.text, transient)
            assert "reserve" in refusal.text and "space is freed" in refusal.text
            health = collector.health()
            assert health["status"] == "degraded"
            assert any("reserve" in problem for problem in health["problems"])
            assert health["store"]["disk"]["reserve_bytes"] == 12_000_000
            assert len(acknowledged) > 1000

            ballast.unlink()
            deadline = time.monotonic() + 30
            while True:
                body, traces = _request(200)
                response = client.post(url, content=body, headers=headers)
                if response.status_code == 200:
                    acknowledged |= traces
                    break
                assert time.monotonic() < deadline, f"still refused 30 s after space was freed: {response.text}"
                time.sleep(0.5)
        assert lowest.stop() > 4 * MIB, "the collector let its own disk fill up"
    except BaseException:
        collector.kill()
        raise

    started = time.monotonic()
    assert collector.stop() == 0
    assert time.monotonic() - started < 20
    assert "Traceback" not in "".join(collector.output)

    again = RunningCollector(small_volume / "store.duckdb")
    try:
        stored = {row["trace_id"] for row in again.sql("SELECT DISTINCT trace_id FROM spans")}
    finally:
        again.stop()
    assert acknowledged <= stored


def test_a_memory_limit_too_small_to_commit_a_batch_is_refused_with_a_sentence(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stepseven",
            "serve",
            "--no-ui",
            "--db",
            str(tmp_path / "s.duckdb"),
            "--memory-limit",
            "2MB",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "--memory-limit 2MB is too small" in result.stderr
    assert "at least 64MB" in result.stderr
    assert not (tmp_path / "s.duckdb").exists()
