"""The analyzer's labeled corpus: real frameworks (Pydantic AI, the OpenAI Agents SDK) on fake models.

Each scenario is one behaviour, written as a program an agent team could have written; its label
and the reason for it are in ``labels.toml``. Every positive has a negative that differs in the
one thing that matters (a loop and a poll, an error ignored and an error acknowledged...), so a
rule written to fit a positive is tested against its twin.

Two kinds of case cannot come from a framework here and are built with the OpenTelemetry SDK
alone, as a remote agent's client and server would emit them: A2A calls (no A2A framework is
installed) with and without trace context propagation.
"""

from __future__ import annotations

import asyncio
from typing import Any

from capture_kit import openai_agents_fakes, openinference, pydantic_agent, scenario, simulated_clock
from opentelemetry.sdk.trace import TracerProvider


def _pai() -> Any:
    """The Pydantic AI names every scenario uses."""
    from pydantic_ai import messages
    from pydantic_ai.models.function import FunctionModel

    return messages, FunctionModel


def _responses(messages: list[Any]) -> int:
    return sum(1 for m in messages if getattr(m, "kind", "") == "response")


def _last_part(messages: list[Any]) -> Any:
    return messages[-1].parts[-1]


# -- runaway loops and their negatives ------------------------------------------------------------


@scenario("loop_openai_agents_max_turns")
def loop_openai_agents_max_turns(provider: TracerProvider) -> None:
    """The model asks for the same order status until the SDK's max_turns stops the run."""
    from agents import Agent, Runner, function_tool
    from agents.exceptions import MaxTurnsExceeded
    from openinference.instrumentation import using_session

    FakeModel, call, _ = openai_agents_fakes()

    @function_tool
    def check_order_status(order_id: str) -> str:
        """Look up an order."""
        return "status unknown, try again later"

    agent = Agent(
        name="order_agent",
        instructions="You track orders.",
        model=FakeModel([call("check_order_status", '{"order_id": "A-17"}', f"call_{i}") for i in range(10)]),
        tools=[check_order_status],
    )
    with openinference(provider), using_session("session-maxturns-001"):
        try:
            asyncio.run(Runner.run(agent, "Where is my order A-17?", max_turns=5))
        except MaxTurnsExceeded:
            pass


@scenario("loop_pydantic_ai_cycle")
def loop_pydantic_ai_cycle(provider: TracerProvider) -> None:
    """Inventory check, then alternatives, then inventory again, round and round; then it gives up."""
    agent_cls = pydantic_agent(provider)
    m, FunctionModel = _pai()

    def model(messages: list[Any], info: Any) -> Any:
        n = _responses(messages)
        if n >= 8:
            return m.ModelResponse(parts=[m.TextPart("I could not find the item in stock.")])
        tool = "check_inventory" if n % 2 == 0 else "find_alternative"
        return m.ModelResponse(parts=[m.ToolCallPart(tool, {"sku": "SKU-991"}, tool_call_id=f"call_{n}")])

    agent = agent_cls(FunctionModel(model, model_name="fake-shop-model"), name="shop_agent")

    @agent.tool_plain
    def check_inventory(sku: str) -> str:
        return f"{sku}: out of stock"

    @agent.tool_plain
    def find_alternative(sku: str) -> str:
        return f"no alternative to {sku}; check inventory again"

    agent.run_sync("Buy me SKU-991", conversation_id="session-cycle-001")


