"""Second labeled CrewAI batch for stepseven: new domains, new loop/rot/hand-off shapes and hard healthy twins.

Pinned versions (``pip freeze`` of /work/cap/crewai/.venv, Python 3.11):

    crewai==1.15.30 openai==2.54.0
    openinference-instrumentation-crewai==1.1.21 openinference-instrumentation==0.1.72
    openinference-semantic-conventions==0.1.42 opentelemetry-sdk==1.45.2
    opentelemetry-exporter-otlp-proto-common==1.45.2 (for the OTLP/JSON encoding)

Run (from any folder; writes ``out/crewai_b2_<scenario>.json`` and ``labels_crewai.toml`` next to this file):

    /work/cap/crewai/.venv/bin/python corpus2_crewai.py [SCENARIO ...]    # every scenario by default (~5 min)

It reuses the first batch's machinery by path (``../corpus/corpus_crewai.py``: the fake OpenAI-compatible model on
127.0.0.1 that answers from per-agent scripts, scripted ``BaseTool`` backends, seeded span ids, OTLP/JSON encoding).
Each scenario runs in its own interpreter (``--one SCENARIO``), as in the first batch. Everything else is crewai's
own machinery with default settings unless a scenario says otherwise: ``Crew.kickoff()``, sequential and
hierarchical processes (crewai's "Crew Manager" or a custom ``manager_agent``), the delegation tools, ``max_iter``
and its forced final answer, ``respect_context_window`` summarisation, the agent's ``max_retry_limit``, planning.
Session ids are set with ``openinference.instrumentation.using_session("crewai-c2-...")``; multi-turn sessions are
several kickoffs (plus the app's own summariser kickoffs and harness spans) under one id. Labels are written from
the scenario table: what was scripted, never what any analyzer says. No network beyond 127.0.0.1.
"""

from __future__ import annotations

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
BASE_PATH = HERE.parent / "corpus" / "corpus_crewai.py"


def _load_base() -> Any:
    spec = importlib.util.spec_from_file_location("corpus_crewai", BASE_PATH)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {BASE_PATH}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_crewai"] = module
    spec.loader.exec_module(module)  # sets crewai's telemetry-off env vars, HOME and storage in a scratch dir
    return module


base = _load_base()
make_tool = base.make_tool
counter_backend = base.counter_backend
table_backend = base.table_backend
SUMMARIZER: str = base.SUMMARIZER
Move = dict[str, Any]

# ---------------------------------------------------------------------------------------------------------------
# Seeded pools (new names, not the first batch's).

ROLES: dict[str, list[str]] = {
    "hr": ["People Policy Researcher", "HR Knowledge Specialist", "Benefits Advisor"],
    "logistics": ["Shipping Coordinator", "Fulfilment Operator", "Dispatch Agent"],
    "support": ["Tier-2 Support Engineer", "Account Support Rep", "Help Desk Specialist"],
    "crm": ["CRM Specialist", "Renewals Analyst", "Revenue Ops Analyst"],
    "director": ["Operations Director", "Head of Customer Success", "Program Director"],
    "legal": ["Contract Analyst", "Paralegal", "Legal Ops Specialist"],
    "lead": ["Delivery Lead", "Team Coordinator", "Chief of Staff"],
    "finance": ["Finance Analyst", "FP&A Analyst", "Revenue Accountant"],
    "catering": ["Menu Planner", "Event Caterer", "Culinary Assistant"],
    "sre": ["Log Analyst", "Incident Investigator", "Platform Engineer"],
    "summarizer": ["Conversation Summarizer", "Chat Memory Compactor"],
    "research": ["Academic Researcher", "Patent Searcher", "Policy Analyst"],
    "editor": ["Release Notes Editor", "Copy Editor", "Docs Writer"],
    "security": ["Security Reviewer", "AppSec Engineer"],
}
PICKED: dict[str, str] = {}


def role(rng: random.Random, domain: str) -> str:
    """Draws the role for a domain once per session (the script and the crew must agree on it)."""
    if domain not in PICKED:
        PICKED[domain] = rng.choice(ROLES[domain])
    return PICKED[domain]


def say(text: str) -> Move:
    return {"say": text}


def call(tool: str, **args: Any) -> Move:
    return {"tool": tool, "args": args}


def par(*calls: tuple[str, dict[str, Any]]) -> Move:
    return {"tools": [[name, args] for name, args in calls]}


# ---------------------------------------------------------------------------------------------------------------
# Scenario registry.


@dataclass
class Turn:
    crew: Any
    inputs: dict[str, Any] | None = None
    harness_span: str | None = None  # the app's own span around this kickoff (multi-turn chat harness)


@dataclass
class Scenario:
    name: str
    kinds: list[str]
    shape: str
    why: str
    build: Callable[[Any], list[Turn]]
    script: Callable[[random.Random], dict[str, list[Move]]]
    events: bool = True  # instrument(use_event_listener=True); False = the documented default (wrapper mode)
    hide_content: bool = False  # OpenInference TraceConfig hiding inputs/outputs/messages


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    name: str,
    kinds: list[str],
    shape: str,
    why: str,
    script: Callable[[random.Random], dict[str, list[Move]]],
    *,
    events: bool = True,
    hide_content: bool = False,
) -> Callable[[Callable[[Any], list[Turn]]], Callable[[Any], list[Turn]]]:
    def register(build: Callable[[Any], list[Turn]]) -> Callable[[Any], list[Turn]]:
        SCENARIOS[name] = Scenario(name, kinds, shape, why, build, script, events, hide_content)
        return build

    return register


def one_task_crew(c: Any, agent: Any, description: str, expected: str, **crew_kwargs: Any) -> list[Turn]:
    task = c.task(description, expected, agent)
    return [Turn(c.crew([agent], [task], **crew_kwargs))]


def custom_manager_crew(c: Any, manager: Any, agents: list[Any], description: str, expected: str) -> list[Turn]:
    """Hierarchical crew whose manager is the app's own agent (``manager_agent=``), not crewai's "Crew Manager"."""
    from crewai import Crew, Process

    task = c.task(description, expected)
    crew = Crew(agents=agents, tasks=[task], process=Process.hierarchical, manager_agent=manager, verbose=False)
    return [Turn(crew)]


PLANNER = "Task Execution Planner"


def plan_move(steps: str) -> Move:
    plan = {"list_of_plans_per_task": [{"task_number": 1, "task": "Main task", "plan": steps}]}
    return say(json.dumps(plan))


