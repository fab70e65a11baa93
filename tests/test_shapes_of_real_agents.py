"""Each shape the analyzer once got wrong on real agents' traces, as a capture of a real framework that shows it
and a twin that looks the same but is healthy (or shows another kind).

The captures are sessions of the `dev` split of sample_traces/frameworks (the part the rules were tuned on);
the `test` split's figures are what docs/analyzer.md reports, and no test pins them session by session.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.evaluate import Evaluation, evaluate, split_of

FRAMEWORKS = Path(__file__).resolve().parent.parent / "sample_traces" / "frameworks"

# (what the shape is, the kind, a session that has it, its healthy twin)
SHAPES = [
    (
        "a search re-worded each time, learning nothing, until a limit",
        "runaway_loop",
        "langgraph-c-reworded-search-until-limit-001",
        "langgraph-c-reworded-search-new-info-001",
    ),
    (
        "two wordings of one search in turn until the step limit",
        "runaway_loop",
        "crewai-c2-loop-alternating-two-rewordings-003",
        "strands-c2-401-alternating-new-sources",
    ),
    (
        "the same failure again and again with other tools in between",
        "runaway_loop",
        "langgraph-c-same-error-interleaved-001",
        "langgraph-c-retry-recovers-001",
    ),
    (
        "the same error, differing only by its request id",
        "runaway_loop",
        "adk-c2-loop-error-varies-by-request-id-29a4c7",
        "strands-c2-402-quota-retried-once",
    ),
    (
        "an error handed back as the tool's result (ADK's reflect-and-retry plugin), again and again",
        "runaway_loop",
        "adk-c-loop-same-error-interleaved-129289",
        "adk-c-ok-error-retried-once-0dbe3e",
    ),
    (
        "a code agent whose steps fail the same way",
        "runaway_loop",
        "smolagents-c-a7d149e3f52b",
        "smolagents-c-aa6d70aaeadb",
    ),
    (
        "a pager that moves on each call and never finishes",
        "runaway_loop",
        "llamaindex-c-pager-never-finishes-004",
        "llamaindex-c2-cursor-pager-finishes-015",
    ),
    (
        "a framework's loop limit hit while two agents repeat themselves (ADK LoopAgent)",
        "runaway_loop",
        "adk-c-loop-loopagent-max-iterations-c5c143",
        "adk-c-ok-transfer-delegation-1c6dcb",
    ),
    (
        "a smolagents run that used all its steps, content capture off",
        "runaway_loop",
        "smolagents-c-8b7bfce72230",
        "smolagents-c-8f737528e4d6",
    ),
    (
        "one tool per user turn is not a loop",
        "runaway_loop",
        "langgraph-c-reworded-search-until-limit-001",
        "crewai-c-ok-multiturn-same-tool-per-turn-011",
    ),
    (
        "parallel calls of one tool with other arguments are not a loop",
        "runaway_loop",
        "adk-c-loop-reworded-search-limit-79e27a",
        "adk-c-ok-parallel-same-tool-939869",
    ),
    (
        "compaction whose summary drops the request's constraint",
        "context_rot",
        "adk-c-rot-compaction-drops-py38-5530ca",
        "adk-c2-ok-token-compaction-keeps-drafts-only-291cc3",
    ),
    (
        "a history window that drops the first turn's constraint",
        "context_rot",
        "langgraph-c-trimmed-budget-constraint-001",
        "langgraph-c-summary-keeps-constraint-001",
    ),
    (
        "the agent asks again for what the user gave in an earlier turn",
        "context_rot",
        "langgraph-c2-sliding-window-reasks-email-001",
        "crewai-c-ok-multiturn-same-tool-per-turn-011",
    ),
    (
        "trimming that removes the system instructions",
        "context_rot",
        "langgraph-c2-system-prompt-trimmed-away-001",
        "strands-c-022-swarm-shared-history",
    ),
    (
        "a sub-agent given the caller's history under its own prompt is no lost context",
        "context_rot",
        "adk-c-rot-context-length-exceeded-cd6a95",
        "crewai-c2-ok-delegation-with-history-and-planning-011",
    ),
    (
        "spans past the SDK's attribute limit prove no lost context",
        "context_rot",
        "llamaindex-c-context-length-error-008",
        "llamaindex-c-long-run-attrs-022",
    ),
    (
        "a sub-agent stopped by its limit",
        "failed_handoff",
        "js-c-66d629ebae",
        "llamaindex-c2-delegation-retried-recovers-022",
    ),
    (
        "the caller redoes the work its sub-agent failed at",
        "failed_handoff",
        "langgraph-c-caller-redoes-work-001",
        "adk-c-ok-transfer-delegation-1c6dcb",
    ),
    (
        "a delegation to an agent that never starts",
        "failed_handoff",
        "crewai-c-handoff-unknown-coworker-004",
        "crewai-c2-ok-delegation-with-history-and-planning-011",
    ),
    (
        "a call to an agent the framework rejects, reported to the user as passed on",
        "failed_handoff",
        "smolagents-c-d269ddbac7e3",
        "smolagents-c2-60620effeb12",
    ),
    (
        "an agent-as-tool call that returns at once, its sub-agent finishing after the caller is gone",
        "failed_handoff",
        "strands-c2-303-fire-and-forget",
        "strands-c2-408-subagent-retry-recovers",
    ),
    (
        "a sub-agent stopped right after a tool call, before its model could answer (content off)",
        "failed_handoff",
        "strands-c2-103-cursor-poller-subagent",
        "strands-c2-403-cursor-pager-finishes",
    ),
    (
        "a loop that ends with its exit tool is not an agent stopped before answering",
        "failed_handoff",
        "strands-c2-103-cursor-poller-subagent",
        "adk-c2-ok-loopagent-exits-after-fix-36b9ff",
    ),
]


@pytest.fixture(scope="module")
def corpus() -> Evaluation:
    return evaluate(FRAMEWORKS)


@pytest.mark.parametrize(("shape", "kind", "positive", "twin"), SHAPES, ids=[s[0] for s in SHAPES])
def test_a_shape_seen_in_real_agents_is_found_and_its_twin_is_not(
    corpus: Evaluation, shape: str, kind: str, positive: str, twin: str
) -> None:
    for session in (positive, twin):
        assert split_of(session) == "dev", f"{session} is in the test split: pick a dev session"
    assert kind in corpus.labels[positive].kinds and kind not in corpus.labels[twin].kinds, shape
    found = {f.sub_kind for f in corpus.findings[positive] if f.kind == kind and f.severity != "note"}
    assert found, f"{shape}: nothing found in {positive} ({corpus.labels[positive].why})"
    wrong = [f.explanation for f in corpus.findings[twin] if f.kind == kind and f.severity != "note"]
    assert not wrong, f"{shape}: the healthy twin {twin} was flagged: {wrong}"


def test_no_finding_on_sessions_whose_content_was_not_recorded_comes_from_content(corpus: Evaluation) -> None:
    """Content capture off (ADK's default, OpenInference's hide settings, Strands' redaction): the findings of
    such sessions never quote arguments, results or messages that were not recorded."""
    withheld = [s for s, label in corpus.labels.items() if "content capture off" in label.why.lower()]
    assert len(withheld) >= 20
    for session in withheld:
        for f in corpus.findings[session]:
            assert "same arguments (null)" not in f.explanation, (session, f.explanation)
            assert "__REDACTED__" not in f.explanation and "[REDACTED]" not in f.explanation, (session, f.explanation)
