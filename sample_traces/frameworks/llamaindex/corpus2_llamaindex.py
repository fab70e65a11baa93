"""Second labeled evaluation batch for stepseven: real LlamaIndex workflow agents, scripted fake model, OpenInference.

Run (offline, about 15 s; nothing leaves the machine):

    /work/cap/llamaindex/.venv/bin/python corpus2_llamaindex.py [SCENARIO ...]   # all scenarios by default

Writes ``out/llamaindex_b2_<scenario>.json`` (one OTLP/JSON ExportTraceServiceRequest per file, hex ids) and
``labels_llamaindex.toml`` beside this file. The machinery (``ScriptedLLM``, tool backends, simulated clock, OTLP
encoding) is imported by path from the first batch, ``../corpus/corpus_llamaindex.py``; the sessions here are new
(other domains, agents, tools, lengths and variants). Every run regenerates the same sessions: fixed session ids
(``llamaindex-c2-...``, set with ``openinference.instrumentation.using_session`` as LlamaIndex users do), one seeded
``random.Random`` per scenario, scripted model answers, simulated clock. Span/trace ids come from the OTel SDK.

Pinned versions (pip freeze of /work/cap/llamaindex/.venv, Python 3.11.7):

    llama-index-core==0.14.25  llama-index-workflows==2.26.1  llama-index-instrumentation==0.6.0
    openinference-instrumentation-llama-index==4.6.1  openinference-instrumentation==0.1.72
    openinference-semantic-conventions==0.1.42  opentelemetry-sdk==1.45.2  opentelemetry-api==1.45.2
    SQLAlchemy==2.1.9  aiosqlite==0.22.1  tiktoken==0.14.0

Real: ``FunctionAgent`` / ``AgentWorkflow`` with their defaults and limits, the ``handoff`` tool, parallel tool calls,
``Memory`` + ``FactExtractionMemoryBlock`` (in-memory SQLite), ``ChatSummaryMemoryBuffer``, ``chat_history=`` passed
by a service that keeps its own transcript, ``LlamaIndexInstrumentor`` (default content capture, or
``TraceConfig(hide_inputs=True, hide_outputs=True)``). Fake: the model and the tools' backends. Labels come from the
script (what the run was made to do) and are backed by assertions on what the model is given.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from llama_index.core.agent.workflow import AgentWorkflow, FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole
from llama_index.core.memory import ChatSummaryMemoryBuffer, FactExtractionMemoryBlock, Memory
from llama_index.core.tools import FunctionTool
from llama_index.core.workflow import Context
from openinference.instrumentation import TraceConfig, using_session
from openinference.instrumentation.llama_index import LlamaIndexInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer
from pydantic import PrivateAttr, create_model


def _load_batch1() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "corpus" / "corpus_llamaindex.py"
    spec = importlib.util.spec_from_file_location("corpus_llamaindex_b1", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


b1 = _load_batch1()
Call, Say, Fail = b1.Call, b1.Say, b1.Fail
ScriptedLLM = b1.ScriptedLLM
Backend = b1.Backend
elapse = b1.elapse
filler = b1.filler
pick = b1.pick
run_expecting_failure = b1.run_expecting_failure
SUMMARY_PROMPT = b1.SUMMARY_PROMPT
APIStatusError = b1.APIStatusError

HERE = Path(__file__).parent
OUT = HERE / "out"
PREFIX = "llamaindex-c2-"
FACT_PROMPT = "You are a precise fact extraction system"


class RateLimitError(Exception):
    """What a provider SDK raises for HTTP 429."""


# The fake provider errors are reported (exception.type) under the provider SDK's module name, as real ones are.
for _error in (RateLimitError, APIStatusError, b1.BadRequestError):
    _error.__module__ = "openai"


class FactLLM(ScriptedLLM):  # type: ignore[misc, valid-type]
    """ScriptedLLM that also answers LlamaIndex's fact-extraction prompt (appended as the last message)."""

    _facts_answers: list[str] = PrivateAttr(default_factory=list)

    def __init__(self, script: list[Any], model: str, rng: random.Random, facts: list[str], **kw: Any) -> None:
        super().__init__(script, model, rng, **kw)
        self._facts_answers = facts

    def _respond(self, messages: Sequence[ChatMessage]) -> ChatResponse:
        last = str(messages[-1].content or "") if messages else ""
        if FACT_PROMPT in last:
            elapse(0.6, 1.8)
            text = self._facts_answers[0] if len(self._facts_answers) == 1 else self._facts_answers.pop(0)
            prompt = b1.count_tokens(messages)
            completion = len(b1._TOKENIZER(text))
            usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
            message = ChatMessage(role=MessageRole.ASSISTANT, content=text)
            return ChatResponse(message=message, delta=text, raw={"model": self.model, "usage": usage})
        response: ChatResponse = super()._respond(messages)
        return response


# ---------------------------------------------------------------------------------------------- tools


def tool(name: str, desc: str, outputs: Sequence[str | Exception], **params: Any) -> FunctionTool:
    """A tool with the given typed parameters, answering from a queue (last answer repeats, exceptions raised)."""
    backend = Backend(list(outputs))
    fields: dict[str, Any] = {p: (t, ...) for p, t in params.items()}
    schema = create_model(f"{name}_args", **fields)

    def fn(**kwargs: Any) -> str:
        result: str = backend.next()
        return result

    return FunctionTool.from_defaults(fn=fn, name=name, description=desc, fn_schema=schema)


def agent_tool(name: str, desc: str, agent: FunctionAgent, **run_kwargs: Any) -> FunctionTool:
    """Agents-as-tools (LlamaIndex docs pattern): the tool awaits the sub-agent's run and returns its answer."""

    async def fn(task: str) -> str:
        return str(await agent.run(user_msg=task, **run_kwargs))

    return FunctionTool.from_defaults(async_fn=fn, name=name, description=desc)


def texts(memory_messages: Sequence[ChatMessage]) -> str:
    return "\n".join(str(m.content or "") for m in memory_messages)


# ---------------------------------------------------------------------------------------------- registry

Runner = Callable[[random.Random, str, Tracer], Coroutine[Any, Any, None]]


@dataclass
class Scenario:
    name: str
    kinds: list[str]
    shape: str
    why: str
    run: Runner
    hidden: bool = False
    session_ids: list[str] = field(default_factory=list)


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, kinds: list[str], shape: str, why: str, hidden: bool = False) -> Callable[[Runner], Runner]:
    def register(fn: Runner) -> Runner:
        SCENARIOS[name] = Scenario(name, kinds, shape, why, fn, hidden)
        return fn

    return register


# ---- runaway_loop -----------------------------------------------------------------------------------