# ===============================================================================================================
# runaway_loop positives
# ===============================================================================================================

NO_HITS = "0 documents matched '{query}' in the policy wiki."
LEAVE_A = "statutory parental leave Netherlands 2026 weeks"
LEAVE_B = "Dutch WIEG paid parental leave entitlement 2026"


def script_loop_alternating(rng: random.Random) -> dict[str, list[Move]]:
    moves = [call("search_policies", query=LEAVE_A if k % 2 == 0 else LEAVE_B) for k in range(12)]
    return {
        role(rng, "hr"): [
            *moves,
            say("I could not find the 2026 Dutch parental-leave entitlement in the policy wiki."),
        ]
    }


@scenario(
    "loop_alternating_two_rewordings",
    ["runaway_loop"],
    "alternating_two_rewordings_until_limit",
    "HR researcher alternates two re-wordings of the same policy search (A,B,A,B,...); every call returns the same "
    "'0 documents matched', crewai's max_iter=7 forces a give-up answer (runaway_loop); cache=False so each call "
    "reaches the backend",
    script_loop_alternating,
)
def build_loop_alternating(c: Any) -> list[Turn]:
    agent = c.agent(
        role(c.rng, "hr"),
        "Answer employee questions from the internal policy wiki",
        "You only answer from the wiki.",
        tools=[
            make_tool("search_policies", "Search the internal HR policy wiki.", ["query"], counter_backend([NO_HITS]))
        ],
        max_iter=7,
    )
    return one_task_crew(
        c,
        agent,
        "How many weeks of paid parental leave does an employee in the Netherlands get in 2026? Cite the wiki page.",
        "Weeks + wiki page.",
        cache=False,
    )


REQ_IDS = [f"req-{k:02x}{(k * 2654435761) % 16**6:06x}" for k in range(1, 12)]


def script_loop_reqid(rng: random.Random) -> dict[str, list[Move]]:
    label = call("create_shipping_label", order_id="SO-30917", carrier="DHL")
    between = [call("validate_address", order_id="SO-30917"), call("get_carrier_status", carrier="DHL")]
    moves: list[Move] = [call("validate_address", order_id="SO-30917")]
    for k in range(5):
        moves += [label, between[k % 2]]
    return {
        role(rng, "logistics"): [
            *moves,
            say("The DHL label for SO-30917 could not be created: the carrier API keeps answering 503."),
        ]
    }


@scenario(
    "loop_same_error_varying_request_id",
    ["runaway_loop"],
    "same_error_modulo_request_id_interleaved",
    "shipping agent calls create_shipping_label 5 times; each raises 'CarrierAPIError 503 Service Unavailable' "
    "that differs only by its request_id, with validate_address / get_carrier_status in between; max_iter=11 ends "
    "it with no label (runaway_loop); default wrapper-mode spans",
    script_loop_reqid,
    events=False,
)
def build_loop_reqid(c: Any) -> list[Turn]:
    state = {"n": 0}

    def label(args: dict[str, Any]) -> str:
        rid = REQ_IDS[state["n"] % len(REQ_IDS)]
        state["n"] += 1
        raise RuntimeError(f"CarrierAPIError 503 Service Unavailable: label service overloaded (request_id={rid})")

    tools = [
        make_tool("create_shipping_label", "Create a carrier shipping label.", ["order_id", "carrier"], label),
        make_tool(
            "validate_address",
            "Validate an order's delivery address.",
            ["order_id"],
            counter_backend(["{order_id}: address valid (Keizersgracht 123, 1015 CJ Amsterdam)."]),
        ),
        make_tool(
            "get_carrier_status",
            "Read a carrier's public status page.",
            ["carrier"],
            counter_backend(["{carrier}: all systems operational."]),
        ),
    ]
    agent = c.agent(role(c.rng, "logistics"), "Ship paid orders today", "You create labels.", tools=tools, max_iter=11)
    return one_task_crew(
        c, agent, "Create a DHL shipping label for order SO-30917 and return the tracking number.", "A tracking number."
    )


def script_loop_cursor(rng: random.Random) -> dict[str, list[Move]]:
    cursors = [""] + [f"c_{k:04d}" for k in range(2, 16)]
    return {
        role(rng, "support"): [call("list_tickets", queue="billing", cursor=cur) for cur in cursors]
        + [say("I could not reach the end of the billing queue; no count of escalated tickets.")]
    }


@scenario(
    "loop_cursor_pager_never_finishes",
    ["runaway_loop"],
    "cursor_pager_never_finishes",
    "support engineer pages list_tickets with an opaque next_cursor that advances every call, but each page holds "
    "the same 2 tickets and next_cursor is never null; max_iter=8 ends it without a count (runaway_loop); "
    "content capture off",
    script_loop_cursor,
    hide_content=True,
)
def build_loop_cursor(c: Any) -> list[Turn]:
    def page(args: dict[str, Any]) -> str:
        cur = str(args.get("cursor") or "c_0001")
        nxt = f"c_{int(cur[2:]) + 1:04d}"
        rows = [{"id": "TCK-5512", "status": "escalated"}, {"id": "TCK-5513", "status": "open"}]
        return json.dumps({"tickets": rows, "next_cursor": nxt})

    agent = c.agent(
        role(c.rng, "support"),
        "Report on the ticket queues",
        "You count things exactly.",
        tools=[make_tool("list_tickets", "List tickets of a queue, one page per cursor.", ["queue", "cursor"], page)],
        max_iter=8,
    )
    return one_task_crew(c, agent, "How many tickets in the billing queue are escalated?", "A count.")


def script_loop_redelegate(rng: random.Random) -> dict[str, list[Move]]:
    asks = [
        "List enterprise renewals due in June with their ARR",
        "Pull the June enterprise renewal list (account, ARR)",
        "Get every enterprise contract renewing in June and its ARR",
        "Export June enterprise renewals with ARR from the CRM",
        "Find the enterprise accounts whose renewal date is in June, with ARR",
        "Retrieve June renewals for enterprise tier, include ARR",
    ]
    crm = role(rng, "crm")
    give_up = say("I could not access the CRM: the session expired before the report ran.")
    return {
        role(rng, "director"): [
            call("delegate", task=a, context="For the June renewal forecast.", coworker=crm) for a in asks
        ]
        + [say("June renewal forecast: not available, the CRM data could not be retrieved.")],
        crm: [call("crm_report", report="renewals_june_enterprise"), give_up] * 8,
    }


