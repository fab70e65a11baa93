"""The README's first command, as a new user runs it: a fresh clone, `pip install .`, `stepseven serve`.

The rest of the suite runs on an editable install, where the code in the checkout and the installed
code are the same files. A user's `pip install .` is not editable: the installed package (decoders
compiled by mypyc) sits in site-packages while the checkout's pure-Python sources sit in the working
directory, and every process of the collector must run the installed one (issue #22: the decode
workers imported the checkout and every export answered 500).

The install is the README's, into a fresh virtual environment inside the clone, dependencies and all
(about 75 s with pip's cache warm, as ./scripts/test leaves it). Where the package index cannot be
reached, STEPSEVEN_TEST_REUSE_DEPENDENCIES=1 reuses this environment's dependencies instead (below).
Either way the test checks that the code that runs is the wheel's, not this environment's editable
stepseven nor the clone's sources.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import re
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.conftest import free_port
from tests.otlp import sdk_spans

# The first test also waits for the install: more than the suite's 300 s when pip's cache is cold.
pytestmark = pytest.mark.timeout(900)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_traces"
SAMPLE_FILES = len([p for p in SAMPLES.glob("*.json") if not p.name.endswith(".expected.json")])
SAMPLE_SESSIONS = len(
    {s["session_id"] for p in SAMPLES.glob("*.expected.json") for s in json.loads(p.read_bytes())["sessions"]}
)


@dataclass
class FreshInstall:
    """A clone of this repository's HEAD and a virtual environment with stepseven installed from it."""

    checkout: Path
    venv: Path
    site_packages: Path
    elsewhere: Path  # a directory that holds no copy of stepseven
    env: dict[str, str] = field(default_factory=dict)

    def stepseven(self) -> str:
        return str(self.venv / "bin" / "stepseven")

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.stepseven(), *args], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=120
        )

    def python(self, code: str, cwd: Path) -> str:
        out = subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", code], cwd=cwd, env=self.env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


