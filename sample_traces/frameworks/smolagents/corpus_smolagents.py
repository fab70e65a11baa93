"""Labeled evaluation corpus for stepseven: real smolagents runs under OpenInference, offline, scripted model.

Pinned versions (``pip freeze`` of /work/cap/smolagents/.venv, Python 3.11.7):

    smolagents==1.26.0
    openinference-instrumentation-smolagents==0.1.43
    openinference-instrumentation==0.1.72
    openinference-semantic-conventions==0.1.42
    opentelemetry-sdk==1.45.2  (opentelemetry-api==1.45.2, opentelemetry-exporter-otlp-proto-common==1.45.2)

Run (regenerates every session, deterministically; nothing leaves the machine):

    /work/cap/smolagents/.venv/bin/python corpus_smolagents.py [SHAPE ...]   # all sessions by default

Writes ``out/smolagents_<shape>.json`` (one OTLP/JSON ExportTraceServiceRequest per file, hex ids, as an OTLP/HTTP
exporter would send it; ``to_otlp_json`` comes from /work/main/sample_traces/capture_kit.py or $CAPTURE_KIT_DIR)
and ``labels_smolagents.toml`` next to this script. Labels come from the script (what the run really did), never
from an analyzer.

How smolagents is run: its normal ``run()`` loop (ToolCallingAgent, CodeAgent, managed agents), default settings
except ``max_steps`` / ``planning_interval`` / ``step_callbacks`` / ``provide_run_summary`` where a shape needs them,
``SmolagentsInstrumentor().instrument(tracer_provider=..., config=TraceConfig(...))`` and
``openinference.instrumentation.using_session(session_id)``. Faked: the model provider (``ScriptedModel``, a
``smolagents.Model`` answering from a script, exported as ``smolagents.ScriptedModel`` so that the instrumentor wraps
it like a built-in model) and the tools' backends. Token usage is counted from the real prompt (4 chars a token), and
the model enforces a 128k-token context window like a provider would. Time is simulated (fixed start per session).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import random
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from smolagents import CodeAgent, Model, Tool, ToolCallingAgent
from smolagents.memory import ActionStep, MemoryStep, TaskStep
from smolagents.models import ChatMessage, ChatMessageToolCall, ChatMessageToolCallFunction, MessageRole
from smolagents.monitoring import LogLevel, TokenUsage
from smolagents.utils import AgentGenerationError

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
KIT_DIR = Path(os.environ.get("CAPTURE_KIT_DIR", "/work/main/sample_traces"))
CONTEXT_WINDOW = 128_000
TOOL_SECONDS = 0.6
QUIET = LogLevel.OFF


def _capture_kit() -> ModuleType:
    if str(KIT_DIR) not in sys.path:
        sys.path.insert(0, str(KIT_DIR))
    return importlib.import_module("capture_kit")


# ---------------------------------------------------------------- simulated clock


class Clock:
    """Stands in for the SDK's clock: each reading moves it 1 us on; ``advance`` adds a slow call's duration."""

    def __init__(self, start_ns: int) -> None:
        self.now = start_ns

    def __call__(self) -> int:
        self.now += 1_000
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1e9)


CLOCK = Clock(0)


@contextmanager
def simulated_clock(start_ns: int) -> Iterator[None]:
    import opentelemetry.sdk.trace as sdk_trace

    global CLOCK
    CLOCK = Clock(start_ns)
    real = sdk_trace.time_ns
    sdk_trace.time_ns = CLOCK  # type: ignore[assignment]
    try:
        yield
    finally:
        sdk_trace.time_ns = real  # type: ignore[assignment]


# ---------------------------------------------------------------- scripted model


class ContextWindowExceededError(Exception):
    """What an OpenAI-compatible provider answers (HTTP 400) when the prompt does not fit."""


class ProviderError(Exception):
    """A provider-side failure (HTTP 5xx) surfacing from the client."""


@dataclass(frozen=True)
class Reply:
    """One scripted model answer: prose / a code blob, or tool calls (several = parallel), or a provider error."""

    text: str | None = None
    calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    error: Exception | None = None


def say(text: str) -> Reply:
    return Reply(text=text)


def call(name: str, **arguments: Any) -> Reply:
    return Reply(calls=((name, arguments),))


def parallel(*calls: tuple[str, dict[str, Any]]) -> Reply:
    return Reply(calls=tuple(calls))


def code(thought: str, body: str) -> Reply:
    """A CodeAgent answer: a thought, then the code between smolagents' default <code> tags."""
    return Reply(text=f"Thought: {thought}\n<code>\n{body}\n</code>")


def fail(error: Exception) -> Reply:
    return Reply(error=error)


def _prompt_chars(messages: list[Any]) -> int:
    total = 0
    for message in messages:
        content = message.content if isinstance(message, ChatMessage) else message.get("content")
        if isinstance(content, str):
            total += len(content)
        elif isinstance(content, list):
            total += sum(len(str(part.get("text", ""))) for part in content if isinstance(part, dict))
    return total


