"""Captures what LangGraph emits under OpenInference, offline, with a scripted fake chat model.

Install (Python 3.11; stepseven itself is only needed to replay the captures):

    python3 -m venv .venv
    .venv/bin/pip install "langgraph==1.2.24" "langgraph-prebuilt==1.1.3" "langgraph-checkpoint==4.3.2" \\
        "langchain-core==1.8.3" "langgraph-supervisor==0.0.31" "openinference-instrumentation-langchain==0.1.80" \\
        "openinference-instrumentation==0.1.72" "openinference-semantic-conventions==0.1.42" \\
        "opentelemetry-sdk==1.45.2" "opentelemetry-exporter-otlp-proto-http==1.45.2"

Run (from a stepseven checkout, so that ``sample_traces/capture_kit.py`` is two folders up; or point
``STEPSEVEN_SAMPLE_TRACES`` at a folder holding ``capture_kit.py``):

    .venv/bin/python sample_traces/frameworks/langgraph/capture_langgraph.py [SCENARIO ...]  # all by default

Each scenario writes ``langgraph_<scenario>.json`` next to this file: one OTLP/JSON ExportTraceServiceRequest
(hex ids, compact JSON to keep files small). The model is langchain_core's ``GenericFakeChatModel`` with
``bind_tools`` added, answering from a script of ``AIMessage`` objects (tool calls and usage included); nothing
leaves the machine. OpenInference runs with its defaults (content captured: ``OPENINFERENCE_HIDE_*`` unset).
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.errors import GraphRecursionError
from langgraph.prebuilt import create_react_agent
from langgraph_supervisor import create_supervisor
from openinference.instrumentation.langchain import LangChainInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

HERE = Path(__file__).resolve().parent
sys.path.insert(0, os.environ.get("STEPSEVEN_SAMPLE_TRACES", str(HERE.parents[1])))
from capture_kit import simulated_clock, to_otlp_json  # noqa: E402

SCENARIOS: dict[str, Callable[[], None]] = {}


def scenario(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(fn: Callable[[], None]) -> Callable[[], None]:
        SCENARIOS[name] = fn
        return fn

    return register


class ScriptedChatModel(GenericFakeChatModel):
    """GenericFakeChatModel that accepts tools (ignored: the script decides) and reports a model name."""

    model_name: str = "fake-model"

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> ScriptedChatModel:
        return self

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    @property
    def _llm_type(self) -> str:
        return "scripted-fake-chat"


def usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens}


def call(name: str, args: dict[str, Any], call_id: str, tokens: tuple[int, int]) -> AIMessage:
    return AIMessage(
        content="",
        tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}],
        usage_metadata=usage(*tokens),
    )


def say(text: str, tokens: tuple[int, int]) -> AIMessage:
    return AIMessage(content=text, usage_metadata=usage(*tokens))


def model(name: str, script: Iterator[AIMessage] | list[AIMessage]) -> ScriptedChatModel:
    return ScriptedChatModel(messages=iter(script), model_name=name)


@tool
def web_search(query: str) -> str:
    """Search the web and return the top result."""
    return "FAANG headcount 2024: Meta 67,317; Apple 164,000; Amazon 1,551,000; Netflix 13,000; Google 181,269."


@tool
def broken_web_search(query: str) -> str:
    """Search the web and return the top result (its backend is down)."""
    raise ConnectionError("search backend unreachable: 127.0.0.1:9 connection refused")


@tool
def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return {"Paris": "18C, sunny", "Rome": "24C, clear"}.get(city, "unknown")


def math_agent() -> Any:
    return create_react_agent(
        model(
            "fake-math-model",
            [
                call("add", {"a": 67317, "b": 164000}, "call_math_1", (160, 20)),
                say("Meta and Apple together employ 231,317 people.", (210, 14)),
            ],
        ),
        tools=[add],
        name="math_agent",
        prompt="You are a math expert. Use the add tool.",
    )


def supervisor_app(research: Any, supervisor_script: list[AIMessage]) -> Any:
    workflow = create_supervisor(
        [research, math_agent()],
        model=model("fake-supervisor-model", supervisor_script),
        prompt="You manage a research expert and a math expert. Delegate, then answer.",
    )
    return workflow.compile(checkpointer=InMemorySaver())


QUESTION = "What is the combined 2024 headcount of Meta and Apple?"


@scenario("supervisor_ok")
def supervisor_ok() -> None:
    """Supervisor -> research_agent (web_search) -> back -> math_agent (add) -> back -> final answer."""
    research = create_react_agent(
        model(
            "fake-research-model",
            [
                call("web_search", {"query": "FAANG headcount 2024"}, "call_research_1", (140, 18)),
                say("Meta had 67,317 employees and Apple 164,000 in 2024.", (230, 22)),
            ],
        ),
        tools=[web_search],
        name="research_agent",
        prompt="You are a world class researcher. Use web_search.",
    )
    app = supervisor_app(
        research,
        [
            call("transfer_to_research_agent", {}, "call_sup_1", (120, 12)),
            call("transfer_to_math_agent", {}, "call_sup_2", (250, 12)),
            say("Meta (67,317) and Apple (164,000) together employ 231,317 people.", (380, 25)),
        ],
    )
    config: RunnableConfig = {"configurable": {"thread_id": "lg-supervisor-ok-001"}}
    app.invoke({"messages": [{"role": "user", "content": QUESTION}]}, config)


@scenario("supervisor_tool_error")
def supervisor_tool_error() -> None:
    """Supervisor -> research_agent, whose web_search raises ConnectionError; the whole graph run fails."""
    research = create_react_agent(
        model(
            "fake-research-model",
            [call("broken_web_search", {"query": "FAANG headcount 2024"}, "call_research_1", (140, 18))],
        ),
        tools=[broken_web_search],
        name="research_agent",
        prompt="You are a world class researcher. Use broken_web_search.",
    )
    app = supervisor_app(research, [call("transfer_to_research_agent", {}, "call_sup_1", (120, 12))])
    config: RunnableConfig = {"configurable": {"thread_id": "lg-supervisor-tool-error-001"}}
    try:
        app.invoke({"messages": [{"role": "user", "content": QUESTION}]}, config)
    except ConnectionError as exc:
        print(f"  raised as expected: {type(exc).__name__}: {exc}")
    else:
        raise AssertionError("the tool error should have propagated")


def looping_search(agent_turns: bool) -> Iterator[AIMessage]:
    """web_search again and again; with agent_turns, a give-up answer after each search (one sub-agent turn)."""
    for n in itertools.count(1):
        yield call("web_search", {"query": f"FAANG headcount 2024 page {n}"}, f"call_loop_{n}", (140 + 60 * n, 18))
        if agent_turns:
            yield say("No reliable figure found yet.", (170 + 60 * n, 8))


def redelegating_supervisor() -> Iterator[AIMessage]:
    for n in itertools.count(1):
        yield call("transfer_to_research_agent", {}, f"call_sup_{n}", (120 + 80 * n, 12))


@scenario("recursion_limit")
def recursion_limit() -> None:
    """Supervisor re-delegates to research_agent forever; recursion_limit=4 raises GraphRecursionError."""
    research = create_react_agent(
        model("fake-research-model", looping_search(agent_turns=True)),
        tools=[web_search],
        name="research_agent",
        prompt="You are a world class researcher. Use web_search.",
    )
    workflow = create_supervisor(
        [research, math_agent()],
        model=model("fake-supervisor-model", redelegating_supervisor()),
        prompt="You manage a research expert and a math expert. Delegate, then answer.",
    )
    app = workflow.compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "lg-recursion-limit-001"}, "recursion_limit": 4}
    try:
        app.invoke({"messages": [{"role": "user", "content": QUESTION}]}, config)
    except GraphRecursionError as exc:
        print(f"  raised as expected: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    else:
        raise AssertionError("the recursion limit should have been hit")


@scenario("react_soft_limit")
def react_soft_limit() -> None:
    """One react agent calls web_search forever; recursion_limit=6: the prebuilt agent stops itself, no error."""
    agent = create_react_agent(
        model("fake-research-model", looping_search(agent_turns=False)),
        tools=[web_search],
        name="research_agent",
        prompt="You are a world class researcher. Use web_search.",
    )
    config: RunnableConfig = {"configurable": {"thread_id": "lg-react-soft-limit-001"}, "recursion_limit": 6}
    result = agent.invoke({"messages": [{"role": "user", "content": QUESTION}]}, config)
    print(f"  last message: {result['messages'][-1].content!r}")


@scenario("react_thread")
def react_thread() -> None:
    """One react agent, checkpointer + thread_id, two turns (Paris, then Rome)."""
    agent = create_react_agent(
        model(
            "fake-weather-model",
            [
                call("get_weather", {"city": "Paris"}, "call_weather_1", (90, 15)),
                say("It is 18C and sunny in Paris.", (130, 11)),
                call("get_weather", {"city": "Rome"}, "call_weather_2", (160, 15)),
                say("It is 24C and clear in Rome.", (200, 11)),
            ],
        ),
        tools=[get_weather],
        name="weather_agent",
        prompt="You report the weather.",
        checkpointer=InMemorySaver(),
    )
    config: RunnableConfig = {"configurable": {"thread_id": "lg-thread-weather-001"}}
    agent.invoke({"messages": [{"role": "user", "content": "What's the weather in Paris?"}]}, config)
    agent.invoke({"messages": [{"role": "user", "content": "And in Rome?"}]}, config)


def main(argv: list[str] | None = None) -> None:
    # create_react_agent is deprecated in LangGraph 1.x, but langgraph-supervisor still builds on it.
    warnings.filterwarnings("ignore", message="create_react_agent has been moved")
    chosen = (sys.argv[1:] if argv is None else argv) or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}")
    for name in chosen:
        exporter = InMemorySpanExporter()
        provider = TracerProvider(resource=Resource.create({"service.name": f"langgraph_{name}"}))
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        instrumentor = LangChainInstrumentor()
        instrumentor.instrument(tracer_provider=provider)
        try:
            with simulated_clock():
                SCENARIOS[name]()
        finally:
            instrumentor.uninstrument()
        provider.shutdown()
        path = HERE / f"langgraph_{name}.json"
        path.write_text(json.dumps(to_otlp_json(exporter), separators=(",", ":"), ensure_ascii=False) + "\n")
        print(f"{path}: {len(exporter.get_finished_spans())} spans, {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
