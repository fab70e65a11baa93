"""Redaction at ingest: secrets and personal data replaced in every string value before anything is written.

Applied by the decoder to attribute values (which hold the messages, tool arguments and results),
event and link attributes, status messages and log bodies, so nothing downstream (store, analyzer,
exports) ever sees the original. A match becomes ``[REDACTED:<pattern name>]``, which keeps JSON
inside a string value valid (no quotes, no backslashes).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class RedactionConfigError(ValueError):
    """A redaction configuration that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Pattern:
    name: str
    regex: re.Pattern[str]
    # The group that is replaced (0: the whole match). A key=value pattern keeps its key.
    group: int = 0
    luhn: bool = False  # card numbers: only digit runs that pass the Luhn check
    # A cheap test, on (value, value.lower()), that must pass before the pattern runs: most strings
    # hold no secret, and plain substring tests cost a fraction of a regex pass over every position.
    hint: Callable[[str, str], bool] | None = None


_B64URL = r"[A-Za-z0-9\-._~+/]"
_KEY_PREFIXES = ("sk-", "AKIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "AIza", "hf_")
_NO_DIGITS = str.maketrans("", "", "0123456789")

BUILTIN: dict[str, Pattern] = {
    p.name: p
    for p in (
        Pattern(
            "email",
            re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
            hint=lambda v, _: "@" in v,
        ),
        Pattern(
            "bearer_token",
            re.compile(rf"(?i)\bbearer\s+({_B64URL}{{8,}}=*)"),
            group=1,
            hint=lambda _, low: "bearer" in low,
        ),
        Pattern(
            "api_key",
            re.compile(
                r"\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}"  # OpenAI, Anthropic
                r"|AKIA[0-9A-Z]{16}"  # AWS access key id
                r"|gh[pousr]_[A-Za-z0-9]{36,}"  # GitHub
                r"|github_pat_[A-Za-z0-9_]{40,}"
                r"|xox[abprs]-[A-Za-z0-9-]{10,}"  # Slack
                r"|AIza[0-9A-Za-z_\-]{35}"  # Google
                r"|hf_[A-Za-z0-9]{30,})\b"  # Hugging Face
            ),
            hint=lambda v, _: any(p in v for p in _KEY_PREFIXES),
        ),
        Pattern(
            "secret_assignment",
            re.compile(
                r"(?i)(?:api[_-]?key|secret|passw(?:or)?d|access[_-]?token|auth[_-]?token)"
                r"[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9_\-./+=]{8,})"
            ),
            group=1,
            hint=lambda _, low: any(k in low for k in ("key", "secret", "passw", "token")),
        ),
        Pattern(
            "card_number",
            # No lookarounds (they cost 5x here); a match inside a longer digit run is refused below.
            re.compile(r"[0-9](?:[ -]?[0-9]){12,18}"),
            luhn=True,
            hint=lambda v, _: len(v) - len(v.translate(_NO_DIGITS)) >= 13,
        ),
    )
}


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class Redactor:
    patterns: tuple[Pattern, ...]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # The decode workers get the redactor pickled; the built-ins' hints are functions, which do
        # not pickle, so built-ins travel by name and user patterns by their regex.
        specs = tuple(
            p.name if BUILTIN.get(p.name) is p else (p.name, p.regex.pattern, p.regex.flags) for p in self.patterns
        )
        return (_rebuild, (specs,))

    def text(self, value: str) -> tuple[str, int]:
        """``value`` with every match replaced, and how many were."""
        replaced = 0
        if len(value) < 6:
            return value, 0
        low = value.lower()
        for pattern in self.patterns:
            if pattern.hint is not None and not pattern.hint(value, low):
                continue

            def swap(match: re.Match[str], pattern: Pattern = pattern) -> str:
                nonlocal replaced
                secret = match.group(pattern.group)
                if pattern.luhn:
                    text, start, end = match.string, match.start(), match.end()
                    if (start and text[start - 1].isdigit()) or (end < len(text) and text[end].isdigit()):
                        return match.group(0)
                    digits = re.sub(r"\D", "", secret)
                    if not 13 <= len(digits) <= 19 or not _luhn(digits):
                        return match.group(0)
                replaced += 1
                if pattern.group == 0:
                    return f"[REDACTED:{pattern.name}]"
                start, end = match.span(pattern.group)
                whole = match.group(0)
                offset = match.start(0)
                return whole[: start - offset] + f"[REDACTED:{pattern.name}]" + whole[end - offset :]

            value = pattern.regex.sub(swap, value)
        return value, replaced


def _rebuild(specs: tuple[str | tuple[str, str, int], ...]) -> Redactor:
    return Redactor(tuple(BUILTIN[s] if isinstance(s, str) else Pattern(s[0], re.compile(s[1], s[2])) for s in specs))


def load_redactor(enabled_builtins: bool, config_file: Path | None) -> Redactor | None:
    """The redactor for `serve --redact` and/or `--redaction-config FILE`; None when neither is given.

    The file is TOML::

        builtins = ["email", "api_key"]        # optional: which built-in patterns (default: all)

        [[patterns]]
        name = "customer_id"
        regex = "CUST-[0-9]{6}"
    """
    if not enabled_builtins and config_file is None:
        return None
    names = list(BUILTIN)
    custom: list[Pattern] = []
    if config_file is not None:
        try:
            data = tomllib.loads(config_file.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise RedactionConfigError(f"{config_file}: {exc}") from None
        unknown_keys = set(data) - {"builtins", "patterns"}
        if unknown_keys:
            raise RedactionConfigError(
                f"{config_file}: unknown key {sorted(unknown_keys)[0]!r}; use builtins and [[patterns]]"
            )
        names = data.get("builtins", names)
        if not isinstance(names, list) or any(n not in BUILTIN for n in names):
            raise RedactionConfigError(
                f"{config_file}: builtins must be a list of {', '.join(BUILTIN)} (got {names!r})"
            )
        for k, entry in enumerate(data.get("patterns", [])):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise RedactionConfigError(f"{config_file}: patterns[{k}] needs a name and a regex")
            name = entry["name"]
            if not re.fullmatch(r"[a-z0-9_]+", name):
                raise RedactionConfigError(
                    f"{config_file}: pattern name {name!r} must be lowercase letters, digits and _"
                )
            try:
                custom.append(Pattern(name, re.compile(str(entry.get("regex", "")))))
            except re.error as exc:
                raise RedactionConfigError(f"{config_file}: pattern {name!r} is not a valid regex: {exc}") from None
            if not entry.get("regex"):
                raise RedactionConfigError(f"{config_file}: pattern {name!r} has an empty regex")
    return Redactor(tuple(BUILTIN[n] for n in names) + tuple(custom))
