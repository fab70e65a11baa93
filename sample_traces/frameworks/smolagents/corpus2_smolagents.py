"""Second labeled batch of the stepseven evaluation corpus: real smolagents runs under OpenInference, offline.

Pinned versions (``pip freeze`` of /work/cap/smolagents/.venv, Python 3.11.7):

    smolagents==1.26.0
    openinference-instrumentation-smolagents==0.1.43
    openinference-instrumentation==0.1.72
    openinference-semantic-conventions==0.1.42
    opentelemetry-sdk==1.45.2  (opentelemetry-api==1.45.2)

Run (regenerates every session deterministically; nothing leaves the machine):

    /work/cap/smolagents/.venv/bin/python corpus2_smolagents.py [SHAPE ...]   # all sessions by default

Writes ``out/smolagents_b2_<shape>.json`` (one OTLP/JSON ExportTraceServiceRequest per file) and
``labels_smolagents.toml`` next to this script. Labels are decided by the script (what each scripted run really
did), never by an analyzer.

Machinery (scripted ``Model``, scripted tool backends, simulated clock, ``to_otlp_json``) is imported by path from
the first batch, /work/cap/smolagents/corpus/corpus_smolagents.py ($CORPUS1_SCRIPT overrides). smolagents is run
the way its users run it: ``ToolCallingAgent`` / ``CodeAgent`` ``run()``, managed agents, default settings except
``max_steps``, ``instructions``, ``step_callbacks``, ``reset`` where a shape needs them;
``SmolagentsInstrumentor().instrument(tracer_provider=..., config=TraceConfig(...))`` and
``openinference.instrumentation.using_session(session_id)``. Only the model provider and tool backends are faked.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import smolagents
from openinference.instrumentation import TraceConfig, using_session
from openinference.instrumentation.smolagents import SmolagentsInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Status, StatusCode
from smolagents import CodeAgent, ToolCallingAgent
from smolagents.memory import ActionStep, MemoryStep, SystemPromptStep, TaskStep
from smolagents.models import ChatMessage, MessageRole
from smolagents.utils import AgentGenerationError

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
C1_PATH = Path(os.environ.get("CORPUS1_SCRIPT", "/work/cap/smolagents/corpus/corpus_smolagents.py"))


def _load_batch1() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_smolagents", C1_PATH)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {C1_PATH}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_smolagents"] = module
    spec.loader.exec_module(module)
    return module


c1 = _load_batch1()

Reply = c1.Reply
ScriptedModel = c1.ScriptedModel
call, say, code, fail, parallel = c1.call, c1.say, c1.code, c1.fail, c1.parallel
make_tool, seq, const, p = c1.make_tool, c1.seq, c1.const, c1.p
QUIET = c1.QUIET
CONFIGS = {**c1.CONFIGS, "inputs_off": TraceConfig(hide_inputs=True)}
BASE_NS = 1_764_576_000_000_000_000  # 2025-12-01T08:00:00Z
SPACING_S = 4_620  # 77 minutes between session starts

MODELS = ["gpt-4.1-mini", "claude-haiku-4-5", "gpt-4o", "meta-llama/Llama-3.3-70B-Instruct", "mistral-large-latest"]
CODER_MODELS = ["Qwen/Qwen2.5-Coder-32B-Instruct", "gpt-4.1", "claude-sonnet-4-5", "deepseek-ai/DeepSeek-V3"]


def model(rng: random.Random, script: list[Any], coder: bool = False) -> Any:
    return ScriptedModel(rng.choice(CODER_MODELS if coder else MODELS), script)


def pick(rng: random.Random, *names: str) -> str:
    return rng.choice(names)


def rid(rng: random.Random, prefix: str) -> str:
    return f"{prefix}{rng.getrandbits(40):010x}"


# ---------------------------------------------------------------- registry


@dataclass
class Session:
    shape: str
    kinds: list[str]
    content: str  # "on" (default), "off" (hide_inputs+hide_outputs), "redacted" (text hidden), "inputs_off"
    why: str
    service: str
    fn: Callable[[random.Random, Any], None]
    session_id: str = ""
    index: int = 0


SESSIONS: list[Session] = []


def session(shape: str, kinds: list[str], content: str, service: str, why: str) -> Callable[[Any], Any]:
    def register(fn: Callable[[random.Random, Any], None]) -> Callable[[random.Random, Any], None]:
        digest = hashlib.sha256(f"stepseven-corpus2/{shape}".encode()).hexdigest()
        SESSIONS.append(Session(shape, kinds, content, why, service, fn, f"smolagents-c2-{digest[:12]}", len(SESSIONS)))
        return fn

    return register


def harness_turn(tracer: Any, n: int, route: str = "POST /api/chat") -> Any:
    return tracer.start_as_current_span(route, attributes={"http.request.method": "POST", "chat.turn": n})


def summarize_into_task(summarizer: Any, agent: Any, system: str) -> None:
    """Compaction a harness does between turns: one summarizer call, memory replaced by the summary."""
    history = "\n".join(str(m.content) for s in agent.memory.steps for m in s.to_messages())
    messages = [
        ChatMessage(role=MessageRole.SYSTEM, content=[{"type": "text", "text": system}]),
        ChatMessage(role=MessageRole.USER, content=[{"type": "text", "text": history}]),
    ]
    summary = summarizer.generate(messages).content
    agent.memory.steps = [TaskStep(task=f"[conversation summary]\n{summary}")]


def slim_system_prompt(after_step: int, slim: str) -> Callable[[MemoryStep, Any], None]:
    """A token-saving step callback: after step N, swaps the long system prompt for a short one."""

    def callback(step: MemoryStep, agent: Any) -> None:
        if isinstance(step, ActionStep) and step.step_number == after_step:
            agent.memory.system_prompt = SystemPromptStep(system_prompt=slim)

    return callback


# ================================================================ runaway_loop positives


@session(
    "alternating_rewordings_until_limit",
    ["runaway_loop"],
    "redacted",
    "support-chat",
    "ToolCallingAgent alternates two phrasings of one help-center search; every call returns the same two "
    "generic articles (no new information); max_steps hit and smolagents forces a final answer: runaway_loop",
)
def alternating_rewordings_until_limit(rng: random.Random, tracer: Any) -> None:
    device = pick(rng, "AirPurifier X3", "SoundBar S2", "RoboVac R7")
    search = make_tool(
        pick(rng, "search_help_center", "kb_lookup"),
        "Searches the public help center; returns matching article titles and snippets.",
        {"query": p("Search text.")},
        const(f"KB-204 'Resetting your {device}' (reset steps); KB-118 'Warranty overview' (2 years, standard)"),
    )
    a = f"{device} extended warranty liquid damage"
    b = f"does Care+ cover water damage on {device}"
    steps = rng.randint(6, 7)
    script = [call(search.name, query=(a if n % 2 == 0 else b)) for n in range(steps)]
    script.append(say("I couldn't find whether Care+ covers liquid damage; please contact support."))
    agent = ToolCallingAgent(
        tools=[search],
        model=model(rng, script),
        name=pick(rng, "warranty_helper", "care_plus_bot"),
        max_steps=steps,
        verbosity_level=QUIET,
    )
    agent.run(f"My {device} got coffee spilled on it. Does my Care+ extended warranty cover liquid damage?")


@session(
    "error_varies_by_request_id",
    ["runaway_loop"],
    "off",
    "data-analysis",
    "run_sql fails 4 times with the same WarehouseUnavailable message that differs only by its request_id; the "
    "agent re-lists and re-describes tables between attempts with no change, then gives up: runaway_loop",
)
def error_varies_by_request_id(rng: random.Random, tracer: Any) -> None:
    def failing_sql(_: dict[str, Any]) -> str:
        raise RuntimeError(
            "WarehouseUnavailable: cluster analytics-prod is resuming from auto-suspend, "
            f"try again later (request_id={rid(rng, 'rq-')})"
        )

    sql = make_tool("run_sql", "Runs read-only SQL on the warehouse.", {"sql": p("SQL text.")}, failing_sql)
    tables = make_tool(
        "list_tables", "Lists tables of a schema.", {"schema": p("Schema.")}, const("orders, order_items, refunds")
    )
    describe = make_tool(
        "describe_table",
        "Returns the columns of a table.",
        {"table": p("Table.")},
        const("refunds(id, order_id, amount_eur, reason, created_at)"),
    )
    query = "SELECT reason, SUM(amount_eur) FROM sales.refunds WHERE created_at >= '2025-11-01' GROUP BY 1"
    script = [
        call("list_tables", schema="sales"),
        call("run_sql", sql=query),
        call("describe_table", table="sales.refunds"),
        call("run_sql", sql=query),
        call("list_tables", schema="sales"),
        call("run_sql", sql=query),
        call("describe_table", table="sales.refunds"),
        call("run_sql", sql=query),
        call("final_answer", answer="The warehouse is unavailable right now, so I could not compute refunds."),
    ]
    agent = ToolCallingAgent(
        tools=[sql, tables, describe],
        model=model(rng, script),
        name=pick(rng, "refund_analyst", "finance_sql_agent"),
        max_steps=12,
        verbosity_level=QUIET,
    )
    agent.run("Break down November refunds by reason, in EUR.")


@session(
    "subagent_cursor_pager_never_finishes",
    ["runaway_loop", "failed_handoff"],
    "redacted",
    "support-ops",
    "managed ticket exporter follows an opaque next_cursor that is always present; each call advances the cursor "
    "but the listing never ends; the sub-agent hits max_steps and hands back only the forced give-up answer: "
    "runaway_loop (pager) and failed_handoff (sub-agent hit its limit)",
)
def subagent_cursor_pager_never_finishes(rng: random.Random, tracer: Any) -> None:
    def page(args: dict[str, Any]) -> str:
        cur = str(args.get("cursor") or "start")
        nxt = hashlib.sha1(cur.encode()).hexdigest()[:16]
        return f"25 tickets (status=closed, tag=refund), next_cursor={nxt}"

    lister = make_tool(
        "list_tickets",
        "Lists helpdesk tickets, 25 per call; pass next_cursor to continue.",
        {"tag": p("Ticket tag."), "cursor": p("Cursor from the previous call, empty for the first page.")},
        page,
    )
    limit = rng.randint(5, 6)
    cursors = [""]
    for _ in range(limit):
        cursors.append(hashlib.sha1((cursors[-1] or "start").encode()).hexdigest()[:16])
    sub_script = [call("list_tickets", tag="refund", cursor=cursors[n]) for n in range(limit)]
    sub_script.append(say("I could not finish listing the refund tickets; the export kept returning more pages."))
    exporter = ToolCallingAgent(
        tools=[lister],
        model=model(rng, sub_script),
        name=pick(rng, "ticket_exporter", "helpdesk_exporter"),
        description="Exports helpdesk tickets matching a tag.",
        max_steps=limit,
        verbosity_level=QUIET,
    )
    manager_script = [
        call(exporter.name, task="Export all closed tickets tagged 'refund' and count them."),
        call("final_answer", answer="The export did not complete, so I don't have the refund-ticket count yet."),
    ]
    manager = ToolCallingAgent(
        tools=[],
        model=model(rng, manager_script),
        managed_agents=[exporter],
        name="ops_coordinator",
        max_steps=4,
        verbosity_level=QUIET,
    )
    manager.run("How many refund tickets did we close this quarter?")


@session(
    "code_forbidden_open_repeats",
    ["runaway_loop"],
    "on",
    "code-repair-bot",
    "CodeAgent keeps reading a config with open() (not allowed by smolagents' local executor), each step's code "
    "slightly different but failing with the same InterpreterError, until max_steps: runaway_loop",
)
def code_forbidden_open_repeats(rng: random.Random, tracer: Any) -> None:
    fetch = make_tool(
        "fetch_repo_file",
        "Returns a file of the repository as text.",
        {"path": p("Path in the repo.")},
        const("retries: 3\ntimeout_s: 5\n"),
    )
    bodies = [
        'with open("config/http.yaml") as f:\n    cfg = f.read()\nprint(cfg)',
        'fh = open("config/http.yaml", "r")\nprint(fh.read())',
        'text = open("./config/http.yaml").read()\nprint(text.splitlines())',
        'with open("config/http.yaml", encoding="utf-8") as handle:\n    print(handle.read())',
    ]
    steps = rng.randint(3, 4)
    script = [code("Read the HTTP client config to find the timeout.", bodies[n]) for n in range(steps)]
    script.append(say("I could not read config/http.yaml, so I can't tell which timeout causes the flaky test."))
    agent = CodeAgent(tools=[fetch], model=model(rng, script, coder=True), max_steps=steps, verbosity_level=QUIET)
    agent.run("test_http_retry is flaky. Check config/http.yaml and tell me whether the timeout is too low.")


@session(
    "repeated_delegation_same_answer",
    ["runaway_loop"],
    "off",
    "ip-research",
    "manager re-delegates the same prior-art question to its patent searcher 5 times in re-worded forms; every "
    "sub-run completes and reports the same 'no matching patent'; manager hits max_steps: runaway_loop "
    "(each handoff itself succeeded, so not failed_handoff)",
)
def repeated_delegation_same_answer(rng: random.Random, tracer: Any) -> None:
    search = make_tool(
        "search_patents",
        "Full-text search over granted patents.",
        {"query": p("Query.")},
        const("0 patents matched."),
    )
    tasks = [
        "Find prior art for a hinge that folds a phone screen with a liquid-metal spine.",
        "Search patents on liquid metal hinges for foldable displays.",
        "Any granted patent on foldable screen hinge using gallium alloy?",
        "Look for prior art: amorphous metal hinge, foldable phone.",
        "Patents on foldable display hinges made of liquid metal, any jurisdiction.",
    ]
    limit = len(tasks)
    sub_script: list[Any] = []
    for t in tasks:
        sub_script += [call("search_patents", query=t[:60]), call("final_answer", answer="No matching patent found.")]
    searcher = ToolCallingAgent(
        tools=[search],
        model=model(rng, sub_script),
        name=pick(rng, "patent_searcher", "prior_art_agent"),
        description="Searches granted patents and reports matches.",
        max_steps=3,
        verbosity_level=QUIET,
    )
    script = [call(searcher.name, task=t) for t in tasks]
    script.append(say("I could not find prior art for the liquid-metal hinge."))
    manager = ToolCallingAgent(
        tools=[],
        model=model(rng, script),
        managed_agents=[searcher],
        name="ip_lead",
        max_steps=limit,
        verbosity_level=QUIET,
    )
    manager.run("Is there prior art for our liquid-metal foldable hinge? Be thorough.")


# ================================================================ context_rot positives

SLIM_PROMPT = (
    "You are a helpful assistant that solves tasks with tool calls. Call final_answer with the result when done."
)


@session(
    "system_prompt_swapped_drops_instruction",
    ["context_rot"],
    "on",
    "billing-agent",
    "instructions= says 'never send emails yourself, only draft_email'; a token-saving step callback swaps the "
    "system prompt for a short generic one after step 2, and the agent then calls send_email: context_rot",
)
def system_prompt_swapped_drops_instruction(rng: random.Random, tracer: Any) -> None:
    account = f"acct_{rng.randint(10000, 99999)}"
    get_account = make_tool(
        "get_account",
        "Returns an account with its dunning state.",
        {"account_id": p("Account id.")},
        const(f"{account}: Nordwind GmbH, 2 overdue invoices (1,240 EUR), contact ap@nordwind.example"),
    )
    invoices = make_tool(
        "list_overdue_invoices",
        "Lists overdue invoices of an account.",
        {"account_id": p("Account id.")},
        const("INV-8812 820 EUR due 2025-10-15; INV-8901 420 EUR due 2025-11-01"),
    )
    draft = make_tool(
        "draft_email",
        "Creates an email draft for human review.",
        {"to": p("Recipient."), "subject": p("Subject."), "body": p("Body.")},
        const("draft saved"),
    )
    send = make_tool(
        "send_email",
        "Sends an email immediately.",
        {"to": p("Recipient."), "subject": p("Subject."), "body": p("Body.")},
        const("sent, message id <m-55120@mail>"),
    )
    body = "Dear Nordwind team, invoices INV-8812 (820 EUR) and INV-8901 (420 EUR) are overdue. Please pay."
    script = [
        call("get_account", account_id=account),
        call("list_overdue_invoices", account_id=account),
        call("send_email", to="ap@nordwind.example", subject="Overdue invoices", body=body),
        call("final_answer", answer="I emailed Nordwind's AP team about the two overdue invoices (1,240 EUR)."),
    ]
    agent = ToolCallingAgent(
        tools=[get_account, invoices, draft, send],
        model=model(rng, script),
        name="collections_agent",
        instructions="Never send emails to customers yourself: only create drafts with draft_email; "
        "a human reviews and sends them.",
        step_callbacks=[slim_system_prompt(2, SLIM_PROMPT)],
        max_steps=8,
        verbosity_level=QUIET,
    )
    agent.run(f"Prepare a payment reminder for {account} about its overdue invoices.")


@session(
    "between_turn_compaction_drops_vegetarian",
    ["context_rot"],
    "on",
    "events-concierge",
    "3-turn chat with reset=False; between turns 2 and 3 the harness compacts memory with a summarizer call whose "
    "summary drops 'everyone is vegetarian'; in turn 3 the agent books a meat-only bouchon: context_rot",
)
def between_turn_compaction_drops_vegetarian(rng: random.Random, tracer: Any) -> None:
    city = pick(rng, "Lyon", "Bordeaux")
    restaurants = make_tool(
        "search_restaurants",
        "Searches restaurants; returns name, cuisine, private room availability.",
        {"city": p("City."), "filters": p("Comma-separated filters.")},
        seq(
            f"{city}: Les Mauvaises Herbes (vegetarian, no private room), Le Potager (vegetarian, terrace)",
            f"{city}: Bouchon Comptoir (traditional bouchon, meat-focused menu, private room for 10)",
        ),
    )
    venues = make_tool(
        "search_venues",
        "Searches meeting rooms for a date.",
        {"city": p("City."), "date": p("YYYY-MM-DD."), "people": p("Headcount.", "integer")},
        const(f"{city}: La Cordée Part-Dieu room B (8 seats, 09:00-13:00 free, 240 EUR)"),
    )
    book = make_tool(
        "book_table",
        "Books a restaurant table.",
        {"restaurant": p("Name."), "date": p("YYYY-MM-DD."), "time": p("HH:MM."), "people": p("N.", "integer")},
        const("Confirmed: Bouchon Comptoir, private room, 2026-03-14 19:30, 8 people, ref BC-2291"),
    )
    summarizer = ScriptedModel(
        "gpt-4.1-nano",
        [
            say(
                f"Team offsite in {city} on 2026-03-14 for 8 people. Dinner options looked at: Les Mauvaises Herbes, "
                "Le Potager. Morning workshop room found: La Cordée room B, 240 EUR."
            )
        ],
    )
    script = [
        call("search_restaurants", city=city, filters="vegetarian"),
        call("final_answer", answer="Les Mauvaises Herbes and Le Potager are fully vegetarian; shall I book one?"),
        call("search_venues", city=city, date="2026-03-14", people=8),
        call("final_answer", answer="La Cordée room B is free 09:00-13:00 for 240 EUR."),
        call("search_restaurants", city=city, filters="private room"),
        call("book_table", restaurant="Bouchon Comptoir", date="2026-03-14", time="19:30", people=8),
        call("final_answer", answer="Booked Bouchon Comptoir's private room at 19:30 for 8 (ref BC-2291)."),
    ]
    agent = ToolCallingAgent(
        tools=[restaurants, venues, book],
        model=model(rng, script),
        name="offsite_planner",
        max_steps=6,
        verbosity_level=QUIET,
    )
    turns = [
        f"Plan dinner for our team offsite in {city} on 14 March 2026, 8 people. Everyone is vegetarian.",
        "Also find a room for a morning workshop that day.",
        "For dinner we need a private room. Please book 19:30.",
    ]
    for n, turn in enumerate(turns, 1):
        with harness_turn(tracer, n):
            if n == 3:
                with tracer.start_as_current_span("compact_history", attributes={"history.steps": 4}):
                    summarize_into_task(summarizer, agent, "Summarize this chat for a travel agent, be brief.")
            agent.run(turn, reset=(n == 1))


@session(
    "multiturn_context_length_exceeded",
    ["context_rot"],
    "off",
    "sre-assistant",
    "2-turn incident chat with reset=False; full log dumps (~77k tokens each) stay in memory; the 2nd model call "
    "of turn 2 exceeds the 128k window (context_length_exceeded), the run raises and the harness returns 500: "
    "context_rot",
)
def multiturn_context_length_exceeded(rng: random.Random, tracer: Any) -> None:
    words = ["GET", "/checkout", "502", "upstream", "timeout", "pod", "retry", "200", "POST", "/pay"]
    filler = random.Random(11)

    def logs(args: dict[str, Any]) -> str:
        return f"{args['service']} logs {args['window']}: " + " ".join(filler.choice(words) for _ in range(52_000))

    fetch = make_tool(
        pick(rng, "fetch_logs", "query_loki"),
        "Returns raw logs of a service for a time window.",
        {"service": p("Service."), "window": p("e.g. 03:00-03:20.")},
        logs,
    )
    script = [
        call(fetch.name, service="checkout-api", window="03:00-03:20"),
        call("final_answer", answer="checkout-api returned 502s from 03:10: upstream payments-api timed out."),
        call(fetch.name, service="payments-api", window="03:00-03:20"),
        call("final_answer", answer="unused"),
    ]
    agent = ToolCallingAgent(
        tools=[fetch], model=model(rng, script), name="incident_helper", max_steps=6, verbosity_level=QUIET
    )
    turns = ["Why did checkout-api 5xx spike around 03:10?", "And what happened in payments-api at that time?"]
    for n, turn in enumerate(turns, 1):
        with harness_turn(tracer, n, "POST /incident/chat") as span:
            try:
                agent.run(turn, reset=(n == 1))
            except AgentGenerationError as exc:
                span.set_status(Status(StatusCode.ERROR, "model call failed"))
                span.set_attribute("http.response.status_code", 500)
                span.record_exception(exc)


@session(
    "stateless_harness_reasks_account",
    ["context_rot"],
    "on",
    "telecom-support",
    "the web harness builds a fresh agent per request and passes only the new message; in turn 2 the agent asks "
    "again for the account number and postcode the user gave in turn 1; turn 3 the user repeats them: context_rot",
)
def stateless_harness_reasks_account(rng: random.Random, tracer: Any) -> None:
    account = f"{rng.randint(100000, 999999)}"
    postcode = pick(rng, "M14 5RT", "LS6 2AB", "BS7 8NQ")
    outage = make_tool(
        "check_outage",
        "Checks broadband outages for an account's line.",
        {"account_number": p("Account."), "postcode": p("Postcode.")},
        const(f"No area outage at {postcode}; line test: sync lost at cabinet 14, fault ticket needed"),
    )
    visit = make_tool(
        "book_engineer",
        "Books an engineer visit.",
        {"account_number": p("Account."), "postcode": p("Postcode."), "day": p("YYYY-MM-DD.")},
        const("Engineer booked 2025-12-04, 08:00-13:00, ref ENG-7781"),
    )
    answers = [
        [
            call("check_outage", account_number=account, postcode=postcode),
            call("final_answer", answer="No outage in your area, but your line lost sync at the cabinet."),
        ],
        [call("final_answer", answer="Happy to book that. Could you give me your account number and postcode?")],
        [
            call("book_engineer", account_number=account, postcode=postcode, day="2025-12-04"),
            call("final_answer", answer="An engineer is booked Thursday 4 Dec, 08:00-13:00 (ref ENG-7781)."),
        ],
    ]
    turns = [
        f"My broadband is down. Account {account}, postcode {postcode}.",
        "Can you book an engineer for Thursday?",
        f"I gave it already: {account}, {postcode}.",
    ]
    llm = pick(rng, *MODELS)
    for n, (turn, script) in enumerate(zip(turns, answers, strict=True), 1):
        with harness_turn(tracer, n, "POST /support/messages"):
            agent = ToolCallingAgent(
                tools=[outage, visit],
                model=ScriptedModel(llm, script),
                name="broadband_support",
                max_steps=5,
                verbosity_level=QUIET,
            )
            agent.run(turn)


# ================================================================ failed_handoff positives


@session(
    "subagent_step_limit_partial_report",
    ["failed_handoff"],
    "off",
    "pricing-intel",
    "CodeAgent manager delegates a 5-competitor price check to a managed collector with max_steps=3; it makes 3 "
    "distinct lookups, hits its limit and returns a forced partial report; the manager answers with 3 of 5: "
    "failed_handoff (sub-agent hit its limit; distinct calls, not a loop)",
)
def subagent_step_limit_partial_report(rng: random.Random, tracer: Any) -> None:
    shops = ["Fnac", "Darty", "Boulanger", "Cdiscount", "Amazon.fr"]
    prices = {s: 299 + 10 * i for i, s in enumerate(shops)}
    price = make_tool(
        "get_shop_price",
        "Returns the current price of a product at a shop.",
        {"shop": p("Shop."), "product": p("Product.")},
        lambda a: f"{a['shop']}: {prices.get(a['shop'], 0)} EUR, in stock",
    )
    product = pick(rng, "Sony WH-1000XM6", "Bose QC Ultra")
    sub_script = [call("get_shop_price", shop=s, product=product) for s in shops[:3]]
    sub_script.append(say(f"Partial: Fnac 299, Darty 309, Boulanger 319 EUR for {product}; others not checked."))
    collector = ToolCallingAgent(
        tools=[price],
        model=model(rng, sub_script),
        name=pick(rng, "price_collector", "shop_scraper"),
        description="Collects competitor prices for a product.",
        max_steps=3,
        verbosity_level=QUIET,
    )
    script = [
        code(
            "Ask the collector for all five shops.",
            f'report = {collector.name}(task="Get {product} prices at {", ".join(shops)}.")\nprint(report)',
        ),
        code("Answer with what came back.", 'final_answer("Cheapest found: Fnac at 299 EUR (3 shops checked).")'),
    ]
    manager = CodeAgent(
        tools=[],
        model=model(rng, script, coder=True),
        managed_agents=[collector],
        max_steps=4,
        verbosity_level=QUIET,
    )
    manager.run(f"Where is {product} cheapest among Fnac, Darty, Boulanger, Cdiscount and Amazon.fr?")


@session(
    "delegation_bad_arguments_never_starts",
    ["failed_handoff"],
    "on",
    "recruiting-ops",
    "the coordinator calls its managed calendar agent with 'request'/'attendees' instead of 'task'; smolagents "
    "rejects the arguments, the calendar agent never starts, yet the coordinator tells the user the interview is "
    "being scheduled: failed_handoff",
)
def delegation_bad_arguments_never_starts(rng: random.Random, tracer: Any) -> None:
    calendar = ToolCallingAgent(
        tools=[
            make_tool(
                "create_event",
                "Creates a calendar event.",
                {"title": p("Title."), "start": p("ISO start."), "attendees": p("Emails.")},
                const("unused"),
            )
        ],
        model=model(rng, [say("unused")]),
        name="calendar_agent",
        description="Schedules meetings in the team calendar.",
        max_steps=4,
        verbosity_level=QUIET,
    )
    candidate = pick(rng, "Priya Raman", "Tomás Ortega", "Lena Fischer")
    script = [
        call(
            "calendar_agent",
            request=f"Schedule a 45-min interview with {candidate} on Tuesday afternoon",
            attendees=["hm@acme.example", "candidate@mail.example"],
        ),
        call("final_answer", answer=f"The calendar agent is scheduling {candidate}'s interview for Tuesday."),
    ]
    coordinator = ToolCallingAgent(
        tools=[],
        model=model(rng, script),
        managed_agents=[calendar],
        name="recruiting_coordinator",
        max_steps=4,
        verbosity_level=QUIET,
    )
    coordinator.run(f"Set up the onsite interview with {candidate} next Tuesday afternoon with the hiring manager.")


@session(
    "delegation_loop_rate_limit_output_lost",
    ["failed_handoff"],
    "on",
    "sales-analytics",
    "CodeAgent manager delegates per region in a for-loop; the 1st sub-run succeeds, the 2nd sub-run's model call "
    "gets a 429 and raises, the whole code step fails so no report reaches the manager's model, which then "
    "answers with made-up numbers: failed_handoff",
)
def delegation_loop_rate_limit_output_lost(rng: random.Random, tracer: Any) -> None:
    crm = make_tool(
        "query_crm",
        "Returns pipeline totals from the CRM.",
        {"region": p("Region."), "quarter": p("Quarter.")},
        const("EMEA Q4: 41 open deals, 3.2M EUR weighted"),
    )
    limit_err = c1.ProviderError(
        "Error code: 429 - {'error': {'message': 'Rate limit reached for requests per minute', "
        "'type': 'requests', 'code': 'rate_limit_exceeded'}}"
    )
    analyst = ToolCallingAgent(
        tools=[crm],
        model=model(
            rng,
            [
                call("query_crm", region="EMEA", quarter="Q4"),
                call("final_answer", answer="EMEA Q4: 41 open deals, 3.2M EUR weighted."),
                fail(limit_err),
            ],
        ),
        name=pick(rng, "regional_analyst", "pipeline_analyst"),
        description="Summarizes the CRM pipeline of one region.",
        max_steps=3,
        verbosity_level=QUIET,
    )
    body = (
        "reports = {}\n"
        'for region in ["EMEA", "APAC", "AMER"]:\n'
        f'    reports[region] = {analyst.name}(task=f"Q4 pipeline summary for {{region}}")\n'
        "print(reports)"
    )
    script = [
        code("Delegate each region to the analyst.", body),
        code("Summarize.", 'final_answer("Q4 pipeline is about 9M EUR weighted across EMEA, APAC and AMER.")'),
    ]
    manager = CodeAgent(
        tools=[],
        model=model(rng, script, coder=True),
        managed_agents=[analyst],
        max_steps=4,
        verbosity_level=QUIET,
    )
    manager.run("Give me the Q4 weighted pipeline by region.")


@session(
    "parallel_delegation_one_limit_caller_redoes",
    ["failed_handoff"],
    "off",
    "travel-assistant",
    "manager delegates flights and hotels in one parallel tool-call reply; the hotel agent hits max_steps=2 "
    "(distinct searches) and returns a forced non-answer; the manager then searches hotels itself: "
    "failed_handoff (sub-agent hit its limit, caller redid the work)",
)
def parallel_delegation_one_limit_caller_redoes(rng: random.Random, tracer: Any) -> None:
    city = pick(rng, "Kyoto", "Osaka")
    flights = ToolCallingAgent(
        tools=[
            make_tool(
                "search_flights",
                "Searches flights.",
                {"origin": p("IATA."), "destination": p("IATA."), "date": p("YYYY-MM-DD.")},
                const("LH716 FRA-HND 2026-04-02 13:45, 1,020 EUR"),
            )
        ],
        model=model(
            rng,
            [
                call("search_flights", origin="FRA", destination="HND", date="2026-04-02"),
                call("final_answer", answer="LH716 FRA-HND 2 Apr 13:45, 1,020 EUR."),
            ],
        ),
        name="flight_agent",
        description="Finds flights.",
        max_steps=3,
        verbosity_level=QUIET,
    )
    hotel_tool = make_tool(
        "search_hotels",
        "Searches hotels.",
        {"city": p("City."), "area": p("Neighbourhood.")},
        lambda a: f"{a['city']} {a['area']}: 0 rooms under 150 EUR on 2026-04-03..06",
    )
    hotels = ToolCallingAgent(
        tools=[hotel_tool],
        model=model(
            rng,
            [
                call("search_hotels", city=city, area="Gion"),
                call("search_hotels", city=city, area="Downtown"),
                say("I could not find a hotel in the remaining steps."),
            ],
        ),
        name="hotel_agent",
        description="Finds hotels.",
        max_steps=2,
        verbosity_level=QUIET,
    )
    own_hotels = make_tool(
        "hotel_search",
        "Searches hotels (direct).",
        {"city": p("City."), "max_price_eur": p("Max per night.", "integer")},
        const(f"{city}: Hotel Resol Sanjo 138 EUR/night, free cancellation"),
    )
    script = [
        parallel(
            ("flight_agent", {"task": "Flight Frankfurt to Tokyo on 2 April 2026."}),
            ("hotel_agent", {"task": f"Hotel in {city} 3-6 April 2026 under 150 EUR/night."}),
        ),
        call("hotel_search", city=city, max_price_eur=150),
        call("final_answer", answer=f"Flight LH716 on 2 Apr (1,020 EUR); Hotel Resol Sanjo in {city}, 138 EUR."),
    ]
    manager = ToolCallingAgent(
        tools=[own_hotels],
        model=model(rng, script),
        managed_agents=[flights, hotels],
        name="trip_planner",
        max_steps=5,
        verbosity_level=QUIET,
    )
    manager.run(f"Plan my trip: Frankfurt to Tokyo on 2 April, then {city} 3-6 April, hotel under 150 EUR/night.")


# ================================================================ negatives (twins)


@session(
    "alternating_queries_new_info",
    [],
    "off",
    "research-assistant",
    "healthy twin of alternating re-wordings: two phrasings alternate over 4 searches but every result brings new "
    "sources (different years / bodies); cited answer after step 5",
)
def alternating_queries_new_info(rng: random.Random, tracer: Any) -> None:
    search = make_tool(
        pick(rng, "scholar_search", "search_papers"),
        "Searches academic papers.",
        {"query": p("Query.")},
        seq(
            "Smith 2021 (Nature Energy): LFP cells keep 80% capacity after 3,000 cycles at 25C.",
            "Kwon 2022 (Joule): at 45C, LFP fades to 80% after 1,900 cycles.",
            "Li 2023 (JES): NMC811 reaches 80% after 1,100 cycles at 25C.",
            "Meta-review 2024 (Batteries): LFP 2,500-4,000 cycles vs NMC 1,000-2,000 cycles to 80%.",
        ),
    )
    a, b = "LFP cycle life 80% capacity", "lithium iron phosphate degradation cycles"
    script = [
        call(search.name, query=a),
        call(search.name, query=b + " high temperature"),
        call(search.name, query=a.replace("LFP", "NMC811")),
        call(search.name, query=b + " review"),
        call("final_answer", answer="LFP lasts ~2,500-4,000 cycles to 80% (less when hot), NMC ~1,000-2,000."),
    ]
    agent = ToolCallingAgent(
        tools=[search], model=model(rng, script), name="lit_reviewer", max_steps=8, verbosity_level=QUIET
    )
    agent.run("How many cycles do LFP cells last compared with NMC, to 80% capacity? Cite papers.")


@session(
    "warehouse_resume_error_once_recovers",
    [],
    "on",
    "data-analysis",
    "healthy twin of the request-id error loop: run_sql fails once (WarehouseUnavailable, request_id), the agent "
    "checks the schema, the retry succeeds and it answers",
)
def warehouse_resume_error_once_recovers(rng: random.Random, tracer: Any) -> None:
    sql = make_tool(
        "run_sql",
        "Runs read-only SQL on the warehouse.",
        {"sql": p("SQL text.")},
        seq(
            RuntimeError(
                "WarehouseUnavailable: cluster analytics-prod is resuming from auto-suspend, try again later "
                f"(request_id={rid(rng, 'rq-')})"
            ),
            "country,active_users\nDE,18204\nFR,15877\nES,9120",
        ),
    )
    describe = make_tool(
        "describe_table", "Returns the columns of a table.", {"table": p("Table.")}, const("users(id, country, active)")
    )
    query = "SELECT country, COUNT(*) FROM core.users WHERE active GROUP BY 1 ORDER BY 2 DESC LIMIT 3"
    script = [
        call("run_sql", sql=query),
        call("describe_table", table="core.users"),
        call("run_sql", sql=query),
        call("final_answer", answer="Top countries by active users: DE 18,204, FR 15,877, ES 9,120."),
    ]
    agent = ToolCallingAgent(
        tools=[sql, describe], model=model(rng, script), name="growth_analyst", max_steps=8, verbosity_level=QUIET
    )
    agent.run("Which 3 countries have the most active users?")


@session(
    "subagent_cursor_pager_finishes",
    [],
    "redacted",
    "support-ops",
    "healthy twin of the never-ending cursor pager: the managed exporter follows next_cursor 3 times, the last page "
    "has next_cursor=null, it reports the count and the manager answers",
)
def subagent_cursor_pager_finishes(rng: random.Random, tracer: Any) -> None:
    pages = seq(
        "25 tickets (tag=chargeback), next_cursor=9f2c1a7b0e4d5c66",
        "25 tickets (tag=chargeback), next_cursor=1b7e44a09cd2f310",
        "12 tickets (tag=chargeback), next_cursor=null",
    )
    lister = make_tool(
        "list_tickets",
        "Lists helpdesk tickets, 25 per call; pass next_cursor to continue.",
        {"tag": p("Ticket tag."), "cursor": p("Cursor from the previous call, empty for the first page.")},
        pages,
    )
    sub_script = [
        call("list_tickets", tag="chargeback", cursor=""),
        call("list_tickets", tag="chargeback", cursor="9f2c1a7b0e4d5c66"),
        call("list_tickets", tag="chargeback", cursor="1b7e44a09cd2f310"),
        call("final_answer", answer="62 closed chargeback tickets (3 pages)."),
    ]
    exporter = ToolCallingAgent(
        tools=[lister],
        model=model(rng, sub_script),
        name=pick(rng, "ticket_exporter", "helpdesk_exporter"),
        description="Exports helpdesk tickets matching a tag.",
        max_steps=6,
        verbosity_level=QUIET,
    )
    manager = ToolCallingAgent(
        tools=[],
        model=model(
            rng,
            [
                call(exporter.name, task="Export closed tickets tagged 'chargeback' and count them."),
                call("final_answer", answer="We closed 62 chargeback tickets this quarter."),
            ],
        ),
        managed_agents=[exporter],
        name="ops_coordinator",
        max_steps=4,
        verbosity_level=QUIET,
    )
    manager.run("How many chargeback tickets did we close this quarter?")


@session(
    "code_error_fixed_next_step",
    [],
    "on",
    "code-repair-bot",
    "healthy twin of the repeated forbidden-open loop: the CodeAgent's first step uses open() and fails, the next "
    "step reads the file through its tool and it answers",
)
def code_error_fixed_next_step(rng: random.Random, tracer: Any) -> None:
    fetch = make_tool(
        "fetch_repo_file",
        "Returns a file of the repository as text.",
        {"path": p("Path in the repo.")},
        const("pool_size: 5\nmax_overflow: 0\npool_timeout_s: 2\n"),
    )
    script = [
        code("Read the DB config.", 'with open("config/db.yaml") as f:\n    print(f.read())'),
        code("open() is not allowed; use the tool.", 'print(fetch_repo_file(path="config/db.yaml"))'),
        code(
            "pool_timeout_s is 2 with no overflow: too tight under load.",
            'final_answer("pool_size 5, max_overflow 0, pool_timeout_s 2: raise max_overflow or the timeout.")',
        ),
    ]
    agent = CodeAgent(tools=[fetch], model=model(rng, script, coder=True), max_steps=5, verbosity_level=QUIET)
    agent.run("We see 'QueuePool limit reached' errors. Check config/db.yaml and suggest a fix.")


@session(
    "repeated_delegation_distinct_tasks",
    [],
    "off",
    "market-research",
    "healthy twin of repeated delegation: the manager calls the same managed researcher 3 times, one country each, "
    "every report is new, then answers",
)
def repeated_delegation_distinct_tasks(rng: random.Random, tracer: Any) -> None:
    facts = {
        "Spain": "Spain: 1.9M heat pumps, +12% yoy",
        "Italy": "Italy: 3.1M heat pumps, +4% yoy",
        "Poland": "Poland: 0.6M heat pumps, +31% yoy",
    }
    stats = make_tool(
        "get_market_stats",
        "Returns installed base and growth for a product in a country.",
        {"country": p("Country."), "product": p("Product.")},
        lambda a: facts.get(a["country"], "no data"),
    )
    sub_script: list[Any] = []
    for country, fact in facts.items():
        sub_script += [
            call("get_market_stats", country=country, product="heat pumps"),
            call("final_answer", answer=fact),
        ]
    researcher = ToolCallingAgent(
        tools=[stats],
        model=model(rng, sub_script),
        name=pick(rng, "market_researcher", "country_analyst"),
        description="Looks up market statistics for one country.",
        max_steps=3,
        verbosity_level=QUIET,
    )
    script: list[Any] = [call(researcher.name, task=f"Heat pump installed base and growth in {c}.") for c in facts]
    script.append(call("final_answer", answer="Poland grows fastest (+31%), Italy has the largest base (3.1M)."))
    manager = ToolCallingAgent(
        tools=[],
        model=model(rng, script),
        managed_agents=[researcher],
        name="strategy_lead",
        max_steps=6,
        verbosity_level=QUIET,
    )
    manager.run("Compare the heat pump markets of Spain, Italy and Poland: size and growth.")


@session(
    "system_prompt_swap_keeps_instruction",
    [],
    "on",
    "billing-agent",
    "healthy twin of the system-prompt swap: the token-saving callback swaps in a short prompt that keeps the "
    "'draft only, never send' rule; the agent creates a draft: healthy",
)
def system_prompt_swap_keeps_instruction(rng: random.Random, tracer: Any) -> None:
    account = f"acct_{rng.randint(10000, 99999)}"
    get_account = make_tool(
        "get_account",
        "Returns an account with its dunning state.",
        {"account_id": p("Account id.")},
        const(f"{account}: Brightline Ltd, 1 overdue invoice (610 EUR), contact finance@brightline.example"),
    )
    draft = make_tool(
        "draft_email",
        "Creates an email draft for human review.",
        {"to": p("Recipient."), "subject": p("Subject."), "body": p("Body.")},
        const("draft d-4410 saved for review"),
    )
    send = make_tool(
        "send_email",
        "Sends an email immediately.",
        {"to": p("Recipient."), "subject": p("Subject."), "body": p("Body.")},
        const("unused"),
    )
    script = [
        call("get_account", account_id=account),
        call(
            "draft_email",
            to="finance@brightline.example",
            subject="Overdue invoice",
            body="Invoice INV-7730 (610 EUR) is overdue.",
        ),
        call("final_answer", answer="Draft d-4410 is ready for review; I did not send it."),
    ]
    keep = SLIM_PROMPT + " Never send emails yourself: only create drafts with draft_email."
    agent = ToolCallingAgent(
        tools=[get_account, draft, send],
        model=model(rng, script),
        name="collections_agent",
        instructions="Never send emails to customers yourself: only create drafts with draft_email; "
        "a human reviews and sends them.",
        step_callbacks=[slim_system_prompt(1, keep)],
        max_steps=8,
        verbosity_level=QUIET,
    )
    agent.run(f"Prepare a payment reminder for {account}.")


@session(
    "between_turn_compaction_keeps_constraint",
    [],
    "on",
    "events-concierge",
    "healthy twin of the between-turn compaction: the harness summary keeps 'one guest has a severe nut allergy', "
    "turn 3 books a nut-free restaurant",
)
def between_turn_compaction_keeps_constraint(rng: random.Random, tracer: Any) -> None:
    city = pick(rng, "Ghent", "Utrecht")
    restaurants = make_tool(
        "search_restaurants",
        "Searches restaurants; returns name, cuisine, allergy policy.",
        {"city": p("City."), "filters": p("Comma-separated filters.")},
        seq(
            f"{city}: De Vitrine (nut-free kitchen), Publiek (allergy menu on request)",
            f"{city}: De Vitrine (nut-free kitchen, private room for 12)",
        ),
    )
    book = make_tool(
        "book_table",
        "Books a restaurant table.",
        {"restaurant": p("Name."), "date": p("YYYY-MM-DD."), "time": p("HH:MM."), "people": p("N.", "integer")},
        const("Confirmed: De Vitrine, private room, 2026-05-21 20:00, 10 people, ref DV-118"),
    )
    weather = make_tool(
        "get_forecast", "Returns a forecast.", {"city": p("City."), "date": p("Date.")}, const("18C, light rain")
    )
    summarizer = ScriptedModel(
        "gpt-4.1-nano",
        [
            say(
                f"Dinner in {city} on 2026-05-21 for 10. One guest has a severe nut allergy (nut-free only). "
                "Candidates: De Vitrine, Publiek. Forecast light rain."
            )
        ],
    )
    script = [
        call("search_restaurants", city=city, filters="nut-free"),
        call("final_answer", answer="De Vitrine has a nut-free kitchen; Publiek offers an allergy menu."),
        call("get_forecast", city=city, date="2026-05-21"),
        call("final_answer", answer="18C with light rain, so indoor seating is best."),
        call("search_restaurants", city=city, filters="nut-free,private room"),
        call("book_table", restaurant="De Vitrine", date="2026-05-21", time="20:00", people=10),
        call("final_answer", answer="Booked De Vitrine's private room at 20:00 for 10 (nut-free kitchen), DV-118."),
    ]
    agent = ToolCallingAgent(
        tools=[restaurants, book, weather], model=model(rng, script), name="dinner_planner", verbosity_level=QUIET
    )
    turns = [
        f"Find a restaurant in {city} for 21 May 2026, 10 people. One guest has a severe nut allergy.",
        "What's the weather looking like that evening?",
        "Book a private room at 20:00 please.",
    ]
    for n, turn in enumerate(turns, 1):
        with harness_turn(tracer, n):
            if n == 3:
                with tracer.start_as_current_span("compact_history", attributes={"history.steps": 4}):
                    summarize_into_task(summarizer, agent, "Summarize this chat; keep every user constraint.")
            agent.run(turn, reset=(n == 1))


@session(
    "stateless_harness_passes_history",
    [],
    "off",
    "telecom-support",
    "healthy twin of the stateless re-ask: fresh agent per request, but the harness puts the earlier turns into "
    "the task, so turn 2 books the engineer with the account given in turn 1 (check_outage once, book once)",
)
def stateless_harness_passes_history(rng: random.Random, tracer: Any) -> None:
    account = f"{rng.randint(100000, 999999)}"
    postcode = pick(rng, "G12 8QQ", "CF10 3AT", "EH3 9DR")
    outage = make_tool(
        "check_outage",
        "Checks broadband outages for an account's line.",
        {"account_number": p("Account."), "postcode": p("Postcode.")},
        const(f"Area outage at {postcode}: fibre cut, fix ETA 18:00"),
    )
    visit = make_tool(
        "book_engineer",
        "Books an engineer visit.",
        {"account_number": p("Account."), "postcode": p("Postcode."), "day": p("YYYY-MM-DD.")},
        const("Engineer booked 2025-12-05, 13:00-18:00, ref ENG-8120"),
    )
    answers = [
        [
            call("check_outage", account_number=account, postcode=postcode),
            call("final_answer", answer="There's a fibre cut in your area; the fix is expected by 18:00."),
        ],
        [
            call("book_engineer", account_number=account, postcode=postcode, day="2025-12-05"),
            call("final_answer", answer="Booked an engineer Friday 5 Dec, 13:00-18:00, ref ENG-8120."),
        ],
    ]
    turns = [
        f"Internet down since this morning. Account {account}, postcode {postcode}.",
        "If it's still down tomorrow, can you book an engineer for Friday afternoon?",
    ]
    transcript: list[str] = []
    llm = pick(rng, *MODELS)
    for n, (turn, script) in enumerate(zip(turns, answers, strict=True), 1):
        with harness_turn(tracer, n, "POST /support/messages"):
            agent = ToolCallingAgent(
                tools=[outage, visit],
                model=ScriptedModel(llm, script),
                name="broadband_support",
                max_steps=5,
                verbosity_level=QUIET,
            )
            task = turn if not transcript else "Conversation so far:\n" + "\n".join(transcript) + f"\nuser: {turn}"
            answer = agent.run(task)
            transcript += [f"user: {turn}", f"assistant: {answer}"]


@session(
    "long_healthy_fanout_inputs_hidden",
    [],
    "inputs_off",
    "platform-ops",
    "long healthy capacity audit: one reply fans out 42 distinct disk checks, then 6 sequential distinct follow-ups "
    "and an answer; the fan-out LLM span has more than 128 attributes (SDK drops the excess); inputs hidden "
    "(hide_inputs=True), outputs kept",
)
def long_healthy_fanout_inputs_hidden(rng: random.Random, tracer: Any) -> None:
    nodes = [f"node-{zone}{i:02d}" for zone in ("a", "b", "c") for i in range(1, 15)]

    def usage(node: str) -> int:
        return 40 + (sum(map(ord, node)) * 13) % 55

    hot = sorted(nodes, key=usage, reverse=True)[:6]
    disks = make_tool(
        "get_disk_usage",
        "Returns root-volume usage of a node.",
        {"node": p("Node.")},
        lambda a: f"{a['node']}: {usage(a['node'])}% used",
    )
    top = make_tool(
        "largest_dirs",
        "Returns the 3 largest directories on a node.",
        {"node": p("Node.")},
        lambda a: f"{a['node']}: /var/log {usage(a['node']) // 3}G, /var/lib/docker 11G, /tmp 1G",
    )
    script: list[Any] = [parallel(*[("get_disk_usage", {"node": n}) for n in nodes])]
    script += [call("largest_dirs", node=n) for n in hot]
    script.append(call("final_answer", answer=f"Highest: {', '.join(hot[:3])}; /var/log dominates, rotate logs."))
    agent = ToolCallingAgent(
        tools=[disks, top], model=model(rng, script), name="capacity_auditor", max_steps=12, verbosity_level=QUIET
    )
    agent.run(f"Check root disk usage on all {len(nodes)} nodes and tell me where the space goes on the fullest ones.")


@session(
    "parallel_delegation_healthy",
    [],
    "off",
    "travel-assistant",
    "healthy twin of the parallel delegation failure: flights and hotels delegated in one parallel reply, both "
    "sub-agents answer within their limits, the manager combines them",
)
def parallel_delegation_healthy(rng: random.Random, tracer: Any) -> None:
    city = pick(rng, "Porto", "Valencia")
    flights = ToolCallingAgent(
        tools=[
            make_tool(
                "search_flights",
                "Searches flights.",
                {"origin": p("IATA."), "destination": p("City."), "date": p("YYYY-MM-DD.")},
                const(f"TP571 AMS-{city} 2026-06-10 07:40, 189 EUR"),
            )
        ],
        model=model(
            rng,
            [
                call("search_flights", origin="AMS", destination=city, date="2026-06-10"),
                call("final_answer", answer="TP571 10 Jun 07:40, 189 EUR."),
            ],
        ),
        name="flight_agent",
        description="Finds flights.",
        max_steps=3,
        verbosity_level=QUIET,
    )
    hotels = ToolCallingAgent(
        tools=[
            make_tool(
                "search_hotels",
                "Searches hotels.",
                {"city": p("City."), "area": p("Neighbourhood.")},
                const(f"{city} old town: Casa Azul 112 EUR/night, 4.6*"),
            )
        ],
        model=model(
            rng,
            [call("search_hotels", city=city, area="old town"), call("final_answer", answer="Casa Azul, 112 EUR.")],
        ),
        name="hotel_agent",
        description="Finds hotels.",
        max_steps=3,
        verbosity_level=QUIET,
    )
    script = [
        parallel(
            ("flight_agent", {"task": f"Flight Amsterdam to {city} on 10 June 2026."}),
            ("hotel_agent", {"task": f"Hotel in {city} old town 10-13 June, under 130 EUR/night."}),
        ),
        call("final_answer", answer=f"TP571 on 10 Jun (189 EUR) and Casa Azul in {city} (112 EUR/night)."),
    ]
    manager = ToolCallingAgent(
        tools=[],
        model=model(rng, script),
        managed_agents=[flights, hotels],
        name="trip_planner",
        max_steps=4,
        verbosity_level=QUIET,
    )
    manager.run(f"Amsterdam to {city} on 10 June for 3 nights, hotel in the old town under 130 EUR.")


# ---------------------------------------------------------------- driver


class SeededIdGenerator(IdGenerator):  # type: ignore[misc]
    """Trace and span ids from a per-session seeded RNG, so that reruns give the same ids."""

    def __init__(self, seed: str) -> None:
        self.rng = random.Random(seed)

    def generate_span_id(self) -> int:
        return self.rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self.rng.getrandbits(128) or 1


def run(s: Session) -> Path:
    exporter = InMemorySpanExporter()
    resource = Resource.create(
        {
            "service.name": s.service,
            "deployment.environment.name": "production",
            "service.instance.id": hashlib.sha256(f"instance/{s.session_id}".encode()).hexdigest()[:16],
        }
    )
    provider = TracerProvider(resource=resource, id_generator=SeededIdGenerator(f"ids/{s.session_id}"))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    setattr(smolagents, "ScriptedModel", ScriptedModel)  # noqa: B010  (wrapped like a built-in model)
    instrumentor = SmolagentsInstrumentor()
    instrumentor.instrument(tracer_provider=provider, config=CONFIGS[s.content])
    rng = random.Random(f"smolagents-corpus2/{s.shape}")
    try:
        with c1.simulated_clock(BASE_NS + s.index * SPACING_S * 10**9), using_session(s.session_id):
            s.fn(rng, provider.get_tracer("app.harness"))
    finally:
        instrumentor.uninstrument()
    provider.shutdown()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"smolagents_b2_{s.shape}.json"
    document = c1._capture_kit().to_otlp_json(exporter)
    path.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n")
    spans = exporter.get_finished_spans()
    dropped = max((sp.dropped_attributes for sp in spans), default=0)
    errors = sum(1 for sp in spans if sp.status.status_code == StatusCode.ERROR)
    print(f"{path.name}: {len(spans)} spans, {errors} error, {path.stat().st_size // 1024} KB, dropped {dropped}")
    return path


def write_labels() -> None:
    lines = ["# Labels decided by the script (what each run really did), not by any analyzer.", ""]
    for s in SESSIONS:
        lines += [
            "[[session]]",
            f'session_id = "{s.session_id}"',
            f"kinds = {json.dumps(s.kinds)}",
            f'shape = "{s.shape}"',
            f"content_capture = {json.dumps(s.content)}",
            f'file = "out/smolagents_b2_{s.shape}.json"',
            f"why = {json.dumps(s.why)}",
            "",
        ]
    (HERE / "labels_smolagents.toml").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":  # smolagents prints sets (authorized imports): fix their order
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    chosen = (sys.argv[1:] if argv is None else argv) or [s.shape for s in SESSIONS]
    by_shape = {s.shape: s for s in SESSIONS}
    unknown = set(chosen) - set(by_shape)
    if unknown:
        raise SystemExit(f"unknown shapes: {', '.join(sorted(unknown))}")
    for shape in chosen:
        run(by_shape[shape])
    write_labels()


if __name__ == "__main__":
    main()
