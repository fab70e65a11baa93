"""Keeps pandas out of the collector's processes.

pyarrow imports pandas, if it is installed (the dashboard needs it), the first time it converts
Python values, only to ask whether they are pandas objects. A collector never has any, and the
import costs each process about 30 MB (measured in a decode worker: 32 MB more after its first
request). Call it in a process that runs the collector or decodes for it, never in one that draws
the dashboard.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType


class _NoPandas(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            # An ImportError, which pyarrow takes as "pandas is not installed".
            raise ModuleNotFoundError("the collector does not use pandas", name=fullname)
        return None


def keep_pandas_out() -> None:
    if "pandas" not in sys.modules and not any(isinstance(f, _NoPandas) for f in sys.meta_path):
        sys.meta_path.insert(0, _NoPandas())