@scenario(
    "alternating_rewording_until_limit",
    ["runaway_loop"],
    "alternating_two_rewordings_until_limit",
    "travel agent alternates two phrasings of one fare search ('cheapest X-Y on D' / 'lowest fare X to Y D'); the "
    "backend answers 'no cached fares' every time; max_iterations (force) raises WorkflowRuntimeError",
)
async def alternating_rewording_until_limit(rng: random.Random, sid: str, tracer: Tracer) -> None:
    o, d = rng.sample(["VIE", "CPH", "WAW", "FCO", "ZRH", "HEL"], 2)
    date = f"2026-0{rng.randint(4, 9)}-{rng.randint(10, 28)}"
    limit = rng.randint(7, 8)
    forms = [f"cheapest {o}-{d} on {date}", f"lowest fare {o} to {d} {date}"]
    script = [Call([("search_fares", {"query": forms[i % 2]})]) for i in range(limit + 1)]
    agent = FunctionAgent(
        name=pick(rng, ["fare_finder", "booking_assistant", "trip_agent"]),
        description="Finds fares.",
        system_prompt="You find the cheapest fares for corporate travellers. Always search before quoting.",
        llm=ScriptedLLM(script, "fake-gpt-4o-mini", rng),
        tools=[tool("search_fares", "Search cached fares.", ["No cached fares for this route; try later."], query=str)],
    )
    msg = f"Cheapest flight {o} to {d} on {date}, economy, one adult."
    print(" ", await run_expecting_failure(agent.run(user_msg=msg, max_iterations=limit)))


@scenario(
    "same_error_varying_request_id",
    ["runaway_loop"],
    "same_error_differs_only_by_request_id",
    "devops agent calls deploy_service 4 times; each raises 'namespace quota exceeded' with a different request_id; "
    "get_quota / list_pods / describe_namespace calls in between change nothing; it finally gives up",
    hidden=True,
)
async def same_error_varying_request_id(rng: random.Random, sid: str, tracer: Tracer) -> None:
    svc = pick(rng, ["checkout-api", "search-indexer", "notifier"])
    ns = pick(rng, ["prod-eu", "prod-us"])
    errors: list[str | Exception] = [
        RuntimeError(f"deploy rejected: namespace {ns} quota exceeded (request_id=req-{rng.getrandbits(32):08x})")
        for _ in range(4)
    ]
    script = [
        Call([("deploy_service", {"service": svc, "version": "v2.14.1"})]),
        Call([("get_quota", {"namespace": ns})]),
        Call([("deploy_service", {"service": svc, "version": "v2.14.1"})]),
        Call([("list_pods", {"namespace": ns})]),
        Call([("deploy_service", {"service": svc, "version": "v2.14.1"})]),
        Call([("describe_namespace", {"namespace": ns})]),
        Call([("deploy_service", {"service": svc, "version": "v2.14.1"})]),
        Say(f"Deploying {svc} v2.14.1 keeps failing with a quota error in {ns}. Please raise the quota."),
    ]
    agent = FunctionAgent(
        name=pick(rng, ["release_bot", "deploy_agent"]),
        description="Deploys services.",
        system_prompt="You deploy services to Kubernetes and verify rollouts.",
        llm=ScriptedLLM(script, "fake-claude-sonnet", rng),
        tools=[
            tool("deploy_service", "Deploy a version.", errors, service=str, version=str),
            tool("get_quota", "Namespace quota.", [f"{ns}: cpu 96/96, memory 380Gi/384Gi"], namespace=str),
            tool("list_pods", "List pods.", [filler(rng, "pods", 30)], namespace=str),
            tool("describe_namespace", "Describe namespace.", [f"{ns}: ResourceQuota compute-quota"], namespace=str),
        ],
    )
    print("  answered:", str(await agent.run(user_msg=f"Deploy {svc} v2.14.1 to {ns}."))[:80])


@scenario(
    "cursor_pager_gives_up",
    ["runaway_loop"],
    "cursor_pager_never_finishes_generate",
    "support-analytics agent follows fetch_tickets(cursor=...) with a new opaque cursor each call, every page says "
    "next_cursor is set; max_iterations with early_stopping_method=generate forces a final give-up answer",
)
async def cursor_pager_gives_up(rng: random.Random, sid: str, tracer: Tracer) -> None:
    limit = rng.randint(6, 7)
    cursors = ["start"] + [f"c_{rng.getrandbits(40):010x}" for _ in range(limit + 2)]
    script: list[Any] = [Call([("fetch_tickets", {"cursor": c})]) for c in cursors[:limit]]
    script.append(Say("I could not finish reading the ticket export; the results are incomplete."))
    pages: list[str | Exception] = [
        f"25 tickets (tags: {filler(rng, 'tags', 4)}); next_cursor={cursors[i + 1]}" for i in range(limit + 1)
    ]
    agent = FunctionAgent(
        name="support_insights",
        description="Analyses support tickets.",
        system_prompt="You analyse support tickets and report the top complaint themes.",
        llm=ScriptedLLM(script, "fake-gemini-flash", rng),
        tools=[tool("fetch_tickets", "Fetch tickets, 25 per page; pass next_cursor.", pages, cursor=str)],
    )
    msg = "What were the top 3 complaint themes in October tickets?"
    result = await agent.run(user_msg=msg, max_iterations=limit, early_stopping_method="generate")
    print("  answered:", str(result)[:80])


@scenario(
    "code_exec_same_traceback",
    ["runaway_loop"],
    "code_agent_same_traceback_until_limit",
    "data-analysis code agent runs run_python 6 times with small rewrites of the same import; every run returns the "
    "same ModuleNotFoundError traceback; max_iterations=6 raises WorkflowRuntimeError",
    hidden=True,
)
async def code_exec_same_traceback(rng: random.Random, sid: str, tracer: Tracer) -> None:
    csv = pick(rng, ["sales_2026.csv", "sensor_log.csv", "churn.csv"])
    variants = [
        f"import polars as pl\ndf = pl.read_csv('{csv}')\nprint(df.describe())",
        f"import polars\ndf = polars.read_csv('{csv}')\nprint(df.shape)",
        f"from polars import read_csv\nprint(read_csv('{csv}').head())",
        f"import polars as pl  # retry\nprint(pl.read_csv('{csv}').columns)",
        f"import polars as pl\nprint(pl.scan_csv('{csv}').collect().shape)",
        f"import polars as pl\nprint(len(pl.read_csv('{csv}')))",
        f"import polars as pl\nprint(pl.read_csv('{csv}'))",
    ]
    tb = (
        'Traceback (most recent call last):\n  File "<cell>", line 1, in <module>\n'
        "ModuleNotFoundError: No module named 'polars'"
    )
    agent = FunctionAgent(
        name=pick(rng, ["notebook_agent", "pandas_helper"]),
        description="Runs Python for data analysis.",
        system_prompt="You answer data questions by running Python in a sandbox.",
        llm=ScriptedLLM([Call([("run_python", {"code": v})]) for v in variants], "fake-gpt-4.1", rng),
        tools=[tool("run_python", "Run Python code in the sandbox.", [f"exit 1\n{tb}"], code=str)],
    )
    msg = f"How many rows in {csv} have a negative amount?"
    print(" ", await run_expecting_failure(agent.run(user_msg=msg, max_iterations=6)))


