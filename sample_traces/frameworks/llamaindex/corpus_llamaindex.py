"""Labeled evaluation corpus for stepseven: real LlamaIndex workflow agents, scripted fake model, OpenInference spans.

Run (about 10 s; offline, nothing leaves the machine):

    /work/cap/llamaindex/.venv/bin/python corpus_llamaindex.py [SCENARIO ...]   # all scenarios by default

Writes ``out/llamaindex_<scenario>.json`` (one OTLP/JSON ExportTraceServiceRequest per file, hex ids, compact) and
``labels_llamaindex.toml`` beside this file. Every run regenerates the same sessions: fixed session ids, one seeded
``random.Random`` per scenario (names, tools, tasks, step counts), scripted model answers, simulated clock. Span and
trace ids are random per run (the OTel SDK's id generator), as in production.

Pinned versions (pip freeze of the venv this was made with, Python 3.11.7):

    llama-index-core==0.14.25  llama-index-workflows==2.26.1  llama-index-instrumentation==0.6.0
    openinference-instrumentation-llama-index==4.6.1  openinference-instrumentation==0.1.72
    openinference-semantic-conventions==0.1.42  opentelemetry-sdk==1.45.2  opentelemetry-api==1.45.2
    opentelemetry-exporter-otlp-proto-common==1.45.2  tiktoken==0.14.0

What is real: ``FunctionAgent`` / ``AgentWorkflow`` and their loop (``max_iterations``, ``early_stopping_method``,
``timeout``, ``handoff`` tool, parallel tool calls), ``ChatMemoryBuffer`` / ``ChatSummaryMemoryBuffer`` trimming
(tiktoken token counts), ``LlamaIndexInstrumentor`` with its defaults (content recorded) or
``TraceConfig(hide_inputs=True, hide_outputs=True)``, session ids from ``openinference.instrumentation.using_session``.
What is fake: the model (LlamaIndex's ``MockFunctionCallingLLM`` answering from a script, reporting OpenAI-style
usage, raising a context-length error when its prompt exceeds its context window) and the tools' backends.
Labels come from the script (what the run was made to do), checked by assertions on the memory contents.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from llama_index.core.agent.workflow import AgentWorkflow, FunctionAgent
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    LLMMetadata,
    MessageRole,
    ToolCallBlock,
)
from llama_index.core.llms.callbacks import llm_chat_callback
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.memory import ChatMemoryBuffer, ChatSummaryMemoryBuffer
from llama_index.core.tools import FunctionTool
from llama_index.core.utils import get_tokenizer
from llama_index.core.workflow import Context
from openinference.instrumentation import TraceConfig, using_session
from openinference.instrumentation.llama_index import LlamaIndexInstrumentor
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer
from pydantic import PrivateAttr

HERE = Path(__file__).parent
OUT = HERE / "out"
PREFIX = "llamaindex-c-"

# ---------------------------------------------------------------------------------------------- fake model


@dataclass
class Call:
    """One model turn asking for one or more tool calls (several = parallel tool calls)."""

    calls: list[tuple[str, dict[str, Any]]]


@dataclass
class Say:
    text: str


@dataclass
class Fail:
    error: Exception


Move = Call | Say | Fail


class BadRequestError(Exception):
    """What an OpenAI-compatible provider raises for a prompt longer than the model's context window."""


class APIStatusError(Exception):
    """What a provider SDK raises for a 5xx answer."""


_TOKENIZER = get_tokenizer()
_CLOCKS: list[SimulatedClock] = []


def elapse(low: float, high: float) -> None:
    """Moves the simulated clock on by a (seeded) random latency, as a real model call or tool call takes time."""
    if _CLOCKS:
        clock = _CLOCKS[-1]
        clock.advance(clock.rng.uniform(low, high))


def count_tokens(messages: Sequence[ChatMessage]) -> int:
    return sum(4 + len(_TOKENIZER(str(m.content or ""))) + 12 * len(m.blocks) for m in messages)


class ScriptedLLM(MockFunctionCallingLLM):
    """LlamaIndex's mock function-calling LLM answering from a script.

    Usage is reported OpenAI-style in ``raw`` (prompt tokens counted with LlamaIndex's tokenizer). A request whose
    first message is a system prompt starting with one of ``responders``' keys (a summariser or planner prompt)
    is answered with the value without consuming the script. A prompt above ``context_window`` tokens raises
    ``BadRequestError`` as a real provider does. The last move repeats once the script runs out.
    """

    model: str = "fake-fc-model"
    window: int = 16385
    _script: list[Move] = PrivateAttr(default_factory=list)
    _turn: int = PrivateAttr(default=0)
    _responders: dict[str, list[str]] = PrivateAttr(default_factory=dict)
    _rng: random.Random = PrivateAttr(default_factory=random.Random)

    def __init__(
        self,
        script: list[Move],
        model: str,
        rng: random.Random,
        window: int = 16385,
        responders: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(is_chat_model=True, model=model, window=window)
        self._script = script
        self._responders = responders or {}
        self._rng = rng

    @classmethod
    def class_name(cls) -> str:
        return "ScriptedLLM"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            model_name=self.model, is_function_calling_model=True, is_chat_model=True, context_window=self.window
        )

    def _respond(self, messages: Sequence[ChatMessage]) -> ChatResponse:
        prompt = count_tokens(messages)
        elapse(0.4 + prompt / 4000, 1.5 + prompt / 1500)
        first = str(messages[0].content or "") if messages else ""
        move: Move | None = None
        for prefix, texts in self._responders.items():
            if messages and messages[0].role == MessageRole.SYSTEM and first.startswith(prefix):
                move = Say(texts[0] if len(texts) == 1 else texts.pop(0))
        if move is None:
            if prompt > self.window:
                raise BadRequestError(
                    f"Error code: 400 - This model's maximum context length is {self.window} tokens. However, your "
                    f"messages resulted in {prompt} tokens. Please reduce the length of the messages."
                )
            move = self._script[min(self._turn, len(self._script) - 1)]
            self._turn += 1
        if isinstance(move, Fail):
            raise move.error
        if isinstance(move, Call):
            blocks: list[Any] = [
                ToolCallBlock(tool_call_id=f"call_{self._rng.getrandbits(64):016x}", tool_name=n, tool_kwargs=dict(k))
                for n, k in move.calls
            ]
            message = ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks)
            completion = 18 * len(blocks)
        else:
            message = ChatMessage(role=MessageRole.ASSISTANT, content=move.text)
            completion = len(_TOKENIZER(move.text)) + 1
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        return ChatResponse(message=message, delta=message.content or "", raw={"model": self.model, "usage": usage})

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._respond(messages)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._respond(messages)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        response = self._respond(messages)

        def gen() -> Generator[ChatResponse, None, None]:
            yield response

        return gen()

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        response = self._respond(messages)

        async def gen() -> AsyncGenerator[ChatResponse, None]:
            yield response

        return gen()