@scenario("ok_pydantic_ai_polling")
def ok_pydantic_ai_polling(provider: TracerProvider) -> None:
    """Negative: a job polled with the same arguments until it is done (each poll is legitimate)."""
    agent_cls = pydantic_agent(provider)
    m, FunctionModel = _pai()
    polls = {"n": 0}

    def model(messages: list[Any], info: Any) -> Any:
        last = _last_part(messages)
        if getattr(last, "part_kind", "") == "user-prompt":
            return m.ModelResponse(parts=[m.ToolCallPart("start_export", {"table": "orders"}, tool_call_id="call_s")])
        if "done" in str(getattr(last, "content", "")):
            return m.ModelResponse(parts=[m.TextPart("Your export is ready: exports/orders.csv")])
        n = _responses(messages)
        return m.ModelResponse(parts=[m.ToolCallPart("export_status", {"job_id": "job-5"}, tool_call_id=f"call_{n}")])

    agent = agent_cls(FunctionModel(model, model_name="fake-ops-model"), name="ops_agent")

    @agent.tool_plain
    def start_export(table: str) -> str:
        return "started job-5"

    @agent.tool_plain
    def export_status(job_id: str) -> str:
        polls["n"] += 1
        return f"{job_id}: done" if polls["n"] >= 5 else f"{job_id}: running"

    agent.run_sync("Export the orders table", conversation_id="session-polling-001")


@scenario("ok_pydantic_ai_retry_succeeds")
def ok_pydantic_ai_retry_succeeds(provider: TracerProvider) -> None:
    """Negative: a flaky tool fails twice and succeeds on the third identical call."""
    agent_cls = pydantic_agent(provider)
    m, FunctionModel = _pai()
    from pydantic_ai import ModelRetry

    attempts = {"n": 0}

    def model(messages: list[Any], info: Any) -> Any:
        last = _last_part(messages)
        # Pydantic AI 2.x hands a ModelRetry back as a tool return whose outcome is "retried".
        if isinstance(last, m.ToolReturnPart) and getattr(last, "outcome", None) != "retried":
            return m.ModelResponse(parts=[m.TextPart(f"The rate is {last.content}.")])
        n = _responses(messages)
        return m.ModelResponse(parts=[m.ToolCallPart("get_rate", {"pair": "EUR/USD"}, tool_call_id=f"call_{n}")])

    agent = agent_cls(FunctionModel(model, model_name="fake-fx-model"), name="fx_agent", retries=3)

    @agent.tool_plain
    def get_rate(pair: str) -> str:
        attempts["n"] += 1
        if attempts["n"] < 3:
            raise ModelRetry("rate service timed out, try again")
        return "1.08"

    agent.run_sync("What is the EUR/USD rate?", conversation_id="session-retry-001")


@scenario("ok_pydantic_ai_same_tool_other_args")
def ok_pydantic_ai_same_tool_other_args(provider: TracerProvider) -> None:
    """Negative: one tool called six times in a row, each time for something else."""
    agent_cls = pydantic_agent(provider)
    m, FunctionModel = _pai()
    amounts = [120, 75, 310, 42, 980, 15]

    def model(messages: list[Any], info: Any) -> Any:
        n = _responses(messages)
        if n < len(amounts):
            return m.ModelResponse(
                parts=[m.ToolCallPart("convert", {"amount": amounts[n], "to": "USD"}, tool_call_id=f"call_{n}")]
            )
        return m.ModelResponse(parts=[m.TextPart("All six expenses converted.")])

    agent = agent_cls(FunctionModel(model, model_name="fake-expense-model"), name="expense_agent")

    @agent.tool_plain
    def convert(amount: int, to: str) -> str:
        return f"{amount * 1.08:.2f} {to}"

    agent.run_sync("Convert my six expenses to USD", conversation_id="session-convert-001")


def _research_session(provider: TracerProvider, session: str, topics: list[str]) -> None:
    agent_cls = pydantic_agent(provider)
    m, FunctionModel = _pai()

    def model(messages: list[Any], info: Any) -> Any:
        n = _responses(messages)
        if n < len(topics):
            return m.ModelResponse(
                parts=[m.ToolCallPart("search_papers", {"query": topics[n]}, tool_call_id=f"call_{n}")]
            )
        return m.ModelResponse(parts=[m.TextPart(f"Summary of {len(topics)} searches.")])

    agent = agent_cls(FunctionModel(model, model_name="fake-research-model"), name="research_agent")

    @agent.tool_plain
    def search_papers(query: str) -> str:
        return f"3 papers about {query}"

    agent.run_sync(f"Research {topics[0]}", conversation_id=session)


