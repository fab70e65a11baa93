"""The `stepseven` command's entry point.

It keeps pandas and numpy out of the process before anything imports pyarrow (which would import
numpy as it loads): no command uses them in its own process, and in a collector they cost about
10 MB of memory for nothing. The dashboard, which needs both, runs in a process of its own.
"""

from __future__ import annotations

from collector.import_guard import keep_out


def main() -> None:
    keep_out("pandas", "numpy")
    from stepseven.cli import main as run

    run()