# ---------------------------------------------------------------------------------------------- fake tool backends

Output = str | Exception


class Backend:
    """A tool backend answering from a queue; the last answer repeats; an Exception entry is raised."""

    def __init__(self, outputs: list[Output]) -> None:
        self.outputs = outputs
        self.n = 0

    def next(self) -> str:
        elapse(0.05, 0.9)
        item = self.outputs[min(self.n, len(self.outputs) - 1)]
        self.n += 1
        if isinstance(item, Exception):
            raise item
        return item


def query_tool(name: str, desc: str, outputs: list[Output]) -> FunctionTool:
    backend = Backend(outputs)

    def fn(query: str) -> str:
        return backend.next()

    return FunctionTool.from_defaults(fn=fn, name=name, description=desc)


def id_tool(name: str, desc: str, outputs: list[Output]) -> FunctionTool:
    backend = Backend(outputs)

    def fn(item_id: str) -> str:
        return backend.next()

    return FunctionTool.from_defaults(fn=fn, name=name, description=desc)


def page_tool(name: str, desc: str, outputs: list[Output]) -> FunctionTool:
    backend = Backend(outputs)

    def fn(page: int) -> str:
        return backend.next()

    return FunctionTool.from_defaults(fn=fn, name=name, description=desc)


def edit_tool(name: str, desc: str, outputs: list[Output]) -> FunctionTool:
    backend = Backend(outputs)

    def fn(path: str, patch: str) -> str:
        return backend.next()

    return FunctionTool.from_defaults(fn=fn, name=name, description=desc)


def book_tool(name: str, desc: str, outputs: list[Output]) -> FunctionTool:
    backend = Backend(outputs)

    def fn(option: str, total_usd: float) -> str:
        return backend.next()

    return FunctionTool.from_defaults(fn=fn, name=name, description=desc)


def slow_tool(name: str, desc: str, seconds: float, timeout: float, output: str) -> FunctionTool:
    async def fn(item_id: str) -> str:
        elapse(timeout, timeout)  # the simulated clock shows the wait the real timeout ends
        await asyncio.sleep(seconds)
        return output

    return FunctionTool.from_defaults(async_fn=fn, name=name, description=desc)


def agent_tool(name: str, desc: str, agent: FunctionAgent, **run_kwargs: Any) -> FunctionTool:
    """The "agents as tools" pattern of the LlamaIndex docs: the orchestrator calls a sub-agent through a tool."""

    async def fn(task: str) -> str:
        result = await agent.run(user_msg=task, **run_kwargs)
        return str(result)

    return FunctionTool.from_defaults(async_fn=fn, name=name, description=desc)


def filler(rng: random.Random, topic: str, words: int) -> str:
    """Verbose, deterministic tool output (listings, docs, logs) that fills memory like real results do."""
    vocab = [
        "availability", "rating", "district", "review", "updated", "policy", "window", "record", "note", "detail",
        "summary", "entry", "metric", "source", "section", "version", "status", "region", "quarter", "segment",
    ]  # fmt: skip
    return f"{topic}: " + " ".join(f"{rng.choice(vocab)}-{rng.randint(10, 99)}" for _ in range(words))


# ---------------------------------------------------------------------------------------------- sessions


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


def pick(rng: random.Random, options: Sequence[str]) -> str:
    return options[rng.randrange(len(options))]


async def run_expecting_failure(coro: Awaitable[Any]) -> str:
    """Runs an agent the way a user's service does: a failed run is logged, not re-raised."""
    try:
        result = await coro
    except Exception as exc:
        return f"raised {type(exc).__name__}: {str(exc)[:90]}"
    return f"answered: {str(result)[:90]}"


def memory_text(memory: Any) -> str:
    return "\n".join(str(m.content or "") for m in memory.get())


# ---- runaway_loop -----------------------------------------------------------------------------------


@scenario(
    "reworded_search_until_limit",
    ["runaway_loop"],
    "reworded_search_until_limit",
    "research agent re-words the same search each turn, every search returns nothing new, run stopped by "
    "max_iterations (WorkflowRuntimeError)",
)
async def reworded_search_until_limit(rng: random.Random, sid: str, tracer: Tracer) -> None:
    topic = pick(rng, ["EU battery recycling quotas 2027", "lithium price forecast Q3", "solid-state cell yields"])
    words = ["latest", "official", "2026 report on", "statistics for", "summary of", "news about", "data on"]
    limit = rng.randint(5, 6)
    tool = pick(rng, ["web_search", "search_corpus", "find_papers"])
    script: list[Move] = [Call([(tool, {"query": f"{words[i % len(words)]} {topic}"})]) for i in range(limit + 1)]
    agent = FunctionAgent(
        name=pick(rng, ["research_agent", "analyst", "scout"]),
        description="Researches questions.",
        system_prompt=f"You research questions. Use {tool} and cite sources.",
        llm=ScriptedLLM(script, "fake-gpt-4o-mini", rng),
        tools=[query_tool(tool, "Search for documents.", ["No matching documents found."])],
    )
    print(" ", await run_expecting_failure(agent.run(user_msg=f"Find the {topic}.", max_iterations=limit)))


@scenario(
    "reworded_search_gives_up",
    ["runaway_loop"],
    "reworded_search_until_limit_generate",
    "support agent re-words one knowledge-base search 6 times, same 'no articles' every time; max_iterations=6 with "
    "early_stopping_method=generate forces a final answer that gives up",
    hidden=True,
)
async def reworded_search_gives_up(rng: random.Random, sid: str, tracer: Tracer) -> None:
    issue = pick(rng, ["printer offline after firmware 4.2", "VPN drops every 10 minutes", "SSO loop on login"])
    forms = ["", "fix for ", "troubleshoot ", "known issue ", "workaround ", "error "]
    script: list[Move] = [Call([("search_kb", {"query": f"{f}{issue}"})]) for f in forms]
    script.append(Say(f"I could not find a documented fix for '{issue}'. I'll escalate to tier 2."))
    agent = FunctionAgent(
        name="helpdesk_agent",
        description="Answers IT support tickets.",
        system_prompt="You answer IT support tickets using the knowledge base.",
        llm=ScriptedLLM(script, "fake-claude-haiku", rng),
        tools=[query_tool("search_kb", "Search knowledge-base articles.", ["0 articles matched."])],
    )
    result = await agent.run(user_msg=f"Ticket: {issue}", max_iterations=6, early_stopping_method="generate")
    print("  answered:", str(result)[:80])