@scenario("ok_pydantic_ai_research_usual")
def ok_pydantic_ai_research_usual(provider: TracerProvider) -> None:
    """Negatives (and the baseline of the next scenario): six ordinary research sessions of 2 or 3 searches."""
    subjects = [
        ["battery chemistry", "solid state electrolytes"],
        ["coral bleaching", "ocean heat waves", "reef recovery"],
        ["protein folding", "alphafold accuracy"],
        ["urban heat islands", "green roofs"],
        ["sleep and memory", "rem sleep", "memory consolidation"],
        ["wind turbine noise", "offshore wind"],
    ]
    for i, topics in enumerate(subjects, start=1):
        _research_session(provider, f"session-research-00{i}", topics)


@scenario("loop_pydantic_ai_research_runaway")
def loop_pydantic_ai_research_runaway(provider: TracerProvider) -> None:
    """The same research agent, this time searching 30 different queries for one question."""
    _research_session(provider, "session-research-runaway", [f"quantum error correction, angle {i}" for i in range(30)])


@scenario("loop_openai_agents_ping_pong")
def loop_openai_agents_ping_pong(provider: TracerProvider) -> None:
    """Triage and billing hand the customer back and forth, four times each way, before billing answers."""
    from agents import Agent, Runner
    from openinference.instrumentation import using_session

    FakeModel, call, say = openai_agents_fakes()
    billing = Agent(
        name="billing_agent",
        instructions="You answer billing questions; send anything else back to triage.",
        model=FakeModel([*(call("transfer_to_triage_agent", "{}", f"call_b{i}") for i in range(4)), say("Refunded.")]),
    )
    triage = Agent(
        name="triage_agent",
        instructions="You route the customer.",
        model=FakeModel([call("transfer_to_billing_agent", "{}", f"call_t{i}") for i in range(5)]),
        handoffs=[billing],
    )
    billing.handoffs = [triage]
    with openinference(provider), using_session("session-pingpong-001"):
        asyncio.run(Runner.run(triage, "I was charged twice", max_turns=20))


@scenario("ok_openai_agents_handoff_back_once")
def ok_openai_agents_handoff_back_once(provider: TracerProvider) -> None:
    """Negative: billing sends the customer back to triage once, and triage answers."""
    from agents import Agent, Runner
    from openinference.instrumentation import using_session

    FakeModel, call, say = openai_agents_fakes()
    billing = Agent(
        name="billing_agent",
        instructions="You answer billing questions; send anything else back to triage.",
        model=FakeModel([call("transfer_to_triage_agent", "{}", "call_b0")]),
    )
    triage = Agent(
        name="triage_agent",
        instructions="You route the customer.",
        model=FakeModel(
            [call("transfer_to_billing_agent", "{}", "call_t0"), say("Your password reset link is on its way.")]
        ),
        handoffs=[billing],
    )
    billing.handoffs = [triage]
    with openinference(provider), using_session("session-handback-001"):
        asyncio.run(Runner.run(triage, "Reset my password (I thought it was billing)", max_turns=20))


# -- failed handoffs and their negatives ----------------------------------------------------------


def _refund_program(provider: TracerProvider, session: str, final_answer: str) -> None:
    """Triage asks a refund agent (agent as tool); the refund backend is down and the agent says so."""
    agent_cls = pydantic_agent(provider)
    m, FunctionModel = _pai()

    def refund_model(messages: list[Any], info: Any) -> Any:
        last = _last_part(messages)
        if getattr(last, "part_kind", "") == "user-prompt":
            return m.ModelResponse(parts=[m.ToolCallPart("issue_refund", {"order_id": "A-17"}, tool_call_id="call_r1")])
        return m.ModelResponse(parts=[m.TextPart(f"Error: {last.content}")])

    refund = agent_cls(FunctionModel(refund_model, model_name="fake-refund-model"), name="refund_agent")

    @refund.tool_plain
    def issue_refund(order_id: str) -> str:
        try:
            raise ConnectionError("payment service unreachable (HTTP 503)")
        except ConnectionError as exc:
            return str(exc)

    def triage_model(messages: list[Any], info: Any) -> Any:
        last = _last_part(messages)
        if getattr(last, "part_kind", "") == "user-prompt":
            return m.ModelResponse(
                parts=[m.ToolCallPart("ask_refund_agent", {"request": "Refund order A-17"}, tool_call_id="call_t1")]
            )
        return m.ModelResponse(parts=[m.TextPart(final_answer)])

    triage = agent_cls(FunctionModel(triage_model, model_name="fake-triage-model"), name="triage_agent")

    @triage.tool_plain
    async def ask_refund_agent(request: str) -> str:
        return str((await refund.run(request)).output)

    triage.run_sync("Please refund my order A-17", conversation_id=session)


