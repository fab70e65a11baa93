"""Labeled evaluation corpus for stepseven: real CrewAI crews, OpenInference-instrumented, on a scripted fake model.

Pinned versions (``pip freeze`` of the capture venv, Python 3.11):

    crewai==1.15.30 crewai-core==1.15.30 crewai-cli==1.15.30 openai==2.54.0
    openinference-instrumentation-crewai==1.1.21 openinference-instrumentation==0.1.72
    openinference-semantic-conventions==0.1.42 opentelemetry-sdk==1.45.2
    opentelemetry-exporter-otlp-proto-common==1.45.2 (for the OTLP/JSON encoding)

Run (from any folder; writes ``out/crewai_<scenario>.json`` and ``labels_crewai.toml`` next to this file):

    /work/cap/crewai/.venv/bin/python corpus_crewai.py [SCENARIO ...]    # every scenario by default (~5 min)

Each scenario runs in its own interpreter (``corpus_crewai.py --one SCENARIO``): after a run that ends in crewai's
``SystemExit`` (respect_context_window=False), crewai's event bus exports nothing more in the same process.

Every scenario is a real ``Crew.kickoff()`` (sequential or hierarchical process, delegation via crewai's own
"Delegate work to coworker" / "Ask question to coworker" tools, crewai's own max_iter limit and context-window
summarisation). Only the model provider and the tools' backends are fake: the model is an OpenAI-compatible HTTP
server on 127.0.0.1 that answers from a per-agent script (agent = role read from the system prompt; crewai's
summariser and planner are recognised by their own system prompts). Session ids are set the way OpenInference users
set them (``openinference.instrumentation.using_session``); multi-turn sessions are several kickoffs under one id.
Span ids come from a seeded generator; role names, tools' wording and step counts from a seeded ``random.Random``.
Labels (``labels_crewai.toml``) are written from the scenario table below: they state what was scripted, never what
any analyzer says. Nothing leaves the machine: crewai telemetry/tracing are switched off by environment variables.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SCRATCH = Path(os.environ.get("CAPTURE_SCRATCH", tempfile.mkdtemp(prefix="crewai-corpus-")))
os.environ.update(
    {
        "CREWAI_DISABLE_TELEMETRY": "true",
        "CREWAI_DISABLE_TRACKING": "true",
        "CREWAI_TRACING_ENABLED": "false",
        "CREWAI_STORAGE_DIR": str(SCRATCH / "storage"),
        "HOME": str(SCRATCH / "home"),
        "OPENAI_API_KEY": "sk-fake",
    }
)
os.environ.pop("OTEL_SDK_DISABLED", None)  # would also switch off the capturing TracerProvider

import base64  # noqa: E402

from google.protobuf import json_format  # noqa: E402
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.sdk.trace.id_generator import IdGenerator  # noqa: E402
from pydantic import BaseModel, Field, create_model  # noqa: E402

# ---------------------------------------------------------------------------------------------------------------
# OTLP/JSON output (same encoding as sample_traces/capture_kit.py: protobuf JSON with hex ids) and seeded ids.


def to_otlp_json(exporter: InMemorySpanExporter) -> dict[str, Any]:
    document: dict[str, Any] = json_format.MessageToDict(encode_spans(list(exporter.get_finished_spans())))

    def hexify(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
                    node[key] = base64.b64decode(value).hex()
                else:
                    hexify(value)
        elif isinstance(node, list):
            for item in node:
                hexify(item)

    hexify(document)
    return document


class SeededIds(IdGenerator):
    """Deterministic trace and span ids (the SDK's default draws them from the OS's randomness)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def generate_span_id(self) -> int:
        return self._random.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self._random.getrandbits(128) or 1


# ---------------------------------------------------------------------------------------------------------------
# The fake model. A script maps an agent key (its role, or SUMMARIZER) to a list of moves consumed in order:
#   {"tool": name, "args": {...}}            one tool call (name: substring of an offered tool's name)
#   {"tools": [[name, {...}], ...]}          parallel tool calls in one response
#   {"say": text}                            a final text answer
#   {"error": status, "message": text}       an HTTP error from the provider
# The last move repeats once the list is exhausted. A request without tools (crewai's forced final answer after
# max_iter, or a tool-less agent) that meets a tool move gets the script's last "say" move instead.

Move = dict[str, Any]
SUMMARIZER = "SUMMARIZER"
SCRIPT: dict[str, list[Move]] = {}
POS: dict[str, int] = {}
CALLS: list[dict[str, Any]] = []
LOCK = threading.Lock()


def _agent_of(messages: list[dict[str, Any]]) -> str:
    system = next((str(m.get("content") or "") for m in messages if m.get("role") == "system"), "")
    if "creates structured summaries of agent conversations" in system:
        return SUMMARIZER
    for role in SCRIPT:
        if f"You are {role}." in system:
            return role
    return "?"