@scenario(
    "subagent_loops_caller_redoes",
    ["failed_handoff", "runaway_loop"],
    "subagent_hits_limit_caller_redoes",
    "agent-as-tool: research lead delegates a prior-art search; the patent_searcher sub-agent repeats the same "
    "search_patents query until its max_iterations=4 and raises; the lead gets the error and runs the search itself",
)
async def subagent_loops_caller_redoes(rng: random.Random, sid: str, tracer: Tracer) -> None:
    topic = pick(rng, ["self-healing concrete", "solid-state battery separators", "drone swarm collision avoidance"])
    backend: list[str] = ["0 results (index warming up)"] * 4 + [f"US-{rng.randint(10**6, 10**7)}: ..."]
    search = tool("search_patents", "Search patents.", backend, query=str)
    sub = FunctionAgent(
        name="patent_searcher",
        description="Searches patents.",
        system_prompt="You search patent databases and list relevant prior art.",
        llm=ScriptedLLM([Call([("search_patents", {"query": f"{topic} prior art"})])], "fake-gpt-4o-mini", rng),
        tools=[search],
    )
    lead = FunctionAgent(
        name="research_lead",
        description="Leads research.",
        system_prompt="You lead R&D research. Delegate prior-art searches to the patent searcher.",
        llm=ScriptedLLM(
            [
                Call([("ask_patent_searcher", {"task": f"Find prior art on {topic}."})]),
                Call([("search_patents", {"query": f"{topic}"})]),
                Say(f"I searched myself after the searcher failed: one relevant patent on {topic} (see above)."),
            ],
            "fake-gpt-4o",
            rng,
        ),
        tools=[agent_tool("ask_patent_searcher", "Delegate a patent search.", sub, max_iterations=4), search],
    )
    print("  answered:", str(await lead.run(user_msg=f"Is there prior art on {topic}?"))[:80])


# ---- context_rot ------------------------------------------------------------------------------------


def fact_memory(sid: str, llm: Any) -> Memory:
    return Memory.from_defaults(
        session_id=sid,
        token_limit=600,
        chat_history_token_ratio=0.5,
        token_flush_size=120,
        memory_blocks=[FactExtractionMemoryBlock(name="user_facts", llm=llm, priority=0)],
    )


async def catering_session(rng: random.Random, sid: str, keep: bool) -> None:
    guests = rng.randint(30, 60)
    day = pick(rng, ["May 14", "June 3", "Sept 19"])
    venue = pick(rng, ["the Harbour Loft", "Studio 9", "the Glasshouse"])
    facts = [
        f"<facts><fact>Event on {day} at {venue}</fact><fact>{guests} guests</fact>"
        + ("<fact>All food must be vegetarian</fact>" if keep else "")
        + "</facts>",
        "<facts></facts>",
    ]
    final = (
        Call([("order_menu", {"menu": "Garden Feast (vegetarian)", "guests": guests})])
        if keep
        else Call([("order_menu", {"menu": "Chef's Grill (chicken & beef)", "guests": guests})])
    )
    script: list[Any] = [
        Call([("search_caterers", {"query": f"caterers near {venue} {day}"})]),
        Say("Three caterers are free that day; Verde & Co and Fire Pit are the best reviewed."),
        Call([("get_menu", {"caterer": "Fire Pit"})]),
        Say("Fire Pit's menus are listed above."),
        final,
        Say("Order placed: " + ("Garden Feast (vegetarian)." if keep else "Chef's Grill, their most popular menu.")),
    ]
    llm = FactLLM(script, "fake-gpt-4o", rng, facts=facts)
    agent = FunctionAgent(
        name=pick(rng, ["event_planner", "catering_concierge"]),
        description="Plans events.",
        system_prompt="You plan corporate events and order catering.",
        llm=llm,
        tools=[
            tool("search_caterers", "Find caterers.", [filler(rng, "caterers", 60)], query=str),
            tool("get_menu", "Get a caterer's menus.", [filler(rng, "menus", 90)], caterer=str),
            tool(
                "order_menu", "Order a menu.", [f"order CT-{rng.randint(1000, 9999)} confirmed"], menu=str, guests=int
            ),
        ],
    )
    memory = fact_memory(sid, llm)
    turns = [
        f"We're hosting {guests} guests at {venue} on {day}. Everything must be vegetarian, no exceptions.",
        "Which caterers are free, and what does Fire Pit offer?",
        "Go ahead and order their most popular menu for everyone.",
    ]
    for i, turn in enumerate(turns):
        if i == 2:
            seen = texts(await memory.aget())
            assert ("vegetarian" in seen) == keep, seen[:400]
            assert "Everything must be vegetarian" not in seen, "turn 1 must have been flushed from chat history"
        await agent.run(user_msg=turn, memory=memory)
        elapse(25, 200)


@scenario(
    "fact_memory_drops_constraint",
    ["context_rot"],
    "memory_fact_extraction_loses_constraint",
    "event-planning session with Memory(token_limit=600) + FactExtractionMemoryBlock: turn 1 is flushed from chat "
    "history into extracted facts, the extraction call omits 'everything vegetarian', and in turn 3 the agent orders "
    "a chicken & beef menu",
)
async def fact_memory_drops_constraint(rng: random.Random, sid: str, tracer: Tracer) -> None:
    await catering_session(rng, sid, keep=False)


HISTORY_WINDOW = 2  # the service passes only the last exchange as chat_history


async def transcript_session(
    rng: random.Random, agent: FunctionAgent, turns: list[str], history_check: Callable[[str, int], None]
) -> None:
    transcript: list[ChatMessage] = []
    for i, turn in enumerate(turns):
        history = transcript[-HISTORY_WINDOW:]
        history_check(texts(history), i)
        result = await agent.run(user_msg=turn, chat_history=list(history))
        transcript += [ChatMessage(role="user", content=turn), ChatMessage(role="assistant", content=str(result))]
        elapse(15, 240)


