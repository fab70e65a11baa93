"""Captures what LlamaIndex workflow agents emit under OpenInference, offline, with a scripted fake model.

Install (Python 3.11, a fresh venv; stepseven itself is not needed to capture):

    pip install "llama-index-core==0.14.25" "llama-index-workflows==2.26.1" \\
        "openinference-instrumentation-llama-index==4.6.1" "openinference-instrumentation==0.1.72" \\
        "openinference-semantic-conventions==0.1.42" "opentelemetry-sdk==1.45.2" "opentelemetry-api==1.45.2" \\
        "opentelemetry-exporter-otlp-proto-http==1.45.2" "opentelemetry-exporter-otlp-proto-common==1.45.2"

Run:

    python capture_llamaindex.py [SCENARIO ...]   # all scenarios by default, about 3 s

Scenarios: handoff, tool_error, max_iterations, max_iterations_generate, timeout (waits 1 s of real
time for the workflow timeout), handoff_hidden. What really happened in each: TRUTH.md.

Each scenario writes ``llamaindex_<scenario>.json`` beside this file: one OTLP/JSON
ExportTraceServiceRequest with hex ids, what an OTLP/HTTP exporter would send. Nothing leaves the
machine: the model is LlamaIndex's own ``MockFunctionCallingLLM``, subclassed to answer from a script
(tool calls as ``ToolCallBlock``s) and to report OpenAI-style usage in ``ChatResponse.raw``, so that
the instrumentor records token counts as it does for real providers. The instrumentor runs with its
defaults (OpenInference records inputs and outputs unless ``TraceConfig`` hides them), except the
``*_hidden`` scenario, which hides them. Session ids come from ``openinference.instrumentation.using_session``,
which is how LlamaIndex users get ``session.id`` on their spans.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import sys
from collections.abc import AsyncGenerator, Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
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
from llama_index.core.tools import FunctionTool
from openinference.instrumentation import TraceConfig, using_session
from openinference.instrumentation.llama_index import LlamaIndexInstrumentor
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import PrivateAttr

HERE = Path(__file__).parent
Move = tuple[str, Any]  # ("call", (tool_name, kwargs, call_id)) or ("say", text)


def call(tool: str, kwargs: dict[str, Any], call_id: str) -> Move:
    return ("call", (tool, kwargs, call_id))


def say(text: str) -> Move:
    return ("say", text)


class ScriptedLLM(MockFunctionCallingLLM):
    """LlamaIndex's mock function-calling LLM, answering from a script and reporting usage.

    Turn n (from 1) reports ``prompt_tokens = base_input + 40 * n`` and ``completion_tokens = 12 + n``;
    the last move repeats once the script runs out (the loop scenario relies on it).
    """

    model: str = "fake-fc-model"
    base_input: int = 100
    _script: list[Move] = PrivateAttr(default_factory=list)
    _turn: int = PrivateAttr(default=0)

    def __init__(self, script: list[Move], model: str, base_input: int = 100) -> None:
        super().__init__(is_chat_model=True, model=model, base_input=base_input)
        self._script = script

    @classmethod
    def class_name(cls) -> str:
        return "ScriptedLLM"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name=self.model, is_function_calling_model=True, is_chat_model=True)

    def _next(self) -> ChatResponse:
        kind, value = self._script[min(self._turn, len(self._script) - 1)]
        self._turn += 1
        if kind == "call":
            tool, kwargs, call_id = value
            suffix = f"_{self._turn}" if self._turn > len(self._script) else ""
            message = ChatMessage(
                role=MessageRole.ASSISTANT,
                blocks=[ToolCallBlock(tool_call_id=call_id + suffix, tool_name=tool, tool_kwargs=dict(kwargs))],
            )
        else:
            message = ChatMessage(role=MessageRole.ASSISTANT, content=str(value))
        prompt, completion = self.base_input + 40 * self._turn, 12 + self._turn
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        return ChatResponse(message=message, delta=message.content or "", raw={"model": self.model, "usage": usage})

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._next()

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._next()

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        response = self._next()

        def gen() -> Generator[ChatResponse, None, None]:
            yield response

        return gen()

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        response = self._next()

        async def gen() -> AsyncGenerator[ChatResponse, None]:
            yield response

        return gen()


# ---------------------------------------------------------------------------------------------- tools


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"18C sunny in {city}"


def lookup_invoice(invoice_id: str) -> str:
    """Look an invoice up by id."""
    return f"Invoice {invoice_id}: 120.00 EUR, paid on 2026-11-02"


def refund_invoice(invoice_id: str) -> str:
    """Refund an invoice."""
    raise ConnectionError(f"payment service unreachable while refunding {invoice_id}")


def search(query: str) -> str:
    """Search the knowledge base."""
    return "no results"


# ---------------------------------------------------------------------------------------------- scenarios


async def handoff(session_id: str = "session-li-handoff-001") -> None:
    """AgentWorkflow: triage_agent hands off to weather_agent (can_handoff_to), which uses a tool and answers."""
    triage = FunctionAgent(
        name="triage_agent",
        description="Routes questions to the right specialist.",
        system_prompt="You route questions to the right specialist.",
        llm=ScriptedLLM(
            [call("handoff", {"to_agent": "weather_agent", "reason": "The user asks about weather."}, "call_h1")],
            model="fake-triage-model",
        ),
        tools=[],
        can_handoff_to=["weather_agent"],
    )
    weather = FunctionAgent(
        name="weather_agent",
        description="Reports the weather.",
        system_prompt="You report the weather.",
        llm=ScriptedLLM(
            [call("get_weather", {"city": "Paris"}, "call_w1"), say("It is 18°C and sunny in Paris.")],
            model="fake-weather-model",
            base_input=200,
        ),
        tools=[FunctionTool.from_defaults(fn=get_weather)],
        can_handoff_to=[],
    )
    workflow = AgentWorkflow(agents=[triage, weather], root_agent="triage_agent")
    with using_session(session_id):
        result = await workflow.run(user_msg="What's the weather in Paris?")
    print("  result:", str(result))


async def tool_error() -> None:
    """One FunctionAgent with two tools: lookup_invoice succeeds, refund_invoice raises; the agent reports it."""
    agent = FunctionAgent(
        name="billing_agent",
        description="Handles invoices and refunds.",
        system_prompt="You handle invoices and refunds.",
        llm=ScriptedLLM(
            [
                call("lookup_invoice", {"invoice_id": "INV-1"}, "call_b1"),
                call("refund_invoice", {"invoice_id": "INV-1"}, "call_b2"),
                say("I found invoice INV-1 but could not refund it: the payment service is unreachable."),
            ],
            model="fake-billing-model",
        ),
        tools=[FunctionTool.from_defaults(fn=lookup_invoice), FunctionTool.from_defaults(fn=refund_invoice)],
    )
    with using_session("session-li-tool-error-001"):
        result = await agent.run(user_msg="Please refund invoice INV-1.")
    print("  result:", str(result))


async def max_iterations() -> None:
    """One FunctionAgent whose model calls search forever; the run stops at max_iterations=4 (WorkflowRuntimeError)."""
    agent = FunctionAgent(
        name="research_agent",
        description="Researches questions.",
        system_prompt="You research questions with the search tool.",
        llm=ScriptedLLM([call("search", {"query": "llama facts"}, "call_s")], model="fake-research-model"),
        tools=[FunctionTool.from_defaults(fn=search)],
    )
    with using_session("session-li-max-iter-001"):
        try:
            await agent.run(user_msg="Find facts about llamas.", max_iterations=4)
        except Exception as exc:  # the limit ends the run with an exception, as users see it
            print(f"  raised {type(exc).__name__}: {str(exc)[:80]}")


async def max_iterations_generate() -> None:
    """As max_iterations, with early_stopping_method="generate": the model is made to answer instead of an error."""
    script = [call("search", {"query": "llama facts"}, f"call_g{i}") for i in range(1, 5)]
    script.append(say("I could not find facts about llamas: every search returned no results."))
    agent = FunctionAgent(
        name="research_agent",
        description="Researches questions.",
        system_prompt="You research questions with the search tool.",
        llm=ScriptedLLM(script, model="fake-research-model"),
        tools=[FunctionTool.from_defaults(fn=search)],
    )
    with using_session("session-li-max-iter-generate-001"):
        result = await agent.run(
            user_msg="Find facts about llamas.", max_iterations=4, early_stopping_method="generate"
        )
    print("  result:", str(result))


async def fetch_report(report_id: str) -> str:
    """Fetch a report (slow: longer than the agent's timeout)."""
    await asyncio.sleep(3)
    return f"report {report_id}"


async def timeout() -> None:
    """One FunctionAgent with timeout=1 s; its slow tool makes the workflow time out (WorkflowTimeoutError)."""
    agent = FunctionAgent(
        name="report_agent",
        description="Fetches reports.",
        system_prompt="You fetch reports.",
        llm=ScriptedLLM(
            [call("fetch_report", {"report_id": "R-7"}, "call_r1"), say("Here is report R-7.")],
            model="fake-report-model",
        ),
        tools=[FunctionTool.from_defaults(async_fn=fetch_report)],
        timeout=1.0,
    )
    with using_session("session-li-timeout-001"):
        try:
            await agent.run(user_msg="Fetch report R-7.")
        except Exception as exc:  # the timeout ends the run with an exception, as users see it
            print(f"  raised {type(exc).__name__}: {str(exc)[:80]}")
    await asyncio.sleep(0.1)


SCENARIOS: dict[str, tuple[Callable[[], Any], TraceConfig | None]] = {
    "handoff": (handoff, None),
    "tool_error": (tool_error, None),
    "max_iterations": (max_iterations, None),
    "max_iterations_generate": (max_iterations_generate, None),
    "timeout": (timeout, None),
    "handoff_hidden": (
        functools.partial(handoff, "session-li-handoff-hidden-001"),
        TraceConfig(hide_inputs=True, hide_outputs=True),
    ),
}


# ---------------------------------------------------------------------------------------------- output


def to_otlp_json(exporter: InMemorySpanExporter) -> dict[str, Any]:
    """As sample_traces/capture_kit.py: the OTLP/JSON request, with hex trace and span ids."""
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
    """As sample_traces/capture_kit.py: each reading moves the clock on by a microsecond (spans keep their order)."""

    def __init__(self, start_ns: int = 1_764_000_000_000_000_000) -> None:
        self.now = start_ns

    def __call__(self) -> int:
        self.now += 1_000
        return self.now


@contextmanager
def simulated_clock() -> Iterator[SimulatedClock]:
    import openinference.instrumentation.llama_index._handler as handler
    import opentelemetry.sdk.trace as sdk_trace

    # OpenInference stamps span starts and ends itself (``_handler.time_ns``), the SDK the events.
    clock = SimulatedClock()
    real_sdk, real_handler = sdk_trace.time_ns, handler.time_ns
    sdk_trace.time_ns = clock  # type: ignore[assignment]
    handler.time_ns = clock
    try:
        yield clock
    finally:
        sdk_trace.time_ns = real_sdk  # type: ignore[assignment]
        handler.time_ns = real_handler


def main(argv: list[str] | None = None) -> None:
    chosen = (sys.argv[1:] if argv is None else argv) or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}")
    for name in chosen:
        run, config = SCENARIOS[name]
        exporter = InMemorySpanExporter()
        provider = TracerProvider(resource=Resource.create({"service.name": f"llamaindex_{name}"}))
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        instrumentor = LlamaIndexInstrumentor()
        instrumentor.instrument(tracer_provider=provider, **({"config": config} if config else {}))
        print(f"llamaindex_{name}:")
        try:
            with simulated_clock():
                asyncio.run(run())
        finally:
            instrumentor.uninstrument()
        provider.shutdown()
        path = HERE / f"llamaindex_{name}.json"
        path.write_text(json.dumps(to_otlp_json(exporter), indent=1, ensure_ascii=False) + "\n")
        print(f"  {path}: {len(exporter.get_finished_spans())} spans, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
