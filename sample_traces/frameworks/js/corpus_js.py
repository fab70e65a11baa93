"""Regenerates the Vercel AI SDK (Node) evaluation corpus: labelled agent sessions from real framework runs.

Each scenario runs ``corpus_agent.mjs`` (beside this file) once in Node: the AI SDK's own agent loop
(``generateText`` with tools and ``stopWhen``, or ``ToolLoopAgent``), telemetry through the SDK's default
OpenTelemetry integration (``registerTelemetry(new OpenTelemetry(...))`` from ``@ai-sdk/otel``; per call
``telemetry`` / ``experimental_telemetry`` with ``functionId``, ``recordInputs``/``recordOutputs``), exported by
``@opentelemetry/sdk-node`` + ``exporter-trace-otlp-proto`` to a receiver this script runs on 127.0.0.1.
Only the model (``MockLanguageModelV4`` from ``ai/test``, answering from a script) and the tools' backends are
fake. Session ids are set the way the team's capture does it: ``enrichSpan`` adds ``gen_ai.conversation.id``.

Deterministic: fixed seeds and session ids, a seeded RNG for names/domains, seeded trace/span ids and a
simulated clock in Node (``Date.now``/``performance.now`` replaced), so reruns give identical files.

Run (from anywhere; Node 20 and the capture's node_modules, which this script links as ./node_modules):

    /work/cap/js/.venv/bin/python /work/cap/js/corpus/corpus_js.py [SCENARIO ...]   # all by default
        [--node-modules /work/cap/js/node/node_modules]

Writes ``out/js_<scenario>.json`` (one OTLP/JSON ExportTraceServiceRequest per file, hex ids) and
``labels_js.toml``. Labels come from the table below (what each script makes happen), never from a tool.

Pinned versions (npm, /work/cap/js/node/package-lock.json): ai 7.0.185, @ai-sdk/otel 1.0.185, zod 4.6.7,
@opentelemetry/sdk-node 0.301.2, @opentelemetry/exporter-trace-otlp-proto 0.301.2 (OTel JS SDK 3.1.1), Node 20.20.2.
Python side (pip freeze): opentelemetry-sdk==1.45.2, opentelemetry-proto==1.45.2, protobuf==7.36.2.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
CAPTURE_DIR = Path("/work/main/sample_traces/frameworks/js")


def load_capture_js() -> ModuleType:
    """The team's capture script (its OTLP receiver and protobuf -> OTLP/JSON converter), imported by path."""
    sys.dont_write_bytecode = True  # never write a __pycache__ under /work/main
    spec = importlib.util.spec_from_file_location("capture_js", CAPTURE_DIR / "capture_js.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["capture_js"] = module
    spec.loader.exec_module(module)
    return module


capture_js = load_capture_js()
Receiver: Any = capture_js.Receiver
protobuf_to_otlp_json: Callable[[list[bytes]], dict[str, Any]] = capture_js.protobuf_to_otlp_json

MAX_FILE_BYTES = 150_000


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    domain: str
    content: bool
    kinds: tuple[str, ...]
    shape: str
    why: str

    @property
    def session_id(self) -> str:
        return "js-c-" + hashlib.sha1(f"{self.name}:{self.seed}".encode()).hexdigest()[:10]


LOOP, ROT, HANDOFF = "runaway_loop", "context_rot", "failed_handoff"

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "loop_reworded_search",
        11,
        "research",
        True,
        (LOOP,),
        "reworded_search_until_limit",
        "ToolLoopAgent re-words the same web search 7 times, every call returns the same two stale results, "
        "stopWhen isStepCount(7) ends the run with no answer: runaway loop",
    ),
    Scenario(
        "loop_same_error_interleaved",
        12,
        "billing",
        True,
        (LOOP,),
        "same_error_repeated_interleaved",
        "charge_card fails 4 times with the identical PaymentGatewayError message, lookup/invoice/payment-method "
        "calls in between, nothing changes between attempts, then the run gives up: runaway loop",
    ),
    Scenario(
        "loop_pager_never_ends",
        13,
        "data",
        False,
        (LOOP,),
        "pager_never_finishes",
        "the list tool's cursor advances on every call but has_more is always true; stopWhen isStepCount(12) "
        "stops the run with no total computed (content capture off): runaway loop",
    ),
    Scenario(
        "loop_agent_default_limit",
        14,
        "support",
        False,
        (LOOP,),
        "framework_step_limit_cycle",
        "ToolLoopAgent with its default stop condition (20 steps) cycles check_shipment/refresh_carrier_status "
        "with identical arguments and identical results until the limit, no answer (content off): runaway loop",
    ),
    Scenario(
        "loop_code_fix_same_failure",
        15,
        "code",
        True,
        (LOOP,),
        "code_agent_same_failure",
        "code agent patches src/dates.py 5 times, run_tests raises the same AssertionError after every patch, "
        "stopWhen isStepCount(12) ends it unfixed: runaway loop",
    ),
    Scenario(
        "rot_window_drops_budget",
        21,
        "travel",
        True,
        (ROT,),
        "history_window_drops_constraint",
        "prepareStep keeps only the last 6 messages, so from step 5 on the user's 'total budget under $500' "
        "message is gone; the model then books a $690 hotel (total $902): context rot",
    ),
    Scenario(
        "rot_summary_drops_constraint",
        22,
        "code",
        True,
        (ROT,),
        "compaction_drops_constraint",
        "two turns; between them the app replaces history by a history_compactor summary that omits "
        "'only Python 3.8 syntax'; turn 2 writes dict[str, str], dict | dict and match (3.9/3.10+): context rot",
    ),
    Scenario(
        "rot_context_length_error",
        23,
        "research",
        False,
        (ROT,),
        "context_length_exceeded",
        "five full-document fetches grow the prompt to ~110k tokens, the sixth model call fails with the "
        "provider's context_length_exceeded (400, not retried); the run ends in error (content off): context rot",
    ),
    Scenario(
        "rot_reasks_known_info",
        24,
        "support",
        True,
        (ROT,),
        "multi_turn_reasks_given_info",
        "three turns, the app's memory sends only the last two messages (previous reply + new user message); in "
        "turn 3 the agent asks again for "
        "the order number and email the user gave in turn 1: context rot",
    ),
    Scenario(
        "handoff_subagent_step_limit",
        31,
        "research",
        True,
        (HANDOFF, LOOP),
        "subagent_step_limit_empty_result",
        "literature_scout (ToolLoopAgent in a tool) repeats the same search_papers call until its "
        "isStepCount(4) and returns empty text; the lead writes the brief anyway: failed handoff, and the "
        "sub-agent's identical repeats are a runaway loop",
    ),
    Scenario(
        "handoff_subagent_raises_caller_redoes",
        32,
        "billing",
        True,
        (HANDOFF,),
        "subagent_raises_caller_redoes",
        "invoice_reconciler's model returns 503 three times (SDK maxRetries=2, RetryError), the delegation tool "
        "fails, and the supervisor calls fetch_invoices/fetch_ledger itself: failed handoff",
    ),
    Scenario(
        "handoff_output_dropped",
        33,
        "travel",
        True,
        (HANDOFF,),
        "subagent_output_dropped",
        "visa_checker answers (e-visa needed, apply 15 days ahead) but the app's delegation tool returns only "
        "{status, agent}; the concierge tells the traveller they are all set: failed handoff",
    ),
    Scenario(
        "handoff_never_started",
        34,
        "support",
        True,
        (HANDOFF,),
        "delegation_never_started",
        "handoff_to_agent only queues a job for refund_specialist, which has no worker and never starts; the "
        "router tells the user the specialist is processing the refund: failed handoff",
    ),
    Scenario(
        "ok_reworded_search_new_info",
        41,
        "research",
        True,
        (),
        "reworded_search_new_info",
        "a research_planner call with its own system prompt, then 4 re-worded searches each returning a new "
        "source, then a cited answer: healthy",
    ),
    Scenario(
        "ok_multi_turn_same_tool",
        42,
        "travel",
        False,
        (),
        "multi_turn_same_tool_per_turn",
        "three turns in one session, each a new city, get_weather once per turn with new arguments, full "
        "history kept (content off): healthy",
    ),
    Scenario(
        "ok_parallel_fanout",
        43,
        "data",
        False,
        (),
        "parallel_calls_different_args",
        "one model step asks for query_metrics 4 times in parallel (four regions), then answers (content off): healthy",
    ),
    Scenario(
        "ok_polling_finishes",
        44,
        "data",
        False,
        (),
        "polling_finishes",
        "start_export then get_export_status polled 4 times (queued, running, running, succeeded), then the "
        "link is given (content off): healthy",
    ),
    Scenario(
        "ok_retry_recovers",
        45,
        "billing",
        True,
        (),
        "error_retried_once_recovers",
        "get_invoice times out once and succeeds on retry; one model call gets a 429 that the SDK retries "
        "once; receipt sent, answer given: healthy",
    ),
    Scenario(
        "ok_compaction_keeps_constraint",
        46,
        "travel",
        True,
        (),
        "compaction_keeps_constraint",
        "two turns with a history_compactor summary between them that keeps the $500 budget verbatim; turn 2 "
        "books $440 in two parallel book calls: healthy",
    ),
    Scenario(
        "ok_subagent_with_history",
        47,
        "support",
        True,
        (),
        "subagent_gets_history",
        "warranty_specialist (ToolLoopAgent in a tool) receives the supervisor's messages under its own "
        "instructions, checks the warranty, and the supervisor relays its decision: healthy delegation",
    ),
    Scenario(
        "ok_long_run_wide_attributes",
        48,
        "data",
        False,
        (),
        "long_run_over_attribute_limit",
        "25-step healthy ToolLoopAgent run, 24 distinct SQL queries then a report; the app's 152-key request "
        "context on the agent span exceeds the OTel SDK's 128-attribute limit (content off): healthy",
    ),
)