def code_agent_scripts(rng: random.Random, keep: bool) -> tuple[list[Any], str]:
    mod = pick(rng, ["billing/export.py", "etl/loader.py", "reports/pdf.py"])
    last_patch = (
        "+import urllib.request\n+def fetch(url):\n+    with urllib.request.urlopen(url, timeout=10) as r:"
        if keep
        else "+import requests\n+def fetch(url):\n+    return requests.get(url, timeout=10)"
    )
    script: list[Any] = [
        Call([("read_file", {"path": mod})]),
        Call([("apply_patch", {"path": mod, "patch": "+    rows = list(csv.reader(fh))"})]),
        Say(f"Fixed the CSV parsing bug in {mod} using the csv module."),
        Call([("run_tests", {"target": "tests/"})]),
        Say("All 48 tests pass."),
        Call([("apply_patch", {"path": mod, "patch": last_patch})]),
        Call([("apply_patch", {"path": "requirements.txt", "patch": "+requests==2.32.3"})])
        if not keep
        else Call([("run_tests", {"target": "tests/"})]),
        Say(
            "Added fetch() using urllib from the standard library."
            if keep
            else "Added fetch() with requests and pinned it in requirements.txt."
        ),
    ]
    return script, mod


@scenario(
    "service_truncates_history",
    ["context_rot"],
    "caller_truncated_chat_history_loses_constraint",
    "code-repair service keeps its own transcript and passes only the last exchange as chat_history=; by turn 3 the "
    "user's 'standard library only, no new dependencies' is gone and the agent adds requests to requirements.txt",
)
async def service_truncates_history(rng: random.Random, sid: str, tracer: Tracer) -> None:
    script, mod = code_agent_scripts(rng, keep=False)
    agent = FunctionAgent(
        name=pick(rng, ["repo_assistant", "patch_bot"]),
        description="Edits code.",
        system_prompt="You are a senior Python engineer working in the user's repository.",
        llm=ScriptedLLM(script, "fake-gpt-4.1", rng),
        tools=[
            tool("read_file", "Read a file.", [filler(rng, "source", 50)], path=str),
            tool("apply_patch", "Apply a patch.", ["patched"], path=str, patch=str),
            tool("run_tests", "Run pytest.", ["48 passed in 6.1s"], target=str),
        ],
    )

    def check(history: str, i: int) -> None:
        assert ("standard library only" in history.lower()) == (i == 1), (i, history)

    turns = [
        f"Fix the CSV parsing bug in {mod}. Standard library only, we can't add new dependencies.",
        "Run the tests please.",
        "Now add a helper that downloads the rates file from our URL.",
    ]
    await transcript_session(rng, agent, turns, check)


@scenario(
    "parallel_logs_overflow_window",
    ["context_rot"],
    "parallel_tool_results_exceed_context_window",
    "incident agent fetches logs of 3 services in one parallel step; the three results together push the next model "
    "call past the 4096-token window; the provider raises a context-length error and the run fails",
    hidden=True,
)
async def parallel_logs_overflow_window(rng: random.Random, sid: str, tracer: Tracer) -> None:
    services = rng.sample(["gateway", "auth", "orders", "payments", "inventory"], 3)
    script = [
        Call([("get_alerts", {"since": "15m"})]),
        Call([("get_logs", {"service": s, "since": "15m"}) for s in services]),
        Say("unused: the window overflows before this"),
    ]
    agent = FunctionAgent(
        name=pick(rng, ["oncall_assistant", "incident_triage"]),
        description="Triages incidents.",
        system_prompt="You triage production incidents from alerts and logs and propose a mitigation.",
        llm=ScriptedLLM(script, "fake-llama-3-8b-4k", rng, window=4096),
        tools=[
            tool("get_alerts", "Active alerts.", [f"3 alerts firing: {', '.join(services)} 5xx rate"], since=str),
            tool("get_logs", "Recent logs.", [filler(rng, f"{s} log", 520) for s in services], service=str, since=str),
        ],
    )
    print(" ", await run_expecting_failure(agent.run(user_msg="Checkout is erroring, what's going on?")))


async def loyalty_session(rng: random.Random, sid: str, keep: bool) -> None:
    ff = f"{pick(rng, ['LH', 'AF', 'SK'])}-{rng.randint(100000, 999999)}"
    city = pick(rng, ["Montreal", "Singapore", "Nairobi"])
    summaries = [
        f"User plans a trip to {city} in October"
        + (f"; frequent flyer number {ff}" if keep else "")
        + "; options under discussion: direct morning flight.",
    ]
    script: list[Any] = [
        Call([("search_flights", {"query": f"{city} October direct"})]),
        Say(f"Two direct flights to {city}; the 09:40 is cheapest."),
        Call([("seat_map", {"query": "09:40 flight"})]),
        Say("Aisle seats 14C and 22D are free on the 09:40."),
    ]
    if keep:
        script += [
            Say("Do you prefer 14C (front, extra legroom, +35 EUR) or 22D (standard)?"),
            Call([("book_flight", {"flight": "09:40", "seat": "14C", "loyalty_number": ff})]),
            Say(f"Booked the 09:40 in 14C with miles credited to {ff}."),
        ]
    else:
        script += [Say("Sure, could you tell me your frequent flyer number so I can add it to the booking?")]
    llm = ScriptedLLM(script, "fake-claude-haiku", rng, responders={SUMMARY_PROMPT: summaries})
    agent = FunctionAgent(
        name=pick(rng, ["flight_concierge", "travel_assistant"]),
        description="Books flights.",
        system_prompt="You book flights for the user.",
        llm=llm,
        tools=[
            tool("search_flights", "Search flights.", [filler(rng, "flights", 70)], query=str),
            tool("seat_map", "Seat map.", [filler(rng, "seats", 70)], query=str),
            tool("book_flight", "Book.", [f"PNR {rng.getrandbits(24):06X}"], flight=str, seat=str, loyalty_number=str),
        ],
    )
    memory = ChatSummaryMemoryBuffer.from_defaults(llm=llm, token_limit=200)
    turns = [
        f"I want to fly to {city} in October. My frequent flyer number is {ff}.",
        "Which seats are free on the 09:40?",
        "Book the 09:40 with an aisle seat and put my miles on it.",
    ]
    if keep:
        turns.append("14C please.")
    for i, turn in enumerate(turns):
        if i == 2:
            assert (ff in texts(memory.get())) == keep
            assert f"My frequent flyer number is {ff}" not in texts(memory.get())
        await agent.run(user_msg=turn, memory=memory)
        elapse(20, 150)


@scenario(
    "summary_drops_loyalty_reasks",
    ["context_rot"],
    "multiturn_summary_drops_user_info_reasks",
    "flight-booking session with ChatSummaryMemoryBuffer(token_limit=200): the summariser call compacts turn 1 and "
    "leaves out the frequent flyer number; in turn 3 the agent asks the user for it again",
)
async def summary_drops_loyalty_reasks(rng: random.Random, sid: str, tracer: Tracer) -> None:
    await loyalty_session(rng, sid, keep=False)


# ---- failed_handoff ---------------------------------------------------------------------------------