@scenario(
    "same_exception_interleaved",
    ["runaway_loop"],
    "same_error_repeated_with_other_tools_between",
    "billing agent calls charge_card 3 times, each raising the same gateway error message, with lookups/status "
    "checks in between; no new information, it finally gives up",
)
async def same_exception_interleaved(rng: random.Random, sid: str, tracer: Tracer) -> None:
    cust = f"CUS-{rng.randint(1000, 9999)}"
    err = ConnectionError("card gateway rejected request: upstream timeout (code 504)")
    script: list[Move] = [
        Call([("charge_card", {"item_id": cust})]),
        Call([("gateway_status", {"item_id": "stripe-eu"})]),
        Call([("charge_card", {"item_id": cust})]),
        Call([("get_customer", {"item_id": cust})]),
        Call([("charge_card", {"item_id": cust})]),
        Say("I could not charge the card: the gateway keeps timing out. Please try again later."),
    ]
    agent = FunctionAgent(
        name=pick(rng, ["billing_agent", "payments_bot"]),
        description="Handles billing.",
        system_prompt="You handle customer billing. Charge outstanding balances when asked.",
        llm=ScriptedLLM(script, "fake-gpt-4o", rng),
        tools=[
            id_tool("get_customer", "Look a customer up.", [f"{cust}: balance 84.20 EUR, card on file visa-4242"]),
            id_tool("charge_card", "Charge the outstanding balance.", [err]),
            id_tool("gateway_status", "Payment gateway health.", ["stripe-eu: operational"]),
        ],
    )
    print("  answered:", str(await agent.run(user_msg=f"Charge the outstanding balance of {cust}."))[:80])


@scenario(
    "pager_never_finishes",
    ["runaway_loop"],
    "pager_advances_never_finishes",
    "data agent pages through list_transactions page=1,2,3,... each page says more pages follow; it never "
    "aggregates and the run hits max_iterations",
    hidden=True,
)
async def pager_never_finishes(rng: random.Random, sid: str, tracer: Tracer) -> None:
    limit = rng.randint(7, 9)
    script: list[Move] = [Call([("list_transactions", {"page": p})]) for p in range(1, limit + 2)]
    agent = FunctionAgent(
        name="ledger_analyst",
        description="Analyses transactions.",
        system_prompt="You analyse the ledger. Page through transactions as needed.",
        llm=ScriptedLLM(script, "fake-gpt-4o-mini", rng),
        tools=[
            page_tool(
                "list_transactions",
                "List transactions, 50 per page.",
                [f"page {p}: 50 rows (ids {p * 50 - 49}-{p * 50}); has_more=true" for p in range(1, 40)],
            )
        ],
    )
    msg = "Total the refunds issued in November."
    print(" ", await run_expecting_failure(agent.run(user_msg=msg, max_iterations=limit)))


@scenario(
    "code_fix_same_failure",
    ["runaway_loop"],
    "code_agent_same_test_failure_until_limit",
    "code repair agent alternates apply_patch / run_tests; the same assertion fails after each patch (4 test runs), "
    "run stopped by max_iterations=10",
    hidden=True,
)
async def code_fix_same_failure(rng: random.Random, sid: str, tracer: Tracer) -> None:
    path = pick(rng, ["src/dates.py", "app/parse.py", "lib/calendar_utils.py"])
    script: list[Move] = []
    for i in range(6):
        script.append(
            Call([("apply_patch", {"path": path, "patch": f"@@ -41 +41 @@ attempt {i + 1}: adjust leap check"})])
        )
        script.append(Call([("run_tests", {"query": "tests/test_dates.py"})]))
    agent = FunctionAgent(
        name=pick(rng, ["code_fixer", "repair_agent"]),
        description="Fixes failing tests.",
        system_prompt="You fix failing tests by editing code and running the tests.",
        llm=ScriptedLLM(script, "fake-gpt-4.1", rng),
        tools=[
            edit_tool("apply_patch", "Apply a unified diff.", [f"patched {path}"]),
            query_tool(
                "run_tests",
                "Run pytest on a path.",
                ["FAILED tests/test_dates.py::test_leap_day - AssertionError: expected 2024-02-29, got None"],
            ),
        ],
    )
    msg = f"test_leap_day fails; fix {path}."
    print(" ", await run_expecting_failure(agent.run(user_msg=msg, max_iterations=10)))


# ---- context_rot ------------------------------------------------------------------------------------


@scenario(
    "memory_trim_drops_budget",
    ["context_rot"],
    "memory_trim_drops_constraint",
    "multi-turn travel session, ChatMemoryBuffer(token_limit=300) trims turn 1 ('hotel total under $500') by "
    "turn 3; the agent then books a $780 hotel",
)
async def memory_trim_drops_budget(rng: random.Random, sid: str, tracer: Tracer) -> None:
    city = pick(rng, ["Lisbon", "Porto", "Valencia", "Kyoto"])
    script: list[Move] = [
        Call([("search_hotels", {"query": f"{city} 3 nights March under $500"})]),
        Say(f"Casa Azul in {city}: $450 for 3 nights, rating 8.7. It fits your $500 budget."),
        Call([("local_guide", {"query": f"{city} restaurants old town"})]),
        Say("Three well-reviewed places near the old town are listed above."),
        Call([("search_hotels", {"query": f"{city} best rated hotel 3 nights March"})]),
        Call([("book_hotel", {"option": "Palacio Real", "total_usd": 780.0})]),
        Say(f"Booked Palacio Real in {city} for 3 nights, total $780."),
    ]
    llm = ScriptedLLM(script, "fake-gpt-4o", rng)
    agent = FunctionAgent(
        name=pick(rng, ["trip_planner", "travel_desk"]),
        description="Plans trips.",
        system_prompt="You plan trips and book hotels for the user.",
        llm=llm,
        tools=[
            query_tool(
                "search_hotels",
                "Search hotels.",
                [
                    "Casa Azul $450 total 8.7; " + filler(rng, "listing", 20),
                    "Palacio Real $780 total 9.4; Casa Azul $450 8.7; " + filler(rng, "listing", 20),
                ],
            ),
            query_tool("local_guide", "City guide.", [filler(rng, "guide", 90)]),
            book_tool("book_hotel", "Book a hotel option.", ["confirmation HB-20931"]),
        ],
    )
    memory = ChatMemoryBuffer.from_defaults(token_limit=300, llm=llm)
    turns = [
        f"Plan 3 nights in {city} in March. Hard constraint: the hotel total must be under $500.",
        "Any good restaurants near the old town?",
        "Great, go ahead and book the best-rated hotel.",
    ]
    for i, turn in enumerate(turns):
        if i == 2:
            assert "$500" not in memory_text(memory), "the budget must have been trimmed before the last turn"
        await agent.run(user_msg=turn, memory=memory)
        elapse(20, 180)  # the user reads the answer and types the next turn


