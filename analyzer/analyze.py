"""Runs every detector over a session: the one entry point the worker, the CLI and the evaluation share."""

from __future__ import annotations

from analyzer import context_rot, failed_handoff, runaway_loop
from analyzer.config import AnalyzerConfig
from analyzer.model import Finding, SessionSteps

DETECTORS = (context_rot.detect, runaway_loop.detect, failed_handoff.detect)


def analyze_session(session: SessionSteps, config: AnalyzerConfig) -> list[Finding]:
    found: list[Finding] = []
    for detect in DETECTORS:
        found.extend(detect(session, config))
    return sorted(found, key=lambda f: (f.step_indexes[:1] or [0], f.kind, f.sub_kind))