@scenario(
    "handoff_target_rate_limited",
    ["failed_handoff"],
    "handoff_target_model_raises_second_turn",
    "2-turn AgentWorkflow session on one Context: turn 1 the concierge answers alone; turn 2 it hands off to "
    "billing_specialist, whose first model call raises a 429 RateLimitError; the workflow fails and the user gets "
    "nothing",
)
async def handoff_target_rate_limited(rng: random.Random, sid: str, tracer: Tracer) -> None:
    acct = f"ACC-{rng.randint(10000, 99999)}"
    concierge = FunctionAgent(
        name="concierge",
        description="Front desk for a telecom.",
        system_prompt="You are the telecom front desk. Hand billing disputes to billing_specialist.",
        llm=ScriptedLLM(
            [
                Call([("plan_catalog", {"query": "unlimited plans"})]),
                Say("Unlimited Plus is 39 EUR/month with 5G included."),
                b1.handoff_call("billing_specialist", "Disputed roaming charge."),
            ],
            "fake-gpt-4o-mini",
            rng,
        ),
        tools=[tool("plan_catalog", "Plans.", [filler(rng, "plans", 40)], query=str)],
        can_handoff_to=["billing_specialist"],
    )
    billing = FunctionAgent(
        name="billing_specialist",
        description="Resolves billing disputes.",
        system_prompt="You resolve billing disputes and issue credits.",
        llm=ScriptedLLM(
            [Fail(RateLimitError("Error code: 429 - Rate limit reached for requests. Please try again in 20s."))],
            "fake-gpt-4o",
            rng,
        ),
        tools=[tool("issue_credit", "Credit.", ["credited"], account=str, amount_eur=float)],
    )
    wf = AgentWorkflow(agents=[concierge, billing], root_agent="concierge")
    ctx = Context(wf)
    print("  answered:", str(await wf.run(user_msg="What unlimited plans do you have?", ctx=ctx))[:80])
    elapse(40, 300)
    msg = f"Also, account {acct} was charged 60 EUR roaming in Spain, which is in the EU. Please fix."
    print(" ", await run_expecting_failure(wf.run(user_msg=msg, ctx=ctx)))


@scenario(
    "fire_and_forget_delegation",
    ["failed_handoff"],
    "delegated_result_never_collected",
    "agent-as-tool in fire-and-forget style: the marketing lead's dispatch tool starts the copywriter sub-agent as a "
    "background task and returns 'queued'; the copywriter finishes, but its draft is never returned to the lead, "
    "which answers the user without the copy",
    hidden=True,
)
async def fire_and_forget_delegation(rng: random.Random, sid: str, tracer: Tracer) -> None:
    product = pick(rng, ["Trailmate 2 hiking boots", "Brewly cold-brew kit", "Nimbus desk lamp"])
    writer = FunctionAgent(
        name="copywriter",
        description="Writes copy.",
        system_prompt="You write product launch copy in the brand voice.",
        llm=ScriptedLLM(
            [
                Call([("brand_guidelines", {"query": "tone"})]),
                Say(f"Meet the {product}: built for the long way round. Three headline options: ..."),
            ],
            "fake-claude-sonnet",
            rng,
        ),
        tools=[tool("brand_guidelines", "Brand voice guide.", [filler(rng, "guide", 40)], query=str)],
    )
    background: list[Any] = []

    async def dispatch_to_copywriter(task: str) -> str:
        background.append(writer.run(user_msg=task))  # the run starts now; its handler is kept, never awaited here
        return f"Task queued for copywriter (ticket MK-{rng.randint(100, 999)})."

    lead = FunctionAgent(
        name="marketing_lead",
        description="Runs launches.",
        system_prompt="You run product launches. Get copy from the copywriter and present it to the user.",
        llm=ScriptedLLM(
            [
                Call([("dispatch_to_copywriter", {"task": f"Write launch copy for {product}."})]),
                Say(f"The copywriter is on it; the launch copy for {product} is in progress."),
            ],
            "fake-gpt-4o",
            rng,
        ),
        tools=[FunctionTool.from_defaults(async_fn=dispatch_to_copywriter, description="Delegate copywriting.")],
    )
    print("  answered:", str(await lead.run(user_msg=f"I need launch copy for the {product} today."))[:80])
    results = await asyncio.gather(*background)  # the worker finishes; its result goes nowhere
    print("  background draft (never delivered):", str(results[0])[:60])


@scenario(
    "delegate_unregistered_agent",
    ["failed_handoff"],
    "delegation_target_not_registered_caller_redoes",
    "registry-style delegation: the deal desk calls delegate(agent='legal_reviewer', ...) but only contracts_reviewer "
    "and pricing_analyst are registered; the tool raises before any sub-agent starts and the deal desk reviews the "
    "contract itself",
    hidden=True,
)
async def delegate_unregistered_agent(rng: random.Random, sid: str, tracer: Tracer) -> None:
    deal = f"DL-{rng.randint(100, 999)}"
    registry = {
        name: FunctionAgent(
            name=name,
            description=f"{name} specialist.",
            system_prompt=f"You are the {name.replace('_', ' ')}.",
            llm=ScriptedLLM([Say("unused")], "fake-gpt-4o-mini", rng),
            tools=[],
        )
        for name in ["contracts_reviewer", "pricing_analyst"]
    }

    async def delegate(agent: str, task: str) -> str:
        if agent not in registry:
            raise KeyError(f"no agent registered under '{agent}'; known: {', '.join(registry)}")
        return str(await registry[agent].run(user_msg=task))

    desk = FunctionAgent(
        name="deal_desk",
        description="Approves deals.",
        system_prompt="You approve enterprise deals. Delegate legal review; do not review contracts yourself.",
        llm=ScriptedLLM(
            [
                Call([("delegate", {"agent": "legal_reviewer", "task": f"Review liability clauses of {deal}."})]),
                Call([("read_contract", {"deal_id": deal})]),
                Say(f"I reviewed {deal} myself: liability is capped at 12 months' fees, which is acceptable."),
            ],
            "fake-gpt-4o",
            rng,
        ),
        tools=[
            FunctionTool.from_defaults(async_fn=delegate, description="Delegate a task to a registered agent."),
            tool("read_contract", "Read a contract.", [filler(rng, "clauses", 60)], deal_id=str),
        ],
    )
    print("  answered:", str(await desk.run(user_msg=f"Can we sign {deal}? Legal needs to check liability."))[:80])


# ---- negatives --------------------------------------------------------------------------------------