@scenario(
    "memory_trim_drops_py38",
    ["context_rot"],
    "memory_trim_drops_constraint",
    "multi-turn code session on one Context; default ChatMemoryBuffer (0.75 x 1024-token window) trims turn 1 "
    "('only Python 3.8 syntax'); turn 3's patch uses a match statement (3.10+)",
)
async def memory_trim_drops_py38(rng: random.Random, sid: str, tracer: Tracer) -> None:
    path = pick(rng, ["router/dispatch.py", "cli/commands.py"])
    script: list[Move] = [
        Call([("read_file", {"query": path})]),
        Say("Fixed: the KeyError comes from the missing default; use dict.get(cmd, fallback)."),
        Call([("read_file", {"query": "router/handlers.py"})]),
        Say("handlers.py registers 14 handlers; nothing to change there."),
        Call(
            [
                (
                    "apply_patch",
                    {"path": path, "patch": "+    match cmd:\n+        case 'start': ...\n+        case _: ..."},
                )
            ]
        ),
        Say(f"Refactored dispatch in {path} to a match statement."),
    ]
    llm = ScriptedLLM(script, "fake-small-1k", rng, window=1024)
    agent = FunctionAgent(
        name="code_fixer",
        description="Edits code.",
        system_prompt="You are a careful software engineer working in the user's repository.",
        llm=llm,
        tools=[
            query_tool("read_file", "Read a file.", [filler(rng, "file", 110), filler(rng, "file", 100)]),
            edit_tool("apply_patch", "Apply a patch.", [f"patched {path}"]),
        ],
    )
    ctx = Context(agent)
    turns = [
        f"We deploy on Python 3.8, so only use Python 3.8 syntax. Fix the KeyError in {path}.",
        "Does router/handlers.py need changes too?",
        "Now refactor the dispatch function to be cleaner.",
    ]
    for i, turn in enumerate(turns):
        if i == 2:
            memory = await ctx.store.get("memory")
            assert "3.8" not in memory_text(memory), "the 3.8 constraint must have been trimmed"
        await agent.run(user_msg=turn, ctx=ctx)
        elapse(20, 180)  # the user reads the answer and types the next turn


@scenario(
    "context_length_error",
    ["context_rot"],
    "context_length_exceeded",
    "research agent fetches long documents in one run (scratchpad is never trimmed); the 3rd model call (two "
    "documents in) exceeds the 2048-token window and the provider raises a context-length error, the run fails",
)
async def context_length_error(rng: random.Random, sid: str, tracer: Tracer) -> None:
    docs = [f"DOC-{n}" for n in rng.sample(range(100, 1000), 5)]
    script: list[Move] = [Call([("fetch_document", {"item_id": d})]) for d in docs]
    agent = FunctionAgent(
        name=pick(rng, ["literature_agent", "due_diligence_agent"]),
        description="Reads documents.",
        system_prompt="You read the provided documents and write a summary with citations.",
        llm=ScriptedLLM(script, "fake-gpt-3.5-2k", rng, window=2048),
        tools=[id_tool("fetch_document", "Fetch a document.", [filler(rng, d, 360) for d in docs])],
    )
    msg = f"Summarise {', '.join(docs)} for the board."
    print(" ", await run_expecting_failure(agent.run(user_msg=msg)))


@scenario(
    "reasks_given_info",
    ["context_rot"],
    "multiturn_reasks_user_info",
    "support session: the order number given in turn 1 is trimmed by ChatMemoryBuffer(token_limit=280); in turn 3 "
    "the agent asks the user for the order number again",
)
async def reasks_given_info(rng: random.Random, sid: str, tracer: Tracer) -> None:
    order = f"A-{rng.randint(10000, 99999)}"
    script: list[Move] = [
        Call([("get_order", {"item_id": order})]),
        Say(f"Order {order} shipped on Nov 28; the blender arrived damaged. I've opened a replacement request."),
        Call([("policy_search", {"query": "replacement policy damaged items"})]),
        Say("Damaged items are replaced free of charge within 30 days."),
        Say("Could you share your order number so I can check the replacement shipping date?"),
    ]
    llm = ScriptedLLM(script, "fake-claude-sonnet", rng)
    agent = FunctionAgent(
        name="support_agent",
        description="Customer support.",
        system_prompt="You are a customer support agent for an online shop.",
        llm=llm,
        tools=[
            id_tool("get_order", "Look an order up.", [f"{order}: blender, shipped 2026-11-28, damaged on arrival"]),
            query_tool("policy_search", "Search policies.", [filler(rng, "policy", 110)]),
        ],
    )
    memory = ChatMemoryBuffer.from_defaults(token_limit=280, llm=llm)
    turns = [
        f"My order {order} arrived damaged, the blender jar is cracked.",
        "What's your policy for that?",
        "When will the replacement ship?",
    ]
    for i, turn in enumerate(turns):
        if i == 2:
            assert order not in memory_text(memory)
        await agent.run(user_msg=turn, memory=memory)
        elapse(20, 180)  # the user reads the answer and types the next turn


SUMMARY_PROMPT = "The following is a conversation between the user and assistant."


@scenario(
    "summary_drops_constraint",
    ["context_rot"],
    "summary_compaction_loses_constraint",
    "ChatSummaryMemoryBuffer compacts old turns via a summariser call (own system prompt); its summary omits 'no "
    "weekend shifts'; "
    "the scheduling agent then books Saturday shifts",
)
async def summary_drops_constraint(rng: random.Random, sid: str, tracer: Tracer) -> None:
    name = pick(rng, ["Dana", "Ilya", "Marisol"])
    summary = [
        f"The user is building the December rota for {name}; week 1 has 6 open weekday slots.",
        f"The user is building the December rota for {name}; week 1 has 6 open weekday slots; Dec 25-26 are holidays.",
    ]
    script: list[Move] = [
        Call([("list_slots", {"query": "December week 1"})]),
        Say("Week 1 has 6 open weekday slots."),
        Call([("list_slots", {"query": "public holidays December"})]),
        Say("Dec 25 and 26 are public holidays."),
        Call([("assign_shift", {"option": "Sat Dec 6 + Sat Dec 13", "total_usd": 0.0})]),
        Say(f"Assigned {name} to Saturday Dec 6 and Saturday Dec 13."),
    ]
    llm = ScriptedLLM(script, "fake-gpt-4o", rng, responders={SUMMARY_PROMPT: summary})
    agent = FunctionAgent(
        name="scheduler",
        description="Builds rotas.",
        system_prompt="You build staff rotas.",
        llm=llm,
        tools=[
            query_tool("list_slots", "List open shift slots.", [filler(rng, "slots", 70), filler(rng, "slots", 70)]),
            book_tool("assign_shift", "Assign shifts.", ["assigned"]),
        ],
    )
    memory = ChatSummaryMemoryBuffer.from_defaults(llm=llm, token_limit=220)
    turns = [
        f"Build {name}'s December rota. {name} cannot work weekends: no weekend shifts at all.",
        "Which days are public holidays?",
        f"Assign {name} two more shifts.",
    ]
    for i, turn in enumerate(turns):
        await agent.run(user_msg=turn, memory=memory)
        elapse(20, 180)  # the user reads the answer and types the next turn
        if i == 1:
            assert "weekend" not in memory_text(memory)


