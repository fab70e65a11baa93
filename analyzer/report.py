"""Findings as text for a terminal: trace content is hostile, so control characters never reach it."""

from __future__ import annotations

import re
from collections.abc import Iterable

from store.model import Finding

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """No ANSI escapes, carriage returns or bidi overrides from trace content in the terminal."""
    return _CONTROL.sub("�", text)


def format_findings(findings: Iterable[Finding]) -> str:
    lines: list[str] = []
    current = None
    for f in findings:
        if f.session_id != current:
            current = f.session_id
            lines.append(f"session {clean(f.session_id)}")
        steps = ", ".join(str(i) for i in f.step_indexes[:12]) + (" …" if len(f.step_indexes) > 12 else "")
        lines.append(f"  {f.severity.upper():<6} {f.kind} / {f.sub_kind}  (steps {steps})")
        lines.append(f"         {clean(f.explanation)}")
    return "\n".join(lines)
