"""Keeps libraries the collector never uses out of its processes.

pyarrow imports pandas, if it is installed (the dashboard needs it), the first time it converts
Python values, only to ask whether they are pandas objects. A collector never has any, and the
import costs each process about 30 MB (measured in a decode worker: 32 MB more after its first
request). pyarrow also imports numpy as it loads, when numpy is installed; the decoders never use
it, and it costs the decode workers' fork server, hence every worker, about 12 MB.

Call it in a process that runs the collector or decodes for it, never in one that draws the
dashboard.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType


class _KeepOut(importlib.abc.MetaPathFinder):
    def __init__(self, packages: frozenset[str]) -> None:
        self.packages = packages

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] in self.packages:
            # An ImportError, which pyarrow takes as "not installed".
            raise ModuleNotFoundError(f"the collector does not use {fullname}", name=fullname)
        return None


def keep_out(*packages: str) -> None:
    """Makes importing these packages (already imported ones excepted) fail as if they were missing."""
    wanted = frozenset(p for p in packages if p not in sys.modules)
    guarded = set().union(*(f.packages for f in sys.meta_path if isinstance(f, _KeepOut)))
    if wanted - guarded:
        sys.meta_path.insert(0, _KeepOut(frozenset(wanted - guarded)))
