"""Second labeled evaluation corpus for stepseven, made by running Strands Agents' real agent loop offline.

Batch 2 reuses the machinery of batch 1 (``../corpus/corpus_strands.py``, imported by path: the scripted model
idea, ``make_tool``, ``agent``, ``harness_span``, the simulated clock and the run log) and adds new shapes: a
``strands.multiagent.Graph`` (feedback cycles, fan-out, a failing node), ``FileSessionManager`` sessions restored
into a new ``Agent`` every turn (as web apps do), a user-written ``ConversationManager``, the built-in
``SlidingWindowConversationManager(pin_first=...)``, ``limits={"output_tokens": ...}``, a model that stops with
``max_tokens`` (``MaxTokensReachedException``) and a fire-and-forget delegation in a background thread.
Only the model provider (a ``strands.models.Model`` subclass streaming Bedrock Converse events from a script) and
the tool backends are fake. No network at all.

Pinned versions (``pip freeze`` of /work/cap/strands/.venv, Python 3.11.7)::

    strands-agents==1.62.0            # native OTel tracing, no separate instrumentor
    opentelemetry-api==1.45.1
    opentelemetry-sdk==1.45.1
    opentelemetry-instrumentation-threading==0.66b1
    opentelemetry-semantic-conventions==0.66b1

Run (needs ``/work/cap/strands/corpus/corpus_strands.py`` and ``/work/main/sample_traces/capture_kit.py``; override
with ``CORPUS1_PATH`` / ``CAPTURE_KIT_DIR``)::

    /work/cap/strands/.venv/bin/python corpus2_strands.py [SCENARIO ...]   # all scenarios by default
    /work/cap/strands/.venv/bin/python corpus2_strands.py --labels           # only rewrite labels_strands.toml

Every scenario runs in its own subprocess (Strands reads ``OTEL_SEMCONV_STABILITY_OPT_IN`` once), one after the
other. Modes: ``legacy`` (Strands default, content on), ``latest`` (``gen_ai_latest_experimental``), and
``legacy_off`` / ``latest_off`` (``gen_ai_unredacted_attributes=``: Strands' redaction with an empty allow-list, i.e.
content capture off). Output: ``out/strands_b2_<scenario>.json`` (one OTLP/JSON ExportTraceServiceRequest per file),
``labels_strands.toml`` and ``out/run.log`` (per scripted model call: how many messages it was given and whether the
watched constraint/fact was still in its input). Seeds are ``zlib.crc32("c2:" + scenario)``; session ids are fixed.
"""

from __future__ import annotations

import atexit
import contextvars
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import zlib
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
CORPUS1 = Path(os.environ.get("CORPUS1_PATH", str(HERE.parent / "corpus" / "corpus_strands.py")))
PREFIX = "strands-c2-"


def _load_corpus1() -> Any:
    spec = importlib.util.spec_from_file_location("corpus_strands_b1", CORPUS1)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_strands_b1"] = module
    spec.loader.exec_module(module)
    return module


c1 = _load_corpus1()
Label = c1.Label
MODES: dict[str, dict[str, str]] = c1.MODES
make_tool = c1.make_tool
agent = c1.agent
harness_span = c1.harness_span
pick = c1.pick
work = c1.work
log = c1.log


@dataclass
class Scenario:
    name: str
    mode: str
    run: Callable[[random.Random], None]
    labels: list[Any]


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, mode: str, labels: list[Any]) -> Callable[[Callable[[random.Random], None]], Any]:
    def register(fn: Callable[[random.Random], None]) -> Callable[[random.Random], None]:
        SCENARIOS[name] = Scenario(name, mode, fn, labels)
        return fn

    return register


def sid(name: str) -> str:
    return f"{PREFIX}{name}"


@dataclass
class Truncated:
    """A scripted answer cut off by the provider's output cap (stopReason ``max_tokens``)."""

    text: str


Call = tuple[str, dict[str, Any]]
Step = str | list[Call] | BaseException | Truncated