# ---- failed_handoff ---------------------------------------------------------------------------------


def handoff_call(to: str, reason: str) -> Call:
    return Call([("handoff", {"to_agent": to, "reason": reason})])


@scenario(
    "handoff_target_hits_limit",
    ["failed_handoff", "runaway_loop"],
    "handoff_target_hits_max_iterations",
    "AgentWorkflow: triage hands off to research_agent, which repeats the same get_filing lookup (same answer "
    "each time) until max_iterations=6; "
    "the workflow raises and the user gets nothing",
)
async def handoff_target_hits_limit(rng: random.Random, sid: str, tracer: Tracer) -> None:
    target = pick(rng, ["research_agent", "market_analyst"])
    company = pick(rng, ["Acme Robotics", "Nordwind Energy", "Helio Foods"])
    triage = FunctionAgent(
        name="triage_agent",
        description="Routes requests.",
        system_prompt="You route requests to the right specialist.",
        llm=ScriptedLLM([handoff_call(target, "Needs company research.")], "fake-gpt-4o-mini", rng),
        tools=[],
        can_handoff_to=[target],
    )
    research = FunctionAgent(
        name=target,
        description="Researches companies.",
        system_prompt="You research companies using filings.",
        llm=ScriptedLLM([Call([("get_filing", {"item_id": f"{company} 10-K"})])], "fake-gpt-4o", rng),
        tools=[id_tool("get_filing", "Fetch a filing.", ["filing index unavailable, try again"])],
    )
    wf = AgentWorkflow(agents=[triage, research], root_agent="triage_agent")
    msg = f"What was {company}'s revenue growth last year?"
    print(" ", await run_expecting_failure(wf.run(user_msg=msg, max_iterations=6)))


@scenario(
    "handoff_unknown_agent_redo",
    ["failed_handoff"],
    "handoff_target_never_starts_caller_redoes",
    "AgentWorkflow: triage hands off to 'refunds_agent', which is not in the workflow; the handoff tool answers "
    "'not found', no agent starts, and triage does the refund work itself",
)
async def handoff_unknown_agent_redo(rng: random.Random, sid: str, tracer: Tracer) -> None:
    inv = f"INV-{rng.randint(100, 999)}"
    triage = FunctionAgent(
        name="triage_agent",
        description="Routes requests.",
        system_prompt="You route billing questions. Delegate refunds to the refunds specialist.",
        llm=ScriptedLLM(
            [
                handoff_call("refunds_agent", "Refund request."),
                Call([("lookup_invoice", {"item_id": inv})]),
                Call([("issue_refund", {"item_id": inv})]),
                Say(f"Refund for {inv} issued: 120.00 EUR."),
            ],
            "fake-gpt-4o-mini",
            rng,
        ),
        tools=[
            id_tool("lookup_invoice", "Look an invoice up.", [f"{inv}: 120.00 EUR paid"]),
            id_tool("issue_refund", "Refund an invoice.", [f"refund RF-{rng.randint(100, 999)} created"]),
        ],
        can_handoff_to=["billing_agent"],
    )
    billing = FunctionAgent(
        name="billing_agent",
        description="Answers billing questions.",
        system_prompt="You answer billing questions.",
        llm=ScriptedLLM([Say("unused")], "fake-gpt-4o", rng),
        tools=[],
    )
    wf = AgentWorkflow(agents=[triage, billing], root_agent="triage_agent")
    print("  answered:", str(await wf.run(user_msg=f"Please refund {inv}, it was charged twice."))[:80])


@scenario(
    "subagent_output_dropped",
    ["failed_handoff"],
    "subagent_output_never_reaches_caller",
    "agent-as-tool: orchestrator delegates an analysis; the sub-agent finishes via a return_direct submit tool, so "
    "the tool returns only 'stored' and its findings never reach the orchestrator, which answers without them",
    hidden=False,
)
async def subagent_output_dropped(rng: random.Random, sid: str, tracer: Tracer) -> None:
    topic = pick(rng, ["churn drivers in Q3", "top refund reasons", "NPS by region"])
    sub = FunctionAgent(
        name="data_analyst",
        description="Runs analyses.",
        system_prompt="You analyse the warehouse data and submit your findings.",
        llm=ScriptedLLM(
            [
                Call([("run_sql", {"query": f"-- {topic}\nSELECT reason, count(*) FROM events GROUP BY 1"})]),
                Call([("submit_findings", {"query": f"{topic}: price increase 41%, outages 22%, support 15%"})]),
            ],
            "fake-gpt-4o",
            rng,
        ),
        tools=[
            query_tool("run_sql", "Run SQL.", ["price_increase 412 | outage 220 | support 150 | other 218"]),
            FunctionTool.from_defaults(
                fn=lambda query: "Findings stored.", name="submit_findings", description="Submit.", return_direct=True
            ),
        ],
    )
    orch = FunctionAgent(
        name="orchestrator",
        description="Coordinates analysts.",
        system_prompt="You coordinate specialist agents and report their results to the user.",
        llm=ScriptedLLM(
            [
                Call([("ask_data_analyst", {"task": f"Analyse {topic}."})]),
                Say("The analyst has completed the analysis and stored the findings."),
            ],
            "fake-gpt-4o",
            rng,
        ),
        tools=[agent_tool("ask_data_analyst", "Delegate an analysis to the data analyst.", sub)],
    )
    print("  answered:", str(await orch.run(user_msg=f"What are the {topic}?"))[:80])


