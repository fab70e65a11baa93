"""Evaluation corpus for stepseven: labelled Google ADK sessions, run offline on a scripted fake model.

Run (from any directory except inside the google/adk package; the venv is /work/cap/adk/.venv)::

    /work/cap/adk/.venv/bin/python /work/cap/adk/corpus/corpus_adk.py            # all scenarios
    /work/cap/adk/.venv/bin/python /work/cap/adk/corpus/corpus_adk.py NAME ...   # some of them

Pinned versions (pip freeze of the venv): google-adk==2.13.0, google-genai==2.34.0, opentelemetry-api==1.44.0,
opentelemetry-sdk==1.44.0, opentelemetry-exporter-otlp-proto-common==1.44.0, opentelemetry-proto==1.44.0,
opentelemetry-semantic-conventions==0.65b0, pydantic==2.14.4. ADK's tracing is built in (scope
``gcp.vertex.agent``, default schema v2); there is no separate instrumentor package.

Each scenario runs in a fresh subprocess (ADK binds to the *global* tracer provider, set once per process) with the
content-capture env var either unset (ADK default: content OFF) or ``SPAN_ONLY`` (content on spans). It writes
``out/adk_<scenario>.json``: one OTLP/JSON ExportTraceServiceRequest (hex ids) as ``capture_kit.to_otlp_json``
writes it. Everything is deterministic except span/trace ids and ADK's random event/invocation ids: names, tools,
domains and step counts come from ``random.Random(seed of the scenario name)``; the model is a ``BaseLlm`` subclass
answering from a script; tool backends are Python functions. Session ids are fixed (``adk-c-...``) and are set the
way ADK users set them: ``session_service.create_session(session_id=...)`` then ``runner.run_async(session_id=...)``.
Labels (``labels_adk.toml``) describe what each script makes happen, not what any analyzer says.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import subprocess
import sys
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, "/work/main/sample_traces")  # capture_kit: to_otlp_json, simulated_clock (read only)

APP_NAME = "stepseven_adk_corpus"
USER_ID = "user-1187"
CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
# Env vars that would change what ADK emits: cleared so that "default settings" means default.
_ADK_ENV = (
    CONTENT_ENV,
    "OTEL_SEMCONV_STABILITY_OPT_IN",
    "ADK_CAPTURE_MESSAGE_CONTENT_IN_SPANS",
    "ADK_TELEMETRY_SCHEMA_VERSION_OPT_IN",
    "ADK_EXPERIMENTAL_TELEMETRY",
    "ADK_EXPERIMENTAL_TELEMETRY_FEATURES",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)

CLOCK: Any = None  # capture_kit.SimulatedClock while a scenario runs
RNG = random.Random(0)


def _pause(low: float, high: float) -> None:
    """Moves the simulated clock on by what a model call or a tool backend would have taken."""
    if CLOCK is not None:
        CLOCK.advance(round(RNG.uniform(low, high), 3))


# ---------------------------------------------------------------- domains (drawn with the scenario's seeded RNG)


@dataclass(frozen=True)
class Domain:
    name: str
    coordinators: tuple[str, ...]
    specialists: tuple[str, ...]
    search_tools: tuple[str, ...]
    topic: str
    task: str
    facts: tuple[str, ...]


DOMAINS: tuple[Domain, ...] = (
    Domain(
        "travel",
        ("trip_concierge", "travel_desk"),
        ("hotel_finder", "itinerary_agent"),
        ("search_hotels", "search_travel_guides"),
        "boutique hotels in Alfama Lisbon",
        "Find me a quiet boutique hotel in Lisbon's Alfama district for 12-15 March.",
        (
            "Casa Amora: 4.7 stars, 98 EUR/night",
            "Memmo Alfama: rooftop pool, 180 EUR/night",
            "Santiago de Alfama: 5 stars, 240 EUR/night",
            "Alfama tram 28 stops 50 m from Casa Amora",
        ),
    ),
    Domain(
        "billing",
        ("billing_router", "account_desk"),
        ("invoice_agent", "refunds_specialist"),
        ("search_invoices", "search_billing_kb"),
        "duplicate charge on invoice INV-2291",
        "I was charged twice for invoice INV-2291, can you fix it?",
        (
            "INV-2291: 2 captures of 49.00 EUR on 2025-10-02",
            "capture #2 flagged as duplicate by PSP",
            "refund policy: duplicates refunded within 5 business days",
            "customer tier: gold",
        ),
    ),
    Domain(
        "code_repair",
        ("dev_lead", "repo_maintainer"),
        ("code_fixer", "test_runner_agent"),
        ("search_codebase", "grep_repo"),
        "off-by-one in paginate() of api/listing.py",
        "The listing endpoint returns 49 items instead of 50 per page; please fix it.",
        (
            "api/listing.py:88 uses range(start, end - 1)",
            "tests/test_listing.py::test_page_size expects 50",
            "paginate() last changed in commit 4be21a9",
            "no other callers of paginate()",
        ),
    ),
    Domain(
        "research",
        ("research_lead", "lit_review_coordinator"),
        ("paper_scout", "citation_agent"),
        ("search_papers", "search_arxiv"),
        "sparse mixture-of-experts routing stability",
        "Summarise what is known about routing collapse in sparse mixture-of-experts models.",
        (
            "Switch Transformer (2021): load-balancing loss",
            "ST-MoE (2022): router z-loss stabilises training",
            "Expert Choice routing (2022): fixed bucket sizes",
            "2024 survey: collapse rarer with z-loss + jitter",
        ),
    ),
    Domain(
        "support",
        ("helpdesk_triage", "support_frontdesk"),
        ("network_tech", "device_support_agent"),
        ("search_support_articles", "search_known_issues"),
        "router firmware 3.2 wifi drops",
        "My FritzBox router keeps dropping wifi every evening; what can I do?",
        (
            "KB-1182: firmware 3.2 channel-hopping bug",
            "KB-1190: fixed in firmware 3.2.4",
            "workaround: pin 5 GHz channel to 36",
            "known outage: none in customer's area",
        ),
    ),
    Domain(
        "data_analysis",
        ("analytics_lead", "insights_coordinator"),
        ("sql_analyst", "dashboard_agent"),
        ("search_data_catalog", "search_metrics_docs"),
        "weekly churn by acquisition channel",
        "What was weekly churn by acquisition channel over the last quarter?",
        (
            "table analytics.subscriptions_weekly",
            "column acquisition_channel (7 values)",
            "Q3 churn: paid_social 4.1%, organic 2.2%, referral 1.6%",
            "metric defined in metrics/churn.yaml",
        ),
    ),
)

REWORDINGS = (
    "{t}",
    "{t} details",
    "information about {t}",
    "{t} official source",
    "latest on {t}",
    "{t} explained",
    "what is known about {t}",
    "{t} documentation",
    "{t} overview",
    "{t} site:internal",
    "{t} FAQ",
    "about {t}",
)


# ---------------------------------------------------------------- fake model and tool factories


def _types() -> Any:
    from google.genai import types

    return types


def call(name: str, args: dict[str, Any], call_id: str) -> Any:
    types = _types()
    return types.Content(
        role="model", parts=[types.Part(function_call=types.FunctionCall(id=call_id, name=name, args=args))]
    )


def calls(items: list[tuple[str, dict[str, Any], str]]) -> Any:
    """One model turn with several function calls (ADK runs them in parallel)."""
    types = _types()
    return types.Content(
        role="model",
        parts=[types.Part(function_call=types.FunctionCall(id=i, name=n, args=a)) for n, a, i in items],
    )


def say(text: str) -> Any:
    types = _types()
    return types.Content(role="model", parts=[types.Part(text=text)])


def _request_chars(llm_request: Any) -> int:
    total = len(str(getattr(llm_request.config, "system_instruction", "") or ""))
    for content in llm_request.contents or []:
        for part in content.parts or []:
            total += len(part.text or "")
            if part.function_call is not None:
                total += len(json.dumps(part.function_call.args or {}))
            if part.function_response is not None:
                total += len(json.dumps(part.function_response.response or {}, default=str))
    return total


def fake_llm(model: str, script: list[Any], token_scale: float = 1.0, base: int = 180) -> Any:
    """A ``BaseLlm`` answering from ``script`` (the last item repeats). An Exception item is raised instead.

    Input tokens follow the size of what ADK really sent (system instruction + contents), so trimming and
    compaction show in the token counts.
    """
    from google.adk.models.base_llm import BaseLlm
    from google.adk.models.llm_request import LlmRequest
    from google.adk.models.llm_response import LlmResponse
    from pydantic import PrivateAttr

    types = _types()

    class ScriptedLlm(BaseLlm):
        script: list[Any]
        token_scale: float = 1.0
        base: int = 180
        _turn: int = PrivateAttr(default=0)

        async def generate_content_async(
            self, llm_request: LlmRequest, stream: bool = False
        ) -> AsyncGenerator[LlmResponse, None]:
            item = self.script[min(self._turn, len(self.script) - 1)]
            self._turn += 1
            _pause(0.6, 3.2)
            if isinstance(item, BaseException):
                raise item
            content = item(llm_request) if callable(item) else item
            input_tokens = int((self.base + _request_chars(llm_request) // 4) * self.token_scale)
            output_tokens = 12 + sum(len(p.text or "") // 4 + 9 * (p.function_call is not None) for p in content.parts)
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

    return ScriptedLlm(model=model, script=script, token_scale=token_scale, base=base)


def tool(name: str, doc: str, param: str, impl: Callable[[Any], Any], kind: type = str) -> Callable[..., Any]:
    """A plain Python function tool named ``name`` with one parameter ``param`` (what ADK users write)."""
    import inspect

    def fn(**kwargs: Any) -> Any:
        _pause(0.2, 1.4)
        return impl(kwargs[param])

    fn.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(param, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=kind)], return_annotation=dict
    )
    fn.__annotations__ = {param: kind, "return": dict}
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def agent(name: str, instruction: str, model: Any, tools: list[Any] | None = None, **kw: Any) -> Any:
    from google.adk.agents import LlmAgent

    return LlmAgent(
        name=name,
        description=f"{name.replace('_', ' ')}: {instruction.split('.')[0].lower()}.",
        instruction=instruction,
        model=model,
        tools=tools or [],
        **kw,
    )


# ---------------------------------------------------------------- running a session


@dataclass
class Ctx:
    scenario: str
    session_id: str
    rng: random.Random
    domain: Domain
    extra: dict[str, Any] = field(default_factory=dict)

    def pick(self, options: tuple[str, ...]) -> str:
        return self.rng.choice(options)


async def run_session(
    root: Any,
    session_id: str,
    turns: list[str],
    *,
    max_llm_calls: int | None = None,
    plugins: list[Any] | None = None,
    compaction: Any = None,
    harness_attrs: dict[str, Any] | None = None,
) -> None:
    """Runs ``turns`` user messages through ADK's normal Runner loop, one invocation per turn, one session id."""
    from google.adk.agents.run_config import RunConfig
    from google.adk.apps import App
    from google.adk.runners import InMemoryRunner
    from opentelemetry import trace

    types = _types()
    app = App(name=APP_NAME, root_agent=root, plugins=plugins or [], events_compaction_config=compaction)
    runner = InMemoryRunner(app=app)
    await runner.session_service.create_session(app_name=APP_NAME, user_id=USER_ID, session_id=session_id)
    run_config = RunConfig(max_llm_calls=max_llm_calls) if max_llm_calls else RunConfig()
    tracer = trace.get_tracer("stepseven.corpus.harness")
    try:
        for index, text in enumerate(turns, start=1):
            if CLOCK is not None:
                CLOCK.advance(40 + 20 * index)  # the user reads and types between turns
            message = types.Content(role="user", parts=[types.Part(text=text)])
            span_cm = tracer.start_as_current_span(
                "harness.turn",
                attributes={"harness.turn.index": index, "harness.session_id": session_id, **(harness_attrs or {})},
            )
            with span_cm:
                try:
                    async for event in runner.run_async(
                        user_id=USER_ID, session_id=session_id, new_message=message, run_config=run_config
                    ):
                        print(f"  [{index}] {event.author}: {event.content!r:.150}", file=sys.stderr)
                except Exception as exc:  # the run dies as it would for a user; the trace records it
                    print(f"  [{index}] run raised {type(exc).__name__}: {exc}", file=sys.stderr)
                    break
    finally:
        await runner.close()