def _answer(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    messages: list[dict[str, Any]] = body.get("messages", [])
    with LOCK:
        agent = _agent_of(messages)
        script = SCRIPT.get(agent, [{"say": "I have nothing to add."}])
        index = POS.get(agent, 0)
        POS[agent] = index + 1
        move = script[min(index, len(script) - 1)]
        offered = [t["function"]["name"] for t in body.get("tools", [])]
        if ("tool" in move or "tools" in move) and not offered:
            move = next((m for m in reversed(script) if "say" in m), {"say": "I could not finish the task."})
        prompt_chars = sum(len(json.dumps(m.get("content") or "")) for m in messages)
        usage = {"prompt_tokens": 40 + prompt_chars // 4, "completion_tokens": 14 + (index % 7) * 3}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        last = str(messages[-1].get("content") or "")[:240] if messages else ""
        CALLS.append({"agent": agent, "call": index + 1, "move": move, "last_input": last, **usage})
        if "error" in move:
            err = {"message": move["message"], "type": move.get("type", "invalid_request_error")}
            if move.get("code"):
                err["code"] = move["code"]
            return int(move["error"]), {"error": err}
        message: dict[str, Any] = {"role": "assistant", "content": None}
        finish = "stop"
        calls = [[move["tool"], move["args"]]] if "tool" in move else move.get("tools", [])
        if calls:
            tag = agent.split()[-1].lower()
            message["tool_calls"] = [
                {
                    "id": f"call_{tag}_{index + 1}_{k}",
                    "type": "function",
                    "function": {
                        "name": next((n for n in offered if name in n), name),
                        "arguments": json.dumps(args),
                    },
                }
                for k, (name, args) in enumerate(calls)
            ]
            finish = "tool_calls"
        else:
            message["content"] = move["say"]
    return 200, {
        "id": f"chatcmpl-{len(CALLS)}",
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": "fake",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        status, answer = _answer(body)
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def fake_openai() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------------------------------------------------
# Crew building blocks.

Backend = Callable[[dict[str, Any]], str]


def make_tool(name: str, description: str, params: list[str], backend: Backend) -> Any:
    """A crewai BaseTool whose backend is a scripted function (the only faked part of the tool)."""
    from crewai.tools import BaseTool

    schema: type[BaseModel] = create_model(  # type: ignore[call-overload]
        "".join(p.title() for p in name.split("_")) + "Input",
        **{p: (str, Field(description=f"The {p.replace('_', ' ')}.")) for p in params},
    )

    class ScriptedTool(BaseTool):
        def _run(self, **kwargs: Any) -> str:
            return backend(kwargs)

    return ScriptedTool(name=name, description=description, args_schema=schema)


def counter_backend(replies: list[str | Exception]) -> Backend:
    """Answers call n with replies[n] (the last repeats); an Exception reply is raised."""
    state = {"n": 0}

    def run(args: dict[str, Any]) -> str:
        reply = replies[min(state["n"], len(replies) - 1)]
        state["n"] += 1
        if isinstance(reply, Exception):
            raise reply
        return reply.format(**args)

    return run


def table_backend(table: dict[str, str], default: str) -> Backend:
    """Answers by the first argument's value."""

    def run(args: dict[str, Any]) -> str:
        key = str(next(iter(args.values()), ""))
        return table.get(key, default)

    return run


@dataclass
class Ctx:
    """What a crew factory gets: the fake model's URL and the session's seeded RNG."""

    base_url: str
    rng: random.Random

    def llm(self) -> Any:
        from crewai import LLM

        return LLM(model="openai/fake", base_url=self.base_url, api_key="sk-fake", temperature=0)

    def agent(self, role: str, goal: str, backstory: str, **kwargs: Any) -> Any:
        from crewai import Agent

        kwargs.setdefault("llm", self.llm())
        kwargs.setdefault("allow_delegation", False)
        return Agent(role=role, goal=goal, backstory=backstory, verbose=False, **kwargs)

    def task(self, description: str, expected: str, agent: Any = None, **kwargs: Any) -> Any:
        from crewai import Task

        return Task(description=description, expected_output=expected, agent=agent, **kwargs)

    def crew(self, agents: list[Any], tasks: list[Any], hierarchical: bool = False, **kwargs: Any) -> Any:
        from crewai import Crew, Process

        if hierarchical:
            kwargs["manager_llm"] = self.llm()
        process = Process.hierarchical if hierarchical else Process.sequential
        return Crew(agents=agents, tasks=tasks, process=process, verbose=False, **kwargs)


Turn = tuple[Any, dict[str, Any] | None]  # (crew, kickoff inputs)


@dataclass
class Scenario:
    name: str
    kinds: list[str]
    shape: str
    why: str
    build: Callable[[Ctx], list[Turn]]
    script: Callable[[random.Random], dict[str, list[Move]]]
    events: bool = True  # instrument(use_event_listener=True); False = the documented default (wrapper mode)
    hide_content: bool = False  # OpenInference TraceConfig hiding inputs/outputs/messages
    notes: list[str] = field(default_factory=list)


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    name: str, kinds: list[str], shape: str, why: str, *, events: bool = True, hide_content: bool = False
) -> Callable[[Callable[[Ctx], list[Turn]]], Callable[[Ctx], list[Turn]]]:
    def register(build: Callable[[Ctx], list[Turn]]) -> Callable[[Ctx], list[Turn]]:
        SCENARIOS[name] = Scenario(name, kinds, shape, why, build, lambda r: {}, events, hide_content)
        return build

    return register


def scripted(name: str) -> Callable[[Callable[[random.Random], dict[str, list[Move]]]], Any]:
    def register(fn: Callable[[random.Random], dict[str, list[Move]]]) -> Any:
        SCENARIOS[name].script = fn
        return fn

    return register


# Seeded pools: the role a session gets is drawn from its domain's pool.
ROLES = {
    "research": ["Senior Researcher", "Market Research Analyst", "Literature Scout", "Competitive Intel Analyst"],
    "travel": ["Travel Planner", "Trip Concierge", "Itinerary Specialist"],
    "billing": ["Billing Specialist", "Accounts Receivable Agent", "Payments Operator"],
    "code": ["Code Repair Engineer", "Bugfix Engineer", "Maintenance Developer"],
    "data": ["Data Analyst", "Reporting Analyst", "BI Engineer"],
    "support": ["Support Agent", "Customer Care Specialist", "Helpdesk Agent"],
    "writer": ["Report Writer", "Technical Writer", "Content Editor"],
    "manager": ["Project Lead", "Engagement Manager", "Research Manager"],
    "ops": ["Ops Engineer", "Release Engineer", "Site Reliability Engineer"],
    "compliance": ["Risk Reviewer", "Policy Checker"],
}
PICKED: dict[str, str] = {}


def role(rng: random.Random, domain: str) -> str:
    """Draws the role for domain once per session (the script and the crew must agree on it)."""
    if domain not in PICKED:
        PICKED[domain] = rng.choice(ROLES[domain])
    return PICKED[domain]


def say(text: str) -> Move:
    return {"say": text}


def call(tool: str, **args: Any) -> Move:
    return {"tool": tool, "args": args}


CONTEXT_ERROR: Move = {
    "error": 400,
    "code": "context_length_exceeded",
    "message": "This model's maximum context length is 8192 tokens. However, your messages resulted in 9417 tokens. "
    "Please reduce the length of the messages.",
}

# ===============================================================================================================
# runaway_loop positives
# ===============================================================================================================

SEARCH_EMPTY = "Found 0 results for '{query}'. Try broader keywords."


@scenario(
    "loop_reworded_search",
    ["runaway_loop"],
    "reworded_search_until_limit",
    "researcher (max_iter=6) re-words the same search 6 times, every result is the same empty page (no new "
    "information), crewai forces a final answer at max_iter (runaway_loop); the writer's hand-over is ordinary "
    "task context",
)
def build_loop_reworded_search(c: Ctx) -> list[Turn]:
    researcher = c.agent(
        role(c.rng, "research"),
        "Find the 2025 market size of European e-bike batteries",
        "You dig until you find a number with a source.",
        tools=[make_tool("search_web", "Search the web.", ["query"], counter_backend([SEARCH_EMPTY]))],
        max_iter=6,
    )
    writer = c.agent(role(c.rng, "writer"), "Write short briefs", "You write crisp one-paragraph briefs.")
    t1 = c.task(
        "Find the 2025 market size (EUR) of European e-bike batteries, with a source.", "A number + source.", researcher
    )
    t2 = c.task("Write a one-paragraph brief from the research.", "One paragraph.", writer, context=[t1])
    return [(c.crew([researcher, writer], [t1, t2], cache=False), None)]


@scripted("loop_reworded_search")
def script_loop_reworded_search(rng: random.Random) -> dict[str, list[Move]]:
    queries = [
        "European e-bike battery market size 2025",
        "e-bike battery market Europe 2025 EUR",
        "size of EU electric bicycle battery market 2025",
        "2025 e-bike battery revenue Europe billion",
        "European ebike batteries market value 2025 report",
        "e-bike battery market size Europe 2025 estimate",
        "EU e-bike battery sales 2025 total",
        "market size European e-bike battery packs 2025",
    ]
    rng.shuffle(queries)
    return {
        role(rng, "research"): [call("search", query=q) for q in queries]
        + [say("I could not find a sourced 2025 figure for the European e-bike battery market.")],
        role(rng, "writer"): [
            say(
                "Brief: no sourced 2025 market-size figure for European e-bike batteries was found; "
                "the research returned no results for any query."
            )
        ],
    }


@scenario(
    "loop_same_error_interleaved",
    ["runaway_loop"],
    "same_exception_repeated_with_other_tools_between",
    "billing agent calls charge_card 4 times, each raising the identical PaymentGatewayError, with get_invoice / "
    "check_gateway_status between, until max_iter=10 forces a give-up (runaway_loop); default wrapper-mode spans",
    events=False,
)
def build_loop_same_error(c: Ctx) -> list[Turn]:
    from crewai.tools import BaseTool

    def charge(args: dict[str, Any]) -> str:
        raise ConnectionError("PaymentGatewayError: upstream timeout (504) for merchant m-2217")

    tools: list[BaseTool] = [
        make_tool("charge_card", "Charge the customer's card on file.", ["invoice_id", "amount"], charge),
        make_tool(
            "get_invoice",
            "Read an invoice.",
            ["invoice_id"],
            counter_backend(["Invoice {invoice_id}: 149.00 EUR, status open, card on file visa-4242."]),
        ),
        make_tool(
            "check_gateway_status",
            "Read the payment gateway's status page.",
            ["region"],
            counter_backend(["Gateway {region}: operational (last incident 3 days ago)."]),
        ),
    ]
    agent = c.agent(
        role(c.rng, "billing"), "Collect overdue invoices", "You settle open invoices.", tools=tools, max_iter=10
    )
    task = c.task(
        "Collect payment for overdue invoice INV-88412 and confirm the receipt number.", "The receipt number.", agent
    )
    return [(c.crew([agent], [task]), None)]


@scripted("loop_same_error_interleaved")
def script_loop_same_error(rng: random.Random) -> dict[str, list[Move]]:
    charge = call("charge_card", invoice_id="INV-88412", amount="149.00")
    between = [
        call("get_invoice", invoice_id="INV-88412"),
        call("check_gateway_status", region="eu-west"),
        call("get_invoice", invoice_id="INV-88412"),
    ]
    moves: list[Move] = [call("get_invoice", invoice_id="INV-88412")]
    for k in range(4):
        moves += [charge, between[k % len(between)]]
    return {
        role(rng, "billing"): [
            *moves,
            say("Payment for INV-88412 could not be collected: the gateway keeps timing out. No receipt number."),
        ]
    }


@scenario(
    "loop_pager_never_finishes",
    ["runaway_loop"],
    "pager_advances_never_finishes",
    "data analyst calls fetch_transactions page=1..9; every page says has_more=true with the same row, max_iter=9 "
    "ends it with no total (runaway_loop); content capture off",
    hide_content=True,
)
def build_loop_pager(c: Ctx) -> list[Turn]:
    def page(args: dict[str, Any]) -> str:
        return json.dumps({"page": int(args["page"]), "rows": [{"id": "tx-1001", "amount": 42.5}], "has_more": True})

    agent = c.agent(
        role(c.rng, "data"),
        "Compute totals over all transactions",
        "You are thorough with data.",
        tools=[make_tool("fetch_transactions", "Fetch one page of transactions.", ["account", "page"], page)],
        max_iter=9,
    )
    task = c.task("Compute the total amount of all March transactions for account ACC-77.", "A total.", agent)
    return [(c.crew([agent], [task]), None)]


@scripted("loop_pager_never_finishes")
def script_loop_pager(rng: random.Random) -> dict[str, list[Move]]:
    pages = [call("fetch_transactions", account="ACC-77", page=str(p)) for p in range(1, 15)]
    return {role(rng, "data"): [*pages, say("I could not reach the last page; no total computed.")]}


@scenario(
    "loop_code_tests_fail_same",
    ["runaway_loop"],
    "code_steps_fail_same_way_until_limit",
    "code agent alternates apply_patch / run_tests; all 4 test runs fail with the same AssertionError in "
    "test_checkout_total and max_iter=8 forces an admission of failure (runaway_loop)",
)
def build_loop_code(c: Ctx) -> list[Turn]:
    failure = (
        "FAILED tests/test_checkout.py::test_checkout_total - AssertionError: expected 107.00, got 100.00 "
        "(tax not applied)"
    )
    agent = c.agent(
        role(c.rng, "code"),
        "Make the test suite pass",
        "You fix bugs in a Python shop backend.",
        tools=[
            make_tool(
                "apply_patch",
                "Apply a unified diff to the repository.",
                ["path", "diff"],
                counter_backend(["Patched {path}: 1 hunk applied."]),
            ),
            make_tool("run_tests", "Run pytest on a path.", ["target"], counter_backend([failure])),
        ],
        max_iter=8,
    )
    task = c.task("Fix the failing checkout total test in shop/checkout.py.", "A summary of the fix.", agent)
    return [(c.crew([agent], [task]), None)]


@scripted("loop_code_tests_fail_same")
def script_loop_code(rng: random.Random) -> dict[str, list[Move]]:
    diffs = [
        "- total = subtotal\n+ total = subtotal * 1.0",
        "- total = round(subtotal, 2)\n+ total = subtotal",
        "- tax = 0\n+ tax = 0.0",
        "- return total\n+ return float(total)",
    ]
    moves: list[Move] = [call("run_tests", target="tests/test_checkout.py")]
    for d in diffs:
        moves += [
            call("apply_patch", path="shop/checkout.py", diff=d),
            call("run_tests", target="tests/test_checkout.py"),
        ]
    return {role(rng, "code"): [*moves, say("The checkout total test still fails after four patches.")]}


# ===============================================================================================================
# context_rot positives
# ===============================================================================================================

FLIGHTS = {
    "LIS": "TP1351 LIS 09:10 -> 13:05, 462 USD; LH1173 LIS 07:00 -> 12:40, 498 USD",
    "OPO": "FR8112 OPO 06:15 -> 10:30, 389 USD",
}


def travel_crew(c: Ctx, max_iter: int = 12) -> list[Turn]:
    tools = [
        make_tool(
            "search_flights",
            "Search flights from an airport to Berlin on 14 May.",
            ["origin"],
            table_backend(FLIGHTS, "No flights."),
        ),
        make_tool(
            "search_hotels",
            "Search hotels in a city.",
            ["city", "nights"],
            counter_backend(
                [
                    "Hotels in {city} for {nights} nights: Hotel Adlon 780 USD; Motel One 210 USD; "
                    "Generator Mitte 120 USD."
                ]
            ),
        ),
        make_tool(
            "book",
            "Book a flight or hotel by its code.",
            ["item"],
            counter_backend(["Booked {item}. Confirmation BK-20931."]),
        ),
    ]
    agent = c.agent(
        role(c.rng, "travel"),
        "Plan trips that respect the traveller's constraints",
        "You are a careful travel planner.",
        tools=tools,
        max_iter=max_iter,
    )
    task = c.task(
        "Book a 2-night trip to Berlin on 14 May from Lisbon or Porto. HARD CONSTRAINT: total budget under $500 "
        "for flight + hotel together.",
        "The booked items and total price.",
        agent,
    )
    return [(c.crew([agent], [task]), None)]


def travel_script(rng: random.Random, summary: str, final_bookings: list[str], final: str) -> dict[str, list[Move]]:
    return {
        role(rng, "travel"): [
            call("search_flights", origin="LIS"),
            call("search_flights", origin="OPO"),
            call("search_hotels", city="Berlin", nights="2"),
            CONTEXT_ERROR,
            *[call("book", item=item) for item in final_bookings],
            say(final),
        ],
        SUMMARIZER: [say(f"<summary>\n{summary}\n</summary>")],
    }


@scenario(
    "rot_summary_drops_budget",
    ["context_rot"],
    "compaction_drops_user_constraint",
    "after 3 searches the provider answers context_length_exceeded; crewai's respect_context_window summary omits "
    '"budget under $500" and the agent then books TP1351 + Hotel Adlon for 1242 USD, against the user\'s '
    "constraint (context_rot)",
)
def build_rot_budget(c: Ctx) -> list[Turn]:
    return travel_crew(c)


@scripted("rot_summary_drops_budget")
def script_rot_budget(rng: random.Random) -> dict[str, list[Move]]:
    summary = (
        "1. Task Overview: book a 2-night Berlin trip on 14 May from Lisbon or Porto.\n2. Current State: flights "
        "and hotels searched.\n3. Important Discoveries: TP1351 LIS 462 USD (best times); FR8112 OPO 389 USD; "
        "Hotel Adlon 780 USD (best rated), Motel One 210 USD, Generator Mitte 120 USD.\n4. Next Steps: book the "
        "best flight and the best hotel.\n5. Context to Preserve: date 14 May, 2 nights."
    )
    return travel_script(
        rng,
        summary,
        ["TP1351", "Hotel Adlon"],
        "Booked TP1351 (462 USD) and Hotel Adlon, 2 nights (780 USD). Total 1242 USD.",
    )


@scenario(
    "rot_summary_drops_py38",
    ["context_rot"],
    "compaction_drops_syntax_constraint",
    'user constraint "only use Python 3.8 syntax"; a context_length_exceeded error makes crewai summarise and the '
    "summary drops it; the next patch uses match/case and list[int] (3.10+) and is reported done (context_rot)",
)
def build_rot_py38(c: Ctx) -> list[Turn]:
    agent = c.agent(
        role(c.rng, "code"),
        "Fix bugs without breaking deployment targets",
        "You maintain a legacy parser.",
        tools=[
            make_tool(
                "read_file",
                "Read a file.",
                ["path"],
                counter_backend(["def parse(tokens):\n    kind = tokens[0]\n    if kind == 'num': ...\n" * 6]),
            ),
            make_tool(
                "apply_patch",
                "Apply a unified diff.",
                ["path", "diff"],
                counter_backend(["Patched {path}: 1 hunk applied."]),
            ),
            make_tool("run_tests", "Run pytest.", ["target"], counter_backend(["12 passed in 0.41s (python3.11)"])),
        ],
        max_iter=10,
    )
    task = c.task(
        "Fix the unary-minus bug in legacy/parser.py. Constraint from the user: only use Python 3.8 syntax "
        "(the service still runs on 3.8).",
        "The patch and test result.",
        agent,
    )
    return [(c.crew([agent], [task]), None)]


@scripted("rot_summary_drops_py38")
def script_rot_py38(rng: random.Random) -> dict[str, list[Move]]:
    patch = (
        "+def parse(tokens: list[int]):\n+    match tokens[0]:\n+        case '-': return -parse(tokens[1:])\n"
        "+        case _: return int(tokens[0])"
    )
    return {
        role(rng, "code"): [
            call("read_file", path="legacy/parser.py"),
            call("run_tests", target="tests/test_parser.py"),
            call("read_file", path="legacy/lexer.py"),
            CONTEXT_ERROR,
            call("apply_patch", path="legacy/parser.py", diff=patch),
            call("run_tests", target="tests/test_parser.py"),
            say("Fixed unary minus in legacy/parser.py with a match statement; 12 tests pass."),
        ],
        SUMMARIZER: [
            say(
                "<summary>\n1. Task Overview: fix the unary-minus bug in legacy/parser.py.\n2. Current State: "
                "parser and lexer read, tests run.\n3. Important Discoveries: parse() dispatches on "
                "tokens[0].\n4. Next Steps: patch parse() to handle '-', rerun tests.\n</summary>"
            )
        ],
    }


SUPPORT_TURNS = [
    "Hi, my order number is 48213 and the blender arrived cracked. Can I get a replacement?",
    "Also, what's your warranty period on kitchen appliances?",
    "OK, please go ahead with the replacement and tell me when it ships.",
]


def support_turns(c: Ctx, window: int, questions: list[str]) -> list[Turn]:
    """A support chat: each user turn is one kickoff; the app passes the last `window` turns as history."""
    agent_role = role(c.rng, "support")
    tools = [
        make_tool(
            "lookup_order",
            "Look up an order.",
            ["order_id"],
            counter_backend(["Order {order_id}: Vitamix E310 blender, delivered 2 May, paid 349 USD."]),
        ),
        make_tool(
            "create_replacement",
            "Create a replacement shipment for an order.",
            ["order_id"],
            counter_backend(["Replacement RP-5531 for order {order_id} created; ships 9 May via UPS."]),
        ),
        make_tool(
            "search_kb",
            "Search the help-center knowledge base.",
            ["query"],
            counter_backend(["KB-112: kitchen appliances carry a 2-year limited warranty."]),
        ),
    ]
    turns: list[Turn] = []
    history: list[str] = []
    for question in questions:
        agent = c.agent(
            agent_role, "Resolve customer requests", "You are a friendly support agent.", tools=tools, max_iter=5
        )
        shown = history[-2 * window :] if window else []
        task = c.task("Conversation so far:\n{history}\n\nCustomer: {question}", "The reply to the customer.", agent)
        turns.append((c.crew([agent], [task]), {"history": "\n".join(shown) or "(none)", "question": question}))
        history += [f"Customer: {question}", "Agent: (previous reply)"]
    return turns


@scenario(
    "rot_multiturn_reasks",
    ["context_rot"],
    "multi_turn_reasks_given_info",
    "3-turn support chat under one session id; the app passes only the previous turn as history, so in turn 3 the "
    "order number 48213 given in turn 1 is gone and the agent asks for it again (context_rot); default "
    "wrapper-mode spans",
    events=False,
)
def build_rot_multiturn(c: Ctx) -> list[Turn]:
    return support_turns(c, window=1, questions=SUPPORT_TURNS)


@scripted("rot_multiturn_reasks")
def script_rot_multiturn(rng: random.Random) -> dict[str, list[Move]]:
    return {
        role(rng, "support"): [
            call("lookup_order", order_id="48213"),
            say("Sorry about the cracked blender! Order 48213 is eligible for a replacement; shall I create it?"),
            call("search_kb", query="warranty kitchen appliances"),
            say("Kitchen appliances carry a 2-year limited warranty."),
            say("Happy to arrange the replacement. Could you please tell me your order number?"),
        ]
    }


@scenario(
    "rot_context_error_fatal",
    ["context_rot"],
    "context_length_error_run_dies",
    "analyst with respect_context_window=False reads three large reports; the 4th model call fails with "
    "context_length_exceeded and crewai aborts the run (SystemExit), no answer (context_rot); content capture off",
    hide_content=True,
)
def build_rot_fatal(c: Ctx) -> list[Turn]:
    big = "Q{quarter} churn table: " + " | ".join(f"segment-{k}: {k * 0.37:.2f}%" for k in range(60))
    agent = c.agent(
        role(c.rng, "data"),
        "Explain churn drivers",
        "You read reports in full.",
        tools=[make_tool("read_report", "Read a quarterly report.", ["quarter"], counter_backend([big]))],
        max_iter=8,
        respect_context_window=False,
    )
    task = c.task("Explain the three biggest churn drivers across Q1-Q3 2025.", "Three drivers.", agent)
    return [(c.crew([agent], [task]), None)]


@scripted("rot_context_error_fatal")
def script_rot_fatal(rng: random.Random) -> dict[str, list[Move]]:
    return {role(rng, "data"): [call("read_report", quarter=str(q)) for q in (1, 2, 3)] + [CONTEXT_ERROR]}


# ===============================================================================================================
# failed_handoff positives
# ===============================================================================================================


def manager_crew(
    c: Ctx,
    worker_tools: list[Any],
    manager_tools: list[Any],
    task_text: str,
    worker_domain: str = "research",
    worker_iter: int = 4,
) -> list[Turn]:
    manager = c.agent(
        role(c.rng, "manager"),
        "Deliver correct reports by coordinating coworkers",
        "You manage a small team.",
        allow_delegation=True,
        max_iter=8,
        tools=manager_tools,
    )
    worker = c.agent(
        role(c.rng, worker_domain),
        "Find accurate facts with your tools",
        "You always use your tools.",
        tools=worker_tools,
        max_iter=worker_iter,
    )
    writer = c.agent(role(c.rng, "writer"), "Write clear summaries", "You are concise.")
    task = c.task(task_text, "A title line and three sentences.", manager)
    return [(c.crew([manager, worker, writer], [task]), None)]


@scenario(
    "handoff_subagent_raises_caller_redoes",
    ["failed_handoff"],
    "subagent_raises_caller_redoes_work",
    "every model call of the delegated coworker fails with HTTP 500, crewai retries the agent 3x then the "
    "delegation tool returns the error (failed_handoff); the manager redoes the pricing search itself; not a "
    "loop: the retries are crewai's own, no agent decision repeats",
)
def build_handoff_raises(c: Ctx) -> list[Turn]:
    prices = counter_backend(["Competitor prices: Acme Pro 29 USD/mo, Globex Team 35 USD/mo, Initech 24 USD/mo."])
    return manager_crew(
        c,
        [make_tool("search_web", "Search the web.", ["query"], prices)],
        [make_tool("search_web", "Search the web.", ["query"], prices)],
        "Produce a three-sentence report on competitor pricing for team plans, with a title.",
    )


@scripted("handoff_subagent_raises_caller_redoes")
def script_handoff_raises(rng: random.Random) -> dict[str, list[Move]]:
    return {
        role(rng, "manager"): [
            call(
                "delegate",
                task="Find current monthly prices of competitor team plans",
                context="For a pricing report.",
                coworker=role(rng, "research"),
            ),
            call("search_web", query="competitor team plan monthly prices"),
            say(
                "Competitor Pricing\nAcme Pro costs 29 USD/mo. Globex Team costs 35 USD/mo. Initech is cheapest at 24 "
                "USD/mo."
            ),
        ],
        role(rng, "research"): [
            {"error": 500, "type": "server_error", "message": "The server had an error while processing your request."}
        ],
    }


@scenario(
    "handoff_coworker_limit_error_ignored",
    ["failed_handoff", "runaway_loop"],
    "subagent_hits_limit_error_as_result",
    "coworker's query_sales_db raises the same ConnectionError 3 times until its max_iter=3 (runaway_loop), it "
    "hands back a give-up text and the manager's report ignores it and invents Q3 figures (failed_handoff, error "
    "as result)",
    events=True,
)
def build_handoff_limit(c: Ctx) -> list[Turn]:
    def sales(args: dict[str, Any]) -> str:
        raise ConnectionError(f"sales-db.internal:5432 unreachable: connection refused (quarter {args['quarter']})")

    return manager_crew(
        c,
        [make_tool("query_sales_db", "Query quarterly revenue.", ["quarter"], sales)],
        [],
        "Produce a three-sentence board report on Q3 revenue, with a title.",
        worker_domain="data",
        worker_iter=3,
    )


@scripted("handoff_coworker_limit_error_ignored")
def script_handoff_limit(rng: random.Random) -> dict[str, list[Move]]:
    return {
        role(rng, "manager"): [
            call(
                "delegate",
                task="Get the Q3 revenue figures",
                context="For the board report.",
                coworker=role(rng, "data"),
            ),
            say("Q3 Revenue\nRevenue grew 12% in Q3 to 4.1M USD. Growth came from EMEA. Margins held steady."),
        ],
        role(rng, "data"): [call("query_sales_db", quarter="Q3")] * 4
        + [say("Error: I could not retrieve Q3 figures; the sales database refused every connection.")],
    }


@scenario(
    "handoff_unknown_coworker",
    ["failed_handoff"],
    "delegation_target_never_starts",
    'manager delegates to "Compliance Auditor", an agent not in the crew; crewai answers "coworker mentioned not '
    'found", no sub-agent ever starts, yet the manager reports the review as done (failed_handoff); content '
    "capture off",
    hide_content=True,
)
def build_handoff_unknown(c: Ctx) -> list[Turn]:
    return manager_crew(
        c,
        [make_tool("search_web", "Search the web.", ["query"], counter_backend(["Nothing."]))],
        [],
        "Produce a three-sentence GDPR readiness note for the new signup form, with a title.",
    )


@scripted("handoff_unknown_coworker")
def script_handoff_unknown(rng: random.Random) -> dict[str, list[Move]]:
    return {
        role(rng, "manager"): [
            call(
                "delegate",
                task="Review the signup form for GDPR consent issues",
                context="Form has 6 fields.",
                coworker="Compliance Auditor",
            ),
            say(
                "GDPR Readiness\nThe compliance review of the signup form is complete. Consent capture is compliant. "
                "No changes are needed."
            ),
        ],
    }


@scenario(
    "handoff_hierarchical_output_lost",
    ["failed_handoff"],
    "subagent_output_never_reaches_caller",
    "hierarchical crew: crewai's manager delegates the churn analysis, the analyst returns 4.2% and 3 drivers, "
    "but the manager's final answer says it is still pending (delegated work lost: failed_handoff); no "
    "repetition, nothing trimmed",
)
def build_handoff_lost(c: Ctx) -> list[Turn]:
    analyst = c.agent(
        role(c.rng, "data"),
        "Analyse churn",
        "You quantify things.",
        tools=[
            make_tool(
                "run_sql",
                "Run a read-only SQL query.",
                ["sql"],
                counter_backend(["churn_rate=4.2%; top drivers: price (38%), onboarding (27%), outages (14%)"]),
            )
        ],
    )
    writer = c.agent(role(c.rng, "writer"), "Write clear summaries", "You are concise.")
    task = c.task("Report September churn and its top three drivers.", "Churn rate and three drivers.")
    return [(c.crew([analyst, writer], [task], hierarchical=True), None)]


@scripted("handoff_hierarchical_output_lost")
def script_handoff_lost(rng: random.Random) -> dict[str, list[Move]]:
    return {
        "Crew Manager": [
            call(
                "delegate",
                task="Compute September churn and its top three drivers",
                context="Use the events db.",
                coworker=role(rng, "data"),
            ),
            say("September churn report: the analysis is still pending; figures will follow next week."),
        ],
        role(rng, "data"): [
            call("run_sql", sql="SELECT churn_rate, drivers FROM churn_sept"),
            say("September churn is 4.2%. Drivers: price 38%, onboarding 27%, outages 14%."),
        ],
    }


# ===============================================================================================================
# negatives (healthy twins)
# ===============================================================================================================


@scenario(
    "ok_reworded_search_new_info",
    [],
    "reworded_search_each_new_info",
    "researcher re-words its search 4 times but each query returns different new facts and it answers well before "
    "max_iter: not a loop; content capture off",
    hide_content=True,
)
def build_ok_reworded(c: Ctx) -> list[Turn]:
    table = {
        "heat pump adoption Germany 2024": "Germany installed 356k heat pumps in 2024 (BWP).",
        "heat pump subsidy Germany BEG 2024": "BEG subsidy covers 30-70% of heat pump cost since Jan 2024.",
        "German heat pump sales decline reasons": "Sales fell 46% vs 2023 due to the heating-law debate.",
        "heat pump installer shortage Germany": "About 60k installers are missing (ZVSHK 2024).",
    }
    researcher = c.agent(
        role(c.rng, "research"),
        "Brief on heat pumps in Germany",
        "You cross-check facts.",
        tools=[make_tool("search_web", "Search the web.", ["query"], table_backend(table, "No results."))],
        max_iter=10,
    )
    task = c.task("Give four sourced facts on heat-pump adoption in Germany in 2024.", "Four facts.", researcher)
    return [(c.crew([researcher], [task]), None)]


@scripted("ok_reworded_search_new_info")
def script_ok_reworded(rng: random.Random) -> dict[str, list[Move]]:
    return {
        role(rng, "research"): [
            call("search_web", query="heat pump adoption Germany 2024"),
            call("search_web", query="heat pump subsidy Germany BEG 2024"),
            call("search_web", query="German heat pump sales decline reasons"),
            call("search_web", query="heat pump installer shortage Germany"),
            say(
                "1. 356k heat pumps installed in 2024 (BWP). 2. BEG subsidy covers 30-70%. 3. Sales fell 46% vs 2023 "
                "over the heating-law debate. 4. ~60k installers missing (ZVSHK)."
            ),
        ]
    }


@scenario(
    "ok_multiturn_same_tool_per_turn",
    [],
    "multi_turn_new_question_each_turn",
    "3-turn support chat under one session id with full history; each turn asks something new and lookup_order "
    "runs once per turn; nothing re-asked, no loop",
)
def build_ok_multiturn(c: Ctx) -> list[Turn]:
    return support_turns(
        c,
        window=3,
        questions=[
            "Hi, order 48213: when will my blender arrive?",
            "And what's the total I paid for order 48213?",
            "Which carrier is delivering order 48213?",
        ],
    )


@scripted("ok_multiturn_same_tool_per_turn")
def script_ok_multiturn(rng: random.Random) -> dict[str, list[Move]]:
    look = call("lookup_order", order_id="48213")
    return {
        role(rng, "support"): [
            look,
            say("Order 48213 was delivered on 2 May."),
            look,
            say("You paid 349 USD for order 48213."),
            look,
            say("Order 48213 was delivered by UPS (tracking on your order page)."),
        ]
    }


@scenario(
    "ok_parallel_calls_with_planning",
    [],
    "parallel_same_tool_different_args_planning",
    "planning=True adds crewai's Task Execution Planner call (own system prompt); the agent calls get_forecast "
    "for 3 cities in one parallel response and answers; not a loop; content capture off",
    hide_content=True,
)
def build_ok_parallel(c: Ctx) -> list[Turn]:
    forecasts = {"Lisbon": "Lisbon: 24C sunny", "Madrid": "Madrid: 29C clear", "Seville": "Seville: 33C hot"}
    agent = c.agent(
        role(c.rng, "travel"),
        "Pick the best city for a weekend",
        "You compare options quickly.",
        tools=[
            make_tool(
                "get_forecast",
                "Weekend weather forecast for a city.",
                ["city"],
                table_backend(forecasts, "unknown city"),
            )
        ],
    )
    task = c.task("Which of Lisbon, Madrid or Seville has the mildest weather this weekend?", "One city + why.", agent)
    return [(c.crew([agent], [task], planning=True, planning_llm=c.llm()), None)]


@scripted("ok_parallel_calls_with_planning")
def script_ok_parallel(rng: random.Random) -> dict[str, list[Move]]:
    plan = {
        "list_of_plans_per_task": [
            {
                "task_number": 1,
                "task": "Compare weekend weather",
                "plan": "1. Call get_forecast for each city. 2. Pick the mildest.",
            }
        ]
    }
    return {
        "Task Execution Planner": [say(json.dumps(plan))],
        role(rng, "travel"): [
            {
                "tools": [
                    ["get_forecast", {"city": "Lisbon"}],
                    ["get_forecast", {"city": "Madrid"}],
                    ["get_forecast", {"city": "Seville"}],
                ]
            },
            say("Lisbon: 24C and sunny is the mildest; Madrid 29C, Seville 33C."),
        ],
    }


@scenario(
    "ok_polling_finishes",
    [],
    "polling_finishes_after_few_polls",
    "ops agent starts an export and polls get_job_status 3 times (queued, running, done), downloads and answers: "
    "finite polling, not a loop; content capture off, wrapper mode",
    events=False,
    hide_content=True,
)
def build_ok_polling(c: Ctx) -> list[Turn]:
    agent = c.agent(
        role(c.rng, "ops"),
        "Run data exports",
        "You automate ops chores.",
        tools=[
            make_tool(
                "start_export",
                "Start an export job.",
                ["dataset"],
                counter_backend(["Job job-7781 started for {dataset}."]),
            ),
            make_tool(
                "get_job_status",
                "Get an export job's status.",
                ["job_id"],
                counter_backend(["{job_id}: queued", "{job_id}: running (60%)", "{job_id}: done, 18,204 rows"]),
            ),
            make_tool(
                "download_result",
                "Download a finished job's result URL.",
                ["job_id"],
                counter_backend(["https://exports.internal/{job_id}.csv.gz"]),
            ),
        ],
        max_iter=10,
    )
    task = c.task("Export the 'invoices_2025' dataset and give me the download link.", "A URL.", agent)
    return [(c.crew([agent], [task], cache=False), None)]


@scripted("ok_polling_finishes")
def script_ok_polling(rng: random.Random) -> dict[str, list[Move]]:
    poll = call("get_job_status", job_id="job-7781")
    return {
        role(rng, "ops"): [
            call("start_export", dataset="invoices_2025"),
            poll,
            poll,
            poll,
            call("download_result", job_id="job-7781"),
            say("Export done (18,204 rows): https://exports.internal/job-7781.csv.gz"),
        ]
    }


@scenario(
    "ok_retry_recovers",
    [],
    "error_retried_once_recovers",
    "fetch_statement raises TimeoutError once, the same call is retried once and succeeds, the writer gets the "
    "right balance via task context: recovered error, no loop, no failed hand-over; content capture off",
    hide_content=True,
    events=False,
)
def build_ok_retry(c: Ctx) -> list[Turn]:
    agent = c.agent(
        role(c.rng, "billing"),
        "Answer balance questions",
        "You are exact with money.",
        tools=[
            make_tool(
                "fetch_statement",
                "Fetch a customer's account statement.",
                ["customer_id"],
                counter_backend(
                    [
                        TimeoutError("statement-service timed out after 10s"),
                        "Customer {customer_id}: balance 86.40 EUR, due 20 May.",
                    ]
                ),
            )
        ],
    )
    writer = c.agent(role(c.rng, "writer"), "Write customer notes", "You are friendly and brief.")
    t1 = c.task("Find the open balance of customer C-5502.", "The balance and due date.", agent)
    t2 = c.task(
        "Write a two-sentence note to the customer about their balance.", "Two sentences.", writer, context=[t1]
    )
    return [(c.crew([agent, writer], [t1, t2], cache=False), None)]


@scripted("ok_retry_recovers")
def script_ok_retry(rng: random.Random) -> dict[str, list[Move]]:
    fetch = call("fetch_statement", customer_id="C-5502")
    return {
        role(rng, "billing"): [fetch, fetch, say("Customer C-5502 owes 86.40 EUR, due 20 May.")],
        role(rng, "writer"): [say("Your open balance is 86.40 EUR. Please pay by 20 May.")],
    }


@scenario(
    "ok_summary_keeps_budget",
    [],
    "compaction_keeps_user_constraint",
    "twin of rot_summary_drops_budget: context_length_exceeded triggers crewai's summary, which keeps \"budget "
    'under $500"; the agent finds the cheapest pair is 509 USD, books nothing and asks: constraint respected, not '
    "context_rot",
)
def build_ok_summary(c: Ctx) -> list[Turn]:
    return travel_crew(c)


@scripted("ok_summary_keeps_budget")
def script_ok_summary(rng: random.Random) -> dict[str, list[Move]]:
    summary = (
        "1. Task Overview: book a 2-night Berlin trip on 14 May from Lisbon or Porto; HARD CONSTRAINT total "
        "budget under $500 (flight + hotel).\n2. Current State: flights and hotels searched.\n3. Important "
        "Discoveries: FR8112 OPO 389 USD; TP1351 LIS 462 USD; Generator Mitte 120 USD / 2 nights; Motel One "
        "210 USD; Hotel Adlon 780 USD.\n4. Next Steps: cheapest combination under 500 USD is FR8112 + "
        "Generator Mitte = 509 USD (over); ask the traveller or book FR8112 + a cheaper hostel.\n5. Context to "
        "Preserve: budget < 500 USD, 14 May, 2 nights."
    )
    return travel_script(
        rng,
        summary,
        [],
        "No flight + hotel combination fits under $500 (cheapest: FR8112 389 USD + Generator Mitte "
        "120 USD = 509 USD). Nothing booked; please confirm whether to raise the budget.",
    )


@scenario(
    "ok_hierarchical_delegation",
    [],
    "subagent_gets_context_under_own_prompt",
    "hierarchical crew: crewai's manager delegates research (with the request's context) to the researcher under "
    "its own system prompt, then asks the writer for a title; both answers reach the final report: healthy "
    "hand-offs",
)
def build_ok_hier(c: Ctx) -> list[Turn]:
    researcher = c.agent(
        role(c.rng, "research"),
        "Find accurate facts",
        "You always use your tools.",
        tools=[
            make_tool(
                "search_web",
                "Search the web.",
                ["query"],
                counter_backend(["OTLP is OpenTelemetry's protocol; it runs over gRPC (4317) and HTTP (4318)."]),
            )
        ],
    )
    writer = c.agent(role(c.rng, "writer"), "Write titles", "You are concise.")
    task = c.task("Produce a three-sentence report about OTLP transports, with a title.", "Title + 3 sentences.")
    return [(c.crew([researcher, writer], [task], hierarchical=True), None)]


@scripted("ok_hierarchical_delegation")
def script_ok_hier(rng: random.Random) -> dict[str, list[Move]]:
    facts = "1. OTLP is OpenTelemetry's protocol. 2. It runs over gRPC on port 4317. 3. And over HTTP on 4318."
    return {
        "Crew Manager": [
            call(
                "delegate",
                task="Find three facts about OTLP transports",
                context="The user wants a short report about OTLP transports with a title.",
                coworker=role(rng, "research"),
            ),
            call(
                "ask",
                question="Suggest a title for a report on OTLP transports",
                context=facts,
                coworker=role(rng, "writer"),
            ),
            say(f"OTLP Transports at a Glance\n{facts}"),
        ],
        role(rng, "research"): [call("search_web", query="OTLP transports ports"), say(facts)],
        role(rng, "writer"): [say("OTLP Transports at a Glance")],
    }


@scenario(
    "ok_long_run_many_attributes",
    [],
    "long_healthy_run_over_128_attributes",
    "analyst profiles 21 tables, 3 per step in parallel over 7 steps (distinct arguments, each new stats) then "
    "summarises; late LLM spans exceed the SDK's 128-attribute limit (dropped attributes); healthy",
)
def build_ok_long(c: Ctx) -> list[Turn]:
    def profile(args: dict[str, Any]) -> str:
        t = args["table"]
        return f"{t}: {(len(t) * 7919) % 90000 + 1000} rows, {len(t) % 9 + 3} cols, nulls {len(t) % 5}%"

    agent = c.agent(
        role(c.rng, "data"),
        "Profile the warehouse",
        "You document datasets.",
        tools=[make_tool("profile_table", "Row/column/null stats of a table.", ["table"], profile)],
        max_iter=30,
    )
    task = c.task("Profile every table in the 'sales' schema and list the row counts.", "One line per table.", agent)
    return [(c.crew([agent], [task]), None)]


TABLES = [
    "orders",
    "order_items",
    "customers",
    "addresses",
    "products",
    "categories",
    "suppliers",
    "inventory",
    "shipments",
    "returns",
    "refunds",
    "payments",
    "invoices",
    "coupons",
    "carts",
    "sessions",
    "reviews",
    "warehouses",
    "regions",
    "currencies",
    "price_history",
    "promotions",
    "loyalty",
    "gift_cards",
]


@scripted("ok_long_run_many_attributes")
def script_ok_long(rng: random.Random) -> dict[str, list[Move]]:
    tables = rng.sample(TABLES, 21)
    batches: list[Move] = [
        {"tools": [["profile_table", {"table": t}] for t in tables[k : k + 3]]} for k in range(0, len(tables), 3)
    ]
    return {role(rng, "data"): [*batches, say(f"Profiled {len(tables)} tables in 'sales': " + ", ".join(tables) + ".")]}


# ---------------------------------------------------------------------------------------------------------------
# Running one scenario.


def hidden_config() -> Any:
    from openinference.instrumentation import TraceConfig

    return TraceConfig(hide_inputs=True, hide_outputs=True, hide_input_messages=True, hide_output_messages=True)


def session_id(name: str) -> str:
    return f"crewai-c-{name.replace('_', '-')}-{(sorted(SCENARIOS).index(name) + 1):03d}"


def run(name: str) -> dict[str, Any]:
    from openinference.instrumentation import using_session
    from openinference.instrumentation.crewai import CrewAIInstrumentor

    spec = SCENARIOS[name]
    seed = sorted(SCENARIOS).index(name) + 101
    rng = random.Random(seed)
    PICKED.clear()
    SCRIPT.clear()
    POS.clear()
    CALLS.clear()
    SCRIPT.update(spec.script(random.Random(seed)))
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"crewai-{spec.shape.replace('_', '-')}"}),
        id_generator=SeededIds(seed),
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = CrewAIInstrumentor()
    kwargs: dict[str, Any] = {"tracer_provider": provider, "use_event_listener": spec.events, "skip_dep_check": True}
    if spec.hide_content:
        kwargs["config"] = hidden_config()
    instrumentor.instrument(**kwargs)
    results: list[str] = []
    sid = session_id(name)
    try:
        with fake_openai() as base_url, using_session(sid):
            for crew, inputs in spec.build(Ctx(base_url, rng)):
                try:
                    results.append(str(crew.kickoff(inputs=inputs)))
                except (Exception, SystemExit) as exc:  # the run's own failure is part of the scenario
                    results.append(f"{type(exc).__name__}: {exc}")
    finally:
        instrumentor.uninstrument()
    provider.shutdown()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"crewai_{name}.json"
    path.write_text(json.dumps(to_otlp_json(exporter), separators=(",", ":"), ensure_ascii=False) + "\n")
    spans = exporter.get_finished_spans()
    dropped = max((s.dropped_attributes for s in spans), default=0)
    print(
        f"{path.name}: {len(spans)} spans, {len(CALLS)} LLM calls, {path.stat().st_size // 1024} KB, max dropped "
        f"attrs {dropped}, session {sid}"
    )
    for c in CALLS:
        move = c["move"]
        what = move.get("say") or move.get("tool") or move.get("tools") or f"HTTP {move.get('error')}"
        print(f"   {c['agent'][:28]:<28} #{c['call']:<2} {str(what)[:80]!r}")
    for r in results:
        print(f"   => {r[:160]!r}")
    (SCRATCH / f"{name}.calls.json").write_text(json.dumps({"results": results, "calls": CALLS}, indent=1))
    return {"session_id": sid, "spec": spec}