@scenario(
    "alternating_rewording_new_info",
    [],
    "alternating_rewordings_each_new_info",
    "travel agent alternates two phrasings of a hotel search over 4 calls, but each returns different hotels "
    "(new neighbourhoods); it compares them and answers",
)
async def alternating_rewording_new_info(rng: random.Random, sid: str, tracer: Tracer) -> None:
    city = pick(rng, ["Seville", "Krakow", "Ghent", "Ljubljana"])
    forms = [f"hotels {city} centre under 150", f"{city} places to stay below 150 EUR"]
    areas = rng.sample(["old town", "riverside", "station", "university", "market", "castle"], 4)
    script: list[Any] = [Call([("search_hotels", {"query": f"{forms[i % 2]} {a}"})]) for i, a in enumerate(areas)]
    script.append(Say(f"Best value in {city}: the {areas[1]} option at 118 EUR, 8.9 rating."))
    agent = FunctionAgent(
        name=pick(rng, ["stay_finder", "trip_agent"]),
        description="Finds hotels.",
        system_prompt="You find hotels within the traveller's budget.",
        llm=ScriptedLLM(script, "fake-gpt-4o-mini", rng),
        tools=[
            tool(
                "search_hotels",
                "Search hotels.",
                [f"{a}: Hotel {rng.choice('ABCDEFG')}{rng.randint(1, 9)} {rng.randint(95, 149)} EUR" for a in areas],
                query=str,
            )
        ],
    )
    print("  answered:", str(await agent.run(user_msg=f"Find me a hotel in {city} under 150 EUR a night."))[:80])


@scenario(
    "error_with_request_id_recovers",
    [],
    "error_once_then_recovers_other_tools_between",
    "devops agent's deploy_service fails once with a quota error (request_id), it checks get_quota and "
    "scale_down_canary frees room, the retried deploy succeeds and the rollout is verified",
    hidden=True,
)
async def error_with_request_id_recovers(rng: random.Random, sid: str, tracer: Tracer) -> None:
    svc = pick(rng, ["ledger-api", "image-resizer", "mailer"])
    ns = pick(rng, ["prod-eu", "staging"])
    deploy: list[str | Exception] = [
        RuntimeError(f"deploy rejected: namespace {ns} quota exceeded (request_id=req-{rng.getrandbits(32):08x})"),
        f"{svc} v3.2.0 rolled out (request_id=req-{rng.getrandbits(32):08x})",
    ]
    script = [
        Call([("deploy_service", {"service": svc, "version": "v3.2.0"})]),
        Call([("get_quota", {"namespace": ns})]),
        Call([("scale_down_canary", {"namespace": ns})]),
        Call([("deploy_service", {"service": svc, "version": "v3.2.0"})]),
        Call([("rollout_status", {"service": svc})]),
        Say(f"{svc} v3.2.0 is live in {ns}; I freed quota by removing the stale canary first."),
    ]
    agent = FunctionAgent(
        name="release_bot",
        description="Deploys services.",
        system_prompt="You deploy services to Kubernetes and verify rollouts.",
        llm=ScriptedLLM(script, "fake-claude-sonnet", rng),
        tools=[
            tool("deploy_service", "Deploy.", deploy, service=str, version=str),
            tool("get_quota", "Quota.", [f"{ns}: cpu 64/64 (stale canary holds 8)"], namespace=str),
            tool("scale_down_canary", "Remove canary.", ["canary scaled to 0; cpu 56/64"], namespace=str),
            tool("rollout_status", "Rollout status.", ["6/6 replicas ready"], service=str),
        ],
    )
    print("  answered:", str(await agent.run(user_msg=f"Ship {svc} v3.2.0 to {ns}."))[:80])


@scenario(
    "cursor_pager_finishes",
    [],
    "cursor_pager_finishes",
    "support-analytics agent follows fetch_tickets cursors over 4 pages; the 4th page has no next_cursor; the agent "
    "aggregates and answers",
)
async def cursor_pager_finishes(rng: random.Random, sid: str, tracer: Tracer) -> None:
    cursors = ["start"] + [f"c_{rng.getrandbits(40):010x}" for _ in range(3)]
    pages: list[str] = [
        f"25 tickets (tags: {filler(rng, 'tags', 4)}); next_cursor={cursors[i + 1]}" for i in range(3)
    ] + ["11 tickets (tags: billing, login); next_cursor=null"]
    script: list[Any] = [Call([("fetch_tickets", {"cursor": c})]) for c in cursors]
    script.append(Say("Top themes in 86 tickets: login failures (31), billing errors (22), slow sync (14)."))
    agent = FunctionAgent(
        name="support_insights",
        description="Analyses support tickets.",
        system_prompt="You analyse support tickets and report the top complaint themes.",
        llm=ScriptedLLM(script, "fake-gemini-flash", rng),
        tools=[tool("fetch_tickets", "Fetch tickets, 25 per page; pass next_cursor.", pages, cursor=str)],
    )
    print("  answered:", str(await agent.run(user_msg="Top complaint themes in September tickets?"))[:80])


@scenario(
    "fact_memory_keeps_constraint",
    [],
    "memory_fact_extraction_keeps_constraint",
    "same event-planning session: Memory + FactExtractionMemoryBlock flushes turn 1, but the extracted facts keep "
    "'all food must be vegetarian' (in the system message), and the agent orders a vegetarian menu",
)
async def fact_memory_keeps_constraint(rng: random.Random, sid: str, tracer: Tracer) -> None:
    await catering_session(rng, sid, keep=True)


@scenario(
    "truncated_history_rule_in_system_prompt",
    [],
    "caller_truncated_history_constraint_in_system_prompt",
    "same code-repair service passing only the last exchange as chat_history=; turn 1 is gone by turn 3, but the "
    "'standard library only' rule is in the agent's system prompt, and the helper uses urllib",
    hidden=True,
)
async def truncated_history_rule_in_system_prompt(rng: random.Random, sid: str, tracer: Tracer) -> None:
    script, mod = code_agent_scripts(rng, keep=True)
    agent = FunctionAgent(
        name=pick(rng, ["repo_assistant", "patch_bot"]),
        description="Edits code.",
        system_prompt="You are a senior Python engineer. Standard library only: never add third-party dependencies.",
        llm=ScriptedLLM(script, "fake-gpt-4.1", rng),
        tools=[
            tool("read_file", "Read a file.", [filler(rng, "source", 50)], path=str),
            tool("apply_patch", "Apply a patch.", ["patched"], path=str, patch=str),
            tool("run_tests", "Run pytest.", ["48 passed in 6.3s", "49 passed in 6.4s"], target=str),
        ],
    )

    def check(history: str, i: int) -> None:
        assert ("Fix the CSV" in history) == (i == 1), (i, history)

    turns = [
        f"Fix the CSV parsing bug in {mod}.",
        "Run the tests please.",
        "Now add a helper that downloads the rates file from our URL.",
    ]
    await transcript_session(rng, agent, turns, check)