# ---------------------------------------------------------------- scenarios

ScenarioFn = Callable[[Ctx], Any]


@dataclass(frozen=True)
class Scenario:
    fn: ScenarioFn
    content: bool
    kinds: tuple[str, ...]
    shape: str
    why: str


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, *, content: bool, kinds: tuple[str, ...], shape: str, why: str) -> Callable[[Any], Any]:
    def register(fn: ScenarioFn) -> ScenarioFn:
        SCENARIOS[name] = Scenario(fn, content, kinds, shape, why)
        return fn

    return register


def session_id_of(name: str) -> str:
    return "adk-c-" + name.replace("_", "-") + "-" + hashlib.sha1(name.encode()).hexdigest()[:6]


def _queries(ctx: Ctx, n: int) -> list[str]:
    forms = list(REWORDINGS)
    ctx.rng.shuffle(forms)
    return [forms[i % len(forms)].format(t=ctx.domain.topic) for i in range(n)]


# ---- runaway_loop positives


@scenario(
    "loop_reworded_search_limit",
    content=True,
    kinds=("runaway_loop",),
    shape="reworded_search_until_limit",
    why="searches the same topic re-worded each call, every result empty; RunConfig(max_llm_calls) ends the run "
    "with LlmCallsLimitExceededError; no new information ever arrived",
)
async def loop_reworded_search_limit(ctx: Ctx) -> None:
    d = ctx.domain
    limit = ctx.rng.randint(6, 8)
    search = ctx.pick(d.search_tools)
    name = ctx.pick(d.specialists)
    script = [call(search, {"query": q}, f"call_{search}_{i}") for i, q in enumerate(_queries(ctx, 12), 1)]
    tools = [tool(search, "Searches the index.", "query", lambda q: {"query": q, "results": [], "total": 0})]
    root = agent(
        name,
        f"You answer {d.name} questions. Search until you have the answer.",
        fake_llm("gemini-2.5-flash", script),
        tools,
    )
    ctx.extra["limit"] = limit
    await run_session(root, ctx.session_id, [d.task], max_llm_calls=limit)


