"""Regenerates the CrewAI captures: a real CrewAI crew, OpenInference-instrumented, on a scripted fake model.

Install (Python 3.11, in a venv of its own; stepseven itself is not needed to capture):

    pip install "crewai==1.15.30" "openinference-instrumentation-crewai==1.1.21" \\
        "openinference-instrumentation==0.1.72" "openinference-semantic-conventions==0.1.42" \\
        "opentelemetry-sdk==1.45.2" "opentelemetry-exporter-otlp-proto-http==1.45.2" "openai==2.54.0"

Run (from this folder; it imports ``capture_kit`` from ``../../`` i.e. ``sample_traces/``):

    python capture_crewai.py [SCENARIO ...]      # every scenario by default

Each scenario writes ``crewai_<scenario>.json`` here: one OTLP/JSON ExportTraceServiceRequest, hex ids,
as the team's ``capture_kit.to_otlp_json`` writes them. The model is a tiny OpenAI-compatible HTTP server on
127.0.0.1 (random free port) that answers ``/v1/chat/completions`` from a script keyed by the agent (its role,
read from the system prompt) and by how many assistant turns the conversation already has; crewai reaches it
through ``LLM(model="openai/fake", base_url=...)``, i.e. crewai's native OpenAI provider (crewai 1.15 does not
route ``openai/`` models through litellm, and litellm is not installed, so openinference-instrumentation-litellm
would see nothing). Nothing leaves the machine: crewai's own telemetry and tracing are switched off by
environment variables, and HOME / storage point into this script's scratch folder.

Variants: ``*_default`` use ``CrewAIInstrumentor().instrument()`` as documented (wrapper mode: crew, task, tool
spans, no LLM spans); ``*_events`` use ``instrument(use_event_listener=True)`` (the event-listener mode, which
also makes LLM spans with token counts). OpenInference records content by default (no switch to turn on).
Span ids come from a seeded generator and times from capture_kit's SimulatedClock, so reruns give the same file
structure.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCRATCH = Path(os.environ.get("CAPTURE_SCRATCH", tempfile.mkdtemp(prefix="crewai-capture-")))
# Before crewai is imported: no phone-home, no interactive trace prompt, storage in a scratch folder.
os.environ.update(
    {
        "CREWAI_DISABLE_TELEMETRY": "true",
        "CREWAI_DISABLE_TRACKING": "true",
        "CREWAI_TRACING_ENABLED": "false",
        "CREWAI_STORAGE_DIR": str(SCRATCH / "storage"),
        "HOME": str(SCRATCH / "home"),
        "OPENAI_API_KEY": "sk-fake",
    }
)
# OTEL_SDK_DISABLED is deliberately NOT set: it would also switch off the SDK TracerProvider used to capture.
os.environ.pop("OTEL_SDK_DISABLED", None)
# sample_traces/ holds capture_kit; CAPTURE_KIT_DIR overrides it (e.g. a checkout elsewhere).
sys.path.insert(0, os.environ.get("CAPTURE_KIT_DIR", str(HERE.parent.parent)))

from capture_kit import simulated_clock, to_otlp_json  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.sdk.trace.id_generator import IdGenerator  # noqa: E402

# ---------------------------------------------------------------------------------------------------------------
# The fake model: scripted per agent role; every call is logged so that TRUTH.md can quote the real usage.

Move = dict[str, Any]  # {"tool": name-substring, "args": {...}} or {"say": text}
SCRIPT: dict[str, list[Move]] = {}
CALLS: list[dict[str, Any]] = []


def _agent_of(messages: list[dict[str, Any]]) -> str:
    system = next((str(m.get("content") or "") for m in messages if m.get("role") == "system"), "")
    for role in SCRIPT:
        if f"You are {role}." in system:
            return role
    return "?"


def _answer(body: dict[str, Any]) -> dict[str, Any]:
    messages: list[dict[str, Any]] = body.get("messages", [])
    agent = _agent_of(messages)
    turn = sum(1 for m in messages if m.get("role") == "assistant")
    script = SCRIPT.get(agent, [{"say": "I have nothing to add."}])
    move = script[min(turn, len(script) - 1)]
    prompt_chars = sum(len(json.dumps(m.get("content") or "")) for m in messages)
    usage = {"prompt_tokens": 40 + prompt_chars // 4, "completion_tokens": 12 + 3 * turn}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    message: dict[str, Any] = {"role": "assistant", "content": None}
    finish = "stop"
    if "tool" in move:
        names = [t["function"]["name"] for t in body.get("tools", [])]
        name = next((n for n in names if move["tool"] in n), move["tool"])
        call_id = f"call_{agent.split()[-1].lower()}_{turn + 1}"
        message["tool_calls"] = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(move["args"])}}
        ]
        finish = "tool_calls"
    else:
        message["content"] = move["say"]
    CALLS.append({"agent": agent, "turn": turn + 1, "finish": finish, "reply": message, **usage})
    return {
        "id": f"chatcmpl-{len(CALLS)}",
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": "fake",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        if body.get("stream"):
            self.send_error(400, "streaming not scripted")
            return
        payload = json.dumps(_answer(body)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def fake_openai() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


class SeededIds(IdGenerator):
    """Deterministic trace and span ids (the SDK's default draws them from the OS's randomness)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def generate_span_id(self) -> int:
        return self._random.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self._random.getrandbits(128) or 1


