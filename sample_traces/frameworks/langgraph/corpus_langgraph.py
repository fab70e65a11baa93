"""Evaluation corpus for stepseven: 24 labeled LangGraph sessions, captured offline under OpenInference.

Each scenario runs LangGraph the way its users do (``create_react_agent`` / ``langgraph-supervisor``'s
``create_supervisor``, a checkpointer with ``thread_id`` as the session id, ``pre_model_hook`` for trimming or
summarising history, ``ToolNode(handle_tool_errors=True)`` where the app handles tool errors, ``recursion_limit``
in the run config) and instruments it with ``LangChainInstrumentor`` (OpenInference) on the OpenTelemetry SDK with
its default limits. Only the chat model (a scripted ``GenericFakeChatModel`` subclass) and the tools' backends are
fake. Agent names, tool names, tasks, domains and step counts are drawn from lists with a RNG seeded by the
scenario name; session ids are fixed (``langgraph-c-<scenario>``, set as the LangGraph ``thread_id``). 10 of
the 24 sessions run with content capture off (``TraceConfig(hide_inputs=True, hide_outputs=True)``, what
``OPENINFERENCE_HIDE_INPUTS/OUTPUTS=true`` does). Span/trace ids and LangChain message ids are random per run;
names, structure, content and token counts are identical on rerun.

Run (Python 3.11, from anywhere)::

    /work/cap/langgraph/.venv/bin/python corpus_langgraph.py [SCENARIO ...]   # all by default

It writes ``out/langgraph_<scenario>.json`` (one OTLP/JSON ExportTraceServiceRequest per file) and
``labels_langgraph.toml`` next to this file (the labels file only when all scenarios run). The truth of each
session is what the script scripted (the ``Label`` each scenario returns), never derived from any tool's output.

Pinned versions (pip freeze of the venv used)::

    langgraph==1.2.24  langgraph-prebuilt==1.1.3  langgraph-checkpoint==4.3.2  langgraph-supervisor==0.0.31
    langchain-core==1.8.3  openinference-instrumentation-langchain==0.1.80  openinference-instrumentation==0.1.72
    openinference-semantic-conventions==0.1.42  opentelemetry-sdk==1.45.2  opentelemetry-api==1.45.2
    opentelemetry-exporter-otlp-proto-common==1.45.2  opentelemetry-proto==1.45.2

No network: nothing leaves the process.
"""

from __future__ import annotations

import base64
import inspect
import itertools
import json
import logging
import random
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately, trim_messages
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.errors import GraphRecursionError
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, create_react_agent
from langgraph_supervisor import create_supervisor
from openinference.instrumentation import TraceConfig
from openinference.instrumentation.langchain import LangChainInstrumentor
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer
from pydantic import create_model

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PREFIX = "langgraph-c-"


# ----------------------------------------------------------------------------------------------------------------
# Clock, fake model, helpers
# ----------------------------------------------------------------------------------------------------------------


class SimulatedClock:
    """Replaces the SDK's clock: each reading moves it on by a microsecond; ``advance`` adds latency."""

    def __init__(self, start_ns: int) -> None:
        self.now = start_ns

    def __call__(self) -> int:
        self.now += 1_000
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1e9)


CLOCK = SimulatedClock(1_765_000_000_000_000_000)


class ContextLengthExceededError(Exception):
    """What a provider SDK raises when the prompt does not fit (message text as OpenAI returns it)."""


Step = AIMessage | BaseException


class ScriptedChatModel(GenericFakeChatModel):
    """A chat model answering from a script of ``AIMessage`` (or exceptions to raise); tools are ignored."""

    model_name: str = "fake-model"
    latency: float = 1.2

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> Any:
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        CLOCK.advance(self.latency + 0.002 * sum(len(str(m.content)) for m in messages))
        item: Any = next(self.messages)
        if isinstance(item, BaseException):
            raise item
        message = item if isinstance(item, BaseMessage) else AIMessage(content=str(item))
        return ChatResult(generations=[ChatGeneration(message=message)])

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    @property
    def _llm_type(self) -> str:
        return "scripted-fake-chat"


def usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens}