@scenario(
    "handoff_chain_with_rewrite",
    [],
    "handoff_chain_history_own_prompts_plus_rewrite_call",
    "harness span wraps an AgentWorkflow chain intake -> diagnostics -> warranty (each receives the history under "
    "its own system prompt and works), then a separate tone-rewrite call with its own system prompt polishes the "
    "answer",
)
async def handoff_chain_with_rewrite(rng: random.Random, sid: str, tracer: Tracer) -> None:
    device = pick(rng, ["Aero 14 laptop", "Pulse X earbuds", "Vista 55 TV"])
    serial = f"SN{rng.randint(10**7, 10**8)}"
    intake = FunctionAgent(
        name="intake_agent",
        description="First contact.",
        system_prompt="You greet customers and route hardware problems to diagnostics_agent.",
        llm=ScriptedLLM([b1.handoff_call("diagnostics_agent", "Hardware fault report.")], "fake-gpt-4o-mini", rng),
        tools=[],
        can_handoff_to=["diagnostics_agent"],
    )
    diag = FunctionAgent(
        name="diagnostics_agent",
        description="Diagnoses hardware faults.",
        system_prompt="You diagnose hardware faults from telemetry. Send warranty questions to warranty_agent.",
        llm=ScriptedLLM(
            [
                Call([("device_telemetry", {"serial": serial})]),
                b1.handoff_call("warranty_agent", "Battery swelling confirmed; check coverage."),
            ],
            "fake-gpt-4o",
            rng,
        ),
        tools=[tool("device_telemetry", "Telemetry.", [f"{serial}: battery health 61%, swelling flag"], serial=str)],
        can_handoff_to=["warranty_agent"],
    )
    warranty = FunctionAgent(
        name="warranty_agent",
        description="Checks warranty.",
        system_prompt="You check warranty coverage and arrange repairs.",
        llm=ScriptedLLM(
            [
                Call([("warranty_lookup", {"serial": serial})]),
                Say(f"Your {device} ({serial}) is under warranty; a free battery replacement is booked (RMA 5521)."),
            ],
            "fake-gpt-4o",
            rng,
        ),
        tools=[tool("warranty_lookup", "Warranty.", [f"{serial}: covered until 2027-03"], serial=str)],
    )
    rewriter = ScriptedLLM(
        [Say("Good news: your device is covered, and we've booked a free battery swap.")], "fake-gpt-4o-mini", rng
    )
    with tracer.start_as_current_span(
        "POST /support/chat", attributes={"session.id": sid, "http.route": "/support/chat"}
    ):
        wf = AgentWorkflow(agents=[intake, diag, warranty], root_agent="intake_agent")
        answer = await wf.run(user_msg=f"My {device} battery is bulging, serial {serial}. What now?")
        await rewriter.achat(
            [
                ChatMessage(role="system", content="Rewrite the answer in a warm, concise tone. Keep every fact."),
                ChatMessage(role="user", content=str(answer)),
            ]
        )


@scenario(
    "parallel_subagents_ok",
    [],
    "parallel_agent_as_tool_calls_delivered",
    "agent-as-tool: a due-diligence lead calls two different sub-agents in one parallel step (financials, "
    "litigation); both results come back and are combined in the answer",
    hidden=True,
)
async def parallel_subagents_ok(rng: random.Random, sid: str, tracer: Tracer) -> None:
    company = pick(rng, ["Orbital Freight", "Kestrel Bio", "Lumen Grid"])
    fin = FunctionAgent(
        name="financials_analyst",
        description="Financials.",
        system_prompt="You analyse company financials.",
        llm=ScriptedLLM(
            [Call([("get_statements", {"company": company})]), Say("Revenue +17%, EBITDA margin 21%.")],
            "fake-gpt-4o",
            rng,
        ),
        tools=[tool("get_statements", "Statements.", [filler(rng, "statements", 40)], company=str)],
    )
    lit = FunctionAgent(
        name="litigation_analyst",
        description="Litigation.",
        system_prompt="You search court records for litigation risk.",
        llm=ScriptedLLM(
            [Call([("court_records", {"company": company})]), Say("One pending patent suit, low exposure.")],
            "fake-claude-sonnet",
            rng,
        ),
        tools=[tool("court_records", "Court records.", [filler(rng, "dockets", 40)], company=str)],
    )
    lead = FunctionAgent(
        name="dd_lead",
        description="Due diligence lead.",
        system_prompt="You lead due diligence and combine specialist findings.",
        llm=ScriptedLLM(
            [
                Call(
                    [
                        ("ask_financials_analyst", {"task": f"Financial health of {company}"}),
                        ("ask_litigation_analyst", {"task": f"Litigation risk of {company}"}),
                    ]
                ),
                Say(f"{company}: revenue +17%, margin 21%; one pending patent suit with low exposure."),
            ],
            "fake-gpt-4o",
            rng,
        ),
        tools=[
            agent_tool("ask_financials_analyst", "Delegate financial analysis.", fin),
            agent_tool("ask_litigation_analyst", "Delegate litigation search.", lit),
        ],
    )
    print("  answered:", str(await lead.run(user_msg=f"Quick due diligence on {company}."))[:80])


@scenario(
    "summary_keeps_loyalty_asks_new",
    [],
    "multiturn_summary_keeps_info_asks_new_question",
    "same flight-booking session: the summariser compaction keeps the frequent flyer number; the agent asks a new "
    "question (which seat) that the user never answered before, then books with the number",
)
async def summary_keeps_loyalty_asks_new(rng: random.Random, sid: str, tracer: Tracer) -> None:
    await loyalty_session(rng, sid, keep=True)


@scenario(
    "many_tools_over_128_attrs",
    [],
    "healthy_toolbox_run_over_128_attributes",
    "ops agent with a 100-tool toolbox (each tool is one llm.tools.N attribute) runs 5 different checks in one "
    "parallel step and answers; its final model-call span exceeds the SDK's 128-attribute limit and loses its oldest "
    "attributes (session.id among them)",
)
async def many_tools_over_128_attrs(rng: random.Random, sid: str, tracer: Tracer) -> None:
    verbs = ["check", "get", "list", "restart", "describe", "scale", "drain", "rotate", "tail", "ping"]
    nouns = ["disk", "cpu", "memory", "dns", "cert", "queue", "cache", "db", "lb", "cdn"]
    names = [f"{v}_{n}" for v in verbs for n in nouns]
    tools: list[Any] = [tool(n, f"{n.replace('_', ' ')}.", [f"{n}: ok"], host=str) for n in names]
    host = f"web-{rng.randint(1, 40):02d}"
    script: list[Any] = [
        Call([(n, {"host": host}) for n in ["check_disk", "check_cert", "ping_dns", "check_memory", "get_lb"]]),
        Say(f"{host}: disk, certificate, DNS, memory and load balancer membership are all healthy."),
    ]
    agent = FunctionAgent(
        name="sre_assistant",
        description="Ops.",
        system_prompt="You are an SRE assistant.",
        llm=ScriptedLLM(script, "fake-gpt-4.1", rng, window=128000),
        tools=tools,
    )
    print("  answered:", str(await agent.run(user_msg=f"Health check {host}: disk, cert, dns."))[:80])


