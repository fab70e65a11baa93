"""Captures what smolagents emits under OpenInference, offline, with a scripted model.

Install (Python 3.11), in a venv of its own next to stepseven (exact versions of the captures):

    pip install "smolagents==1.26.0" "openinference-instrumentation-smolagents==0.1.43" \
        "openinference-instrumentation==0.1.72" "openinference-semantic-conventions==0.1.42" \
        "opentelemetry-sdk==1.45.2" "opentelemetry-exporter-otlp-proto-http==1.45.2"

Run:

    python sample_traces/frameworks/smolagents/capture_smolagents.py [SCENARIO ...]   # all four by default

Each scenario writes ``smolagents_<scenario>.json`` next to this script: one OTLP/JSON
ExportTraceServiceRequest (hex ids), as an OTLP/HTTP exporter would send it. ``capture_kit`` (to_otlp_json,
SimulatedClock) is imported from ``sample_traces/`` two levels up (or from ``$CAPTURE_KIT_DIR``).

How it is run is how users run it: ``SmolagentsInstrumentor().instrument(tracer_provider=...)`` with its
defaults (OpenInference records message content by default), ``using_session(...)`` for a fixed
``session.id``, agents with default settings except ``max_steps`` and ``verbosity_level``.

The model is a ``smolagents.Model`` subclass answering from a script (code blobs for CodeAgent, tool calls
for ToolCallingAgent), with fixed token usage per call. The instrumentor only wraps ``generate`` on the
Model classes exported by the ``smolagents`` package at ``instrument()`` time (OpenAIModel, LiteLLMModel...);
a user's own subclass defined elsewhere gets no LLM span at all. To stand in for a provider model the
scripted class is therefore exported as ``smolagents.ScriptedModel`` before instrumenting, so its calls
get the same ``ScriptedModel.generate`` LLM span a built-in model would. Nothing leaves the machine.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import smolagents
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from smolagents import CodeAgent, Model, ToolCallingAgent, tool
from smolagents.models import ChatMessage, ChatMessageToolCall, ChatMessageToolCallFunction, MessageRole
from smolagents.monitoring import LogLevel, TokenUsage

HERE = Path(__file__).resolve().parent


def _capture_kit() -> ModuleType:
    """The team's capture_kit (to_otlp_json, simulated_clock), from sample_traces/ or $CAPTURE_KIT_DIR."""
    kit_dir = os.environ.get("CAPTURE_KIT_DIR", str(HERE.parents[1]))
    if kit_dir not in sys.path:
        sys.path.insert(0, kit_dir)
    return importlib.import_module("capture_kit")


SERVICE = "smolagents-capture"
LLM_SECONDS = 2.0  # simulated duration of one model call
TOOL_SECONDS = 0.5  # simulated duration of one tool call


@dataclass(frozen=True)
class Reply:
    """One scripted model answer: text (a code blob, or prose) or one tool call, with its usage."""

    input_tokens: int
    output_tokens: int
    text: str | None = None
    call: tuple[str, dict[str, Any]] | None = None


@dataclass
class Ledger:
    """What really happened, for TRUTH.md: every model call with its tokens, every tool call."""

    llm_calls: list[tuple[str, int, int]] = field(default_factory=list)
    tool_calls: list[tuple[str, str, str]] = field(default_factory=list)

    def report(self) -> str:
        lines = [f"  llm {model}: in={i} out={o}" for model, i, o in self.llm_calls]
        total_in = sum(i for _, i, _ in self.llm_calls)
        total_out = sum(o for _, _, o in self.llm_calls)
        lines.append(f"  total: {len(self.llm_calls)} llm calls, in={total_in} out={total_out}")
        lines += [f"  tool {name}({args}) -> {result}" for name, args, result in self.tool_calls]
        return "\n".join(lines)


LEDGER = Ledger()
CLOCK: Any = None  # capture_kit.SimulatedClock while a scenario runs


def _advance(seconds: float) -> None:
    if CLOCK is not None:
        CLOCK.advance(seconds)


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
        _advance(LLM_SECONDS)
        LEDGER.llm_calls.append((str(self.model_id), reply.input_tokens, reply.output_tokens))
        usage = TokenUsage(input_tokens=reply.input_tokens, output_tokens=reply.output_tokens)
        if reply.call is not None:
            name, arguments = reply.call
            call = ChatMessageToolCall(
                id=f"call_{self.model_id}_{self.turn}",
                type="function",
                # A JSON string, as provider models (OpenAIModel, LiteLLMModel...) return it; the agent parses it.
                function=ChatMessageToolCallFunction(name=name, arguments=json.dumps(arguments)),
            )
            return ChatMessage(role=MessageRole.ASSISTANT, content=None, tool_calls=[call], token_usage=usage)
        return ChatMessage(role=MessageRole.ASSISTANT, content=reply.text, token_usage=usage)