@scenario("handoff_pydantic_ai_error_as_result")
def handoff_pydantic_ai_error_as_result(provider: TracerProvider) -> None:
    """The refund agent answers with an error; triage tells the customer the refund went through."""
    _refund_program(provider, "session-refund-ignored-001", "Done! Your refund for order A-17 has been issued.")


@scenario("ok_pydantic_ai_error_acknowledged")
def ok_pydantic_ai_error_acknowledged(provider: TracerProvider) -> None:
    """Negative: the same error, and triage tells the customer the truth."""
    _refund_program(
        provider,
        "session-refund-honest-001",
        "Sorry, the payment service is down so I could not refund order A-17; please try again later.",
    )


def _research_delegation(provider: TracerProvider, session: str, compact: bool) -> None:
    """A writer asks a researcher (agent as tool), then writes from the answer."""
    agent_cls = pydantic_agent(provider)
    m, FunctionModel = _pai()
    from pydantic_ai.capabilities import ProcessHistory

    def researcher_model(messages: list[Any], info: Any) -> Any:
        return m.ModelResponse(parts=[m.TextPart("Finding: lithium prices fell 18% in Q3 2026, per the LME.")])

    researcher = agent_cls(FunctionModel(researcher_model, model_name="fake-research-model"), name="fact_agent")

    def writer_model(messages: list[Any], info: Any) -> Any:
        last = _last_part(messages)
        if getattr(last, "part_kind", "") == "user-prompt":
            return m.ModelResponse(
                parts=[m.ToolCallPart("ask_fact_agent", {"question": "Lithium prices in Q3 2026?"}, tool_call_id="c1")]
            )
        return m.ModelResponse(parts=[m.TextPart("Here is your market note on lithium.")])

    def compact_tool_returns(messages: list[Any]) -> list[Any]:
        # "Save tokens": tool results are replaced by a placeholder before every model call.
        for message in messages:
            for part in getattr(message, "parts", []):
                if getattr(part, "part_kind", "") == "tool-return":
                    part.content = "[result stored]"
        return messages

    writer = agent_cls(
        FunctionModel(writer_model, model_name="fake-writer-model"),
        name="writer_agent",
        capabilities=[ProcessHistory(compact_tool_returns)] if compact else [],
    )

    @writer.tool_plain
    async def ask_fact_agent(question: str) -> str:
        return str((await researcher.run(question)).output)

    writer.run_sync("Write a market note on lithium", conversation_id=session)


@scenario("handoff_pydantic_ai_lost_work")
def handoff_pydantic_ai_lost_work(provider: TracerProvider) -> None:
    """A history processor replaces tool results before each call: the researcher's finding never reaches the writer."""
    _research_delegation(provider, "session-lostwork-001", compact=True)


@scenario("ok_pydantic_ai_work_delivered")
def ok_pydantic_ai_work_delivered(provider: TracerProvider) -> None:
    """Negative: the same delegation without the history processor."""
    _research_delegation(provider, "session-delivered-001", compact=False)