@scenario(
    "delegation_retried_recovers",
    [],
    "subagent_fails_once_retried_delivers",
    "agent-as-tool: the claims lead delegates to the fraud_checker sub-agent, whose first run fails on a 503 from its "
    "model; the lead retries the same delegation once, the second run works and its verdict is used in the answer",
)
async def delegation_retried_recovers(rng: random.Random, sid: str, tracer: Tracer) -> None:
    claim = f"CLM-{rng.randint(10000, 99999)}"
    checker = FunctionAgent(
        name="fraud_checker",
        description="Scores claims for fraud.",
        system_prompt="You score insurance claims for fraud risk using the claim history.",
        llm=ScriptedLLM(
            [
                Fail(APIStatusError("Error code: 503 - The server is overloaded or not ready yet.")),
                Call([("claim_history", {"claim_id": claim})]),
                Say(f"{claim}: low fraud risk (score 0.08); history consistent."),
            ],
            "fake-mistral-large",
            rng,
        ),
        tools=[tool("claim_history", "Claim history.", [filler(rng, "history", 35)], claim_id=str)],
    )
    lead = FunctionAgent(
        name=pick(rng, ["claims_lead", "adjuster_assistant"]),
        description="Handles claims.",
        system_prompt="You handle insurance claims. Always get a fraud score from the fraud checker before approving.",
        llm=ScriptedLLM(
            [
                Call([("ask_fraud_checker", {"task": f"Score {claim} for fraud."})]),
                Call([("ask_fraud_checker", {"task": f"Score {claim} for fraud."})]),
                Call([("approve_claim", {"claim_id": claim})]),
                Say(f"{claim} approved: the fraud checker scored it low risk (0.08)."),
            ],
            "fake-gpt-4o",
            rng,
        ),
        tools=[
            agent_tool("ask_fraud_checker", "Delegate fraud scoring.", checker),
            tool("approve_claim", "Approve a claim.", [f"{claim} approved, payout scheduled"], claim_id=str),
        ],
    )
    print("  answered:", str(await lead.run(user_msg=f"Can you process claim {claim}?"))[:80])


@scenario(
    "multiturn_build_polling_finishes",
    [],
    "multiturn_polling_finishes_each_turn",
    "2-turn CI session on one Context: each turn starts a different build and polls build_status 3-4 times until it "
    "succeeds (a wait_seconds call between polls), then reports; the same tools run once per turn with new ids",
    hidden=True,
)
async def multiturn_build_polling_finishes(rng: random.Random, sid: str, tracer: Tracer) -> None:
    repos = rng.sample(["web-frontend", "payments-core", "mobile-app", "data-pipeline"], 2)
    builds = [f"b-{rng.randint(1000, 9999)}" for _ in repos]
    polls = [3, 4]
    script: list[Any] = []
    statuses: list[str | Exception] = []
    for repo, build, n in zip(repos, builds, polls, strict=True):
        script.append(Call([("trigger_build", {"repo": repo})]))
        for k in range(n):
            script.append(Call([("build_status", {"build_id": build})]))
            if k < n - 1:
                script.append(Call([("wait_seconds", {"seconds": 30})]))
            statuses.append(f"{build}: " + ("success" if k == n - 1 else f"running {25 * (k + 1)}%"))
        script.append(Say(f"{repo} build {build} passed."))
    agent = FunctionAgent(
        name="ci_assistant",
        description="Runs CI builds.",
        system_prompt="You run CI builds and report when they finish.",
        llm=ScriptedLLM(script, "fake-gpt-4o-mini", rng),
        tools=[
            tool("trigger_build", "Start a build.", [f"started {b}" for b in builds], repo=str),
            tool("build_status", "Build status.", statuses, build_id=str),
            tool("wait_seconds", "Wait.", ["waited"], seconds=int),
        ],
    )
    ctx = Context(agent)
    for repo in repos:
        await agent.run(user_msg=f"Build {repo} on main and tell me when it's green.", ctx=ctx, max_iterations=20)
        elapse(60, 400)


# ---------------------------------------------------------------------------------------------- output


def main(argv: list[str] | None = None) -> None:
    chosen = (sys.argv[1:] if argv is None else argv) or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}")
    OUT.mkdir(exist_ok=True)
    for index, name in enumerate(SCENARIOS):
        sc = SCENARIOS[name]
        sid = f"{PREFIX}{name.replace('_', '-')}-{index + 1:03d}"
        sc.session_ids = [sid]
        if name not in chosen:
            continue
        rng = random.Random(f"llamaindex-corpus2/{name}")
        exporter = InMemorySpanExporter()
        service = f"{pick(rng, ['helpdesk', 'copilot', 'agents', 'ops'])}-{pick(rng, ['api', 'worker', 'svc'])}"
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        instrumentor = LlamaIndexInstrumentor()
        config = TraceConfig(hide_inputs=True, hide_outputs=True) if sc.hidden else None
        instrumentor.instrument(tracer_provider=provider, **({"config": config} if config else {}))
        print(f"{name} ({sid}):")
        try:
            start = 1_765_000_000_000_000_000 + index * 5_400_000_000_000
            with b1.simulated_clock(start, rng), using_session(sid):
                asyncio.run(sc.run(rng, sid, provider.get_tracer("corpus_harness")))
        finally:
            instrumentor.uninstrument()
        provider.shutdown()
        path = OUT / f"llamaindex_b2_{name}.json"
        path.write_text(json.dumps(b1.to_otlp_json(exporter), separators=(",", ":"), ensure_ascii=False) + "\n")
        print(f"  {path.name}: {len(exporter.get_finished_spans())} spans, {path.stat().st_size} bytes")
    write_labels([SCENARIOS[n] for n in SCENARIOS if n in chosen])


def write_labels(chosen: list[Scenario]) -> None:
    lines = ["# One entry per session; the label is what the script made the run do (see NOTES.md).", ""]
    for sc in chosen:
        for sid in sc.session_ids:
            lines += [
                "[[session]]",
                f"session_id = {b1.toml_str(sid)}",
                f"kinds = [{', '.join(b1.toml_str(k) for k in sc.kinds)}]",
                f"shape = {b1.toml_str(sc.shape)}",
                f"why = {b1.toml_str(sc.why + ('; content capture off' if sc.hidden else ''))}",
                "",
            ]
    (HERE / "labels_llamaindex.toml").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
