"""Evaluation corpus, batch 2, for stepseven: 21 labeled LangGraph sessions captured offline under OpenInference.

Reuses the machinery of batch 1 (``../corpus/corpus_langgraph.py``, imported by path: scripted fake chat model,
simulated clock, tool factory, OTLP/JSON encoder) and adds new scenarios: other domains, agent and tool names,
run lengths and new variants of each shape. LangGraph runs the way its users run it: ``create_react_agent``,
hand-built ``StateGraph`` loops with ``ToolNode``/``tools_condition``, sub-agents wrapped as tools ("agent as a
tool"), ``langgraph-supervisor`` with ``output_mode="full_history"``, ``RemoveMessage`` pruning nodes,
``trim_messages`` with a message-count token counter, a sliding-window ``pre_model_hook``, ``return_direct`` tools,
``InMemorySaver`` + ``thread_id`` (exported by OpenInference as ``session.id``) and ``recursion_limit`` in the run
config. Only the chat model and the tools' backends are fake. Names, tasks and domains are drawn with a RNG seeded
by the scenario name; session ids are fixed (``langgraph-c2-<scenario>-001``). 7 of the 21 sessions run with
content capture off (``TraceConfig(hide_inputs=True, hide_outputs=True)``).

Run (Python 3.11)::

    /work/cap/langgraph/.venv/bin/python /work/cap/langgraph/corpus2/corpus2_langgraph.py [SCENARIO ...]

It writes ``out/langgraph_b2_<scenario>.json`` (one OTLP/JSON ExportTraceServiceRequest per file) and, when all
scenarios run, ``labels_langgraph.toml`` next to this file. Labels are what the script scripted, never derived
from any tool's output.

Pinned versions (pip freeze of the venv used)::

    langgraph==1.2.24  langgraph-prebuilt==1.1.3  langgraph-checkpoint==4.3.2  langgraph-supervisor==0.0.31
    langchain-core==1.8.3  openinference-instrumentation-langchain==0.1.80  openinference-instrumentation==0.1.72
    openinference-semantic-conventions==0.1.42  opentelemetry-sdk==1.45.2  opentelemetry-api==1.45.2

No network: nothing leaves the process.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import logging
import random
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, RemoveMessage, SystemMessage
from langchain_core.messages.utils import trim_messages
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.errors import GraphRecursionError
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, create_react_agent, tools_condition
from langgraph_supervisor import create_supervisor
from openinference.instrumentation import TraceConfig
from openinference.instrumentation.langchain import LangChainInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer


def _load_batch1() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "corpus" / "corpus_langgraph.py"
    spec = importlib.util.spec_from_file_location("corpus_langgraph_b1", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


B1 = _load_batch1()
CLOCK = B1.CLOCK
Script = B1.Script
Label = B1.Label
Step = B1.Step
make_tool: Callable[[str, str, Callable[..., str]], BaseTool] = B1.make_tool
fake = B1.fake
cfg = B1.cfg
user = B1.user
pick = B1.pick
MODELS: list[str] = B1.MODELS
B1.INT_PARAMS.update({"since_line", "page", "attempt", "guests"})

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PREFIX = "langgraph-c2-"


class Scenario:
    def __init__(self, name: str, content: bool, run: Callable[[random.Random, Tracer], list[Any]]) -> None:
        self.name = name
        self.content = content
        self.run = run


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, content: bool = True) -> Callable[[Callable[..., list[Any]]], Callable[..., list[Any]]]:
    def register(fn: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
        SCENARIOS[name] = Scenario(name, content, fn)
        return fn

    return register


def sid(name: str) -> str:
    return f"{PREFIX}{name.replace('_', '-')}-001"


def label(name: str, kinds: list[str], shape: str, why: str) -> Any:
    return Label(sid(name), kinds, shape, why)


def rid(rng: random.Random) -> str:
    return f"req_{rng.getrandbits(40):010x}"


def tool_loop_graph(model: Any, tools: list[BaseTool], system: str, handle_errors: bool = True) -> Any:
    """The hand-built agent loop from the LangGraph docs: call_model <-> ToolNode via tools_condition."""
    sys_msg = SystemMessage(system)

    def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke([sys_msg, *state["messages"]])]}

    graph = StateGraph(MessagesState)
    graph.add_node("call_model", call_model)
    graph.add_node("tools", ToolNode(tools, handle_tool_errors=handle_errors))
    graph.add_edge(START, "call_model")
    graph.add_conditional_edges("call_model", tools_condition)
    graph.add_edge("tools", "call_model")
    return graph


def agent_as_tool(
    agent: Any, name: str, description: str, recursion_limit: int | None = None, pick_last: bool = True
) -> BaseTool:
    """Wrap a compiled sub-agent as a tool (the 'agent as a tool' delegation style)."""

    def run(question: str) -> str:
        config: dict[str, Any] = {} if recursion_limit is None else {"recursion_limit": recursion_limit}
        result = agent.invoke({"messages": [{"role": "user", "content": question}]}, config)
        return str(result["messages"][-1 if pick_last else 0].content)

    return StructuredTool.from_function(func=run, name=name, description=description)


# ----------------------------------------------------------------------------------------------------------------
# runaway_loop positives
# ----------------------------------------------------------------------------------------------------------------


@scenario("alternating_rewordings_soft_stop")
def alternating_rewordings_soft_stop(rng: random.Random, tracer: Tracer) -> list[Any]:
    """Two re-wordings of one lookup alternate; the same stale result every time; even recursion_limit soft-stops."""
    product, a, b = pick(
        rng,
        [
            ("the Zephyr X2 kettle recall", "Zephyr X2 kettle recall notice", "Zephyr X2 recall safety notice"),
            ("the FDA status of Lumirex 20mg", "Lumirex 20mg FDA approval status", "Lumirex 20mg FDA status approval"),
        ],
    )
    agent_name = pick(rng, ["compliance_researcher", "safety_analyst", "regulatory_agent"])
    tool_name = pick(rng, ["kb_search", "news_lookup", "search_news"])
    stale = "No official notice found. Top hit: forum thread 'any news?' (2 replies, 2024)."
    s = Script(rng, base_tokens=520)

    def loop() -> Iterator[Any]:
        for q in itertools.cycle([a, b]):
            yield s.call(tool_name, {"query": q})

    agent = create_react_agent(
        fake(pick(rng, MODELS), loop()),
        tools=[make_tool(tool_name, "Search news and knowledge base.", lambda query: stale)],
        name=agent_name,
        prompt="You check product safety status for a retailer. Always cite an official source.",
    )
    limit = 8
    agent.invoke(
        user(f"What's {product}? Quote the official notice."), cfg(sid("alternating_rewordings_soft_stop"), limit)
    )
    return [
        label(
            "alternating_rewordings_soft_stop",
            ["runaway_loop"],
            "alternating_rewordings_until_limit",
            f"{agent_name} alternated two re-wordings ('{a}' / '{b}') of the same {tool_name} query; every result "
            f"was the same stale forum hit (no new information); recursion_limit={limit} (even) made the prebuilt "
            "agent stop with 'Sorry, need more steps to process this request.' Task never done.",
        )
    ]


@scenario("same_error_varying_request_id", content=False)
def same_error_varying_request_id(rng: random.Random, tracer: Tracer) -> list[Any]:
    """Shipping agent: create_label fails 3x with a 503 that differs only by request_id; other tools between."""
    agent_name = pick(rng, ["shipping_agent", "fulfilment_agent", "logistics_agent"])
    carrier = pick(rng, ["DHL", "UPS", "FedEx"])
    order = f"SO-{rng.randint(100000, 999999)}"
    s = Script(rng)
    rids: list[str] = []

    def fail(order_id: str, service: str) -> str:
        rids.append(rid(rng))
        raise RuntimeError(f"{carrier} label API 503 Service Unavailable (request_id={rids[-1]})")

    tools = [
        make_tool("create_label", "Buy a shipping label.", fail),
        make_tool("get_order", "Order details.", lambda order_id: f"{order_id}: 2 parcels, 3.4 kg, to Rotterdam NL"),
        make_tool("validate_address", "Validate an address.", lambda order_id: "address valid"),
        make_tool("get_rates", "Carrier rates.", lambda order_id: f"{carrier} express 18.40 EUR; economy 9.10 EUR"),
    ]
    script: list[Any] = [
        s.call("get_order", {"order_id": order}),
        s.call("create_label", {"order_id": order, "service": "express"}),
        s.call("validate_address", {"order_id": order}),
        s.call("create_label", {"order_id": order, "service": "express"}),
        s.call("get_rates", {"order_id": order}),
        s.call("create_label", {"order_id": order, "service": "express"}),
        s.call("get_order", {"order_id": order}),
        s.call("create_label", {"order_id": order, "service": "express"}),
        s.say(f"I couldn't create the {carrier} label for {order}; the carrier keeps returning 503."),
    ]
    agent = create_react_agent(
        fake(pick(rng, MODELS), script),
        tools=ToolNode(tools, handle_tool_errors=True),
        name=agent_name,
        prompt="You create shipping labels for orders.",
    )
    agent.invoke(user(f"Ship order {order} express today."), cfg(sid("same_error_varying_request_id"), 30))
    return [
        label(
            "same_error_varying_request_id",
            ["runaway_loop"],
            "same_error_varying_only_by_request_id",
            f"create_label failed 4 times with the same '{carrier} label API 503 Service Unavailable' error whose "
            "only difference is the request_id; get_order/validate_address/get_rates ran in between and changed "
            "nothing; the agent gave up without a label. Content capture off.",
        )
    ]


@scenario("log_tail_never_finishes", content=False)
def log_tail_never_finishes(rng: random.Random, tracer: Tracer) -> list[Any]:
    """CI agent tails a build log with an advancing since_line; the build never finishes; GraphRecursionError."""
    agent_name = pick(rng, ["ci_agent", "build_watcher", "release_agent"])
    build = f"build-{rng.randint(1000, 9999)}"
    s = Script(rng)

    def tail(build_id: str, since_line: int) -> str:
        return f"lines {since_line}-{since_line + 250}: compiling... status=running, next_since={since_line + 250}"

    def loop() -> Iterator[Any]:
        for n in itertools.count():
            yield s.call("tail_build_log", {"build_id": build, "since_line": n * 250})

    agent = create_react_agent(
        fake(pick(rng, MODELS), loop()),
        tools=[make_tool("tail_build_log", "Read new build log lines.", tail)],
        name=agent_name,
        prompt="You watch CI builds and report the result.",
    )
    limit = pick(rng, [13, 15, 17])
    try:
        agent.invoke(user(f"Tell me whether {build} passes."), cfg(sid("log_tail_never_finishes"), limit))
    except GraphRecursionError:
        pass
    else:
        raise AssertionError("expected GraphRecursionError")
    return [
        label(
            "log_tail_never_finishes",
            ["runaway_loop"],
            "poller_advancing_argument_never_finishes",
            f"tail_build_log was called with since_line 0,250,500,... (argument advances each call); the build "
            f"stayed status=running forever; recursion_limit={limit} (odd) raised GraphRecursionError. Content off.",
        )
    ]


class CodeState(MessagesState):
    attempts: int
    passed: bool


def codegen_graph(model: Any, results: Iterator[str], max_attempts: int | None) -> Any:
    """Hand-built generate -> run_tests reflection loop (LangGraph code-assistant tutorial shape)."""
    system = SystemMessage("You are a coding assistant. Reply with the full corrected function only.")

    def generate(state: CodeState) -> dict[str, Any]:
        return {"messages": [model.invoke([system, *state["messages"]])], "attempts": state.get("attempts", 0) + 1}

    def run_tests(state: CodeState) -> dict[str, Any]:
        CLOCK.advance(3.1)
        out = next(results)
        ok = out.startswith("PASSED")
        return {"messages": [HumanMessage(f"pytest output:\n{out}")], "passed": ok}

    def route(state: CodeState) -> str:
        if state["passed"] or (max_attempts is not None and state["attempts"] >= max_attempts):
            return END
        return "generate"

    graph = StateGraph(CodeState)
    graph.add_node("generate", generate)
    graph.add_node("run_tests", run_tests)
    graph.add_edge(START, "generate")
    graph.add_edge("generate", "run_tests")
    graph.add_conditional_edges("run_tests", route, ["generate", END])
    return graph.compile()


@scenario("codegen_reflection_same_failure")
def codegen_reflection_same_failure(rng: random.Random, tracer: Tracer) -> list[Any]:
    """generate -> run_tests loop without an attempt cap; the same TypeError every time; GraphRecursionError."""
    fn = pick(rng, ["merge_intervals", "parse_duration", "dedupe_emails"])
    s = Script(rng)
    err = (
        f"FAILED tests/test_{fn}.py::test_empty - TypeError: unsupported operand type(s) for |: 'type' and "
        "'NoneType'\n1 failed, 6 passed"
    )
    variants = [
        f"def {fn}(items: list[str] | None = None) -> list[str]:\n    items = items or []\n    return sorted(items)",
        f"def {fn}(items: list[str] | None = None) -> list[str]:\n    if not items:\n        return []\n    ...",
        f"def {fn}(items: list[str] | None = None) -> list[str]:\n    return list(items or [])",
    ]
    model = fake(pick(rng, MODELS), (s.say(v) for v in itertools.cycle(variants)), latency=2.0)
    app = codegen_graph(model, itertools.repeat(err), None)
    limit = 9
    with tracer.start_as_current_span("worker.task fix_failing_test"):
        try:
            app.invoke(
                {"messages": [HumanMessage(f"Fix {fn} so tests/test_{fn}.py passes on our Python 3.9 runners.")]},
                cfg(sid("codegen_reflection_same_failure"), limit),
            )
        except GraphRecursionError:
            pass
        else:
            raise AssertionError("expected GraphRecursionError")
    return [
        label(
            "codegen_reflection_same_failure",
            ["runaway_loop"],
            "code_steps_fail_same_way_until_recursion_limit",
            f"a hand-built generate->run_tests StateGraph with no attempt cap rewrote {fn} 5 times, each version "
            "still using 'list[str] | None' (PEP 604, needs 3.10) and each test run failed with the same TypeError; "
            f"recursion_limit={limit} raised GraphRecursionError inside a worker harness span.",
        )
    ]


@scenario("subagent_tool_recursion_limit", content=False)
def subagent_tool_recursion_limit(rng: random.Random, tracer: Tracer) -> list[Any]:
    """Agent-as-tool: the visa sub-agent repeats the same lookup until its own recursion_limit; caller gives up."""
    sub_name = pick(rng, ["visa_agent", "immigration_agent"])
    caller = pick(rng, ["trip_coordinator", "travel_concierge"])
    country = pick(rng, ["Vietnam", "India", "Brazil"])
    s = Script(rng)

    def loop() -> Iterator[Any]:
        while True:
            yield s.call("lookup_visa_rules", {"country": country, "passport": "CA"})

    sub = create_react_agent(
        fake(pick(rng, MODELS), loop()),
        tools=[make_tool("lookup_visa_rules", "Visa rules.", lambda country, passport: "rules service: pending")],
        name=sub_name,
        prompt="You answer visa questions from the official rules service.",
    )
    tool_name = f"ask_{sub_name}"
    tools = [
        agent_as_tool(sub, tool_name, "Ask the visa specialist agent.", recursion_limit=7),
        make_tool("search_flights", "Flights.", lambda route: f"{route}: 2 options, from 812 CAD"),
    ]
    script: list[Any] = [
        s.calls([("search_flights", {"route": f"YVR-{country[:3].upper()}"}), (tool_name, {"question": "visa?"})]),
        s.say(f"I found flights from 812 CAD, but I couldn't get the visa requirements for {country}."),
    ]
    agent = create_react_agent(
        fake(pick(rng, MODELS), script),
        tools=ToolNode(tools, handle_tool_errors=True),
        name=caller,
        prompt="You plan trips end to end.",
    )
    agent.invoke(
        user(f"Plan a trip to {country} in March, Canadian passport."), cfg(sid("subagent_tool_recursion_limit"))
    )
    return [
        label(
            "subagent_tool_recursion_limit",
            ["failed_handoff", "runaway_loop"],
            "agent_as_tool_subagent_hits_recursion_limit",
            f"{caller} delegated to {sub_name} (a react agent wrapped as a tool); the sub-agent repeated the "
            "identical lookup_visa_rules call, always 'pending', until its recursion_limit=7 raised "
            "GraphRecursionError, which reached the caller as a tool error; the visa part was never answered. "
            "Content capture off.",
        )
    ]


# ----------------------------------------------------------------------------------------------------------------
# context_rot positives
# ----------------------------------------------------------------------------------------------------------------


def pruning_graph(model: Any, tools: list[BaseTool], system: str, pin_first: bool) -> Any:
    """Hand-built loop with a 'delete old messages' node (RemoveMessage) after each tool round."""
    sys_msg = SystemMessage(system)

    def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke([sys_msg, *state["messages"]])]}

    def prune(state: MessagesState) -> dict[str, Any]:
        msgs = state["messages"]
        old = msgs[1:-2] if pin_first else msgs[:-2]
        return {"messages": [RemoveMessage(id=str(m.id)) for m in old]}

    graph = StateGraph(MessagesState)
    graph.add_node("call_model", call_model)
    graph.add_node("tools", ToolNode(tools))
    graph.add_node("prune_history", prune)
    graph.add_edge(START, "call_model")
    graph.add_conditional_edges("call_model", tools_condition)
    graph.add_edge("tools", "prune_history")
    graph.add_edge("prune_history", "call_model")
    return graph.compile()


@scenario("removemessage_prune_drops_allergy")
def removemessage_prune_drops_allergy(rng: random.Random, tracer: Tracer) -> list[Any]:
    """A pruning node deletes all but the last 2 messages; the peanut allergy goes; it plans peanut satay."""
    guests = pick(rng, [4, 6, 8])
    s = Script(rng)
    recipes = (
        "1. Peanut satay noodles (contains peanuts) 25 min; 2. Lemon chickpea pasta 20 min; 3. Tofu stir-fry 15 min"
    )
    tools = [
        make_tool("search_recipes", "Search recipes.", lambda query: recipes),
        make_tool("add_to_meal_plan", "Add a recipe.", lambda recipe, guests: f"added '{recipe}' for {guests}"),
    ]
    script: list[Any] = [
        s.call("search_recipes", {"query": "quick weeknight dinner"}),
        s.call("add_to_meal_plan", {"recipe": "Peanut satay noodles", "guests": guests}),
        s.say(f"Added Peanut satay noodles for {guests} to Thursday's plan - the crowd favourite."),
    ]
    app = pruning_graph(fake(pick(rng, MODELS), script), tools, "You are a meal-planning assistant.", pin_first=False)
    app.invoke(
        user(f"Plan Thursday dinner for {guests}. One guest has a severe peanut allergy, so nothing with peanuts."),
        cfg(sid("removemessage_prune_drops_allergy")),
    )
    return [
        label(
            "removemessage_prune_drops_allergy",
            ["context_rot"],
            "removemessage_pruning_drops_constraint",
            "a prune_history node returned RemoveMessage for every message but the last 2 after each tool round, so "
            "the user's 'severe peanut allergy, nothing with peanuts' was deleted from the state; the model then "
            "added 'Peanut satay noodles' to the plan although two peanut-free options were in the result.",
        )
    ]


def chat_graph(model: Any, window: int | None) -> Any:
    """A plain chatbot graph; history (SystemMessage stored in the state) trimmed by message count."""

    def chat(state: MessagesState) -> dict[str, Any]:
        msgs: list[BaseMessage] = state["messages"]
        if window is not None:
            msgs = trim_messages(msgs, strategy="last", token_counter=len, max_tokens=window)
        return {"messages": [model.invoke(msgs)]}

    graph = StateGraph(MessagesState)
    graph.add_node("chat", chat)
    graph.add_edge(START, "chat")
    graph.add_edge("chat", END)
    return graph.compile(checkpointer=InMemorySaver())


@scenario("system_prompt_trimmed_away")
def system_prompt_trimmed_away(rng: random.Random, tracer: Tracer) -> list[Any]:
    """Bank chatbot: trim_messages(token_counter=len) without include_system drops the system message in turn 3."""
    bank = pick(rng, ["Nordbank", "Hanse Sparkasse", "Alpenbank"])
    s = Script(rng)
    system = (
        f"You are the {bank} assistant. Always answer in German. Never state interest rates; refer the customer "
        "to an adviser for rates."
    )
    script: list[Any] = [
        s.say("Gern! Für ein Tagesgeldkonto brauchen Sie nur Ihren Ausweis und eine deutsche Adresse."),
        s.say("Die Kontoeröffnung dauert online etwa zehn Minuten."),
        s.say("Sure! Our overnight savings account currently pays 2.75% p.a. on balances up to EUR 100,000."),
    ]
    app = chat_graph(fake(pick(rng, MODELS), script), window=5)
    config = cfg(sid("system_prompt_trimmed_away"))
    app.invoke({"messages": [SystemMessage(system), HumanMessage("Was brauche ich für ein Tagesgeldkonto?")]}, config)
    app.invoke({"messages": [HumanMessage("Wie lange dauert die Eröffnung?")]}, config)
    app.invoke({"messages": [HumanMessage("And what interest do I get?")]}, config)
    return [
        label(
            "system_prompt_trimmed_away",
            ["context_rot"],
            "trim_drops_system_instructions",
            "3-turn chatbot with the SystemMessage kept in the checkpointed state; trim_messages(token_counter=len, "
            "max_tokens=5, strategy='last') without include_system=True kept it in turns 1-2 but dropped it in "
            "turn 3, and "
            "the model answered in English and quoted an interest rate, both forbidden by the system instructions.",
        )
    ]


@scenario("context_length_multi_turn_growth", content=False)
def context_length_multi_turn_growth(rng: random.Random, tracer: Tracer) -> list[Any]:
    """Contract review over 3 turns on one thread; history grows until turn 3's call hits the provider limit."""
    agent_name = pick(rng, ["contract_reviewer", "legal_assistant"])
    s = Script(rng, base_tokens=41000)
    docs = {d: f"{d}: " + "clause " * 400 for d in ["MSA-2024.pdf", "DPA-v3.pdf", "SOW-17.pdf"]}
    tools = [make_tool("read_document", "Full text of a document.", lambda name: docs.get(name, "not found"))]
    script: list[Any] = [
        s.call("read_document", {"name": "MSA-2024.pdf"}),
        s.say("The MSA caps liability at 12 months of fees."),
        s.call("read_document", {"name": "DPA-v3.pdf"}),
        s.say("The DPA allows sub-processors with 30 days' notice."),
        s.call("read_document", {"name": "SOW-17.pdf"}),
        B1.ContextLengthExceededError(
            "Error code: 400 - {'type': 'error', 'error': {'type': 'invalid_request_error', "
            "'message': 'prompt is too long: 204817 tokens > 200000 maximum'}}"
        ),
    ]
    agent = create_react_agent(
        fake("claude-sonnet-4-5", script),
        tools=tools,
        name=agent_name,
        prompt="You review contracts for a procurement team.",
        checkpointer=InMemorySaver(),
    )
    config = cfg(sid("context_length_multi_turn_growth"))
    agent.invoke(user("What's the liability cap in MSA-2024.pdf?"), config)
    agent.invoke(user("Does DPA-v3.pdf allow sub-processors?"), config)
    try:
        agent.invoke(user("Does SOW-17.pdf conflict with either?"), config)
    except B1.ContextLengthExceededError:
        pass
    return [
        label(
            "context_length_multi_turn_growth",
            ["context_rot"],
            "context_length_error_after_multi_turn_growth",
            "3 turns on one thread with an InMemorySaver and no trimming; each turn added a full document to the "
            "history; the turn-3 model call raised a 400 'prompt is too long: 204817 tokens > 200000 maximum' and "
            "the turn failed. Content capture off.",
        )
    ]


