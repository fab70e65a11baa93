"""Big sessions sent the way an instrumented agent sends them (the OpenTelemetry SDK, OTLP/HTTP): a long
single-agent run, and a run of agents handing off to each other many times. The replay tests,
benchmarks/replay_next.py and benchmarks/dashboard_latency.py use them."""

from __future__ import annotations

import orjson
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

AGENTS = ("triage", "billing", "refunds", "shipping", "escalation")
T0 = 1_780_000_000_000_000_000  # a fixed start, so the steps' times are the same on every run


def _provider(endpoint: str, spans: int, service: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    # A queue that holds the whole session: past its queue the SDK drops spans with only a log line.
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces"),
            max_queue_size=spans + 16,
            max_export_batch_size=min(4096, spans + 16),
        )
    )
    return provider


def send_long_session(endpoint: str, session_id: str, steps: int) -> None:
    """One agent run of ``steps`` steps: model calls and tool calls in turn."""
    provider = _provider(endpoint, steps, "replay-bench")
    tracer = provider.get_tracer("bench")
    common = {"gen_ai.conversation.id": session_id, "gen_ai.agent.name": "long_runner"}
    root = tracer.start_span(
        "invoke_agent long_runner", attributes={**common, "gen_ai.operation.name": "invoke_agent"}, start_time=T0
    )
    with trace.use_span(root, end_on_exit=False):
        t = T0 + 1_000_000
        for i in range((steps - 1) // 2):
            messages = [
                {"role": "user", "parts": [{"type": "text", "content": f"Continue with item {i} of the backlog."}]}
            ]
            chat = tracer.start_span(
                "chat gpt-4o",
                attributes={
                    **common,
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.usage.input_tokens": 1000 + 10 * i,
                    "gen_ai.usage.output_tokens": 40,
                    "gen_ai.input.messages": orjson.dumps(messages).decode(),
                },
                start_time=t,
            )
            chat.end(end_time=t + 800_000_000)
            tool = tracer.start_span(
                "execute_tool fetch_item",
                attributes={
                    **common,
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "fetch_item",
                    "gen_ai.tool.call.arguments": orjson.dumps({"item": i}).decode(),
                    "gen_ai.tool.call.result": f"item {i}: ok",
                },
                start_time=t + 810_000_000,
            )
            tool.end(end_time=t + 850_000_000)
            t += 900_000_000
    root.end(end_time=t)
    provider.shutdown()


def send_handoff_session(endpoint: str, session_id: str, handoffs: int) -> None:
    """Agents handing the conversation to each other ``handoffs`` times, as OpenAI Agents records it:
    each agent's run (a model call, then a handoff span naming the next agent) is a sibling of the others."""
    provider = _provider(endpoint, 3 * handoffs + 8, "handoff-bench")
    tracer = provider.get_tracer("bench")
    base = {"gen_ai.conversation.id": session_id}
    root = tracer.start_span(
        "invoke_workflow support", attributes={**base, "gen_ai.operation.name": "invoke_workflow"}, start_time=T0
    )
    t = T0 + 1_000_000
    with trace.use_span(root, end_on_exit=False):
        agent = AGENTS[0]
        for k in range(handoffs + 1):
            # The next agent: a fixed pseudo-random walk over the others, so that pairs repeat in both ways.
            to = AGENTS[(AGENTS.index(agent) + 1 + (k * 5 + k // 4) % (len(AGENTS) - 1)) % len(AGENTS)]
            common = {**base, "gen_ai.agent.name": agent}
            run = tracer.start_span(
                f"invoke_agent {agent}", attributes={**common, "gen_ai.operation.name": "invoke_agent"}, start_time=t
            )
            with trace.use_span(run, end_on_exit=False):
                messages = [{"role": "user", "parts": [{"type": "text", "content": f"turn {k}: {agent} takes over"}]}]
                chat = tracer.start_span(
                    "chat gpt-4o-mini",
                    attributes={
                        **common,
                        "gen_ai.operation.name": "chat",
                        "gen_ai.request.model": "gpt-4o-mini",
                        "gen_ai.usage.input_tokens": 500 + k,
                        "gen_ai.usage.output_tokens": 20,
                        "gen_ai.input.messages": orjson.dumps(messages).decode(),
                    },
                    start_time=t + 1_000_000,
                )
                if k % 250 == 249:  # now and then a model call fails
                    chat.set_status(Status(StatusCode.ERROR, "RateLimitError: slow down"))
                chat.end(end_time=t + 300_000_000)
                if k < handoffs:
                    handoff = tracer.start_span(
                        f"handoff {to}",
                        attributes={
                            **common,
                            "gen_ai.operation.name": "handoff",
                            "gen_ai.handoff.from_agent": agent,
                            "gen_ai.handoff.to_agent": to,
                        },
                        start_time=t + 301_000_000,
                    )
                    handoff.end(end_time=t + 302_000_000)
            run.end(end_time=t + 310_000_000)
            t += 320_000_000
            agent = to
    root.end(end_time=t)
    provider.shutdown()