@scenario("handoff_pydantic_ai_empty_payload")
def handoff_pydantic_ai_empty_payload(provider: TracerProvider) -> None:
    """Triage delegates to the weather agent but passes an empty question."""
    agent_cls = pydantic_agent(provider)
    m, FunctionModel = _pai()

    def weather_model(messages: list[Any], info: Any) -> Any:
        return m.ModelResponse(parts=[m.TextPart("Which city do you mean?")])

    weather = agent_cls(FunctionModel(weather_model, model_name="fake-weather-model"), name="weather_agent")

    def triage_model(messages: list[Any], info: Any) -> Any:
        last = _last_part(messages)
        if getattr(last, "part_kind", "") == "user-prompt":
            return m.ModelResponse(parts=[m.ToolCallPart("ask_weather_agent", {"question": ""}, tool_call_id="c1")])
        return m.ModelResponse(parts=[m.TextPart("The weather agent needs a city.")])

    triage = agent_cls(FunctionModel(triage_model, model_name="fake-triage-model"), name="triage_agent")

    @triage.tool_plain
    async def ask_weather_agent(question: str) -> str:
        return str((await weather.run(question)).output)

    triage.run_sync("Will it rain in Lyon tomorrow?", conversation_id="session-emptypayload-001")


@scenario("handoff_openai_agents_task_dropped")
def handoff_openai_agents_task_dropped(provider: TracerProvider) -> None:
    """A handoff whose input filter drops the whole conversation: billing starts with nothing to do."""
    from agents import Agent, Runner, handoff
    from agents.handoffs import HandoffInputData
    from openinference.instrumentation import using_session

    FakeModel, call, say = openai_agents_fakes()
    billing = Agent(
        name="billing_agent",
        instructions="You answer billing questions.",
        model=FakeModel([say("How can I help with billing?")]),
    )

    def forget_everything(data: HandoffInputData) -> HandoffInputData:
        return data.clone(input_history=(), pre_handoff_items=(), new_items=())

    triage = Agent(
        name="triage_agent",
        instructions="You route the customer.",
        model=FakeModel([call("transfer_to_billing_agent", "{}", "call_h1")]),
        handoffs=[handoff(billing, input_filter=forget_everything)],
    )
    with openinference(provider), using_session("session-dropped-001"):
        asyncio.run(Runner.run(triage, "Why was I charged twice for invoice INV-9?"))


@scenario("handoff_openai_agents_target_never_started")
def handoff_openai_agents_target_never_started(provider: TracerProvider) -> None:
    """The handoff's on_handoff hook raises: the billing agent never starts."""
    from agents import Agent, Runner, handoff
    from openinference.instrumentation import using_session

    FakeModel, call, say = openai_agents_fakes()
    billing = Agent(name="billing_agent", instructions="You answer billing questions.", model=FakeModel([say("ok")]))

    def open_ticket(ctx: Any) -> None:
        raise RuntimeError("ticketing system rejected the handoff: queue 'billing' is closed")

    triage = Agent(
        name="triage_agent",
        instructions="You route the customer.",
        model=FakeModel([call("transfer_to_billing_agent", "{}", "call_h1")]),
        handoffs=[handoff(billing, on_handoff=open_ticket)],
    )
    with openinference(provider), using_session("session-notstarted-001"):
        try:
            asyncio.run(Runner.run(triage, "I need a copy of invoice INV-3"))
        except RuntimeError:
            pass