@scenario(
    "loop_manager_redelegates_until_limit",
    ["runaway_loop", "failed_handoff"],
    "manager_redelegates_reworded_until_limit",
    "hierarchical crew with a custom manager_agent (max_iter=6): it re-delegates the same renewal-list request, "
    "re-worded each time, to the CRM coworker, who each time hits 'CRM session expired' and hands back a failure; "
    "no new information until the manager's limit (runaway_loop) and the delegated work never arrives "
    "(failed_handoff)",
    script_loop_redelegate,
)
def build_loop_redelegate(c: Any) -> list[Turn]:
    crm = c.agent(
        role(c.rng, "crm"),
        "Pull CRM reports",
        "You run saved CRM reports.",
        tools=[
            make_tool(
                "crm_report",
                "Run a saved CRM report by name.",
                ["report"],
                counter_backend(["ERROR 401: CRM session expired (report {report} not run). Re-authenticate."]),
            )
        ],
        max_iter=3,
    )
    editor = c.agent(role(c.rng, "editor"), "Polish text", "You fix wording.")
    manager = c.agent(role(c.rng, "director"), "Forecast renewals", "You coordinate the revenue team.", max_iter=6)
    return custom_manager_crew(
        c, manager, [crm, editor], "Produce the June enterprise renewal forecast (accounts + ARR).", "A table."
    )


def script_handoff_limit_redo(rng: random.Random) -> dict[str, list[Move]]:
    legal = role(rng, "legal")
    return {
        role(rng, "lead"): [
            call(
                "delegate",
                task="Extract the termination-notice period from contract MSA-2291",
                context="Customer Northwind wants to exit early.",
                coworker=legal,
            ),
            call("contract_summary", contract_id="MSA-2291"),
            say("Northwind (MSA-2291) must give 90 days' written notice; early exit fee is 2 months of fees."),
        ],
        legal: [call("read_contract", contract_id="MSA-2291", section="termination")] * 5
        + [say("I could not read MSA-2291: access was denied every time.")],
    }


@scenario(
    "handoff_coworker_limit_lead_redoes",
    ["failed_handoff", "runaway_loop"],
    "subagent_same_error_limit_caller_redoes",
    "lead delegates contract reading to the legal coworker (max_iter=4), whose read_contract raises the identical "
    "PermissionError 4 times until the limit (runaway_loop inside the sub-agent); the give-up comes back as the "
    "result and the lead redoes the work with its own contract_summary tool (failed_handoff)",
    script_handoff_limit_redo,
)
def build_handoff_limit_redo(c: Any) -> list[Turn]:
    def read(args: dict[str, Any]) -> str:
        raise PermissionError(f"403 Forbidden: service account lacks scope contracts.read ({args['contract_id']})")

    summary = counter_backend(["{contract_id}: termination 90 days written notice; early exit fee 2 months."])
    lead = c.agent(
        role(c.rng, "lead"),
        "Answer account questions correctly",
        "You coordinate specialists.",
        allow_delegation=True,
        tools=[make_tool("contract_summary", "Get the CLM summary of a contract.", ["contract_id"], summary)],
        max_iter=6,
    )
    legal = c.agent(
        role(c.rng, "legal"),
        "Read contracts precisely",
        "You quote clauses verbatim.",
        tools=[make_tool("read_contract", "Read a contract section.", ["contract_id", "section"], read)],
        max_iter=4,
    )
    task = c.task(
        "Northwind wants to leave early. What notice period and exit fee apply under MSA-2291?", "Two facts.", lead
    )
    return [Turn(c.crew([lead, legal], [task], cache=False))]


# ===============================================================================================================
# context_rot positives
# ===============================================================================================================

TOO_MANY_TOKENS: Move = {
    "error": 400,
    "code": "context_length_exceeded",
    "message": "Request too large for fake: too many tokens in messages (10342 > 8192). Shorten the input.",
}

MRR = {
    "EU": "EU March MRR: A-1001 4200; A-1002 3100; T-9001 (test) 5000",
    "US": "US March MRR: A-2001 6100; T-9002 (test) 2500; A-2002 1900",
    "APAC": "APAC March MRR: A-3001 2800; T-9003 (test) 1200",
}


def mrr_script(rng: random.Random, summary: str, values: str, final: str) -> dict[str, list[Move]]:
    return {
        role(rng, "finance"): [
            par(("query_mrr", {"region": "EU"}), ("query_mrr", {"region": "US"}), ("query_mrr", {"region": "APAC"})),
            call("fx_rates", month="2026-03"),
            TOO_MANY_TOKENS,
            call("sum_values", values=values),
            say(final),
        ],
        SUMMARIZER: [say(f"<summary>\n{summary}\n</summary>")],
    }


def mrr_crew(c: Any) -> list[Turn]:
    agent = c.agent(
        role(c.rng, "finance"),
        "Report recurring revenue",
        "You are careful with filters.",
        tools=[
            make_tool("query_mrr", "MRR lines of a region for March.", ["region"], table_backend(MRR, "no data")),
            make_tool(
                "fx_rates", "FX rates of a month.", ["month"], counter_backend(["{month}: all figures already EUR."])
            ),
            make_tool(
                "sum_values",
                "Sum comma-separated numbers.",
                ["values"],
                lambda a: str(sum(int(v) for v in str(a["values"]).split(","))),
            ),
        ],
        max_iter=8,
    )
    return one_task_crew(
        c,
        agent,
        "Compute total March MRR in EUR across EU, US and APAC. Exclude test accounts (ids starting with T-) from "
        "every total.",
        "One total in EUR.",
    )


@scenario(
    "rot_compaction_drops_filter",
    ["context_rot"],
    "compaction_drops_exclusion_filter",
    "after parallel query_mrr calls, a 'too many tokens' 400 makes crewai summarise (respect_context_window "
    "default); the summary drops 'exclude test accounts (T-)' and the agent sums all lines, test accounts "
    "included: 26800 instead of 18100 EUR (context_rot)",
    lambda rng: mrr_script(
        rng,
        "Task: total March MRR in EUR across EU, US, APAC. Data so far: EU 4200, 3100, 5000; US 6100, 2500, 1900; "
        "APAC 2800, 1200. All figures EUR. Next: sum them.",
        "4200,3100,5000,6100,2500,1900,2800,1200",
        "Total March MRR across EU, US and APAC: 26800 EUR.",
    ),
)
def build_rot_filter(c: Any) -> list[Turn]:
    return mrr_crew(c)