@scenario(
    "subagent_raises_caller_redoes",
    ["failed_handoff"],
    "subagent_raises_caller_redoes",
    "agent-as-tool: the translator sub-agent's model raises a 503 on its first call; the orchestrator receives "
    "the error as tool output and translates the text itself",
    hidden=True,
)
async def subagent_raises_caller_redoes(rng: random.Random, sid: str, tracer: Tracer) -> None:
    lang = pick(rng, ["German", "Japanese", "Portuguese"])
    sub = FunctionAgent(
        name="translator",
        description="Translates.",
        system_prompt=f"You translate support macros into {lang}.",
        llm=ScriptedLLM([Fail(APIStatusError("Error code: 503 - upstream overloaded"))], "fake-mistral", rng),
        tools=[],
    )
    orch = FunctionAgent(
        name="localization_lead",
        description="Localises content.",
        system_prompt="You localise support content, delegating translation to the translator.",
        llm=ScriptedLLM(
            [
                Call([("ask_translator", {"task": f"Translate macro M-12 into {lang}."})]),
                Call([("get_macro", {"item_id": "M-12"})]),
                Say(f"Here is macro M-12 in {lang} (translated directly)."),
            ],
            "fake-gpt-4o",
            rng,
        ),
        tools=[
            agent_tool("ask_translator", "Delegate a translation.", sub),
            id_tool("get_macro", "Fetch a macro.", ["M-12: Thanks for reaching out, we are on it."]),
        ],
    )
    print("  answered:", str(await orch.run(user_msg=f"Localise macro M-12 for {lang} customers."))[:80])


@scenario(
    "handoff_target_timeout",
    ["failed_handoff"],
    "handoff_target_times_out",
    "AgentWorkflow(timeout=1.5): dispatcher hands off to the inventory agent, whose warehouse lookup hangs; the "
    "workflow times out (WorkflowTimeoutError) before the target answers",
    hidden=True,
)
async def handoff_target_timeout(rng: random.Random, sid: str, tracer: Tracer) -> None:
    sku = f"SKU-{rng.randint(1000, 9999)}"
    disp = FunctionAgent(
        name="dispatcher",
        description="Routes requests.",
        system_prompt="You route order questions.",
        llm=ScriptedLLM([handoff_call("inventory_agent", "Stock question.")], "fake-gpt-4o-mini", rng),
        tools=[],
        can_handoff_to=["inventory_agent"],
    )
    inv = FunctionAgent(
        name="inventory_agent",
        description="Checks stock.",
        system_prompt="You check warehouse stock.",
        llm=ScriptedLLM([Call([("warehouse_stock", {"item_id": sku})]), Say("In stock.")], "fake-gpt-4o", rng),
        tools=[slow_tool("warehouse_stock", "Stock level for a SKU.", 4.0, 1.5, "42 units")],
    )
    wf = AgentWorkflow(agents=[disp, inv], root_agent="dispatcher", timeout=1.5)
    print(" ", await run_expecting_failure(wf.run(user_msg=f"Is {sku} in stock?")))
    await asyncio.sleep(0.1)


# ---- negatives --------------------------------------------------------------------------------------


@scenario(
    "reworded_search_new_info",
    [],
    "reworded_search_each_new_info",
    "research agent re-words its search 4 times but every search returns new sources; it answers from them",
)
async def reworded_search_new_info(rng: random.Random, sid: str, tracer: Tracer) -> None:
    topic = pick(rng, ["heat pump adoption in Poland", "EV charger density in Norway", "rooftop solar in Chile"])
    forms = ["", "2025 statistics ", "government report ", "market share "]
    script: list[Move] = [Call([("web_search", {"query": f"{f}{topic}"})]) for f in forms]
    script.append(Say(f"Summary of {topic} from 4 sources: growth 18% y/y, subsidies drive demand."))
    agent = FunctionAgent(
        name=pick(rng, ["research_agent", "analyst"]),
        description="Researches.",
        system_prompt="You research questions and cite sources.",
        llm=ScriptedLLM(script, "fake-gpt-4o-mini", rng),
        tools=[query_tool("web_search", "Search.", [f"source {i}: {filler(rng, 'finding', 25)}" for i in range(4)])],
    )
    print("  answered:", str(await agent.run(user_msg=f"Research {topic}."))[:80])


@scenario(
    "multiturn_same_tool_per_turn",
    [],
    "multiturn_new_question_same_tool",
    "4-turn session (one Context), each user turn asks for a different currency pair's rate; the agent calls get_rate "
    "once per turn",
    hidden=True,
)
async def multiturn_same_tool_per_turn(rng: random.Random, sid: str, tracer: Tracer) -> None:
    pairs = ["EUR/USD", "GBP/JPY", "USD/CHF", "AUD/NZD"]
    script: list[Move] = []
    for p in pairs:
        script += [Call([("get_rate", {"query": p})]), Say(f"{p} is at the rate shown.")]
    agent = FunctionAgent(
        name="fx_assistant",
        description="FX rates.",
        system_prompt="You quote FX rates.",
        llm=ScriptedLLM(script, "fake-gpt-4o-mini", rng),
        tools=[query_tool("get_rate", "FX rate.", [f"{p} {rng.uniform(0.5, 1.8):.4f}" for p in pairs])],
    )
    ctx = Context(agent)
    for p in pairs:
        await agent.run(user_msg=f"What's {p} right now?", ctx=ctx)
        elapse(30, 600)


@scenario(
    "parallel_same_tool",
    [],
    "parallel_calls_different_args",
    "travel agent asks for 3 flight searches (different routes) in one model turn (parallel tool calls), then answers",
)
async def parallel_same_tool(rng: random.Random, sid: str, tracer: Tracer) -> None:
    origin = pick(rng, ["BER", "AMS", "MAD"])
    dests = rng.sample(["LIS", "ATH", "OSL", "DUB", "PRG"], 3)
    script: list[Move] = [
        Call([("find_flights", {"query": f"{origin}-{d} 2026-03-14"}) for d in dests]),
        Say(f"Cheapest: {origin}-{dests[0]}. Options for all three routes are listed."),
    ]
    agent = FunctionAgent(
        name="travel_desk",
        description="Flights.",
        system_prompt="You find flights.",
        llm=ScriptedLLM(script, "fake-gpt-4o", rng),
        tools=[query_tool("find_flights", "Find flights.", [f"{d}: {rng.randint(60, 300)} EUR" for d in dests])],
    )
    print("  answered:", str(await agent.run(user_msg=f"Compare flights from {origin} to {', '.join(dests)}."))[:80])


@scenario(
    "polling_finishes",
    [],
    "polling_finishes_after_few",
    "data agent starts an export job and polls job_status 3 times (queued, running, done) then returns the link",
    hidden=True,
)
async def polling_finishes(rng: random.Random, sid: str, tracer: Tracer) -> None:
    job = f"job-{rng.randint(100, 999)}"
    script: list[Move] = [Call([("start_export", {"query": "orders 2026-11"})])]
    script += [Call([("job_status", {"item_id": job})]) for _ in range(3)]
    script.append(Say(f"Export ready: https://exports.example/{job}.csv"))
    agent = FunctionAgent(
        name="export_agent",
        description="Exports.",
        system_prompt="You run data exports.",
        llm=ScriptedLLM(script, "fake-gpt-4o-mini", rng),
        tools=[
            query_tool("start_export", "Start an export.", [f"started {job}"]),
            id_tool("job_status", "Job status.", [f"{job}: queued", f"{job}: running 60%", f"{job}: done"]),
        ],
    )
    print("  answered:", str(await agent.run(user_msg="Export November orders as CSV."))[:80])