# ---------------------------------------------------------------------------------------------------------------
# The crews.

MANAGER, RESEARCHER, WRITER = "Research Manager", "Senior Researcher", "Report Writer"


def _llm(base_url: str) -> Any:
    from crewai import LLM

    return LLM(model="openai/fake", base_url=base_url, api_key="sk-fake", temperature=0)


def _search_tool() -> Any:
    from crewai.tools import tool

    @tool("search_web")
    def search_web(query: str) -> str:
        """Search the web and return the top snippets for the query."""
        return f"3 results for {query!r}: OTLP is OpenTelemetry's protocol; it runs over gRPC and HTTP; port 4317."

    return search_web


def _sales_tool() -> Any:
    from crewai.tools import tool

    @tool("query_sales_db")
    def query_sales_db(quarter: str) -> str:
        """Query the sales database for a quarter's revenue figures."""
        raise ConnectionError(f"sales-db.internal:5432 unreachable: connection refused (quarter {quarter})")

    return query_sales_db


def delegation_crew(base_url: str, failing: bool) -> tuple[Any, dict[str, str]]:
    """A manager with allow_delegation=True, two coworkers; one task, assigned to the manager."""
    from crewai import Agent, Crew, Process, Task

    llm = _llm(base_url)
    manager = Agent(
        role=MANAGER,
        goal="Deliver a short, correct report by coordinating your coworkers",
        backstory="You manage a small research team.",
        llm=llm,
        allow_delegation=True,
        max_iter=6,
        verbose=False,
    )
    researcher = Agent(
        role=RESEARCHER,
        goal="Find accurate facts with your tools",
        backstory="You are meticulous and always use your tools.",
        llm=llm,
        tools=[_sales_tool() if failing else _search_tool()],
        allow_delegation=False,
        max_iter=4,
        verbose=False,
    )
    writer = Agent(
        role=WRITER,
        goal="Write clear titles and summaries",
        backstory="You are a concise technical writer.",
        llm=llm,
        allow_delegation=False,
        max_iter=3,
        verbose=False,
    )
    topic = "Q3 revenue" if failing else "OTLP"
    task = Task(
        description=f"Produce a three-sentence report about {topic}, with a title.",
        expected_output="A title line and three sentences.",
        agent=manager,
    )
    crew = Crew(agents=[manager, researcher, writer], tasks=[task], process=Process.sequential, verbose=False)
    return crew, {"topic": topic}


def sequential_crew(base_url: str) -> Any:
    from crewai import Agent, Crew, Process, Task

    llm = _llm(base_url)
    researcher = Agent(
        role=RESEARCHER,
        goal="Find accurate facts with your tools",
        backstory="You are meticulous and always use your tools.",
        llm=llm,
        tools=[_search_tool()],
        allow_delegation=False,
        max_iter=4,
        verbose=False,
    )
    writer = Agent(
        role=WRITER,
        goal="Write clear titles and summaries",
        backstory="You are a concise technical writer.",
        llm=llm,
        allow_delegation=False,
        max_iter=3,
        verbose=False,
    )
    research = Task(
        description="Collect three facts about OTLP.",
        expected_output="Three numbered facts.",
        agent=researcher,
    )
    write = Task(
        description="Write a two-sentence summary of the facts, with a title.",
        expected_output="A title line and two sentences.",
        agent=writer,
        context=[research],
    )
    return Crew(agents=[researcher, writer], tasks=[research, write], process=Process.sequential, verbose=False)


FACTS = "1. OTLP is OpenTelemetry's protocol. 2. It runs over gRPC and HTTP. 3. Its gRPC port is 4317."