PEANUT_TURNS = [
    "We're hosting 6 people on Saturday; one guest has a severe peanut allergy, so nothing with peanuts. "
    "Suggest a starter.",
    "Great. Now a main course that can be made ahead?",
    "And finally a dessert everyone can share?",
]
PEANUT_REPLIES = [
    "Starter: roasted tomato soup with basil oil (peanut-free).",
    "Main: slow-braised beef ragu with polenta; it keeps well overnight.",
]


def chat_turns(
    c: Any,
    agent_domain: str,
    tools: list[Any],
    turns: list[str],
    histories: list[str],
    summarizer_outputs: list[str] | None = None,
) -> list[Turn]:
    """A chat app: each user turn is one kickoff inside the app's own 'chat.turn' span; histories[k] is what the
    app passes as history to turn k (already trimmed or summarised by the app). If summarizer_outputs is given, the
    app runs its own summariser crew (a separate agent with its own prompt) before turns 2..n."""
    agent_role = role(c.rng, agent_domain)
    out: list[Turn] = []
    for k, question in enumerate(turns):
        if summarizer_outputs and k > 0:
            summ = c.agent(
                role(c.rng, "summarizer"),
                "Compress chat history for the next turn",
                "You write short, faithful summaries of chats.",
            )
            st = c.task("Summarise this chat so the assistant can continue it:\n{transcript}", "A short summary.", summ)
            out.append(Turn(c.crew([summ], [st]), {"transcript": histories[k]}, "chat.compact_history"))
        agent = c.agent(agent_role, "Help the user", "You are a helpful assistant.", tools=tools, max_iter=5)
        task = c.task("Conversation so far:\n{history}\n\nUser: {question}", "The reply to the user.", agent)
        hist = summarizer_outputs[k - 1] if summarizer_outputs and k > 0 else histories[k]
        out.append(Turn(c.crew([agent], [task]), {"history": hist or "(none)", "question": question}, "chat.turn"))
    return out


def peanut_histories() -> list[str]:
    h1 = f"User: {PEANUT_TURNS[0]}\nAssistant: {PEANUT_REPLIES[0]}"
    return ["", h1, f"{h1}\nUser: {PEANUT_TURNS[1]}\nAssistant: {PEANUT_REPLIES[1]}"]


def peanut_crew(c: Any, summaries: list[str]) -> list[Turn]:
    recipes = {
        "starter tomato soup": "Roasted tomato soup: tomatoes, garlic, basil, olive oil.",
        "make-ahead main for 6": "Beef ragu (braise 3h, better next day); serve with polenta.",
        "shareable dessert": "Options: peanut butter chocolate tart; lemon posset; berry pavlova.",
        "nut-free shareable dessert": "Options: lemon posset; berry pavlova (both nut-free).",
    }
    tool = make_tool("search_recipes", "Search the recipe library.", ["query"], table_backend(recipes, "none"))
    return chat_turns(c, "catering", [tool], PEANUT_TURNS, peanut_histories(), summaries)


@scenario(
    "rot_app_summarizer_drops_allergy",
    ["context_rot"],
    "app_level_summary_drops_constraint_multiturn",
    "3-turn chat under one session; between turns the app compacts history with its own summariser crew; the 2nd "
    "summary drops turn 1's 'severe peanut allergy', so in turn 3 the planner proposes a peanut butter chocolate "
    "tart (context_rot); the summariser kickoffs have their own prompt",
    lambda rng: {
        role(rng, "summarizer"): [
            say("Hosting 6 on Saturday; one guest has a severe peanut allergy (no peanuts). Starter chosen: soup."),
            say("Dinner for 6 on Saturday. Starter: tomato soup. Main: beef ragu with polenta."),
        ],
        role(rng, "catering"): [
            call("search_recipes", query="starter tomato soup"),
            say(PEANUT_REPLIES[0]),
            call("search_recipes", query="make-ahead main for 6"),
            say(PEANUT_REPLIES[1]),
            call("search_recipes", query="shareable dessert"),
            say("Dessert: a peanut butter chocolate tart, easy to slice for 6."),
        ],
    },
)
def build_rot_allergy(c: Any) -> list[Turn]:
    return peanut_crew(c, [])  # replaced below (summaries need the scripted texts)


EMAIL_TURNS = [
    "I can't log in to the dashboard. My account email is dana.kowalski@example.org.",
    "I do get the 2FA prompt but the code from my authenticator app is always rejected.",
    "OK, then please just send me a password reset link.",
]
EMAIL_REPLIES = [
    "I found your account and it is active; is the problem the password or the 2FA step?",
    "Rejected TOTP codes usually mean the phone clock drifted. Enable automatic time on the phone, then retry; "
    "if it still fails I can reset your 2FA enrolment.",
]


def char_budget_histories(turns: list[str], replies: list[str], budget: int) -> list[str]:
    """What an app with a fixed character budget passes as history: the transcript's last `budget` characters."""
    out = [""]
    transcript = ""
    for question, reply in zip(turns, replies, strict=False):
        transcript += f"User: {question}\nAssistant: {reply}\n"
        out.append(transcript[-budget:])
    return out


@scenario(
    "rot_char_budget_reasks_email",
    ["context_rot"],
    "multi_turn_char_budget_truncation_reasks",
    "3-turn login-help chat; the app keeps only the last 260 characters of transcript as history, so in turn 3 "
    "the email given in turn 1 is gone and the agent asks for it again instead of sending the reset link "
    "(context_rot); default wrapper-mode spans",
    lambda rng: {
        role(rng, "support"): [
            call("find_account", email="dana.kowalski@example.org"),
            say(EMAIL_REPLIES[0]),
            call("search_help", query="2FA code rejected authenticator"),
            say(EMAIL_REPLIES[1]),
            say("Sure! Which email address is your account registered with, so I can send the reset link?"),
        ]
    },
    events=False,
)
def build_rot_email(c: Any) -> list[Turn]:
    tools = [
        make_tool(
            "find_account", "Find an account by email.", ["email"], counter_backend(["{email}: active, 2FA on."])
        ),
        make_tool(
            "search_help",
            "Search help articles.",
            ["query"],
            counter_backend(["HC-41: rejected TOTP codes are usually caused by clock drift on the phone."]),
        ),
        make_tool(
            "send_reset_link",
            "Send a password reset link.",
            ["email"],
            counter_backend(["Reset link sent to {email}."]),
        ),
    ]
    return chat_turns(c, "support", tools, EMAIL_TURNS, char_budget_histories(EMAIL_TURNS, EMAIL_REPLIES, 260))


