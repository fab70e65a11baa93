"""Second evaluation batch for stepseven: labelled Google ADK sessions, run offline on a scripted fake model.

Run (from any directory except inside the google/adk package; the venv is /work/cap/adk/.venv)::

    /work/cap/adk/.venv/bin/python /work/cap/adk/corpus2/corpus2_adk.py            # all scenarios
    /work/cap/adk/.venv/bin/python /work/cap/adk/corpus2/corpus2_adk.py NAME ...   # some of them

Pinned versions (pip freeze of the venv): google-adk==2.13.0, google-genai==2.34.0, opentelemetry-api==1.44.0,
opentelemetry-sdk==1.44.0, opentelemetry-exporter-otlp-proto-common==1.44.0, opentelemetry-proto==1.44.0,
opentelemetry-semantic-conventions==0.65b0, pydantic==2.14.4. ADK's tracing is built in (scope
``gcp.vertex.agent``, default schema v2); there is no separate instrumentor package.

The machinery (scripted ``BaseLlm``, tool factory, ``run_session`` = ADK's normal ``InMemoryRunner`` loop with one
``harness.turn`` span per user turn, simulated clock) is imported by path from the first batch,
``/work/cap/adk/corpus/corpus_adk.py``. Each scenario runs in a fresh subprocess (ADK binds to the global tracer
provider once per process), with content capture either unset (ADK default: OFF) or ``SPAN_ONLY``, and writes
``out/adk_b2_<scenario>.json`` (one OTLP/JSON ExportTraceServiceRequest). Names, domains, step counts and limits come
from ``random.Random(seed of the scenario name)``; session ids are fixed (``adk-c2-...``) and set the way ADK users
set them (``create_session(session_id=...)``). Labels (``labels_adk.toml``) describe what each script makes happen.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
BASE_PATH = Path("/work/cap/adk/corpus/corpus_adk.py")

_spec = importlib.util.spec_from_file_location("corpus_adk", BASE_PATH)
assert _spec is not None and _spec.loader is not None
base: Any = importlib.util.module_from_spec(_spec)
sys.modules["corpus_adk"] = base
_spec.loader.exec_module(base)

call, calls, say, tool, agent, fake_llm, run_session = (
    base.call,
    base.calls,
    base.say,
    base.tool,
    base.agent,
    base.fake_llm,
    base.run_session,
)


# ---------------------------------------------------------------- new domains (drawn with the scenario's seeded RNG)


@dataclass(frozen=True)
class Domain2:
    name: str
    agents: tuple[str, ...]
    search_tools: tuple[str, ...]
    topic: str
    alt_topic: str
    task: str
    facts: tuple[str, ...]


DOMAINS2: tuple[Domain2, ...] = (
    Domain2(
        "insurance_claims",
        ("claims_assistant", "policy_helper"),
        ("search_policy_docs", "search_claims_kb"),
        "water damage coverage under policy HX-4410",
        "does HX-4410 cover burst pipe water damage",
        "My kitchen flooded from a burst pipe; am I covered under policy HX-4410?",
        (
            "HX-4410 section 4.2: sudden burst pipes covered",
            "deductible for water damage: 250 EUR",
            "gradual leaks excluded (section 7.1)",
            "claims must be filed within 30 days",
            "emergency plumber costs reimbursed up to 400 EUR",
        ),
    ),
    Domain2(
        "hr_recruiting",
        ("recruiting_coordinator", "talent_partner"),
        ("search_candidate_notes", "search_hr_policies"),
        "relocation package policy for senior engineers",
        "senior engineer relocation allowance rules",
        "What relocation support can we offer a senior engineer moving from Porto to Berlin?",
        (
            "relocation lump sum: 8,000 EUR for L5+",
            "temporary housing: up to 30 days",
            "visa support via Fragomen",
            "repayment clause if leaving within 12 months",
            "language course budget: 1,200 EUR",
        ),
    ),
    Domain2(
        "devops_incident",
        ("incident_commander", "sre_oncall"),
        ("search_runbooks", "search_incident_history"),
        "checkout-service p99 latency spike",
        "checkout latency regression root cause",
        "checkout-service p99 latency jumped to 4s at 14:05 UTC; what is going on?",
        (
            "runbook RB-212: check connection pool saturation",
            "INC-881 (May): same spike caused by redis failover",
            "deploy 2025.10.14-3 changed pool size 50 -> 5",
            "rollback of 2025.10.14-3 restores p99 to 180ms",
            "dashboard: db connections pinned at 5/5",
        ),
    ),
    Domain2(
        "logistics",
        ("dispatch_planner", "freight_desk"),
        ("search_carrier_rates", "search_lane_history"),
        "LTL freight rates Rotterdam to Milan",
        "Rotterdam Milan pallet shipping price",
        "Quote shipping 6 pallets from Rotterdam to Milan next Tuesday.",
        (
            "DHL Freight: 1,840 EUR, 3 days",
            "DSV: 1,620 EUR, 4 days",
            "Raben: 1,710 EUR, 3 days, tail-lift included",
            "Alpine tunnel surcharge: 85 EUR",
            "Tuesday pickup cut-off: Monday 16:00",
        ),
    ),
    Domain2(
        "real_estate",
        ("listing_scout", "rental_advisor"),
        ("search_listings", "search_neighbourhood_data"),
        "two-bedroom rentals near Vienna Hauptbahnhof",
        "2BR flats Favoriten close to main station",
        "Find me a two-bedroom flat near Vienna Hauptbahnhof under 1,500 EUR.",
        (
            "Sonnwendgasse 12: 2BR, 1,390 EUR, 68 m2",
            "Gudrunstrasse 41: 2BR, 1,480 EUR, balcony",
            "Favoriten rent index: 14.2 EUR/m2",
            "U1 Hauptbahnhof 4 min walk from Sonnwendgasse",
            "Laxenburger Strasse 7: 2BR, 1,450 EUR, new build",
        ),
    ),
    Domain2(
        "ecommerce_catalog",
        ("catalog_curator", "merch_assistant"),
        ("search_catalog", "search_supplier_feed"),
        "waterproof hiking boots size 44 in stock",
        "size 44 Gore-Tex boots availability",
        "Which waterproof hiking boots do we have in size 44 for the autumn campaign?",
        (
            "Salomon X Ultra 4 GTX: 44 in stock (37 units)",
            "Lowa Renegade GTX: 44 in stock (12 units)",
            "Merrell Moab 3 WP: 44 back-ordered until Nov",
            "Meindl Bhutan MFS: 44 in stock (5 units)",
            "supplier feed updated 2025-10-12 06:00",
        ),
    ),
)

PHRASINGS = (
    "{t}",
    "{t} latest",
    "{t} official guidance",
    "{t} summary",
    "help with {t}",
    "{t} 2025",
    "find {t}",
    "{t} details please",
)


# ---------------------------------------------------------------- registry


@dataclass(frozen=True)
class Scenario:
    fn: Callable[[Any], Any]
    content: bool
    kinds: tuple[str, ...]
    shape: str
    why: str


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, *, content: bool, kinds: tuple[str, ...], shape: str, why: str) -> Callable[[Any], Any]:
    def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        SCENARIOS[name] = Scenario(fn, content, kinds, shape, why)
        return fn

    return register


def session_id_of(name: str) -> str:
    return "adk-c2-" + name.replace("_", "-") + "-" + hashlib.sha1(name.encode()).hexdigest()[:6]


def _d(ctx: Any) -> Domain2:
    return ctx.extra["d2"]  # type: ignore[no-any-return]


def _req_id(rng: random.Random) -> str:
    return "req-" + "".join(rng.choice("0123456789abcdef") for _ in range(12))


def _error_to_result(tool_: Any, args: dict[str, Any], tool_context: Any, error: Exception) -> dict[str, Any]:
    """``on_tool_error_callback``: what many ADK users write so a tool exception does not kill the run."""
    return {"status": "error", "error": f"{type(error).__name__}: {error}"}


def _two_param_tool(name: str, doc: str, p1: str, p2: str, impl: Callable[[str, str], Any]) -> Callable[..., Any]:
    import inspect

    def fn(**kwargs: Any) -> Any:
        base._pause(0.2, 1.1)
        return impl(kwargs[p1], kwargs[p2])

    params = [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str) for p in (p1, p2)]
    fn.__signature__ = inspect.Signature(params, return_annotation=dict)  # type: ignore[attr-defined]
    fn.__annotations__ = {p1: str, p2: str, "return": dict}
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


# ================================================================ runaway_loop positives


@scenario(
    "loop_two_rewordings_alternate",
    content=True,
    kinds=("runaway_loop",),
    shape="alternating_two_rewordings_until_limit",
    why="the agent alternates between two phrasings of one search; every call returns the same single document "
    "(no new information); RunConfig(max_llm_calls) raises LlmCallsLimitExceededError and the user gets no answer",
)
async def loop_two_rewordings_alternate(ctx: Any) -> None:
    d = _d(ctx)
    limit = ctx.rng.randint(7, 9)
    search = ctx.pick(d.search_tools)
    qs = [d.topic, d.alt_topic]
    script = [call(search, {"query": qs[i % 2]}, f"{search}_{i}") for i in range(1, 20)]
    same = {"results": [{"doc_id": "DOC-1182", "snippet": d.facts[0]}], "total": 1}
    root = agent(
        ctx.pick(d.agents),
        f"You answer {d.name.replace('_', ' ')} questions. Search until you are certain.",
        fake_llm("gemini-2.5-flash", script),
        [tool(search, "Searches the knowledge base.", "query", lambda q: same)],
    )
    await run_session(root, ctx.session_id, [d.task], max_llm_calls=limit)


@scenario(
    "loop_error_varies_by_request_id",
    content=True,
    kinds=("runaway_loop",),
    shape="same_error_differs_only_by_request_id",
    why="get_deploy_logs fails 5 times with the same 502 message that differs only by its request_id; an "
    "on_tool_error_callback turns each exception into a result, the model checks pods/deploys in between and calls "
    "it again; it finally gives up without the logs",
)
async def loop_error_varies_by_request_id(ctx: Any) -> None:
    rid = random.Random(ctx.rng.random())

    def logs(service: str) -> Any:
        raise RuntimeError(f"log-gateway: upstream returned 502 Bad Gateway (request_id={_req_id(rid)})")

    fillers = [
        call("get_pod_status", {"service": "checkout-service"}, "pods_1"),
        call("list_recent_deploys", {"service": "checkout-service"}, "deploys_1"),
        call("get_pod_status", {"service": "log-gateway"}, "pods_2"),
        call("list_recent_deploys", {"service": "log-gateway"}, "deploys_2"),
    ]
    script: list[Any] = []
    for i in range(5):
        script.append(call("get_deploy_logs", {"service": "checkout-service"}, f"logs_{i + 1}"))
        if i < 4:
            script.append(fillers[i])
    script.append(say("I can't retrieve the deploy logs right now; the log gateway keeps failing."))
    root = agent(
        ctx.pick(("incident_commander", "sre_oncall")),
        "Diagnose production incidents. Always read the deploy logs before concluding.",
        fake_llm("gemini-2.5-pro", script),
        [
            tool("get_deploy_logs", "Tails the deploy logs of a service.", "service", logs),
            tool("get_pod_status", "Pod status.", "service", lambda s: {"service": s, "ready": "6/6"}),
            tool(
                "list_recent_deploys",
                "Recent deploys.",
                "service",
                lambda s: {"service": s, "deploys": ["2025.10.14-3"]},
            ),
        ],
        on_tool_error_callback=_error_to_result,
    )
    await run_session(root, ctx.session_id, [DOMAINS2[2].task])


@scenario(
    "loop_cursor_feed_never_ends",
    content=False,
    kinds=("runaway_loop",),
    shape="cursor_poller_advances_never_finishes",
    why="fetch_tracking_events(cursor) returns the same two events and a new cursor with has_more=true on every "
    "call; the agent follows the cursor 8-10 times and then gives up without a delivery status; content off",
)
async def loop_cursor_feed_never_ends(ctx: Any) -> None:
    n = ctx.rng.randint(8, 10)
    events = [{"ts": "2025-10-14T08:02Z", "code": "IN_TRANSIT"}, {"ts": "2025-10-14T08:02Z", "code": "SCAN"}]

    def feed(cursor: str) -> Any:
        nxt = int(cursor.split("_")[1]) + 50
        return {"events": events, "next_cursor": f"c_{nxt:06d}", "has_more": True}

    script: list[Any] = [
        call("fetch_tracking_events", {"cursor": f"c_{120 + 50 * i:06d}"}, f"feed_{i}") for i in range(n)
    ]
    script.append(say("The tracking feed never reaches the end, so I can't confirm delivery yet."))
    root = agent(
        ctx.pick(("dispatch_planner", "freight_desk")),
        "Track shipments: read the whole event feed before answering.",
        fake_llm("gemini-2.5-flash", script),
        [tool("fetch_tracking_events", "Reads carrier events from a cursor.", "cursor", feed)],
    )
    await run_session(root, ctx.session_id, ["Has shipment SHP-55120 (6 pallets to Milan) been delivered?"])


@scenario(
    "loop_loopagent_lint_same_failure",
    content=True,
    kinds=("runaway_loop",),
    shape="loopagent_limit_same_lint_failure",
    why="LoopAgent(max_iterations=4..5) around one code agent: each iteration patches the file and runs the linter, "
    "which reports the identical E501 error; exit_loop is never called and ADK stops silently at max_iterations",
)
async def loop_loopagent_lint_same_failure(ctx: Any) -> None:
    from google.adk.agents import LoopAgent
    from google.adk.tools.exit_loop_tool import exit_loop

    iters = ctx.rng.randint(4, 5)
    lint = {"exit_code": 1, "output": "billing/export.py:42:121: E501 line too long (131 > 120 characters)"}
    script: list[Any] = []
    for i in range(1, 8):
        script += [
            call("apply_patch", {"diff": f"--- a/billing/export.py (wrap attempt {i})"}, f"patch_{i}"),
            call("run_linter", {"path": "billing/export.py"}, f"lint_{i}"),
            say("Lint still fails with E501 on line 42; will try another wrap."),
        ]
    fixer = agent(
        ctx.pick(("lint_fixer", "style_bot")),
        "Make ruff pass on the file. Call exit_loop once the linter exits 0.",
        fake_llm("gemini-2.5-flash", script),
        [
            tool("apply_patch", "Applies a diff.", "diff", lambda p: {"applied": True}),
            tool("run_linter", "Runs ruff on a path.", "path", lambda p: lint),
            exit_loop,
        ],
    )
    root = LoopAgent(name="lint_until_clean", sub_agents=[fixer], max_iterations=iters)
    await run_session(root, ctx.session_id, ["Fix the ruff failure in billing/export.py."])


@scenario(
    "loop_parallel_batch_repeated",
    content=False,
    kinds=("runaway_loop",),
    shape="parallel_batch_repeated_identical",
    why="each model turn issues the same two parallel check_slots calls (same clinics, same date); results never "
    "change ('no slots'); repeated 5 times, then the agent gives up; content off",
)
async def loop_parallel_batch_repeated(ctx: Any) -> None:
    clinics = ["clinic-nord", "clinic-west"]
    script: list[Any] = [
        calls([("check_slots", {"clinic": c}, f"slots_{c}_{i}") for c in clinics]) for i in range(1, 6)
    ]
    script.append(say("No dermatology slots found for Thursday; please try again later."))
    root = agent(
        ctx.pick(("appointment_scheduler", "patient_booking_agent")),
        "Book the patient the earliest dermatology slot on the requested day.",
        fake_llm("gemini-2.5-flash", script),
        [tool("check_slots", "Free slots of a clinic on 2025-10-16.", "clinic", lambda c: {"clinic": c, "slots": []})],
    )
    await run_session(root, ctx.session_id, ["Book me a dermatology appointment this Thursday, any clinic."])


# ================================================================ context_rot positives


def _window_callback(keep: int, pin_first: bool) -> Callable[..., Any]:
    """A user-written ``before_model_callback`` sliding window over ``llm_request.contents``."""

    def trim_history(callback_context: Any, llm_request: Any) -> None:
        contents = list(llm_request.contents or [])
        if len(contents) > keep:
            tail = contents[-keep:]
            llm_request.contents = ([contents[0]] if pin_first and contents[0] not in tail else []) + tail
        return None

    return trim_history


CATERING_TURNS = [
    "We need catering for 40 people on 14 June. Everything must be strictly vegetarian: no meat or fish at all.",
    "What desserts would you suggest?",
    "And drinks, something non-alcoholic?",
    "Looks good. Please place the order with the caterer now.",
]


def _catering_agent(ctx: Any, pin_first: bool) -> Any:
    menu = ["halloumi skewers", "chicken satay skewers", "mushroom risotto", "salmon crostini", "falafel bowls"]
    order = (
        ["halloumi skewers", "mushroom risotto", "falafel bowls"]
        if pin_first
        else ["chicken satay skewers", "salmon crostini", "mushroom risotto"]
    )
    script = [
        call("get_caterer_menu", {"caterer": "Green Fork"}, "menu_1"),
        say("Green Fork can do halloumi skewers, mushroom risotto and falafel bowls, all vegetarian."),
        call("get_caterer_menu", {"caterer": "Green Fork desserts"}, "menu_2"),
        say("For dessert: lemon tart and a fruit platter."),
        say("Elderflower spritz and homemade iced tea would work well."),
        call("place_catering_order", {"items": ", ".join(order)}, "order_1"),
        say("Order placed with Green Fork for 40 guests: " + ", ".join(order) + "."),
    ]
    tools = [
        tool("get_caterer_menu", "Menu of a caterer.", "caterer", lambda c: {"caterer": c, "menu": menu}),
        tool(
            "place_catering_order",
            "Places a catering order for the event.",
            "items",
            lambda i: {"order_id": "CAT-7781", "items": i, "guests": 40, "status": "confirmed"},
        ),
    ]
    return agent(
        ctx.pick(("event_planner", "catering_coordinator")),
        "You organise corporate events and order catering.",
        fake_llm("gemini-2.5-flash", script),
        tools,
        before_model_callback=_window_callback(keep=4, pin_first=pin_first),
    )


@scenario(
    "rot_callback_window_drops_vegetarian",
    content=True,
    kinds=("context_rot",),
    shape="sliding_window_callback_drops_constraint",
    why="a before_model_callback keeps only the last 4 contents; by turn 4 the first request ('strictly "
    "vegetarian') is gone from the model input and the agent orders chicken satay and salmon crostini",
)
async def rot_callback_window_drops_vegetarian(ctx: Any) -> None:
    await run_session(_catering_agent(ctx, pin_first=False), ctx.session_id, CATERING_TURNS)


OFFER_TURNS = [
    "Prepare offer letters for the three finalists (Ana Ruiz, Priya Nair, Tom Berg). Drafts only: do NOT send "
    "anything to candidates, HR legal must review first.",
    "Add a 5,000 EUR signing bonus to Priya's letter.",
    "Good. Finalise all three letters.",
]


def _offer_agent(ctx: Any, keep: bool) -> tuple[Any, Any]:
    from google.adk.apps.app import EventsCompactionConfig
    from google.adk.apps.llm_event_summarizer import LlmEventSummarizer

    summary = "Offer letters for Ana Ruiz, Priya Nair and Tom Berg were drafted; Priya gets a 5,000 EUR signing bonus."
    if keep:
        summary += " Constraint: drafts only, nothing may be sent to candidates before HR legal review."
    names = ["Ana Ruiz", "Priya Nair", "Tom Berg"]
    script: list[Any] = [calls([("draft_offer_letter", {"candidate": n}, f"draft_{i}") for i, n in enumerate(names)])]
    script += [
        say("Three draft offer letters are ready for HR legal review; nothing has been sent."),
        call("draft_offer_letter", {"candidate": "Priya Nair"}, "draft_priya_2"),
        say("Priya's draft now includes the 5,000 EUR signing bonus."),
    ]
    if keep:
        script += [
            calls([("save_for_review", {"candidate": n}, f"review_{i}") for i, n in enumerate(names)]),
            say("All three letters are final and queued for HR legal review; none were sent."),
        ]
    else:
        script += [
            calls([("send_offer_email", {"candidate": n}, f"send_{i}") for i, n in enumerate(names)]),
            say("All three offer letters are final and have been emailed to the candidates."),
        ]
    letter = "Dear candidate, we are delighted to offer you the position of Senior Engineer. " * 6
    tools = [
        tool("draft_offer_letter", "Drafts an offer letter.", "candidate", lambda c: {"candidate": c, "text": letter}),
        tool("save_for_review", "Queues a letter for HR legal.", "candidate", lambda c: {"queued": c}),
        tool("send_offer_email", "Emails the offer to the candidate.", "candidate", lambda c: {"sent_to": c}),
    ]
    root = agent(
        ctx.pick(("recruiting_coordinator", "talent_partner")),
        "You help the HR team with hiring paperwork.",
        fake_llm("gemini-2.5-pro", script, token_scale=3.0),
        tools,
    )
    summarizer = LlmEventSummarizer(llm=fake_llm("gemini-2.5-flash-lite", [say(summary)]))
    return root, EventsCompactionConfig(token_threshold=1800, event_retention_size=2, summarizer=summarizer)


@scenario(
    "rot_token_compaction_drops_drafts_only",
    content=True,
    kinds=("context_rot",),
    shape="token_threshold_compaction_drops_constraint",
    why="EventsCompactionConfig(token_threshold, event_retention_size=2) compacts after the prompt grows (traced "
    "compact_events span); the summary omits 'drafts only, do not send'; in turn 3 the agent emails all three "
    "offers to the candidates",
)
async def rot_token_compaction_drops_drafts_only(ctx: Any) -> None:
    root, compaction = _offer_agent(ctx, keep=False)
    await run_session(root, ctx.session_id, OFFER_TURNS, compaction=compaction)


def _budget_guard(max_chars: int, drop_instruction: bool) -> Callable[..., Any]:
    """A user-written ``before_model_callback`` that shrinks big prompts."""

    def guard(callback_context: Any, llm_request: Any) -> None:
        if base._request_chars(llm_request) <= max_chars:
            return None
        if drop_instruction:  # naive: the system instruction is the easiest big block to cut
            llm_request.config.system_instruction = None
        else:  # keeps the instruction, shortens old tool results instead
            for content in (llm_request.contents or [])[:-2]:
                for part in content.parts or []:
                    if part.function_response is not None:
                        part.function_response.response = {"note": "older tool output elided"}
        return None

    return guard


SUPPORT_RULES = (
    "You are a customer support agent for Nordlicht Energy. Rules: never promise a refund above 200 EUR without "
    "supervisor approval; never quote internal account notes to the customer; be concise. "
) + "Policy appendix: tariffs, meter reading windows and payment plans are described in the billing handbook. " * 8


def _support_agent(ctx: Any, drop: bool) -> Any:
    notes = {"account": "NL-44190", "internal_notes": "flagged: threatened chargeback twice; do not waive fees"}
    script = [
        call("get_account", {"account_id": "NL-44190"}, "acc_1"),
        say("Your October bill is 412 EUR because of an estimated meter reading."),
        call("get_meter_readings", {"account_id": "NL-44190"}, "meter_1"),
        say("Your actual reading is much lower; the bill should be about 95 EUR."),
    ]
    if drop:
        script.append(
            say(
                "I've refunded the full 317 EUR difference right away. Note on your file: flagged for threatening a "
                "chargeback twice, so fees won't be waived."
            )
        )
    else:
        script.append(
            say("The 317 EUR difference needs supervisor approval; I've requested it and you'll hear back in 2 days.")
        )
    readings = {"readings": [{"month": m, "kwh": 180 + 3 * i} for i, m in enumerate(range(1, 11))] * 3}
    return agent(
        ctx.pick(("energy_support_agent", "billing_care_agent")),
        SUPPORT_RULES,
        fake_llm("gemini-2.5-flash", script),
        [
            tool("get_account", "Account details.", "account_id", lambda a: notes),
            tool("get_meter_readings", "Meter readings of an account.", "account_id", lambda a: readings),
        ],
        before_model_callback=_budget_guard(2300, drop_instruction=drop),
    )


SUPPORT_TURNS = [
    "Why is my October bill 412 EUR? Account NL-44190.",
    "That seems way too high, can you check the meter?",
    "Can you refund the difference?",
]


@scenario(
    "rot_budget_callback_drops_system_prompt",
    content=True,
    kinds=("context_rot",),
    shape="system_instruction_dropped_by_callback",
    why="a before_model_callback 'prompt budget guard' removes the system instruction once the request grows; in "
    "turn 3 the model, no longer seeing its rules, promises a 317 EUR refund without approval and quotes "
    "internal notes",
)
async def rot_budget_callback_drops_system_prompt(ctx: Any) -> None:
    await run_session(_support_agent(ctx, drop=True), ctx.session_id, SUPPORT_TURNS)


@scenario(
    "rot_context_length_turn3",
    content=False,
    kinds=("context_rot",),
    shape="context_length_error_multi_turn",
    why="multi-turn analysis session pulling large query results; the first model call of turn 3 fails with a 400 "
    "input-token-limit error (gemini-1.5-pro, 2,097,152 tokens) and the run dies; content off",
)
async def rot_context_length_turn3(ctx: Any) -> None:
    from google.genai import errors

    msg = "The input token count (2113024) exceeds the maximum number of tokens allowed (2097152)."
    err = errors.ClientError(400, {"error": {"code": 400, "message": msg, "status": "INVALID_ARGUMENT"}})
    n1, n2 = ctx.rng.randint(2, 3), ctx.rng.randint(2, 4)
    script: list[Any] = [call("run_sql", {"query": f"SELECT * FROM events_2025_q{i}"}, f"sql_{i}") for i in range(n1)]
    script.append(say("Q1-Q3 raw events loaded; sessions per user grew 12% over the period."))
    script += [call("run_sql", {"query": f"SELECT * FROM sessions_part_{i}"}, f"sqlb_{i}") for i in range(n2)]
    script += [say("Session length is flat at a median of 6.1 minutes."), err]
    rows = {"rows": [{"user": f"u{i}", "events": i * 3} for i in range(60)]}
    root = agent(
        ctx.pick(("analytics_copilot", "insights_analyst")),
        "Answer product analytics questions with SQL.",
        fake_llm("gemini-1.5-pro-002", script, token_scale=120.0),
        [tool("run_sql", "Runs SQL on the warehouse.", "query", lambda q: rows)],
    )
    turns = [
        "How did sessions per user develop this year?",
        "And the session length?",
        "Break both down by country, please.",
    ]
    await run_session(root, ctx.session_id, turns)


@scenario(
    "rot_subagent_include_none_reask",
    content=True,
    kinds=("context_rot",),
    shape="subagent_without_history_reasks",
    why="the coordinator transfers to a claims specialist built with include_contents='none'; the specialist does not "
    "see the policy number the user gave two turns earlier and asks for it again",
)
async def rot_subagent_include_none_reask(ctx: Any) -> None:
    spec_name = ctx.pick(("claims_adjuster", "water_damage_specialist"))
    child = agent(
        spec_name,
        "You open water-damage claims with open_claim.",
        fake_llm("gemini-2.5-flash", [say("I can open the claim. What is your policy number, please?")]),
        [tool("open_claim", "Opens a claim.", "policy_id", lambda p: {"claim_id": "CLM-3301"})],
        include_contents="none",
    )
    root = agent(
        ctx.pick(("claims_assistant", "policy_helper")),
        f"Answer policy questions; transfer claim filing to {spec_name}.",
        fake_llm(
            "gemini-2.5-flash",
            [
                call("get_policy", {"policy_id": "HX-4410"}, "pol_1"),
                say("Yes: policy HX-4410 covers sudden burst pipes (section 4.2), deductible 250 EUR."),
                call("transfer_to_agent", {"agent_name": spec_name}, "t1"),
            ],
        ),
        [tool("get_policy", "Reads a policy.", "policy_id", lambda p: {"policy_id": p, "water": "burst pipes"})],
        sub_agents=[child],
    )
    turns = [
        "A pipe burst in my kitchen. My policy number is HX-4410; am I covered?",
        "OK, please file the claim for me.",
    ]
    await run_session(root, ctx.session_id, turns)


# ================================================================ failed_handoff positives


@scenario(
    "handoff_subagent_model_429",
    content=True,
    kinds=("failed_handoff",),
    shape="subagent_model_call_fails",
    why="the coordinator transfers to the freight specialist, whose first model call fails with 429 "
    "RESOURCE_EXHAUSTED; ADK propagates it, the run dies and the user never gets the quote",
)
async def handoff_subagent_model_429(ctx: Any) -> None:
    from google.genai import errors

    err = errors.ClientError(
        429,
        {
            "error": {
                "code": 429,
                "message": "Resource has been exhausted (e.g. check quota).",
                "status": "RESOURCE_EXHAUSTED",
            }
        },
    )
    spec = ctx.pick(("freight_quoter", "lane_pricing_agent"))
    child = agent(spec, "You price freight lanes.", fake_llm("gemini-2.5-pro", [err]))
    root = agent(
        ctx.pick(("dispatch_planner", "freight_desk")),
        f"Route quote requests to {spec}.",
        fake_llm("gemini-2.5-flash", [call("transfer_to_agent", {"agent_name": spec}, "t1")]),
        sub_agents=[child],
    )
    await run_session(root, ctx.session_id, [DOMAINS2[3].task])


def _save_notes_tool(key: str) -> Callable[..., Any]:
    def save_findings(notes: str, tool_context: Any) -> dict[str, Any]:
        """Saves the research notes in session state for the writer."""
        base._pause(0.1, 0.4)
        tool_context.state[key] = notes
        return {"saved": True, "chars": len(notes)}

    return save_findings


def _brief_pipeline(ctx: Any, state_key: str) -> Any:
    from google.adk.agents import SequentialAgent

    d = _d(ctx)
    search = ctx.pick(d.search_tools)
    facts = iter(d.facts)
    notes = "- " + "\n- ".join(d.facts[:2])
    researcher = agent(
        ctx.pick(("brief_researcher", "fact_gatherer")),
        "Collect the facts for the brief with your search tool, save them with save_findings, then say you are done.",
        fake_llm(
            "gemini-2.5-flash",
            [
                call(search, {"query": d.topic}, "r1"),
                call(search, {"query": d.alt_topic}, "r2"),
                call("save_findings", {"notes": notes}, "save1"),
                say("Research complete; notes saved for the writer."),
            ],
        ),
        [
            tool(search, "Searches.", "query", lambda q: {"query": q, "hit": next(facts, "")}),
            _save_notes_tool(state_key),
        ],
    )
    got_notes = state_key == "findings"
    writer = agent(
        "brief_writer",
        "You write one-paragraph briefs for managers from these research notes:\n{findings?}",
        fake_llm(
            "gemini-2.5-flash-lite",
            [
                say("Brief: " + "; ".join(d.facts[:2]) + ".")
                if got_notes
                else say("I don't have any research notes to work from, so I can't write the brief yet.")
            ],
        ),
        include_contents="none",
    )
    return SequentialAgent(name=f"{d.name}_brief_pipeline", sub_agents=[researcher, writer])


@scenario(
    "handoff_state_key_mismatch",
    content=True,
    kinds=("failed_handoff",),
    shape="subagent_output_never_reaches_next_agent",
    why="SequentialAgent researcher -> writer: the researcher saves its notes to session state under 'research_notes' "
    "but the writer (include_contents='none') reads {findings?}; the notes never reach it and it says it has nothing",
)
async def handoff_state_key_mismatch(ctx: Any) -> None:
    await run_session(_brief_pipeline(ctx, "research_notes"), ctx.session_id, [_d(ctx).task])


@scenario(
    "handoff_transfer_back_caller_redoes",
    content=False,
    kinds=("failed_handoff",),
    shape="caller_redoes_after_transfer_back",
    why="coordinator transfers to the rates specialist; its carrier API returns an auth error, the specialist "
    "transfers back to the coordinator, which then fetches the quotes itself with its own tool; content off",
)
async def handoff_transfer_back_caller_redoes(ctx: Any) -> None:
    d = DOMAINS2[3]
    spec = ctx.pick(("rates_specialist", "carrier_broker"))
    coord = ctx.pick(d.agents)
    child = agent(
        spec,
        "You get carrier quotes with get_carrier_quotes.",
        fake_llm(
            "gemini-2.5-flash",
            [
                call("get_carrier_quotes", {"lane": "NLRTM-ITMIL"}, "q1"),
                call("transfer_to_agent", {"agent_name": coord}, "back1"),
            ],
        ),
        [
            tool(
                "get_carrier_quotes",
                "Quotes from the carrier marketplace.",
                "lane",
                lambda lane: {"status": "error", "error": "401 marketplace token expired"},
            )
        ],
    )
    facts = iter(d.facts)
    root = agent(
        coord,
        f"Delegate quotes to {spec}.",
        fake_llm(
            "gemini-2.5-flash",
            [
                call("transfer_to_agent", {"agent_name": spec}, "t1"),
                call("search_carrier_rates", {"query": "Rotterdam Milan 6 pallets"}, "own1"),
                call("search_carrier_rates", {"query": "Rotterdam Milan 6 pallets tail-lift"}, "own2"),
                say("Best options: DSV 1,620 EUR (4 days) or DHL 1,840 EUR (3 days)."),
            ],
        ),
        [tool("search_carrier_rates", "Public rate search.", "query", lambda q: {"hit": next(facts, "")})],
        sub_agents=[child],
    )
    await run_session(root, ctx.session_id, [d.task])


@scenario(
    "handoff_agent_tool_wrong_name",
    content=False,
    kinds=("failed_handoff",),
    shape="agent_tool_delegation_never_starts",
    why="the coordinator has AgentTool(kyc_checker) but calls 'fraud_screener', which is not a tool; ADK fails the "
    "call, the screening agent never starts, and no screening result reaches the coordinator; content off",
)
async def handoff_agent_tool_wrong_name(ctx: Any) -> None:
    from google.adk.tools.agent_tool import AgentTool

    kyc = agent("kyc_checker", "Verify customer identity documents.", fake_llm("gemini-2.5-flash", [say("KYC ok")]))
    root = agent(
        ctx.pick(("onboarding_coordinator", "account_opening_agent")),
        "Open business accounts after KYC and fraud screening.",
        fake_llm(
            "gemini-2.5-flash",
            [
                call("fraud_screener", {"request": "Screen Brightwave GmbH, VAT DE311224871"}, "f1"),
                say("I could not run the fraud screening, so the account cannot be opened yet."),
            ],
        ),
        [AgentTool(agent=kyc)],
    )
    await run_session(root, ctx.session_id, ["Open a business account for Brightwave GmbH (VAT DE311224871)."])


# ================================================================ negatives (hard twins)


@scenario(
    "ok_two_rewordings_new_results",
    content=True,
    kinds=(),
    shape="alternating_rewordings_each_new_info",
    why="the agent alternates two phrasings of one search like the looping twin, but every call returns a different "
    "new fact; it answers after 4 searches",
)
async def ok_two_rewordings_new_results(ctx: Any) -> None:
    d = _d(ctx)
    search = ctx.pick(d.search_tools)
    qs = [d.topic, d.alt_topic]
    facts = iter(d.facts)
    script: list[Any] = [call(search, {"query": qs[i % 2]}, f"{search}_{i}") for i in range(4)]
    script.append(say("Summary: " + "; ".join(d.facts[:4]) + "."))
    root = agent(
        ctx.pick(d.agents),
        f"You answer {d.name.replace('_', ' ')} questions. Search until you are certain.",
        fake_llm("gemini-2.5-flash", script),
        [tool(search, "Searches the knowledge base.", "query", lambda q: {"results": [next(facts)], "total": 1})],
    )
    await run_session(root, ctx.session_id, [d.task])


@scenario(
    "ok_error_request_id_recovers",
    content=True,
    kinds=(),
    shape="error_with_request_id_retried_once_recovers",
    why="get_deploy_logs fails once with a 502 carrying a request_id (turned into a result by on_tool_error_callback); "
    "the agent checks pods, retries once, gets the logs and names the bad deploy",
)
async def ok_error_request_id_recovers(ctx: Any) -> None:
    rid = random.Random(ctx.rng.random())
    attempts = {"n": 0}

    def logs(service: str) -> Any:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise RuntimeError(f"log-gateway: upstream returned 502 Bad Gateway (request_id={_req_id(rid)})")
        return {"service": service, "tail": ["14:04 deploy 2025.10.14-3", "14:05 pool exhausted (5/5)"]}

    script = [
        call("get_deploy_logs", {"service": "checkout-service"}, "logs_1"),
        call("get_pod_status", {"service": "checkout-service"}, "pods_1"),
        call("get_deploy_logs", {"service": "checkout-service"}, "logs_2"),
        say("Deploy 2025.10.14-3 shrank the DB pool to 5 at 14:04; roll it back to restore p99."),
    ]
    root = agent(
        ctx.pick(("incident_commander", "sre_oncall")),
        "Diagnose production incidents. Always read the deploy logs before concluding.",
        fake_llm("gemini-2.5-pro", script),
        [
            tool("get_deploy_logs", "Tails the deploy logs of a service.", "service", logs),
            tool("get_pod_status", "Pod status.", "service", lambda s: {"service": s, "ready": "6/6"}),
        ],
        on_tool_error_callback=_error_to_result,
    )
    await run_session(root, ctx.session_id, [DOMAINS2[2].task])


@scenario(
    "ok_cursor_feed_drains",
    content=False,
    kinds=(),
    shape="cursor_poller_finishes",
    why="fetch_tracking_events(cursor) advances 4 times with new events each page and has_more=false on the last; "
    "the agent reports delivery; content off",
)
async def ok_cursor_feed_drains(ctx: Any) -> None:
    codes = ["PICKED_UP", "IN_TRANSIT", "AT_HUB_MILAN", "DELIVERED"]

    def feed(cursor: str) -> Any:
        i = (int(cursor.split("_")[1]) - 120) // 50
        return {
            "events": [{"seq": i, "code": codes[i]}],
            "next_cursor": f"c_{120 + 50 * (i + 1):06d}",
            "has_more": i < 3,
        }

    script: list[Any] = [
        call("fetch_tracking_events", {"cursor": f"c_{120 + 50 * i:06d}"}, f"feed_{i}") for i in range(4)
    ]
    script.append(say("SHP-55120 was delivered in Milan (event feed complete)."))
    root = agent(
        ctx.pick(("dispatch_planner", "freight_desk")),
        "Track shipments: read the whole event feed before answering.",
        fake_llm("gemini-2.5-flash", script),
        [tool("fetch_tracking_events", "Reads carrier events from a cursor.", "cursor", feed)],
    )
    await run_session(root, ctx.session_id, ["Has shipment SHP-55120 (6 pallets to Milan) been delivered?"])


@scenario(
    "ok_loopagent_exits_after_fix",
    content=True,
    kinds=(),
    shape="loopagent_exits_when_fixed",
    why="LoopAgent(max_iterations=5) around the lint fixer: iteration 1 still fails, iteration 2 passes and the "
    "agent calls exit_loop; the loop ends well before its limit",
)
async def ok_loopagent_exits_after_fix(ctx: Any) -> None:
    from google.adk.agents import LoopAgent
    from google.adk.tools.exit_loop_tool import exit_loop

    runs = {"n": 0}

    def lint(path: str) -> Any:
        runs["n"] += 1
        if runs["n"] == 1:
            return {"exit_code": 1, "output": "billing/export.py:42:121: E501 line too long (131 > 120 characters)"}
        return {"exit_code": 0, "output": "All checks passed!"}

    script = [
        call("apply_patch", {"diff": "--- a/billing/export.py (wrap attempt 1)"}, "patch_1"),
        call("run_linter", {"path": "billing/export.py"}, "lint_1"),
        say("E501 remains on line 42; splitting the f-string next."),
        call("apply_patch", {"diff": "--- a/billing/export.py (split f-string)"}, "patch_2"),
        call("run_linter", {"path": "billing/export.py"}, "lint_2"),
        call("exit_loop", {}, "exit_1"),
        say("ruff passes now."),
    ]
    fixer = agent(
        ctx.pick(("lint_fixer", "style_bot")),
        "Make ruff pass on the file. Call exit_loop once the linter exits 0.",
        fake_llm("gemini-2.5-flash", script),
        [
            tool("apply_patch", "Applies a diff.", "diff", lambda p: {"applied": True}),
            tool("run_linter", "Runs ruff on a path.", "path", lint),
            exit_loop,
        ],
    )
    root = LoopAgent(name="lint_until_clean", sub_agents=[fixer], max_iterations=5)
    await run_session(root, ctx.session_id, ["Fix the ruff failure in billing/export.py."])


@scenario(
    "ok_parallel_batches_distinct",
    content=False,
    kinds=(),
    shape="parallel_batches_different_args",
    why="two model turns of parallel check_slots calls (3 clinics, then 2 other clinics), all different arguments; "
    "a slot is found and booked; content off",
)
async def ok_parallel_batches_distinct(ctx: Any) -> None:
    first = ["clinic-nord", "clinic-west", "clinic-mitte"]
    ctx.rng.shuffle(first)
    second = ["clinic-sued", "clinic-ost"]
    free = {"clinic-ost": ["2025-10-16T15:40"]}
    script: list[Any] = [
        calls([("check_slots", {"clinic": c}, f"slots_{c}") for c in first]),
        calls([("check_slots", {"clinic": c}, f"slots_{c}") for c in second]),
        call("book_slot", {"slot": "clinic-ost 2025-10-16T15:40"}, "book_1"),
        say("Booked: dermatology at clinic-ost, Thursday 15:40."),
    ]
    root = agent(
        ctx.pick(("appointment_scheduler", "patient_booking_agent")),
        "Book the patient the earliest dermatology slot on the requested day.",
        fake_llm("gemini-2.5-flash", script),
        [
            tool(
                "check_slots", "Free slots of a clinic on 2025-10-16.", "clinic", lambda c: {"slots": free.get(c, [])}
            ),
            tool("book_slot", "Books a slot.", "slot", lambda s: {"booked": s, "ref": "APT-2231"}),
        ],
    )
    await run_session(root, ctx.session_id, ["Book me a dermatology appointment this Thursday, any clinic."])


@scenario(
    "ok_callback_window_pins_constraint",
    content=True,
    kinds=(),
    shape="sliding_window_keeps_first_request",
    why="the same before_model_callback sliding window as the vegetarian rot twin, but it pins the first user "
    "message; the constraint stays in every model input and the order is all vegetarian",
)
async def ok_callback_window_pins_constraint(ctx: Any) -> None:
    await run_session(_catering_agent(ctx, pin_first=True), ctx.session_id, CATERING_TURNS)


@scenario(
    "ok_token_compaction_keeps_drafts_only",
    content=True,
    kinds=(),
    shape="token_threshold_compaction_keeps_constraint",
    why="same token-threshold compaction as the offer-letter rot twin, but the summary keeps 'drafts only'; in "
    "turn 3 the agent queues the letters for HR legal review and sends nothing",
)
async def ok_token_compaction_keeps_drafts_only(ctx: Any) -> None:
    root, compaction = _offer_agent(ctx, keep=True)
    await run_session(root, ctx.session_id, OFFER_TURNS, compaction=compaction)


@scenario(
    "ok_budget_callback_keeps_system_prompt",
    content=False,
    kinds=(),
    shape="budget_callback_elides_old_tool_output",
    why="the prompt budget guard elides old tool outputs instead of the system instruction; the rules stay and the "
    "agent asks for supervisor approval for the 317 EUR refund; content off",
)
async def ok_budget_callback_keeps_system_prompt(ctx: Any) -> None:
    await run_session(_support_agent(ctx, drop=False), ctx.session_id, SUPPORT_TURNS)


@scenario(
    "ok_clarifying_question_new_info",
    content=False,
    kinds=(),
    shape="multi_turn_asks_for_info_not_yet_given",
    why="the claims agent asks for the date of the incident, which the user had NOT given; the user answers and the "
    "claim is filed with the policy number from turn 1 (history intact); content off",
)
async def ok_clarifying_question_new_info(ctx: Any) -> None:
    script = [
        call("get_policy", {"policy_id": "HX-4410"}, "pol_1"),
        say("You're covered (section 4.2). To file the claim I need the date the pipe burst."),
        _two_param_tool_call(),
        say("Claim CLM-3302 filed for policy HX-4410; an adjuster will call within 48 hours."),
    ]
    root = agent(
        ctx.pick(("claims_assistant", "policy_helper")),
        "Answer policy questions and file claims.",
        fake_llm("gemini-2.5-flash", script),
        [
            tool("get_policy", "Reads a policy.", "policy_id", lambda p: {"policy_id": p, "water": "burst pipes"}),
            _two_param_tool(
                "open_claim", "Opens a claim.", "policy_id", "incident_date", lambda p, d: {"claim_id": "CLM-3302"}
            ),
        ],
    )
    turns = [
        "A pipe burst in my kitchen. Policy HX-4410, please file a claim.",
        "It burst on 12 October, around 7 am.",
    ]
    await run_session(root, ctx.session_id, turns)


def _two_param_tool_call() -> Any:
    return call("open_claim", {"policy_id": "HX-4410", "incident_date": "2025-10-12"}, "claim_1")


@scenario(
    "ok_sequential_state_key_flows",
    content=True,
    kinds=(),
    shape="pipeline_state_key_reaches_next_agent",
    why="same researcher -> writer SequentialAgent as the state-key twin, but the key matches ('findings'); the "
    "writer, under its own system prompt without history, receives the notes and writes the brief",
)
async def ok_sequential_state_key_flows(ctx: Any) -> None:
    await run_session(_brief_pipeline(ctx, "findings"), ctx.session_id, [_d(ctx).task])


@scenario(
    "ok_long_catalog_audit_many_attributes",
    content=False,
    kinds=(),
    shape="long_healthy_run_parallel_over_128_attributes",
    why="a 24-SKU catalog audit in 8 parallel batches of 3 distinct SKUs, each harness span carries 140 attributes "
    "(SDK keeps 128, rest dropped); everything completes; content off",
)
async def ok_long_catalog_audit_many_attributes(ctx: Any) -> None:
    skus = [f"BOOT-{44}-{200 + 13 * i}" for i in range(24)]
    script: list[Any] = [
        calls([("get_stock_level", {"sku": s}, f"stock_{s}") for s in skus[i : i + 3]]) for i in range(0, 24, 3)
    ]
    script.append(say("Audit done: 24 size-44 SKUs checked, 4 need reordering before the campaign."))
    root = agent(
        ctx.pick(("catalog_curator", "merch_assistant")),
        "Audit stock for every SKU you are given; batch lookups.",
        fake_llm("gemini-2.5-flash", script),
        [tool("get_stock_level", "Stock of a SKU.", "sku", lambda s: {"sku": s, "on_hand": int(s[-3:]) % 41})],
    )
    attrs = {f"campaign.audit.flag_{i:03d}": i % 2 == 0 for i in range(140)}
    await run_session(root, ctx.session_id, ["Audit size-44 stock: " + ", ".join(skus)], harness_attrs=attrs)


# ---------------------------------------------------------------- driver


def _scenario_main(name: str) -> None:
    from capture_kit import simulated_clock, to_otlp_json
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    seed = int(hashlib.sha1(("b2:" + name).encode()).hexdigest()[:8], 16)
    base.RNG = random.Random(seed + 1)
    rng = random.Random(seed)
    ctx = base.Ctx(name, session_id_of(name), rng, base.DOMAINS[0])
    ctx.extra["d2"] = rng.choice(DOMAINS2)
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "adk-corpus-b2", "service.version": "1.1.0"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    with simulated_clock() as clock:
        base.CLOCK = clock
        asyncio.run(SCENARIOS[name].fn(ctx))
    provider.shutdown()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"adk_b2_{name}.json"
    path.write_text(json.dumps(to_otlp_json(exporter), separators=(",", ":"), ensure_ascii=False) + "\n")
    spans = len(exporter.get_finished_spans())
    print(f"{path.name}: {spans} spans, {path.stat().st_size} bytes ({ctx.extra['d2'].name})")


def write_labels() -> None:
    lines = ["# Labels for the second Google ADK batch: the truth of each scripted run (see corpus2_adk.py).", ""]
    for name, sc in SCENARIOS.items():
        kinds = ", ".join(f'"{k}"' for k in sc.kinds)
        lines += [
            "[[session]]",
            f'session_id = "{session_id_of(name)}"',
            f'file = "out/adk_b2_{name}.json"',
            f"kinds = [{kinds}]",
            f'shape = "{sc.shape}"',
            f"content_capture = {'true' if sc.content else 'false'}",
            f"why = {json.dumps(sc.why)}",
            "",
        ]
    (HERE / "labels_adk.toml").write_text("\n".join(lines))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        _scenario_main(argv[1])
        return
    chosen = argv or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    for name in chosen:
        env = {k: v for k, v in os.environ.items() if k not in base._ADK_ENV}
        if SCENARIOS[name].content:
            env[base.CONTENT_ENV] = "SPAN_ONLY"
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one", name], env=env, check=True, cwd="/tmp")
    write_labels()


if __name__ == "__main__":
    main(sys.argv[1:])