@scenario(
    "loop_reworded_search_giveup",
    content=False,
    kinds=("runaway_loop",),
    shape="reworded_search_until_give_up",
    why="re-words one search 5-7 times, each call returns the same single stale hit, then the agent gives up "
    "without an answer; content capture off",
)
async def loop_reworded_search_giveup(ctx: Ctx) -> None:
    d = ctx.domain
    n = ctx.rng.randint(5, 7)
    search = ctx.pick(d.search_tools)
    stale = {"results": [{"title": "Archived page (2019)", "snippet": "This page is no longer maintained."}]}
    script: list[Any] = [call(search, {"query": q}, f"call_s{i}") for i, q in enumerate(_queries(ctx, n), 1)]
    script.append(say("I'm sorry, I could not find reliable information on this. Please contact a human agent."))
    root = agent(
        ctx.pick(d.specialists),
        f"You answer {d.name} questions using {search}.",
        fake_llm("gemini-2.5-flash", script),
        [tool(search, "Searches the index.", "query", lambda q: stale)],
    )
    await run_session(root, ctx.session_id, [d.task])


@scenario(
    "loop_same_error_interleaved",
    content=True,
    kinds=("runaway_loop",),
    shape="same_exception_repeated_with_other_tools_between",
    why="fetch_ledger raises the same TimeoutError 4 times; ReflectAndRetryToolPlugin feeds it back and the model "
    "calls other tools in between, then retries the same failing call again; ends without the data",
)
async def loop_same_error_interleaved(ctx: Ctx) -> None:
    from google.adk.plugins.reflect_retry_tool_plugin import ReflectAndRetryToolPlugin

    def fetch(value: str) -> Any:
        raise TimeoutError("ledger-api GET /v2/ledger timed out after 30s")

    fillers = [
        ("check_service_status", "service", "ledger-api"),
        ("list_accounts", "customer_id", "C-5531"),
        ("get_exchange_rate", "currency", "EUR"),
        ("check_service_status", "service", "ledger-db"),
    ]
    script: list[Any] = []
    for i in range(4):
        script.append(call("fetch_ledger", {"account_id": "AC-5531-01"}, f"call_fetch_{i + 1}"))
        if i < 3:
            t, p, v = fillers[i]
            script.append(call(t, {p: v}, f"call_{t}_{i + 1}"))
    script.append(say("The ledger service keeps timing out, so I can't reconcile the account right now."))
    tools = [
        tool("fetch_ledger", "Fetches an account ledger.", "account_id", fetch),
        tool("check_service_status", "Status of an internal service.", "service", lambda s: {"service": s, "up": True}),
        tool(
            "list_accounts",
            "Lists a customer's accounts.",
            "customer_id",
            lambda c: {"customer_id": c, "accounts": ["AC-5531-01"]},
        ),
        tool("get_exchange_rate", "Exchange rate to USD.", "currency", lambda c: {"currency": c, "usd": 1.08}),
    ]
    root = agent(
        ctx.pick(("ledger_reconciler", "finance_ops_agent")),
        "Reconcile the customer's ledger.",
        fake_llm("gemini-2.5-pro", script),
        tools,
    )
    plugin = ReflectAndRetryToolPlugin(max_retries=6, throw_exception_if_retry_exceeded=False)
    await run_session(root, ctx.session_id, ["Reconcile account AC-5531-01 for October, please."], plugins=[plugin])


@scenario(
    "loop_pager_never_finishes",
    content=True,
    kinds=("runaway_loop",),
    shape="pager_advances_never_finishes",
    why="list_transactions(page=n) always returns the same 3 rows and a next_page; the agent pages on until "
    "RunConfig(max_llm_calls) raises LlmCallsLimitExceededError",
)
async def loop_pager_never_finishes(ctx: Ctx) -> None:
    limit = ctx.rng.randint(9, 11)
    rows = [{"id": "T-1", "amount": 12.5}, {"id": "T-2", "amount": 80.0}, {"id": "T-3", "amount": 7.25}]
    script = [call("list_transactions", {"page": p}, f"call_page_{p}") for p in range(1, 30)]
    tools = [
        tool(
            "list_transactions",
            "Lists transactions, paginated.",
            "page",
            lambda p: {"page": p, "rows": rows, "next_page": p + 1},
            kind=int,
        )
    ]
    root = agent(
        ctx.pick(("sql_analyst", "txn_auditor")),
        "Total all transactions of the account.",
        fake_llm("gemini-2.5-flash", script),
        tools,
    )
    await run_session(root, ctx.session_id, ["Sum every transaction on account AC-881 this year."], max_llm_calls=limit)


