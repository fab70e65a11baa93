"""The decode workers run the collector's own code, or the collector does not start.

Each scenario runs in a child process: the workers' fork server is one per process and outlives a
pool, so a fork server started on purpose with the wrong code must not serve the rest of the suite.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import collector

INSTALLED = Path(collector.__file__).parent


def _other_copy(folder: Path) -> Path:
    """A pure-Python copy of the collector package, as a checkout holds it beside an installed wheel."""
    shutil.copytree(INSTALLED, folder / "collector", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    return folder


def _start_pool(cwd: Path, before_start: str = "") -> subprocess.CompletedProcess[str]:
    script = cwd.parent / "start_pool.py"  # a script's own folder, not the working directory, leads sys.path
    script.write_text(
        textwrap.dedent(
            """
            import collector.decode
            from collector import decode_pool
            from collector.config import Limits

            if __name__ == "__main__":  # multiprocessing runs this file again in each worker, as __mp_main__
                {before_start}
                pool = decode_pool.DecodePool(2, Limits(), None)
                try:
                    pool.start(timeout=60)
                except decode_pool.WorkersNotStarted as exc:
                    print("refused:", exc)
                else:
                    print("started:", collector.decode.__file__)
                    pool.stop()
            """
        ).format(before_start=before_start)
    )
    return subprocess.run([sys.executable, str(script)], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_workers_started_in_a_directory_holding_another_copy_run_the_collectors_code(tmp_path: Path) -> None:
    checkout = _other_copy(tmp_path / "checkout")
    out = _start_pool(checkout)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("started: "), out.stdout + out.stderr
    assert not Path(out.stdout.split(": ", 1)[1].strip()).is_relative_to(checkout)


def test_workers_that_import_other_code_stop_the_start_with_a_sentence(tmp_path: Path) -> None:
    other = _other_copy(tmp_path / "other")
    # The workers' import path leads to the other copy, as the working directory once did (issue #22).
    out = _start_pool(
        tmp_path,
        f"ours = decode_pool._import_path; decode_pool._import_path = lambda: [{str(other)!r}, *ours()]",
    )
    assert out.returncode == 0, out.stderr
    sentence = out.stdout.strip()
    assert sentence.startswith("refused: The decode workers run other code than the collector"), out.stdout
    assert f"{other}/collector/decode.py" in sentence and str(INSTALLED) in sentence
    assert "Start stepseven from a directory that holds no copy of it" in sentence