def _a2a_call(provider: TracerProvider, session: str, *, propagate: bool) -> None:
    """A planner calls a remote researcher over A2A; the researcher runs in its own service."""
    from opentelemetry import context, trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkProvider

    server_provider = SdkProvider(resource=Resource.create({"service.name": "researcher-service"}))
    for processor in provider._active_span_processor._span_processors:  # the same exporter as the caller
        server_provider.add_span_processor(processor)
    client = provider.get_tracer("a2a-client")
    server = server_provider.get_tracer("a2a-server")
    common = {"gen_ai.conversation.id": session, "gen_ai.provider.name": "a2a"}
    with client.start_as_current_span(
        "invoke_agent planner",
        attributes={
            **common,
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "planner",
        },
    ):
        with client.start_as_current_span(
            "invoke_agent researcher",
            kind=trace.SpanKind.CLIENT,
            attributes={
                **common,
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": "researcher",
                "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": "Sources on '
                'heat pumps in cold climates"}]}]',
            },
        ):
            parent = context.get_current() if propagate else context.Context()
            with server.start_as_current_span(
                "invoke_agent researcher",
                context=parent,
                kind=trace.SpanKind.SERVER,
                attributes={**common, "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "researcher"},
            ):
                with server.start_as_current_span(
                    "chat fake-research-model",
                    attributes={
                        **common,
                        "gen_ai.operation.name": "chat",
                        "gen_ai.request.model": "fake-research-model",
                        "gen_ai.usage.input_tokens": 300,
                        "gen_ai.usage.output_tokens": 40,
                    },
                ):
                    pass


@scenario("handoff_a2a_context_not_propagated")
def handoff_a2a_context_not_propagated(provider: TracerProvider) -> None:
    """Built with the OpenTelemetry SDK: the remote researcher's spans start a new trace (no traceparent)."""
    _a2a_call(provider, "session-a2a-broken-001", propagate=False)


@scenario("ok_a2a_context_propagated")
def ok_a2a_context_propagated(provider: TracerProvider) -> None:
    """Negative, built with the OpenTelemetry SDK: the same call with the trace context propagated."""
    _a2a_call(provider, "session-a2a-ok-001", propagate=True)


# -- context rot and its negatives ----------------------------------------------------------------


def _growing_context(provider: TracerProvider, session: str, tokens: list[int], overflow: bool = False) -> None:
    """A document agent reads chapters, its context growing by what each reports (token counts as billed)."""
    agent_cls = pydantic_agent(provider)
    m, FunctionModel = _pai()
    from pydantic_ai.exceptions import ModelHTTPError
    from pydantic_ai.usage import RequestUsage

    def model(messages: list[Any], info: Any) -> Any:
        n = _responses(messages)
        if overflow and n == len(tokens):
            raise ModelHTTPError(
                400,
                "fake-reader-model",
                body={
                    "error": {
                        "code": "context_length_exceeded",
                        "message": "This model's maximum context length is 32768 tokens. However, your messages "
                        "resulted in 33410 tokens. Please reduce the length of the messages.",
                    }
                },
            )
        usage = RequestUsage(input_tokens=tokens[min(n, len(tokens) - 1)], output_tokens=60)
        if n < len(tokens) - 1 or overflow:
            return m.ModelResponse(
                parts=[m.ToolCallPart("read_chapter", {"chapter": n + 1}, tool_call_id=f"call_{n}")], usage=usage
            )
        return m.ModelResponse(parts=[m.TextPart("Summary of the report.")], usage=usage)

    agent = agent_cls(FunctionModel(model, model_name="fake-reader-model"), name="reader_agent")

    @agent.tool_plain
    def read_chapter(chapter: int) -> str:
        return f"Chapter {chapter}: " + "findings and tables " * 20

    try:
        agent.run_sync("Summarize the annual report", conversation_id=session)
    except ModelHTTPError:
        pass


@scenario("rot_pydantic_ai_context_pressure")
def rot_pydantic_ai_context_pressure(provider: TracerProvider) -> None:
    """Five chapters read into a 32k window: the last calls send 29k and 31.5k tokens."""
    _growing_context(provider, "session-pressure-001", [4_000, 11_000, 19_000, 29_500, 31_500])


@scenario("rot_pydantic_ai_context_exceeded")
def rot_pydantic_ai_context_exceeded(provider: TracerProvider) -> None:
    """The provider refuses the fourth call: the context no longer fits."""
    _growing_context(provider, "session-overflow-001", [6_000, 15_000, 24_000], overflow=True)


@scenario("ok_pydantic_ai_context_roomy")
def ok_pydantic_ai_context_roomy(provider: TracerProvider) -> None:
    """Negative: the same reading, well inside the window."""
    _growing_context(provider, "session-roomy-001", [2_000, 3_500, 5_000, 6_500, 8_000])


@scenario("rot_pydantic_ai_truncated_history")
def rot_pydantic_ai_truncated_history(provider: TracerProvider) -> None:
    """A chat that keeps only its last six messages: the system prompt and the original brief fall out."""
    agent_cls = pydantic_agent(provider)
    m, FunctionModel = _pai()
    from pydantic_ai.capabilities import ProcessHistory

    def model(messages: list[Any], info: Any) -> Any:
        return m.ModelResponse(parts=[m.TextPart(f"Noted ({len(messages)} messages in view).")])

    agent = agent_cls(
        FunctionModel(model, model_name="fake-editor-model"),
        name="editor_agent",
        system_prompt="You are the copy editor of the Lyon travel guide. Keep British spelling.",
        capabilities=[ProcessHistory(lambda messages: messages[-6:])],
    )
    history: list[Any] = []
    prompts = [
        "Brief: edit chapter 3 of the Lyon guide for length, keep every restaurant name.",
        "Start with the section on Vieux Lyon.",
        "Now the traboules.",
        "Now Fourvière.",
        "Now the Presqu'île.",
        "Now Croix-Rousse.",
        "Now the food markets.",
        "Finish with the bouchons.",
    ]
    for prompt in prompts:
        result = agent.run_sync(prompt, message_history=history, conversation_id="session-truncated-001")
        history = result.all_messages()


def _long_session(provider: TracerProvider, session: str, degrade: bool) -> None:
    """Twenty requests over an hour of agent time (simulated clock: a model call takes 80 s, a lookup 10 s)."""
    agent_cls = pydantic_agent(provider)
    m, FunctionModel = _pai()

    with simulated_clock() as clock:

        def model(messages: list[Any], info: Any) -> Any:
            clock.advance(80)
            last = _last_part(messages)
            turn = sum(
                1
                for msg in messages
                if getattr(msg, "kind", "") == "request"
                and any(getattr(p, "part_kind", "") == "user-prompt" for p in msg.parts)
            )
            if getattr(last, "part_kind", "") in ("user-prompt", "retry-prompt"):
                # Late in a degrading session the agent looks up accounts it already looked up.
                account = (turn % 5) + 1 if degrade and turn > 12 else turn
                return m.ModelResponse(
                    parts=[m.ToolCallPart("lookup_account", {"account": f"AC-{account}"}, tool_call_id=f"c{turn}")]
                )
            return m.ModelResponse(parts=[m.TextPart(f"Account handled ({turn}).")])

        agent = agent_cls(FunctionModel(model, model_name="fake-support-model"), name="support_agent")

        @agent.tool_plain
        def lookup_account(account: str) -> str:
            clock.advance(10)
            return f"{account}: active, balance 120 EUR"

        history: list[Any] = []
        for turn in range(1, 21):
            history = agent.run_sync(
                f"Handle ticket {turn}", message_history=history, conversation_id=session
            ).all_messages()
            clock.advance(5)


@scenario("rot_pydantic_ai_long_drift")
def rot_pydantic_ai_long_drift(provider: TracerProvider) -> None:
    """Past the 35-minute mark the agent starts looking up accounts it has already looked up."""
    _long_session(provider, "session-drift-001", degrade=True)


@scenario("ok_pydantic_ai_long_steady")
def ok_pydantic_ai_long_steady(provider: TracerProvider) -> None:
    """Negative: the same hour of work, every lookup new."""
    _long_session(provider, "session-steady-001", degrade=False)


# -- hard cases, added after the rules were written (first-run results in docs/analyzer.md) --------


@scenario("ok_pydantic_ai_subagent_twice")
def ok_pydantic_ai_subagent_twice(provider: TracerProvider) -> None:
    """Negative: a sub-agent invoked twice for two different questions (each run starts afresh)."""
    agent_cls = pydantic_agent(provider)
    m, FunctionModel = _pai()

    def weather_model(messages: list[Any], info: Any) -> Any:
        return m.ModelResponse(parts=[m.TextPart(f"Mild and dry ({messages[0].parts[-1].content}).")])

    weather = agent_cls(
        FunctionModel(weather_model, model_name="fake-weather-model"),
        name="weather_agent",
        instructions="You report the weather.",
    )

    def planner_model(messages: list[Any], info: Any) -> Any:
        n = _responses(messages)
        cities = ["Paris", "Lyon"]
        if n < 2:
            return m.ModelResponse(
                parts=[
                    m.ToolCallPart("ask_weather_agent", {"question": f"Weather in {cities[n]}?"}, tool_call_id=f"c{n}")
                ]
            )
        return m.ModelResponse(parts=[m.TextPart("Both cities look mild and dry: go.")])

    planner = agent_cls(FunctionModel(planner_model, model_name="fake-planner-model"), name="trip_planner")

    @planner.tool_plain
    async def ask_weather_agent(question: str) -> str:
        return str((await weather.run(question)).output)

    planner.run_sync("Paris or Lyon this weekend?", conversation_id="session-twice-001")


@scenario("ok_pydantic_ai_benign_negative_wording")
def ok_pydantic_ai_benign_negative_wording(provider: TracerProvider) -> None:
    """Negative: the billing agent's good news is worded with "cannot" ("I cannot see any problem")."""
    agent_cls = pydantic_agent(provider)
    m, FunctionModel = _pai()

    def billing_model(messages: list[Any], info: Any) -> Any:
        return m.ModelResponse(parts=[m.TextPart("I cannot see any problem with invoice INV-4: it was paid on time.")])

    billing = agent_cls(FunctionModel(billing_model, model_name="fake-billing-model"), name="billing_agent")

    def triage_model(messages: list[Any], info: Any) -> Any:
        if getattr(_last_part(messages), "part_kind", "") == "user-prompt":
            return m.ModelResponse(
                parts=[m.ToolCallPart("ask_billing_agent", {"question": "INV-4?"}, tool_call_id="c1")]
            )
        return m.ModelResponse(parts=[m.TextPart("Good news: invoice INV-4 was paid on time.")])

    triage = agent_cls(FunctionModel(triage_model, model_name="fake-triage-model"), name="triage_agent")

    @triage.tool_plain
    async def ask_billing_agent(question: str) -> str:
        return str((await billing.run(question)).output)

    triage.run_sync("Is anything wrong with invoice INV-4?", conversation_id="session-benign-001")


def _noisy_search(provider: TracerProvider, session: str, finish_after: int | None) -> None:
    """A search whose every answer carries a new request id: the same nothing, worded differently each time."""
    agent_cls = pydantic_agent(provider)
    m, FunctionModel = _pai()
    calls = {"n": 0}

    def model(messages: list[Any], info: Any) -> Any:
        n = _responses(messages)
        last = _last_part(messages)
        if "ready" in str(getattr(last, "content", "")) or n >= 6:
            return m.ModelResponse(parts=[m.TextPart("Done." if finish_after else "I could not find any hotel.")])
        return m.ModelResponse(
            parts=[m.ToolCallPart("search_hotels", {"city": "Porto", "nights": 2}, tool_call_id=f"c{n}")]
        )

    agent = agent_cls(FunctionModel(model, model_name="fake-hotel-model"), name="hotel_agent")

    @agent.tool_plain
    def search_hotels(city: str, nights: int) -> str:
        calls["n"] += 1
        if finish_after is not None:
            done = calls["n"] >= finish_after
            return f"index {'ready' if done else 'building'} ({calls['n'] * 20}% done, request r-{4000 + calls['n']})"
        return f"no hotels found (request r-{4000 + calls['n']})"

    agent.run_sync("Find me a hotel in Porto for 2 nights", conversation_id=session)


@scenario("loop_pydantic_ai_noisy_results")
def loop_pydantic_ai_noisy_results(provider: TracerProvider) -> None:
    """Six identical searches, each answer the same 'nothing' with a new request id; then it gives up."""
    _noisy_search(provider, "session-noisy-001", finish_after=None)


@scenario("ok_pydantic_ai_progress_polling")
def ok_pydantic_ai_progress_polling(provider: TracerProvider) -> None:
    """Negative: the same call polled while an index builds (20%, 40%...) until it is ready."""
    _noisy_search(provider, "session-progress-001", finish_after=5)
