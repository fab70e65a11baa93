"""Whether the per-span decoders run compiled by mypyc (setup.py) or as plain Python, and whether a build is stale."""

from __future__ import annotations

import importlib
import importlib.machinery
from dataclasses import dataclass
from pathlib import Path

# What setup.py compiles: the modules decode workers run for every span and every attribute.
# (This module imports nothing of the collector, so that setup.py can read the list.)
SOURCES = (
    "collector/decode.py",
    "collector/normalize/__init__.py",
    "collector/normalize/fields.py",
    "collector/normalize/genai.py",
    "collector/normalize/messages.py",
    "collector/normalize/openinference.py",
    "collector/normalize/openllmetry.py",
    "collector/normalize/vercel_ai.py",
)
MODULES = tuple(path.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for path in SOURCES)
# An install writes a module's source and its extension within moments of each other; a source
# edited later than this after its build is newer than the code that runs.
_STALE_AFTER_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class DecoderBuild:
    compiled: tuple[str, ...]
    stale: tuple[str, ...]  # compiled modules whose source changed after the build

    @property
    def state(self) -> str:
        if self.stale:
            return "stale"
        return "compiled" if len(self.compiled) == len(MODULES) else "pure-python"

    def describe(self) -> str:
        if self.stale:
            return (
                f"the compiled decoders are older than their source ({', '.join(self.stale)}: edited, or rewritten "
                "by git), so the code that runs may not be the code you read. Rebuild them with `pip install -e .`, "
                "or delete them to run the source as it is: `rm -f stepseven_compiled__mypyc*.so collector/*.so "
                "collector/normalize/*.so` (a reinstall with STEPSEVEN_PURE_PYTHON=1 leaves them in place)."
            )
        if self.state == "compiled":
            return "decoders compiled with mypyc"
        return (
            "decoders in pure Python (installed uncompiled: no C compiler, STEPSEVEN_PURE_PYTHON set, or a failed "
            "build; `pip install -v` shows which): decoding costs more CPU per span (docs/ingest.md); install gcc "
            "and reinstall to compile them"
        )


def decoder_build() -> DecoderBuild:
    compiled: list[str] = []
    stale: list[str] = []
    for name in MODULES:
        path = Path(importlib.import_module(name).__file__ or "")
        if not path.name.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
            continue
        compiled.append(name)
        source = path.with_name(path.name.split(".", 1)[0] + ".py")
        if source.exists() and source.stat().st_mtime > path.stat().st_mtime + _STALE_AFTER_SECONDS:
            stale.append(name)
    return DecoderBuild(tuple(compiled), tuple(stale))
