"""Regenerates the sample traces: real agent frameworks, offline, with their own test models.

Run it in an environment that has the frameworks (they are not stepseven's dependencies):

    python -m venv .venv-capture
    .venv-capture/bin/pip install -e . "pydantic-ai-slim==2.68.0" "openai-agents==0.24.0" \\
        "openinference-instrumentation-openai-agents==2.6.0" "opentelemetry-instrumentation-openai-agents==0.62.4"
    .venv-capture/bin/python sample_traces/capture.py [SCENARIO ...]   # all of them by default

Each scenario writes ``sample_traces/<name>.json`` as one OTLP/JSON ExportTraceServiceRequest (hex ids),
exactly what an OTLP/HTTP exporter would send. Nothing leaves the machine: the models are fakes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import analysis_scenarios  # noqa: F401  (registers the analyzer corpus's scenarios)
from capture_kit import main, openai_agents_fakes, scenario
from capture_kit import pydantic_agent as _pydantic
from opentelemetry.sdk.trace import TracerProvider


@scenario("pydantic_ai_delegation")
def pydantic_ai_delegation(provider: TracerProvider) -> None:
    """A triage agent delegates to a weather agent (agent as tool); a second turn follows."""
    agent_cls = _pydantic(provider)
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    def weather_model(messages: list[Any], info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            return ModelResponse(parts=[ToolCallPart("get_weather", {"city": "Paris"}, tool_call_id="call_w1")])
        return ModelResponse(parts=[TextPart("It is 18°C and sunny in Paris.")])

    weather = agent_cls(
        FunctionModel(weather_model, model_name="fake-weather-model"),
        name="weather_agent",
        instructions="You report the weather.",
    )

    @weather.tool_plain
    def get_weather(city: str) -> str:
        return f"18C sunny in {city}"

    def triage_model(messages: list[Any], info: AgentInfo) -> ModelResponse:
        last = messages[-1].parts[-1]
        if getattr(last, "part_kind", "") == "user-prompt":
            return ModelResponse(
                parts=[
                    ToolCallPart(
                        "ask_weather_agent", {"question": "Weather in Paris?"}, tool_call_id=f"call_t{len(messages)}"
                    )
                ]
            )
        return ModelResponse(parts=[TextPart("The weather agent says: 18°C and sunny in Paris.")])

    triage = agent_cls(
        FunctionModel(triage_model, model_name="fake-triage-model"),
        name="triage_agent",
        instructions="You route questions to the right specialist.",
    )

    @triage.tool_plain
    async def ask_weather_agent(question: str) -> str:
        return str((await weather.run(question)).output)

    first = triage.run_sync("What's the weather in Paris?", conversation_id="session-weather-001")
    triage.run_sync("And tomorrow?", message_history=first.all_messages(), conversation_id="session-weather-001")


@scenario("pydantic_ai_tool_error")
def pydantic_ai_tool_error(provider: TracerProvider) -> None:
    """The delegated agent's tool fails; the error propagates up through both agents."""
    agent_cls = _pydantic(provider)
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    def billing_model(messages: list[Any], info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            return ModelResponse(parts=[ToolCallPart("get_invoice", {"invoice_id": "INV-7"}, tool_call_id="call_b1")])
        return ModelResponse(parts=[TextPart("done")])

    billing = agent_cls(FunctionModel(billing_model, model_name="fake-billing-model"), name="billing_agent")

    @billing.tool_plain
    def get_invoice(invoice_id: str) -> str:
        raise ConnectionError("billing backend unreachable")

    def triage_model(messages: list[Any], info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            return ModelResponse(
                parts=[ToolCallPart("ask_billing_agent", {"question": "Status of INV-7?"}, tool_call_id="call_t1")]
            )
        return ModelResponse(parts=[TextPart("done")])

    triage = agent_cls(FunctionModel(triage_model, model_name="fake-triage-model"), name="triage_agent")

    @triage.tool_plain
    async def ask_billing_agent(question: str) -> str:
        return str((await billing.run(question)).output)

    try:
        triage.run_sync("Where is my invoice INV-7?", conversation_id="session-billing-err-001")
    except ConnectionError:
        pass


@scenario("pydantic_ai_usage_limit")
def pydantic_ai_usage_limit(provider: TracerProvider) -> None:
    """A model that searches again and again until the run's request limit stops it."""
    agent_cls = _pydantic(provider)
    from pydantic_ai import UsageLimitExceeded, UsageLimits
    from pydantic_ai.messages import ModelResponse, ToolCallPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    def looping_model(messages: list[Any], info: AgentInfo) -> ModelResponse:
        n = sum(1 for m in messages if getattr(m, "kind", "") == "response") + 1
        return ModelResponse(
            parts=[
                ToolCallPart("search_flights", {"origin": "CDG", "destination": "JFK"}, tool_call_id=f"call_search_{n}")
            ]
        )

    travel = agent_cls(FunctionModel(looping_model, model_name="fake-travel-model"), name="travel_agent")

    @travel.tool_plain
    def search_flights(origin: str, destination: str) -> str:
        return "no results"

    try:
        travel.run_sync(
            "Find me a flight from Paris to New York",
            conversation_id="session-loop-001",
            usage_limits=UsageLimits(request_limit=4),
        )
    except UsageLimitExceeded:
        pass


@scenario("pydantic_ai_long_session")
def pydantic_ai_long_session(provider: TracerProvider) -> None:
    """Thirty turns of one conversation, each a trace of its own, the history growing every turn."""
    agent_cls = _pydantic(provider)
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    def planner_model(messages: list[Any], info: AgentInfo) -> ModelResponse:
        last = messages[-1].parts[-1]
        if getattr(last, "part_kind", "") == "user-prompt":
            return ModelResponse(
                parts=[
                    ToolCallPart(
                        "lookup_itinerary",
                        {"trip": "TRIP-42", "day": len(messages)},
                        tool_call_id=f"call_{len(messages)}",
                    )
                ]
            )
        return ModelResponse(parts=[TextPart(f"Day plan ready after {len(messages)} messages.")])

    planner = agent_cls(
        FunctionModel(planner_model, model_name="fake-planner-model"),
        name="planner_agent",
        instructions="You plan trips day by day.",
    )

    @planner.tool_plain
    def lookup_itinerary(trip: str, day: int) -> str:
        return f"{trip} day {day}: museum, lunch, walk"

    history: list[Any] = []
    for turn in range(30):
        result = planner.run_sync(
            f"Plan day {turn + 1} of my trip", message_history=history, conversation_id="session-long-001"
        )
        history = result.all_messages()


# -- OpenAI Agents SDK, under OpenInference and under OpenLLMetry --------------------------------------


def _openai_agents_program() -> None:
    """Triage hands off to billing; billing calls a tool that fails once, then answers."""
    from agents import Agent, ModelSettings, RunConfig, Runner, function_tool

    FakeModel, call, say = openai_agents_fakes()

    attempts = {"n": 0}

    @function_tool
    def get_invoice(invoice_id: str) -> str:
        """Look up an invoice."""
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise TimeoutError("billing backend timed out")
        return f"{invoice_id}: paid on 2026-11-02"

    billing = Agent(
        name="billing_agent",
        instructions="You answer billing questions.",
        model=FakeModel(
            [
                call("get_invoice", '{"invoice_id": "INV-7"}', "call_1"),
                call("get_invoice", '{"invoice_id": "INV-7"}', "call_2"),
                say("Invoice INV-7 was paid on 2026-11-02."),
            ]
        ),
        tools=[get_invoice],
        model_settings=ModelSettings(),
    )
    triage = Agent(
        name="triage_agent",
        instructions="You route the customer to the right agent.",
        model=FakeModel([call("transfer_to_billing_agent", "{}", "call_h1")]),
        handoffs=[billing],
    )
    asyncio.run(Runner.run(triage, "Was my invoice INV-7 paid?", run_config=RunConfig(workflow_name="support_flow")))


@scenario("openai_agents_openinference_handoff")
def openai_agents_openinference(provider: TracerProvider) -> None:
    from openinference.instrumentation import using_session
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    instrumentor = OpenAIAgentsInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        with using_session("session-support-oi-001"):
            _openai_agents_program()
    finally:
        instrumentor.uninstrument()


@scenario("openai_agents_openllmetry_handoff")
def openai_agents_openllmetry(provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    instrumentor = OpenAIAgentsInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        _openai_agents_program()
    finally:
        instrumentor.uninstrument()


if __name__ == "__main__":
    main()