def scripted_model(
    model_id: str,
    script: list[Step],
    rng: random.Random,
    *,
    base_tokens: int = 100,
    watch: dict[str, str] | None = None,
) -> Any:
    """Batch 1's scripted Strands Model, plus ``Truncated`` steps (stopReason max_tokens)."""
    from strands.models.model import Model

    class ScriptedModel(Model):
        def __init__(self) -> None:
            self.config: dict[str, Any] = {"model_id": model_id}
            self.calls = 0

        def update_config(self, **model_config: Any) -> None:
            self.config.update(model_config)

        def get_config(self) -> Any:
            return self.config

        def structured_output(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

        async def stream(
            self, messages: Any, tool_specs: Any = None, system_prompt: str | None = None, **kwargs: Any
        ) -> AsyncGenerator[Any, None]:
            step = script[min(self.calls, len(script) - 1)]
            self.calls += 1
            if watch:
                seen = (system_prompt or "") + json.dumps(messages, default=str)
                state = ", ".join(f"{k}={'present' if v in seen else 'ABSENT'}" for k, v in watch.items())
                log(f"  {model_id} call {self.calls}: {len(messages)} messages; {state}")
            work(rng.uniform(0.6, 2.8))
            if isinstance(step, BaseException):
                log(f"  {model_id} call {self.calls}: raises {type(step).__name__}: {step}")
                raise step
            input_tokens = base_tokens + 25 * len(messages)
            yield {"messageStart": {"role": "assistant"}}
            if isinstance(step, (str, Truncated)):
                text = step if isinstance(step, str) else step.text
                output_tokens = 12 + len(text) // 40 if isinstance(step, str) else 1024
                yield {"contentBlockStart": {"start": {}}}
                yield {"contentBlockDelta": {"delta": {"text": text}}}
                yield {"contentBlockStop": {}}
                stop = "end_turn" if isinstance(step, str) else "max_tokens"
            else:
                output_tokens = 18 * len(step)
                for name, tool_input in step:
                    tool_use_id = f"tooluse_{rng.getrandbits(64):016x}"
                    yield {"contentBlockStart": {"start": {"toolUse": {"name": name, "toolUseId": tool_use_id}}}}
                    yield {"contentBlockDelta": {"delta": {"toolUse": {"input": json.dumps(tool_input)}}}}
                    yield {"contentBlockStop": {}}
                stop = "tool_use"
            yield {"messageStop": {"stopReason": stop}}
            yield {
                "metadata": {
                    "usage": {
                        "inputTokens": input_tokens,
                        "outputTokens": output_tokens,
                        "totalTokens": input_tokens + output_tokens,
                    },
                    "metrics": {"latencyMs": 800},
                }
            }

    return ScriptedModel()


def node_text(state: Any, node_id: str) -> str:
    """Text of a Graph node's latest result (for edge conditions)."""
    result = state.results.get(node_id)
    return "" if result is None else str(result.result)


def session_dir() -> str:
    """A throw-away FileSessionManager storage folder, removed when the scenario's process exits."""
    path = tempfile.mkdtemp(prefix="strands_c2_")
    atexit.register(shutil.rmtree, path, True)
    return path


def set_session(multi_agent: Any, session_id: str) -> None:
    """GraphBuilder.build() takes no trace_attributes, so the app adds the session id to the built graph."""
    multi_agent.trace_attributes.update({"session.id": session_id})


# --------------------------------------------------------------------------------------------- runaway_loop


@scenario(
    "alternating_rewordings_limit",
    "latest",
    [
        Label(
            sid("101-alternating-rewordings"),
            ["runaway_loop"],
            "two_rewordings_alternate_until_limit",
            "the model alternates between two phrasings of one case-law query (A, B, A, B, ...); every search returns "
            "'0 matching opinions' and limits={'turns': 8} stops the run (limit_turns) without an answer",
        )
    ],
)
def alternating_rewordings_limit(rng: random.Random) -> None:
    issue = pick(
        rng,
        [
            "non-compete enforceability for remote employees in Colorado",
            "landlord liability for e-scooter battery fires",
            "GDPR damages for a delayed subject access request",
        ],
    )
    tool_name = pick(rng, ["search_case_law", "caselaw_lookup", "query_opinions"])
    name = pick(rng, ["precedent_scout", "case_law_finder", "litigation_research_agent"])

    def search(query: str, court: str) -> str:
        """Args:
        query: Full-text query.
        court: Court filter.
        """
        work(rng.uniform(1.0, 2.5))
        return f"0 matching opinions for '{query}' in {court} (index rev 2026-11-30)"

    def list_courts(region: str) -> str:
        """Args:
        region: Region.
        """
        return f"{region}: supreme, appeals, district"

    a_q, b_q = issue, f'"{issue}" appellate holding'
    script: list[Step] = [[("list_courts", {"region": "US"})]]
    script += [[(tool_name, {"query": a_q if i % 2 == 0 else b_q, "court": "appeals"})] for i in range(9)]
    a = agent(
        name,
        scripted_model("fake-gpt-4.1", script, rng),
        "You are a legal research assistant. Find binding precedent and cite it.",
        [
            make_tool(tool_name, "Searches court opinions.", search),
            make_tool("list_courts", "Lists courts.", list_courts),
        ],
        trace_attributes={"session.id": sid("101-alternating-rewordings")},
    )
    result = a(f"Find appellate precedent on {issue}.", limits={"turns": 8})
    log(f"  stop_reason={result.stop_reason}")


@scenario(
    "same_error_varying_request_id",
    "legacy",
    [
        Label(
            sid("102-same-error-request-ids"),
            ["runaway_loop"],
            "same_error_only_request_id_varies",
            "the warehouse query tool fails 4 times with 'QuotaExceeded: slot quota exceeded for project ...' whose "
            "only difference is the request_id; the agent interleaves list_tables/describe_table/cache look-ups, "
            "changes nothing that matters and finally gives up",
        )
    ],
)
def same_error_varying_request_id(rng: random.Random) -> None:
    project = pick(rng, ["acme-analytics", "northwind-dw", "globex-bi"])
    metric = pick(rng, ["weekly active users", "net revenue retention", "average basket size"])

    def run_query(sql: str) -> str:
        """Args:
        sql: SQL to run.
        """
        work(rng.uniform(2.0, 4.0))
        raise RuntimeError(
            f"QuotaExceeded: slot quota exceeded for project {project} (request_id=req_{rng.getrandbits(48):012x})"
        )

    def list_tables(dataset: str) -> str:
        """Args:
        dataset: Dataset.
        """
        return f"{dataset}: events, users, orders, sessions"

    def describe_table(table: str) -> str:
        """Args:
        table: Table.
        """
        return f"{table}: user_id STRING, ts TIMESTAMP, amount NUMERIC, country STRING"

    def get_cached_result(sql: str) -> str:
        """Args:
        sql: SQL whose cached result is wanted.
        """
        return "no cached result for this query"

    base = "SELECT date_trunc(ts, WEEK) w, count(DISTINCT user_id) FROM analytics.events GROUP BY w"
    script: list[Step] = [
        [("list_tables", {"dataset": "analytics"})],
        [("run_query", {"sql": base})],
        [("describe_table", {"table": "analytics.events"})],
        [("run_query", {"sql": base + " ORDER BY w"})],
        [("get_cached_result", {"sql": base})],
        [("run_query", {"sql": base + " ORDER BY w LIMIT 52"})],
        [("describe_table", {"table": "analytics.users"})],
        [("run_query", {"sql": base + " ORDER BY w DESC LIMIT 52"})],
        f"I could not compute {metric}: the warehouse keeps rejecting the query with a quota error.",
    ]
    a = agent(
        pick(rng, ["bi_analyst", "warehouse_copilot", "metrics_agent"]),
        scripted_model("fake-claude-sonnet", script, rng),
        "You answer metric questions with SQL on the data warehouse.",
        [
            make_tool("run_query", "Runs SQL on the warehouse.", run_query),
            make_tool("list_tables", "Lists tables.", list_tables),
            make_tool("describe_table", "Describes a table.", describe_table),
            make_tool("get_cached_result", "Returns a cached query result.", get_cached_result),
        ],
        trace_attributes={"session.id": sid("102-same-error-request-ids")},
    )
    a(f"What is our {metric} trend over the last year?")


@scenario(
    "cursor_poller_in_subagent",
    "latest_off",
    [
        Label(
            sid("103-cursor-poller-subagent"),
            ["runaway_loop", "failed_handoff"],
            "opaque_cursor_pager_never_ends_in_subagent",
            "a @tool runs a log-collector sub-agent that follows an opaque next_cursor 7 times (the log tail never "
            "ends) until limits={'output_tokens': 120} stops it (limit_output_tokens); the wrapper returns '' and "
            "the incident lead gets no logs (content capture off)",
        )
    ],
)
def cursor_poller_in_subagent(rng: random.Random) -> None:
    import base64

    from strands import tool

    service = pick(rng, ["checkout-api", "auth-gateway", "ledger-writer"])

    def fetch_log_page(service: str, cursor: str) -> str:
        """Args:
        service: Service name.
        cursor: Opaque cursor ('' for the start).
        """
        work(rng.uniform(0.7, 1.5))
        offset = 0 if not cursor else json.loads(base64.b64decode(cursor))["o"]
        nxt = base64.b64encode(json.dumps({"o": offset + 500, "s": service}).encode()).decode()
        return f"500 lines ({service} INFO heartbeat ok ...); has_more=true; next_cursor={nxt}"

    cursors = [""]
    for i in range(1, 10):
        cursors.append(base64.b64encode(json.dumps({"o": i * 500, "s": service}).encode()).decode())
    collector = agent(
        pick(rng, ["log_collector", "log_fetcher"]),
        scripted_model(
            "fake-claude-haiku",
            [[("fetch_log_page", {"service": service, "cursor": c})] for c in cursors],
            rng,
        ),
        "You collect all log lines for a service and return the errors found.",
        [make_tool("fetch_log_page", "Reads one page of logs.", fetch_log_page)],
    )

    @tool
    def collect_logs(service: str) -> str:
        """Has the log collector agent gather the service's error logs.

        Args:
            service: Service name.
        """
        result = collector(f"Collect the error logs of {service} for the last hour.", limits={"output_tokens": 120})
        log(f"  collector stop_reason={result.stop_reason}")
        return str(result)

    lead = agent(
        pick(rng, ["incident_commander", "sre_lead"]),
        scripted_model(
            "fake-gpt-4o",
            [
                [("collect_logs", {"service": service})],
                f"The log collection for {service} came back empty; I cannot confirm the root cause yet.",
            ],
            rng,
            base_tokens=150,
        ),
        "You lead incident response and delegate log collection.",
        [collect_logs],
        trace_attributes={"session.id": sid("103-cursor-poller-subagent")},
    )
    lead(f"{service} is returning 500s since 14:05. What is going on?")


@scenario(
    "graph_review_cycle_limit",
    "legacy",
    [
        Label(
            sid("104-graph-review-cycle"),
            ["runaway_loop", "failed_handoff"],
            "graph_feedback_cycle_until_max_node_executions",
            "a Graph drafter->reviewer->drafter cycle: the reviewer rejects with the identical note every time and "
            "the drafter resubmits an unchanged draft; set_max_node_executions(6) stops the graph (FAILED) and the "
            "publisher node never starts",
        )
    ],
)
def graph_review_cycle_limit(rng: random.Random) -> None:
    from strands.multiagent import GraphBuilder

    piece = pick(rng, ["the December customer newsletter", "the Q4 product update", "the holiday-hours notice"])
    note = "REJECT: the draft still lacks the Q4 uptime figure; add it."
    drafter = agent(
        "drafter",
        scripted_model("fake-drafter-model", [f"Draft of {piece}: highlights, new features, thanks."], rng),
        "You draft customer communications.",
    )
    reviewer = agent(
        "reviewer",
        scripted_model("fake-reviewer-model", [note], rng),
        "You review drafts. Start with APPROVE or REJECT.",
    )
    publisher = agent(
        "publisher",
        scripted_model("fake-publisher-model", ["Scheduled for 09:00."], rng),
        "You schedule approved content.",
    )
    b = GraphBuilder()
    b.add_node(drafter, "drafter")
    b.add_node(reviewer, "reviewer")
    b.add_node(publisher, "publisher")
    b.add_edge("drafter", "reviewer")
    b.add_edge("reviewer", "drafter", condition=lambda s: node_text(s, "reviewer").startswith("REJECT"))
    b.add_edge("reviewer", "publisher", condition=lambda s: node_text(s, "reviewer").startswith("APPROVE"))
    b.set_entry_point("drafter")
    b.set_max_node_executions(6)
    graph = b.build()
    set_session(graph, sid("104-graph-review-cycle"))
    result = graph(f"Write and publish {piece}.")
    log(f"  graph status={result.status}, order={[n.node_id for n in result.execution_order]}")


@scenario(
    "code_same_traceback_two_turns",
    "latest",
    [
        Label(
            sid("105-code-same-traceback"),
            ["runaway_loop"],
            "code_steps_fail_same_way_across_turns",
            "a 2-turn coding session: run_script fails 3 times in turn 1 and 2 more times in turn 2 with the same "
            "\"ModuleNotFoundError: No module named 'yaml'\"; the agent edits unrelated lines each time and never "
            "installs the dependency",
        )
    ],
)
def code_same_traceback_two_turns(rng: random.Random) -> None:
    script_path = pick(rng, ["scripts/sync_config.py", "tools/render_manifest.py", "bin/export_settings.py"])

    def run_script(path: str) -> str:
        """Args:
        path: Script to run.
        """
        work(rng.uniform(1.5, 3.0))
        raise RuntimeError(
            f'Traceback (most recent call last):\n  File "{path}", line 3, in <module>\n    import yaml\n'
            "ModuleNotFoundError: No module named 'yaml'"
        )

    def edit_file(path: str, line: int, text: str) -> str:
        """Args:
        path: File.
        line: Line number.
        text: New line.
        """
        return f"{path}:{line} updated"

    script: list[Step] = [
        [("run_script", {"path": script_path})],
        [("edit_file", {"path": script_path, "line": 12, "text": "cfg = load(open(p))"})],
        [("run_script", {"path": script_path})],
        [("edit_file", {"path": script_path, "line": 3, "text": "import yaml  # noqa"})],
        [("run_script", {"path": script_path})],
        "The script still fails on the yaml import; I changed the loader lines but it did not help.",
        [("edit_file", {"path": script_path, "line": 12, "text": "cfg = yaml.safe_load(open(p))"})],
        [("run_script", {"path": script_path})],
        [("run_script", {"path": script_path})],
        "It still fails with ModuleNotFoundError for yaml. I am not sure what else to change.",
    ]
    a = agent(
        pick(rng, ["code_fixer", "devbox_agent", "repair_bot"]),
        scripted_model("fake-claude-sonnet", script, rng, base_tokens=600),
        "You are a coding agent. Run scripts, read errors, fix the code.",
        [
            make_tool("run_script", "Runs a Python script.", run_script),
            make_tool("edit_file", "Edits a line.", edit_file),
        ],
        trace_attributes={"session.id": sid("105-code-same-traceback")},
    )
    a(f"{script_path} crashes on start. Make it run.")
    a("Please try again, it has to work today.")


# --------------------------------------------------------------------------------------------- context_rot


@scenario(
    "session_restore_drops_system_rule",
    "legacy",
    [
        Label(
            sid("201-restore-drops-system-rule"),
            ["context_rot"],
            "session_restore_loses_system_instructions",
            "2-turn advisory session persisted with FileSessionManager; turn 2 restores the history into a new Agent "
            "built with a generic fallback system prompt, so the rule 'never recommend individual stocks' is gone "
            "and the model recommends single stocks",
        )
    ],
)
def session_restore_drops_system_rule(rng: random.Random) -> None:
    from strands.session import FileSessionManager

    session = sid("201-restore-drops-system-rule")
    storage = session_dir()
    name = pick(rng, ["wealth_assistant", "savings_coach", "pension_helper"])
    rule = "never recommend individual stocks; only diversified index funds"

    def get_portfolio(customer_id: str) -> str:
        """Args:
        customer_id: Customer id.
        """
        return f"{customer_id}: 62% global equity index fund, 30% bond fund, 8% cash; risk profile: moderate"

    tools = [make_tool("get_portfolio", "Reads the customer's portfolio.", get_portfolio)]
    customer = f"C-{rng.randint(10000, 99999)}"
    turns: list[tuple[str, str, list[Step]]] = [
        (
            f"You are a regulated savings assistant. COMPLIANCE: {rule}.",
            f"I'm customer {customer}. Is my pension portfolio sensible for retiring in 2045?",
            [
                [("get_portfolio", {"customer_id": customer})],
                "Your mix (62% global equity index, 30% bonds, 8% cash) suits a 2045 horizon with moderate risk.",
            ],
        ),
        (
            "You are a helpful assistant.",  # the app's fallback prompt after a template lookup failed
            "I got a 10,000 EUR bonus. What exactly should I buy?",
            ["Put it into NVIDIA and ASML shares, 5,000 EUR each; they have the strongest growth outlook."],
        ),
    ]
    for turn, (system_prompt, text, script) in enumerate(turns, 1):
        with harness_span("POST /api/advice/chat", turn):
            a = agent(
                name,
                scripted_model("fake-gpt-4o", script, rng, watch={"compliance_rule": rule}),
                system_prompt,
                tools,
                session_manager=FileSessionManager(session_id=session, storage_dir=storage),
                trace_attributes={"session.id": session},
            )
            a(text)


def char_budget_manager(max_chars: int) -> Any:
    """A user-written ConversationManager: before every model call, drop whole old turns until the history's JSON
    is under ``max_chars`` (cut points are plain user text messages, so tool pairs stay intact)."""
    from strands.agent.conversation_manager import ConversationManager
    from strands.hooks import BeforeModelCallEvent

    class CharBudget(ConversationManager):
        def register_hooks(self, registry: Any, **kwargs: Any) -> None:
            super().register_hooks(registry, **kwargs)
            registry.add_callback(BeforeModelCallEvent, lambda event: self.reduce_context(event.agent))

        def apply_management(self, agent: Any, **kwargs: Any) -> None:
            self.reduce_context(agent)

        def reduce_context(self, agent: Any, e: Exception | None = None, **kwargs: Any) -> None:
            messages = agent.messages
            while len(json.dumps(messages, default=str)) > max_chars:
                cut = next(
                    (
                        i
                        for i in range(1, len(messages))
                        if messages[i]["role"] == "user" and all("text" in block for block in messages[i]["content"])
                    ),
                    None,
                )
                if cut is None:
                    return
                del messages[:cut]
                self.removed_message_count += cut

    return CharBudget()


@scenario(
    "custom_budget_manager_drops_pg12",
    "latest",
    [
        Label(
            sid("202-custom-manager-drops-pg12"),
            ["context_rot"],
            "custom_conversation_manager_drops_constraint",
            "a user-written ConversationManager keeps the history under 2,500 characters before each model call; "
            "in turn 2 it drops turn 1 ('target is Postgres 12, so no MERGE'), and the agent writes a MERGE "
            "statement into the migration",
        )
    ],
)
def custom_budget_manager_drops_pg12(rng: random.Random) -> None:
    table = pick(rng, ["customers", "subscriptions", "vendors"])

    def inspect_schema(table: str) -> str:
        """Args:
        table: Table name.
        """
        cols = ", ".join(f"col_{i} text" for i in range(40))
        return f"CREATE TABLE {table} (id bigint primary key, email text unique, {cols});"

    def write_migration(filename: str, sql: str) -> str:
        """Args:
        filename: Migration file.
        sql: SQL body.
        """
        return f"wrote {filename} ({len(sql)} bytes)"

    script: list[Step] = [
        [("inspect_schema", {"table": table})],
        f"{table} has 42 columns keyed by id with a unique email; I will write upserts compatible with your target.",
        [("inspect_schema", {"table": f"staging_{table}"})],
        [
            (
                "write_migration",
                {
                    "filename": f"0042_sync_{table}.sql",
                    "sql": f"MERGE INTO {table} t USING staging_{table} s ON t.email = s.email "
                    "WHEN MATCHED THEN UPDATE SET col_1 = s.col_1 WHEN NOT MATCHED THEN INSERT (email) VALUES "
                    "(s.email);",
                },
            )
        ],
        f"Wrote 0042_sync_{table}.sql using a MERGE upsert from staging_{table}.",
    ]
    a = agent(
        pick(rng, ["db_migration_agent", "schema_assistant"]),
        scripted_model("fake-gpt-4.1", script, rng, watch={"pg12_constraint": "Postgres 12"}),
        "You write SQL migrations.",
        [
            make_tool("inspect_schema", "Shows a table's DDL.", inspect_schema),
            make_tool("write_migration", "Writes a migration file.", write_migration),
        ],
        conversation_manager=char_budget_manager(2500),
        trace_attributes={"session.id": sid("202-custom-manager-drops-pg12")},
    )
    a(f"We are adding a nightly sync into {table}. Our target is Postgres 12, so no MERGE (that needs 15).")
    a(f"Now write the upsert migration from staging_{table}.")


@scenario(
    "overflow_mid_session_drops_allergy",
    "legacy_off",
    [
        Label(
            sid("203-overflow-drops-allergy"),
            ["context_rot"],
            "context_length_error_in_later_turn_trims_first_turn",
            "3-turn meal-planning session: turn 3's model call fails with ContextWindowOverflowException; "
            "SlidingWindowConversationManager(should_truncate_results=False) trims turn 1 ('vegan, severe nut "
            "allergy') and the model then proposes an almond-crusted salmon dish (content capture off)",
        )
    ],
)
def overflow_mid_session_drops_allergy(rng: random.Random) -> None:
    from strands.agent.conversation_manager import SlidingWindowConversationManager
    from strands.types.exceptions import ContextWindowOverflowException

    def search_recipes(query: str, max_minutes: int) -> str:
        """Args:
        query: Recipe query.
        max_minutes: Maximum preparation time.
        """
        work(0.9)
        return f"{query}: chickpea curry (25 min), lentil bolognese (35 min), tofu stir-fry (20 min)"

    day = pick(rng, ["Friday", "Saturday", "Sunday"])
    script: list[Step] = [
        "Noted: vegan and nut-free. I'll plan five dinners.",
        [("search_recipes", {"query": "vegan nut-free weeknight dinner", "max_minutes": 30})],
        "Mon chickpea curry, Tue tofu stir-fry, Wed lentil bolognese, Thu leftovers, Fri pasta primavera.",
        ContextWindowOverflowException("Input is too long for requested model (prompt is 131082 tokens)"),
        f"For {day} guests: almond-crusted salmon with honey-glazed carrots, then a pecan tart.",
    ]
    a = agent(
        pick(rng, ["meal_planner", "kitchen_assistant", "recipe_coach"]),
        scripted_model("fake-claude-sonnet", script, rng, watch={"allergy": "nut allergy"}),
        "You plan meals and shopping lists.",
        [make_tool("search_recipes", "Searches recipes.", search_recipes)],
        conversation_manager=SlidingWindowConversationManager(window_size=40, should_truncate_results=False),
        trace_attributes={"session.id": sid("203-overflow-drops-allergy")},
    )
    a("Plan my dinners this week. I'm vegan and have a severe nut allergy.")
    a("Quick ones please, under 30 minutes.")
    a(f"I have 4 guests on {day}. Suggest a special dinner with dessert.")


@scenario(
    "restored_session_window_reasks",
    "latest",
    [
        Label(
            sid("204-restored-window-reasks"),
            ["context_rot"],
            "multi_turn_asks_again_after_session_restore",
            "4-turn claims chat, a new Agent per request restored with FileSessionManager and "
            "SlidingWindowConversationManager(window_size=4): the policy number from turn 1 is trimmed and in turn 4 "
            "the agent asks for it again",
        )
    ],
)
def restored_session_window_reasks(rng: random.Random) -> None:
    from strands.agent.conversation_manager import SlidingWindowConversationManager
    from strands.session import FileSessionManager

    session = sid("204-restored-window-reasks")
    storage = session_dir()
    policy = f"POL-{rng.randint(1000000, 9999999)}"

    def get_policy(policy_id: str) -> str:
        """Args:
        policy_id: Policy number.
        """
        return f"{policy_id}: comprehensive motor, excess 250 EUR, courtesy car included"

    turns: list[tuple[str, list[Step]]] = [
        (
            f"Someone reversed into my parked car yesterday. My policy number is {policy}.",
            [[("get_policy", {"policy_id": policy})], "You have comprehensive cover with a 250 EUR excess."],
        ),
        ("The other driver left a note with their plate, HX22 KLM.", ["Thanks, the third party's plate is noted."]),
        ("How long do body-shop repairs usually take?", ["Usually 5 to 10 working days, depending on parts."]),
        ("OK, please open the claim now.", ["Happy to open the claim. Could you give me your policy number?"]),
    ]
    name = pick(rng, ["claims_assistant", "motor_claims_bot"])
    for turn, (text, script) in enumerate(turns, 1):
        with harness_span("POST /claims/chat", turn):
            a = agent(
                name,
                scripted_model("fake-gpt-4o-mini", script, rng, watch={"policy_number": policy}),
                "You help motor insurance customers file claims.",
                [make_tool("get_policy", "Reads a policy.", get_policy)],
                conversation_manager=SlidingWindowConversationManager(window_size=4),
                session_manager=FileSessionManager(session_id=session, storage_dir=storage),
                trace_attributes={"session.id": session},
            )
            a(text)


# --------------------------------------------------------------------------------------------- failed_handoff


@scenario(
    "graph_node_raises",
    "legacy",
    [
        Label(
            sid("301-graph-node-raises"),
            ["failed_handoff"],
            "graph_node_raises_downstream_never_starts",
            "a Graph fetcher -> analyst -> report_writer: the analyst's model call raises a 503 "
            "ServiceUnavailable error, the graph fails fast and the report_writer never starts; the app returns "
            "an apology",
        )
    ],
)
def graph_node_raises(rng: random.Random) -> None:
    from strands.multiagent import GraphBuilder

    region = pick(rng, ["EMEA", "APAC", "LATAM"])

    def fetch_sales(region: str, quarter: str) -> str:
        """Args:
        region: Sales region.
        quarter: Quarter.
        """
        work(2.5)
        return f"{region} {quarter}: 4,812 orders, 1.93M EUR, top SKU WX-220"

    fetcher = agent(
        "fetcher",
        scripted_model(
            "fake-fetcher-model",
            [[("fetch_sales", {"region": region, "quarter": "2026-Q4"})], f"{region} Q4: 4,812 orders, 1.93M EUR."],
            rng,
        ),
        "You fetch raw sales data.",
        [make_tool("fetch_sales", "Fetches sales data.", fetch_sales)],
    )
    analyst = agent(
        "analyst",
        scripted_model(
            "fake-analyst-model",
            [RuntimeError("ServiceUnavailableException: model endpoint is overloaded (503), try again later")],
            rng,
        ),
        "You analyse sales data and find drivers.",
    )
    writer = agent("report_writer", scripted_model("fake-writer-model", ["Report."], rng), "You write reports.")
    b = GraphBuilder()
    b.add_node(fetcher, "fetcher")
    b.add_node(analyst, "analyst")
    b.add_node(writer, "report_writer")
    b.add_edge("fetcher", "analyst")
    b.add_edge("analyst", "report_writer")
    b.set_entry_point("fetcher")
    graph = b.build()
    set_session(graph, sid("301-graph-node-raises"))
    try:
        graph(f"Write the {region} Q4 sales report.")
    except RuntimeError as exc:  # the app shows an apology instead of the report
        log(f"  graph raised {type(exc).__name__}: {exc}")


@scenario(
    "subagent_max_tokens_caller_redoes",
    "latest",
    [
        Label(
            sid("302-subagent-max-tokens"),
            ["failed_handoff"],
            "subagent_output_cap_caller_redoes_work",
            "the orchestrator delegates to a contract_reviewer Agent-as-tool; the sub-agent's answer is cut off "
            "(stopReason max_tokens -> MaxTokensReachedException), the tool call errors, and the orchestrator "
            "extracts the clauses itself",
        )
    ],
)
def subagent_max_tokens_caller_redoes(rng: random.Random) -> None:
    contract = pick(rng, ["MSA-Contoso-2026.pdf", "DPA-Initech-v3.pdf", "Lease-Unit12.pdf"])

    def extract_clauses(document: str, topic: str) -> str:
        """Args:
        document: Document name.
        topic: Clause topic.
        """
        work(3.0)
        return f"{document} {topic}: s.14.2 liability capped at 12 months' fees; s.14.4 excludes indirect loss"

    reviewer = agent(
        pick(rng, ["contract_reviewer", "legal_reviewer"]),
        scripted_model(
            "fake-reviewer-model",
            [
                [("extract_clauses", {"document": contract, "topic": "liability"})],
                Truncated("Review of the liability section. 1. Section 14.2 caps liability at twelve months of fees, "),
            ],
            rng,
        ),
        "You review contracts clause by clause and report every risk in detail.",
        [make_tool("extract_clauses", "Extracts clauses.", extract_clauses)],
        description="Reviews contract clauses.",
    )
    orch_script: list[Step] = [
        [(reviewer.name, {"input": f"Review the liability clauses of {contract}"})],
        [("extract_clauses", {"document": contract, "topic": "liability"})],
        "Liability is capped at 12 months of fees (s.14.2) and indirect loss is excluded (s.14.4).",
    ]
    orch = agent(
        pick(rng, ["legal_desk", "deal_desk_orchestrator"]),
        scripted_model("fake-gpt-4o", orch_script, rng, base_tokens=150),
        "You coordinate contract work; delegate clause reviews to the reviewer.",
        [reviewer, make_tool("extract_clauses", "Extracts clauses.", extract_clauses)],
        trace_attributes={"session.id": sid("302-subagent-max-tokens")},
    )
    orch(f"What is our liability exposure under {contract}?")


@scenario(
    "fire_and_forget_delegation",
    "legacy_off",
    [
        Label(
            sid("303-fire-and-forget"),
            ["failed_handoff"],
            "background_delegation_output_never_returned",
            "a @tool starts a market-research sub-agent in a background thread and returns only a ticket id; the "
            "caller answers 'the report will follow', the sub-agent finishes after the caller, and its findings go "
            "nowhere (content capture off)",
        )
    ],
)
def fire_and_forget_delegation(rng: random.Random) -> None:
    from strands import tool

    market = pick(rng, ["plant-based yoghurt in Poland", "e-bike leasing in the Netherlands", "pet insurance in Italy"])

    def search_reports(query: str) -> str:
        """Args:
        query: Query.
        """
        work(4.0)
        return f"{query}: market 310M EUR (2026), CAGR 9.4%, top 3 players hold 58%"

    researcher = agent(
        pick(rng, ["market_researcher", "analyst_agent"]),
        scripted_model(
            "fake-research-model",
            [[("search_reports", {"query": market})], f"{market}: 310M EUR, growing 9.4%/yr, concentrated."],
            rng,
        ),
        "You size markets from industry reports.",
        [make_tool("search_reports", "Searches industry reports.", search_reports)],
    )
    threads: list[threading.Thread] = []

    @tool
    def dispatch_research(question: str) -> str:
        """Sends a research question to the research team (runs in the background).

        Args:
            question: The question.
        """
        ctx = contextvars.copy_context()  # the job keeps the tool span as its parent, like a traced task queue
        threads.append(threading.Thread(target=ctx.run, args=(researcher, question)))
        return f"dispatched as ticket RS-{rng.randint(1000, 9999)}"

    lead = agent(
        pick(rng, ["strategy_assistant", "bizdev_copilot"]),
        scripted_model(
            "fake-gpt-4o",
            [
                [("dispatch_research", {"question": f"Size the market for {market}"})],
                "I've asked the research team; the market sizing will follow in a separate report.",
            ],
            rng,
            base_tokens=150,
        ),
        "You help the strategy team. Use the research team for market sizing.",
        [dispatch_research],
        trace_attributes={"session.id": sid("303-fire-and-forget")},
    )
    lead(f"How big is the market for {market}? I need the number for today's deck.")
    for t in threads:  # the background worker picks the job up after the lead has already answered
        t.start()
        t.join()


# --------------------------------------------------------------------------------------------- healthy twins


@scenario(
    "alternating_queries_new_sources",
    "latest_off",
    [
        Label(
            sid("401-alternating-new-sources"),
            [],
            "alternating_rewordings_each_new_info",
            "healthy twin of 101: the agent alternates two phrasings across courts, each search returns different "
            "new opinions, and after 5 searches it answers with citations (content capture off)",
        )
    ],
)
def alternating_queries_new_sources(rng: random.Random) -> None:
    issue = pick(
        rng, ["implied warranty for refurbished phones", "drone overflight trespass", "AI-generated art copyright"]
    )
    courts = ["9th Cir.", "2nd Cir.", "Cal. App.", "N.Y. App. Div.", "Tex. App."]
    hits = iter(courts)

    def search_case_law(query: str, court: str) -> str:
        """Args:
        query: Query.
        court: Court.
        """
        c = next(hits)
        return f"{rng.randint(1, 4)} opinions in {c}, e.g. Doe v. Roe ({rng.randint(2015, 2025)}) on '{query}'"

    script: list[Step] = [
        [("search_case_law", {"query": issue if i % 2 == 0 else f'"{issue}" holding', "court": c})]
        for i, c in enumerate(courts)
    ]
    script.append(f"Five courts have addressed {issue}; the 9th and 2nd Circuit opinions are the closest.")
    a = agent(
        pick(rng, ["case_law_finder", "paralegal_agent"]),
        scripted_model("fake-gpt-4.1", script, rng),
        "You are a legal research assistant. Survey courts and cite opinions.",
        [make_tool("search_case_law", "Searches court opinions.", search_case_law)],
        trace_attributes={"session.id": sid("401-alternating-new-sources")},
    )
    a(f"Survey appellate case law on {issue} across major courts.")


@scenario(
    "quota_error_retried_once",
    "legacy",
    [
        Label(
            sid("402-quota-retried-once"),
            [],
            "error_with_request_id_retried_once_recovers",
            "healthy twin of 102: the warehouse query fails once with a QuotaExceeded error (with a request_id), "
            "the agent checks the schema, retries once, succeeds, runs one follow-up query and answers",
        )
    ],
)
def quota_error_retried_once(rng: random.Random) -> None:
    project = pick(rng, ["acme-analytics", "umbrella-dw"])
    failed = {"n": 0}

    def run_query(sql: str) -> str:
        """Args:
        sql: SQL.
        """
        work(2.0)
        if not failed["n"]:
            failed["n"] = 1
            raise RuntimeError(
                f"QuotaExceeded: slot quota exceeded for project {project} (request_id=req_{rng.getrandbits(48):012x})"
            )
        return f"{rng.randint(10, 52)} rows; latest value {rng.uniform(1, 9):.2f}"

    def describe_table(table: str) -> str:
        """Args:
        table: Table.
        """
        return f"{table}: order_id, basket_eur, ts, store_id"

    q = "SELECT date_trunc(ts, MONTH) m, avg(basket_eur) FROM sales.orders GROUP BY m ORDER BY m"
    script: list[Step] = [
        [("run_query", {"sql": q})],
        [("describe_table", {"table": "sales.orders"})],
        [("run_query", {"sql": q})],
        [("run_query", {"sql": "SELECT store_id, avg(basket_eur) FROM sales.orders GROUP BY store_id"})],
        "Average basket grew 6% this year; stores 12 and 31 lead.",
    ]
    a = agent(
        pick(rng, ["bi_analyst", "metrics_agent"]),
        scripted_model("fake-claude-sonnet", script, rng),
        "You answer metric questions with SQL. Retry a failed query once.",
        [
            make_tool("run_query", "Runs SQL.", run_query),
            make_tool("describe_table", "Describes a table.", describe_table),
        ],
        trace_attributes={"session.id": sid("402-quota-retried-once")},
    )
    a("How has the average basket size developed this year, and which stores lead?")


@scenario(
    "cursor_pager_finishes_in_subagent",
    "latest",
    [
        Label(
            sid("403-cursor-pager-finishes"),
            [],
            "opaque_cursor_pager_finishes_in_subagent",
            "healthy twin of 103: the log-collector sub-agent follows next_cursor 4 times, the last page says "
            "has_more=false, it returns the errors found and the incident lead uses them",
        )
    ],
)
def cursor_pager_finishes_in_subagent(rng: random.Random) -> None:
    from strands import tool

    service = pick(rng, ["search-indexer", "billing-worker", "email-relay"])
    pages = ["c_8f1a", "c_92be", "c_a3c0", ""]

    def fetch_log_page(service: str, cursor: str) -> str:
        """Args:
        service: Service.
        cursor: Cursor ('' for the start).
        """
        i = 0 if not cursor else pages.index(cursor) + 1
        nxt = pages[i]
        more = "true" if nxt else "false"
        errors = "2 x ERROR redis timeout" if i == 2 else "no errors"
        return f"page {i + 1}: 500 lines, {errors}; has_more={more}; next_cursor={nxt or 'null'}"

    cursors = ["", *pages[:3]]
    collector = agent(
        "log_collector",
        scripted_model(
            "fake-claude-haiku",
            [[("fetch_log_page", {"service": service, "cursor": c})] for c in cursors]
            + ["Found 2 ERROR redis timeouts on page 3 (14:06:11, 14:06:40); nothing else."],
            rng,
        ),
        "You collect all log lines for a service and return the errors found.",
        [make_tool("fetch_log_page", "Reads one page of logs.", fetch_log_page)],
    )

    @tool
    def collect_logs(service: str) -> str:
        """Has the log collector agent gather the service's error logs.

        Args:
            service: Service name.
        """
        return str(collector(f"Collect the error logs of {service} for the last hour.", limits={"output_tokens": 400}))

    lead = agent(
        pick(rng, ["incident_commander", "oncall_assistant"]),
        scripted_model(
            "fake-gpt-4o",
            [
                [("collect_logs", {"service": service})],
                f"{service} hit two redis timeouts at 14:06; that matches the error spike. Check redis latency.",
            ],
            rng,
            base_tokens=150,
        ),
        "You lead incident response and delegate log collection.",
        [collect_logs],
        trace_attributes={"session.id": sid("403-cursor-pager-finishes")},
    )
    lead(f"{service} errors spiked at 14:06. Why?")


@scenario(
    "graph_review_approves_second_round",
    "legacy",
    [
        Label(
            sid("404-graph-review-approves"),
            [],
            "graph_feedback_cycle_converges",
            "healthy twin of 104: the Graph reviewer rejects the first draft with a specific note, the drafter adds "
            "the missing figure, the reviewer approves and the publisher node schedules it (COMPLETED)",
        )
    ],
)
def graph_review_approves_second_round(rng: random.Random) -> None:
    from strands.multiagent import GraphBuilder

    piece = pick(rng, ["the January release notes", "the status-page postmortem", "the partner newsletter"])
    drafter = agent(
        "drafter",
        scripted_model(
            "fake-drafter-model",
            [f"Draft of {piece}: highlights and fixes.", f"Draft v2 of {piece}: highlights, fixes, 99.97% uptime."],
            rng,
        ),
        "You draft customer communications.",
    )
    reviewer = agent(
        "reviewer",
        scripted_model(
            "fake-reviewer-model",
            ["REJECT: add the uptime figure for the period.", "APPROVE: complete and accurate."],
            rng,
        ),
        "You review drafts. Start with APPROVE or REJECT.",
    )
    publisher = agent(
        "publisher",
        scripted_model("fake-publisher-model", [f"{piece} scheduled for Monday 09:00."], rng),
        "You schedule approved content.",
    )
    b = GraphBuilder()
    b.add_node(drafter, "drafter")
    b.add_node(reviewer, "reviewer")
    b.add_node(publisher, "publisher")
    b.add_edge("drafter", "reviewer")
    b.add_edge("reviewer", "drafter", condition=lambda s: node_text(s, "reviewer").startswith("REJECT"))
    b.add_edge("reviewer", "publisher", condition=lambda s: node_text(s, "reviewer").startswith("APPROVE"))
    b.set_entry_point("drafter")
    b.set_max_node_executions(8)
    graph = b.build()
    set_session(graph, sid("404-graph-review-approves"))
    result = graph(f"Write and publish {piece}.")
    log(f"  graph status={result.status}, order={[n.node_id for n in result.execution_order]}")


@scenario(
    "restored_session_new_question_each_turn",
    "latest_off",
    [
        Label(
            sid("405-restored-new-questions"),
            [],
            "session_restore_each_turn_new_question",
            "healthy twin of 201/204: 3 requests, each a new Agent restored with FileSessionManager under the same "
            "system prompt; every turn asks about a different shipment and track_shipment runs once per turn "
            "(content capture off)",
        )
    ],
)
def restored_session_new_question_each_turn(rng: random.Random) -> None:
    from strands.session import FileSessionManager

    session = sid("405-restored-new-questions")
    storage = session_dir()
    shipments = [f"1Z{rng.getrandbits(40):010X}" for _ in range(3)]

    def track_shipment(tracking_id: str) -> str:
        """Args:
        tracking_id: Tracking number.
        """
        return f"{tracking_id}: {pick(rng, ['in transit, Leipzig hub', 'out for delivery', 'delivered 10:42'])}"

    name = pick(rng, ["parcel_helpdesk", "shipping_assistant"])
    for turn, s in enumerate(shipments, 1):
        with harness_span("POST /support/messages", turn):
            a = agent(
                name,
                scripted_model(
                    "fake-gpt-4o-mini", [[("track_shipment", {"tracking_id": s})], f"Status of {s} above."], rng
                ),
                "You are a parcel support agent. Be brief.",
                [make_tool("track_shipment", "Tracks a parcel.", track_shipment)],
                session_manager=FileSessionManager(session_id=session, storage_dir=storage),
                trace_attributes={"session.id": session},
            )
            a(f"Where is parcel {s}?")


@scenario(
    "window_pins_first_request",
    "legacy",
    [
        Label(
            sid("406-window-pins-first"),
            [],
            "window_trim_with_pinned_constraint",
            "healthy twin of 202/203: SlidingWindowConversationManager(window_size=4, pin_first=1) trims the turn-1 "
            "reply out of a 3-turn session but keeps the pinned first request ('Postgres 12, no MERGE'); the "
            "migration uses INSERT ... ON CONFLICT",
        )
    ],
)
def window_pins_first_request(rng: random.Random) -> None:
    from strands.agent.conversation_manager import SlidingWindowConversationManager

    table = pick(rng, ["accounts", "products", "suppliers"])

    def inspect_schema(table: str) -> str:
        """Args:
        table: Table.
        """
        return f"CREATE TABLE {table} (id bigint primary key, sku text unique, name text, price numeric);"

    def write_migration(filename: str, sql: str) -> str:
        """Args:
        filename: File.
        sql: SQL.
        """
        return f"wrote {filename} ({len(sql)} bytes)"

    script: list[Step] = [
        "Understood: Postgres 12, so upserts will use INSERT ... ON CONFLICT.",
        [("inspect_schema", {"table": table})],
        f"{table} is keyed by id with a unique sku.",
        [
            (
                "write_migration",
                {
                    "filename": f"0043_sync_{table}.sql",
                    "sql": f"INSERT INTO {table} (sku, name, price) SELECT sku, name, price FROM staging_{table} "
                    "ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, price = EXCLUDED.price;",
                },
            )
        ],
        f"Wrote 0043_sync_{table}.sql with INSERT ... ON CONFLICT (Postgres 12 compatible).",
    ]
    a = agent(
        pick(rng, ["db_migration_agent", "sql_helper"]),
        scripted_model(
            "fake-gpt-4.1",
            script,
            rng,
            watch={"pg12_constraint": "Postgres 12", "turn1_reply": "Understood:", "turn2_request": "Look at the"},
        ),
        "You write SQL migrations.",
        [
            make_tool("inspect_schema", "Shows DDL.", inspect_schema),
            make_tool("write_migration", "Writes a migration.", write_migration),
        ],
        conversation_manager=SlidingWindowConversationManager(window_size=4, pin_first=1),
        trace_attributes={"session.id": sid("406-window-pins-first")},
    )
    a(f"We sync {table} nightly. Target is Postgres 12, so no MERGE.")
    a(f"Look at the {table} schema.")
    a(f"Write the upsert migration from staging_{table}.")


@scenario(
    "graph_parallel_fanout",
    "latest",
    [
        Label(
            sid("407-graph-parallel-fanout"),
            [],
            "graph_fanout_same_tool_different_args_then_merge",
            "healthy: a Graph runs two researcher nodes in parallel (same search tool, different competitors), then "
            "a merger node with its own system prompt receives both outputs and writes the comparison",
        )
    ],
)
def graph_parallel_fanout(rng: random.Random) -> None:
    from strands.multiagent import GraphBuilder

    a_name, b_name = pick(rng, [("Notion", "Coda"), ("Figma", "Penpot"), ("Linear", "Jira")])

    def make_researcher(node: str, company: str) -> Any:
        node_rng = random.Random(zlib.crc32(company.encode()))  # parallel nodes: no shared RNG, async tool

        async def search_pricing(company: str) -> str:
            """Args:
            company: Company.
            """
            work(1.5)
            return f"{company}: free tier, team {node_rng.randint(8, 15)} USD/user/mo, enterprise on request"

        return agent(
            node,
            scripted_model(
                f"fake-{node}-model",
                [[("search_pricing", {"company": company})], f"{company} pricing summarised."],
                node_rng,
            ),
            "You research one company's pricing page.",
            [make_tool("search_pricing", "Reads a pricing page.", search_pricing)],
        )

    merger = agent(
        "comparison_writer",
        scripted_model("fake-merger-model", [f"{a_name} vs {b_name}: side-by-side pricing table."], rng),
        "You merge research notes into a concise comparison table.",
    )
    b = GraphBuilder()
    b.add_node(make_researcher("research_a", a_name), "research_a")
    b.add_node(make_researcher("research_b", b_name), "research_b")
    b.add_node(merger, "comparison_writer")
    b.add_edge("research_a", "comparison_writer")
    b.add_edge("research_b", "comparison_writer")
    graph = b.build()
    set_session(graph, sid("407-graph-parallel-fanout"))
    result = graph(f"Compare the pricing of {a_name} and {b_name}.")
    log(f"  graph status={result.status}")


@scenario(
    "subagent_tool_timeout_recovers",
    "legacy_off",
    [
        Label(
            sid("408-subagent-retry-recovers"),
            [],
            "subagent_error_retried_inside_delegation",
            "healthy twin of 301/302: a Agent-as-tool visa specialist's tool times out once, the specialist retries "
            "it, succeeds and returns its answer, which the orchestrator passes on (content capture off)",
        )
    ],
)
def subagent_tool_timeout_recovers(rng: random.Random) -> None:
    country = pick(rng, ["Japan", "Brazil", "Kenya"])
    failures = {"left": 1}

    def visa_rules(nationality: str, destination: str) -> str:
        """Args:
        nationality: Passport country.
        destination: Destination.
        """
        if failures["left"]:
            failures["left"] -= 1
            work(15.0)
            raise TimeoutError("consular rules API timed out after 15s")
        return f"{nationality} -> {destination}: visa-free up to 90 days; passport valid 6 months"

    specialist = agent(
        pick(rng, ["visa_specialist", "entry_rules_agent"]),
        scripted_model(
            "fake-visa-model",
            [
                [("visa_rules", {"nationality": "Germany", "destination": country})],
                [("visa_rules", {"nationality": "Germany", "destination": country})],
                f"German citizens can visit {country} visa-free for up to 90 days.",
            ],
            rng,
        ),
        "You answer visa questions from the official rules API. Retry once on timeouts.",
        [make_tool("visa_rules", "Official entry rules.", visa_rules)],
        description="Answers visa and entry questions.",
    )
    orch = agent(
        pick(rng, ["travel_desk", "trip_orchestrator"]),
        scripted_model(
            "fake-gpt-4o",
            [
                [(specialist.name, {"input": f"Visa rules for a German citizen visiting {country}"})],
                f"No visa needed: as a German citizen you can stay in {country} up to 90 days.",
            ],
            rng,
            base_tokens=150,
        ),
        "You coordinate travel specialists.",
        [specialist],
        trace_attributes={"session.id": sid("408-subagent-retry-recovers")},
    )
    orch(f"Do I need a visa for {country}? I have a German passport.")


@scenario(
    "long_planned_analysis",
    "legacy_off",
    [
        Label(
            sid("409-long-planned-analysis"),
            [],
            "long_run_with_planner_and_summary_calls",
            "healthy: a data-analysis agent first asks a planner agent (own system prompt), then runs 14 distinct "
            "profiling queries (one per column, some in parallel pairs) and finally a summarizer agent (own prompt) "
            "writes the report (content capture off)",
        )
    ],
)
def long_planned_analysis(rng: random.Random) -> None:
    dataset = pick(rng, ["churn_features_2026", "fleet_telemetry_nov", "loan_applications_q3"])
    columns = [f"f_{i:02d}" for i in range(14)]
    planner = agent(
        "planner",
        scripted_model("fake-planner-model", ["Plan: profile each column, flag nulls and outliers, summarise."], rng),
        "You write short numbered analysis plans. Do not run anything.",
        description="Plans an analysis.",
    )
    summarizer = agent(
        "report_summarizer",
        scripted_model("fake-summary-model", [f"{dataset}: 14 columns profiled, 3 with >5% nulls, 2 skewed."], rng),
        "You turn profiling notes into a one-paragraph executive summary.",
        description="Summarises findings.",
    )

    async def profile_column(column: str) -> str:
        """Args:
        column: Column name.
        """
        col_rng = random.Random(zlib.crc32(f"{dataset}:{column}".encode()))  # parallel pairs: no shared RNG
        work(col_rng.uniform(0.4, 2.0))
        nulls, mean, skew = col_rng.uniform(0, 9), col_rng.uniform(0, 100), col_rng.uniform(-2, 2)
        return f"{column}: nulls {nulls:.1f}%, mean {mean:.2f}, skew {skew:.2f}"

    script: list[Step] = [[("planner", {"input": f"Plan a data-quality profile of {dataset}"})]]
    i = 0
    while i < len(columns):
        n = 2 if i % 5 == 0 and i + 1 < len(columns) else 1
        script.append([("profile_column", {"column": c}) for c in columns[i : i + n]])
        i += n
    script.append([("report_summarizer", {"input": "Summarise the 14 column profiles."})])
    script.append(f"{dataset}: 14 columns profiled, 3 with >5% nulls, 2 skewed. Details above.")
    a = agent(
        pick(rng, ["data_quality_agent", "profiling_bot"]),
        scripted_model("fake-claude-sonnet", script, rng, base_tokens=300),
        "You profile datasets column by column.",
        [planner, summarizer, make_tool("profile_column", "Profiles one column.", profile_column)],
        trace_attributes={"session.id": sid("409-long-planned-analysis")},
    )
    a(f"Run a data-quality profile of {dataset}.")


# --------------------------------------------------------------------------------------------- driver


def _run_one(name: str) -> None:
    sys.path.insert(0, str(c1.KIT_DIR))
    from capture_kit import simulated_clock, to_otlp_json
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spec = SCENARIOS[name]
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"strands_b2_{name}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # Strands' tracer uses the global provider
    rng = random.Random(zlib.crc32(f"c2:{name}".encode()))
    log(f"{name} [{spec.mode}]")
    with simulated_clock() as clock:
        c1.CLOCK[0] = clock
        spec.run(rng)
    provider.shutdown()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"strands_b2_{name}.json"
    path.write_text(json.dumps(to_otlp_json(exporter), separators=(",", ":"), ensure_ascii=False) + "\n")
    log(f"  {path.name}: {len(exporter.get_finished_spans())} spans, {path.stat().st_size} bytes")
    print("\n".join(c1.RUNLOG))


def write_labels() -> None:
    lines = [
        "# Truth of every scripted Strands run, batch 2 (decided by the script, never by a tool). See NOTES.md.",
        "",
    ]
    for spec in SCENARIOS.values():
        for label in spec.labels:
            lines += [
                "[[session]]",
                f"session_id = {c1._toml(label.session_id)}",
                f"kinds = {c1._toml(label.kinds)}",
                f"shape = {c1._toml(label.shape)}",
                f"why = {c1._toml(label.why)}",
                f"file = {c1._toml(f'out/strands_b2_{spec.name}.json')}",
                f"mode = {c1._toml(spec.mode)}",
                "",
            ]
    (HERE / "labels_strands.toml").write_text("\n".join(lines))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        _run_one(argv[1])
        return
    write_labels()
    if argv[:1] == ["--labels"]:
        return
    chosen = argv or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}")
    logs: list[str] = []
    for name in chosen:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env.update(MODES[SCENARIOS[name].mode])
        env["PYTHONHASHSEED"] = "0"  # Graph keeps entry points and ready nodes in sets: fix their iteration order
        done = subprocess.run(
            [sys.executable, __file__, "--one", name], env=env, capture_output=True, text=True, check=False
        )
        print(done.stdout, end="")
        if done.returncode:
            raise SystemExit(f"{name} failed:\n{done.stderr[-4000:]}")
        logs.append(done.stdout)
    if not argv:
        (OUT / "run.log").write_text("".join(logs))


if __name__ == "__main__":
    main(sys.argv[1:])
