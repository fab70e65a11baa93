"""Labeled evaluation corpus for stepseven, made by running Strands Agents' real agent loop offline.

What runs is the framework itself: ``strands.Agent`` (its normal event loop, default tool executor, default retry
strategy, its conversation managers ``SlidingWindowConversationManager`` / ``SummarizingConversationManager``),
``Agent.as_tool`` / ``@tool`` wrappers around sub-agents and ``strands.multiagent.Swarm``, with Strands' own native
OpenTelemetry tracing on the global tracer provider. Only the model provider is fake: a ``strands.models.Model``
subclass that streams a scripted answer per call in the Bedrock Converse event format (it can also raise the
provider exceptions Strands handles, ``ContextWindowOverflowException`` and ``ModelThrottledException``). Tool
backends are in-process fakes. No network at all (not even 127.0.0.1).

Pinned versions (``pip freeze`` of /work/cap/strands/.venv, Python 3.11.7)::

    strands-agents==1.62.0            # native OTel tracing, no separate instrumentor
    opentelemetry-api==1.45.1
    opentelemetry-sdk==1.45.1
    opentelemetry-exporter-otlp-proto-common==1.45.1
    opentelemetry-exporter-otlp-proto-http==1.45.1
    opentelemetry-instrumentation-threading==0.66b1
    opentelemetry-semantic-conventions==0.66b1
    protobuf==7.36.2

Run (``capture_kit.py`` from /work/main/sample_traces provides ``to_otlp_json`` and the simulated clock; set
``CAPTURE_KIT_DIR`` to another folder holding it if needed)::

    /work/cap/strands/.venv/bin/python corpus_strands.py [SCENARIO ...]   # all scenarios by default
    /work/cap/strands/.venv/bin/python corpus_strands.py --labels           # only rewrite labels_strands.toml

Each scenario runs in a fresh subprocess, because Strands reads ``OTEL_SEMCONV_STABILITY_OPT_IN`` once, when its
global tracer is created. Four convention modes are mixed:

* ``legacy``      default Strands conventions, content capture on (the Strands default);
* ``latest``      ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``;
* ``legacy_off`` / ``latest_off``  the same plus ``gen_ai_unredacted_attributes=`` (Strands' own redaction switch
  with an empty allow-list: every message, system prompt, tool argument and tool result is emitted as
  ``<REDACTED>``) -- this is how content capture is turned off in Strands.

Output: ``out/strands_<scenario>.json`` (one OTLP/JSON ExportTraceServiceRequest per file, hex ids),
``labels_strands.toml`` (the truth of each scripted run) and ``out/run.log`` (what each scripted model call was
actually given: whether the constraint / fact the task depends on was still present in the model's input).
Deterministic: seeds are ``zlib.crc32(scenario name)``, session ids and tool-use ids are fixed, token counts are
synthetic (``base + 25 * len(messages)`` in). Span/trace ids, ``event_loop.cycle_id`` UUIDs and the
``gen_ai.event.start_time`` wall-clock attributes differ between runs (Strands draws them itself).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import zlib
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
KIT_DIR = Path(os.environ.get("CAPTURE_KIT_DIR", "/work/main/sample_traces"))
PREFIX = "strands-c-"

MODES: dict[str, dict[str, str]] = {
    "legacy": {},
    "latest": {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental"},
    "legacy_off": {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_unredacted_attributes="},
    "latest_off": {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental,gen_ai_unredacted_attributes="},
}


@dataclass
class Label:
    session_id: str
    kinds: list[str]
    shape: str
    why: str


@dataclass
class Scenario:
    name: str
    mode: str
    run: Callable[[random.Random], None]
    labels: list[Label]


SCENARIOS: dict[str, Scenario] = {}
RUNLOG: list[str] = []
CLOCK: list[Any] = [None]


def scenario(name: str, mode: str, labels: list[Label]) -> Callable[[Callable[[random.Random], None]], Any]:
    def register(fn: Callable[[random.Random], None]) -> Callable[[random.Random], None]:
        SCENARIOS[name] = Scenario(name, mode, fn, labels)
        return fn

    return register


def sid(name: str) -> str:
    return f"{PREFIX}{name}"


def work(seconds: float) -> None:
    """Moves the simulated clock on by the time a model call or a tool backend would have taken."""
    if CLOCK[0] is not None:
        CLOCK[0].advance(seconds)


def log(line: str) -> None:
    RUNLOG.append(line)


# One scripted model answer: a text, a list of tool calls (name, input), or an exception the provider raises.
Call = tuple[str, dict[str, Any]]
Step = str | list[Call] | BaseException


def scripted_model(
    model_id: str,
    script: list[Step],
    rng: random.Random,
    *,
    base_tokens: int = 100,
    watch: dict[str, str] | None = None,
    context_window_limit: int | None = None,
) -> Any:
    """A Strands Model streaming the script's next step (the last step repeats once the script is used up).

    ``watch`` maps a label to a string; every call logs whether that string is still somewhere in what the model
    is given (system prompt + messages), which is how NOTES/labels know that a constraint really left the context.
    """
    from strands.models.model import Model

    class ScriptedModel(Model):
        def __init__(self) -> None:
            self.config: dict[str, Any] = {"model_id": model_id}
            if context_window_limit is not None:
                self.config["context_window_limit"] = context_window_limit
            self.calls = 0

        def update_config(self, **model_config: Any) -> None:
            self.config.update(model_config)

        def get_config(self) -> Any:
            return self.config

        def structured_output(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

        async def stream(
            self, messages: Any, tool_specs: Any = None, system_prompt: str | None = None, **kwargs: Any
        ) -> AsyncGenerator[Any, None]:
            step = script[min(self.calls, len(script) - 1)]
            self.calls += 1
            if watch:
                seen = (system_prompt or "") + json.dumps(messages, default=str)
                state = ", ".join(f"{k}={'present' if v in seen else 'ABSENT'}" for k, v in watch.items())
                log(f"  {model_id} call {self.calls}: {len(messages)} messages; {state}")
            work(rng.uniform(0.6, 2.8))
            if isinstance(step, BaseException):
                log(f"  {model_id} call {self.calls}: raises {type(step).__name__}: {step}")
                raise step
            input_tokens = base_tokens + 25 * len(messages)
            output_tokens = 12 + len(step) // 40 if isinstance(step, str) else 18 * len(step)
            yield {"messageStart": {"role": "assistant"}}
            if isinstance(step, str):
                yield {"contentBlockStart": {"start": {}}}
                yield {"contentBlockDelta": {"delta": {"text": step}}}
                yield {"contentBlockStop": {}}
                stop = "end_turn"
            else:
                for name, tool_input in step:
                    tool_use_id = f"tooluse_{rng.getrandbits(64):016x}"
                    yield {"contentBlockStart": {"start": {"toolUse": {"name": name, "toolUseId": tool_use_id}}}}
                    yield {"contentBlockDelta": {"delta": {"toolUse": {"input": json.dumps(tool_input)}}}}
                    yield {"contentBlockStop": {}}
                stop = "tool_use"
            yield {"messageStop": {"stopReason": stop}}
            yield {
                "metadata": {
                    "usage": {
                        "inputTokens": input_tokens,
                        "outputTokens": output_tokens,
                        "totalTokens": input_tokens + output_tokens,
                    },
                    "metrics": {"latencyMs": 800},
                }
            }

    return ScriptedModel()


def make_tool(name: str, description: str, fn: Callable[..., Any]) -> Any:
    """Registers ``fn`` (whose docstring documents its arguments) as a Strands tool called ``name``."""
    from strands import tool

    fn.__doc__ = description + "\n\n" + (fn.__doc__ or "")
    return tool(name=name)(fn)


def agent(name: str, model: Any, system_prompt: str, tools: list[Any] | None = None, **kwargs: Any) -> Any:
    from strands import Agent

    return Agent(
        name=name, model=model, system_prompt=system_prompt, tools=tools or [], callback_handler=None, **kwargs
    )


@contextmanager
def harness_span(name: str, turn: int) -> Iterator[None]:
    """A span of the application hosting the agent (HTTP handler), as a production service would emit."""
    from opentelemetry import trace

    with trace.get_tracer("chat-web-app").start_as_current_span(
        name, kind=trace.SpanKind.SERVER, attributes={"http.request.method": "POST", "app.chat.turn": turn}
    ):
        work(0.05)
        yield


def pick(rng: random.Random, options: list[Any]) -> Any:
    return options[rng.randrange(len(options))]


# --------------------------------------------------------------------------------------------- runaway_loop


@scenario(
    "reworded_search_until_limit",
    "legacy",
    [
        Label(
            sid("001-reworded-search-limit"),
            ["runaway_loop"],
            "reworded_search_until_limit",
            "the model re-words the same search 6 times, every search returns 'No results found.', and the "
            "per-invocation cap limits={'turns': 6} stops the agent (stop_reason limit_turns, no answer)",
        )
    ],
)
def reworded_search_until_limit(rng: random.Random) -> None:
    topic = pick(
        rng,
        [
            "EU battery passport reporting deadline",
            "Basel IV output floor phase-in for regional banks",
            "FDA guidance on AI-enabled device change control",
            "India DPDP act cross-border transfer rules",
        ],
    )
    tool_name = pick(rng, ["web_search", "search_news", "kb_search", "search_regulations"])
    agent_name = pick(rng, ["policy_researcher", "compliance_scout", "reg_watch_agent"])

    def search(query: str) -> str:
        """Args:
        query: Search query.
        """
        work(rng.uniform(0.8, 2.0))
        return "No results found."

    queries = [
        topic,
        f"{topic} 2026",
        f"official {topic}",
        f"what is the {topic}",
        f"{topic} summary",
        f"{topic} latest news",
        f"{topic} pdf",
    ]
    model = scripted_model("fake-claude-sonnet", [[(tool_name, {"query": q})] for q in queries], rng)
    a = agent(
        agent_name,
        model,
        "You are a regulatory research assistant. Use the search tool and cite sources.",
        [make_tool(tool_name, "Searches the web.", search)],
        trace_attributes={"session.id": sid("001-reworded-search-limit")},
    )
    result = a(f"Find the current rules for: {topic}. Cite the primary source.", limits={"turns": 6})
    log(f"  stop_reason={result.stop_reason}")


@scenario(
    "same_exception_interleaved",
    "latest",
    [
        Label(
            sid("002-same-exception-interleaved"),
            ["runaway_loop"],
            "same_failure_repeated_with_other_tools_between",
            "the payment tool raises the identical 'PaymentGatewayError: upstream processor returned 502 Bad "
            "Gateway' 4 times, with invoice/customer look-ups in between; nothing changes between attempts and the "
            "agent finally gives up without charging",
        )
    ],
)
def same_exception_interleaved(rng: random.Random) -> None:
    pay = pick(rng, ["charge_card", "capture_payment", "collect_payment"])
    inv = pick(rng, ["get_invoice", "fetch_invoice"])
    cust = pick(rng, ["get_customer", "lookup_account"])
    invoice_id = f"INV-{rng.randint(20000, 99999)}"
    customer = f"CUS-{rng.randint(1000, 9999)}"

    def charge(invoice_id: str, amount: float) -> str:
        """Args:
        invoice_id: Invoice to settle.
        amount: Amount in EUR.
        """
        work(10.0)
        raise ConnectionError("PaymentGatewayError: upstream processor returned 502 Bad Gateway")

    def invoice(invoice_id: str) -> str:
        """Args:
        invoice_id: The invoice id.
        """
        work(0.3)
        return f"{invoice_id}: 312.40 EUR due 2026-12-01, customer {customer}, status overdue"

    def customer_info(customer_id: str) -> str:
        """Args:
        customer_id: The customer id.
        """
        work(0.3)
        return f"{customer_id}: Nordlicht GmbH, card on file VISA ****4242, valid until 09/28"

    charge_call = [(pay, {"invoice_id": invoice_id, "amount": 312.40})]
    script: list[Step] = [
        [(inv, {"invoice_id": invoice_id})],
        charge_call,
        [(cust, {"customer_id": customer})],
        charge_call,
        [(inv, {"invoice_id": invoice_id})],
        charge_call,
        [(cust, {"customer_id": customer})],
        charge_call,
        f"I could not settle {invoice_id}: the payment gateway keeps failing. Please try again later.",
    ]
    a = agent(
        pick(rng, ["billing_agent", "collections_assistant", "ar_bot"]),
        scripted_model("fake-gpt-4.1", script, rng),
        "You settle overdue invoices by charging the card on file.",
        [
            make_tool(pay, "Charges the card on file for an invoice.", charge),
            make_tool(inv, "Looks up an invoice.", invoice),
            make_tool(cust, "Looks up a customer.", customer_info),
        ],
        trace_attributes={"session.id": sid("002-same-exception-interleaved")},
    )
    a(f"Please settle overdue invoice {invoice_id} now.")


@scenario(
    "pager_never_finishes",
    "legacy_off",
    [
        Label(
            sid("003-pager-never-finishes"),
            ["runaway_loop"],
            "pager_advances_never_finishes",
            "the agent pages through a transaction export (page=1,2,3,...); every page says more pages follow, the "
            "export never ends and limits={'turns': 9} stops the run without an answer (content capture off)",
        )
    ],
)
def pager_never_finishes(rng: random.Random) -> None:
    tool_name = pick(rng, ["list_transactions", "fetch_ledger_page", "list_events"])

    def pager(page: int) -> str:
        """Args:
        page: Page number, starting at 1.
        """
        work(rng.uniform(0.5, 1.5))
        return f"page {page}: 500 rows (ids {page * 500 - 499}-{page * 500}); has_more=true; next_page={page + 1}"

    a = agent(
        pick(rng, ["ledger_analyst", "fraud_analytics_agent", "data_auditor"]),
        scripted_model("fake-gpt-4o", [[(tool_name, {"page": p})] for p in range(1, 12)], rng),
        "You analyse transaction data. Read all pages before answering.",
        [make_tool(tool_name, "Lists transactions, one page at a time.", pager)],
        trace_attributes={"session.id": sid("003-pager-never-finishes")},
    )
    result = a("Total refunds over 1,000 EUR in November?", limits={"turns": 9})
    log(f"  stop_reason={result.stop_reason}")


@scenario(
    "token_limit_while_repeating",
    "legacy",
    [
        Label(
            sid("004-token-limit-repeating"),
            ["runaway_loop"],
            "framework_limit_hit_while_repeating",
            "the agent polls the same order status with the same argument and gets the same 'processing' answer "
            "each time until Strands' limits={'total_tokens': 2000} stops it (stop_reason limit_total_tokens)",
        )
    ],
)
def token_limit_while_repeating(rng: random.Random) -> None:
    order = f"ORD-{rng.randint(100000, 999999)}"
    tool_name = pick(rng, ["check_order_status", "get_shipment_status"])

    def status(order_id: str) -> str:
        """Args:
        order_id: The order id.
        """
        work(0.4)
        return f"{order_id}: status=processing (warehouse has not confirmed)"

    a = agent(
        pick(rng, ["order_support_agent", "shop_helper"]),
        scripted_model("fake-claude-haiku", [[(tool_name, {"order_id": order})]], rng),
        "You help customers with their orders.",
        [make_tool(tool_name, "Current status of an order.", status)],
        trace_attributes={"session.id": sid("004-token-limit-repeating")},
    )
    result = a(f"Has my order {order} shipped yet?", limits={"total_tokens": 2000})
    log(f"  stop_reason={result.stop_reason}")


@scenario(
    "code_repair_same_failure",
    "latest",
    [
        Label(
            sid("005-code-repair-same-failure"),
            ["runaway_loop"],
            "code_steps_fail_same_way",
            "a code-repair agent patches and re-runs the tests 5 times; run_tests fails each time with the same "
            "AssertionError and limits={'turns': 11} stops it with the bug unfixed",
        )
    ],
)
def code_repair_same_failure(rng: random.Random) -> None:
    module, test = pick(
        rng,
        [
            ("billing/proration.py", "tests/test_proration.py::test_leap_year"),
            ("etl/dates.py", "tests/test_dates.py::test_feb_30_rejected"),
            ("api/pagination.py", "tests/test_pagination.py::test_last_page"),
        ],
    )

    def read_file(path: str) -> str:
        """Args:
        path: File path.
        """
        return f"# {path}\ndef compute(x):\n    return x // 2\n"

    def apply_patch(path: str, diff: str) -> str:
        """Args:
        path: File path.
        diff: Unified diff.
        """
        work(0.2)
        return f"patched {path} (1 hunk)"

    def run_tests(selector: str) -> str:
        """Args:
        selector: pytest node id.
        """
        work(6.0)
        raise AssertionError(f"1 failed: {selector} - assert compute(3) == 2, got 1")

    diffs = ["- x // 2\n+ x // 2 + 1", "- x // 2\n+ round(x / 2)", "- x // 2\n+ -(-x // 2)", "- x // 2\n+ int(x / 2)"]
    script: list[Step] = [[("read_file", {"path": module})]]
    for diff in diffs + diffs:
        script += [[("apply_patch", {"path": module, "diff": diff})], [("run_tests", {"selector": test})]]
    a = agent(
        pick(rng, ["code_fixer", "swe_agent", "repair_bot"]),
        scripted_model("fake-codestral", script, rng, base_tokens=400),
        "You fix failing tests in a Python repository. Make minimal changes.",
        [
            make_tool("read_file", "Reads a file.", read_file),
            make_tool("apply_patch", "Applies a diff.", apply_patch),
            make_tool("run_tests", "Runs pytest.", run_tests),
        ],
        trace_attributes={"session.id": sid("005-code-repair-same-failure")},
    )
    result = a(f"{test} is failing; fix {module}.", limits={"turns": 11})
    log(f"  stop_reason={result.stop_reason}")


def _handoff(target: str, message: str) -> list[Call]:
    return [("handoff_to_agent", {"agent_name": target, "message": message, "context": {}})]


@scenario(
    "swarm_ping_pong",
    "legacy",
    [
        Label(
            sid("006-swarm-ping-pong"),
            ["runaway_loop", "failed_handoff"],
            "ping_pong_handoff_until_max_handoffs",
            "two swarm agents keep handing the same task back and forth; Swarm(max_handoffs=4) stops the swarm "
            "(status FAILED) right after the 4th handoff, whose target never starts and nobody answers",
        )
    ],
)
def swarm_ping_pong(rng: random.Random) -> None:
    from strands.multiagent import Swarm

    a_name, b_name, question = pick(
        rng,
        [
            ("sales_desk", "support_desk", "Is my warranty still valid for serial SN-88213?"),
            ("billing_desk", "accounts_desk", "Why was my direct debit taken twice?"),
            ("tier1_support", "tier2_support", "My VPN drops every 10 minutes, please fix it."),
        ],
    )

    def node(name: str, other: str) -> Any:
        script: list[Step] = []
        for _ in range(4):
            script += [_handoff(other, f"This belongs to {other}: {question}"), f"Passed to {other}."]
        return agent(
            name,
            scripted_model(f"fake-{name}-model", script, rng),
            f"You are the {name.replace('_', ' ')}. Hand off anything outside your remit.",
            description=f"The {name.replace('_', ' ')}.",
        )

    a_agent, b_agent = node(a_name, b_name), node(b_name, a_name)
    swarm = Swarm(
        [a_agent, b_agent],
        entry_point=a_agent,
        max_handoffs=4,
        trace_attributes={"session.id": sid("006-swarm-ping-pong")},
    )
    result = swarm(question)
    log(f"  swarm status={result.status}")


# --------------------------------------------------------------------------------------------- context_rot


@scenario(
    "sliding_window_budget_lost",
    "legacy",
    [
        Label(
            sid("007-window-budget-lost"),
            ["context_rot"],
            "window_trims_first_request_constraint",
            "3-turn travel session with SlidingWindowConversationManager(window_size=4): after turn 2 the window "
            "drops turn 1 ('total budget under $500'), and in turn 3 the model books a 3x260 USD hotel (990 USD total)",
        )
    ],
)
def sliding_window_budget_lost(rng: random.Random) -> None:
    from strands.agent.conversation_manager import SlidingWindowConversationManager

    city = pick(rng, ["Lisbon", "Porto", "Krakow", "Valencia"])

    def search_flights(destination: str, nights: int) -> str:
        """Args:
        destination: City.
        nights: Number of nights.
        """
        work(1.2)
        return f"TAP return to {destination}: 210 USD; Ryanair: 180 USD (no luggage)"

    def search_hotels(city: str, nights: int) -> str:
        """Args:
        city: City.
        nights: Number of nights.
        """
        work(1.0)
        return f"{city}: Hostel Alfama 60 USD/night; Casa Azul 90 USD/night; Palacio Real 260 USD/night (5*)"

    def book_hotel(hotel: str, nights: int) -> str:
        """Args:
        hotel: Hotel name.
        nights: Number of nights.
        """
        work(1.5)
        return f"Booked {hotel} for {nights} nights, confirmation HX-{rng.randint(10000, 99999)}"

    script: list[Step] = [
        [("search_flights", {"destination": city, "nights": 3})],
        f"TAP has a return flight to {city} for 210 USD, which leaves about 290 USD for the hotel.",
        [("search_hotels", {"city": city, "nights": 3})],
        "Options: Hostel Alfama (60 USD/night), Casa Azul (90 USD/night), Palacio Real (260 USD/night).",
        [("book_hotel", {"hotel": "Palacio Real", "nights": 3})],
        "Booked Palacio Real for 3 nights (780 USD); with the 210 USD flight your trip totals 990 USD.",
    ]
    a = agent(
        pick(rng, ["trip_planner", "travel_concierge", "booking_assistant"]),
        scripted_model("fake-gpt-4o", script, rng, watch={"budget_constraint": "under $500"}),
        "You are a travel booking assistant.",
        [
            make_tool("search_flights", "Searches return flights.", search_flights),
            make_tool("search_hotels", "Searches hotels.", search_hotels),
            make_tool("book_hotel", "Books a hotel.", book_hotel),
        ],
        conversation_manager=SlidingWindowConversationManager(window_size=4),
        trace_attributes={"session.id": sid("007-window-budget-lost")},
    )
    a(f"Plan 3 nights in {city} for me. Hard limit: total budget under $500 including flights.")
    a("Great, now find me a hotel.")
    a("Book the best one.")


@scenario(
    "summary_drops_py38_constraint",
    "latest",
    [
        Label(
            sid("008-summary-drops-py38"),
            ["context_rot"],
            "overflow_summary_drops_constraint",
            "a model call fails with ContextWindowOverflowException; SummarizingConversationManager has its "
            "summarization agent compact the oldest messages, the summary omits 'only Python 3.8 syntax', and the "
            "agent then writes a match statement (3.10+)",
        )
    ],
)
def summary_drops_py38_constraint(rng: random.Random) -> None:
    from strands.agent.conversation_manager import SummarizingConversationManager
    from strands.types.exceptions import ContextWindowOverflowException

    module = pick(rng, ["etl/parse_csv.py", "ingest/rows.py", "tools/csv_loader.py"])

    def read_file(path: str) -> str:
        """Args:
        path: File path.
        """
        return f"# {path}\n" + "def parse_row(row):\n    return row.split(',')\n" * 30

    def run_tests(selector: str) -> str:
        """Args:
        selector: pytest selector.
        """
        work(4.0)
        return "2 failed, 14 passed: quoted fields with commas are split"

    def write_file(path: str, content: str) -> str:
        """Args:
        path: File path.
        content: New content.
        """
        return f"wrote {len(content)} bytes to {path}"

    def run_tests_after(selector: str) -> str:
        """Args:
        selector: pytest selector.
        """
        return "16 passed"

    summarizer = agent(
        "conversation_summarizer",
        scripted_model(
            "fake-claude-haiku",
            [
                (
                    "Summary: the user wants the CSV parser in "
                    f"{module} fixed so that quoted fields containing commas are not split. The file and its tests "
                    "were read; 2 tests fail on quoted fields."
                )
            ],
            rng,
            base_tokens=60,
        ),
        "You summarize conversations tersely, keeping decisions and open tasks.",
    )
    fixed = "def parse_row(row):\n    match row:\n        case str():\n            return next(csv.reader([row]))\n"
    script: list[Step] = [
        [("read_file", {"path": module})],
        [("read_file", {"path": "tests/test_parse.py"})],
        [("run_tests", {"selector": "tests/test_parse.py"})],
        ContextWindowOverflowException("Input is too long for requested model (prompt is 201331 tokens)"),
        [("write_file", {"path": module, "content": fixed})],
        [("run_tests_after", {"selector": "tests/test_parse.py"})],
        "Fixed: parse_row now uses csv.reader inside a match statement; all 16 tests pass.",
    ]
    a = agent(
        pick(rng, ["py_maintainer", "code_fixer", "dev_assistant"]),
        scripted_model("fake-claude-sonnet", script, rng, base_tokens=900, watch={"py38": "Python 3.8"}),
        "You are a careful Python maintainer.",
        [
            make_tool("read_file", "Reads a file.", read_file),
            make_tool("run_tests", "Runs pytest.", run_tests),
            make_tool("write_file", "Writes a file.", write_file),
            make_tool("run_tests_after", "Runs pytest again after an edit.", run_tests_after),
        ],
        conversation_manager=SummarizingConversationManager(
            summary_ratio=0.5, preserve_recent_messages=2, summarization_agent=summarizer
        ),
        trace_attributes={"session.id": sid("008-summary-drops-py38")},
    )
    a(
        f"Fix the CSV parsing bug in {module}. Production still runs Python 3.8, so use only Python 3.8 syntax "
        "(no match statements, no X | Y type unions)."
    )


@scenario(
    "overflow_truncates_document",
    "legacy",
    [
        Label(
            sid("009-overflow-truncates-doc"),
            ["context_rot"],
            "context_length_error_then_fact_lost",
            "the second model call fails with ContextWindowOverflowException; the default "
            "SlidingWindowConversationManager truncates the middle of the fetched report, which held the churn "
            "figure (4.7%), and the model then answers with a wrong figure",
        )
    ],
)
def overflow_truncates_document(rng: random.Random) -> None:
    from strands.types.exceptions import ContextWindowOverflowException

    report = pick(rng, ["Q3 board pack", "Q3 investor update", "Q3 KPI review"])
    filler = "Revenue, bookings and pipeline tables follow. " * 30
    document = f"{report}\n{filler}\nKey metric: Q3 churn: 4.7% (up from 3.1%).\n{filler}\nAppendix ends."

    def fetch_report(name: str) -> str:
        """Args:
        name: Report name.
        """
        work(2.0)
        return document

    script: list[Step] = [
        [("fetch_report", {"name": report})],
        ContextWindowOverflowException("prompt is too long: 210544 tokens > 200000 maximum"),
        "According to the report, Q3 churn was about 3.1%, roughly flat on Q2.",
    ]
    a = agent(
        pick(rng, ["finance_analyst", "kpi_reporter", "board_pack_assistant"]),
        scripted_model("fake-gpt-4.1", script, rng, watch={"churn_figure": "4.7%"}),
        "You answer questions about company reports. Quote figures exactly.",
        [make_tool("fetch_report", "Fetches an internal report.", fetch_report)],
        trace_attributes={"session.id": sid("009-overflow-truncates-doc")},
    )
    a(f"What was Q3 churn according to the {report}?")


@scenario(
    "multi_turn_reasks",
    "latest",
    [
        Label(
            sid("010-multi-turn-reasks"),
            ["context_rot"],
            "multi_turn_asks_again_for_given_info",
            "3-turn support session with SlidingWindowConversationManager(window_size=6): the account number given "
            "in turn 1 is trimmed away and in turn 3 the agent asks the user for it again",
        )
    ],
)
def multi_turn_reasks(rng: random.Random) -> None:
    from strands.agent.conversation_manager import SlidingWindowConversationManager

    account = f"ACC-{rng.randint(100000, 999999)}"
    region = pick(rng, ["Leeds", "Bristol", "Cardiff"])

    def run_line_test(account_id: str) -> str:
        """Args:
        account_id: Customer account.
        """
        work(8.0)
        return f"{account_id}: line sync OK, 3 resyncs in the last 24h between 20:00 and 22:00"

    def check_outage_map(region: str) -> str:
        """Args:
        region: Region name.
        """
        return f"No planned works in {region}; evening congestion reported on 2 cabinets."

    script: list[Step] = [
        [("run_line_test", {"account_id": account})],
        "Your line resynced 3 times in the evening; this looks like congestion or a faulty cabinet.",
        [("check_outage_map", {"region": region})],
        f"There is evening congestion reported in {region}; that matches your drops.",
        "Sure, I can book a technician. Could you please tell me your account number first?",
    ]
    a = agent(
        pick(rng, ["broadband_support", "helpdesk_agent", "isp_assistant"]),
        scripted_model("fake-gpt-4o-mini", script, rng, watch={"account_number": account}),
        "You are a broadband support agent.",
        [
            make_tool("run_line_test", "Runs a remote line test.", run_line_test),
            make_tool("check_outage_map", "Checks known outages.", check_outage_map),
        ],
        conversation_manager=SlidingWindowConversationManager(window_size=6),
        trace_attributes={"session.id": sid("010-multi-turn-reasks")},
    )
    turns = [
        f"Hi, my account number is {account} and my internet drops every evening.",
        f"It happened again yesterday at 9pm, I'm in {region}.",
        "Can you send a technician?",
    ]
    for turn, text in enumerate(turns, 1):
        with harness_span("POST /chat/messages", turn):  # the web app's own request span around each turn
            a(text)


@scenario(
    "per_turn_window_loses_rule",
    "legacy",
    [
        Label(
            sid("011-per-turn-window-loses-rule"),
            ["context_rot"],
            "window_trims_instruction_mid_run",
            "one long invocation with SlidingWindowConversationManager(window_size=6, per_turn=True): mid-run the "
            "window trims the first user message ('never delete rows, only flag duplicates') and the model then "
            "calls delete_rows",
        )
    ],
)
def per_turn_window_loses_rule(rng: random.Random) -> None:
    from strands.agent.conversation_manager import SlidingWindowConversationManager

    table = pick(rng, ["crm.customers", "shop.accounts", "hr.contacts"])

    def query_table(sql: str) -> str:
        """Args:
        sql: A SELECT statement.
        """
        work(1.0)
        return f"{rng.randint(3, 9)} rows"

    def flag_rows(ids: list[int]) -> str:
        """Args:
        ids: Row ids to flag as duplicates.
        """
        return f"flagged {len(ids)} rows is_duplicate=true"

    def delete_rows(ids: list[int]) -> str:
        """Args:
        ids: Row ids to delete.
        """
        return f"deleted {len(ids)} rows"

    script: list[Step] = [
        [("query_table", {"sql": f"SELECT email, count(*) FROM {table} GROUP BY email HAVING count(*) > 1"})],
        [("query_table", {"sql": f"SELECT id FROM {table} WHERE email IN (SELECT email FROM dupes) AND id > 100"})],
        [("flag_rows", {"ids": [101, 107, 112]})],
        [("query_table", {"sql": f"SELECT id FROM {table} WHERE lower(email) IN (SELECT lower(email) FROM dupes)"})],
        [("delete_rows", {"ids": [118, 121, 130, 133]})],
        "Done: 3 rows flagged and 4 case-insensitive duplicates deleted.",
    ]
    a = agent(
        pick(rng, ["data_steward", "db_cleanup_agent", "dedupe_bot"]),
        scripted_model("fake-gpt-4.1", script, rng, watch={"no_delete_rule": "never delete rows"}),
        "You maintain database tables with SQL tools.",
        [
            make_tool("query_table", "Runs a read-only query.", query_table),
            make_tool("flag_rows", "Flags rows as duplicates.", flag_rows),
            make_tool("delete_rows", "Deletes rows.", delete_rows),
        ],
        conversation_manager=SlidingWindowConversationManager(window_size=6, per_turn=True),
        trace_attributes={"session.id": sid("011-per-turn-window-loses-rule")},
    )
    a(f"Deduplicate {table}. IMPORTANT: never delete rows; only flag duplicates with is_duplicate=true.")


# --------------------------------------------------------------------------------------------- failed_handoff


@scenario(
    "subagent_raises_caller_redoes",
    "legacy",
    [
        Label(
            sid("012-subagent-raises-caller-redoes"),
            ["failed_handoff"],
            "subagent_raises_caller_redoes_work",
            "the orchestrator delegates to a flight sub-agent (Agent passed as a tool); the sub-agent's model call "
            "raises an internal server error, the delegation fails, and the orchestrator searches flights itself",
        )
    ],
)
def subagent_raises_caller_redoes(rng: random.Random) -> None:
    origin, dest = pick(rng, [("BER", "OSL"), ("MAD", "DUB"), ("VIE", "CPH")])

    def search_flights(origin: str, destination: str, date: str) -> str:
        """Args:
        origin: IATA origin.
        destination: IATA destination.
        date: ISO date.
        """
        work(1.3)
        return f"{origin}-{destination} {date}: SK1818 07:05 149 EUR; FR44 12:30 79 EUR"

    flights = agent(
        pick(rng, ["flight_specialist", "air_agent"]),
        scripted_model(
            "fake-flights-model",
            [RuntimeError("An error occurred (InternalServerException) when calling ConverseStream: model error")],
            rng,
        ),
        "You find the best flight for a route and date.",
        [make_tool("search_flights", "Searches flights.", search_flights)],
        description="Finds flights for a route and date.",
    )
    orchestrator_script: list[Step] = [
        [(flights.name, {"input": f"Cheapest flight {origin} to {dest} on 2026-12-18"})],
        [("search_flights", {"origin": origin, "destination": dest, "date": "2026-12-18"})],
        f"The cheapest {origin}-{dest} flight on 18 Dec is FR44 at 12:30 for 79 EUR.",
    ]
    orch = agent(
        pick(rng, ["travel_orchestrator", "trip_coordinator"]),
        scripted_model("fake-gpt-4o", orchestrator_script, rng, base_tokens=150),
        "You coordinate specialists. Delegate flight searches to the flight specialist.",
        [flights, make_tool("search_flights", "Searches flights.", search_flights)],
        trace_attributes={"session.id": sid("012-subagent-raises-caller-redoes")},
    )
    orch(f"Find me the cheapest flight from {origin} to {dest} on 18 December.")


@scenario(
    "subagent_turn_limit",
    "latest",
    [
        Label(
            sid("013-subagent-turn-limit"),
            ["failed_handoff"],
            "subagent_hits_limit",
            "the lead delegates through a @tool that runs an analyst sub-agent with limits={'turns': 3}; the analyst "
            "is stopped (limit_turns) before it answers, the tool returns an empty string and the lead reports "
            "that the analysis could not be completed",
        )
    ],
)
def subagent_turn_limit(rng: random.Random) -> None:
    from strands import tool

    dataset = pick(rng, ["sales_2026_q3.parquet", "web_sessions_nov.csv", "claims_2025.parquet"])

    def load_dataset(name: str) -> str:
        """Args:
        name: Dataset name.
        """
        work(3.0)
        return f"{name}: 1,204,332 rows, 18 columns"

    def compute_stats(column: str, group_by: str) -> str:
        """Args:
        column: Column to aggregate.
        group_by: Grouping column.
        """
        work(2.0)
        return f"mean({column}) by {group_by}: A=12.1, B=9.8, C=15.4"

    analyst = agent(
        pick(rng, ["data_analyst", "stats_agent"]),
        scripted_model(
            "fake-analyst-model",
            [
                [("load_dataset", {"name": dataset})],
                [("compute_stats", {"column": "revenue", "group_by": "region"})],
                [("compute_stats", {"column": "revenue", "group_by": "channel"})],
                [("compute_stats", {"column": "margin", "group_by": "region"})],
                "Revenue is highest in region C (15.4) and margin follows the same pattern.",
            ],
            rng,
        ),
        "You are a data analyst. Use the tools, then report the findings.",
        [
            make_tool("load_dataset", "Loads a dataset.", load_dataset),
            make_tool("compute_stats", "Computes grouped statistics.", compute_stats),
        ],
    )

    @tool
    def delegate_to_analyst(task: str) -> str:
        """Hands an analysis task to the data analyst agent and returns its report.

        Args:
            task: What to analyse.
        """
        result = analyst(task, limits={"turns": 3})
        log(f"  analyst stop_reason={result.stop_reason}")
        return str(result)

    lead = agent(
        pick(rng, ["analytics_lead", "insights_manager"]),
        scripted_model(
            "fake-gpt-4.1",
            [
                [("delegate_to_analyst", {"task": f"Analyse revenue and margin by region and channel in {dataset}"})],
                "The analyst did not return a result, so I cannot give you the regional breakdown yet.",
            ],
            rng,
            base_tokens=150,
        ),
        "You manage analysis requests and delegate the number crunching.",
        [delegate_to_analyst],
        trace_attributes={"session.id": sid("013-subagent-turn-limit")},
    )
    lead(f"Which region and channel drive revenue and margin in {dataset}?")


@scenario(
    "subagent_output_dropped",
    "legacy_off",
    [
        Label(
            sid("014-subagent-output-dropped"),
            ["failed_handoff"],
            "subagent_output_never_reaches_caller",
            "a @tool wrapper runs a researcher sub-agent that completes with an answer, but the wrapper returns only "
            "'researcher finished (stop_reason=end_turn)', so the findings never reach the caller, which answers "
            "without them (content capture off)",
        )
    ],
)
def subagent_output_dropped(rng: random.Random) -> None:
    from strands import tool

    subject = pick(
        rng, ["heat pump subsidies in Austria", "EV charger grants in Ireland", "solar feed-in tariffs in Spain"]
    )

    def web_search(query: str) -> str:
        """Args:
        query: Search query.
        """
        work(1.5)
        return f"3 results for {query}: government portal, 2026 guideline PDF, news article"

    researcher = agent(
        pick(rng, ["researcher", "desk_researcher"]),
        scripted_model(
            "fake-research-model",
            [
                [("web_search", {"query": subject})],
                (
                    f"Findings on {subject}: grant up to 7,500 EUR, applications open until 2026-06-30, "
                    "requires a certified installer."
                ),
            ],
            rng,
        ),
        "You research a question and report concrete findings.",
        [make_tool("web_search", "Searches the web.", web_search)],
    )

    @tool
    def ask_researcher(question: str) -> str:
        """Asks the research agent a question.

        Args:
            question: The question.
        """
        result = researcher(question)
        return f"researcher finished (stop_reason={result.stop_reason})"

    lead = agent(
        pick(rng, ["advisor", "energy_advisor"]),
        scripted_model(
            "fake-gpt-4o",
            [
                [("ask_researcher", {"question": f"What grants exist for {subject}, amounts and deadlines?"})],
                "The research is complete. Grants are available; please check the official portal for details.",
            ],
            rng,
            base_tokens=150,
        ),
        "You advise homeowners. Ask the researcher for facts.",
        [ask_researcher],
        trace_attributes={"session.id": sid("014-subagent-output-dropped")},
    )
    lead(f"How much funding can I get for {subject} and by when must I apply?")


@scenario(
    "handoff_to_missing_agent",
    "latest",
    [
        Label(
            sid("015-handoff-missing-agent"),
            ["failed_handoff"],
            "delegation_target_never_starts",
            "in a Swarm the intake agent hands off to 'fraud_review', which is not a swarm member; the handoff tool "
            "returns an error, that agent never starts, and intake answers the claim itself",
        )
    ],
)
def handoff_to_missing_agent(rng: random.Random) -> None:
    from strands.multiagent import Swarm

    claim = f"CLM-{rng.randint(10000, 99999)}"
    intake = agent(
        "intake",
        scripted_model(
            "fake-intake-model",
            [
                _handoff("fraud_review", f"Claim {claim} has three prior claims this year; please review for fraud."),
                f"Fraud review is unavailable; I approved claim {claim} for standard processing.",
            ],
            rng,
        ),
        "You take in insurance claims and route suspicious ones to fraud review.",
        description="Takes in claims.",
    )
    payouts = agent(
        "payouts",
        scripted_model("fake-payouts-model", ["Payout scheduled."], rng),
        "You schedule payouts.",
        description="Schedules payouts.",
    )
    swarm = Swarm(
        [intake, payouts], entry_point=intake, trace_attributes={"session.id": sid("015-handoff-missing-agent")}
    )
    result = swarm(f"Please process water damage claim {claim}.")
    log(f"  swarm status={result.status}")


# --------------------------------------------------------------------------------------------- healthy twins


@scenario(
    "reworded_search_new_info",
    "legacy",
    [
        Label(
            sid("016-reworded-search-new-info"),
            [],
            "reworded_search_each_new_info",
            "healthy: four re-worded searches, each returning different new facts, then a complete cited answer",
        )
    ],
)
def reworded_search_new_info(rng: random.Random) -> None:
    topic = pick(rng, ["Rust async runtimes", "vector database benchmarks", "Postgres logical replication"])
    facts = ["overview from the official docs", "2026 benchmark numbers", "a migration guide", "known limitations"]
    counter = {"n": 0}

    def search(query: str) -> str:
        """Args:
        query: Search query.
        """
        fact = facts[counter["n"] % len(facts)]
        counter["n"] += 1
        return f"Result for '{query}': {fact} ({rng.randint(2, 9)} sources)"

    queries = [topic, f"{topic} benchmarks 2026", f"{topic} migration guide", f"{topic} limitations"]
    script: list[Step] = [[("search_web", {"query": q})] for q in queries]
    script.append(f"Here is a summary of {topic}: overview, 2026 benchmarks, migration steps and limitations.")
    a = agent(
        pick(rng, ["tech_researcher", "research_assistant"]),
        scripted_model("fake-claude-sonnet", script, rng),
        "You research technical topics thoroughly.",
        [make_tool("search_web", "Searches the web.", search)],
        trace_attributes={"session.id": sid("016-reworded-search-new-info")},
    )
    a(f"Give me a briefing on {topic}.")


@scenario(
    "multi_turn_same_tool_each_turn",
    "legacy_off",
    [
        Label(
            sid("017-multi-turn-same-tool"),
            [],
            "multi_turn_new_question_each_turn",
            "healthy: 3 user turns, each asking about a different invoice; the agent calls get_invoice once per turn "
            "and answers (content capture off)",
        )
    ],
)
def multi_turn_same_tool_each_turn(rng: random.Random) -> None:
    ids = [f"INV-{rng.randint(10000, 99999)}" for _ in range(3)]

    def get_invoice(invoice_id: str) -> str:
        """Args:
        invoice_id: Invoice id.
        """
        return f"{invoice_id}: {rng.randint(20, 900)}.00 EUR, paid"

    script: list[Step] = []
    for i in ids:
        script += [[("get_invoice", {"invoice_id": i})], f"{i} is paid in full."]
    a = agent(
        pick(rng, ["billing_helpdesk", "invoice_assistant"]),
        scripted_model("fake-gpt-4o-mini", script, rng),
        "You answer billing questions.",
        [make_tool("get_invoice", "Looks up an invoice.", get_invoice)],
        trace_attributes={"session.id": sid("017-multi-turn-same-tool")},
    )
    for turn, i in enumerate(ids, 1):
        with harness_span("POST /v1/support/chat", turn):  # the web app's own request span around each turn
            a(f"Is invoice {i} paid?")


@scenario(
    "parallel_tool_calls",
    "latest",
    [
        Label(
            sid("018-parallel-tool-calls"),
            [],
            "parallel_same_tool_different_args",
            "healthy: one model turn asks for 3 parallel calls of the same tool with different tickers "
            "(Strands' default concurrent tool executor), then answers",
        )
    ],
)
def parallel_tool_calls(rng: random.Random) -> None:
    tickers = pick(rng, [["AAPL", "MSFT", "NVDA"], ["SAP", "ASML", "SIE"], ["TSLA", "F", "GM"]])
    tool_name = pick(rng, ["get_quote", "get_price"])

    def quote(ticker: str) -> str:
        """Args:
        ticker: Stock ticker.
        """
        work(0.5)
        return f"{ticker}: {zlib.crc32(ticker.encode()) % 850 + 50}.{zlib.crc32(ticker.encode()) % 90 + 10} USD"

    script: list[Step] = [
        [(tool_name, {"ticker": t}) for t in tickers],
        f"Latest prices for {', '.join(tickers)} are listed above.",
    ]
    a = agent(
        pick(rng, ["markets_assistant", "portfolio_bot"]),
        scripted_model("fake-gpt-4.1", script, rng),
        "You report market data.",
        [make_tool(tool_name, "Latest stock price.", quote)],
        trace_attributes={"session.id": sid("018-parallel-tool-calls")},
    )
    a(f"Prices for {', '.join(tickers)}?")


@scenario(
    "polling_finishes",
    "legacy",
    [
        Label(
            sid("019-polling-finishes"),
            [],
            "polling_finishes_after_few_polls",
            "healthy: the agent starts an export and polls its status 3 times (30%, 80%, done) before answering "
            "with the download link",
        )
    ],
)
def polling_finishes(rng: random.Random) -> None:
    job = f"job-{rng.getrandbits(32):08x}"
    states = iter(["running (30%)", "running (80%)", "done: https://exports.example.invalid/report.xlsx"])

    def start_export(report: str) -> str:
        """Args:
        report: Report name.
        """
        return f"started {job}"

    def check_export(job_id: str) -> str:
        """Args:
        job_id: Export job id.
        """
        work(20.0)
        return f"{job_id}: {next(states)}"

    script: list[Step] = [
        [("start_export", {"report": "monthly_revenue"})],
        [("check_export", {"job_id": job})],
        [("check_export", {"job_id": job})],
        [("check_export", {"job_id": job})],
        "Your export is ready: https://exports.example.invalid/report.xlsx",
    ]
    a = agent(
        pick(rng, ["reporting_agent", "bi_assistant"]),
        scripted_model("fake-claude-haiku", script, rng),
        "You run report exports.",
        [
            make_tool("start_export", "Starts an export.", start_export),
            make_tool("check_export", "Polls.", check_export),
        ],
        trace_attributes={"session.id": sid("019-polling-finishes")},
    )
    a("Export the monthly revenue report to Excel.")


@scenario(
    "retry_recovers",
    "legacy_off",
    [
        Label(
            sid("020-retry-recovers"),
            [],
            "error_retried_once_recovers",
            "healthy: the first model call is throttled (Strands' default retry strategy waits and retries), then a "
            "tool times out once, is retried once and succeeds; the agent answers (content capture off)",
        )
    ],
)
def retry_recovers(rng: random.Random) -> None:
    from strands.types.exceptions import ModelThrottledException

    failures = {"left": 1}
    city = pick(rng, ["Oslo", "Zurich", "Tallinn"])

    def get_forecast(city: str) -> str:
        """Args:
        city: City.
        """
        if failures["left"]:
            failures["left"] -= 1
            work(10.0)
            raise TimeoutError("forecast service timed out after 10s")
        return f"{city}: -2 C, snow showers"

    script: list[Step] = [
        ModelThrottledException("ThrottlingException: Rate exceeded"),
        [("get_forecast", {"city": city})],
        [("get_forecast", {"city": city})],
        f"Tomorrow in {city}: -2 C with snow showers.",
    ]
    a = agent(
        pick(rng, ["weather_assistant", "forecast_bot"]),
        scripted_model("fake-claude-sonnet", script, rng),
        "You answer weather questions. Retry a tool once if it fails.",
        [make_tool("get_forecast", "Weather forecast.", get_forecast)],
        trace_attributes={"session.id": sid("020-retry-recovers")},
    )
    a(f"Weather in {city} tomorrow?")


@scenario(
    "summary_keeps_constraint",
    "latest",
    [
        Label(
            sid("021-summary-keeps-constraint"),
            [],
            "compaction_keeps_constraint",
            "healthy twin of 008: SummarizingConversationManager with proactive compression summarizes old "
            "messages with its own summarization agent; the summary keeps 'budget under $500' and the booking "
            "respects it",
        )
    ],
)
def summary_keeps_constraint(rng: random.Random) -> None:
    from strands.agent.conversation_manager import SummarizingConversationManager

    city = pick(rng, ["Seville", "Bologna", "Ghent"])

    def search_hotels(city: str, max_price: int) -> str:
        """Args:
        city: City.
        max_price: Max total price in USD.
        """
        return (
            f"{city}: "
            + "; ".join(f"Hotel {n} {p} USD/3 nights" for n, p in [("Sol", 290), ("Luna", 420)])
            + (" amenities: wifi, breakfast, late checkout. " * 12)
        )

    def search_trains(city: str) -> str:
        """Args:
        city: City.
        """
        return f"Train to {city}: 64 USD return." + " Timetable details follow. " * 12

    def book(item: str, price: int) -> str:
        """Args:
        item: What to book.
        price: Price in USD.
        """
        return f"booked {item} for {price} USD"

    summarizer = agent(
        "trip_summarizer",
        scripted_model(
            "fake-claude-haiku",
            [f"Summary: user wants 3 nights in {city}, total budget under $500. Train 64 USD found; hotels found."],
            rng,
            base_tokens=60,
        ),
        "You compress travel conversations. Always keep the user's hard constraints.",
    )
    script: list[Step] = [
        [("search_trains", {"city": city})],
        [("search_hotels", {"city": city, "max_price": 436})],
        [("search_hotels", {"city": city, "max_price": 436})],
        [("book", {"item": "Hotel Sol", "price": 290}), ("book", {"item": "train", "price": 64})],
        "Booked Hotel Sol (290 USD) and the train (64 USD): 354 USD total, within your 500 USD budget.",
    ]
    a = agent(
        pick(rng, ["travel_agent", "holiday_planner"]),
        scripted_model("fake-gpt-4o", script, rng, watch={"budget_constraint": "under $500"}, context_window_limit=500),
        "You are a travel booking assistant.",
        [
            make_tool("search_hotels", "Searches hotels.", search_hotels),
            make_tool("search_trains", "Searches trains.", search_trains),
            make_tool("book", "Books an item.", book),
        ],
        conversation_manager=SummarizingConversationManager(
            summary_ratio=0.5,
            preserve_recent_messages=2,
            summarization_agent=summarizer,
            proactive_compression={"compression_threshold": 0.7},
        ),
        trace_attributes={"session.id": sid("021-summary-keeps-constraint")},
    )
    a(f"Book 3 nights in {city} with train travel; total budget under $500.")


@scenario(
    "swarm_shared_history",
    "legacy",
    [
        Label(
            sid("022-swarm-shared-history"),
            [],
            "subagent_gets_history_under_own_prompt",
            "healthy: triage hands off to a specialist, which receives the shared swarm context under its own "
            "system prompt, looks up the order and resolves the request (swarm COMPLETED)",
        )
    ],
)
def swarm_shared_history(rng: random.Random) -> None:
    from strands.multiagent import Swarm

    order = f"ORD-{rng.randint(100000, 999999)}"
    specialist = pick(rng, ["returns_specialist", "shipping_specialist"])

    def lookup_order(order_id: str) -> str:
        """Args:
        order_id: Order id.
        """
        return f"{order_id}: delivered 2026-11-28, eligible for return until 2026-12-28"

    triage = agent(
        "triage",
        scripted_model(
            "fake-triage-model", [_handoff(specialist, f"Customer wants to return {order}."), "Handed off."], rng
        ),
        "You route customer requests to the right specialist.",
        description="Routes requests.",
    )
    spec = agent(
        specialist,
        scripted_model(
            "fake-specialist-model",
            [[("lookup_order", {"order_id": order})], f"{order} can be returned until 28 Dec; a label was emailed."],
            rng,
        ),
        "You handle returns and shipping questions for delivered orders.",
        [make_tool("lookup_order", "Looks up an order.", lookup_order)],
        description="Handles returns and shipping.",
    )
    swarm = Swarm([triage, spec], entry_point=triage, trace_attributes={"session.id": sid("022-swarm-shared-history")})
    result = swarm(f"I want to return order {order}.")
    log(f"  swarm status={result.status}")


@scenario(
    "planner_and_writer",
    "legacy_off",
    [
        Label(
            sid("023-planner-and-writer"),
            [],
            "planning_and_final_calls_own_prompts",
            "healthy: an orchestrator calls a planner agent and a writer agent (Agent as tool), each with its own "
            "system prompt, and returns the writer's draft (content capture off)",
        )
    ],
)
def planner_and_writer(rng: random.Random) -> None:
    piece = pick(rng, ["release notes for v2.4", "a customer apology email", "an onboarding checklist"])
    planner = agent(
        "planner",
        scripted_model("fake-planner-model", [f"Plan for {piece}: 1) context 2) key points 3) call to action."], rng),
        "You write short numbered plans. Do not write the final text.",
        description="Writes a short plan.",
    )
    writer = agent(
        "writer",
        scripted_model("fake-writer-model", [f"Draft of {piece}: ... (180 words)"], rng),
        "You write polished final text from a plan, in a friendly tone.",
        description="Writes final text from a plan.",
    )
    orch = agent(
        pick(rng, ["content_lead", "comms_orchestrator"]),
        scripted_model(
            "fake-gpt-4o",
            [
                [("planner", {"input": f"Plan {piece}"})],
                [("writer", {"input": f"Write {piece} following: 1) context 2) key points 3) call to action."})],
                f"Here is {piece}: ... (180 words)",
            ],
            rng,
            base_tokens=150,
        ),
        "You coordinate a planner and a writer.",
        [planner, writer],
        trace_attributes={"session.id": sid("023-planner-and-writer")},
    )
    orch(f"Please write {piece}.")


@scenario(
    "long_healthy_run",
    "latest_off",
    [
        Label(
            sid("024-long-healthy-run"),
            [],
            "long_healthy_run",
            "healthy: a migration agent processes 26 different files one tool call each (52 messages, 27 model "
            "calls), never repeating an argument, and finishes (content capture off)",
        )
    ],
)
def long_healthy_run(rng: random.Random) -> None:
    files = [f"src/{pick(rng, ['api', 'core', 'jobs', 'web'])}/module_{i:02d}.py" for i in range(26)]

    def migrate_file(path: str) -> str:
        """Args:
        path: File to migrate.
        """
        work(rng.uniform(0.5, 3.0))
        return f"{path}: {rng.randint(1, 12)} imports rewritten"

    script: list[Step] = [[("migrate_file", {"path": f})] for f in files]
    script.append(f"Migrated {len(files)} files from requests to httpx; all imports rewritten.")
    a = agent(
        pick(rng, ["migration_agent", "refactor_bot"]),
        scripted_model("fake-claude-sonnet", script, rng, base_tokens=300),
        "You migrate a codebase from requests to httpx, one file at a time.",
        [make_tool("migrate_file", "Migrates one file.", migrate_file)],
        trace_attributes={"session.id": sid("024-long-healthy-run")},
    )
    a("Migrate every module under src/ from requests to httpx.")


@scenario(
    "window_trim_harmless",
    "legacy_off",
    [
        Label(
            sid("025-window-trim-harmless"),
            [],
            "window_trim_nothing_needed_lost",
            "healthy twin of 007/010: SlidingWindowConversationManager(window_size=4) trims earlier turns of a "
            "4-turn session, but each turn is self-contained (the user restates what is needed) and every answer "
            "is right (content capture off)",
        )
    ],
)
def window_trim_harmless(rng: random.Random) -> None:
    from strands.agent.conversation_manager import SlidingWindowConversationManager

    cities = [pick(rng, ["Paris", "Rome"]), pick(rng, ["Berlin", "Vienna"]), pick(rng, ["Prague", "Madrid"]), "Lyon"]

    def convert(amount: float, currency: str) -> str:
        """Args:
        amount: Amount in EUR.
        currency: Target currency.
        """
        return f"{amount} EUR = {amount * 1.08:.2f} {currency}"

    script: list[Step] = []
    for i, c in enumerate(cities):
        script += [[("convert", {"amount": 100.0 + i * 50, "currency": "USD"})], f"That is for your {c} trip."]
    a = agent(
        pick(rng, ["fx_helper", "travel_money_bot"]),
        scripted_model("fake-gpt-4o-mini", script, rng, watch={"turn1_request": f"For {cities[0]}:"}),
        "You convert currencies for travellers.",
        [make_tool("convert", "Converts EUR.", convert)],
        conversation_manager=SlidingWindowConversationManager(window_size=4),
        trace_attributes={"session.id": sid("025-window-trim-harmless")},
    )
    for i, c in enumerate(cities):
        a(f"For {c}: convert {100 + i * 50} EUR to USD.")


# --------------------------------------------------------------------------------------------- driver


def _run_one(name: str) -> None:
    sys.path.insert(0, str(KIT_DIR))
    from capture_kit import simulated_clock, to_otlp_json
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spec = SCENARIOS[name]
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"strands_{name}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # Strands' tracer uses the global provider
    rng = random.Random(zlib.crc32(name.encode()))
    log(f"{name} [{spec.mode}]")
    with simulated_clock() as clock:
        CLOCK[0] = clock
        spec.run(rng)
    provider.shutdown()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"strands_{name}.json"
    path.write_text(json.dumps(to_otlp_json(exporter), separators=(",", ":"), ensure_ascii=False) + "\n")
    log(f"  {path.name}: {len(exporter.get_finished_spans())} spans, {path.stat().st_size} bytes")
    print("\n".join(RUNLOG))


def _toml(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON strings and string arrays are valid TOML


def write_labels() -> None:
    lines = ["# Truth of every scripted Strands run (decided by the script, never by a tool). See NOTES.md.", ""]
    for spec in SCENARIOS.values():
        for label in spec.labels:
            lines += [
                "[[session]]",
                f"session_id = {_toml(label.session_id)}",
                f"kinds = {_toml(label.kinds)}",
                f"shape = {_toml(label.shape)}",
                f"why = {_toml(label.why)}",
                f"file = {_toml(f'out/strands_{spec.name}.json')}",
                f"mode = {_toml(spec.mode)}",
                "",
            ]
    (HERE / "labels_strands.toml").write_text("\n".join(lines))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        _run_one(argv[1])
        return
    write_labels()
    if argv[:1] == ["--labels"]:
        return
    chosen = argv or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}")
    logs: list[str] = []
    for name in chosen:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env.update(MODES[SCENARIOS[name].mode])
        done = subprocess.run(
            [sys.executable, __file__, "--one", name], env=env, capture_output=True, text=True, check=False
        )
        print(done.stdout, end="")
        if done.returncode:
            raise SystemExit(f"{name} failed:\n{done.stderr[-4000:]}")
        logs.append(done.stdout)
    if not argv:
        (OUT / "run.log").write_text("".join(logs))


if __name__ == "__main__":
    main(sys.argv[1:])
