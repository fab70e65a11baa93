"""What the capture scripts share: the scenario registry, OTLP/JSON output, a simulated clock, fake models.

Nothing here talks to a real model provider: Pydantic AI runs on its own FunctionModel and the
OpenAI Agents SDK on a Model subclass that answers from a script.
"""

from __future__ import annotations

import base64
import itertools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

HERE = Path(__file__).parent
SCENARIOS: dict[str, Callable[[TracerProvider], None]] = {}


def scenario(name: str) -> Callable[[Callable[[TracerProvider], None]], Callable[[TracerProvider], None]]:
    def register(fn: Callable[[TracerProvider], None]) -> Callable[[TracerProvider], None]:
        SCENARIOS[name] = fn
        return fn

    return register


def to_otlp_json(exporter: InMemorySpanExporter) -> dict[str, Any]:
    document = json_format.MessageToDict(encode_spans(list(exporter.get_finished_spans())))

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
    """Stands in for the SDK's clock so that a session can last an hour in a second of real time.

    Each reading moves it on by a microsecond (spans keep their order); ``advance`` moves it on by
    the time a slow model call or tool would have taken.
    """

    def __init__(self, start_ns: int = 1_764_000_000_000_000_000) -> None:
        self.now = start_ns
        self._tick = itertools.count()

    def __call__(self) -> int:
        self.now += 1_000
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1e9)


@contextmanager
def simulated_clock() -> Iterator[SimulatedClock]:
    import opentelemetry.sdk.trace as sdk_trace

    clock = SimulatedClock()
    real = sdk_trace.time_ns
    sdk_trace.time_ns = clock  # type: ignore[assignment]
    try:
        yield clock
    finally:
        sdk_trace.time_ns = real  # type: ignore[assignment]


def pydantic_agent(provider: TracerProvider) -> Any:
    from pydantic_ai import Agent, InstrumentationSettings

    Agent.instrument_all(InstrumentationSettings(tracer_provider=provider, include_content=True, version=5))
    return Agent


Move = Callable[[], Any]


def openai_agents_fakes() -> tuple[Any, Callable[[str, str, str], Move], Callable[[str], Move]]:
    """(FakeModel, call, say): a scripted Model for the OpenAI Agents SDK, and the script's two moves."""
    from agents.items import ModelResponse
    from agents.models.interface import Model
    from agents.tracing import response_span
    from agents.usage import Usage
    from openai.types.responses import (
        Response,
        ResponseFunctionToolCall,
        ResponseOutputMessage,
        ResponseOutputText,
        ResponseUsage,
    )

    class FakeModel(Model):
        def __init__(self, script: list[Callable[[], Any]]) -> None:
            self.script = script
            self.turn = 0

        async def get_response(
            self, system_instructions: str | None, input: Any, *args: Any, **kwargs: Any
        ) -> ModelResponse:
            step = self.script[min(self.turn, len(self.script) - 1)]
            self.turn += 1
            output = [step()]
            usage = Usage(
                requests=1, input_tokens=120 + 40 * self.turn, output_tokens=15, total_tokens=135 + 40 * self.turn
            )
            # The same tracing span the SDK's OpenAIResponsesModel emits, so instrumentations see an LLM call.
            with response_span() as span:
                items = [{"role": "user", "content": input}] if isinstance(input, str) else list(input)
                span.span_data.input = items
                span.span_data.response = Response(
                    id=f"resp_{self.turn}",
                    created_at=1_764_000_000,
                    model="fake-gpt-4o",
                    object="response",
                    output=output,
                    parallel_tool_calls=False,
                    tool_choice="auto",
                    tools=[],
                    instructions=system_instructions,
                    usage=ResponseUsage(
                        input_tokens=usage.input_tokens,
                        output_tokens=usage.output_tokens,
                        total_tokens=usage.total_tokens,
                        input_tokens_details={"cached_tokens": 0, "cache_write_tokens": 0},
                        output_tokens_details={"reasoning_tokens": 0},
                    ),
                )
            return ModelResponse(output=output, usage=usage, response_id=f"resp_{self.turn}")

        def stream_response(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

    def call(name: str, arguments: str, call_id: str) -> Callable[[], Any]:
        return lambda: ResponseFunctionToolCall(
            type="function_call",
            name=name,
            arguments=arguments,
            call_id=call_id,
            id=f"fc_{call_id}",
            status="completed",
        )

    def say(text: str) -> Callable[[], Any]:
        return lambda: ResponseOutputMessage(
            type="message",
            id="msg_1",
            role="assistant",
            status="completed",
            content=[ResponseOutputText(type="output_text", text=text, annotations=[])],
        )

    return FakeModel, call, say


@contextmanager
def openinference(provider: TracerProvider) -> Iterator[None]:
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    instrumentor = OpenAIAgentsInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield
    finally:
        instrumentor.uninstrument()


def main(argv: list[str] | None = None) -> None:
    chosen = (sys.argv[1:] if argv is None else argv) or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}")
    for name in chosen:
        run = SCENARIOS[name]
        exporter = InMemorySpanExporter()
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        run(provider)
        provider.shutdown()
        path = HERE / f"{name}.json"
        path.write_text(json.dumps(to_otlp_json(exporter), indent=1, ensure_ascii=False) + "\n")
        print(f"{path}: {len(exporter.get_finished_spans())} spans")