def run_scenario(scenario: Scenario, endpoint: str) -> str:
    cfg = {
        "scenario": scenario.name,
        "session": scenario.session_id,
        "seed": scenario.seed,
        "domain": scenario.domain,
        "content": scenario.content,
        "endpoint": endpoint,
    }
    done = subprocess.run(
        ["node", "corpus_agent.mjs", json.dumps(cfg)],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return [line for line in done.stderr.splitlines() if line.startswith("{")][-1]


def toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_labels(path: Path) -> None:
    lines = ["# Vercel AI SDK corpus: one entry per session; labels are what corpus_js.py scripted.", ""]
    for s in SCENARIOS:
        kinds = ", ".join(toml_string(k) for k in s.kinds)
        lines += [
            "[[session]]",
            f"session_id = {toml_string(s.session_id)}",
            f"kinds = [{kinds}]",
            f"shape = {toml_string(s.shape)}",
            f"why = {toml_string(s.why)}",
            f"file = {toml_string(f'out/js_{s.name}.json')}",
            f"content_capture = {'true' if s.content else 'false'}",
            "",
        ]
    path.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario names (all by default)")
    parser.add_argument("--node-modules", type=Path, default=Path("/work/cap/js/node/node_modules"))
    args = parser.parse_args()
    by_name = {s.name: s for s in SCENARIOS}
    unknown = set(args.scenarios) - set(by_name)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    link = HERE / "node_modules"
    if not link.exists():
        link.symlink_to(args.node_modules)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for name in args.scenarios or list(by_name):
            scenario = by_name[name]
            Receiver.bodies.clear()
            summary = run_scenario(scenario, endpoint)
            bodies = [body for content_type, body in Receiver.bodies if "protobuf" in content_type]
            document = protobuf_to_otlp_json(bodies)
            path = out / f"js_{name}.json"
            path.write_text(json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n")
            spans = sum(len(ss.get("spans", [])) for rs in document["resourceSpans"] for ss in rs["scopeSpans"])
            size = path.stat().st_size
            flag = "" if size < MAX_FILE_BYTES else "  TOO LARGE"
            print(f"{path.name}: {spans} spans, {size} bytes{flag}; run: {summary}")
    finally:
        server.shutdown()
    write_labels(HERE / "labels_js.toml")


if __name__ == "__main__":
    main()
