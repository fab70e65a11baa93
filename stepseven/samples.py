"""The sample traces that install with stepseven (sample_traces/ at the top of a checkout)."""

from __future__ import annotations

import importlib.resources
import shlex
from pathlib import Path


class SamplesMissing(Exception):
    """The installed package has no sample traces; the message says what to pass instead."""


def samples_directory() -> Path:
    """The folder of the sample traces, from any working directory."""
    try:
        found = importlib.resources.files("sample_traces")
    except ModuleNotFoundError:
        found = None
    if not isinstance(found, Path) or not any(found.glob("*.json")):  # missing, or inside a zip file
        raise SamplesMissing(
            "This installation of stepseven has no sample traces; pass --samples DIR (a folder of OTLP/JSON files)."
        )
    return found


def send_samples_command(endpoint: str | None = None) -> str:
    """The `stepseven send` command line that replays the installed samples (to ``endpoint``, if given)."""
    try:
        files = shlex.quote(str(samples_directory())) + "/*.json"
    except SamplesMissing:
        files = "FILE.json ..."
    option = f"--endpoint {shlex.quote(endpoint)} " if endpoint else ""
    return f"stepseven send {option}{files}"