def script_delegation() -> None:
    SCRIPT.clear()
    SCRIPT[MANAGER] = [
        {
            "tool": "delegate",
            "args": {"task": "Find three facts about OTLP", "context": "For a short report.", "coworker": RESEARCHER},
        },
        {
            "tool": "ask",
            "args": {
                "question": "Suggest a title for a report about OTLP",
                "context": f"Facts: {FACTS}",
                "coworker": WRITER,
            },
        },
        {"say": f"OTLP in Brief\n{FACTS}"},
    ]
    SCRIPT[RESEARCHER] = [{"tool": "search_web", "args": {"query": "OTLP"}}, {"say": FACTS}]
    SCRIPT[WRITER] = [{"say": "OTLP in Brief"}]


def script_failure() -> None:
    SCRIPT.clear()
    SCRIPT[MANAGER] = [
        {
            "tool": "delegate",
            "args": {"task": "Get the Q3 revenue figures", "context": "For the board report.", "coworker": RESEARCHER},
        },
        # The manager ignores the coworker's error and reports numbers nobody retrieved.
        {"say": "Q3 Revenue\nRevenue grew 12% in Q3. Growth came from EMEA. Margins held steady."},
    ]
    SCRIPT[RESEARCHER] = [
        {"tool": "query_sales_db", "args": {"quarter": "Q3"}},
        {"say": "Error: the sales database is unreachable (connection refused); no Q3 figures were retrieved."},
    ]


def script_sequential() -> None:
    SCRIPT.clear()
    SCRIPT[RESEARCHER] = [{"tool": "search_web", "args": {"query": "OTLP"}}, {"say": FACTS}]
    SCRIPT[WRITER] = [
        {"say": "OTLP in Brief\nOTLP is OpenTelemetry's protocol, over gRPC and HTTP. Its gRPC port is 4317."}
    ]


# ---------------------------------------------------------------------------------------------------------------
# Scenarios: (script, crew factory, session id).


def _delegation(base_url: str) -> Any:
    return delegation_crew(base_url, failing=False)[0]


def _failure(base_url: str) -> Any:
    return delegation_crew(base_url, failing=True)[0]


CREWS: dict[str, tuple[Callable[[], None], Callable[[str], Any], str]] = {
    "delegation": (script_delegation, _delegation, "crewai-delegation"),
    "delegation_failed": (script_failure, _failure, "crewai-delegation-failed"),
    "sequential": (script_sequential, sequential_crew, "crewai-sequential"),
}
MODES = {"default": False, "events": True}
SCENARIOS = [f"{crew}_{mode}" for crew in CREWS for mode in MODES]


def run(name: str, seed: int) -> None:
    from openinference.instrumentation import using_session
    from openinference.instrumentation.crewai import CrewAIInstrumentor

    crew_name, mode = name.rsplit("_", 1)
    write_script, make_crew, session_prefix = CREWS[crew_name]
    session_id = f"{session_prefix}-{mode}-001"  # one session per file, so that the files can share a store
    write_script()
    CALLS.clear()
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"crewai_{name}"}), id_generator=SeededIds(seed)
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = CrewAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider, use_event_listener=MODES[mode], skip_dep_check=True)
    try:
        with fake_openai() as base_url, simulated_clock(), using_session(session_id):
            result = make_crew(base_url).kickoff()
    finally:
        instrumentor.uninstrument()
    provider.shutdown()
    path = HERE / f"crewai_{name}.json"
    path.write_text(json.dumps(to_otlp_json(exporter), indent=1, ensure_ascii=False) + "\n")
    truth = {"result": str(result), "llm_calls": CALLS.copy()}
    (SCRATCH / f"crewai_{name}.calls.json").write_text(json.dumps(truth, indent=1))
    total_in = sum(c["prompt_tokens"] for c in CALLS)
    total_out = sum(c["completion_tokens"] for c in CALLS)
    spans = len(exporter.get_finished_spans())
    print(f"{path.name}: {spans} spans, {len(CALLS)} LLM calls, {total_in}/{total_out} tokens")
    for call in CALLS:
        reply = call["reply"].get("content") or call["reply"]["tool_calls"][0]["function"]["name"]
        usage = f"{call['prompt_tokens']:>5} {call['completion_tokens']:>3}"
        print(f"  {call['agent']:<18} turn {call['turn']} {usage} {reply!r:.70}")


def main(argv: list[str]) -> None:
    chosen = argv or SCENARIOS
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}")
    for name in chosen:
        run(name, seed=SCENARIOS.index(name) + 1)


if __name__ == "__main__":
    main(sys.argv[1:])