GEMINI_STYLE = {
    "error": 400,
    "type": "invalid_request_error",
    "message": "The input token count (1204311) exceeds the maximum number of tokens allowed (1048576).",
}


@scenario(
    "rot_coworker_context_overflow_handoff",
    ["context_rot", "failed_handoff"],
    "coworker_context_overflow_unrecognised_error",
    "the lead delegates an incident root-cause to the log coworker, who reads two huge log dumps; its 3rd model call "
    "fails with an input-token-count error that crewai does not recognise as a context-window error, so no summary: "
    "the agent's 2 retries fail the same way (context_rot) and the delegation returns an error; the lead still "
    "reports a root cause (failed_handoff); content capture off",
    lambda rng: {
        role(rng, "lead"): [
            call(
                "delegate",
                task="Find the root cause of the 02:10 UTC checkout outage from the api and db logs",
                context="Incident INC-7731, checkout 5xx from 02:10 to 02:41 UTC.",
                coworker=role(rng, "sre"),
            ),
            say("INC-7731 root cause: the db-2 disk filled up, which stalled checkout writes."),
        ],
        role(rng, "sre"): [
            call("read_logs", service="api", window="02:00-03:00"),
            call("read_logs", service="db", window="02:00-03:00"),
            GEMINI_STYLE,
        ],
    },
    hide_content=True,
)
def build_rot_overflow(c: Any) -> list[Turn]:
    def logs(args: dict[str, Any]) -> str:
        return "\n".join(
            f"02:{m:02d} {args['service']} WARN latency p99={200 + m * 13}ms pool=48/50" for m in range(60)
        )

    lead = c.agent(
        role(c.rng, "lead"),
        "Close incidents with a correct root cause",
        "You run incident reviews.",
        allow_delegation=True,
        max_iter=5,
    )
    sre = c.agent(
        role(c.rng, "sre"),
        "Find root causes in logs",
        "You read logs in full.",
        tools=[make_tool("read_logs", "Read a service's logs for a time window.", ["service", "window"], logs)],
        max_iter=6,
    )
    task = c.task("Write the root cause for incident INC-7731 (checkout outage).", "One sentence.", lead)
    return [Turn(c.crew([lead, sre], [task]))]


# ===============================================================================================================
# failed_handoff positives
# ===============================================================================================================


@scenario(
    "handoff_hierarchical_missing_agent_twice",
    ["failed_handoff"],
    "hierarchical_delegate_to_missing_agent_then_claims_done",
    "crewai's Crew Manager delegates the Spanish translation to 'Spanish Translator', then to 'Translator (ES)'; "
    "neither is in the crew (crewai answers 'coworker mentioned not found' twice, no sub-agent starts), yet the "
    "final answer claims the Spanish release notes are done (failed_handoff); content capture off",
    lambda rng: {
        "Crew Manager": [
            call(
                "delegate",
                task="Draft the v4.2 release notes",
                context="Changes: offline mode, CSV export, 14 bug fixes.",
                coworker=role(rng, "editor"),
            ),
            call(
                "delegate",
                task="Translate the v4.2 release notes into Spanish",
                context="Audience: LATAM customers.",
                coworker="Spanish Translator",
            ),
            call(
                "delegate",
                task="Translate the v4.2 release notes into Spanish",
                context="Audience: LATAM customers.",
                coworker="Translator (ES)",
            ),
            say("v4.2 release notes are ready in English and Spanish: offline mode, CSV export and 14 bug fixes."),
        ],
        role(rng, "editor"): [say("v4.2: Offline mode. CSV export for all reports. 14 bug fixes.")],
    },
    hide_content=True,
)
def build_handoff_missing(c: Any) -> list[Turn]:
    editor = c.agent(role(c.rng, "editor"), "Write release notes", "You write crisp notes.")
    sec = c.agent(role(c.rng, "security"), "Review security-relevant changes", "You flag risky changes.")
    task = c.task("Publish the v4.2 release notes in English and Spanish.", "Both versions.")
    return [Turn(c.crew([editor, sec], [task], hierarchical=True))]


# ===============================================================================================================
# negatives (healthy twins)
# ===============================================================================================================

ALT_TABLE = {
    "EU AI Act high-risk obligations timeline": "High-risk obligations apply from 2 Aug 2026 (Art. 113).",
    "AI Act Article 6 high-risk classification": "Art. 6 + Annex III define high-risk uses (e.g. hiring).",
    "EU AI Act high-risk obligations fines": "Fines up to 15M EUR or 3% of turnover for high-risk breaches.",
    "AI Act Article 6 exemptions narrow tasks": "Art. 6(3) exempts narrow procedural tasks.",
}


@scenario(
    "ok_alternating_queries_new_info",
    [],
    "alternating_query_styles_each_new_info",
    "twin of loop_alternating_two_rewordings: the policy analyst alternates two query families (timeline/Article 6), "
    "but each of the 4 searches returns a different new fact and it answers at step 5 of max_iter 10; content "
    "capture off",
    lambda rng: {
        role(rng, "research"): [
            *[call("search_law", query=q) for q in ALT_TABLE],
            say(
                "High-risk AI Act duties apply from 2 Aug 2026; Art. 6/Annex III define high-risk (e.g. hiring), "
                "Art. 6(3) exempts narrow tasks; fines reach 15M EUR or 3%."
            ),
        ]
    },
    hide_content=True,
)
def build_ok_alternating(c: Any) -> list[Turn]:
    agent = c.agent(
        role(c.rng, "research"),
        "Brief the team on regulation",
        "You cite articles.",
        tools=[make_tool("search_law", "Search EU legal texts.", ["query"], table_backend(ALT_TABLE, "No match."))],
        max_iter=10,
    )
    return one_task_crew(
        c, agent, "Brief me on EU AI Act high-risk obligations for a hiring tool.", "4 facts.", cache=False
    )


