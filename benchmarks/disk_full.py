"""Disk-full benchmark: the collector on a small volume under load never fills it, and recovers by itself.

It mounts a tmpfs of --volume-mib (64 MiB by default; needs root, or pass --dir with a folder on a
small volume you made), fills part of it with a ballast file, starts `stepseven serve` there with
default settings, and sends agent spans over OTLP/HTTP from several exporters that resend a refused
request after its Retry-After, as the OpenTelemetry SDK's exporters do. Then:

1. until the collector refuses for --refusing-seconds in a row: how far the disk filled (the lowest
   free space seen, sampled every 50 ms), what it held (file, WAL, journal) and how many spans it acknowledged;
2. the ballast is deleted: how long until exports are accepted again, without a restart;
3. SIGTERM under load: how long the collector took to stop, and its exit code;
4. a restart on the same volume: the spans counted against those acknowledged (nothing may be missing).

    sudo python benchmarks/disk_full.py
    python benchmarks/disk_full.py --dir /mnt/small --ballast-mib 100
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the checkout's packages
from benchmarks.ingest_throughput import Job, _fresh_requests, build_template_spans
from benchmarks.large_requests import collector

MIB = 1024 * 1024


class Load:
    """Exporter threads: each sends fresh requests of 512 spans, resending refused ones after Retry-After."""

    def __init__(self, url: str, template: bytes, exporters: int) -> None:
        self.url = url
        self.template = template
        self.acked = 0
        self.refused = 0
        self.last_ack = time.monotonic()
        self.last_refusal = 0.0
        self.first_refusal: float | None = None
        self.statuses: dict[int, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(seed,), daemon=True) for seed in range(exporters)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                job = Job("http", 0, 4, 512, self.template, rng.getrandbits(32), False)
                for body, n in _fresh_requests(job):
                    while not self._stop.is_set():
                        try:
                            response = client.post(
                                self.url, content=body, headers={"Content-Type": "application/x-protobuf"}
                            )
                        except httpx.HTTPError:
                            time.sleep(0.5)  # the collector is stopping or restarting
                            continue
                        with self._lock:
                            self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
                            if response.status_code == 200:
                                self.acked += n
                                self.last_ack = time.monotonic()
                            else:
                                self.refused += 1
                                self.last_refusal = time.monotonic()
                                if self.first_refusal is None:
                                    self.first_refusal = self.last_refusal
                        if response.status_code == 200:
                            break
                        if response.status_code not in (429, 502, 503, 504):
                            raise SystemExit(f"the collector answered {response.status_code}: {response.text[:300]}")
                        time.sleep(float(response.headers.get("Retry-After", "1")))


def terminate(proc: subprocess.Popen[str]) -> tuple[float, int]:
    """SIGTERM, then how long the collector took to stop and its exit code (-9: killed after 120 s)."""
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = -9
    return time.monotonic() - started, code


class Disk:
    """The volume's lowest free space, sampled every 50 ms, and the store's files at that moment."""

    def __init__(self, folder: Path, db: Path) -> None:
        self.folder, self.db = folder, db
        self.min_free = shutil.disk_usage(folder).free
        self.files_at_min: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def files(self) -> dict[str, int]:
        out = {"file": _size(self.db), "wal": _size(Path(f"{self.db}.wal"))}
        out["journal"] = sum(_size(p) for p in Path(f"{self.db}.journal").glob("*"))
        out["spill"] = sum(_size(p) for p in Path(f"{self.db}.tmp").glob("*"))
        return out

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            free = shutil.disk_usage(self.folder).free
            if free < self.min_free:
                self.min_free = free
                with contextlib.suppress(OSError):
                    self.files_at_min = self.files()

    def reset(self) -> None:
        self.min_free = shutil.disk_usage(self.folder).free

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def held_deleted(pid: int, folder: Path) -> int:
    """Bytes of deleted files under ``folder`` that the collector still holds open or mapped."""
    seen: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
            if str(folder) in line and line.endswith("(deleted)"):
                start, end = (int(x, 16) for x in line.split()[0].split("-"))
                name = line.split(maxsplit=5)[-1]
                seen[name] = seen.get(name, 0) + end - start
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith(str(folder)) and target.endswith("(deleted)"):
                    seen.setdefault(target, os.stat(fd).st_size)
    return sum(seen.values())


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@contextlib.contextmanager
def volume(args: argparse.Namespace) -> Iterator[Path]:
    if args.dir is not None:
        yield Path(args.dir)
        return
    if os.geteuid() != 0:
        raise SystemExit("mounting a tmpfs needs root: run with sudo, or pass --dir FOLDER on a small volume")
    folder = Path(tempfile.mkdtemp(prefix="stepseven-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={args.volume_mib}m", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        folder.rmdir()


def wait_refusing(load: Load, seconds: float, limit: float) -> bool:
    """Until the collector has refused every export for ``seconds`` (False if ``limit`` passes first)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        now = time.monotonic()
        if load.first_refusal is not None and now - load.last_ack >= seconds:
            return True
        time.sleep(0.2)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--volume-mib", type=int, default=64, help="size of the tmpfs to mount (default 64)")
    parser.add_argument("--dir", default=None, help="use this folder (on a small volume) instead of a tmpfs")
    parser.add_argument("--ballast-mib", type=int, default=32, help="space taken by a file, freed in phase 2")
    parser.add_argument("--exporters", type=int, default=3)
    parser.add_argument("--refusing-seconds", type=float, default=8.0, help="refusals in a row that end a phase")
    args = parser.parse_args()

    template = encode_spans(build_template_spans(200)).SerializeToString()
    with volume(args) as folder:
        db = folder / "store.duckdb"
        ballast = folder / "ballast"
        with ballast.open("wb") as f:
            f.write(os.urandom(args.ballast_mib * MIB))
        usage = shutil.disk_usage(folder)
        print(f"volume {folder}: {usage.total / MIB:.0f} MiB, {usage.free / MIB:.1f} MiB free after the ballast")
        with collector(db, None) as c:
            disk = Disk(folder, db)
            load = Load(f"http://127.0.0.1:{c.http_port}/v1/traces", template, args.exporters)
            load.start()
            started = time.monotonic()
            if not wait_refusing(load, args.refusing_seconds, 600):
                raise SystemExit("the collector never refused; make the volume smaller or the ballast larger")
            phase1 = {
                "acked": load.acked,
                "seconds to first refusal": round((load.first_refusal or started) - started, 1),
                "lowest free MiB": round(disk.min_free / MIB, 1),
                "files at lowest (MiB)": {k: round(v / MIB, 1) for k, v in disk.files_at_min.items()},
                "health problems": c.health()["problems"],
                "free MiB now": round(shutil.disk_usage(folder).free / MIB, 1),
                "files now (MiB)": {k: round(v / MIB, 1) for k, v in disk.files().items()},
                "deleted but still open (MiB)": round(held_deleted(c.proc.pid, folder) / MIB, 1),
            }
            print("phase 1, filling:", phase1)

            acked_before = load.acked
            ballast.unlink()
            freed = time.monotonic()
            disk.reset()
            while load.acked == acked_before and time.monotonic() - freed < 120:
                time.sleep(0.05)
            resumed = time.monotonic() - freed if load.acked > acked_before else None
            wait_refusing(load, args.refusing_seconds, 300)
            phase2 = {
                "seconds until accepted again": round(resumed, 2) if resumed is not None else "never",
                "acked in all": load.acked,
                "lowest free MiB": round(disk.min_free / MIB, 1),
                "files now (MiB)": {k: round(v / MIB, 1) for k, v in disk.files().items()},
            }
            print("phase 2, space freed:", phase2)

            seconds, code = terminate(c.proc)
            load.stop()
            disk.stop()
            traceback = any("Traceback" in line for line in c.output)
            print(f"phase 3, SIGTERM under load: stopped in {seconds:.1f} s, exit code {code}, traceback: {traceback}")
            if traceback or code != 0 or seconds > 10:
                print("".join(c.output[-40:]))

        acked = load.acked
        with collector(db, None) as again:
            count = int(again.sql("SELECT count(*) FROM spans")[0][0])
        print(f"phase 4, restart: {count:,} spans stored, {acked:,} acknowledged, missing {max(0, acked - count):,}")
        print(f"statuses seen by the exporters: {load.statuses}")
        if count < acked:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