@scenario(
    "retry_once_recovers",
    [],
    "error_retried_once_recovers",
    "billing agent's lookup_invoice times out once; the agent retries the same call, it succeeds, task completes",
)
async def retry_once_recovers(rng: random.Random, sid: str, tracer: Tracer) -> None:
    inv = f"INV-{rng.randint(1000, 9999)}"
    script: list[Move] = [
        Call([("lookup_invoice", {"item_id": inv})]),
        Call([("lookup_invoice", {"item_id": inv})]),
        Say(f"{inv} is 240.00 EUR, due Dec 15."),
    ]
    agent = FunctionAgent(
        name="billing_agent",
        description="Billing.",
        system_prompt="You answer billing questions.",
        llm=ScriptedLLM(script, "fake-gpt-4o", rng),
        tools=[id_tool("lookup_invoice", "Invoice.", [TimeoutError("billing db timeout"), f"{inv}: 240.00 EUR"])],
    )
    print("  answered:", str(await agent.run(user_msg=f"How much is {inv}?"))[:80])


@scenario(
    "handoff_ok_with_plan",
    [],
    "handoff_receives_history_own_prompt",
    "harness span + a planning call with its own system prompt, then AgentWorkflow triage -> specialist; the "
    "specialist gets the conversation under its own system prompt, uses a tool, answers",
)
async def handoff_ok_with_plan(rng: random.Random, sid: str, tracer: Tracer) -> None:
    cases = {
        "shipping_agent": (
            "How long does delivery to Oslo take?",
            "Oslo: 3 business days, 9.90 EUR",
            "3 business days",
        ),
        "tax_agent": ("Which VAT rate applies to e-books in Germany?", "DE e-books: 7% VAT", "7% VAT"),
        "warranty_agent": ("Is a cracked screen covered by the warranty?", "screens: covered 12 months", "covered"),
    }
    spec = pick(rng, sorted(cases))
    question, fact, answer = cases[spec]
    planner = ScriptedLLM([Say("1. route to the specialist 2. look the fact up 3. answer")], "fake-gpt-4o-mini", rng)
    with tracer.start_as_current_span("handle_chat_request", attributes={"session.id": sid, "http.route": "/chat"}):
        await planner.achat(
            [
                ChatMessage(role="system", content="You are a planner. Output a numbered plan, no prose."),
                ChatMessage(role="user", content=question),
            ]
        )
        triage = FunctionAgent(
            name="triage_agent",
            description="Routes.",
            system_prompt="You route questions to specialists.",
            llm=ScriptedLLM([handoff_call(spec, "Specialist question.")], "fake-gpt-4o-mini", rng),
            tools=[],
            can_handoff_to=[spec],
        )
        specialist = FunctionAgent(
            name=spec,
            description="Specialist.",
            system_prompt=f"You are the {spec.replace('_', ' ')}. Answer precisely.",
            llm=ScriptedLLM(
                [Call([("lookup", {"query": question})]), Say(f"Answer: {answer} ({fact}).")], "fake-gpt-4o", rng
            ),
            tools=[query_tool("lookup", "Look facts up.", [fact])],
        )
        wf = AgentWorkflow(agents=[triage, specialist], root_agent="triage_agent")
        print("  answered:", str(await wf.run(user_msg=question))[:80])


@scenario(
    "long_run_attrs",
    [],
    "long_healthy_run_over_128_attributes",
    "data-analysis agent runs 2 steps of 3 and 16 parallel queries (19 tool calls, all new data) and answers; the "
    "final model-call span has more than the SDK's 128-attribute limit; the SDK drops the oldest (session.id "
    "among them)",
)
async def long_run_attrs(rng: random.Random, sid: str, tracer: Tracer) -> None:
    regions = ["north", "south", "east", "west", "central", "alpine", "coastal", "islands", "metro", "rural"]
    script: list[Move] = [
        Call([("run_query", {"query": f"q1 {r}"}) for r in regions[:3]]),
        Call(
            [("run_query", {"query": f"q1 {r}"}) for r in regions[3:]]
            + [("run_query", {"query": f"q2 {r}"}) for r in regions[1:]]
        ),
    ]
    script.append(Say("Revenue by quarter and region is tabulated; east grew fastest (+23%)."))
    agent = FunctionAgent(
        name="bi_analyst",
        description="BI.",
        system_prompt="You answer BI questions with SQL.",
        llm=ScriptedLLM(script, "fake-gpt-4.1", rng, window=128000),
        tools=[query_tool("run_query", "Run SQL.", [f"{rng.randint(10, 99)}k" for _ in range(19)])],
    )
    msg = "Revenue per region for Q1 and Q2 2026, and which region grew fastest?"
    print("  answered:", str(await agent.run(user_msg=msg, max_iterations=20))[:80])


@scenario(
    "summary_keeps_constraint",
    [],
    "summary_compaction_keeps_constraint",
    "ChatSummaryMemoryBuffer compacts old turns with a summariser call (own system prompt); the summary keeps "
    "'no weekend shifts' and the agent assigns weekdays only",
)
async def summary_keeps_constraint(rng: random.Random, sid: str, tracer: Tracer) -> None:
    name = pick(rng, ["Tomas", "Priya", "Ken"])
    summary = [
        f"Building {name}'s December rota. Constraint: no weekend shifts for {name}. Week 1 has 6 weekday slots.",
        f"Building {name}'s December rota. Constraint: no weekend shifts for {name}. Dec 25-26 are holidays.",
    ]
    script: list[Move] = [
        Call([("list_slots", {"query": "December week 1"})]),
        Say("Week 1 has 6 open weekday slots."),
        Call([("list_slots", {"query": "public holidays December"})]),
        Say("Dec 25 and 26 are public holidays."),
        Call([("assign_shift", {"option": "Tue Dec 2 + Thu Dec 4", "total_usd": 0.0})]),
        Say(f"Assigned {name} to Tuesday Dec 2 and Thursday Dec 4 (no weekends)."),
    ]
    llm = ScriptedLLM(script, "fake-gpt-4o", rng, responders={SUMMARY_PROMPT: summary})
    agent = FunctionAgent(
        name="scheduler",
        description="Builds rotas.",
        system_prompt="You build staff rotas.",
        llm=llm,
        tools=[
            query_tool("list_slots", "List open slots.", [filler(rng, "slots", 70), filler(rng, "slots", 70)]),
            book_tool("assign_shift", "Assign shifts.", ["assigned"]),
        ],
    )
    memory = ChatSummaryMemoryBuffer.from_defaults(llm=llm, token_limit=220)
    turns = [
        f"Build {name}'s December rota. {name} cannot work weekends: no weekend shifts at all.",
        "Which days are public holidays?",
        f"Assign {name} two more shifts.",
    ]
    for i, turn in enumerate(turns):
        await agent.run(user_msg=turn, memory=memory)
        elapse(20, 180)  # the user reads the answer and types the next turn
        if i == 1:
            assert "weekend" in memory_text(memory)


