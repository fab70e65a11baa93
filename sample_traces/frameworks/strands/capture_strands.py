"""Captures what Strands Agents' native OpenTelemetry tracing emits, offline, on a scripted model.

Install (a venv of its own; stepseven is not needed to capture):

    python -m venv .venv-strands
    .venv-strands/bin/pip install "strands-agents==1.62.0" "opentelemetry-sdk==1.45.1" \\
        "opentelemetry-exporter-otlp-proto-http==1.45.1"

Run (from the repository root; ``capture_kit.py`` two folders up provides ``to_otlp_json`` and the simulated clock;
set ``CAPTURE_KIT_DIR`` to the folder holding ``capture_kit.py`` when running this file from elsewhere):

    .venv-strands/bin/python sample_traces/frameworks/strands/capture_strands.py [SCENARIO ...]   # all by default

Each scenario runs in a fresh subprocess (Strands reads ``OTEL_SEMCONV_STABILITY_OPT_IN`` once, when its global
tracer is created, and uses the global tracer provider) and writes ``strands_<scenario>.json`` beside this file:
one OTLP/JSON ExportTraceServiceRequest with hex ids. No network at all: the model is a ``strands.models.Model``
subclass answering from a script, with fixed token counts, so reruns give the same structure (span ids,
``gen_ai.event.start_time`` / ``end_time`` attributes and ``event_loop.cycle_id`` UUIDs differ between runs).
Content capture is on, as it is by default in Strands. The session id is passed the way Strands documents it,
``trace_attributes={"session.id": ...}`` on the top-level agent or swarm only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KIT_DIR = Path(os.environ.get("CAPTURE_KIT_DIR", str(HERE.parents[1])))

# name -> (function, extra environment)
SCENARIOS: dict[str, tuple[Callable[[], None], dict[str, str]]] = {}
LATEST = {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental"}


def scenario(name: str, env: dict[str, str] | None = None) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(fn: Callable[[], None]) -> Callable[[], None]:
        SCENARIOS[name] = (fn, env or {})
        return fn

    return register


# One step of a script: a text answer, or a list of tool calls (name, input, tool_use_id).
Step = str | list[tuple[str, dict[str, Any], str]]
USAGE_LOG: list[dict[str, Any]] = []


def scripted_model(model_id: str, script: list[Step], *, cycle: bool = False, base_tokens: int = 100) -> Any:
    """A Strands Model that streams the script's next step in the Bedrock Converse stream format."""
    from strands.models.model import Model

    class ScriptedModel(Model):
        def __init__(self) -> None:
            self.config: dict[str, Any] = {"model_id": model_id}
            self.calls = 0

        def update_config(self, **model_config: Any) -> None:
            self.config.update(model_config)

        def get_config(self) -> Any:
            return self.config

        def structured_output(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

        async def stream(self, messages: Any, *args: Any, **kwargs: Any) -> AsyncGenerator[Any, None]:
            index = self.calls % len(script) if cycle else min(self.calls, len(script) - 1)
            step = script[index]
            self.calls += 1
            # Deterministic usage: the prompt grows with the conversation, as a real one would.
            input_tokens = base_tokens + 25 * len(messages)
            output_tokens = 12 if isinstance(step, str) else 18 * len(step)
            USAGE_LOG.append({"model": model_id, "call": self.calls, "in": input_tokens, "out": output_tokens})
            yield {"messageStart": {"role": "assistant"}}
            if isinstance(step, str):
                yield {"contentBlockStart": {"start": {}}}
                yield {"contentBlockDelta": {"delta": {"text": step}}}
                yield {"contentBlockStop": {}}
                stop = "end_turn"
            else:
                for name, tool_input, tool_use_id in step:
                    if cycle:  # a real model never reuses a tool-use id
                        tool_use_id = f"{tool_use_id}_{self.calls}"
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


def _weather_tools() -> list[Any]:
    from strands import tool

    failures = {"left": 1}

    @tool
    def get_weather(city: str) -> str:
        """Current weather for a city.

        Args:
            city: The city.
        """
        if failures["left"]:
            failures["left"] -= 1
            raise TimeoutError("weather service timed out after 10s")
        return f"18 C, sunny in {city}"

    @tool
    def convert_temperature(celsius: float) -> str:
        """Converts Celsius to Fahrenheit.

        Args:
            celsius: Degrees Celsius.
        """
        return f"{celsius * 9 / 5 + 32:.1f} F"

    return [get_weather, convert_temperature]


def _single_agent(session_id: str) -> None:
    from strands import Agent

    model = scripted_model(
        "fake-weather-model",
        [
            [("get_weather", {"city": "Paris"}, "call_w1")],
            [("get_weather", {"city": "Paris"}, "call_w2")],
            [("convert_temperature", {"celsius": 18}, "call_c1")],
            "It is 18 C (64.4 F) and sunny in Paris.",
        ],
    )
    agent = Agent(
        name="weather_assistant",
        model=model,
        tools=_weather_tools(),
        system_prompt="You answer weather questions. Retry a tool once if it fails.",
        trace_attributes={"session.id": session_id},
        callback_handler=None,
    )
    agent("What's the weather in Paris, in Fahrenheit too?")


@scenario("single_agent")
def single_agent() -> None:
    _single_agent("strands-single-001")


@scenario("single_agent_latest", LATEST)
def single_agent_latest() -> None:
    _single_agent("strands-single-latest-001")


@scenario("agents_as_tools")
def agents_as_tools() -> None:
    from strands import Agent, tool

    @tool
    def get_weather(city: str) -> str:
        """Current weather for a city.

        Args:
            city: The city.
        """
        return f"18 C, sunny in {city}"

    @tool
    def find_hotels(city: str, max_price: int) -> str:
        """Hotels in a city under a nightly price.

        Args:
            city: The city.
            max_price: Maximum price per night in EUR.
        """
        return f"Hotel Lumiere ({city}, 120 EUR), Hotel Bastille ({city}, 140 EUR)"

    weather = Agent(
        name="weather_agent",
        description="Reports the current weather for a city.",
        model=scripted_model(
            "fake-weather-model",
            [[("get_weather", {"city": "Paris"}, "call_wa1")], "Paris: 18 C and sunny."],
            base_tokens=60,
        ),
        tools=[get_weather],
        system_prompt="You report the weather.",
        callback_handler=None,
    )
    hotels = Agent(
        name="hotel_agent",
        description="Finds hotels in a city within a budget.",
        model=scripted_model(
            "fake-hotel-model",
            [
                [("find_hotels", {"city": "Paris", "max_price": 150}, "call_ha1")],
                "Two hotels under 150 EUR: Hotel Lumiere (120 EUR) and Hotel Bastille (140 EUR).",
            ],
            base_tokens=70,
        ),
        tools=[find_hotels],
        system_prompt="You find hotels.",
        callback_handler=None,
    )
    planner = Agent(
        name="travel_planner",
        model=scripted_model(
            "fake-planner-model",
            [
                [("weather_agent", {"input": "What is the weather in Paris now?"}, "call_p1")],
                [("hotel_agent", {"input": "Find hotels in Paris under 150 EUR per night."}, "call_p2")],
                "Paris is 18 C and sunny; Hotel Lumiere (120 EUR) and Hotel Bastille (140 EUR) fit your budget.",
            ],
            base_tokens=150,
        ),
        tools=[weather, hotels],  # Agent instances are wrapped with Agent.as_tool()
        system_prompt="You plan trips by asking the specialists.",
        trace_attributes={"session.id": "strands-agents-as-tools-001"},
        callback_handler=None,
    )
    planner("Plan a weekend in Paris: weather and a hotel under 150 EUR.")


def _handoff(target: str, message: str, call_id: str) -> list[tuple[str, dict[str, Any], str]]:
    return [("handoff_to_agent", {"agent_name": target, "message": message, "context": {}}, call_id)]


@scenario("swarm_handoff")
def swarm_handoff() -> None:
    _swarm_handoff("strands-swarm-001")


@scenario("swarm_handoff_latest", LATEST)
def swarm_handoff_latest() -> None:
    _swarm_handoff("strands-swarm-latest-001")


def _swarm_handoff(session_id: str) -> None:
    from strands import Agent, tool
    from strands.multiagent import Swarm

    @tool
    def lookup_invoice(invoice_id: str) -> str:
        """Looks up an invoice.

        Args:
            invoice_id: The invoice id.
        """
        return f"{invoice_id}: 49.00 EUR charged twice on 2026-11-30"

    triage = Agent(
        name="triage",
        description="Routes customer requests.",
        model=scripted_model(
            "fake-triage-model",
            [_handoff("billing", "Customer reports a double charge on INV-1001.", "call_t1"), "Handed to billing."],
        ),
        system_prompt="You route requests to billing or refunds.",
        callback_handler=None,
    )
    billing = Agent(
        name="billing",
        description="Checks invoices and charges.",
        model=scripted_model(
            "fake-billing-model",
            [
                [("lookup_invoice", {"invoice_id": "INV-1001"}, "call_b1")],
                _handoff("refunds", "INV-1001 was charged twice (49.00 EUR); refund one charge.", "call_b2"),
                "Handed to refunds.",
            ],
        ),
        tools=[lookup_invoice],
        system_prompt="You check invoices.",
        callback_handler=None,
    )
    refunds = Agent(
        name="refunds",
        description="Issues refunds.",
        model=scripted_model(
            "fake-refunds-model",
            ["Refund of 49.00 EUR for the duplicate charge on INV-1001 issued; it arrives in 3-5 days."],
        ),
        system_prompt="You issue refunds.",
        callback_handler=None,
    )
    swarm = Swarm(
        [triage, billing, refunds],
        entry_point=triage,
        trace_attributes={"session.id": session_id},
    )
    swarm("I was charged twice for invoice INV-1001.")


@scenario("limit_turns")
def limit_turns() -> None:
    from strands import Agent, tool

    @tool
    def search(query: str) -> str:
        """Searches the web.

        Args:
            query: What to search for.
        """
        return "no results"

    agent = Agent(
        name="researcher",
        model=scripted_model(
            "fake-research-model", [[("search", {"query": "strands otel spans"}, "call_s")]], cycle=True
        ),
        tools=[search],
        system_prompt="You research questions with the search tool.",
        trace_attributes={"session.id": "strands-limit-turns-001"},
        callback_handler=None,
    )
    # The scripted model searches for the same thing forever; the per-invocation cap stops it.
    result = agent("Find how Strands names its spans.", limits={"turns": 4})
    print(f"stop_reason={result.stop_reason}", file=sys.stderr)


@scenario("same_tool_other_args")
def same_tool_other_args() -> None:
    """Healthy: one tool called three times in a row, each time for another city (a loop detector must not fire)."""
    from strands import Agent, tool

    @tool
    def get_weather(city: str) -> str:
        """Current weather for a city.

        Args:
            city: The city.
        """
        return {"Paris": "18 C, sunny", "London": "12 C, rain", "Rome": "24 C, clear"}[city]

    agent = Agent(
        name="weather_assistant",
        model=scripted_model(
            "fake-weather-model",
            [
                [("get_weather", {"city": "Paris"}, "call_1")],
                [("get_weather", {"city": "London"}, "call_2")],
                [("get_weather", {"city": "Rome"}, "call_3")],
                "Paris 18 C sunny, London 12 C rain, Rome 24 C clear.",
            ],
        ),
        tools=[get_weather],
        system_prompt="You answer weather questions.",
        trace_attributes={"session.id": "strands-same-tool-other-args-001"},
        callback_handler=None,
    )
    agent("Weather in Paris, London and Rome?")


@scenario("swarm_max_handoffs")
def swarm_max_handoffs() -> None:
    _swarm_max_handoffs("strands-swarm-max-handoffs-001")


@scenario("swarm_max_handoffs_latest", LATEST)
def swarm_max_handoffs_latest() -> None:
    _swarm_max_handoffs("strands-swarm-max-handoffs-latest-001")


def _swarm_max_handoffs(session_id: str) -> None:
    from strands import Agent
    from strands.multiagent import Swarm

    def ping_pong(name: str, other: str) -> Any:
        return Agent(
            name=name,
            description=f"The {name} desk.",
            model=scripted_model(
                f"fake-{name}-model",
                [_handoff(other, f"This is for the {other} desk.", f"call_{name}"), f"Passed to {other}."],
                cycle=True,
            ),
            system_prompt=f"You are the {name} desk.",
            callback_handler=None,
        )

    sales, support = ping_pong("sales", "support"), ping_pong("support", "sales")
    swarm = Swarm(
        [sales, support],
        entry_point=sales,
        max_handoffs=4,
        trace_attributes={"session.id": session_id},
    )
    result = swarm("Is my warranty still valid?")
    print(f"swarm status={result.status}", file=sys.stderr)


def _run_one(name: str) -> None:
    sys.path.insert(0, str(KIT_DIR))
    from capture_kit import simulated_clock, to_otlp_json
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"strands_{name}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # Strands' tracer uses the global provider
    with simulated_clock():
        SCENARIOS[name][0]()
    provider.shutdown()
    path = HERE / f"strands_{name}.json"
    path.write_text(json.dumps(to_otlp_json(exporter), indent=1, ensure_ascii=False) + "\n")
    print(f"{path}: {len(exporter.get_finished_spans())} spans; usage {json.dumps(USAGE_LOG)}")


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        _run_one(argv[1])
        return
    chosen = argv or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}")
    for name in chosen:
        env = {k: v for k, v in os.environ.items() if k != "OTEL_SEMCONV_STABILITY_OPT_IN"}
        env.update(SCENARIOS[name][1])
        env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
        subprocess.run([sys.executable, __file__, "--one", name], env=env, check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