def sliding_window_hook(keep: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A naive 'last N messages' window (sliced, then advanced to the first human message)."""

    def pre_model_hook(state: dict[str, Any]) -> dict[str, Any]:
        window = list(state["messages"][-keep:])
        while window and not isinstance(window[0], HumanMessage):
            window.pop(0)
        return {"llm_input_messages": window}

    return pre_model_hook


@scenario("sliding_window_reasks_email")
def sliding_window_reasks_email(rng: random.Random, tracer: Tracer) -> list[Any]:
    """Airline rebooking, 3 turns; a last-4-messages window loses the email from turn 1; it asks for it again."""
    agent_name = pick(rng, ["rebooking_agent", "airline_assistant"])
    email = pick(rng, ["m.okafor@example.org", "j.lindqvist@example.net", "a.sato@example.com"])
    pnr = f"{rng.choice('KQXZ')}{rng.randint(10000, 99999)}"
    s = Script(rng)
    tools = [
        make_tool("list_alternatives", "Alternative flights.", lambda pnr: "TP540 15 Mar 07:10; TP544 15 Mar 18:45"),
    ]
    script: list[Any] = [
        s.say("I'm sorry about the cancellation. I can rebook you free of charge."),
        s.call("list_alternatives", {"pnr": pnr}),
        s.say("Options: TP540 at 07:10 or TP544 at 18:45 on 15 March."),
        s.say("TP544 it is. Which email address should I send the new e-ticket to?"),
    ]
    agent = create_react_agent(
        fake(pick(rng, MODELS), script),
        tools=tools,
        name=agent_name,
        prompt="You rebook disrupted passengers.",
        pre_model_hook=sliding_window_hook(6),
        checkpointer=InMemorySaver(),
    )
    config = cfg(sid("sliding_window_reasks_email"))
    agent.invoke(user(f"My flight {pnr} was cancelled. Please send everything to {email}."), config)
    agent.invoke(user("What are my options?"), config)
    agent.invoke(user("The evening one, please."), config)
    return [
        label(
            "sliding_window_reasks_email",
            ["context_rot"],
            "multi_turn_reasks_given_info_sliding_window",
            f"3 turns on one thread; a pre_model_hook kept only the last 6 messages (cut to start on a human one), so "
            f"turn 2 still saw everything but by turn 3 the model no "
            f"longer saw turn 1 and asked for the email address ({email}) the user had given in turn 1.",
        )
    ]


# ----------------------------------------------------------------------------------------------------------------
# failed_handoff positives (agent-as-tool delegation)
# ----------------------------------------------------------------------------------------------------------------


@scenario("subagent_model_timeout")
def subagent_model_timeout(rng: random.Random, tracer: Tracer) -> list[Any]:
    """Agent-as-tool: the billing specialist's model call times out mid-run; the router gets a tool error."""
    sub_name = pick(rng, ["billing_specialist", "refunds_specialist"])
    router = pick(rng, ["support_router", "frontdesk_agent"])
    account = f"ACC-{rng.randint(1000, 9999)}"
    s = Script(rng)
    sub = create_react_agent(
        fake(
            pick(rng, MODELS),
            [s.call("get_charges", {"account_id": account}), TimeoutError("Request timed out.")],
        ),
        tools=[make_tool("get_charges", "Charges.", lambda account_id: "2025-11-02 49.00; 2025-11-02 49.00 (dup)")],
        name=sub_name,
        prompt="You resolve billing disputes; you can see charges and issue refunds.",
    )
    tool_name = f"ask_{sub_name}"
    agent = create_react_agent(
        fake(
            pick(rng, MODELS),
            [
                s.call(tool_name, {"question": f"Customer {account} says they were charged twice in November."}),
                s.say("Sorry, our billing team is unavailable right now. I've noted your case; please try later."),
            ],
        ),
        tools=ToolNode([agent_as_tool(sub, tool_name, "Delegate to the billing specialist.")], handle_tool_errors=True),
        name=router,
        prompt="You are the first line of support; delegate billing questions to the specialist.",
    )
    agent.invoke(user(f"I was charged twice in November, account {account}."), cfg(sid("subagent_model_timeout")))
    return [
        label(
            "subagent_model_timeout",
            ["failed_handoff"],
            "agent_as_tool_subagent_raises",
            f"{router} delegated to {sub_name} (react agent wrapped as a tool); the sub-agent found the duplicate "
            "charge, then its next model call raised TimeoutError('Request timed out.'); the error came back to the "
            "router as a tool error and the refund was never done.",
        )
    ]


@scenario("return_direct_drops_findings")
def return_direct_drops_findings(rng: random.Random, tracer: Tracer) -> list[Any]:
    """Sub-agent's save tool has return_direct=True; its run ends on the tool's ack, so the caller gets no findings."""
    sub_name = pick(rng, ["market_researcher", "desk_researcher"])
    caller = pick(rng, ["strategy_lead", "pm_assistant"])
    topic = pick(rng, ["EV charging in Poland", "plant-based dairy in Japan", "B2B payroll SaaS in Mexico"])
    s = Script(rng)
    draft = f"d-{rng.randint(100, 999)}"
    save = StructuredTool.from_function(
        func=lambda title, body: f"Saved draft {draft}.",
        name="save_draft",
        description="Save a research draft.",
        return_direct=True,
    )
    findings = f"{topic}: market ~1.2bn USD, CAGR 14%, top 3 players hold 61%."
    sub = create_react_agent(
        fake(
            pick(rng, MODELS),
            [
                s.call("web_search", {"query": f"{topic} market size 2025"}),
                s.call("save_draft", {"title": topic, "body": findings}),
            ],
        ),
        tools=[make_tool("web_search", "Search the web.", lambda query: findings), save],
        name=sub_name,
        prompt="You research markets. Save your findings as a draft, then summarise them.",
    )
    tool_name = f"delegate_to_{sub_name}"
    agent = create_react_agent(
        fake(
            pick(rng, MODELS),
            [
                s.call(tool_name, {"question": f"Size and growth of {topic}?"}),
                s.say(f"The researcher only reported 'Saved draft {draft}.' - I don't have the market numbers yet."),
            ],
        ),
        tools=[agent_as_tool(sub, tool_name, "Delegate market research.")],
        name=caller,
        prompt="You prepare market-entry briefs.",
    )
    agent.invoke(user(f"Brief me on {topic}: size and growth."), cfg(sid("return_direct_drops_findings")))
    return [
        label(
            "return_direct_drops_findings",
            ["failed_handoff"],
            "subagent_output_never_reaches_caller_return_direct",
            f"{sub_name} found the numbers, then called save_draft, a return_direct=True tool, so its run ended on "
            f"the tool's 'Saved draft {draft}.'; the agent-as-tool wrapper returned that last message and {caller} "
            "never received the findings.",
        )
    ]


@scenario("delegation_invalid_args_never_starts")
def delegation_invalid_args_never_starts(rng: random.Random, tracer: Tracer) -> list[Any]:
    """The delegation tool needs case_id; the caller omits it; ToolNode rejects the call; the sub-agent never runs."""
    caller = pick(rng, ["hr_assistant", "people_ops_agent"])
    s = Script(rng)
    legal = create_react_agent(
        fake(pick(rng, MODELS), [s.say("unused")]),
        tools=[],
        name="employment_law_agent",
        prompt="You answer employment-law questions for a given case.",
    )

    def ask_legal(case_id: str, question: str) -> str:
        out = legal.invoke({"messages": [{"role": "user", "content": f"[{case_id}] {question}"}]})
        return str(out["messages"][-1].content)

    tool = StructuredTool.from_function(
        func=ask_legal, name="ask_employment_law_agent", description="Ask the employment-law agent about a case."
    )
    agent = create_react_agent(
        fake(
            pick(rng, MODELS),
            [
                s.call("ask_employment_law_agent", {"question": "Can we extend the probation period to 9 months?"}),
                s.say("I couldn't reach the employment-law team, so I can't confirm the probation extension."),
            ],
        ),
        tools=[tool],
        name=caller,
        prompt="You help HR managers; legal questions go to the employment-law agent.",
    )
    agent.invoke(
        user("Case HR-2291: can we extend the new hire's probation to 9 months?"),
        cfg(sid("delegation_invalid_args_never_starts")),
    )
    return [
        label(
            "delegation_invalid_args_never_starts",
            ["failed_handoff"],
            "delegation_target_never_starts_invalid_args",
            f"{caller} called ask_employment_law_agent without the required case_id; the default ToolNode answered "
            "with a validation error ToolMessage, the employment-law sub-agent never ran (no span of it), and the "
            "caller gave up without the legal answer.",
        )
    ]


# ----------------------------------------------------------------------------------------------------------------
# negatives (healthy twins)
# ----------------------------------------------------------------------------------------------------------------


@scenario("alternating_search_new_info")
def alternating_search_new_info(rng: random.Random, tracer: Tracer) -> list[Any]:
    """Two alternating re-wordings, each result new (date-sorted feed); then a formatter node with its own prompt."""
    lib = pick(rng, ["pydantic", "fastapi", "polars"])
    s = Script(rng)
    feed = iter(
        [
            f"{lib} 3.1 changelog: drops Python 3.8; new TypeAdapter cache.",
            f"{lib} 3.1 migration guide: Config.extra renamed to model_config['extra'].",
            f"{lib} 3.1.2 release notes: fixes regression in JSON schema for Optional fields.",
        ]
    )
    tool_name = pick(rng, ["docs_search", "search_docs"])
    qa, qb = f"{lib} 3.1 breaking changes", f"{lib} 3.1 upgrade breaking changes"
    agent = create_react_agent(
        fake(
            pick(rng, MODELS),
            [
                s.call(tool_name, {"query": qa}),
                s.call(tool_name, {"query": qb}),
                s.call(tool_name, {"query": qa}),
                s.say("Breaking: no 3.8, Config.extra renamed; 3.1.2 fixes the Optional schema regression."),
            ],
        ),
        tools=[make_tool(tool_name, "Search docs (newest first, unseen results only).", lambda query: next(feed))],
        name=pick(rng, ["upgrade_advisor", "dependency_agent"]),
        prompt="You advise on dependency upgrades.",
    )
    formatter = fake("gpt-4.1-mini", [s.say("- Drops 3.8\n- Config.extra -> model_config['extra']\n- Use 3.1.2+")])

    def format_answer(state: MessagesState) -> dict[str, Any]:
        system = SystemMessage("Rewrite the last answer as at most three bullet points.")
        return {"messages": [formatter.invoke([system, state["messages"][-1]])]}

    graph = StateGraph(MessagesState)
    graph.add_node("research", agent)
    graph.add_node("format_answer", format_answer)
    graph.add_edge(START, "research")
    graph.add_edge("research", "format_answer")
    graph.add_edge("format_answer", END)
    app: Any = graph.compile()
    app.invoke(user(f"What breaks if we upgrade {lib} to 3.1?"), cfg(sid("alternating_search_new_info")))
    return [
        label(
            "alternating_search_new_info",
            [],
            "alternating_rewordings_each_new_info",
            f"the agent alternated two re-wordings of '{lib} 3.1 breaking changes' (A, B, A) but each result was a "
            "new document; it answered with all three facts, then a formatter node (own system prompt) rewrote "
            "the answer. Healthy.",
        )
    ]


@scenario("rate_limit_retried_once_each", content=False)
def rate_limit_retried_once_each(rng: random.Random, tracer: Tracer) -> list[Any]:
    """Two different tools each hit a 429 (request ids differ) once; each immediate retry succeeds; task done."""
    agent_name = pick(rng, ["crm_sync_agent", "sales_ops_agent"])
    s = Script(rng)
    flaky: dict[str, int] = {}

    def once(key: str, ok: str) -> Callable[..., str]:
        def fn(**kwargs: Any) -> str:
            flaky[key] = flaky.get(key, 0) + 1
            if flaky[key] == 1:
                raise RuntimeError(f"429 Too Many Requests: rate limit exceeded (request_id={rid(rng)})")
            return ok

        return fn

    lead = f"LEAD-{rng.randint(1000, 9999)}"
    fetch = once("fetch", f"{lead}: Dana Ruiz, Northwind, stage=qualified")

    def fetch_lead(lead_id: str) -> str:
        return fetch(lead_id=lead_id)

    upd = once("update", "updated")

    def update_deal(lead_id: str, stage: str) -> str:
        return upd(lead_id=lead_id, stage=stage)

    tools = [
        make_tool("fetch_lead", "Fetch a CRM lead.", fetch_lead),
        make_tool("update_deal", "Update deal stage.", update_deal),
        make_tool("log_activity", "Log an activity.", lambda lead_id, note: "logged"),
    ]
    script: list[Any] = [
        s.call("fetch_lead", {"lead_id": lead}),
        s.call("fetch_lead", {"lead_id": lead}),
        s.call("log_activity", {"lead_id": lead, "note": "demo booked"}),
        s.call("update_deal", {"lead_id": lead, "stage": "demo"}),
        s.call("update_deal", {"lead_id": lead, "stage": "demo"}),
        s.say(f"{lead} moved to 'demo' and the activity is logged."),
    ]
    agent = create_react_agent(
        fake(pick(rng, MODELS), script),
        tools=ToolNode(tools, handle_tool_errors=True),
        name=agent_name,
        prompt="You keep the CRM up to date.",
    )
    agent.invoke(
        user(f"Log that we booked a demo with {lead} and move the deal on."), cfg(sid("rate_limit_retried_once_each"))
    )
    return [
        label(
            "rate_limit_retried_once_each",
            [],
            "error_retried_once_recovers_twice",
            "fetch_lead and update_deal each raised a 429 rate-limit error once (different request_ids); each "
            "identical retry succeeded at once, log_activity ran between, and the task finished. Healthy. Content off.",
        )
    ]


@scenario("pager_finishes_advancing", content=False)
def pager_finishes_advancing(rng: random.Random, tracer: Tracer) -> list[Any]:
    """Pages through audit events with an advancing page argument; the 4th page says has_more=false."""
    agent_name = pick(rng, ["security_auditor", "audit_agent"])
    pages = pick(rng, [4, 5])
    s = Script(rng)

    def page_fn(page: int) -> str:
        more = page < pages
        return f"page {page}: 50 events (3 failed logins) has_more={'true' if more else 'false'}"

    script: list[Any] = [s.call("list_audit_events", {"page": p}) for p in range(1, pages + 1)]
    script.append(s.say(f"Reviewed {pages * 50} events; {pages * 3} failed logins, none from new countries."))
    agent = create_react_agent(
        fake(pick(rng, MODELS), script),
        tools=[make_tool("list_audit_events", "Audit events, 50 per page.", page_fn)],
        name=agent_name,
        prompt="You review security audit logs.",
    )
    agent.invoke(user("Review yesterday's audit log for suspicious logins."), cfg(sid("pager_finishes_advancing")))
    return [
        label(
            "pager_finishes_advancing",
            [],
            "pager_advances_and_finishes",
            f"list_audit_events called with page 1..{pages}, the last page returned has_more=false and the agent "
            "answered. Healthy. Content capture off.",
        )
    ]


@scenario("codegen_reflection_passes")
def codegen_reflection_passes(rng: random.Random, tracer: Tracer) -> list[Any]:
    """Same generate -> run_tests loop (with an attempt cap); failures differ each time; passes on the 3rd try."""
    fn = pick(rng, ["slugify", "make_slug", "title_to_slug"])
    s = Script(rng)
    results = iter(
        [
            f"FAILED tests/test_{fn}.py::test_unicode - AssertionError: 'cafe' != 'café'\n1 failed, 5 passed",
            f"FAILED tests/test_{fn}.py::test_empty - IndexError: list index out of range\n1 failed, 5 passed",
            "PASSED 6 passed in 0.41s",
        ]
    )
    model = fake(
        pick(rng, MODELS),
        [
            s.say(f"def {fn}(s):\n    return s.lower().replace(' ', '-')"),
            s.say(f"def {fn}(s):\n    s = unicodedata.normalize('NFC', s)\n    return s.split()[0].lower()"),
            s.say(f"def {fn}(s):\n    s = unicodedata.normalize('NFC', s)\n    return '-'.join(s.lower().split())"),
        ],
        latency=2.0,
    )
    app = codegen_graph(model, results, 5)
    app.invoke(
        {"messages": [HumanMessage(f"Fix {fn} so tests/test_{fn}.py passes.")]}, cfg(sid("codegen_reflection_passes"))
    )
    return [
        label(
            "codegen_reflection_passes",
            [],
            "code_retries_different_failures_then_pass",
            f"generate->run_tests StateGraph (attempt cap 5) rewrote {fn} 3 times; the first two runs failed with "
            "different errors (AssertionError, then IndexError), the third passed. Progress each step. Healthy.",
        )
    ]


@scenario("removemessage_prune_keeps_constraint")
def removemessage_prune_keeps_constraint(rng: random.Random, tracer: Tracer) -> list[Any]:
    """Same pruning node, but the first user message is pinned; the vegan constraint survives and is respected."""
    guests = pick(rng, [30, 45, 60])
    s = Script(rng)
    menus = "A. BBQ brisket buffet 22 EUR/pp; B. Vegan mezze buffet 19 EUR/pp; C. Fish and chips 18 EUR/pp"
    tools = [
        make_tool("search_caterers", "Caterer menus.", lambda city: menus),
        make_tool("book_caterer", "Book a menu.", lambda menu, guests: f"booked {menu} x{guests}, ref CAT-{guests}7"),
    ]
    script: list[Any] = [
        s.call("search_caterers", {"city": "Utrecht"}),
        s.call("book_caterer", {"menu": "Vegan mezze buffet", "guests": guests}),
        s.say(f"Booked the vegan mezze buffet for {guests} (19 EUR pp), ref CAT-{guests}7."),
    ]
    app = pruning_graph(fake(pick(rng, MODELS), script), tools, "You organise company events.", pin_first=True)
    app.invoke(
        user(f"Book catering for our Utrecht offsite, {guests} people. Everything must be vegan."),
        cfg(sid("removemessage_prune_keeps_constraint")),
    )
    return [
        label(
            "removemessage_prune_keeps_constraint",
            [],
            "pruning_keeps_pinned_constraint",
            "the prune_history node deleted old messages with RemoveMessage after each tool round but pinned the "
            "first user message, so 'everything must be vegan' stayed in every model input; the agent booked the "
            "vegan menu. Compaction without loss. Healthy.",
        )
    ]


@scenario("multi_turn_clarifying_question")
def multi_turn_clarifying_question(rng: random.Random, tracer: Tracer) -> list[Any]:
    """The agent asks for a booking reference the user had NOT given yet (twin of a re-ask); then completes."""
    agent_name = pick(rng, ["hotel_desk_agent", "stay_assistant"])
    ref = f"HB-{rng.randint(100000, 999999)}"
    s = Script(rng)
    tools = [
        make_tool("get_reservation", "Reservation.", lambda ref: f"{ref}: 2 nights from 20 Feb, room 1 double"),
        make_tool("change_dates", "Move a reservation.", lambda ref, check_in: f"{ref} moved to {check_in}"),
    ]
    script: list[Any] = [
        s.say("Happy to help move your stay. What is your booking reference?"),
        s.call("get_reservation", {"ref": ref}),
        s.say(f"Found {ref}: 2 nights from 20 Feb. Which new check-in date would you like?"),
        s.call("change_dates", {"ref": ref, "check_in": "2026-02-27"}),
        s.say(f"Done - {ref} now starts on 27 Feb, same room and rate."),
    ]
    agent = create_react_agent(
        fake(pick(rng, MODELS), script),
        tools=tools,
        name=agent_name,
        prompt="You manage hotel reservations.",
        checkpointer=InMemorySaver(),
    )
    config = cfg(sid("multi_turn_clarifying_question"))
    agent.invoke(user("I need to move my hotel stay to a later date."), config)
    agent.invoke(user(f"It's {ref}."), config)
    agent.invoke(user("27 February please."), config)
    return [
        label(
            "multi_turn_clarifying_question",
            [],
            "multi_turn_asks_for_new_info",
            "3 turns on one thread; the agent asked for the booking reference, which the user had not given yet "
            "(not a re-ask); the checkpointer kept the whole history (no trimming); each later turn used "
            "earlier answers and the change was made. Healthy.",
        )
    ]


@scenario("parallel_subagent_delegation")
def parallel_subagent_delegation(rng: random.Random, tracer: Tracer) -> list[Any]:
    """The lead asks the same analyst sub-agent (as a tool) two different questions in parallel; both deliver."""
    region_a, region_b = rng.sample(["EMEA", "APAC", "LATAM", "NA"], 2)
    s = Script(rng)
    answers = {region_a: f"{region_a} Q3 revenue 4.1M (+8% QoQ)", region_b: f"{region_b} Q3 revenue 2.7M (-3% QoQ)"}
    sub_scripts = {r: [s.call("query_revenue", {"region": r}), s.say(answers[r])] for r in (region_a, region_b)}
    sub_model = pick(rng, MODELS)

    def ask_revenue_analyst(question: str) -> str:
        region = region_a if region_a in question else region_b
        analyst = create_react_agent(  # one sub-agent run per delegation, built the way the docs build it
            fake(sub_model, sub_scripts[region]),
            tools=[make_tool("query_revenue", "Quarterly revenue.", lambda region: answers[region])],
            name="revenue_analyst",
            prompt="You are a revenue analyst. Answer with one figure and its trend.",
        )
        out = analyst.invoke({"messages": [{"role": "user", "content": question}]})
        return str(out["messages"][-1].content)

    tools = [
        StructuredTool.from_function(
            func=ask_revenue_analyst, name="ask_revenue_analyst", description="Ask the revenue analyst one question."
        )
    ]
    lead = create_react_agent(
        fake(
            pick(rng, MODELS),
            [
                s.calls([("ask_revenue_analyst", {"question": f"{r} Q3 revenue?"}) for r in (region_a, region_b)]),
                s.say(f"{answers[region_a]}; {answers[region_b]}."),
            ],
        ),
        tools=tools,
        name=pick(rng, ["finance_lead", "cfo_assistant"]),
        prompt="You prepare finance summaries.",
    )
    with tracer.start_as_current_span("POST /api/assist"):
        lead.invoke(
            user(f"Compare Q3 revenue for {region_a} and {region_b}."), cfg(sid("parallel_subagent_delegation"))
        )
    return [
        label(
            "parallel_subagent_delegation",
            [],
            "parallel_delegations_different_args",
            f"the lead issued two parallel ask_revenue_analyst calls ({region_a}, {region_b}); each sub-agent run had "
            "its own system prompt, ran query_revenue once and its answer reached the lead, which combined both. "
            "Inside an app harness span. Healthy.",
        )
    ]


@scenario("supervisor_full_history_retry", content=False)
def supervisor_full_history_retry(rng: random.Random, tracer: Tracer) -> list[Any]:
    """create_supervisor(output_mode='full_history'); the sub-agent's tool fails once, retry works, answer returns."""
    sub = pick(rng, ["inventory_agent", "stock_agent"])
    sku = f"SKU-{rng.randint(10000, 99999)}"
    s = Script(rng)
    calls = {"n": 0}

    def stock(sku: str) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionResetError("[Errno 104] Connection reset by peer")
        return f"{sku}: 132 units (Leeds 90, Bristol 42)"

    worker = create_react_agent(
        fake(
            pick(rng, MODELS),
            [s.call("get_stock", {"sku": sku}), s.call("get_stock", {"sku": sku}), s.say(f"{sku}: 132 units.")],
        ),
        tools=ToolNode([make_tool("get_stock", "Stock level.", stock)], handle_tool_errors=True),
        name=sub,
        prompt="You answer stock questions from the warehouse system.",
    )
    app = create_supervisor(
        [worker],
        model=fake(pick(rng, MODELS), [s.call(f"transfer_to_{sub}", {}), s.say(f"We have 132 units of {sku}.")]),
        prompt="You coordinate retail operations specialists.",
        output_mode="full_history",
    ).compile()
    app.invoke(user(f"How many {sku} do we have?"), cfg(sid("supervisor_full_history_retry")))
    return [
        label(
            "supervisor_full_history_retry",
            [],
            "subagent_error_retried_delivers",
            f"supervisor (output_mode='full_history') delegated to {sub}; its get_stock raised "
            "ConnectionResetError once, the identical retry succeeded, and the answer reached the supervisor, which "
            "answered. Healthy. Content capture off.",
        )
    ]


@scenario("parallel_waves_over_attribute_limit")
def parallel_waves_over_attribute_limit(rng: random.Random, tracer: Tracer) -> list[Any]:
    """Hand-built loop, two waves of parallel stock checks (different warehouses): LLM spans exceed 128 attributes."""
    whs = [f"WH-{c}{n}" for c in "ABCD" for n in range(1, 6)]
    rng.shuffle(whs)
    wave1, wave2 = whs[:10], whs[10:20]
    s = Script(rng)
    qty = {w: rng.randint(12, 90) for w in whs}
    tool_ = make_tool(
        "check_stock", "Stock of item at a warehouse.", lambda warehouse: f"{warehouse}: {qty[warehouse]}"
    )
    script: list[Any] = [
        s.calls([("check_stock", {"warehouse": w}) for w in wave1]),
        s.calls([("check_stock", {"warehouse": w}) for w in wave2]),
        s.say(f"All 20 warehouses checked; total {sum(qty.values())} units, none below safety stock (10)."),
    ]
    app = tool_loop_graph(fake(pick(rng, MODELS), script), [tool_], "You are an inventory auditor.").compile()
    app.invoke(
        user("Audit stock of item P-77 across all 20 warehouses."), cfg(sid("parallel_waves_over_attribute_limit"))
    )
    return [
        label(
            "parallel_waves_over_attribute_limit",
            [],
            "long_parallel_run_over_attribute_limit",
            "hand-built call_model/ToolNode loop; two waves of 10 parallel check_stock calls with 20 different "
            "warehouses, then an answer; the flattened tool calls and tool messages push the last LLM span past the "
            "SDK's default 128-attribute limit (attributes dropped). Healthy.",
        )
    ]


# ----------------------------------------------------------------------------------------------------------------
# driver
# ----------------------------------------------------------------------------------------------------------------


def capture(sc: Scenario) -> list[Any]:
    import opentelemetry.sdk.trace as sdk_trace

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"lg-{sc.name.replace('_', '-')}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    config = TraceConfig() if sc.content else TraceConfig(hide_inputs=True, hide_outputs=True)
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=provider, config=config)
    real = sdk_trace.time_ns
    sdk_trace.time_ns = CLOCK  # type: ignore[assignment]
    try:
        labels = sc.run(random.Random(f"langgraph-c2-{sc.name}"), provider.get_tracer("app.harness"))
    finally:
        sdk_trace.time_ns = real  # type: ignore[assignment]
        instrumentor.uninstrument()
    provider.shutdown()
    CLOCK.advance(5400)
    path = OUT / f"langgraph_b2_{sc.name}.json"
    path.write_text(json.dumps(B1.to_otlp_json(exporter), separators=(",", ":"), ensure_ascii=False) + "\n")
    print(f"{path.name}: {len(exporter.get_finished_spans())} spans, {path.stat().st_size // 1024} KB")
    return labels


def write_labels(labels: list[Any]) -> None:
    q = B1.toml_str
    lines = ["# Truth of each session, decided by what corpus2_langgraph.py scripted (never by any tool's output).", ""]
    for lab in labels:
        lines += [
            "[[session]]",
            f"session_id = {q(lab.session_id)}",
            f"kinds = [{', '.join(q(k) for k in lab.kinds)}]",
            f"shape = {q(lab.shape)}",
            f"why = {q(lab.why)}",
            "",
        ]
    (HERE / "labels_langgraph.toml").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    logging.getLogger("opentelemetry.attributes").setLevel(logging.ERROR)  # "Attributes dict is full" (expected)
    warnings.filterwarnings("ignore", message="create_react_agent has been moved")
    CLOCK.now = 1_765_400_000_000_000_000
    chosen = (sys.argv[1:] if argv is None else argv) or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    OUT.mkdir(exist_ok=True)
    labels: list[Any] = []
    for name in chosen:
        labels += capture(SCENARIOS[name])
    if set(chosen) == set(SCENARIOS):
        write_labels(labels)
        print(f"{len(labels)} sessions labeled")


if __name__ == "__main__":
    main()