class Script:
    """Builds scripted model answers with seeded tool-call ids and growing token counts."""

    def __init__(self, rng: random.Random, base_tokens: int = 300) -> None:
        self.rng = rng
        self.tokens = base_tokens

    def _tok(self, out: int) -> tuple[int, int]:
        self.tokens += self.rng.randint(40, 160)
        return self.tokens, out

    def cid(self) -> str:
        return f"call_{self.rng.getrandbits(48):012x}"

    def call(self, name: str, args: dict[str, Any], text: str = "") -> AIMessage:
        return self.calls([(name, args)], text)

    def calls(self, pairs: list[tuple[str, dict[str, Any]]], text: str = "") -> AIMessage:
        tcs = [{"name": n, "args": a, "id": self.cid(), "type": "tool_call"} for n, a in pairs]
        return AIMessage(content=text, tool_calls=tcs, usage_metadata=usage(*self._tok(14 + 12 * len(pairs))))

    def say(self, text: str) -> AIMessage:
        return AIMessage(content=text, usage_metadata=usage(*self._tok(len(text) // 4 + 3)))


def fake(name: str, script: Iterable[Step], latency: float = 1.2) -> ScriptedChatModel:
    steps: Iterator[Any] = iter(script)
    return ScriptedChatModel(messages=steps, model_name=name, latency=latency)


INT_PARAMS = {"cursor", "amount_cents", "nights", "line", "weeks"}


def _annotation(param: str, annotation: Any) -> Any:
    if annotation is not inspect.Parameter.empty:
        return annotation
    return int if param in INT_PARAMS else str


def make_tool(name: str, description: str, fn: Callable[..., str]) -> BaseTool:
    """A LangChain tool with the given name whose backend is ``fn`` (advances the simulated clock)."""

    def run(**kwargs: Any) -> str:
        CLOCK.advance(0.4)
        return fn(**kwargs)

    params = inspect.signature(fn).parameters
    schema = create_model(  # type: ignore[call-overload]
        f"{name}_args", **{p: (_annotation(p, params[p].annotation), ...) for p in params}
    )
    return StructuredTool.from_function(func=run, name=name, description=description, args_schema=schema)


def cfg(session_id: str, recursion_limit: int | None = None) -> RunnableConfig:
    config: RunnableConfig = {"configurable": {"thread_id": session_id}}
    if recursion_limit is not None:
        config["recursion_limit"] = recursion_limit
    return config


def user(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


@dataclass
class Label:
    session_id: str
    kinds: list[str]
    shape: str
    why: str


@dataclass
class Scenario:
    name: str
    content: bool
    run: Callable[[random.Random, Tracer], list[Label]]
    sessions: list[Label] = field(default_factory=list)


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, content: bool = True) -> Callable[[Callable[..., list[Label]]], Callable[..., list[Label]]]:
    def register(fn: Callable[..., list[Label]]) -> Callable[..., list[Label]]:
        SCENARIOS[name] = Scenario(name, content, fn)
        return fn

    return register


def sid(name: str, n: int = 1) -> str:
    return f"{PREFIX}{name.replace('_', '-')}-{n:03d}"


def pick(rng: random.Random, options: Sequence[Any]) -> Any:
    return options[rng.randrange(len(options))]


MODELS = ["gpt-4o-2024-08-06", "gpt-4.1-mini", "claude-sonnet-4-5", "gemini-2.5-flash", "mistral-large-2411"]


# ----------------------------------------------------------------------------------------------------------------
# runaway_loop positives
# ----------------------------------------------------------------------------------------------------------------

SEARCH_TOPICS = [
    (
        "the EU's 2025 lithium recycling quota",
        [
            "EU lithium recycling quota 2025",
            "Battery Regulation 2023/1542 lithium recovery target 2025",
            "EU battery directive lithium recovery percentage",
            "lithium recovery rate required EU 2025 batteries",
            "EU 2025 lithium recycling efficiency target",
            "official EU lithium recovery quota end of 2025",
        ],
        "Battery Regulation (EU) 2023/1542 - overview page. Recovery targets are set out in Annex XII.",
    ),
    (
        "Acme Corp's Q3 2025 churn rate",
        [
            "Acme Corp Q3 2025 churn",
            "Acme quarterly customer churn third quarter 2025",
            "Acme Corp customer attrition Q3 2025",
            "Acme 10-Q 2025 churn percentage",
            "Acme Corp earnings call churn rate Q3",
            "Acme net revenue retention Q3 2025 churn",
        ],
        "Acme Corp investor relations - Q3 2025 earnings date announced. No figures published yet.",
    ),
]


@scenario("reworded_search_until_limit")
def reworded_search_until_limit(rng: random.Random, tracer: Tracer) -> list[Label]:
    """A research agent re-words the same search; every result is the same page; recursion_limit soft-stops it."""
    topic, queries, page = pick(rng, SEARCH_TOPICS)
    agent_name = pick(rng, ["research_agent", "web_researcher", "analyst_agent"])
    tool_name = pick(rng, ["web_search", "search_web", "tavily_search"])
    s = Script(rng)
    search = make_tool(tool_name, "Search the web; returns the top result.", lambda query: page)

    def loop() -> Iterator[Step]:
        for q in itertools.cycle(queries):
            yield s.call(tool_name, {"query": q})

    agent = create_react_agent(
        fake(pick(rng, MODELS), loop()),
        tools=[search],
        name=agent_name,
        prompt="You are a meticulous researcher. Find the exact figure asked for and cite it.",
    )
    session = sid("reworded_search_until_limit")
    limit = 7
    try:
        agent.invoke(user(f"What is {topic}? I need the exact number."), cfg(session, limit))
    except GraphRecursionError:
        pass  # an odd limit lands on the tools step: the prebuilt agent's soft stop does not get a chance
    else:
        raise AssertionError("expected GraphRecursionError")
    return [
        Label(
            session,
            ["runaway_loop"],
            "reworded_search_until_limit",
            f"{agent_name} issued 4 re-wordings of the same {tool_name} query (3 executed), every result was the "
            f"same page (no new information); recursion_limit={limit} (odd) raised GraphRecursionError from the "
            "react agent itself. The task was never done.",
        )
    ]


@scenario("same_error_interleaved", content=False)
def same_error_interleaved(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Billing agent: charge_card fails with the same gateway error 4 times, lookup tools in between; gives up."""
    agent_name = pick(rng, ["billing_agent", "payments_agent"])
    charge = pick(rng, ["charge_card", "capture_payment"])
    customer = f"cus_{rng.getrandbits(24):06x}"
    s = Script(rng)

    def fail(customer_id: str, amount_cents: int) -> str:
        raise TimeoutError("payment gateway timeout after 30s (upstream 504)")

    tools = [
        make_tool(charge, "Charge the customer's card on file.", fail),
        make_tool("get_customer", "Customer profile.", lambda customer_id: f"{customer_id}: Visa ending 4242, active"),
        make_tool("get_invoice", "Open invoice.", lambda customer_id: "INV-2291 due 129.00 USD"),
    ]
    helpers = ["get_customer", "get_invoice", "get_customer"]
    script: list[Step] = []
    for i in range(4):
        script.append(s.call(charge, {"customer_id": customer, "amount_cents": 12900}))
        if i < 3:
            script.append(s.call(helpers[i], {"customer_id": customer}))
    script.append(s.say("I could not charge the card: the payment gateway keeps timing out. Please try later."))
    agent = create_react_agent(
        fake(pick(rng, MODELS), script),
        tools=ToolNode(tools, handle_tool_errors=True),
        name=agent_name,
        prompt="You collect overdue invoices. Charge the card on file for the open invoice.",
    )
    session = sid("same_error_interleaved")
    agent.invoke(user(f"Collect the overdue invoice for customer {customer}."), cfg(session))
    return [
        Label(
            session,
            ["runaway_loop"],
            "same_error_repeated_with_other_tools_between",
            f"{charge} raised the same TimeoutError 'payment gateway timeout after 30s (upstream 504)' 4 times "
            "(handled by ToolNode(handle_tool_errors=True)), with get_customer/get_invoice calls in between; the "
            "agent retried without changing anything and finally gave up. Content capture off.",
        )
    ]


@scenario("pager_never_finishes", content=False)
def pager_never_finishes(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Data agent pages through transactions; the API always says has_more=true; recursion limit soft-stops."""
    agent_name = pick(rng, ["data_agent", "ledger_analyst"])
    tool_name = pick(rng, ["list_transactions", "fetch_ledger_page"])
    s = Script(rng)

    def page_fn(cursor: int) -> str:
        return json.dumps(
            {
                "cursor": cursor,
                "items": [{"id": f"tx_{cursor}_{k}", "amount": 10 * k} for k in range(3)],
                "next_cursor": cursor + 1,
                "has_more": True,
            }
        )

    def loop() -> Iterator[Step]:
        for n in itertools.count(1):
            yield s.call(tool_name, {"cursor": n})

    limit = pick(rng, [16, 18, 20])  # even: the prebuilt agent soft-stops
    agent = create_react_agent(
        fake(pick(rng, MODELS), loop(), latency=0.6),
        tools=[make_tool(tool_name, "One page of transactions from the ledger API.", page_fn)],
        name=agent_name,
        prompt="You reconcile ledgers. Read all transactions, then report the total.",
    )
    session = sid("pager_never_finishes")
    agent.invoke(user("Total all September transactions for account 88-1020."), cfg(session, limit))
    return [
        Label(
            session,
            ["runaway_loop"],
            "pager_never_finishes",
            f"{tool_name} was called with cursor 1,2,3,... (argument advances each call) and always returned "
            f"has_more=true; the agent never finished and recursion_limit={limit} soft-stopped it. Content capture "
            "off.",
        )
    ]


@scenario("supervisor_recursion_limit", content=False)
def supervisor_recursion_limit(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Supervisor re-delegates the same lookup to a sub-agent that finds nothing; GraphRecursionError."""
    sub = pick(rng, ["flight_agent", "fares_agent"])
    s = Script(rng)

    def sub_loop() -> Iterator[Step]:
        while True:
            yield s.call("search_fares", {"origin": "LIS", "destination": "HND", "date": "2026-03-14"})
            yield s.say("No fares found for that date.")

    def sup_loop() -> Iterator[Step]:
        while True:
            yield s.call(f"transfer_to_{sub}", {})

    fares = make_tool("search_fares", "Search fares.", lambda origin, destination, date: "[]")
    worker = create_react_agent(
        fake(pick(rng, MODELS), sub_loop()), tools=[fares], name=sub, prompt="You search flight fares."
    )
    app = create_supervisor(
        [worker],
        model=fake(pick(rng, MODELS), sup_loop()),
        prompt="You are a travel planner. Delegate fare searches, then propose an itinerary.",
    ).compile(checkpointer=InMemorySaver())
    session = sid("supervisor_recursion_limit")
    limit = 5
    try:
        with tracer.start_as_current_span("POST /v1/plan-trip"):
            app.invoke(user("Find me a flight Lisbon to Tokyo on 14 March 2026."), cfg(session, limit))
    except GraphRecursionError:
        pass
    else:
        raise AssertionError("expected GraphRecursionError")
    return [
        Label(
            session,
            ["runaway_loop"],
            "framework_recursion_limit_while_repeating",
            f"the supervisor transferred to {sub} 3 times; each run made the identical search_fares call, got [] "
            f"and said so; the parent graph hit recursion_limit={limit} (GraphRecursionError) on the 3rd transfer. "
            "Content capture off; wrapped in an app harness span.",
        )
    ]


@scenario("code_fix_same_failure", content=False)
def code_fix_same_failure(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Code agent edits and re-runs the tests; the same assertion fails every time; it gives up."""
    agent_name = pick(rng, ["code_agent", "bugfix_agent"])
    test = pick(rng, ["test_parse_date_leap_year", "test_invoice_rounding"])
    s = Script(rng)
    failure = f"FAILED tests/test_utils.py::{test} - AssertionError: assert None == '2024-02-29'"
    tools = [
        make_tool("run_tests", "Run pytest on a path.", lambda path: f"1 failed, 41 passed\n{failure}"),
        make_tool("edit_file", "Replace a line in a file.", lambda path, line, text: f"edited {path}:{line}"),
    ]
    script: list[Step] = [s.call("run_tests", {"path": "tests/test_utils.py"})]
    for line in [42, 43, 42]:
        script.append(s.call("edit_file", {"path": "src/utils.py", "line": line, "text": "    return parse(s)"}))
        script.append(s.call("run_tests", {"path": "tests/test_utils.py"}))
    script.append(s.say(f"I was not able to make {test} pass."))
    agent = create_react_agent(
        fake(pick(rng, MODELS), script),
        tools=tools,
        name=agent_name,
        prompt="You fix failing tests in the repository. Run the tests after every edit.",
    )
    session = sid("code_fix_same_failure")
    agent.invoke(user(f"CI is red on {test}, please fix it."), cfg(session, 25))
    return [
        Label(
            session,
            ["runaway_loop"],
            "code_steps_fail_same_way",
            f"run_tests returned the same failure ({test} AssertionError) 4 times; the near-identical edits in "
            "between changed nothing; the agent gave up. Tool results are strings, no exception raised. Content "
            "capture off.",
        )
    ]


# ----------------------------------------------------------------------------------------------------------------
# context_rot positives
# ----------------------------------------------------------------------------------------------------------------


def trimming_hook(max_tokens: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The LangGraph docs' short-term-memory hook: trim the history sent to the model (state untouched)."""

    def pre_model_hook(state: dict[str, Any]) -> dict[str, Any]:
        trimmed = trim_messages(
            state["messages"],
            strategy="last",
            token_counter=count_tokens_approximately,
            max_tokens=max_tokens,
            start_on="human",
            end_on=("human", "tool"),
        )
        return {"llm_input_messages": trimmed}

    return pre_model_hook


def summarizing_hook(summarizer: ScriptedChatModel, system: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Compaction as users write it: once a tool result is in, a cheap model summarises the history and the
    agent's model sees [summary, last tool call + result] (``llm_input_messages``; the state keeps everything)."""

    def pre_model_hook(state: dict[str, Any]) -> dict[str, Any]:
        msgs = state["messages"]
        if len(msgs) < 3:
            return {"llm_input_messages": msgs}
        digest = summarizer.invoke([SystemMessage(system), *msgs])
        return {"llm_input_messages": [HumanMessage(str(digest.content)), *msgs[-2:]]}

    return pre_model_hook


@scenario("trimmed_budget_constraint")
def trimmed_budget_constraint(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Travel agent, 3 turns; trim_messages drops turn 1 (budget under $500); it books a $780 hotel."""
    agent_name = pick(rng, ["travel_agent", "trip_planner"])
    city = pick(rng, ["Lisbon", "Kyoto", "Vienna"])
    s = Script(rng)
    hotels = "Miradouro $780; Casa Azul $410; Hostel Central $190"
    tools = [
        make_tool("search_hotels", "Hotels for dates.", lambda city, nights: hotels),
        make_tool("book_hotel", "Book a hotel.", lambda hotel, nights: f"BOOKED {hotel}"),
    ]
    script: list[Step] = [
        s.say("Noted. Any neighbourhood preference?"),
        s.call("search_hotels", {"city": city, "nights": 4}),
        s.call("book_hotel", {"hotel": "Miradouro", "nights": 4}),
        s.say("Booked Miradouro ($780), best reviews."),
    ]
    agent = create_react_agent(
        fake(pick(rng, MODELS), script),
        tools=tools,
        name=agent_name,
        prompt="You are a travel assistant.",
        pre_model_hook=trimming_hook(130),
        checkpointer=InMemorySaver(),
    )
    session = sid("trimmed_budget_constraint")
    config = cfg(session)
    agent.invoke(
        user(
            f"I need a hotel in {city} for 4 nights in May, arriving on the 12th and leaving on the 16th. We are "
            "two adults, we'd like a non-smoking double room on a quiet street if possible, and breakfast included "
            "would be nice but is not essential. We'll get around by tram and on foot, so anywhere with good "
            "connections works. Total budget under $500 for the whole stay, that is a hard limit."
        ),
        config,
    )
    agent.invoke(user("Old town please. Book the best one."), config)
    return [
        Label(
            session,
            ["context_rot"],
            "trimmed_history_drops_constraint",
            "2-turn session; pre_model_hook trim_messages(max_tokens=130, strategy='last') sent only the latest "
            "turn to the model, so the turn-1 constraint 'total budget under $500' was gone and the agent booked "
            "the $780 hotel (a $410 option was in the search result).",
        )
    ]


@scenario("summary_drops_instruction")
def summary_drops_instruction(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Code agent with a summarising pre_model_hook; the summary loses 'Python 3.8 only'; it writes match/case."""
    agent_name = pick(rng, ["code_agent", "refactor_agent"])
    s = Script(rng)
    summary = (
        "Summary so far: user wants parse_event() in events.py refactored to dispatch on event type; "
        "tests pass; file read."
    )
    summarizer = fake("gpt-4.1-mini", [s.say(summary), s.say(summary + " File rewritten.")], latency=0.7)

    summarize = summarizing_hook(summarizer, "Summarise this conversation in two sentences.")
    code = (
        "def parse_event(e):\n    if e.kind == 'a':\n        return A(e)\n    elif e.kind == 'b':\n        return B(e)"
    )
    new = "def parse_event(e):\n    match e.kind:\n        case 'a': return A(e)\n        case 'b': return B(e)"
    tools = [
        make_tool("read_file", "Read a file.", lambda path: code),
        make_tool("write_file", "Write a file.", lambda path, content: f"wrote {len(content)} bytes to {path}"),
    ]
    script: list[Step] = [
        s.call("read_file", {"path": "events.py"}),
        s.call("write_file", {"path": "events.py", "content": new}),
        s.say("Refactored parse_event to a match statement."),
    ]
    agent = create_react_agent(
        fake(pick(rng, MODELS), script),
        tools=tools,
        name=agent_name,
        prompt="You refactor code.",
        pre_model_hook=summarize,
    )
    session = sid("summary_drops_instruction")
    agent.invoke(
        user(
            "Refactor parse_event() in events.py to dispatch on the event type. Our servers run "
            "Python 3.8, so only use Python 3.8 syntax."
        ),
        cfg(session),
    )
    return [
        Label(
            session,
            ["context_rot"],
            "summary_drops_constraint",
            "a summarising pre_model_hook (own LLM call, system 'Summarise this conversation') sent the model a "
            "summary instead of the history; the summary omitted 'only use Python 3.8 syntax' and the agent then "
            "wrote a match statement (Python 3.10+).",
        )
    ]


@scenario("context_length_exceeded")
def context_length_exceeded(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Data agent loads big query results into the history until the model call fails with a context error."""
    agent_name = pick(rng, ["data_analyst", "sql_agent"])
    s = Script(rng, base_tokens=3000)
    rows = "|".join(f"{i},{rng.randint(100, 999)}" for i in range(60))
    tools = [make_tool("run_sql", "Run a SQL query and return all rows.", lambda sql: rows)]
    script: list[Step] = [
        s.call("run_sql", {"sql": "SELECT day, revenue FROM sales_2025"}),
        s.call("run_sql", {"sql": "SELECT day, refunds FROM refunds_2025"}),
        ContextLengthExceededError(
            "Error code: 400 - {'error': {'message': \"This model's maximum context length is 16385 tokens. "
            'However, your messages resulted in 17212 tokens. Please reduce the length of the messages.", '
            "'type': 'invalid_request_error', 'param': 'messages', 'code': 'context_length_exceeded'}}"
        ),
    ]
    agent = create_react_agent(
        fake("gpt-3.5-turbo-16k", script),
        tools=tools,
        name=agent_name,
        prompt="You answer analytics questions with SQL.",
    )
    session = sid("context_length_exceeded")
    try:
        agent.invoke(user("Compare daily revenue and refunds for 2025 and find the worst week."), cfg(session))
    except ContextLengthExceededError:
        pass
    return [
        Label(
            session,
            ["context_rot"],
            "context_length_error",
            "two full-table SQL results filled the prompt; the third model call raised a 400 "
            "context_length_exceeded error and the run failed.",
        )
    ]


@scenario("multi_turn_reask")
def multi_turn_reask(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Support agent, 3 turns with trimming; in turn 3 it asks again for the order number given in turn 1."""
    agent_name = pick(rng, ["support_agent", "helpdesk_agent"])
    order = f"A-{rng.randint(10000, 99999)}"
    s = Script(rng)
    tools = [
        make_tool(
            "lookup_order", "Order status.", lambda order_id: f"{order_id}: shipped 12 days ago, lost in transit"
        ),
    ]
    script: list[Step] = [
        s.call("lookup_order", {"order_id": order}),
        s.say(f"Order {order} shipped 12 days ago and appears lost in transit."),
        s.say("Lost parcels get a full refund after 10 days, so you qualify."),
        s.say("Happy to start the refund. Could you share your order number?"),
    ]
    agent = create_react_agent(
        fake(pick(rng, MODELS), script),
        tools=tools,
        name=agent_name,
        prompt="You are a customer support agent.",
        pre_model_hook=trimming_hook(60),
        checkpointer=InMemorySaver(),
    )
    session = sid("multi_turn_reask")
    config = cfg(session)
    agent.invoke(user(f"My order {order} never arrived."), config)
    agent.invoke(user("What is your refund policy for lost parcels?"), config)
    agent.invoke(user("OK, please start the refund."), config)
    return [
        Label(
            session,
            ["context_rot"],
            "multi_turn_reasks_given_info",
            f"3 turns sharing one thread; trim_messages kept only the latest turn, so in turn 3 the agent asked "
            f"for the order number {order} that the user gave in turn 1.",
        )
    ]


# ----------------------------------------------------------------------------------------------------------------
# failed_handoff positives (langgraph-supervisor)
# ----------------------------------------------------------------------------------------------------------------


@scenario("subagent_raises", content=False)
def subagent_raises(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Supervisor -> billing sub-agent whose tool raises (default ToolNode re-raises); the run fails."""
    sub = pick(rng, ["billing_agent", "invoice_agent"])
    s = Script(rng)

    def broken(invoice_id: str) -> str:
        raise ConnectionError("billing DB unreachable: 127.0.0.1:5432 connection refused")

    worker = create_react_agent(
        fake(pick(rng, MODELS), [s.call("get_invoice", {"invoice_id": "INV-7781"})]),
        tools=[make_tool("get_invoice", "Fetch an invoice.", broken)],
        name=sub,
        prompt="You answer billing questions.",
    )
    app = create_supervisor(
        [worker],
        model=fake(pick(rng, MODELS), [s.call(f"transfer_to_{sub}", {})]),
        prompt="You route customer questions to specialists.",
    ).compile()
    session = sid("subagent_raises")
    try:
        app.invoke(user("Why was I charged twice on invoice INV-7781?"), cfg(session))
    except ConnectionError:
        pass
    return [
        Label(
            session,
            ["failed_handoff"],
            "subagent_raises",
            f"supervisor transferred to {sub}; its get_invoice tool raised ConnectionError, ToolNode re-raised, "
            f"{sub} failed and the whole graph run failed; the supervisor never answered. Content capture off.",
        )
    ]


@scenario("subagent_step_limit", content=False)
def subagent_step_limit(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Sub-agent polls forever and hits its own step budget; supervisor gets 'Sorry, need more steps'."""
    sub = pick(rng, ["research_agent", "scraper_agent"])
    s = Script(rng)

    def loop() -> Iterator[Step]:
        for q in itertools.cycle(["competitor pricing page", "competitor pricing 2026", "competitor price list"]):
            yield s.call("fetch_page", {"url": f"https://example.com/search?q={q.replace(' ', '+')}"})

    worker = create_react_agent(
        fake(pick(rng, MODELS), loop()),
        tools=[make_tool("fetch_page", "Fetch a URL.", lambda url: "<html>403 Forbidden</html>")],
        name=sub,
        prompt="You collect competitor prices from the web.",
    )
    sup = [s.call(f"transfer_to_{sub}", {}), s.say("Sorry, I could not collect the competitor prices.")]
    app = create_supervisor(
        [worker], model=fake(pick(rng, MODELS), sup), prompt="You coordinate market research."
    ).compile()
    session = sid("subagent_step_limit")
    app.invoke(user("Collect competitor prices for our Pro plan."), cfg(session, 8))
    return [
        Label(
            session,
            ["failed_handoff", "runaway_loop"],
            "subagent_hits_step_limit",
            f"supervisor delegated to {sub}, which fetched near-identical URLs that all returned 403 until the "
            "prebuilt agent's remaining_steps budget (recursion_limit=8) ended it with 'Sorry, need more steps'; "
            "the delegated work never came back and the supervisor gave up. Content capture off.",
        )
    ]


@scenario("subagent_output_lost")
def subagent_output_lost(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Sub-agent does the work but its last message is empty; output_mode='last_message' drops the findings."""
    sub = pick(rng, ["data_agent", "metrics_agent"])
    s = Script(rng)
    worker = create_react_agent(
        fake(pick(rng, MODELS), [s.call("query_metrics", {"metric": "weekly_active_users", "weeks": 4}), s.say("")]),
        tools=[make_tool("query_metrics", "Metrics.", lambda metric, weeks: "WAU: 10.2k, 10.9k, 11.4k, 12.1k")],
        name=sub,
        prompt="You query product metrics.",
    )
    sup = [s.call(f"transfer_to_{sub}", {}), s.say("The metrics agent returned nothing; I can't report the WAU trend.")]
    app = create_supervisor(
        [worker], model=fake(pick(rng, MODELS), sup), prompt="You answer product questions using specialists."
    ).compile()
    session = sid("subagent_output_lost")
    app.invoke(user("How did weekly active users trend over the last 4 weeks?"), cfg(session))
    return [
        Label(
            session,
            ["failed_handoff"],
            "subagent_output_never_reaches_caller",
            f"{sub} got the WAU numbers from query_metrics but ended with an empty message; with the default "
            "output_mode='last_message' only that empty message reached the supervisor, which answered that it "
            "got nothing.",
        )
    ]


@scenario("caller_redoes_work", content=False)
def caller_redoes_work(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Sub-agent fails to load the dataset (handled error) and reports failure; supervisor redoes it itself."""
    sub = pick(rng, ["etl_agent", "loader_agent"])
    s = Script(rng)

    def broken(path: str) -> str:
        raise PermissionError(f"s3 access denied: {path}")

    worker = create_react_agent(
        fake(
            pick(rng, MODELS),
            [
                s.call("load_csv", {"path": "s3://lake/q3/orders.csv"}),
                s.say("I couldn't load the dataset (access denied)."),
            ],
        ),
        tools=ToolNode([make_tool("load_csv", "Load a CSV.", broken)], handle_tool_errors=True),
        name=sub,
        prompt="You load datasets.",
    )
    sup_tool = make_tool(
        "load_csv_direct", "Load a CSV with the supervisor's role.", lambda path: "rows=18233 cols=7 loaded"
    )
    sup = [
        s.call(f"transfer_to_{sub}", {}),
        s.call("load_csv_direct", {"path": "s3://lake/q3/orders.csv"}),
        s.say("Loaded the Q3 orders file myself: 18,233 rows."),
    ]
    app = create_supervisor(
        [worker],
        model=fake(pick(rng, MODELS), sup),
        tools=[sup_tool],
        prompt="You run data pipelines; delegate loading to the loader.",
    ).compile()
    session = sid("caller_redoes_work")
    app.invoke(user("Load the Q3 orders file and tell me how many rows it has."), cfg(session))
    return [
        Label(
            session,
            ["failed_handoff"],
            "caller_redoes_delegated_work",
            f"{sub}'s load_csv failed (PermissionError handled as a ToolMessage) and it reported failure; the "
            "supervisor then loaded the same file itself with its own tool. Content capture off.",
        )
    ]


@scenario("target_never_starts")
def target_never_starts(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Supervisor calls a transfer tool for an agent that is not deployed; ToolNode returns an error."""
    sub = pick(rng, ["pricing_agent", "quote_agent"])
    missing = pick(rng, ["forecast_agent", "legal_agent"])
    s = Script(rng)
    worker = create_react_agent(
        fake(pick(rng, MODELS), [s.say("unused")]), tools=[], name=sub, prompt="You quote prices."
    )
    sup = [s.call(f"transfer_to_{missing}", {}), s.say("I could not reach the specialist; please try again later.")]
    app = create_supervisor(
        [worker], model=fake(pick(rng, MODELS), sup), prompt=f"You coordinate {sub} and {missing}."
    ).compile()
    session = sid("target_never_starts")
    app.invoke(user("Forecast next quarter's demand for SKU 1182."), cfg(session))
    return [
        Label(
            session,
            ["failed_handoff"],
            "delegation_target_never_starts",
            f"the supervisor called transfer_to_{missing}, an agent that is not part of the graph; ToolNode "
            f"returned 'not a valid tool' as a ToolMessage, {missing} never started, the supervisor gave up.",
        )
    ]


# ----------------------------------------------------------------------------------------------------------------
# negatives (healthy twins)
# ----------------------------------------------------------------------------------------------------------------


class PlanState(MessagesState):
    plan: str


@scenario("reworded_search_new_info")
def reworded_search_new_info(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Plan node (own system prompt) then a react agent whose re-worded searches each bring new facts."""
    s = Script(rng)
    facts = iter(
        [
            "Annex XII: lithium recovery 50% by end of 2027.",
            "Lithium recovery rises to 80% by end of 2031.",
            "Recycling efficiency for Li-ion batteries: 65% by 2025.",
        ]
    )
    search = make_tool("web_search", "Search the web.", lambda query: next(facts))
    planner = fake("gpt-4.1-mini", [s.say("1. Find recovery targets. 2. Find efficiency targets. 3. Summarise.")])
    agent = create_react_agent(
        fake(
            pick(rng, MODELS),
            [
                s.call("web_search", {"query": "EU battery regulation lithium recovery target"}),
                s.call("web_search", {"query": "EU lithium recovery target 2031"}),
                s.call("web_search", {"query": "EU Li-ion recycling efficiency 2025"}),
                s.say("Lithium recovery: 50% by 2027, 80% by 2031; Li-ion recycling efficiency 65% by 2025."),
            ],
        ),
        tools=[search],
        name=pick(rng, ["research_agent", "policy_researcher"]),
        prompt="You research regulation.",
    )

    def plan(state: PlanState) -> dict[str, Any]:
        out = planner.invoke([SystemMessage("You are a planner. Write a short numbered plan."), *state["messages"]])
        return {"plan": str(out.content)}

    graph = StateGraph(PlanState)
    graph.add_node("plan", plan)
    graph.add_node("execute", agent)
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "execute")
    graph.add_edge("execute", END)
    session = sid("reworded_search_new_info")
    app: Any = graph.compile()
    app.invoke(user("What lithium targets does the EU battery regulation set?"), cfg(session))
    return [
        Label(
            session,
            [],
            "reworded_search_new_info",
            "a planning call (own system prompt) then 3 re-worded web_search calls, each returning a new "
            "fact; the agent answered with all three. Healthy.",
        )
    ]


@scenario("multi_turn_same_tool", content=False)
def multi_turn_same_tool(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Three turns, each asks about a different flight; get_flight_status once per turn."""
    s = Script(rng)
    flights = rng.sample(["TP1350", "LH1173", "BA0431", "AF1025", "KL1692"], 3)
    tool_ = make_tool("get_flight_status", "Flight status.", lambda flight: f"{flight}: on time, gate B{len(flight)}")
    script: list[Step] = []
    for f in flights:
        script += [s.call("get_flight_status", {"flight": f}), s.say(f"{f} is on time.")]
    agent = create_react_agent(
        fake(pick(rng, MODELS), script),
        tools=[tool_],
        name="travel_desk",
        prompt="You help travellers.",
        checkpointer=InMemorySaver(),
    )
    session = sid("multi_turn_same_tool")
    for f in flights:
        agent.invoke(user(f"Is {f} on time?"), cfg(session))
    return [
        Label(
            session,
            [],
            "multi_turn_same_tool_new_question",
            f"3 turns in one thread, each asking about a new flight ({', '.join(flights)}); get_flight_status "
            "once per turn with a new argument. Healthy. Content capture off.",
        )
    ]


@scenario("parallel_same_tool")
def parallel_same_tool(rng: random.Random, tracer: Tracer) -> list[Label]:
    """One model turn asks for four exchange rates in parallel."""
    s = Script(rng)
    cur = rng.sample(["EUR", "GBP", "JPY", "CHF", "BRL", "INR"], 4)
    rate = make_tool(
        "get_exchange_rate", "USD rate.", lambda currency: f"1 USD = {len(currency) * 0.31:.2f} {currency}"
    )
    agent = create_react_agent(
        fake(
            pick(rng, MODELS),
            [
                s.calls([("get_exchange_rate", {"currency": c}) for c in cur]),
                s.say(f"Rates fetched for {', '.join(cur)}."),
            ],
        ),
        tools=[rate],
        name=pick(rng, ["fx_agent", "treasury_agent"]),
        prompt="You convert currencies.",
    )
    session = sid("parallel_same_tool")
    agent.invoke(user(f"Give me today's USD rates for {', '.join(cur)}."), cfg(session))
    return [
        Label(
            session,
            [],
            "parallel_same_tool_different_args",
            "one model turn issued 4 parallel get_exchange_rate calls with different currencies; answered. Healthy.",
        )
    ]


@scenario("polling_finishes")
def polling_finishes(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Polls a report job 3 times; it finishes on the third poll."""
    s = Script(rng)
    states = iter(["running 20%", "running 70%", "done: s3://reports/q3.pdf"])
    agent = create_react_agent(
        fake(
            pick(rng, MODELS),
            [s.call("job_status", {"job_id": "job-314"}) for _ in range(3)]
            + [s.say("Your Q3 report is ready: s3://reports/q3.pdf")],
        ),
        tools=[make_tool("job_status", "Job status.", lambda job_id: next(states))],
        name=pick(rng, ["reporting_agent", "finance_agent"]),
        prompt="You produce finance reports.",
    )
    session = sid("polling_finishes")
    agent.invoke(user("I started the Q3 finance report (job-314). Tell me when it's ready."), cfg(session))
    return [
        Label(
            session,
            [],
            "polling_finishes",
            "job_status polled 3 times (20%, 70%, done) and the report was delivered. Healthy.",
        )
    ]


@scenario("retry_recovers")
def retry_recovers(rng: random.Random, tracer: Tracer) -> list[Label]:
    """A tool error (handled) is retried once and succeeds."""
    s = Script(rng)
    attempts = itertools.count()

    def ticket(title: str, priority: str) -> str:
        if next(attempts) == 0:
            raise TimeoutError("jira API timeout after 10s")
        return "created SUP-4410"

    agent = create_react_agent(
        fake(
            pick(rng, MODELS),
            [
                s.call("create_ticket", {"title": "Login loop on iOS", "priority": "high"}),
                s.call("create_ticket", {"title": "Login loop on iOS", "priority": "high"}),
                s.say("Created ticket SUP-4410."),
            ],
        ),
        tools=ToolNode([make_tool("create_ticket", "Create a Jira ticket.", ticket)], handle_tool_errors=True),
        name=pick(rng, ["support_agent", "triage_agent"]),
        prompt="You triage bug reports.",
    )
    session = sid("retry_recovers")
    agent.invoke(user("Users on iOS are stuck in a login loop, please file it."), cfg(session))
    return [
        Label(
            session,
            [],
            "error_retried_once_recovers",
            "create_ticket timed out once (handled ToolMessage), the identical retry succeeded. Healthy.",
        )
    ]


@scenario("summary_keeps_constraint")
def summary_keeps_constraint(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Summarising hook keeps the budget; the agent books within it."""
    s = Script(rng)
    city = pick(rng, ["Porto", "Seville", "Krakow"])
    digest = f"User wants a hotel in {city}, 3 nights, budget under $400. Options: Casa Rio $350, Grand $620."
    summarizer = fake("gpt-4.1-mini", [s.say(digest), s.say(digest + " Booked Casa Rio.")], latency=0.7)

    summarize = summarizing_hook(summarizer, "Summarise this conversation; keep every user constraint.")
    agent = create_react_agent(
        fake(
            pick(rng, MODELS),
            [
                s.call("search_hotels", {"city": city, "nights": 3}),
                s.call("book_hotel", {"hotel": "Casa Rio", "nights": 3}),
                s.say("Booked Casa Rio for 3 nights ($350), within your $400 budget."),
            ],
        ),
        tools=[
            make_tool("search_hotels", "Hotels.", lambda city, nights: "Casa Rio $350; Grand $620"),
            make_tool("book_hotel", "Book.", lambda hotel, nights: f"BOOKED {hotel}"),
        ],
        name=pick(rng, ["travel_agent", "booking_agent"]),
        prompt="You book hotels.",
        pre_model_hook=summarize,
    )
    session = sid("summary_keeps_constraint")
    agent.invoke(user(f"Book me a hotel in {city} for 3 nights, budget under $400."), cfg(session))
    return [
        Label(
            session,
            [],
            "summary_keeps_constraint",
            "a summarising pre_model_hook (own LLM call and system prompt) compacted the history; its summary "
            "kept 'budget under $400' and the agent booked the $350 option. Healthy.",
        )
    ]


@scenario("supervisor_healthy")
def supervisor_healthy(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Supervisor delegates once; the sub-agent sees the history under its own system prompt and delivers."""
    sub = pick(rng, ["research_agent", "docs_agent"])
    s = Script(rng)
    worker = create_react_agent(
        fake(pick(rng, MODELS), [s.call("search_docs", {"query": "rate limit"}), s.say("Limit: 600 req/min.")]),
        tools=[make_tool("search_docs", "Search docs.", lambda query: "API rate limit: 600 requests per minute")],
        name=sub,
        prompt="You answer from the product docs.",
    )
    app = create_supervisor(
        [worker],
        model=fake(pick(rng, MODELS), [s.call(f"transfer_to_{sub}", {}), s.say("The API allows 600 requests/min.")]),
        prompt="You answer developer questions via specialists.",
    ).compile()
    session = sid("supervisor_healthy")
    with tracer.start_as_current_span("POST /v1/chat"):
        app.invoke(user("What's the API rate limit?"), cfg(session))
    return [
        Label(
            session,
            [],
            "subagent_delivers_under_own_prompt",
            f"supervisor delegated to {sub}, which received the supervisor's history under its own system "
            "prompt, searched once and its answer reached the supervisor, which answered. Healthy.",
        )
    ]


@scenario("long_input_many_attributes")
def long_input_many_attributes(rng: random.Random, tracer: Tracer) -> list[Label]:
    """A log-triage request whose user message has 62 content parts (one per pasted log line): every LLM span
    flattens them into llm.input_messages.0.message.contents.N.* and exceeds the SDK's 128-attribute limit."""
    s = Script(rng)
    service = pick(rng, ["checkout-api", "auth-gateway", "search-indexer"])
    levels = ["INFO", "INFO", "WARN", "INFO", "ERROR"]
    parts: list[dict[str, str]] = [{"type": "text", "text": f"Triage these {service} logs:"}]
    for i in range(61):
        lvl = pick(rng, levels)
        parts.append({"type": "text", "text": f"12:00:{i:02d} {lvl}"})
    tools = [
        make_tool("get_service_status", "Service health.", lambda service: f"{service}: degraded, p99 2.4s"),
        make_tool("search_runbook", "Runbook search.", lambda query: "RB-12: restart pool when p99 > 2s"),
    ]
    script: list[Step] = [
        s.say(
            f"{service}: ERROR lines cluster after 12:00:11 with rising WARNs; looks like pool exhaustion, "
            "not an outage. Restart the connection pool and watch p99 for 10 minutes."
        ),
    ]
    agent = create_react_agent(
        fake(pick(rng, MODELS), script),
        tools=tools,
        name=pick(rng, ["sre_agent", "oncall_agent"]),
        prompt="You triage incidents.",
    )
    session = sid("long_input_many_attributes")
    agent.invoke({"messages": [{"role": "user", "content": parts}]}, cfg(session))
    return [
        Label(
            session,
            [],
            "long_input_over_attribute_limit",
            "user message with 62 text parts (pasted log lines), one triage answer, no error (tools offered, not "
            "needed). The LLM span and the chain spans that carry the messages flatten them into "
            "llm.input_messages.0.message.contents.N.* and exceed the SDK's default 128-attribute limit, so the SDK "
            "dropped their oldest attributes (input.value among them). Healthy.",
        )
    ]


@scenario("long_steady_run", content=False)
def long_steady_run(rng: random.Random, tracer: Tracer) -> list[Label]:
    """A long data-analysis run: 10 distinct steps, each a new tool or new argument, then an answer."""
    s = Script(rng)
    tables = rng.sample(["orders", "refunds", "sessions", "signups", "tickets", "invoices", "churn", "plans"], 5)
    tools = [
        make_tool("describe_table", "Table schema.", lambda table: f"{table}: id, created_at, amount, region"),
        make_tool("run_sql", "Run SQL.", lambda sql: f"{len(sql) % 7 + 3} rows"),
    ]
    script: list[Step] = []
    for tb in tables:
        script.append(s.call("describe_table", {"table": tb}))
        script.append(s.call("run_sql", {"sql": f"SELECT region, SUM(amount) FROM {tb} GROUP BY region"}))
    script.append(s.say(f"Regional totals computed for {', '.join(tables)}; EMEA leads in 4 of 5."))
    agent = create_react_agent(
        fake(pick(rng, MODELS), script, latency=2.5),
        tools=tools,
        name=pick(rng, ["analytics_agent", "bi_agent"]),
        prompt="You are a BI analyst.",
    )
    session = sid("long_steady_run")
    agent.invoke(user(f"Give me regional totals for {', '.join(tables)}."), cfg(session, 40))
    return [
        Label(
            session,
            [],
            "long_steady_run",
            f"11 model calls, 10 tool calls over 5 different tables ({', '.join(tables)}), each call new "
            "work; finished with an answer. Healthy. Content capture off.",
        )
    ]


@scenario("content_off_healthy", content=False)
def content_off_healthy(rng: random.Random, tracer: Tracer) -> list[Label]:
    """Ordinary two-tool run with content capture off."""
    s = Script(rng)
    agent = create_react_agent(
        fake(
            pick(rng, MODELS),
            [
                s.call("get_invoice", {"invoice_id": "INV-3001"}),
                s.call("send_email", {"to": "ap@example.com", "subject": "INV-3001"}),
                s.say("Sent INV-3001 to ap@example.com."),
            ],
        ),
        tools=[
            make_tool("get_invoice", "Invoice.", lambda invoice_id: f"{invoice_id}: 420.00 EUR"),
            make_tool("send_email", "Email.", lambda to, subject: "queued"),
        ],
        name=pick(rng, ["billing_agent", "ar_agent"]),
        prompt="You handle accounts receivable.",
    )
    session = sid("content_off_healthy")
    agent.invoke(user("Email invoice INV-3001 to accounts payable."), cfg(session))
    return [
        Label(
            session,
            [],
            "content_off_healthy",
            "fetched the invoice and emailed it; no errors. Content capture off. Healthy.",
        )
    ]


# ----------------------------------------------------------------------------------------------------------------
# driver
# ----------------------------------------------------------------------------------------------------------------


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


def capture(sc: Scenario) -> list[Label]:
    import opentelemetry.sdk.trace as sdk_trace

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"langgraph-{sc.name.replace('_', '-')}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    config = TraceConfig() if sc.content else TraceConfig(hide_inputs=True, hide_outputs=True)
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=provider, config=config)
    real = sdk_trace.time_ns
    sdk_trace.time_ns = CLOCK  # type: ignore[assignment]
    try:
        labels = sc.run(random.Random(f"langgraph-c-{sc.name}"), provider.get_tracer("app.harness"))
    finally:
        sdk_trace.time_ns = real  # type: ignore[assignment]
        instrumentor.uninstrument()
    provider.shutdown()
    CLOCK.advance(3600)
    path = OUT / f"langgraph_{sc.name}.json"
    path.write_text(json.dumps(to_otlp_json(exporter), separators=(",", ":"), ensure_ascii=False) + "\n")
    print(f"{path.name}: {len(exporter.get_finished_spans())} spans, {path.stat().st_size // 1024} KB")
    return labels


def toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_labels(labels: list[Label]) -> None:
    lines = ["# Truth of each session, decided by what corpus_langgraph.py scripted (never by any tool's output).", ""]
    for lab in labels:
        lines += [
            "[[session]]",
            f"session_id = {toml_str(lab.session_id)}",
            f"kinds = [{', '.join(toml_str(k) for k in lab.kinds)}]",
            f"shape = {toml_str(lab.shape)}",
            f"why = {toml_str(lab.why)}",
            "",
        ]
    (HERE / "labels_langgraph.toml").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    logging.getLogger("opentelemetry.attributes").setLevel(logging.ERROR)  # "Attributes dict is full" (expected)
    warnings.filterwarnings("ignore", message="create_react_agent has been moved")
    chosen = (sys.argv[1:] if argv is None else argv) or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    OUT.mkdir(exist_ok=True)
    labels: list[Label] = []
    for name in chosen:
        labels += capture(SCENARIOS[name])
    if set(chosen) == set(SCENARIOS):
        write_labels(labels)
        print(f"{len(labels)} sessions labeled")


if __name__ == "__main__":
    main()