class ScriptedModel(Model):  # type: ignore[misc]  # smolagents ships no type hints
    """A smolagents Model answering from a script, one Reply per ``generate`` call, in order."""

    def __init__(self, model_id: str, script: list[Reply]) -> None:
        super().__init__(model_id=model_id)
        self.script = script
        self.turn = 0

    def generate(
        self,
        messages: list[ChatMessage | dict[str, Any]],
        stop_sequences: list[str] | None = None,
        response_format: dict[str, str] | None = None,
        tools_to_call_from: list[Any] | None = None,
        **kwargs: Any,
    ) -> ChatMessage:
        if self.turn >= len(self.script):
            raise RuntimeError(f"{self.model_id}: script exhausted after {self.turn} calls")
        reply = self.script[self.turn]
        self.turn += 1
        prompt_tokens = _prompt_chars(messages) // 4 + 12 * len(tools_to_call_from or [])
        CLOCK.advance(0.8 + prompt_tokens / 20_000)
        if prompt_tokens > CONTEXT_WINDOW:
            raise ContextWindowExceededError(
                "Error code: 400 - {'error': {'message': \"This model's maximum context length is "
                f"{CONTEXT_WINDOW} tokens. However, your messages resulted in {prompt_tokens} tokens. Please reduce "
                "the length of the messages.\", 'type': 'invalid_request_error', 'param': 'messages', "
                "'code': 'context_length_exceeded'}}"
            )
        if reply.error is not None:
            raise reply.error
        completion = reply.text or json.dumps(reply.calls)
        usage = TokenUsage(input_tokens=prompt_tokens, output_tokens=len(completion) // 4 + 6)
        CLOCK.advance(usage.output_tokens / 60)
        if reply.calls:
            tool_calls = [
                ChatMessageToolCall(
                    id=f"call_{hashlib.sha1(f'{self.model_id}{self.turn}{i}'.encode()).hexdigest()[:20]}",
                    type="function",
                    # A JSON string, as provider models return it; the agent parses it.
                    function=ChatMessageToolCallFunction(name=name, arguments=json.dumps(arguments)),
                )
                for i, (name, arguments) in enumerate(reply.calls)
            ]
            return ChatMessage(role=MessageRole.ASSISTANT, content=None, tool_calls=tool_calls, token_usage=usage)
        return ChatMessage(role=MessageRole.ASSISTANT, content=reply.text, token_usage=usage)


# ---------------------------------------------------------------- tools with scripted backends

Backend = Callable[[dict[str, Any]], Any]


class BackendTool(Tool):  # type: ignore[misc]
    """A smolagents Tool whose backend (HTTP API, DB...) is replaced by a script."""

    skip_forward_signature_validation = True
    output_type = "string"

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        super().__init__()

    def forward(self, **kwargs: Any) -> Any:
        CLOCK.advance(TOOL_SECONDS)
        return self.backend(kwargs)


def make_tool(name: str, description: str, params: dict[str, tuple[str, str]], backend: Backend) -> Tool:
    """A tool class of its own (span name ``{Name}Tool``, as a hand-written Tool subclass would have)."""
    attrs = {
        "name": name,
        "description": description,
        "inputs": {key: {"type": kind, "description": text} for key, (kind, text) in params.items()},
    }
    cls = type("".join(part.title() for part in name.split("_")) + "Tool", (BackendTool,), attrs)
    return cls(backend)


def seq(*outputs: Any) -> Backend:
    """Backend answering each call with the next output (an Exception is raised); the last one repeats."""
    queue = list(outputs)

    def backend(_: dict[str, Any]) -> Any:
        out = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(out, Exception):
            raise out
        return out

    return backend


def const(output: Any) -> Backend:
    return seq(output)


def p(text: str, kind: str = "string") -> tuple[str, str]:
    return (kind, text)


# ---------------------------------------------------------------- session registry


@dataclass
class Session:
    shape: str
    kinds: list[str]
    content: str  # "on" (OpenInference default), "off" (hide_inputs+hide_outputs), "redacted" (text hidden)
    why: str
    service: str
    fn: Callable[[random.Random, Any], None]
    session_id: str = ""
    index: int = 0


SESSIONS: list[Session] = []


def session(shape: str, kinds: list[str], content: str, service: str, why: str) -> Callable[[Any], Any]:
    def register(fn: Callable[[random.Random, Any], None]) -> Callable[[random.Random, Any], None]:
        digest = hashlib.sha256(f"stepseven-corpus/{shape}".encode()).hexdigest()
        SESSIONS.append(Session(shape, kinds, content, why, service, fn, f"smolagents-c-{digest[:12]}", len(SESSIONS)))
        return fn

    return register


MODELS = ["gpt-4o-mini", "gpt-4.1", "claude-sonnet-4-5", "Qwen/Qwen2.5-72B-Instruct", "gemini-2.5-flash"]
CODER_MODELS = ["Qwen/Qwen2.5-Coder-32B-Instruct", "gpt-4.1", "claude-sonnet-4-5", "deepseek-ai/DeepSeek-V3"]


def model(rng: random.Random, script: list[Reply], coder: bool = False) -> ScriptedModel:
    return ScriptedModel(rng.choice(CODER_MODELS if coder else MODELS), script)


def pick(rng: random.Random, *names: str) -> str:
    return rng.choice(names)


# ================================================================ runaway_loop positives


@session(
    "reworded_search_until_limit",
    ["runaway_loop"],
    "off",
    "research-assistant",
    "ToolCallingAgent re-words the same web search each step, every result says nothing new; max_steps hit, "
    "smolagents forces a final answer: runaway_loop",
)
def reworded_search_until_limit(rng: random.Random, tracer: Any) -> None:
    search = make_tool(
        pick(rng, "web_search", "search_web", "internet_search"),
        "Searches the web and returns the top results.",
        {"query": p("The search query.")},
        const("No results found for this query. Try a different wording."),
    )
    queries = [
        "EU battery regulation 2027 recycled cobalt quota",
        "recycled cobalt minimum share EU batteries 2027",
        "EU Battery Regulation Article 8 recycled content cobalt percentage",
        "2023/1542 recycled content targets cobalt",
        "minimum recycled cobalt content batteries Europe regulation",
        "EU batteries regulation cobalt recycled share first deadline",
    ]
    steps = rng.randint(5, 6)
    script = [call(search.name, query=q) for q in queries[:steps]]
    script.append(say("I could not find the recycled-cobalt quota for 2027 in any source I searched."))
    agent = ToolCallingAgent(
        tools=[search],
        model=model(rng, script),
        name=pick(rng, "policy_researcher", "regulation_scout"),
        max_steps=steps,
        verbosity_level=QUIET,
    )
    agent.run("What minimum share of recycled cobalt does the EU require in EV batteries from 2027? Cite the article.")


@session(
    "same_error_interleaved",
    ["runaway_loop"],
    "off",
    "billing-agent",
    "refund tool fails 3 times with the identical gateway-timeout message, the agent re-reads the invoice and "
    "customer between attempts, then gives up: runaway_loop (repeated identical failure)",
)
def same_error_interleaved(rng: random.Random, tracer: Any) -> None:
    invoice_id = f"INV-{rng.randint(20000, 29999)}"
    refund = make_tool(
        "refund_payment",
        "Refunds an invoice (fully or partially) to the original payment method.",
        {"invoice_id": p("Invoice id."), "amount": p("Amount in EUR.", "number")},
        const(TimeoutError("PaymentGatewayTimeout: Stripe gateway did not respond within 30s (req_8fK2)")),
    )
    invoice = make_tool(
        "get_invoice",
        "Returns an invoice with its lines and payment status.",
        {"invoice_id": p("Invoice id.")},
        const(f"{invoice_id}: 2 lines, total 129.00 EUR, paid by card **** 4242 on 2026-11-02, status paid"),
    )
    customer = make_tool(
        "get_customer",
        "Returns a customer's account record.",
        {"customer_id": p("Customer id.")},
        const("cus_77812: Maria Keller, plan Pro, card **** 4242, no open disputes"),
    )
    args = {"invoice_id": invoice_id, "amount": 129.0}
    script = [
        call("get_invoice", invoice_id=invoice_id),
        call("refund_payment", **args),
        call("get_customer", customer_id="cus_77812"),
        call("refund_payment", **args),
        call("get_invoice", invoice_id=invoice_id),
        call("refund_payment", **args),
        call("final_answer", answer="The refund could not be issued: the payment gateway keeps timing out."),
    ]
    agent = ToolCallingAgent(
        tools=[refund, invoice, customer],
        model=model(rng, script),
        name=pick(rng, "billing_agent", "refunds_bot"),
        max_steps=10,
        verbosity_level=QUIET,
    )
    agent.run(f"Customer cus_77812 was double charged; refund invoice {invoice_id} in full.")


@session(
    "pager_never_finishes",
    ["runaway_loop"],
    "off",
    "data-analysis",
    "CodeAgent pages through an audit-event API: each page advances the page number and says has_more=true, "
    "the listing never ends; max_steps hit with no answer: runaway_loop (pager)",
)
def pager_never_finishes(rng: random.Random, tracer: Any) -> None:
    def page_backend(args: dict[str, Any]) -> str:
        page = int(args["page"])
        return f"events {50 * page - 49}-{50 * page}: 50 login events, has_more=true, next_page={page + 1}"

    fetch = make_tool(
        pick(rng, "fetch_audit_events", "list_audit_log"),
        "Returns one page (50 events) of the audit log for a day.",
        {"day": p("YYYY-MM-DD."), "page": p("Page number, from 1.", "integer")},
        page_backend,
    )
    steps = rng.randint(6, 7)
    script = [
        code(
            f"I will read page {n} of the audit log and count failed logins.",
            f'page = {fetch.name}(day="2026-11-30", page={n})\nprint(page)',
        )
        for n in range(1, steps + 1)
    ]
    script.append(say("I could not finish counting: the audit log kept returning more pages."))
    agent = CodeAgent(tools=[fetch], model=model(rng, script, coder=True), max_steps=steps, verbosity_level=QUIET)
    agent.run("How many failed logins were there on 2026-11-30? Count them from the audit log.")


@session(
    "code_same_failure_until_limit",
    ["runaway_loop"],
    "on",
    "code-repair-bot",
    "CodeAgent tries `import pandas` in every step and fails with the same InterpreterError each time "
    "(not an authorized import) until max_steps: runaway_loop (same failing step)",
)
def code_same_failure_until_limit(rng: random.Random, tracer: Any) -> None:
    read_csv = make_tool(
        "read_sales_file",
        "Returns the raw text of a CSV file from the sales bucket.",
        {"path": p("Object path.")},
        const("region,month,revenue\nnorth,2026-10,1200\nsouth,2026-10,900\nnorth,2026-11,1500\n"),
    )
    body = (
        "import pandas as pd\nimport io\n"
        'df = pd.read_csv(io.StringIO(read_sales_file(path="sales/2026-q4.csv")))\n'
        'print(df.groupby("region").revenue.sum())'
    )
    thoughts = [
        "I will load the CSV with pandas and sum by region.",
        "Let me try the pandas load again.",
        "I will retry reading it into a DataFrame.",
        "Once more with pandas.",
    ]
    script = [code(t, body) for t in thoughts[:3]]
    script.append(say("I was unable to compute revenue by region because the data could not be loaded."))
    agent = CodeAgent(tools=[read_csv], model=model(rng, script, coder=True), max_steps=3, verbosity_level=QUIET)
    agent.run("Sum Q4 revenue by region from sales/2026-q4.csv.")


@session(
    "managed_subagent_poll_limit",
    ["runaway_loop", "failed_handoff"],
    "off",
    "ops-supervisor",
    "manager delegates a stock check; the managed agent polls the same SKU with identical arguments until its "
    "max_steps and returns only the forced give-up answer: runaway_loop in the sub-agent and failed_handoff",
)
def managed_subagent_poll_limit(rng: random.Random, tracer: Any) -> None:
    sku = f"SKU-{rng.randint(1000, 9999)}"
    stock = make_tool(
        "check_stock",
        "Returns warehouse stock for a SKU.",
        {"sku": p("The SKU.")},
        const(f"{sku}: 0 on hand, backordered, restock date unknown"),
    )
    limit = rng.randint(4, 5)
    checker_script = [call("check_stock", sku=sku) for _ in range(limit)]
    checker_script.append(say(f"I could not confirm when {sku} will be back in stock."))
    checker = ToolCallingAgent(
        tools=[stock],
        model=model(rng, checker_script),
        name=pick(rng, "inventory_checker", "stock_agent"),
        description="Checks warehouse stock and restock dates for SKUs.",
        max_steps=limit,
        verbosity_level=QUIET,
    )
    manager_script = [
        call(checker.name, task=f"When will {sku} be back in stock? Keep checking until you know."),
        call("final_answer", answer=f"I could not get a restock date for {sku}; the warehouse has none on file."),
    ]
    manager = ToolCallingAgent(
        tools=[], model=model(rng, manager_script), managed_agents=[checker], max_steps=6, verbosity_level=QUIET
    )
    manager.run(f"A customer asks when {sku} ships again. Find out.")


@session(
    "poll_until_limit_with_planning",
    ["runaway_loop"],
    "off",
    "ml-platform-agent",
    "ToolCallingAgent with planning_interval=3 polls a training job that stays RUNNING 41% with identical "
    "arguments; re-plans, keeps polling, hits max_steps: runaway_loop (framework step limit while repeating)",
)
def poll_until_limit_with_planning(rng: random.Random, tracer: Any) -> None:
    job = f"ft-{rng.randint(100000, 999999)}"
    status = make_tool(
        "get_job_status",
        "Returns the status of a fine-tuning job.",
        {"job_id": p("Job id.")},
        const(f"{job}: RUNNING, 41% (epoch 2/5), no new checkpoint"),
    )
    script: list[Reply] = [
        say("## 1. Facts survey\nJob id given.\n## 2. Plan\n1. Poll the job until it completes.\n2. Report.\n"),
        call("get_job_status", job_id=job),
        call("get_job_status", job_id=job),
        call("get_job_status", job_id=job),
        say("## 1. Updated facts survey\nJob still at 41%.\n## 2. Plan\n1. Poll again.\n2. Report the metrics.\n"),
        call("get_job_status", job_id=job),
        call("get_job_status", job_id=job),
        call("get_job_status", job_id=job),
        say("## 1. Updated facts survey\nNo progress.\n## 2. Plan\n1. Poll again.\n"),
        call("get_job_status", job_id=job),
        call("get_job_status", job_id=job),
        say(f"Job {job} is still running at 41%; I could not report final metrics."),
    ]
    agent = ToolCallingAgent(
        tools=[status], model=model(rng, script), planning_interval=3, max_steps=8, verbosity_level=QUIET
    )
    agent.run(f"Wait for fine-tuning job {job} to finish and report its final eval loss.")


# ================================================================ context_rot positives


def keep_recent_steps(keep: int) -> Callable[[MemoryStep, Any], None]:
    """A user's token-saving step callback: keeps only the last ``keep`` memory steps (the task is dropped too)."""

    def callback(step: MemoryStep, agent: Any) -> None:
        agent.memory.steps = agent.memory.steps[-keep:]

    return callback


def compact_with_summary(summarizer: ScriptedModel, after_step: int) -> Callable[[MemoryStep, Any], None]:
    """A step callback that, once, replaces the memory by a summary written by a summarization model call."""

    def callback(step: MemoryStep, agent: Any) -> None:
        if not isinstance(step, ActionStep) or step.step_number != after_step:
            return
        history = "\n".join(str(m.content) for s in agent.memory.steps for m in s.to_messages())
        messages = [
            ChatMessage(
                role=MessageRole.SYSTEM,
                content=[{"type": "text", "text": "You compress agent transcripts. Summarize the work so far."}],
            ),
            ChatMessage(role=MessageRole.USER, content=[{"type": "text", "text": history}]),
        ]
        summary = summarizer.generate(messages).content
        agent.memory.steps = [TaskStep(task=f"Summary of the conversation so far:\n{summary}")]

    return callback


@session(
    "trimmed_history_drops_budget",
    ["context_rot"],
    "on",
    "travel-assistant",
    "a keep-last-2-steps step callback drops the task (total budget under $500) from memory; the agent then "
    "books the $780 hotel, against the user's constraint: context_rot",
)
def trimmed_history_drops_budget(rng: random.Random, tracer: Any) -> None:
    city = pick(rng, "Lisbon", "Porto", "Seville")
    hotels = make_tool(
        "search_hotels",
        "Searches hotels with availability; returns name and total price.",
        {"city": p("City."), "check_in": p("YYYY-MM-DD."), "check_out": p("YYYY-MM-DD.")},
        const(
            f"{city}, 3 nights: Casa do Largo $420 total (3.9*), Hotel Mundial $510 total (4.2*), "
            "Memmo Palace $780 total (4.8*)"
        ),
    )
    reviews = make_tool(
        "get_reviews",
        "Returns a review digest for a hotel.",
        {"hotel": p("Hotel name.")},
        seq(
            "Casa do Largo: clean, small rooms, street noise at night.",
            "Memmo Palace: rooftop pool, quiet, excellent breakfast.",
        ),
    )
    book = make_tool(
        "book_hotel",
        "Books a hotel for the given dates with the card on file.",
        {"hotel": p("Hotel name."), "check_in": p("YYYY-MM-DD."), "check_out": p("YYYY-MM-DD.")},
        const("Confirmed: Memmo Palace, 2027-03-12 to 2027-03-15, $780 charged, ref HX-55120"),
    )
    dates = {"check_in": "2027-03-12", "check_out": "2027-03-15"}
    script = [
        call("search_hotels", city=city, **dates),
        call("get_reviews", hotel="Casa do Largo"),
        call("get_reviews", hotel="Memmo Palace"),
        call("book_hotel", hotel="Memmo Palace", **dates),
        call("final_answer", answer="Booked Memmo Palace for 12-15 March ($780 total), ref HX-55120."),
    ]
    agent = ToolCallingAgent(
        tools=[hotels, reviews, book],
        model=model(rng, script),
        step_callbacks=[keep_recent_steps(2)],
        max_steps=8,
        verbosity_level=QUIET,
    )
    agent.run(f"Book me a quiet hotel in {city} from 12 to 15 March 2027. Total budget under $500, hard limit.")


@session(
    "summary_drops_py38_constraint",
    ["context_rot"],
    "on",
    "code-repair-bot",
    "a summarizing step callback compacts memory after step 2 and its summary omits 'Python 3.8 syntax only'; "
    "the agent then writes a match statement and PEP 604 unions (3.10+): context_rot",
)
def summary_drops_py38_constraint(rng: random.Random, tracer: Any) -> None:
    read = make_tool(
        "read_source",
        "Returns the content of a file in the repository.",
        {"path": p("Repository path.")},
        const(
            "def parse(kind, value):\n    if kind == 'int':\n        return int(value)\n"
            "    elif kind == 'float':\n        return float(value)\n    return value\n"
        ),
    )
    tests = make_tool(
        "run_tests",
        "Runs the unit tests of a module and returns the summary.",
        {"module": p("Module path.")},
        const("3 failed: test_parse_bool, test_parse_none, test_parse_list"),
    )
    summarizer = ScriptedModel(
        "gpt-4o-mini",
        [
            say(
                "The user wants parse() in utils/convert.py to also handle bool, none and list kinds. The file was "
                "read; 3 tests fail (bool, none, list)."
            )
        ],
    )
    fixed = (
        "def parse(kind: str, value: str) -> int | float | bool | list[str] | None:\n"
        "    match kind:\n        case 'int': return int(value)\n        case 'float': return float(value)\n"
        "        case 'bool': return value == 'true'\n        case 'none': return None\n"
        "        case 'list': return value.split(',')\n    return value"
    )
    script = [
        code("Read the file first.", 'print(read_source(path="utils/convert.py"))'),
        code("Run the tests to see what fails.", 'print(run_tests(module="utils/convert.py"))'),
        code("I will rewrite parse() with a match statement.", f"new_source = '''{fixed}'''\nprint(new_source)"),
        code("The rewrite handles all kinds.", "final_answer(new_source)"),
    ]
    agent = CodeAgent(
        tools=[read, tests],
        model=model(rng, script, coder=True),
        step_callbacks=[compact_with_summary(summarizer, after_step=2)],
        max_steps=6,
        verbosity_level=QUIET,
    )
    agent.run(
        "Fix parse() in utils/convert.py so the failing tests pass. Only use Python 3.8 syntax: "
        "the service still runs on 3.8."
    )


@session(
    "context_length_exceeded",
    ["context_rot"],
    "off",
    "research-assistant",
    "the agent reads three long 10-K sections (~46k tokens each) in full; the 4th model call exceeds the 128k window "
    "(context_length_exceeded), the run fails with AgentGenerationError (run span never exported): context_rot",
)
def context_length_exceeded(rng: random.Random, tracer: Any) -> None:
    words = ["revenue", "segment", "margin", "guidance", "liquidity", "impairment", "lease", "risk", "tax"]
    filler_rng = random.Random(7)

    def section(args: dict[str, Any]) -> str:
        return f"{args['company']} 10-K {args['item']}: " + " ".join(filler_rng.choice(words) for _ in range(24_000))

    read = make_tool(
        pick(rng, "read_filing_section", "fetch_10k_section"),
        "Returns the full text of one item of a company's latest 10-K filing.",
        {"company": p("Ticker."), "item": p("Item, e.g. 'Item 7'.")},
        section,
    )
    items = ["Item 1", "Item 1A", "Item 7", "Item 8", "Item 7A"]
    script = [call(read.name, company="ACME", item=item) for item in items]
    script.append(call("final_answer", answer="unused"))
    agent = ToolCallingAgent(
        tools=[read], model=model(rng, script), name="filing_analyst", max_steps=10, verbosity_level=QUIET
    )
    try:
        agent.run("Summarize ACME's main risk factors and how they relate to the MD&A liquidity discussion.")
    except AgentGenerationError:
        pass  # the harness logs and returns an error to the user


@session(
    "multiturn_reask_after_reset",
    ["context_rot"],
    "on",
    "support-chat",
    "3-turn chat, each turn a run() with smolagents' default reset=True; in turn 2 the agent has lost turn 1 and "
    "asks again for the order number and email the user already gave: context_rot",
)
def multiturn_reask_after_reset(rng: random.Random, tracer: Any) -> None:
    order = f"A-{rng.randint(7000, 7999)}"
    lookup = make_tool(
        "lookup_order",
        "Returns an order by id and the email on the account.",
        {"order_id": p("Order id."), "email": p("Account email.")},
        const(f"{order}: blender BX-2, delivered 2026-12-01, status delivered"),
    )
    replace = make_tool(
        "create_replacement",
        "Creates a replacement shipment for a damaged item.",
        {"order_id": p("Order id.")},
        const(f"replacement R-{order} created, ships within 2 days to the default address"),
    )
    address = make_tool(
        "update_shipping_address",
        "Changes the shipping address of a pending shipment.",
        {"order_id": p("Order id."), "address": p("New address.")},
        const(f"R-{order}: address updated to 22 Rue des Arts, 69002 Lyon"),
    )
    email = "jo.martin@example.org"
    script = [
        call("lookup_order", order_id=order, email=email),
        call("create_replacement", order_id=order),
        call("final_answer", answer=f"Sorry about that! Replacement R-{order} ships within 2 days."),
        call("final_answer", answer="Sure! Could you give me your order number and the email on your account?"),
        call("update_shipping_address", order_id=f"R-{order}", address="22 Rue des Arts, 69002 Lyon"),
        call("final_answer", answer="Done, the replacement will go to 22 Rue des Arts, Lyon."),
    ]
    agent = ToolCallingAgent(
        tools=[lookup, replace, address], model=model(rng, script), name="support_agent", verbosity_level=QUIET
    )
    turns = [
        f"Hi, my order {order} (email {email}) arrived with a cracked jar. Can I get a replacement?",
        "Thanks. Please send the replacement to my office instead: 22 Rue des Arts, 69002 Lyon.",
        f"I already told you: {order}, {email}.",
    ]
    for n, turn in enumerate(turns, 1):
        with tracer.start_as_current_span("POST /v1/chat", attributes={"http.request.method": "POST", "turn": n}):
            agent.run(turn)  # reset=True, smolagents' default


# ================================================================ failed_handoff positives


@session(
    "subagent_raises_caller_redoes",
    ["failed_handoff"],
    "on",
    "support-kb",
    "the managed kb researcher's model call fails (provider 503) so the delegation raises into the manager's "
    "code; the manager then searches the knowledge base itself: failed_handoff (target raised, caller redid it)",
)
def subagent_raises_caller_redoes(rng: random.Random, tracer: Any) -> None:
    kb = make_tool(
        "search_kb",
        "Searches the internal help-center knowledge base.",
        {"query": p("Search query.")},
        const("KB-311 'Exporting invoices': Settings > Billing > Export, CSV or PDF, last 24 months."),
    )
    researcher = ToolCallingAgent(
        tools=[
            make_tool(
                "search_kb",
                "Searches the internal help-center knowledge base.",
                {"query": p("Search query.")},
                const("unused"),
            )
        ],
        model=model(
            rng,
            [
                fail(
                    ProviderError(
                        "Error code: 503 - {'error': {'message': 'The server is overloaded "
                        "or not ready yet.', 'type': 'server_error'}}"
                    )
                )
            ],
        ),
        name=pick(rng, "kb_researcher", "docs_agent"),
        description="Finds answers in the help-center knowledge base.",
        max_steps=4,
        verbosity_level=QUIET,
    )
    script = [
        code(
            "I will ask the knowledge-base researcher.",
            f'answer = {researcher.name}(task="How can a customer export all invoices?")\nprint(answer)',
        ),
        code(
            "The researcher failed; I will search the knowledge base myself.",
            'print(search_kb(query="export all invoices"))',
        ),
        code("Found it.", 'final_answer("Go to Settings > Billing > Export and pick CSV or PDF (last 24 months).")'),
    ]
    manager = CodeAgent(
        tools=[kb],
        model=model(rng, script, coder=True),
        managed_agents=[researcher],
        max_steps=5,
        verbosity_level=QUIET,
    )
    manager.run("How do I export all my invoices at once?")


@session(
    "subagent_output_lost",
    ["failed_handoff"],
    "on",
    "analytics-supervisor",
    "the managed analyst completes and returns its report, but the manager's code indexes the report string like "
    "a dict, the step fails and the result never reaches the manager's model, which answers without it: "
    "failed_handoff",
)
def subagent_output_lost(rng: random.Random, tracer: Any) -> None:
    warehouse = make_tool(
        "query_warehouse",
        "Runs a read-only SQL query on the analytics warehouse.",
        {"sql": p("SQL.")},
        const("plan,churn_rate\nfree,0.081\npro,0.032\nteam,0.019"),
    )
    analyst = ToolCallingAgent(
        tools=[warehouse],
        model=model(
            rng,
            [
                call("query_warehouse", sql="SELECT plan, churn_rate FROM churn_q3 ORDER BY plan"),
                call("final_answer", answer="Q3 churn by plan: free 8.1%, pro 3.2%, team 1.9%."),
            ],
        ),
        name=pick(rng, "data_analyst", "sql_analyst"),
        description="Answers questions with SQL over the analytics warehouse.",
        max_steps=4,
        verbosity_level=QUIET,
    )
    script = [
        code(
            "I will delegate the churn computation to the analyst and read its table.",
            f'result = {analyst.name}(task="Compute Q3 churn rate by plan.")\n'
            'churn = result["churn_by_plan"]\nprint(churn)',
        ),
        code(
            "The analysis did not come back; I will answer with what I know.",
            'final_answer("I could not retrieve the Q3 churn breakdown by plan right now.")',
        ),
    ]
    manager = CodeAgent(
        tools=[], model=model(rng, script, coder=True), managed_agents=[analyst], max_steps=4, verbosity_level=QUIET
    )
    manager.run("What was Q3 churn by plan?")


@session(
    "delegate_to_unknown_agent",
    ["failed_handoff"],
    "on",
    "support-triage",
    "the triage agent calls 'billing_specialist', which is not one of its managed agents (billing_agent is): "
    "'Unknown tool' error, the sub-agent never starts, yet the agent tells the user it was forwarded: "
    "failed_handoff",
)
def delegate_to_unknown_agent(rng: random.Random, tracer: Any) -> None:
    billing = ToolCallingAgent(
        tools=[
            make_tool(
                "issue_credit",
                "Issues an account credit.",
                {"customer_id": p("Customer."), "amount": p("EUR.", "number")},
                const("unused"),
            )
        ],
        model=model(rng, [say("unused")]),
        name="billing_agent",
        description="Handles refunds, credits and invoice disputes.",
        max_steps=4,
        verbosity_level=QUIET,
    )
    script = [
        call("billing_specialist", task="Customer cus_4410 disputes a 49 EUR charge from 2026-11-28; issue a credit."),
        call("final_answer", answer="I've forwarded your dispute to our billing specialist; you'll hear back soon."),
    ]
    triage = ToolCallingAgent(
        tools=[],
        model=model(rng, script),
        managed_agents=[billing],
        name="triage_agent",
        max_steps=5,
        verbosity_level=QUIET,
    )
    triage.run("I was charged 49 EUR on 28 Nov for a plan I cancelled. Customer id cus_4410.")


# ================================================================ negatives (twins)


@session(
    "reworded_search_new_info",
    [],
    "on",
    "research-assistant",
    "three re-worded searches, each returns new facts (regulation, article, percentages), then a cited answer: "
    "healthy twin of reworded_search_until_limit",
)
def reworded_search_new_info(rng: random.Random, tracer: Any) -> None:
    search = make_tool(
        pick(rng, "web_search", "search_web"),
        "Searches the web and returns the top results.",
        {"query": p("The search query.")},
        seq(
            "Regulation (EU) 2023/1542 sets recycled-content targets for EV batteries.",
            "Article 8(2): from 2031, 16% cobalt, 85% lead, 6% lithium, 6% nickel recycled content.",
            "Article 8(3): from 2036 the cobalt share rises to 26%; 2027 only requires documentation.",
        ),
    )
    script = [
        call(search.name, query="EU battery regulation recycled cobalt"),
        call(search.name, query="Regulation 2023/1542 Article 8 recycled content percentages"),
        call(search.name, query="Article 8 recycled cobalt 2027 2036 timeline"),
        call(
            "final_answer",
            answer="No 2027 quota: Reg. (EU) 2023/1542 Art. 8 requires 16% recycled cobalt from "
            "2031 and 26% from 2036; before that only documentation is required.",
        ),
    ]
    agent = ToolCallingAgent(
        tools=[search], model=model(rng, script), name="policy_researcher", max_steps=6, verbosity_level=QUIET
    )
    agent.run("What minimum share of recycled cobalt does the EU require in EV batteries from 2027? Cite the article.")


@session(
    "multiturn_new_question_each_turn",
    [],
    "off",
    "travel-assistant",
    "3-turn chat with reset=False (memory kept); each turn asks the weather of a new city and the agent calls "
    "the weather tool once per turn: healthy twin of multiturn_reask_after_reset",
)
def multiturn_new_question_each_turn(rng: random.Random, tracer: Any) -> None:
    weather = make_tool(
        "get_forecast",
        "Returns tomorrow's forecast for a city.",
        {"city": p("City.")},
        seq("Oslo: -3C, light snow", "Bergen: 4C, rain all day", "Tromso: -8C, clear, aurora likely"),
    )
    script = [
        call("get_forecast", city="Oslo"),
        call("final_answer", answer="Oslo tomorrow: -3C with light snow."),
        call("get_forecast", city="Bergen"),
        call("final_answer", answer="Bergen: 4C and rain all day, warmer than Oslo but wet."),
        call("get_forecast", city="Tromso"),
        call("final_answer", answer="Tromso: -8C and clear; good aurora chances."),
    ]
    agent = ToolCallingAgent(tools=[weather], model=model(rng, script), name="trip_helper", verbosity_level=QUIET)
    for n, turn in enumerate(["Weather in Oslo tomorrow?", "And Bergen?", "What about Tromso, aurora chances?"], 1):
        with tracer.start_as_current_span("POST /v1/chat", attributes={"http.request.method": "POST", "turn": n}):
            agent.run(turn, reset=n == 1)


@session(
    "parallel_calls_distinct_args",
    [],
    "on",
    "travel-assistant",
    "one model reply makes three parallel get_fare calls for three different routes, then compares them: "
    "healthy (same tool, different arguments, parallel)",
)
def parallel_calls_distinct_args(rng: random.Random, tracer: Any) -> None:
    fares = {"LHR": "LHR: 212 EUR return", "AMS": "AMS: 148 EUR return", "MAD": "MAD: 131 EUR return"}
    fare = make_tool(
        "get_fare",
        "Returns the cheapest return fare from Berlin (BER) to an airport for a weekend.",
        {"destination": p("IATA code."), "weekend": p("YYYY-MM-DD of the Saturday.")},
        lambda a: fares[a["destination"]],
    )
    script = [
        parallel(*[("get_fare", {"destination": d, "weekend": "2027-01-16"}) for d in fares]),
        call("final_answer", answer="Cheapest is Madrid at 131 EUR return, then Amsterdam 148 EUR, London 212 EUR."),
    ]
    agent = ToolCallingAgent(tools=[fare], model=model(rng, script), max_steps=4, verbosity_level=QUIET)
    agent.run("From Berlin, which is cheapest for the weekend of 16 Jan: London, Amsterdam or Madrid?")


@session(
    "poll_finishes",
    [],
    "on",
    "data-analysis",
    "CodeAgent polls an export job three times (QUEUED, RUNNING, DONE) with the same argument, then downloads "
    "and answers: healthy twin of the polling loops",
)
def poll_finishes(rng: random.Random, tracer: Any) -> None:
    job = f"exp-{rng.randint(100, 999)}"
    status = make_tool(
        "export_status",
        "Returns the status of a data export job.",
        {"job_id": p("Job id.")},
        seq(f"{job}: QUEUED", f"{job}: RUNNING 60%", f"{job}: DONE, 18,204 rows"),
    )
    download = make_tool(
        "download_export",
        "Returns summary statistics of a finished export.",
        {"job_id": p("Job id.")},
        const("18,204 rows; mean basket 42.10 EUR; median 31.00 EUR"),
    )
    script = [
        code("I will check the export job.", f'print(export_status(job_id="{job}"))'),
        code("Queued; check again.", f'print(export_status(job_id="{job}"))'),
        code("Running; check again.", f'print(export_status(job_id="{job}"))'),
        code("Done; fetch the stats.", f'print(download_export(job_id="{job}"))'),
        code("I have the numbers.", 'final_answer("Mean basket 42.10 EUR (median 31.00 EUR) over 18,204 orders.")'),
    ]
    agent = CodeAgent(
        tools=[status, download], model=model(rng, script, coder=True), max_steps=8, verbosity_level=QUIET
    )
    agent.run(f"Export job {job} is computing November baskets; give me the mean basket value when it is done.")


@session(
    "error_retried_once_recovers",
    [],
    "on",
    "support-chat",
    "create_ticket fails once with a validation error (bad priority), the agent fixes the argument and succeeds: "
    "healthy (one error, recovered)",
)
def error_retried_once_recovers(rng: random.Random, tracer: Any) -> None:
    ticket = make_tool(
        "create_ticket",
        "Opens a support ticket.",
        {"title": p("Title."), "priority": p("low | normal | high.")},
        seq(
            ValueError("ValidationError: priority must be one of low|normal|high, got 'urgent'"),
            "ticket T-90412 created (high)",
        ),
    )
    script = [
        call("create_ticket", title="Checkout returns 502 for EU customers", priority="urgent"),
        call("create_ticket", title="Checkout returns 502 for EU customers", priority="high"),
        call("final_answer", answer="Opened ticket T-90412 with high priority."),
    ]
    agent = ToolCallingAgent(
        tools=[ticket],
        model=model(rng, script),
        name=pick(rng, "helpdesk", "ops_triage"),
        max_steps=5,
        verbosity_level=QUIET,
    )
    agent.run("Open an urgent ticket: checkout returns 502 for EU customers.")


@session(
    "compaction_keeps_constraint",
    [],
    "on",
    "travel-assistant",
    "a summarizing step callback compacts memory after step 2 and the summary keeps 'total budget under $500'; "
    "the agent books the $420 hotel: healthy twin of trimmed_history_drops_budget",
)
def compaction_keeps_constraint(rng: random.Random, tracer: Any) -> None:
    hotels = make_tool(
        "search_hotels",
        "Searches hotels with availability; returns name and total price.",
        {"city": p("City."), "check_in": p("YYYY-MM-DD."), "check_out": p("YYYY-MM-DD.")},
        const("Lisbon, 3 nights: Casa do Largo $420 total (3.9*), Hotel Mundial $510 total, Memmo Palace $780"),
    )
    reviews = make_tool(
        "get_reviews",
        "Returns a review digest for a hotel.",
        {"hotel": p("Hotel name.")},
        const("Casa do Largo: clean, quiet back rooms available on request."),
    )
    book = make_tool(
        "book_hotel",
        "Books a hotel for the given dates with the card on file.",
        {"hotel": p("Hotel name."), "check_in": p("YYYY-MM-DD."), "check_out": p("YYYY-MM-DD.")},
        const("Confirmed: Casa do Largo, 2027-03-12 to 2027-03-15, $420 charged, ref HX-55177"),
    )
    summarizer = ScriptedModel(
        "gpt-4o-mini",
        [
            say(
                "User wants a quiet hotel in Lisbon, 12-15 March 2027, TOTAL BUDGET UNDER $500 (hard limit). "
                "Only Casa do Largo ($420) fits; reviews say quiet back rooms exist."
            )
        ],
    )
    dates = {"check_in": "2027-03-12", "check_out": "2027-03-15"}
    script = [
        call("search_hotels", city="Lisbon", **dates),
        call("get_reviews", hotel="Casa do Largo"),
        call("book_hotel", hotel="Casa do Largo", **dates),
        call("final_answer", answer="Booked Casa do Largo, 12-15 March, $420 total (quiet back room), ref HX-55177."),
    ]
    agent = ToolCallingAgent(
        tools=[hotels, reviews, book],
        model=model(rng, script),
        step_callbacks=[compact_with_summary(summarizer, after_step=2)],
        max_steps=8,
        verbosity_level=QUIET,
    )
    agent.run("Book me a quiet hotel in Lisbon from 12 to 15 March 2027. Total budget under $500, hard limit.")


@session(
    "planning_healthy",
    [],
    "on",
    "data-analysis",
    "ToolCallingAgent with planning_interval=2: initial plan and a plan update (own system prompts), three "
    "distinct queries, a final answer: healthy",
)
def planning_healthy(rng: random.Random, tracer: Any) -> None:
    sql = make_tool(
        "run_sql",
        "Runs a read-only SQL query on the sales database.",
        {"query": p("SQL.")},
        seq("orders_2026_11: 41,220 rows", "top region: DACH 38%", "refund rate: 2.4% (down from 3.1%)"),
    )
    script = [
        say(
            "## 1. Facts survey\nNeed November orders, region split, refunds.\n## 2. Plan\n1. Count orders.\n"
            "2. Region split.\n3. Refund rate.\n4. Answer.\n<end_plan>"
        ),
        call("run_sql", query="SELECT count(*) FROM orders WHERE month='2026-11'"),
        call("run_sql", query="SELECT region, share FROM region_split WHERE month='2026-11' ORDER BY share DESC"),
        say(
            "## 1. Updated facts survey\nOrders 41,220; DACH leads.\n## 2. Plan\n1. Refund rate.\n2. Answer.\n"
            "<end_plan>"
        ),
        call("run_sql", query="SELECT refund_rate, prev_refund_rate FROM refunds WHERE month='2026-11'"),
        call("final_answer", answer="November: 41,220 orders, DACH 38% of them, refund rate 2.4% (from 3.1%)."),
    ]
    agent = ToolCallingAgent(
        tools=[sql],
        model=model(rng, script),
        planning_interval=2,
        max_steps=6,
        name="sales_analyst",
        verbosity_level=QUIET,
    )
    agent.run("Give me a short November sales recap: orders, top region, refund trend.")


@session(
    "managed_healthy_with_history",
    [],
    "on",
    "support-supervisor",
    "supervisor passes the customer's earlier messages in the task to a managed CodeAgent (its own system prompt, "
    "provide_run_summary=True), which computes the prorated refund and reports back; supervisor answers: healthy",
)
def managed_healthy_with_history(rng: random.Random, tracer: Any) -> None:
    plan = make_tool(
        "get_subscription",
        "Returns a customer's subscription.",
        {"customer_id": p("Customer.")},
        const("cus_1209: Pro monthly 30 EUR, renewed 2026-12-01, cancelled 2026-12-11"),
    )
    calculator = CodeAgent(
        tools=[plan],
        model=model(
            rng,
            [
                code("Get the subscription.", 'print(get_subscription(customer_id="cus_1209"))'),
                code("20 of 30 days unused: 30 * 20 / 30 = 20.", 'final_answer("Prorated refund: 20.00 EUR")'),
            ],
            coder=True,
        ),
        name=pick(rng, "refund_calculator", "proration_agent"),
        description="Computes prorated refunds from subscription data.",
        provide_run_summary=True,
        max_steps=4,
        verbosity_level=QUIET,
    )
    history = (
        "Conversation so far:\nuser: I cancelled Pro on 11 Dec, renewed 1 Dec.\nassistant: Let me check.\n"
        "user: Customer id cus_1209. I want the unused days back."
    )
    script = [
        call(calculator.name, task=f"{history}\n\nCompute the prorated refund for cus_1209."),
        call("final_answer", answer="You'll get 20.00 EUR back for the 20 unused days."),
    ]
    supervisor = ToolCallingAgent(
        tools=[],
        model=model(rng, script),
        managed_agents=[calculator],
        name="support_supervisor",
        max_steps=4,
        verbosity_level=QUIET,
    )
    supervisor.run("Customer cus_1209 wants the unused days of December refunded. How much?")


@session(
    "long_healthy_many_attributes",
    [],
    "redacted",
    "platform-ops",
    "healthy certificate audit: lists 36 hosts, checks all of them in one fan-out of 36 parallel calls (distinct "
    "hosts), looks at two renewal jobs, answers; the fan-out LLM span has more than 128 attributes (SDK drops the "
    "excess); message text redacted (hide_input_text/hide_output_text)",
)
def long_healthy_many_attributes(rng: random.Random, tracer: Any) -> None:
    services = [
        "api",
        "auth",
        "billing",
        "cdn",
        "docs",
        "grafana",
        "kafka",
        "ldap",
        "mail",
        "metrics",
        "pay",
        "search",
        "sso",
        "status",
        "store",
        "vault",
        "vpn",
        "git",
    ]
    hosts = [f"{svc}.{region}.acme.io" for region in ("eu", "us") for svc in services]

    def days(host: str) -> int:
        return 17 + (sum(map(ord, host)) * 7) % 300

    soonest = sorted(hosts, key=days)[:2]
    listing = make_tool(
        "list_public_hosts",
        "Lists the public hostnames of an environment.",
        {"environment": p("prod | staging.")},
        const(", ".join(hosts)),
    )
    check = make_tool(
        "check_certificate",
        "Returns TLS certificate issuer and days to expiry for a host.",
        {"host": p("Hostname.")},
        lambda a: f"{a['host']}: Let's Encrypt R11, expires in {days(a['host'])} days",
    )
    renewal = make_tool(
        "get_renewal_job",
        "Returns the cert-manager renewal job state for a host.",
        {"host": p("Hostname.")},
        lambda a: f"{a['host']}: renewal scheduled, auto-renew at 30 days",
    )
    script = [
        call("list_public_hosts", environment="prod"),
        parallel(*[("check_certificate", {"host": h}) for h in hosts]),
        call("get_renewal_job", host=soonest[0]),
        call("get_renewal_job", host=soonest[1]),
        call(
            "final_answer",
            answer=f"None of the {len(hosts)} certificates expires within 14 days; the two "
            f"soonest ({soonest[0]}, {soonest[1]}) have renewals scheduled.",
        ),
    ]
    agent = ToolCallingAgent(
        tools=[listing, check, renewal],
        model=model(rng, script),
        name="cert_auditor",
        max_steps=12,
        verbosity_level=QUIET,
    )
    agent.run("Audit the TLS certificates of all public prod hosts and tell me which expire within 14 days.")


@session(
    "finishes_on_last_step_content_off",
    [],
    "off",
    "ecommerce-assistant",
    "CodeAgent checks an order twice (processing, then shipped) and answers on step 3 of max_steps=3: healthy twin "
    "of a max_steps loop, content capture off",
)
def finishes_on_last_step_content_off(rng: random.Random, tracer: Any) -> None:
    order = f"B-{rng.randint(1000, 9999)}"
    status = make_tool(
        "check_order_status",
        "Returns the fulfilment status of an order.",
        {"order_id": p("Id.")},
        seq(f"order {order}: processing", f"order {order}: shipped, DHL 00340434161094"),
    )
    script = [
        code("Check the order.", f'print(check_order_status(order_id="{order}"))'),
        code("Processing; check once more.", f'print(check_order_status(order_id="{order}"))'),
        code("Shipped.", f'final_answer("Order {order} has shipped with DHL, tracking 00340434161094.")'),
    ]
    agent = CodeAgent(tools=[status], model=model(rng, script, coder=True), max_steps=3, verbosity_level=QUIET)
    agent.run(f"Has order {order} shipped yet?")


# ---------------------------------------------------------------- driver

CONFIGS = {
    "on": TraceConfig(),
    "off": TraceConfig(hide_inputs=True, hide_outputs=True),
    "redacted": TraceConfig(hide_input_text=True, hide_output_text=True),
}
BASE_NS = 1_764_000_000_000_000_000  # 2025-11-24T16:00:00Z


def run(s: Session) -> Path:
    exporter = InMemorySpanExporter()
    resource = Resource.create({"service.name": s.service, "deployment.environment.name": "production"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # Exported like smolagents' own models, so that the instrumentor wraps its generate().
    setattr(smolagents, "ScriptedModel", ScriptedModel)  # noqa: B010
    instrumentor = SmolagentsInstrumentor()
    instrumentor.instrument(tracer_provider=provider, config=CONFIGS[s.content])
    rng = random.Random(f"smolagents-corpus/{s.shape}")
    try:
        with simulated_clock(BASE_NS + s.index * 5_400 * 10**9), using_session(s.session_id):
            s.fn(rng, provider.get_tracer("app.harness"))
    finally:
        instrumentor.uninstrument()
    provider.shutdown()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"smolagents_{s.shape}.json"
    document = _capture_kit().to_otlp_json(exporter)
    path.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n")
    spans = exporter.get_finished_spans()
    dropped = max((sp.dropped_attributes for sp in spans), default=0)
    print(f"{path.name}: {len(spans)} spans, {path.stat().st_size // 1024} KB, max dropped attrs {dropped}")
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