@scenario(
    "loop_code_fix_same_failure",
    content=False,
    kinds=("runaway_loop",),
    shape="code_agent_same_test_failure",
    why="code agent edits then runs tests 5 times; every run fails with the identical AssertionError; it gives up; "
    "content off",
)
async def loop_code_fix_same_failure(ctx: Ctx) -> None:
    n = ctx.rng.randint(4, 6)
    failure = {"exit_code": 1, "stderr": "FAILED tests/test_listing.py::test_page_size - AssertionError: 49 != 50"}
    script: list[Any] = []
    for i in range(1, n + 1):
        script.append(call("edit_file", {"patch": f"--- a/api/listing.py attempt {i}"}, f"call_edit_{i}"))
        script.append(call("run_tests", {"target": "tests/test_listing.py"}, f"call_test_{i}"))
    script.append(say("I could not make test_page_size pass; the failure is unchanged after several edits."))
    tools = [
        tool("edit_file", "Applies a unified diff.", "patch", lambda p: {"applied": True}),
        tool("run_tests", "Runs pytest on a target.", "target", lambda t: failure),
    ]
    root = agent(
        ctx.pick(("code_fixer", "repo_mechanic")),
        "Fix the failing test. Use edit_file and run_tests.",
        fake_llm("gemini-2.5-pro", script),
        tools,
    )
    await run_session(root, ctx.session_id, [DOMAINS[2].task])


@scenario(
    "loop_loopagent_max_iterations",
    content=True,
    kinds=("runaway_loop",),
    shape="framework_loop_limit_while_repeating",
    why="LoopAgent(max_iterations=4) writer/reviewer: the reviewer asks for the same revision every round and never "
    "calls exit_loop, the writer resubmits a near-identical draft; ADK stops at max_iterations",
)
async def loop_loopagent_max_iterations(ctx: Ctx) -> None:
    from google.adk.agents import LoopAgent
    from google.adk.tools.exit_loop_tool import exit_loop

    draft = "Dear customer, we regret to inform you that your refund has been processed."
    writer = agent(
        "reply_writer",
        "Write the customer reply; apply the reviewer's feedback.",
        fake_llm("gemini-2.5-flash", [say(draft + f" (rev {i})") for i in range(1, 6)]),
    )
    reviewer = agent(
        "tone_reviewer",
        "Review tone. Call exit_loop when the reply is friendly.",
        fake_llm("gemini-2.5-flash", [say("Needs revision: tone is too formal.")]),
        [exit_loop],
    )
    root = LoopAgent(name="reply_refiner", sub_agents=[writer, reviewer], max_iterations=4)
    await run_session(root, ctx.session_id, ["Draft a friendly reply confirming the refund for INV-2291."])


@scenario(
    "loop_subagent_llm_limit",
    content=False,
    kinds=("runaway_loop", "failed_handoff"),
    shape="subagent_repeats_until_limit",
    why="coordinator transfers to a specialist that repeats the same lookup until RunConfig(max_llm_calls=5) raises; "
    "the specialist fails so nothing returns to the coordinator; content off",
)
async def loop_subagent_llm_limit(ctx: Ctx) -> None:
    d = ctx.domain
    spec = ctx.pick(d.specialists)
    search = ctx.pick(d.search_tools)
    child = agent(
        spec,
        f"You handle {d.name} lookups.",
        fake_llm("gemini-2.5-flash", [call(search, {"query": d.topic}, f"c{i}") for i in range(9)]),
        [tool(search, "Searches.", "query", lambda q: {"results": []})],
    )
    root = agent(
        ctx.pick(d.coordinators),
        f"Route {d.name} requests to {spec}.",
        fake_llm("gemini-2.5-flash", [call("transfer_to_agent", {"agent_name": spec}, "t1")]),
        sub_agents=[child],
    )
    await run_session(root, ctx.session_id, [d.task], max_llm_calls=5)


# ---- context_rot positives


def _trip_agent(ctx: Ctx, script: list[Any]) -> Any:
    hotels = {"Casa Amora": 98, "Memmo Alfama": 180, "Santiago de Alfama": 260}
    tools = [
        tool("search_hotels", "Searches hotels.", "area", lambda a: {"area": a, "hotels": hotels}),
        tool(
            "search_travel_guides",
            "Searches travel guides.",
            "query",
            lambda q: {"query": q, "tips": ["Tasca do Chico", "Time Out Market"]},
        ),
        tool(
            "book_hotel",
            "Books a hotel for the stay.",
            "hotel",
            lambda h: {"hotel": h, "nights": 3, "total_usd": 3 * hotels.get(h, 100) + 0, "status": "confirmed"},
        ),
    ]
    return agent(
        ctx.pick(("trip_concierge", "travel_desk")),
        "You plan and book trips.",
        fake_llm("gemini-2.5-flash", script),
        tools,
    )


TRIP_TURNS = [
    "Plan a 3-night trip to Lisbon, 12-15 March. Hard limit: total budget under $500 for the hotel.",
    "Which neighbourhood is best for food?",
    "Any good day trips by train?",
    "Great, go ahead and book the hotel.",
]


@scenario(
    "rot_context_filter_drops_budget",
    content=True,
    kinds=("context_rot",),
    shape="history_trimmed_constraint_lost",
    why="ContextFilterPlugin(num_invocations_to_keep=2) drops turn 1 (budget under $500) before turn 4; the model "
    "then books Santiago de Alfama at 3x260 = $780, against the user's constraint",
)
async def rot_context_filter_drops_budget(ctx: Ctx) -> None:
    from google.adk.plugins.context_filter_plugin import ContextFilterPlugin

    script = [
        call("search_hotels", {"area": "Alfama"}, "h1"),
        say("Casa Amora (98/night) fits your $500 budget: 3 nights = $294."),
        call("search_travel_guides", {"query": "Lisbon food neighbourhood"}, "g1"),
        say("Alfama and Bairro Alto are best for food: try Tasca do Chico."),
        say("Sintra is 40 minutes by train from Rossio; Cascais is also easy."),
        call("book_hotel", {"hotel": "Santiago de Alfama"}, "b1"),
        say("Booked Santiago de Alfama for 3 nights: $780 total. Enjoy Lisbon!"),
    ]
    root = _trip_agent(ctx, script)
    await run_session(root, ctx.session_id, TRIP_TURNS, plugins=[ContextFilterPlugin(num_invocations_to_keep=2)])


def _code_turns() -> list[str]:
    return [
        "Fix parse_config in utils/config.py. Only use Python 3.8 syntax: production runs Python 3.8.",
        "Also make load_defaults tolerate a missing file.",
        "Now refactor load_rules in utils/rules.py to handle the new 'kind' field.",
    ]


