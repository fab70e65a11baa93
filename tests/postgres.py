"""A throwaway PostgreSQL cluster for the tests, from the Debian packages `scripts/test` installs."""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import free_port


def _bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run ./scripts/test (it installs Debian's postgresql package)")
    return Path(found[-1]).parent


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Starts a cluster on a free loopback port; yields its SQLAlchemy URL; removes it afterwards."""
    binaries = _bin()
    folder = Path(tempfile.mkdtemp(prefix="stepseven-pg-"))
    # initdb refuses to run as root: the cluster belongs to the postgres user then.
    run_as: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    port = free_port()
    # Passwords over TCP, as a real server asks: the collector's login and the reader role it creates.
    password = secrets.token_hex(12)
    (folder / "pw").write_text(password)
    if run_as:
        shutil.chown(folder / "pw", "postgres")
    subprocess.run(
        [*run_as, str(binaries / "initdb"), "-D", str(data), "--auth-local=trust", "--auth-host=scram-sha-256",
         "--pwfile", str(folder / "pw"), "-U", "stepseven", "-E", "UTF8", "--locale=C"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=on"
    subprocess.run(
        [*run_as, str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://stepseven:{password}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)