@scenario(
    "ok_error_request_id_recovers",
    [],
    "error_varying_request_id_retried_recovers",
    "twin of loop_same_error_varying_request_id: create_shipping_label fails twice with CarrierAPIError 503 (two "
    "request_ids), the agent checks the carrier status in between, the third attempt succeeds and it returns the "
    "tracking number: recovered, below the 3-identical-failures bar; default wrapper-mode spans",
    lambda rng: {
        role(rng, "logistics"): [
            call("create_shipping_label", order_id="SO-30955", carrier="UPS"),
            call("get_carrier_status", carrier="UPS"),
            call("create_shipping_label", order_id="SO-30955", carrier="UPS"),
            call("create_shipping_label", order_id="SO-30955", carrier="UPS"),
            say("Label created for SO-30955: UPS tracking 1Z999AA10123456784."),
        ]
    },
    events=False,
)
def build_ok_reqid(c: Any) -> list[Turn]:
    replies: list[str | Exception] = [
        RuntimeError(f"CarrierAPIError 503 Service Unavailable: label service overloaded (request_id={REQ_IDS[3]})"),
        RuntimeError(f"CarrierAPIError 503 Service Unavailable: label service overloaded (request_id={REQ_IDS[4]})"),
        "Label created for {order_id}: {carrier} tracking 1Z999AA10123456784.",
    ]
    tools = [
        make_tool(
            "create_shipping_label",
            "Create a carrier shipping label.",
            ["order_id", "carrier"],
            counter_backend(replies),
        ),
        make_tool(
            "get_carrier_status",
            "Read a carrier's public status page.",
            ["carrier"],
            counter_backend(["{carrier}: degraded performance on label API, recovering."]),
        ),
    ]
    agent = c.agent(role(c.rng, "logistics"), "Ship paid orders today", "You create labels.", tools=tools, max_iter=9)
    return one_task_crew(
        c,
        agent,
        "Create a UPS shipping label for order SO-30955 and return the tracking number.",
        "A tracking number.",
        cache=False,
    )


@scenario(
    "ok_cursor_pager_finishes",
    [],
    "cursor_pager_finishes",
    "twin of loop_cursor_pager_never_finishes: list_tickets pages through 4 cursors, each page holds new tickets, "
    "the 4th has next_cursor=null and the agent reports the escalated count; finite paging, healthy; content "
    "capture off",
    lambda rng: {
        role(rng, "support"): [
            *[call("list_tickets", queue="refunds", cursor=cur) for cur in ["", "c_0002", "c_0003", "c_0004"]],
            say("The refunds queue holds 8 tickets; 3 are escalated (TCK-7001, TCK-7004, TCK-7007)."),
        ]
    },
    hide_content=True,
)
def build_ok_cursor(c: Any) -> list[Turn]:
    def page(args: dict[str, Any]) -> str:
        n = int(str(args.get("cursor") or "c_0001")[2:])
        rows = [
            {"id": f"TCK-{7000 + 2 * n - 1}", "status": "escalated" if n in (1, 2, 4) else "open"},
            {"id": f"TCK-{7000 + 2 * n}", "status": "open"},
        ]
        return json.dumps({"tickets": rows, "next_cursor": f"c_{n + 1:04d}" if n < 4 else None})

    agent = c.agent(
        role(c.rng, "support"),
        "Report on the ticket queues",
        "You count things exactly.",
        tools=[make_tool("list_tickets", "List tickets of a queue, one page per cursor.", ["queue", "cursor"], page)],
        max_iter=10,
    )
    return one_task_crew(c, agent, "How many tickets in the refunds queue are escalated?", "A count + ids.")


@scenario(
    "ok_manager_delegates_same_coworker_twice",
    [],
    "manager_delegates_same_coworker_distinct_tasks",
    "twin of loop_manager_redelegates_until_limit: the custom manager_agent delegates twice to the same CRM "
    "coworker, with two different requests (EU, then US renewals); both come back with data and the forecast uses "
    "both: healthy hand-offs, no repetition",
    lambda rng: {
        role(rng, "director"): [
            call(
                "delegate",
                task="List EU enterprise renewals due in June with ARR",
                context="June forecast.",
                coworker=role(rng, "crm"),
            ),
            call(
                "delegate",
                task="List US enterprise renewals due in June with ARR",
                context="June forecast.",
                coworker=role(rng, "crm"),
            ),
            say("June enterprise renewals: EU Contoso 120k, Fabrikam 80k; US Northwind 210k. Total ARR 410k."),
        ],
        role(rng, "crm"): [
            call("crm_report", report="renewals_june_enterprise_eu"),
            say("EU: Contoso 120k ARR, Fabrikam 80k ARR."),
            call("crm_report", report="renewals_june_enterprise_us"),
            say("US: Northwind 210k ARR."),
        ],
    },
)
def build_ok_same_coworker(c: Any) -> list[Turn]:
    reports = {
        "renewals_june_enterprise_eu": "Contoso 120000 ARR (30 Jun); Fabrikam 80000 ARR (12 Jun)",
        "renewals_june_enterprise_us": "Northwind 210000 ARR (21 Jun)",
    }
    crm = c.agent(
        role(c.rng, "crm"),
        "Pull CRM reports",
        "You run saved CRM reports.",
        tools=[make_tool("crm_report", "Run a saved CRM report by name.", ["report"], table_backend(reports, "none"))],
        max_iter=3,
    )
    editor = c.agent(role(c.rng, "editor"), "Polish text", "You fix wording.")
    manager = c.agent(role(c.rng, "director"), "Forecast renewals", "You coordinate the revenue team.", max_iter=6)
    return custom_manager_crew(
        c, manager, [crm, editor], "Produce the June enterprise renewal forecast (accounts + ARR).", "A table."
    )


@scenario(
    "ok_app_summarizer_keeps_allergy",
    [],
    "app_level_summary_keeps_constraint_multiturn",
    "twin of rot_app_summarizer_drops_allergy: same 3-turn chat and app summariser crew, but both summaries keep "
    "the peanut allergy and the dessert is a nut-free lemon posset: compaction without loss, healthy",
    lambda rng: {
        role(rng, "summarizer"): [
            say("Hosting 6 on Saturday; one guest has a severe peanut allergy (no peanuts). Starter chosen: soup."),
            say("Dinner for 6 on Saturday, severe peanut allergy (no peanuts). Starter: tomato soup. Main: beef ragu."),
        ],
        role(rng, "catering"): [
            call("search_recipes", query="starter tomato soup"),
            say(PEANUT_REPLIES[0]),
            call("search_recipes", query="make-ahead main for 6"),
            say(PEANUT_REPLIES[1]),
            call("search_recipes", query="nut-free shareable dessert"),
            say("Dessert: lemon posset in a big bowl, nut-free, so safe for your guest with the peanut allergy."),
        ],
    },
)
def build_ok_allergy(c: Any) -> list[Turn]:
    return peanut_crew(c, [])  # replaced below