def _compacting_code_agent(ctx: Ctx, keep: bool) -> tuple[Any, Any]:
    from google.adk.apps.app import EventsCompactionConfig
    from google.adk.apps.llm_event_summarizer import LlmEventSummarizer

    summary = "User asked to fix parse_config and load_defaults in utils/config.py; both fixed and tests pass." + (
        " Constraint: only Python 3.8 syntax (production runs 3.8)." if keep else ""
    )
    code = (
        "def load_rules(rows):\n    out = []\n    for row in rows:\n        kind = row.get('kind')\n"
        "        if kind == 'allow':\n            out.append(Allow(row))\n        elif kind == 'deny':\n"
        "            out.append(Deny(row))\n    return out\n"
        if keep
        else "def load_rules(rows: list[dict]) -> list[Rule]:\n    out = []\n    for row in rows:\n"
        "        match row:\n            case {'kind': 'allow'}:\n                out.append(Allow(row))\n"
        "            case {'kind': 'deny'}:\n                out.append(Deny(row))\n    return out\n"
    )
    script = [
        call("read_file", {"path": "utils/config.py"}, "r1"),
        call("write_file", {"path": "utils/config.py", "content": "def parse_config(text):\n    ..."}, "w1"),
        say("parse_config fixed, Python 3.8 compatible."),
        call("write_file", {"path": "utils/config.py", "content": "def load_defaults(path):\n    ..."}, "w2"),
        say("load_defaults now returns {} when the file is missing."),
        call("read_file", {"path": "utils/rules.py"}, "r2"),
        call("write_file", {"path": "utils/rules.py", "content": code}, "w3"),
        say("load_rules refactored" + (" (3.8-compatible if/elif)." if keep else " with a match statement.")),
    ]
    tools = [
        tool("read_file", "Reads a repository file.", "path", lambda p: {"path": p, "text": "def f(): ..."}),
        _write_file_tool(),
    ]
    root = agent(
        ctx.pick(("code_fixer", "repo_mechanic")),
        "You fix Python code in the repository.",
        fake_llm("gemini-2.5-pro", script),
        tools,
    )
    summarizer = LlmEventSummarizer(llm=fake_llm("gemini-2.5-flash-lite", [say(summary)]))
    return root, EventsCompactionConfig(compaction_interval=2, overlap_size=0, summarizer=summarizer)


def _write_file_tool() -> Callable[..., Any]:
    def write_file(path: str, content: str) -> dict[str, Any]:
        """Writes a repository file."""
        _pause(0.2, 0.8)
        return {"path": path, "bytes": len(content), "written": True}

    return write_file


@scenario(
    "rot_compaction_drops_py38",
    content=True,
    kinds=("context_rot",),
    shape="compaction_summary_drops_constraint",
    why="EventsCompactionConfig(compaction_interval=2) summarises turns 1-2; the summary omits 'only Python 3.8 "
    "syntax'; in turn 3 the model writes a match statement (3.10+), against the first request's constraint",
)
async def rot_compaction_drops_py38(ctx: Ctx) -> None:
    root, compaction = _compacting_code_agent(ctx, keep=False)
    await run_session(root, ctx.session_id, _code_turns(), compaction=compaction)


@scenario(
    "rot_context_length_exceeded",
    content=False,
    kinds=("context_rot",),
    shape="context_length_error",
    why="a long document-reading run grows the prompt each call until the model call fails with a 400 "
    "input-token-limit error; the run dies; content off",
)
async def rot_context_length_exceeded(ctx: Ctx) -> None:
    from google.genai import errors

    n = ctx.rng.randint(6, 8)
    message = "The input token count (1049210) exceeds the maximum number of tokens allowed (1048576)."
    err = errors.ClientError(400, {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})
    script: list[Any] = [call("read_document", {"doc_id": f"contract-{i:03d}"}, f"d{i}") for i in range(1, n + 1)]
    script.append(err)
    big = "Clause text. " * 400
    root = agent(
        ctx.pick(("contract_reviewer", "legal_analyst")),
        "Review every contract for liability caps.",
        fake_llm("gemini-2.5-pro", script, token_scale=95.0),
        [tool("read_document", "Reads a whole document.", "doc_id", lambda d: {"doc_id": d, "text": big})],
    )
    await run_session(root, ctx.session_id, ["Find the liability cap in each of our vendor contracts."])


@scenario(
    "rot_include_contents_none_reask",
    content=True,
    kinds=("context_rot",),
    shape="multi_turn_reasks_given_info",
    why="LlmAgent(include_contents='none') sees only the current turn; in turn 2 the agent asks again for the "
    "account number the user gave in turn 1",
)
async def rot_include_contents_none_reask(ctx: Ctx) -> None:
    script = [
        call("lookup_account", {"account_id": "ACC-77812"}, "a1"),
        say("Your line is fine; firmware 3.2 has a wifi bug, I've scheduled the 3.2.4 update."),
        say("I can open a ticket. Could you share your account number first?"),
    ]
    tools = [
        tool(
            "lookup_account",
            "Looks up a customer account.",
            "account_id",
            lambda a: {"account_id": a, "plan": "fiber 250", "router_fw": "3.2"},
        ),
        tool("open_ticket", "Opens a support ticket.", "summary", lambda s: {"ticket": "T-5120"}),
    ]
    root = agent(
        ctx.pick(("network_tech", "device_support_agent")),
        "Help with connectivity problems.",
        fake_llm("gemini-2.5-flash", script),
        tools,
        include_contents="none",
    )
    await run_session(
        root,
        ctx.session_id,
        [
            "My wifi drops every evening. Account number ACC-77812.",
            "It happened again last night. Please open a ticket.",
        ],
    )


@scenario(
    "rot_context_filter_reask_order",
    content=False,
    kinds=("context_rot",),
    shape="multi_turn_reasks_given_info",
    why="ContextFilterPlugin(num_invocations_to_keep=1): by turn 3 the order id from turn 1 is gone and the agent "
    "asks for it again; content off",
)
async def rot_context_filter_reask_order(ctx: Ctx) -> None:
    from google.adk.plugins.context_filter_plugin import ContextFilterPlugin

    script = [
        call("lookup_order", {"order_id": "B-30417"}, "o1"),
        say("Order B-30417 shipped yesterday with UPS."),
        say("Yes, UPS delivers on Saturdays in your area."),
        say("Sure, which order number is this about?"),
    ]
    tools = [
        tool(
            "lookup_order",
            "Looks up an order.",
            "order_id",
            lambda o: {"order_id": o, "carrier": "UPS", "status": "shipped"},
        )
    ]
    root = agent(
        ctx.pick(("order_desk", "shipping_agent")),
        "Answer questions about orders.",
        fake_llm("gemini-2.5-flash", script),
        tools,
    )
    await run_session(
        root,
        ctx.session_id,
        [
            "Where is my order B-30417?",
            "Do they deliver on Saturdays?",
            "Can I change the delivery address on it?",
        ],
        plugins=[ContextFilterPlugin(num_invocations_to_keep=1)],
    )


