"""Captures what Google ADK's native OpenTelemetry tracing emits, offline, with a scripted fake model.

Install (Python 3.11, in a venv of its own, from the repository root)::

    python -m venv .venv-adk
    .venv-adk/bin/pip install . "google-adk==2.13.0" "google-genai==2.34.0" "opentelemetry-sdk==1.44.0" \\
        "opentelemetry-api==1.44.0" "opentelemetry-exporter-otlp-proto-http==1.44.0"
    .venv-adk/bin/python sample_traces/frameworks/adk/capture_adk.py [SCENARIO ...]   # all by default

Each scenario runs in a fresh subprocess (ADK reads its telemetry env vars and the global tracer
provider once per process) and writes ``adk_<scenario>.json`` beside this file: one OTLP/JSON
ExportTraceServiceRequest with hex ids, as ``capture_kit.to_otlp_json`` writes it.

How ADK finds the tracer: ``google.adk.telemetry.tracing`` calls ``trace.get_tracer(...)`` at import time,
which returns a proxy bound to the *global* tracer provider, so the provider must be installed with
``trace.set_tracer_provider`` (once per process); ADK has no ``tracer_provider=`` argument.

Scenarios (the model is a ``BaseLlm`` subclass answering from a script; nothing leaves the machine):

* ``multi_agent``: coordinator -> transfer_to_agent(billing_agent) -> lookup_order ->
  transfer_to_agent(shipping_agent) -> track_parcel -> answer. Default settings: content capture OFF.
* ``multi_agent_content``: the same with ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY``
  (``true`` means EVENT_ONLY in ADK 2.13: content goes to log records only, never to spans).
* ``llm_limit``: ``RunConfig(max_llm_calls=4)``; the researcher keeps calling ``search`` with the same
  arguments until ADK raises ``LlmCallsLimitExceededError``.
* ``tool_error``: billing_agent's ``lookup_order`` raises ``ConnectionError``; ADK propagates it and the run dies.
* ``distinct_searches`` (healthy control for ``llm_limit``): the researcher searches three *different* queries,
  then answers; no limit. Default settings.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# capture_kit lives in sample_traces/ (two levels up in the repository); fall back to the team checkout.
for candidate in (HERE.parents[1], Path("/work/main/sample_traces")):
    if (candidate / "capture_kit.py").exists():
        sys.path.insert(0, str(candidate))
        break

SESSION_IDS = {
    "multi_agent": "adk-session-multi-agent-001",
    "multi_agent_content": "adk-session-multi-agent-content-001",
    "llm_limit": "adk-session-llm-limit-001",
    "tool_error": "adk-session-tool-error-001",
    "distinct_searches": "adk-session-distinct-searches-001",
}
ENV: dict[str, dict[str, str]] = {
    "multi_agent": {},
    "multi_agent_content": {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_ONLY"},
    "llm_limit": {},
    "tool_error": {},
    "distinct_searches": {},
}
# Env vars that would change what ADK emits: cleared so that "default settings" means default.
_ADK_ENV = (
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    "OTEL_SEMCONV_STABILITY_OPT_IN",
    "ADK_CAPTURE_MESSAGE_CONTENT_IN_SPANS",
    "ADK_TELEMETRY_SCHEMA_VERSION_OPT_IN",
    "ADK_EXPERIMENTAL_TELEMETRY",
    "ADK_EXPERIMENTAL_TELEMETRY_FEATURES",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)

Step = Callable[[], Any]


def _fake_llm_class() -> Any:
    from google.adk.models.base_llm import BaseLlm
    from google.adk.models.llm_request import LlmRequest
    from google.adk.models.llm_response import LlmResponse
    from google.genai import types
    from pydantic import PrivateAttr

    class ScriptedLlm(BaseLlm):
        """Answers each call with the next scripted content (the last one repeats); fixed token usage per turn."""

        script: list[Any]
        base_input_tokens: int = 100
        _turn: int = PrivateAttr(default=0)

        async def generate_content_async(
            self, llm_request: LlmRequest, stream: bool = False
        ) -> AsyncGenerator[LlmResponse, None]:
            content = self.script[min(self._turn, len(self.script) - 1)]
            self._turn += 1
            input_tokens = self.base_input_tokens + 50 * self._turn
            output_tokens = 10 + self._turn
            yield LlmResponse(
                content=content,
                model_version=self.model,
                finish_reason=types.FinishReason.STOP,
                usage_metadata=types.GenerateContentResponseUsageMetadata(
                    prompt_token_count=input_tokens,
                    candidates_token_count=output_tokens,
                    total_token_count=input_tokens + output_tokens,
                ),
            )

    return ScriptedLlm


def _call(name: str, args: dict[str, Any], call_id: str) -> Any:
    from google.genai import types

    return types.Content(
        role="model", parts=[types.Part(function_call=types.FunctionCall(id=call_id, name=name, args=args))]
    )


def _say(text: str) -> Any:
    from google.genai import types

    return types.Content(role="model", parts=[types.Part(text=text)])


def _multi_agent(fail_lookup: bool) -> Any:
    from google.adk.agents import LlmAgent

    llm = _fake_llm_class()

    def lookup_order(order_id: str) -> dict[str, Any]:
        """Looks up an order in the billing system."""
        if fail_lookup:
            raise ConnectionError("billing-db unreachable: connection refused (billing-db:5432)")
        return {"order_id": order_id, "amount_eur": 59.9, "paid": True, "refundable": True}

    def track_parcel(order_id: str) -> dict[str, Any]:
        """Tracks the parcel of an order."""
        return {"order_id": order_id, "carrier": "DHL", "status": "in transit", "eta": "2025-11-28"}

    shipping = LlmAgent(
        name="shipping_agent",
        description="Tracks parcels and delivery dates.",
        instruction="You track parcels. Use track_parcel.",
        model=llm(
            model="fake-shipping-model",
            base_input_tokens=300,
            script=[
                _call("track_parcel", {"order_id": "A-1042"}, "call_ship_1"),
                _say("Your refund for order A-1042 is approved; the parcel is in transit with DHL, due 2025-11-28."),
            ],
        ),
        tools=[track_parcel],
    )
    billing = LlmAgent(
        name="billing_agent",
        description="Handles payments, invoices and refunds.",
        instruction="You handle billing. Use lookup_order, then hand delivery questions to shipping_agent.",
        model=llm(
            model="fake-billing-model",
            base_input_tokens=200,
            script=[
                _call("lookup_order", {"order_id": "A-1042"}, "call_bill_1"),
                _call("transfer_to_agent", {"agent_name": "shipping_agent"}, "call_bill_2"),
            ],
        ),
        tools=[lookup_order],
    )
    return LlmAgent(
        name="coordinator",
        description="Routes customer requests to the right specialist.",
        instruction="You route requests: billing questions to billing_agent, delivery to shipping_agent.",
        model=llm(
            model="fake-coordinator-model",
            script=[_call("transfer_to_agent", {"agent_name": "billing_agent"}, "call_coord_1")],
        ),
        sub_agents=[billing, shipping],
    )


def _research_agent(distinct: bool) -> Any:
    from google.adk.agents import LlmAgent

    llm = _fake_llm_class()

    def search(query: str) -> dict[str, Any]:
        """Searches the knowledge base."""
        return {"query": query, "results": []}

    researcher = LlmAgent(
        name="researcher",
        description="Researches questions in the knowledge base.",
        instruction="Search until you find the answer.",
        model=llm(
            model="fake-researcher-model",
            base_input_tokens=200,
            script=[
                _call("search", {"query": query}, f"call_search_{i}")
                for i, query in enumerate(["warranty X-200", "return policy", "repair centers Berlin"], start=1)
            ]
            + [_say("Warranty: 2 years. Returns: 30 days. Repair: Berlin-Mitte service center.")]
            if distinct
            else [
                _call("search", {"query": "warranty policy for model X-200"}, f"call_search_{i}") for i in range(1, 7)
            ],
        ),
        tools=[search],
    )
    return LlmAgent(
        name="coordinator",
        description="Routes customer requests to the right specialist.",
        instruction="You route research questions to researcher.",
        model=llm(
            model="fake-coordinator-model",
            script=[_call("transfer_to_agent", {"agent_name": "researcher"}, "call_coord_1")],
        ),
        sub_agents=[researcher],
    )


async def _run(root: Any, session_id: str, text: str, max_llm_calls: int | None) -> None:
    from google.adk.agents.run_config import RunConfig
    from google.adk.runners import InMemoryRunner
    from google.genai import types

    runner = InMemoryRunner(agent=root, app_name="stepseven_adk_capture")
    await runner.session_service.create_session(
        app_name="stepseven_adk_capture", user_id="user-42", session_id=session_id
    )
    run_config = RunConfig(max_llm_calls=max_llm_calls) if max_llm_calls else RunConfig()
    message = types.Content(role="user", parts=[types.Part(text=text)])
    try:
        async for event in runner.run_async(
            user_id="user-42", session_id=session_id, new_message=message, run_config=run_config
        ):
            print(f"  event author={event.author} content={event.content!r:.160}", file=sys.stderr)
    except Exception as exc:  # the run dies as it would for a user; the trace records it
        print(f"  run raised {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        await runner.close()


def _scenario_main(name: str) -> None:
    from capture_kit import simulated_clock, to_otlp_json
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"adk_{name}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    question = {
        "llm_limit": "What is the warranty policy for the X-200?",
        "distinct_searches": "What is the warranty policy for the X-200?",
    }.get(name, "I want a refund for order A-1042, and where is my parcel?")
    with simulated_clock():
        if name == "llm_limit":
            asyncio.run(_run(_research_agent(distinct=False), SESSION_IDS[name], question, max_llm_calls=4))
        elif name == "distinct_searches":
            asyncio.run(_run(_research_agent(distinct=True), SESSION_IDS[name], question, None))
        else:
            asyncio.run(_run(_multi_agent(fail_lookup=name == "tool_error"), SESSION_IDS[name], question, None))
    provider.shutdown()
    path = HERE / f"adk_{name}.json"
    path.write_text(json.dumps(to_otlp_json(exporter), indent=1, ensure_ascii=False) + "\n")
    print(f"{path}: {len(exporter.get_finished_spans())} spans")


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        _scenario_main(argv[1])
        return
    chosen = argv or list(SESSION_IDS)
    unknown = set(chosen) - set(SESSION_IDS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}; known: {', '.join(SESSION_IDS)}")
    for name in chosen:
        env = {k: v for k, v in os.environ.items() if k not in _ADK_ENV} | ENV[name]
        subprocess.run([sys.executable, __file__, "--one", name], env=env, check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