def code(body: str, thought: str, input_tokens: int, output_tokens: int) -> Reply:
    """A CodeAgent answer: a thought, then the code between the default <code> tags."""
    return Reply(input_tokens, output_tokens, text=f"Thought: {thought}\n<code>\n{body}\n</code>")


def _log_tool(name: str, args: str, result: str) -> str:
    _advance(TOOL_SECONDS)
    LEDGER.tool_calls.append((name, args, result))
    return result


# ---------------------------------------------------------------- tools


@tool  # type: ignore[untyped-decorator]
def lookup_population(city: str) -> str:
    """Looks up the latest census population of a city.

    Args:
        city: The city name, e.g. "Paris".
    """
    return _log_tool("lookup_population", city, f"{city}: 2,102,650 inhabitants (INSEE census, 1 Jan 2023)")


@tool  # type: ignore[untyped-decorator]
def get_exchange_rate(currency: str) -> float:
    """Returns how many units of `currency` one US dollar buys.

    Args:
        currency: An ISO 4217 code such as "EUR".
    """
    if currency != "EUR":
        _log_tool("get_exchange_rate", currency, f"ValueError: unknown currency code {currency!r}")
        raise ValueError(f"unknown currency code {currency!r}")
    _log_tool("get_exchange_rate", currency, "0.92")
    return 0.92


@tool  # type: ignore[untyped-decorator]
def check_order_status(order_id: str) -> str:
    """Returns the fulfilment status of an order.

    Args:
        order_id: The order id, e.g. "A-1001".
    """
    return _log_tool("check_order_status", order_id, f"order {order_id}: processing")


@tool  # type: ignore[untyped-decorator]
def search_flights(origin: str, destination: str, date: str) -> str:
    """Searches direct flights.

    Args:
        origin: IATA code of the departure airport.
        destination: IATA code of the arrival airport.
        date: Departure date, YYYY-MM-DD.
    """
    return _log_tool("search_flights", f"{origin}-{destination} {date}", f"no flights found {origin}->{destination}")


# ---------------------------------------------------------------- scenarios

Scenario = Callable[[], None]
SCENARIOS: dict[str, tuple[str, Scenario]] = {}