# ---- failed_handoff positives


@scenario(
    "handoff_target_raises",
    content=True,
    kinds=("failed_handoff",),
    shape="subagent_raises",
    why="coordinator transfer_to_agent(specialist); the specialist's tool raises PermissionError, ADK propagates it, "
    "the run dies and the user gets no answer",
)
async def handoff_target_raises(ctx: Ctx) -> None:
    d = DOMAINS[1]

    def refund(value: str) -> Any:
        raise PermissionError("payments-api: 403 service account lacks refunds:write")

    spec = ctx.pick(d.specialists)
    child = agent(
        spec,
        "You issue refunds with issue_refund.",
        fake_llm("gemini-2.5-flash", [call("issue_refund", {"invoice_id": "INV-2291"}, "r1")]),
        [tool("issue_refund", "Refunds an invoice.", "invoice_id", refund)],
    )
    root = agent(
        ctx.pick(d.coordinators),
        f"Route refund requests to {spec}.",
        fake_llm("gemini-2.5-flash", [call("transfer_to_agent", {"agent_name": spec}, "t1")]),
        sub_agents=[child],
    )
    await run_session(root, ctx.session_id, [d.task])


@scenario(
    "handoff_agent_tool_empty_output",
    content=True,
    kinds=("failed_handoff",),
    shape="subagent_output_never_reaches_caller",
    why="AgentTool(analyst): the analyst runs its query but ends with an empty final message, so the caller gets "
    "ADK's 'no actionable content' placeholder instead of the figures and answers without the analysis",
)
async def handoff_agent_tool_empty_output(ctx: Ctx) -> None:
    from google.adk.tools.agent_tool import AgentTool

    d = DOMAINS[5]
    types = _types()
    analyst = agent(
        ctx.pick(d.specialists),
        "Run SQL and report the numbers.",
        fake_llm(
            "gemini-2.5-pro",
            [
                call("run_sql", {"sql": "SELECT channel, churn FROM w"}, "q1"),
                types.Content(role="model", parts=[types.Part(text="")]),
            ],
        ),
        [tool("run_sql", "Runs SQL.", "sql", lambda s: {"rows": [["paid_social", 0.041]]})],
    )
    name = analyst.name
    root = agent(
        ctx.pick(d.coordinators),
        f"Delegate number crunching to {name}.",
        fake_llm(
            "gemini-2.5-flash",
            [call(name, {"request": d.task}, "at1"), say("The analysis did not return any figures; please try later.")],
        ),
        [AgentTool(agent=analyst)],
    )
    await run_session(root, ctx.session_id, [d.task])


@scenario(
    "handoff_caller_redoes_work",
    content=True,
    kinds=("failed_handoff",),
    shape="caller_redoes_delegated_work",
    why="coordinator calls AgentTool(researcher); the researcher's search backend raises, the coordinator's "
    "on_tool_error_callback turns it into an error result, and the coordinator then runs the searches itself",
)
async def handoff_caller_redoes_work(ctx: Ctx) -> None:
    from google.adk.tools.agent_tool import AgentTool

    d = DOMAINS[3]

    def broken(value: str) -> Any:
        raise ConnectionError("arxiv-proxy: connection reset by peer")

    researcher = agent(
        ctx.pick(d.specialists),
        "Find papers with search_arxiv.",
        fake_llm("gemini-2.5-flash", [call("search_arxiv", {"query": d.topic}, "s1")]),
        [tool("search_arxiv", "Searches arXiv.", "query", broken)],
    )

    async def on_error(tool: Any, args: dict[str, Any], tool_context: Any, error: Exception) -> dict[str, Any]:
        return {"error": f"{type(error).__name__}: {error}"}

    script = [
        call(researcher.name, {"request": d.task}, "at1"),
        call("search_papers", {"query": "router z-loss MoE"}, "p1"),
        call("search_papers", {"query": "expert choice routing collapse"}, "p2"),
        say("Routing collapse is mitigated by load-balancing loss, router z-loss (ST-MoE) and expert-choice routing."),
    ]
    facts = iter(d.facts)
    root = agent(
        ctx.pick(d.coordinators),
        f"Delegate literature search to {researcher.name}.",
        fake_llm("gemini-2.5-pro", script),
        [
            AgentTool(agent=researcher),
            tool("search_papers", "Searches papers.", "query", lambda q: {"hit": next(facts, "")}),
        ],
        on_tool_error_callback=on_error,
    )
    await run_session(root, ctx.session_id, [d.task])


@scenario(
    "handoff_unknown_target",
    content=False,
    kinds=("failed_handoff",),
    shape="delegation_target_never_starts",
    why="coordinator calls transfer_to_agent('refunds_agent'), a name not in the agent tree; ADK raises ValueError "
    "and the target never starts; content off",
)
async def handoff_unknown_target(ctx: Ctx) -> None:
    d = DOMAINS[1]
    spec = ctx.pick(d.specialists)
    child = agent(spec, "You handle invoices.", fake_llm("gemini-2.5-flash", [say("ok")]))
    root = agent(
        ctx.pick(d.coordinators),
        f"Route billing requests to {spec}.",
        fake_llm("gemini-2.5-flash", [call("transfer_to_agent", {"agent_name": "refunds_agent"}, "t1")]),
        sub_agents=[child],
    )
    await run_session(root, ctx.session_id, [d.task])


# ---- negatives (twins)