@scenario(
    "ok_char_budget_new_questions",
    [],
    "multi_turn_char_budget_truncation_nothing_needed_lost",
    "twin of rot_char_budget_reasks_email: same 260-character history budget over 3 turns, but every user turn is a "
    "self-contained new question (rate limits, key rotation, SSO) and search_docs runs once per turn; the trimmed "
    "text is never needed again: healthy; default wrapper-mode spans",
    lambda rng: {
        role(rng, "support"): [
            call("search_docs", query="API rate limit Pro plan"),
            say("The Pro plan allows 600 requests per minute per key."),
            call("search_docs", query="rotate API key"),
            say("Create a second key under Settings > API, switch your services to it, then revoke the old one."),
            call("search_docs", query="SSO Pro plan"),
            say("SSO (SAML and OIDC) is included from the Business plan; Pro does not include it."),
        ]
    },
    events=False,
)
def build_ok_budget(c: Any) -> list[Turn]:
    turns = [
        "What's the API rate limit on the Pro plan?",
        "How do I rotate an API key without downtime?",
        "Does the Pro plan include SSO?",
    ]
    replies = [
        "The Pro plan allows 600 requests per minute per key.",
        "Create a second key under Settings > API, switch your services to it, then revoke the old one.",
    ]
    docs = {
        "API rate limit Pro plan": "Pro: 600 req/min per key; Business: 3000.",
        "rotate API key": "Keys: create new key, deploy, revoke old key (no downtime).",
        "SSO Pro plan": "SSO: Business and Enterprise plans only.",
    }
    tool = make_tool("search_docs", "Search product docs.", ["query"], table_backend(docs, "none"))
    return chat_turns(c, "support", [tool], turns, char_budget_histories(turns, replies, 260))


@scenario(
    "ok_delegation_with_history_and_planning",
    [],
    "subagent_gets_history_under_own_prompt_with_planning",
    "planning=True adds crewai's Task Execution Planner call (own system prompt); the lead delegates the contract "
    "question with the customer's earlier conversation pasted as context; the legal coworker answers under its own "
    "system prompt after one read_contract and the lead relays it: healthy hand-off (twin of "
    "handoff_coworker_limit_lead_redoes)",
    lambda rng: {
        PLANNER: [plan_move("1. Delegate the clause lookup to the legal specialist. 2. Relay notice + fee.")],
        role(rng, "lead"): [
            call(
                "delegate",
                task="Extract the termination-notice period and exit fee from contract MSA-2291",
                context="Earlier conversation: Customer: 'We signed MSA-2291 in 2024 and may leave in Q3.' "
                "Account manager: 'I'll check the notice period.' Customer: 'Also the exit fee, please.'",
                coworker=role(rng, "legal"),
            ),
            say("Under MSA-2291 Northwind must give 90 days' written notice; the early exit fee is 2 months of fees."),
        ],
        role(rng, "legal"): [
            call("read_contract", contract_id="MSA-2291", section="termination"),
            say("Clause 14.2: 90 days' written notice. Clause 14.4: early exit fee equal to 2 months of fees."),
        ],
    },
)
def build_ok_history(c: Any) -> list[Turn]:
    read = counter_backend(
        ["14.2 Either party may terminate with 90 days' written notice. 14.4 Early exit fee: two months of fees."]
    )
    lead = c.agent(
        role(c.rng, "lead"),
        "Answer account questions correctly",
        "You coordinate specialists.",
        allow_delegation=True,
        max_iter=6,
    )
    legal = c.agent(
        role(c.rng, "legal"),
        "Read contracts precisely",
        "You quote clauses verbatim.",
        tools=[make_tool("read_contract", "Read a contract section.", ["contract_id", "section"], read)],
        max_iter=4,
    )
    task = c.task(
        "Northwind wants to leave early. What notice period and exit fee apply under MSA-2291?", "Two facts.", lead
    )
    return [Turn(c.crew([lead, legal], [task], planning=True, planning_llm=c.llm()))]


@scenario(
    "ok_parallel_delegations_both_used",
    [],
    "parallel_delegations_both_results_used",
    "the lead issues two delegations in one model response (parallel tool calls) to the SRE and security "
    "coworkers; both run under their own prompts, both results reach the final go/no-go answer: healthy; content "
    "capture off",
    lambda rng: {
        role(rng, "lead"): [
            par(
                (
                    "delegate",
                    {
                        "task": "Check error budget and open incidents for payments-api",
                        "context": "Release 7.3 go/no-go.",
                        "coworker": role(rng, "sre"),
                    },
                ),
                (
                    "delegate",
                    {
                        "task": "Check open critical CVEs in payments-api dependencies",
                        "context": "Release 7.3 go/no-go.",
                        "coworker": role(rng, "security"),
                    },
                ),
            ),
            say("Go for 7.3: error budget 71% left with no open incidents, and no open critical CVEs."),
        ],
        role(rng, "sre"): [call("slo_status", service="payments-api"), say("Error budget 71% left; 0 open incidents.")],
        role(rng, "security"): [call("cve_scan", service="payments-api"), say("0 critical, 2 low CVEs; none block.")],
    },
    hide_content=True,
)
def build_ok_parallel_deleg(c: Any) -> list[Turn]:
    lead = c.agent(
        role(c.rng, "lead"), "Make release decisions", "You decide go/no-go.", allow_delegation=True, max_iter=5
    )
    sre = c.agent(
        role(c.rng, "sre"),
        "Report service health",
        "You read SLO dashboards.",
        tools=[
            make_tool(
                "slo_status",
                "SLO status of a service.",
                ["service"],
                counter_backend(["{service}: error budget 71% remaining, 0 open incidents."]),
            )
        ],
    )
    sec = c.agent(
        role(c.rng, "security"),
        "Report vulnerabilities",
        "You read scanner output.",
        tools=[
            make_tool(
                "cve_scan",
                "Latest CVE scan of a service.",
                ["service"],
                counter_backend(["{service}: critical 0, high 0, low 2."]),
            )
        ],
    )
    task = c.task("Is payments-api release 7.3 a go? Check health and security first.", "Go/no-go + why.", lead)
    return [Turn(c.crew([lead, sre, sec], [task]))]


