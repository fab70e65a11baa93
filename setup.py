"""Compiles the per-span ingest path with mypyc when a C compiler is at hand; pure Python otherwise.

Decoding a request and normalizing its spans is Python that runs once per span and per attribute,
and it is about half of the CPU a span costs the collector. mypyc compiles these modules, typed
as they are, into C extensions: the same source, decoding at about a third less CPU per span
(docs/ingest.md). Without a C compiler (or with STEPSEVEN_PURE_PYTHON=1) the same modules install
and run as plain Python; `stepseven serve` says which one it runs.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

# The PEP 517 backend does not put the project on the path; the list of sources lives in it.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from collector.compiled import SOURCES


def _ext_modules() -> list[Any]:
    if os.environ.get("STEPSEVEN_PURE_PYTHON"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("stepseven: mypyc is not installed; the decoders stay pure Python", file=sys.stderr)
        return []
    try:
        # The build environment has mypy and orjson, not the rest: what it cannot find is Any.
        return mypycify(["--ignore-missing-imports", *SOURCES], group_name="stepseven_compiled")
    except (Exception, SystemExit) as exc:  # mypyc exits on a type error: install uncompiled instead
        print(f"stepseven: mypyc could not translate the decoders ({exc!r}); they stay pure Python", file=sys.stderr)
        return []


class OptionalBuildExt(build_ext):
    """A machine without a C compiler still gets a working collector, uncompiled: all or nothing."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # any compiler failure means "install it uncompiled"
            # A module shim built without the shared library would fail to import: remove them all.
            for path in self.get_outputs():
                if os.path.exists(path):
                    os.remove(path)
            print(
                f"stepseven: could not compile the decoders ({exc}); they stay pure Python. Install a C "
                "compiler (Debian: apt-get install gcc) and reinstall to decode at less CPU per span.",
                file=sys.stderr,
            )


setup(ext_modules=_ext_modules(), cmdclass={"build_ext": OptionalBuildExt})