def scenario(name: str, session_id: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        SCENARIOS[name] = (session_id, fn)
        return fn

    return register


@scenario("managed_healthy", "smolagents-managed-healthy-001")
def managed_healthy() -> None:
    """A manager CodeAgent delegates to a managed ToolCallingAgent, which answers; the manager answers."""
    researcher = ToolCallingAgent(
        tools=[lookup_population],
        model=ScriptedModel(
            "fake-researcher-model",
            [
                Reply(610, 22, call=("lookup_population", {"city": "Paris"})),
                Reply(720, 31, call=("final_answer", {"answer": "Paris has 2,102,650 inhabitants (INSEE, 2023)."})),
            ],
        ),
        name="web_researcher",
        description="Looks up facts such as populations; give it a precise question.",
        max_steps=5,
        verbosity_level=LogLevel.OFF,
    )
    manager = CodeAgent(
        tools=[],
        model=ScriptedModel(
            "fake-manager-model",
            [
                code(
                    'report = web_researcher(task="What is the current population of Paris?")\nprint(report)',
                    "I will ask the web_researcher for the population of Paris.",
                    1510,
                    48,
                ),
                code(
                    'final_answer("Paris has about 2.1 million inhabitants (2,102,650, INSEE 2023).")',
                    "The researcher found the census figure.",
                    1890,
                    41,
                ),
            ],
        ),
        managed_agents=[researcher],
        max_steps=6,
        verbosity_level=LogLevel.OFF,
    )
    manager.run("How many people live in Paris?")


@scenario("code_errors_recover", "smolagents-code-errors-001")
def code_errors_recover() -> None:
    """A CodeAgent: step 1 raises (tool ValueError), step 2 has no code blob (parsing error), steps 3-4 recover."""
    agent = CodeAgent(
        tools=[get_exchange_rate],
        model=ScriptedModel(
            "fake-coder-model",
            [
                code(
                    'rate = get_exchange_rate(currency="EURO")\nprint(100 * rate)',
                    "I will fetch the USD to EUR rate.",
                    1200,
                    40,
                ),
                Reply(1420, 35, text="Thought: The currency code must be EUR. I will convert 100 USD with rate 0.92."),
                code(
                    'rate = get_exchange_rate(currency="EUR")\nprint(100 * rate)',
                    "Retry with the ISO code, inside a code blob.",
                    1650,
                    38,
                ),
                code('final_answer("100 USD is 92.00 EUR.")', "100 * 0.92 = 92.0", 1880, 30),
            ],
        ),
        max_steps=6,
        verbosity_level=LogLevel.OFF,
    )
    agent.run("Convert 100 USD to euros.")


@scenario("max_steps", "smolagents-max-steps-001")
def max_steps() -> None:
    """A CodeAgent polls the same order status until max_steps=3; smolagents then asks the model for a last answer."""
    poll = 'print(check_order_status(order_id="A-1001"))'
    agent = CodeAgent(
        tools=[check_order_status],
        model=ScriptedModel(
            "fake-coder-model",
            [
                code(poll, "I will check the order status.", 1100, 25),
                code(poll, "Still processing, I will check again.", 1300, 27),
                code(poll, "Still processing, I will check again.", 1500, 27),
                # provide_final_answer(): the extra call smolagents makes once max_steps is reached.
                Reply(1650, 33, text="I could not confirm delivery: order A-1001 was still processing after 3 checks."),
            ],
        ),
        max_steps=3,
        verbosity_level=LogLevel.OFF,
    )
    agent.run("Tell me when order A-1001 has shipped.")


@scenario("managed_max_steps", "smolagents-managed-max-steps-001")
def managed_max_steps() -> None:
    """The managed ToolCallingAgent searches flights until its max_steps=2 and gives up; the manager apologises."""
    searcher = ToolCallingAgent(
        tools=[search_flights],
        model=ScriptedModel(
            "fake-searcher-model",
            [
                Reply(640, 30, call=("search_flights", {"origin": "CDG", "destination": "NRT", "date": "2026-12-20"})),
                Reply(760, 30, call=("search_flights", {"origin": "ORY", "destination": "NRT", "date": "2026-12-20"})),
                # provide_final_answer() after max_steps.
                Reply(820, 28, text="I could not find any direct flight from Paris to Tokyo on 2026-12-20."),
            ],
        ),
        name="flight_searcher",
        description="Searches direct flights between two airports on a date.",
        max_steps=2,
        verbosity_level=LogLevel.OFF,
    )
    manager = CodeAgent(
        tools=[],
        model=ScriptedModel(
            "fake-manager-model",
            [
                code(
                    'report = flight_searcher(task="Find a direct flight from Paris to Tokyo on 2026-12-20.")\n'
                    "print(report)",
                    "I will delegate the flight search.",
                    1530,
                    50,
                ),
                code(
                    'final_answer("Sorry, the flight search failed: no direct Paris-Tokyo flight found for 20 Dec.")',
                    "The searcher gave up without a result.",
                    1980,
                    44,
                ),
            ],
        ),
        managed_agents=[searcher],
        max_steps=6,
        verbosity_level=LogLevel.OFF,
    )
    manager.run("Book me a direct flight Paris to Tokyo on 20 December 2026.")


# ---------------------------------------------------------------- driver


@contextmanager
def instrumented(provider: TracerProvider) -> Iterator[None]:
    from openinference.instrumentation.smolagents import SmolagentsInstrumentor

    # Exported like smolagents' own models, so that the instrumentor wraps its generate().
    setattr(smolagents, "ScriptedModel", ScriptedModel)  # noqa: B010
    instrumentor = SmolagentsInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield
    finally:
        instrumentor.uninstrument()


def run(name: str) -> Path:
    global CLOCK
    from openinference.instrumentation import using_session

    session_id, fn = SCENARIOS[name]
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    LEDGER.llm_calls.clear()
    LEDGER.tool_calls.clear()
    kit = _capture_kit()
    with kit.simulated_clock() as clock, instrumented(provider), using_session(session_id):
        CLOCK = clock
        try:
            fn()
        finally:
            CLOCK = None
    provider.shutdown()
    path = HERE / f"smolagents_{name}.json"
    path.write_text(json.dumps(kit.to_otlp_json(exporter), indent=1, ensure_ascii=False) + "\n")
    print(f"{path}: {len(exporter.get_finished_spans())} spans, session {session_id}")
    print(LEDGER.report())
    return path


def main(argv: list[str] | None = None) -> None:
    chosen = (sys.argv[1:] if argv is None else argv) or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}")
    for name in chosen:
        run(name)


if __name__ == "__main__":
    main()