def write_labels() -> None:
    lines = ["# One entry per session, written by corpus_crewai.py from what each scenario scripted.", ""]
    for name in sorted(SCENARIOS):
        spec = SCENARIOS[name]
        kinds = ", ".join(f'"{k}"' for k in spec.kinds)
        why = spec.why.replace("\\", "\\\\").replace('"', '\\"')
        lines += [
            "[[session]]",
            f'session_id = "{session_id(name)}"',
            f'file = "out/crewai_{name}.json"',
            f"kinds = [{kinds}]",
            f'shape = "{spec.shape}"',
            f'why = "{why}"',
            f'instrumentation = "{"event_listener" if spec.events else "default_wrapper"}"',
            f"content_captured = {str(not spec.hide_content).lower()}",
            "",
        ]
    (HERE / "labels_crewai.toml").write_text("\n".join(lines))


def main(argv: list[str]) -> None:
    """Each scenario runs in a fresh interpreter: a run that ends in SystemExit leaves crewai's event bus unusable."""
    if argv[:1] == ["--one"]:
        run(argv[1])
        return
    chosen = argv or sorted(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}; known: {', '.join(sorted(SCENARIOS))}")
    env = {**os.environ, "CAPTURE_SCRATCH": str(SCRATCH)}
    for name in chosen:
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one", name], check=True, env=env)
    write_labels()


if __name__ == "__main__":
    main(sys.argv[1:])