TICKETS = [f"TCK-{8100 + k}" for k in range(30)]
CATEGORIES = ["billing", "login", "bug", "feature", "shipping", "refund"]


@scenario(
    "ok_long_triage_over_128_attributes",
    [],
    "long_healthy_run_over_128_attributes",
    "support engineer triages 24 tickets, 4 classify_ticket calls in parallel per step over 6 steps (distinct ids, "
    "each a new category) and then summarises; late LLM spans exceed the SDK's 128-attribute limit (dropped "
    "attributes): long but healthy",
    lambda rng: {
        role(rng, "support"): [
            *[{"tools": [["classify_ticket", {"ticket_id": t}] for t in TICKETS[k : k + 4]]} for k in range(0, 24, 4)],
            say("Triaged 24 tickets: " + ", ".join(f"{t}={CATEGORIES[int(t[4:]) % 6]}" for t in TICKETS[:24]) + "."),
        ]
    },
)
def build_ok_long(c: Any) -> list[Turn]:
    def classify(args: dict[str, Any]) -> str:
        t = str(args["ticket_id"])
        return f"{t}: {CATEGORIES[int(t[4:]) % 6]}"

    agent = c.agent(
        role(c.rng, "support"),
        "Triage the inbox",
        "You label tickets.",
        tools=[make_tool("classify_ticket", "Classify one ticket.", ["ticket_id"], classify)],
        max_iter=20,
    )
    return one_task_crew(c, agent, "Triage tickets TCK-8100..TCK-8123 and list each one's category.", "One per ticket.")


# The allergy pair needs the scripted summaries as the history its next turns receive.
def _allergy_build(outputs_of: Callable[[random.Random], dict[str, list[Move]]]) -> Callable[[Any], list[Turn]]:
    def build(c: Any) -> list[Turn]:
        moves = outputs_of(random.Random(0))[role(c.rng, "summarizer")]
        return peanut_crew(c, [str(m["say"]) for m in moves])

    return build


for _name in ("rot_app_summarizer_drops_allergy", "ok_app_summarizer_keeps_allergy"):
    SCENARIOS[_name].build = _allergy_build(SCENARIOS[_name].script)


# ---------------------------------------------------------------------------------------------------------------
# Running one scenario.


def session_id(name: str) -> str:
    return f"crewai-c2-{name.replace('_', '-')}-{(sorted(SCENARIOS).index(name) + 1):03d}"


def run(name: str) -> None:
    from openinference.instrumentation import using_session
    from openinference.instrumentation.crewai import CrewAIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spec = SCENARIOS[name]
    seed = sorted(SCENARIOS).index(name) + 2101
    PICKED.clear()
    base.SCRIPT.clear()
    base.POS.clear()
    base.CALLS.clear()
    # Roles drawn by the script are cached in PICKED and reused by the crew; the summariser lookup in the allergy
    # pair re-runs the script on a throwaway RNG, so roles are drawn here first.
    base.SCRIPT.update(spec.script(random.Random(seed)))
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"crewai-b2-{spec.shape.replace('_', '-')[:40]}"}),
        id_generator=base.SeededIds(seed),
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("chat-app")
    instrumentor = CrewAIInstrumentor()
    kwargs: dict[str, Any] = {"tracer_provider": provider, "use_event_listener": spec.events, "skip_dep_check": True}
    if spec.hide_content:
        kwargs["config"] = base.hidden_config()
    instrumentor.instrument(**kwargs)
    results: list[str] = []
    sid = session_id(name)
    try:
        with base.fake_openai() as base_url, using_session(sid):
            ctx = base.Ctx(base_url, random.Random(seed + 7))
            for k, turn in enumerate(spec.build(ctx)):
                if turn.harness_span:
                    with tracer.start_as_current_span(
                        turn.harness_span, attributes={"session.id": sid, "chat.turn_index": k}
                    ):
                        results.append(_kickoff(turn))
                else:
                    results.append(_kickoff(turn))
    finally:
        instrumentor.uninstrument()
    provider.shutdown()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"crewai_b2_{name}.json"
    path.write_text(json.dumps(base.to_otlp_json(exporter), separators=(",", ":"), ensure_ascii=False) + "\n")
    spans = exporter.get_finished_spans()
    dropped = max((s.dropped_attributes for s in spans), default=0)
    print(
        f"{path.name}: {len(spans)} spans, {len(base.CALLS)} LLM calls, {path.stat().st_size // 1024} KB, max "
        f"dropped attrs {dropped}, session {sid}"
    )
    for c in base.CALLS:
        move = c["move"]
        what = move.get("say") or move.get("tool") or move.get("tools") or f"HTTP {move.get('error')}"
        print(f"   {c['agent'][:28]:<28} #{c['call']:<2} {str(what)[:80]!r}")
    for r in results:
        print(f"   => {r[:160]!r}")


def _kickoff(turn: Turn) -> str:
    try:
        return str(turn.crew.kickoff(inputs=turn.inputs))
    except (Exception, SystemExit) as exc:  # the run's own failure is part of the scenario
        return f"{type(exc).__name__}: {exc}"


def write_labels() -> None:
    lines = ["# One entry per session, written by corpus2_crewai.py from what each scenario scripted.", ""]
    for name in sorted(SCENARIOS):
        spec = SCENARIOS[name]
        kinds = ", ".join(f'"{k}"' for k in spec.kinds)
        why = spec.why.replace("\\", "\\\\").replace('"', '\\"')
        lines += [
            "[[session]]",
            f'session_id = "{session_id(name)}"',
            f'file = "out/crewai_b2_{name}.json"',
            f"kinds = [{kinds}]",
            f'shape = "{spec.shape}"',
            f'why = "{why}"',
            f'instrumentation = "{"event_listener" if spec.events else "default_wrapper"}"',
            f"content_captured = {str(not spec.hide_content).lower()}",
            "",
        ]
    (HERE / "labels_crewai.toml").write_text("\n".join(lines))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        run(argv[1])
        return
    if argv[:1] == ["--labels"]:
        write_labels()
        return
    chosen = argv or sorted(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}; known: {', '.join(sorted(SCENARIOS))}")
    env = {**os.environ, "CAPTURE_SCRATCH": str(base.SCRATCH)}
    for name in chosen:
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one", name], check=True, env=env)
    write_labels()


if __name__ == "__main__":
    main(sys.argv[1:])