@scenario(
    "ok_reworded_search_new_info",
    content=True,
    kinds=(),
    shape="reworded_search_new_info_finishes",
    why="re-worded searches on one topic, but each returns a new fact; the agent answers after 4 searches",
)
async def ok_reworded_search_new_info(ctx: Ctx) -> None:
    d = ctx.domain
    search = ctx.pick(d.search_tools)
    facts = iter(d.facts)
    script: list[Any] = [call(search, {"query": q}, f"s{i}") for i, q in enumerate(_queries(ctx, 4), 1)]
    script.append(say("Here is what I found: " + "; ".join(d.facts) + "."))
    root = agent(
        ctx.pick(d.specialists),
        f"You answer {d.name} questions; search until you have enough.",
        fake_llm("gemini-2.5-flash", script),
        [tool(search, "Searches the index.", "query", lambda q: {"query": q, "results": [next(facts)]})],
    )
    await run_session(root, ctx.session_id, [d.task])


@scenario(
    "ok_multiturn_same_tool_per_turn",
    content=False,
    kinds=(),
    shape="multi_turn_same_tool_once_per_turn",
    why="three user turns in one session, each asks about a different order; lookup_order runs once per turn; "
    "content off",
)
async def ok_multiturn_same_tool_per_turn(ctx: Ctx) -> None:
    orders = ["B-30417", "B-30533", "B-30602"]
    script: list[Any] = []
    for i, o in enumerate(orders, 1):
        script += [call("lookup_order", {"order_id": o}, f"o{i}"), say(f"Order {o} is shipped.")]
    root = agent(
        ctx.pick(("order_desk", "shipping_agent")),
        "Answer questions about orders.",
        fake_llm("gemini-2.5-flash", script),
        [tool("lookup_order", "Looks up an order.", "order_id", lambda o: {"order_id": o, "status": "shipped"})],
    )
    await run_session(root, ctx.session_id, [f"Where is order {o}?" for o in orders])


@scenario(
    "ok_parallel_same_tool",
    content=True,
    kinds=(),
    shape="parallel_calls_different_args",
    why="one model turn issues three get_fx_rate calls with different currencies (ADK runs them in parallel), "
    "then answers",
)
async def ok_parallel_same_tool(ctx: Ctx) -> None:
    cur = ["EUR", "GBP", "JPY"]
    ctx.rng.shuffle(cur)
    script = [
        calls([("get_fx_rate", {"currency": c}, f"fx_{c}") for c in cur]),
        say("Converted the invoice total into EUR, GBP and JPY."),
    ]
    rates = {"EUR": 0.92, "GBP": 0.79, "JPY": 151.2}
    root = agent(
        ctx.pick(("invoice_agent", "fx_helper")),
        "Convert amounts with get_fx_rate.",
        fake_llm("gemini-2.5-flash", script),
        [tool("get_fx_rate", "USD exchange rate.", "currency", lambda c: {"currency": c, "rate": rates[c]})],
    )
    await run_session(root, ctx.session_id, ["Convert our $12,400 invoice total into EUR, GBP and JPY."])


@scenario(
    "ok_polling_finishes",
    content=True,
    kinds=(),
    shape="polling_finishes",
    why="start_export then get_export_status polled 3 times (queued, running, done) then download; healthy",
)
async def ok_polling_finishes(ctx: Ctx) -> None:
    states = iter(["queued", "running", "done"])
    script = [call("start_export", {"table": "subscriptions_weekly"}, "e1")]
    script += [call("get_export_status", {"job_id": "job-77"}, f"p{i}") for i in range(1, 4)]
    script += [call("download_export", {"job_id": "job-77"}, "dl"), say("Export ready: 1,204 rows downloaded.")]
    tools = [
        tool("start_export", "Starts a table export.", "table", lambda t: {"job_id": "job-77"}),
        tool(
            "get_export_status",
            "Status of an export job.",
            "job_id",
            lambda j: {"job_id": j, "state": next(states, "done")},
        ),
        tool("download_export", "Downloads an export.", "job_id", lambda j: {"rows": 1204}),
    ]
    root = agent(
        ctx.pick(DOMAINS[5].specialists), "Export tables for the analyst.", fake_llm("gemini-2.5-flash", script), tools
    )
    await run_session(root, ctx.session_id, ["Export subscriptions_weekly as CSV."])


@scenario(
    "ok_error_retried_once",
    content=True,
    kinds=(),
    shape="error_retried_once_recovers",
    why="get_invoice raises a transient 503 once, ReflectAndRetryToolPlugin feeds it back, the retry succeeds "
    "and the agent answers",
)
async def ok_error_retried_once(ctx: Ctx) -> None:
    from google.adk.plugins.reflect_retry_tool_plugin import ReflectAndRetryToolPlugin

    attempts = {"n": 0}

    def get_invoice(value: str) -> Any:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise ConnectionError("billing-api 503 Service Unavailable")
        return {"invoice_id": value, "captures": [49.0, 49.0], "duplicate": True}

    script = [
        call("get_invoice", {"invoice_id": "INV-2291"}, "i1"),
        call("get_invoice", {"invoice_id": "INV-2291"}, "i2"),
        say("INV-2291 was captured twice; the duplicate 49.00 EUR will be refunded within 5 business days."),
    ]
    root = agent(
        ctx.pick(DOMAINS[1].specialists),
        "Investigate billing problems.",
        fake_llm("gemini-2.5-flash", script),
        [tool("get_invoice", "Fetches an invoice.", "invoice_id", get_invoice)],
    )
    await run_session(root, ctx.session_id, [DOMAINS[1].task], plugins=[ReflectAndRetryToolPlugin(max_retries=2)])


@scenario(
    "ok_compaction_keeps_constraint",
    content=True,
    kinds=(),
    shape="compaction_summary_keeps_constraint",
    why="same as rot_compaction_drops_py38 but the compaction summary keeps 'only Python 3.8 syntax' and the "
    "turn-3 code is 3.8-compatible (if/elif)",
)
async def ok_compaction_keeps_constraint(ctx: Ctx) -> None:
    root, compaction = _compacting_code_agent(ctx, keep=True)
    await run_session(root, ctx.session_id, _code_turns(), compaction=compaction)