# Set to 1 where the package index cannot be reached: the fresh environment then reuses this one's
# dependencies (a .pth line; a few seconds instead of a minute or more), and stepseven alone is built
# and installed from the clone, still a compiled, non-editable wheel.
REUSE_DEPENDENCIES = os.environ.get("STEPSEVEN_TEST_REUSE_DEPENDENCIES") == "1"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> FreshInstall:
    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout: nothing to clone")
    base = tmp_path_factory.mktemp("readme")
    started = time.monotonic()
    checkout = base / "stepseven"
    head = _git("rev-parse", "HEAD")
    _git("clone", "--quiet", str(ROOT), str(checkout), cwd=base)
    _git("checkout", "--quiet", "--detach", head, cwd=checkout)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "STEPSEVEN_", "VIRTUAL_ENV"))}
    env["COLUMNS"] = "200"
    # The README: python3 -m venv .venv && . .venv/bin/activate && pip install .
    venv = checkout / ".venv"
    venv_args = ["--without-pip"] if REUSE_DEPENDENCIES else []
    subprocess.run([sys.executable, "-m", "venv", *venv_args, str(venv)], check=True, env=env)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    python = str(venv / "bin" / "python")
    site_packages = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    install = [python, "-m", "pip", "install", "--quiet", "."]
    if REUSE_DEPENDENCIES:
        ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
        # A directory named in a .pth file joins sys.path, after the environment's own site-packages; the
        # .pth files inside it are not run, so this environment's editable stepseven (a .pth file and its
        # import hook) does not come along. The build requirements (setuptools, mypy, orjson) are ours.
        (site_packages / "zz_test_dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
        install += ["--no-deps", "--no-build-isolation"]
    done = subprocess.run(install, cwd=checkout, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    installed = FreshInstall(checkout, venv, site_packages, elsewhere, env)
    how = "stepseven alone, dependencies reused" if REUSE_DEPENDENCIES else "with its dependencies"
    print(f"clone and `pip install .` ({how}): {time.monotonic() - started:.1f} s")
    return installed


def test_the_install_is_the_wheel_compiled_and_the_checkout_holds_the_sources(fresh: FreshInstall) -> None:
    for cwd in (fresh.elsewhere, fresh.checkout):
        # `python -c` puts the working directory first: from the checkout it would import the checkout.
        files = json.loads(
            fresh.python(
                "import json, sys; sys.path.remove(''); import collector, collector.decode, stepseven, sample_traces; "
                "print(json.dumps([m.__file__ for m in (collector, collector.decode, stepseven, sample_traces)]))",
                cwd,
            )
        )
        assert all(Path(f).is_relative_to(fresh.site_packages) for f in files), files
        assert files[1].endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), "the decoders are not compiled"
    # What the bug needs: the checkout's pure-Python sources where `stepseven serve` starts.
    assert (fresh.checkout / "collector" / "decode.py").is_file()
    assert not list((fresh.checkout / "collector").glob("*.so"))
    assert not list(fresh.site_packages.glob("__editable__*"))
    assert len(list((fresh.site_packages / "sample_traces").glob("*.json"))) > SAMPLE_FILES  # captures, expected
    assert (fresh.site_packages / "sample_traces" / "labels.toml").is_file()


class Serving:
    """An installed `stepseven serve` or `stepseven demo` as a child process, with what it printed."""

    def __init__(self, fresh: FreshInstall, cwd: Path, *args: str) -> None:
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.proc = subprocess.Popen(
            [fresh.stepseven(), *args],
            cwd=cwd,
            env={**fresh.env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()
        deadline = time.monotonic() + 60
        while not self.ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"stepseven {args[0]} did not start in {cwd}:\n{self.output}")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            if "stepseven is ready" in line:
                self.ready.set()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output and self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert text in self.output, self.output

    def address(self, what: str) -> str:
        found = re.search(rf"{what} (\S+?)[,\n]", self.output)
        assert found, self.output
        return found.group(1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._pump.join(10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture
def serving() -> Iterator[list[Serving]]:
    started: list[Serving] = []
    yield started
    for process in started:
        process.stop()


def _export(grpc_endpoint: str, http_url: str) -> int:
    """A real OpenTelemetry SDK exports 3 spans over gRPC and 4 over HTTP; both must succeed."""
    grpc = GrpcSpanExporter(endpoint=grpc_endpoint, insecure=True, timeout=30)
    http = HttpSpanExporter(endpoint=f"{http_url}/v1/traces", timeout=30)
    try:
        assert grpc.export(sdk_spans(3)) is SpanExportResult.SUCCESS
        assert http.export(sdk_spans(4)) is SpanExportResult.SUCCESS
    finally:
        grpc.shutdown()
        http.shutdown()  # type: ignore[no-untyped-call]
    return 7


@pytest.mark.parametrize("where", ["inside the checkout", "in another directory"])
def test_a_new_user_who_installs_from_a_fresh_clone_gets_every_exported_span_stored(
    fresh: FreshInstall, serving: list[Serving], where: str
) -> None:
    cwd = fresh.checkout if where == "inside the checkout" else fresh.elsewhere
    ports = {name: free_port() for name in ("grpc", "http", "api")}
    collector = Serving(
        fresh,
        cwd,
        "serve",
        "--no-ui",
        "--db",
        str(cwd / "stepseven.duckdb"),
        *("--grpc-port", str(ports["grpc"]), "--http-port", str(ports["http"]), "--api-port", str(ports["api"])),
    )
    serving.append(collector)
    collector.wait_for("decoders compiled with mypyc")  # the installed, compiled decoders run

    sent = _export(f"127.0.0.1:{ports['grpc']}", f"http://127.0.0.1:{ports['http']}")

    api = f"http://127.0.0.1:{ports['api']}"
    query = fresh.run("query", "--url", api, "--format", "json", "SELECT count(*) AS n FROM spans", cwd=cwd)
    assert query.returncode == 0, query.stderr
    assert json.loads(query.stdout) == [{"n": sent}]
    assert "Traceback" not in collector.output, collector.output


@pytest.mark.parametrize("where", ["inside the checkout", "in another directory"])
def test_the_demo_shows_the_installed_samples_wherever_it_starts(
    fresh: FreshInstall, serving: list[Serving], where: str
) -> None:
    cwd = fresh.checkout if where == "inside the checkout" else fresh.elsewhere
    demo = Serving(fresh, cwd, "demo", "--ui-port", str(free_port()))
    serving.append(demo)
    api = demo.address("query API")
    demo.wait_for(f"sent {SAMPLE_FILES} sample files")
    # It tells the user where their own agents can export: the ports it listens on, not 4318.
    assert f"OTLP/HTTP {demo.address('OTLP/HTTP')}" in demo.output.split("sent ", 1)[1]
    deadline = time.monotonic() + 120
    total = 0
    while time.monotonic() < deadline:
        total = httpx.get(f"{api}/api/v1/sessions", params={"limit": 1}, timeout=30).json()["total"]
        if total >= SAMPLE_SESSIONS:
            break
        time.sleep(0.5)
    assert total == SAMPLE_SESSIONS, demo.output
    endpoints = httpx.get(f"{api}/healthz", timeout=30).json()["endpoints"]
    assert endpoints == {"otlp_http": demo.address("OTLP/HTTP"), "otlp_grpc": demo.address("OTLP/gRPC")}
    assert "Traceback" not in demo.output, demo.output
