"""Second batch of the Vercel AI SDK (Node) evaluation corpus: labelled agent sessions from real framework runs.

Each scenario runs ``corpus2_agent.mjs`` (beside this file) once in Node: the AI SDK's own agent loop
(``generateText`` with tools, ``stopWhen``, ``prepareStep``, ``pruneMessages``, ``toolChoice``; or
``ToolLoopAgent``, also as sub-agents inside tools), telemetry through the SDK's default OpenTelemetry integration
(``registerTelemetry(new OpenTelemetry(...))`` from ``@ai-sdk/otel``; per call ``telemetry`` with ``functionId``,
``recordInputs``/``recordOutputs``), exported by ``@opentelemetry/sdk-node`` + ``exporter-trace-otlp-proto`` to a
receiver this script runs on 127.0.0.1. Only the model (``MockLanguageModelV4`` from ``ai/test``, answering from a
script) and the tools' backends are fake. Session ids are set the way the team's capture does it: ``enrichSpan``
adds ``gen_ai.conversation.id`` (``js-c2-...``) to every SDK span.

Machinery reused from the first batch (``/work/cap/js/corpus/corpus_js.py``, imported by path): the team's OTLP
receiver and protobuf -> OTLP/JSON converter (from ``/work/main/sample_traces/frameworks/js/capture_js.py``).

Deterministic: fixed seeds and session ids, a seeded RNG for names/domains, seeded trace/span ids and a
simulated clock in Node (``Date.now``/``performance.now`` replaced), so reruns give identical files.

Run (Node 20 and the capture's node_modules, linked as ./node_modules for the run and removed afterwards):

    /work/cap/js/.venv/bin/python /work/cap/js/corpus2/corpus2_js.py [SCENARIO ...]   # all by default
        [--node-modules /work/cap/js/node/node_modules]

Writes ``out/js_b2_<scenario>.json`` (one OTLP/JSON ExportTraceServiceRequest per file, hex ids) and
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
FIRST_BATCH = Path("/work/cap/js/corpus/corpus_js.py")


def load_first_batch() -> ModuleType:
    """The first batch's driver (which itself imports the team's capture_js.py by path), imported by path."""
    sys.dont_write_bytecode = True  # never write a __pycache__ next to the first batch or under /work/main
    spec = importlib.util.spec_from_file_location("corpus_js", FIRST_BATCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_js"] = module
    spec.loader.exec_module(module)
    return module


corpus_js = load_first_batch()
Receiver: Any = corpus_js.Receiver
protobuf_to_otlp_json: Callable[[list[bytes]], dict[str, Any]] = corpus_js.protobuf_to_otlp_json
toml_string: Callable[[str], str] = corpus_js.toml_string

MAX_FILE_BYTES = 150_000
MAX_TOTAL_BYTES = 2_500_000


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
        return "js-c2-" + hashlib.sha1(f"{self.name}:{self.seed}".encode()).hexdigest()[:10]


LOOP, ROT, HANDOFF = "runaway_loop", "context_rot", "failed_handoff"

SCENARIOS: tuple[Scenario, ...] = (
    # ---- runaway_loop ----
    Scenario(
        "loop_alternating_rewordings",
        101,
        "it",
        True,
        (LOOP,),
        "alternating_rewordings_give_up",
        "IT helpdesk ToolLoopAgent alternates two re-wordings of one KB search 8 times, every call returns the same "
        "2021 login article, then gives up and tells the user to open a ticket: runaway loop",
    ),
    Scenario(
        "loop_error_request_id",
        102,
        "ecommerce",
        True,
        (LOOP,),
        "same_error_varying_request_id_until_limit",
        "create_label fails 5 times with the same CarrierAPIError 502 message that differs only by request_id, "
        "with validate_address/get_rates in between; stopWhen isStepCount(10) ends it with no label: runaway loop",
    ),
    Scenario(
        "loop_forced_tool_default_limit",
        103,
        "hr",
        False,
        (LOOP,),
        "forced_tool_choice_default_step_limit",
        "ToolLoopAgent with toolChoice 'required' and no stopWhen calls find_meeting_slots with identical "
        "arguments and identical empty results until the SDK's default 20-step limit, no answer (content off): "
        "runaway loop",
    ),
    Scenario(
        "loop_typecheck_same_error_budget",
        104,
        "code",
        True,
        (LOOP,),
        "code_agent_same_error_token_budget",
        "TypeScript fixer edits a different file each step while run_typecheck (in parallel) returns the identical "
        "TS2345 error every time; an app-defined token-budget stop condition ends the run unfixed: runaway loop",
    ),
    Scenario(
        "handoff_poller_aborted_budget",
        105,
        "data",
        False,
        (LOOP, HANDOFF),
        "subagent_poller_aborted_by_time_budget",
        "backfill_runner sub-agent polls get_backfill_events with an advancing cursor, always running at 37%, "
        "until the delegation tool's 600 s AbortController budget aborts it; the supervisor still reports the "
        "backfill as done (content off): runaway loop and failed handoff",
    ),
    # ---- context_rot ----
    Scenario(
        "rot_prune_drops_policy",
        111,
        "support",
        True,
        (ROT,),
        "prune_messages_drops_policy_tool_result",
        "prepareStep runs the SDK's pruneMessages (tool calls before the last 4 messages), which removes the "
        "get_refund_policy result 'over $200 needs manager approval'; the model then issues a $349 refund "
        "directly: context rot",
    ),
    Scenario(
        "rot_system_swap_drops_instructions",
        112,
        "energy",
        True,
        (ROT,),
        "prepare_step_system_override_drops_instructions",
        "prepareStep switches the answer step to a formatter system prompt; the original instructions (answer in "
        "German, prices incl. 19% VAT) are no longer sent and the reply is English with net prices: context rot",
    ),
    Scenario(
        "rot_fact_memory_drops_allergy",
        113,
        "events",
        True,
        (ROT,),
        "fact_memory_omits_constraint",
        "3 turns; the app's memory is a memory_writer call whose extracted facts replace the history, and it "
        "omits the guest's severe peanut allergy; turn 3 books the peanut-heavy Satay House menu: context rot",
    ),
    Scenario(
        "rot_prompt_too_long_multi_turn",
        114,
        "legal",
        True,
        (ROT,),
        "multi_turn_prompt_too_long",
        "contract Q&A resends the full history each turn; contract excerpts pile up and turn 4's model call is "
        "rejected with 'prompt is too long: 204518 tokens > 200000 maximum' (400, not retried): context rot",
    ),
    Scenario(
        "rot_ttl_memory_reask",
        115,
        "telecom",
        True,
        (ROT,),
        "memory_ttl_eviction_reask",
        "3 turns in one conversation; the app's session memory has a 30 min TTL and the user returns after 41 "
        "min, so history is evicted and the agent asks again for the phone number and current plan: context rot",
    ),
    # ---- failed_handoff ----
    Scenario(
        "handoff_wrong_step_text",
        121,
        "research",
        True,
        (HANDOFF,),
        "subagent_result_read_from_wrong_step",
        "market_sizer answers (TAM EUR 410M) but the delegation tool returns steps[0].text, which is empty; the "
        "memo writer invents 'roughly EUR 2B': failed handoff",
    ),
    Scenario(
        "handoff_invalid_transfer",
        122,
        "support",
        True,
        (HANDOFF,),
        "transfer_rejected_by_schema_never_started",
        "transfer_to_agent is called with agent 'billing', which the tool's enum schema rejects; the SDK returns a "
        "tool error, billing_specialist never starts, and the triage agent says the user was transferred: "
        "failed handoff",
    ),
    Scenario(
        "handoff_subagent_fails_caller_redoes",
        123,
        "data",
        False,
        (HANDOFF,),
        "subagent_tool_error_caller_redoes",
        "data_cleaner's load_csv fails twice with AccessDenied and it reports it could not finish; the "
        "coordinator then loads, deduplicates and writes the file itself (content off): failed handoff",
    ),
    # ---- healthy twins ----
    Scenario(
        "ok_alternating_queries_new_info",
        131,
        "research",
        True,
        (),
        "alternating_rewordings_new_info",
        "6 searches alternating two phrasings (news vs filings), each returning a new document, then a cited "
        "answer: healthy",
    ),
    Scenario(
        "ok_error_request_id_recovers",
        132,
        "ecommerce",
        False,
        (),
        "error_with_request_id_retried_once",
        "create_label fails once with a carrier 502 (request_id), the identical retry succeeds, then two more "
        "labels are created in parallel (content off): healthy",
    ),
    Scenario(
        "ok_deploy_poll_finishes_wide",
        133,
        "devops",
        False,
        (),
        "long_poll_finishes_wide_attributes",
        "deploy watch polls get_deploy_events 9 times with an advancing cursor, each poll a new rollout phase, "
        "until succeeded, then an error-rate check; the app's 140-key context on the agent span exceeds the "
        "128-attribute limit (content off): healthy",
    ),
    Scenario(
        "ok_prune_pins_policy",
        134,
        "support",
        True,
        (),
        "prune_messages_policy_pinned",
        "same pruneMessages compaction as the rot twin, but the app pins the refund policy into the system prompt "
        "via prepareStep; the model requests manager approval for the $349 refund: healthy",
    ),
    Scenario(
        "ok_system_swap_keeps_instructions",
        135,
        "energy",
        True,
        (),
        "planner_and_formatter_prompts_keep_rules",
        "a request_planner call with its own system prompt, then prepareStep swaps to a formatter system prompt "
        "that repeats the rules; the reply is German with VAT-inclusive prices: healthy",
    ),
    Scenario(
        "ok_fact_memory_keeps_allergy",
        136,
        "events",
        False,
        (),
        "fact_memory_keeps_constraint_new_question",
        "4 turns with the same memory_writer memory, which keeps the peanut allergy; search_restaurants once per "
        "turn with new dates; the agent asks for the booking name, which was never given (content off): healthy",
    ),
    Scenario(
        "ok_parallel_subagents",
        137,
        "research",
        True,
        (),
        "parallel_subagents_with_history",
        "the strategy lead calls two sub-agents in one step (parallel tool calls), each gets the lead's history "
        "under its own instructions, and both answers are used: healthy",
    ),
    Scenario(
        "ok_forced_tool_final_answer",
        138,
        "hr",
        False,
        (),
        "forced_tool_choice_final_answer_tool",
        "ToolLoopAgent with toolChoice 'required' and stopWhen hasToolCall('final_answer'): four different tools "
        "then final_answer, the documented forced-tool pattern (content off): healthy",
    ),
    Scenario(
        "ok_typecheck_progress",
        139,
        "code",
        False,
        (),
        "code_agent_errors_decrease",
        "edit + typecheck each step; the error count falls 3 -> 2 -> 1 -> 0 with a different error each time; "
        "typecheck green (content off): healthy",
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
        ["node", "corpus2_agent.mjs", json.dumps(cfg)],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    lines = [line for line in done.stderr.splitlines() if line.startswith("{")]
    return lines[-1] if lines else done.stderr[-400:]


def write_labels(path: Path) -> None:
    lines = ["# Vercel AI SDK corpus, batch 2: one entry per session; labels are what corpus2_js.py scripted.", ""]
    for s in SCENARIOS:
        kinds = ", ".join(toml_string(k) for k in s.kinds)
        lines += [
            "[[session]]",
            f"session_id = {toml_string(s.session_id)}",
            f"kinds = [{kinds}]",
            f"shape = {toml_string(s.shape)}",
            f"why = {toml_string(s.why)}",
            f"file = {toml_string(f'out/js_b2_{s.name}.json')}",
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
    made_link = not link.exists()
    if made_link:
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
            path = out / f"js_b2_{name}.json"
            path.write_text(json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n")
            spans = sum(len(ss.get("spans", [])) for rs in document["resourceSpans"] for ss in rs["scopeSpans"])
            size = path.stat().st_size
            flag = "" if size < MAX_FILE_BYTES else "  TOO LARGE"
            print(f"{path.name}: {spans} spans, {size} bytes{flag}; run: {summary}", flush=True)
    finally:
        server.shutdown()
        if made_link:
            link.unlink()
    total = sum(p.stat().st_size for p in out.glob("js_b2_*.json"))
    print(f"total {total} bytes{'' if total < MAX_TOTAL_BYTES else '  TOO LARGE'}")
    write_labels(HERE / "labels_js.toml")


if __name__ == "__main__":
    main()