@scenario(
    "ok_planner_pipeline_history",
    content=True,
    kinds=(),
    shape="planner_and_final_answer_calls_own_prompts",
    why="SequentialAgent planner -> worker -> summariser, each LlmAgent with its own system instruction; the worker "
    "and summariser receive the earlier agents' history; everything completes",
)
async def ok_planner_pipeline_history(ctx: Ctx) -> None:
    from google.adk.agents import SequentialAgent

    d = ctx.domain
    search = ctx.pick(d.search_tools)
    facts = iter(d.facts)
    planner = agent(
        "planner",
        "You are a planner. Write a numbered plan; do not call tools.",
        fake_llm("gemini-2.5-flash-lite", [say(f"1. search {d.topic}\n2. verify\n3. answer")]),
    )
    worker = agent(
        ctx.pick(d.specialists),
        "Execute the plan with your tools.",
        fake_llm(
            "gemini-2.5-flash",
            [
                call(search, {"query": d.topic}, "w1"),
                call(search, {"query": d.topic + " verification"}, "w2"),
                say("Findings: " + "; ".join(d.facts[:2])),
            ],
        ),
        [tool(search, "Searches.", "query", lambda q: {"query": q, "hit": next(facts)})],
    )
    final = agent(
        "answer_writer",
        "You are an editor. Rewrite the findings as a short answer for the user.",
        fake_llm("gemini-2.5-flash-lite", [say("Short answer: " + d.facts[0] + ".")]),
    )
    root = SequentialAgent(name=f"{d.name}_pipeline", sub_agents=[planner, worker, final])
    await run_session(root, ctx.session_id, [d.task])


@scenario(
    "ok_long_run_many_attributes",
    content=False,
    kinds=(),
    shape="long_healthy_run_over_128_attributes",
    why="a 16-step healthy inventory audit (distinct SKU each call) wrapped in harness spans carrying 150 "
    "attributes, more than the SDK's default 128 limit (extra attributes dropped); content off",
)
async def ok_long_run_many_attributes(ctx: Ctx) -> None:
    skus = [f"SKU-{1000 + 37 * i}" for i in range(16)]
    script: list[Any] = [call("check_stock", {"sku": s}, f"k{i}") for i, s in enumerate(skus)]
    script.append(say("Audit complete: 16 SKUs checked, 3 below reorder level."))
    root = agent(
        ctx.pick(("inventory_auditor", "stock_checker")),
        "Check stock for each SKU in the list.",
        fake_llm("gemini-2.5-flash", script),
        [tool("check_stock", "Stock level of a SKU.", "sku", lambda s: {"sku": s, "on_hand": len(s) * 7})],
    )
    attrs = {f"eval.config.param_{i:03d}": f"value-{i}" for i in range(150)}
    await run_session(root, ctx.session_id, ["Audit stock for these SKUs: " + ", ".join(skus)], harness_attrs=attrs)


@scenario(
    "ok_transfer_delegation",
    content=False,
    kinds=(),
    shape="transfer_subagent_completes",
    why="coordinator transfer_to_agent(specialist), specialist runs one tool and answers; healthy; content off",
)
async def ok_transfer_delegation(ctx: Ctx) -> None:
    d = ctx.domain
    spec = ctx.pick(d.specialists)
    search = ctx.pick(d.search_tools)
    child = agent(
        spec,
        f"You handle {d.name} requests.",
        fake_llm("gemini-2.5-flash", [call(search, {"query": d.topic}, "c1"), say(d.facts[0])]),
        [tool(search, "Searches.", "query", lambda q: {"hit": d.facts[0]})],
    )
    root = agent(
        ctx.pick(d.coordinators),
        f"Route {d.name} requests to {spec}.",
        fake_llm("gemini-2.5-flash", [call("transfer_to_agent", {"agent_name": spec}, "t1")]),
        sub_agents=[child],
    )
    await run_session(root, ctx.session_id, [d.task])


@scenario(
    "ok_transfer_subagent_history_content",
    content=True,
    kinds=(),
    shape="subagent_gets_supervisor_history",
    why="two-turn session: turn 1 answered by the coordinator itself, turn 2 transferred to the specialist which "
    "receives the whole history under its own system instruction and answers",
)
async def ok_transfer_subagent_history_content(ctx: Ctx) -> None:
    d = ctx.domain
    spec = ctx.pick(d.specialists)
    search = ctx.pick(d.search_tools)
    child = agent(
        spec,
        f"You are the {d.name} specialist. Use {search}.",
        fake_llm("gemini-2.5-flash", [call(search, {"query": d.topic}, "c1"), say(d.facts[1])]),
        [tool(search, "Searches.", "query", lambda q: {"hit": d.facts[1]})],
    )
    root = agent(
        ctx.pick(d.coordinators),
        f"Answer simple questions; route {d.name} details to {spec}.",
        fake_llm(
            "gemini-2.5-flash",
            [say("Hello! I can help with that."), call("transfer_to_agent", {"agent_name": spec}, "t1")],
        ),
        sub_agents=[child],
    )
    await run_session(root, ctx.session_id, ["Hi, quick question.", d.task])


# ---------------------------------------------------------------- driver


def _scenario_main(name: str) -> None:
    global CLOCK, RNG
    from capture_kit import simulated_clock, to_otlp_json
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    seed = int(hashlib.sha1(name.encode()).hexdigest()[:8], 16)
    RNG = random.Random(seed + 1)
    rng = random.Random(seed)
    ctx = Ctx(name, session_id_of(name), rng, rng.choice(DOMAINS))
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "adk-corpus", "service.version": "1.0.0"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    with simulated_clock() as clock:
        CLOCK = clock
        asyncio.run(SCENARIOS[name].fn(ctx))
    provider.shutdown()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"adk_{name}.json"
    path.write_text(json.dumps(to_otlp_json(exporter), separators=(",", ":"), ensure_ascii=False) + "\n")
    print(f"{path.name}: {len(exporter.get_finished_spans())} spans, {path.stat().st_size} bytes ({ctx.domain.name})")


def write_labels() -> None:
    lines = ["# Labels for the Google ADK corpus: the truth of each scripted run (see corpus_adk.py).", ""]
    for name, sc in SCENARIOS.items():
        kinds = ", ".join(f'"{k}"' for k in sc.kinds)
        lines += [
            "[[session]]",
            f'session_id = "{session_id_of(name)}"',
            f'file = "out/adk_{name}.json"',
            f"kinds = [{kinds}]",
            f'shape = "{sc.shape}"',
            f"content_capture = {'true' if sc.content else 'false'}",
            f"why = {json.dumps(sc.why)}",
            "",
        ]
    (HERE / "labels_adk.toml").write_text("\n".join(lines))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        _scenario_main(argv[1])
        return
    chosen = argv or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    for name in chosen:
        env = {k: v for k, v in os.environ.items() if k not in _ADK_ENV}
        if SCENARIOS[name].content:
            env[CONTENT_ENV] = "SPAN_ONLY"
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one", name], env=env, check=True, cwd="/tmp")
    write_labels()


if __name__ == "__main__":
    main(sys.argv[1:])
