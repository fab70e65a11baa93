"""Detector thresholds and known context windows, overridable by options and a TOML file.

A configuration file looks like::

    [thresholds]
    long_session_minutes = 45
    repeat_min_calls = 4

    [context_windows]
    "my-finetuned-model" = 32768
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Input context windows in tokens, by model name prefix (the longest matching prefix wins).
# From the providers' model pages; a deployment name that differs needs an entry in the file.
KNOWN_CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-3.5-turbo": 16_385,
    "gpt-4": 8_192,
    "gpt-4-32k": 32_768,
    "gpt-4-turbo": 128_000,
    "gpt-4o": 128_000,
    "gpt-4o-mini": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4.5": 128_000,
    "gpt-5": 400_000,
    "o1": 200_000,
    "o1-mini": 128_000,
    "o3": 200_000,
    "o3-mini": 200_000,
    "o4-mini": 200_000,
    "claude-2": 100_000,
    "claude-3": 200_000,
    "claude-sonnet-4": 200_000,
    "claude-opus-4": 200_000,
    "claude-haiku-4": 200_000,
    "gemini-1.5-pro": 2_097_152,
    "gemini-1.5-flash": 1_048_576,
    "gemini-2.0-flash": 1_048_576,
    "gemini-2.5": 1_048_576,
    "llama-3.1": 128_000,
    "llama-3.2": 128_000,
    "llama-3.3": 128_000,
    "mistral-large": 128_000,
    "mistral-small": 32_000,
    "command-r": 128_000,
    "deepseek-chat": 64_000,
    "deepseek-reasoner": 64_000,
    "qwen2.5": 32_768,
}


def _option(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True, slots=True)
class Thresholds:
    context_pressure_ratio: float = _option(
        0.9, "Flag an LLM call whose input tokens reach this share of the model's context window."
    )
    long_session_minutes: float = _option(
        35.0, "Agent time (time spent inside agent runs, idle gaps excluded) after which drift is looked for."
    )
    repeat_min_calls: int = _option(
        3, "Flag a tool called this many times in a row with the same arguments and no new result."
    )
    repeat_window: int = _option(10, "Also look for repeats among this many consecutive tool calls of one agent.")
    repeat_window_min_calls: int = _option(
        4, "Flag a tool called with the same arguments this many times within --repeat-window calls."
    )
    cycle_min_repeats: int = _option(
        3, "Flag a cycle of 2 to 4 tool calls repeated this many times with no new result."
    )
    similar_arguments: float = _option(
        0.5, "Tool arguments sharing this share of their words are the same request re-worded."
    )
    no_progress_min_calls: int = _option(
        3, "Flag this many calls of one tool in one run, with similar arguments, whose results bring nothing new."
    )
    repeated_error_min: int = _option(3, "Flag the same error this many times in one agent run.")
    pager_min_calls: int = _option(
        5, "Flag a tool paged (arguments differing only in numbers) this many times by a run that never finished."
    )
    excess_ratio: float = _option(5.0, "Flag an agent using this many times its usual steps or tokens in a session.")
    excess_min_sessions: int = _option(5, "How many earlier sessions of an agent make its usual figures.")
    ping_pong_min_handoffs: int = _option(4, "Flag this many handoffs back and forth between the same two agents.")
    handoff_answer_seconds: float = _option(600.0, "Flag a delegated agent that takes longer than this to answer.")
    drift_min_signals: int = _option(2, "How many signs of degradation after the long-session mark make drift.")


@dataclass(frozen=True, slots=True)
class AnalyzerConfig:
    thresholds: Thresholds = field(default_factory=Thresholds)
    context_windows: dict[str, int] = field(default_factory=dict)

    def context_window(self, model: str | None) -> int | None:
        if not model:
            return None
        name = model.lower().rsplit("/", 1)[-1]  # "openai/gpt-4o", "models/gemini-2.5-pro"
        for table in (self.context_windows, KNOWN_CONTEXT_WINDOWS):
            if name in table:
                return table[name]
            best = max((p for p in table if name.startswith(p)), key=len, default=None)
            if best is not None:
                return table[best]
        return None


class ConfigFileError(Exception):
    """The configuration file cannot be used; the message says which line to fix."""


THRESHOLD_FIELDS = {f.name: f for f in dataclasses.fields(Thresholds)}


def load_config(path: Path | None, overrides: dict[str, Any] | None = None) -> AnalyzerConfig:
    """The file's settings (if any), then the command-line options that were given."""
    values: dict[str, Any] = {}
    windows: dict[str, int] = {}
    if path is not None:
        try:
            document = tomllib.loads(path.read_text())
        except OSError as exc:
            raise ConfigFileError(f"Cannot read the configuration file {path}: {exc.strerror}.") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigFileError(f"{path} is not valid TOML: {exc}.") from None
        unknown = set(document) - {"thresholds", "context_windows"}
        if unknown:
            raise ConfigFileError(
                f"{path}: unknown sections {sorted(unknown)}; use [thresholds] and [context_windows]."
            )
        values.update(document.get("thresholds", {}))
        for model, window in document.get("context_windows", {}).items():
            if not isinstance(window, int) or isinstance(window, bool) or window <= 0:
                raise ConfigFileError(f"{path}: context window of {model!r} must be a positive whole number of tokens.")
            windows[model.lower()] = window
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    for name, value in values.items():
        spec = THRESHOLD_FIELDS.get(name)
        if spec is None:
            raise ConfigFileError(f"Unknown threshold {name!r}; known: {', '.join(THRESHOLD_FIELDS)}.")
        expected = int if spec.type in ("int", int) else float
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (expected is int and not isinstance(value, int))
        ):
            raise ConfigFileError(
                f"Threshold {name} must be a {'whole ' if expected is int else ''}number, not {value!r}."
            )
        if value <= 0:
            raise ConfigFileError(f"Threshold {name} must be greater than 0.")
    return AnalyzerConfig(Thresholds(**values), windows)