@scenario(
    "subagent_ok",
    [],
    "agent_as_tool_result_delivered",
    "agent-as-tool: orchestrator delegates a code review to a sub-agent twice (two files); each time the result "
    "reaches the orchestrator, which reports both",
    hidden=True,
)
async def subagent_ok(rng: random.Random, sid: str, tracer: Tracer) -> None:
    files = rng.sample(["api/auth.py", "api/users.py", "core/cache.py", "core/db.py"], 2)
    sub = FunctionAgent(
        name="reviewer",
        description="Reviews code.",
        system_prompt="You review code for bugs.",
        llm=ScriptedLLM(
            [
                Call([("read_file", {"query": files[0]})]),
                Say(f"{files[0]}: token expiry not checked (line 88)."),
                Call([("read_file", {"query": files[1]})]),
                Say(f"{files[1]}: no issues found."),
            ],
            "fake-gpt-4.1",
            rng,
        ),
        tools=[query_tool("read_file", "Read.", [filler(rng, "code", 40)])],
    )
    orch = FunctionAgent(
        name="lead_engineer",
        description="Coordinates.",
        system_prompt="You coordinate reviews.",
        llm=ScriptedLLM(
            [
                Call([("ask_reviewer", {"task": f"Review {files[0]}"})]),
                Call([("ask_reviewer", {"task": f"Review {files[1]}"})]),
                Say(f"Review: {files[0]} misses a token expiry check; {files[1]} is clean."),
            ],
            "fake-gpt-4o",
            rng,
        ),
        tools=[agent_tool("ask_reviewer", "Delegate a review.", sub)],
    )
    print("  answered:", str(await orch.run(user_msg=f"Review {files[0]} and {files[1]}."))[:80])


@scenario(
    "memory_trim_harmless",
    [],
    "memory_trim_nothing_needed_lost",
    "multi-turn support session whose ChatMemoryBuffer(token_limit=260) trims turn 1, but every later turn is "
    "self-contained (new order number each time) and answered correctly",
)
async def memory_trim_harmless(rng: random.Random, sid: str, tracer: Tracer) -> None:
    orders = [f"B-{rng.randint(10000, 99999)}" for _ in range(3)]
    script: list[Move] = []
    for o in orders:
        script += [Call([("get_order", {"item_id": o})]), Say(f"Order {o} is on its way; details above.")]
    llm = ScriptedLLM(script, "fake-claude-sonnet", rng)
    agent = FunctionAgent(
        name="support_agent",
        description="Support.",
        system_prompt="You are a customer support agent for an online shop.",
        llm=llm,
        tools=[id_tool("get_order", "Order.", [f"{o}: in transit, " + filler(rng, "tracking", 70) for o in orders])],
    )
    memory = ChatMemoryBuffer.from_defaults(token_limit=260, llm=llm)
    for i, o in enumerate(orders):
        if i == 2:
            assert orders[0] not in memory_text(memory)
        await agent.run(user_msg=f"Where is order {o}?", memory=memory)
        elapse(30, 600)


# ---------------------------------------------------------------------------------------------- output


def to_otlp_json(exporter: InMemorySpanExporter) -> dict[str, Any]:
    """The OTLP/JSON request an OTLP/HTTP exporter would send, with hex trace and span ids."""
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


class SimulatedClock:
    """Each reading moves the clock on by 0.2-3 ms; ``advance`` adds a model call's or tool's latency (seeded)."""

    def __init__(self, start_ns: int, rng: random.Random) -> None:
        self.now = start_ns
        self.rng = rng

    def __call__(self) -> int:
        self.now += self.rng.randint(200_000, 3_000_000)
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1e9)


@contextmanager
def simulated_clock(start_ns: int, rng: random.Random) -> Iterator[SimulatedClock]:
    import openinference.instrumentation.llama_index._handler as handler
    import opentelemetry.sdk.trace as sdk_trace

    clock = SimulatedClock(start_ns, rng)
    real_sdk, real_handler = sdk_trace.time_ns, handler.time_ns
    sdk_trace.time_ns = clock  # type: ignore[assignment]
    handler.time_ns = clock
    _CLOCKS.append(clock)
    try:
        yield clock
    finally:
        _CLOCKS.pop()
        sdk_trace.time_ns = real_sdk  # type: ignore[assignment]
        handler.time_ns = real_handler


def toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def write_labels(chosen: list[Scenario]) -> None:
    lines = ["# One entry per session; the label is what the script made the run do (see NOTES.md).", ""]
    for sc in chosen:
        for sid in sc.session_ids:
            lines += [
                "[[session]]",
                f"session_id = {toml_str(sid)}",
                f"kinds = [{', '.join(toml_str(k) for k in sc.kinds)}]",
                f"shape = {toml_str(sc.shape)}",
                f"why = {toml_str(sc.why + ('; content capture off' if sc.hidden else ''))}",
                "",
            ]
    (HERE / "labels_llamaindex.toml").write_text("\n".join(lines))


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
        rng = random.Random(f"llamaindex-corpus/{name}")
        exporter = InMemorySpanExporter()
        provider = TracerProvider(
            resource=Resource.create({"service.name": f"{pick(rng, ['assist', 'ops', 'agents'])}-api"})
        )
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        instrumentor = LlamaIndexInstrumentor()
        config = TraceConfig(hide_inputs=True, hide_outputs=True) if sc.hidden else None
        instrumentor.instrument(tracer_provider=provider, **({"config": config} if config else {}))
        print(f"{name} ({sid}):")
        try:
            with simulated_clock(1_764_000_000_000_000_000 + index * 3_600_000_000_000, rng), using_session(sid):
                asyncio.run(sc.run(rng, sid, provider.get_tracer("corpus_harness")))
        finally:
            instrumentor.uninstrument()
        provider.shutdown()
        path = OUT / f"llamaindex_{name}.json"
        path.write_text(json.dumps(to_otlp_json(exporter), separators=(",", ":"), ensure_ascii=False) + "\n")
        print(f"  {path.name}: {len(exporter.get_finished_spans())} spans, {path.stat().st_size} bytes")
    write_labels([SCENARIOS[n] for n in SCENARIOS if n in chosen])


if __name__ == "__main__":
    main()
