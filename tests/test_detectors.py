"""Each detector on hand-built steps: the behaviour it must flag, and the look-alikes it must leave alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analyzer import context_rot, failed_handoff, runaway_loop
from analyzer.analyze import analyze_session
from analyzer.config import AnalyzerConfig, ConfigFileError, Thresholds, load_config
from analyzer.model import AgentNorm, AnalysisHandoff, AnalysisStep, SessionSteps

MINUTE = 60 * 10**9
CONFIG = AnalyzerConfig()


class Session:
    """Builds a session step by step; each step starts a second after the previous one ends."""

    def __init__(self) -> None:
        self.steps: list[AnalysisStep] = []
        self.handoffs: list[AnalysisHandoff] = []
        self.clock = 0

    def add(self, step_kind: str, *, seconds: float = 1.0, gap: float = 1.0, **fields: Any) -> AnalysisStep:
        index = len(self.steps) + 1
        start = self.clock + int(gap * 1e9)
        fields.setdefault("agent_name", "agent")
        fields.setdefault("depth", 1)
        step = AnalysisStep(
            step_index=index,
            span_id=f"span{index:04d}",
            trace_id=fields.pop("trace_id", "trace1"),
            parent_step_index=fields.pop("parent_step_index", None),
            step_kind=step_kind,
            operation=None,
            name=fields.pop("name", step_kind),
            start_time_unix_nano=start,
            end_time_unix_nano=start + int(seconds * 1e9),
            **fields,
        )
        self.clock = step.end_time_unix_nano
        self.steps.append(step)
        return step

    def tool(self, name: str, arguments: Any, result: Any = "ok", **fields: Any) -> AnalysisStep:
        return self.add("tool", tool_name=name, tool_arguments=arguments, tool_result=result, **fields)

    def llm(self, inputs: list[dict[str, Any]] | None = None, **fields: Any) -> AnalysisStep:
        return self.add("llm", input_messages=inputs, **fields)

    def build(self, norms: dict[str, AgentNorm] | None = None) -> SessionSteps:
        return SessionSteps("s1", self.steps, self.handoffs, norms or {})


def msg(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


def sub_kinds(findings: list[Any]) -> list[str]:
    return [f.sub_kind for f in findings]


# -- runaway loops ----------------------------------------------------------------------------------


def test_the_same_call_answered_the_same_way_again_and_again_is_a_loop() -> None:
    s = Session()
    for _ in range(4):
        s.llm()
        s.tool("search_flights", {"origin": "CDG", "destination": "JFK"}, "no results")
    [found] = runaway_loop.detect(s.build(), CONFIG)
    assert found.sub_kind == "repeated_tool_call"
    assert found.step_indexes == [2, 4, 6, 8]
    assert (
        "called `search_flights` with the same arguments" in found.explanation
        and "4 times in a row" in found.explanation
    )


def test_argument_order_and_volatile_ids_do_not_hide_a_loop() -> None:
    s = Session()
    s.tool("search", '{"a": 1, "b": 2}', "nothing (request r-1001)")
    s.tool("search", {"b": 2, "a": 1}, "nothing (request r-1002)")
    s.tool("search", '{ "a":1,"b":2 }', "nothing (request r-1003)")
    assert sub_kinds(runaway_loop.detect(s.build(), CONFIG)) == ["repeated_tool_call"]


@pytest.mark.parametrize(
    "results",
    [
        ["running", "running", "running", "running", "done"],  # polling until the job finishes
        ["error", "error", "1.08"],  # retries that end in success
    ],
    ids=["polling-until-done", "retry-then-success"],
)
def test_repetition_that_ends_in_something_new_is_progress(results: list[str]) -> None:
    s = Session()
    for result in results:
        s.tool("job_status", {"job": "j-1"}, result, status="error" if result == "error" else "ok")
    found = runaway_loop.detect(s.build(), CONFIG)
    assert [f for f in found if f.severity != "note"] == []
    # A retry that went through is shown as a note, below the findings.
    assert [f.sub_kind for f in found] == (["recovered_error"] if "error" in results else [])


def test_the_same_tool_with_other_arguments_is_not_a_loop() -> None:
    s = Session()
    for amount in (10, 20, 30, 40, 50, 60):
        s.tool("convert", {"amount": amount}, f"{amount * 1.1:.2f} USD")
    assert runaway_loop.detect(s.build(), CONFIG) == []


def test_repeats_scattered_among_other_calls_are_found_within_the_window() -> None:
    s = Session()
    for i in range(4):
        s.tool("get_profile", {"user": "u1"}, "profile of u1")
        s.tool("note", {"text": f"note {i}"}, "saved")
    [found] = runaway_loop.detect(s.build(), CONFIG)
    assert found.sub_kind == "repeated_tool_call" and found.step_indexes == [1, 3, 5, 7]
    assert "within 8 tool calls" in found.explanation


def test_a_cycle_of_calls_that_keeps_coming_back_is_one_finding() -> None:
    s = Session()
    for _ in range(3):
        s.tool("check_inventory", {"sku": "X"}, "out of stock")
        s.tool("find_alternative", {"sku": "X"}, "none")
    [found] = runaway_loop.detect(s.build(), CONFIG)
    assert found.sub_kind == "repeating_cycle" and found.step_indexes == [1, 2, 3, 4, 5, 6]
    assert "check_inventory → find_alternative" in found.explanation


def test_a_cycle_whose_results_change_is_work_in_progress() -> None:
    s = Session()
    for page in range(3):
        s.tool("fetch_page", {"url": "/feed"}, f"page with item {['apple', 'pear', 'plum'][page]}")
        s.tool("summarize", {"what": "feed"}, ["about apples", "about pears", "about plums"][page])
    assert runaway_loop.detect(s.build(), CONFIG) == []


@pytest.mark.parametrize(
    ("error_type", "error_message"),
    [
        ("agents.exceptions.MaxTurnsExceeded", "Max turns (10) exceeded"),
        ("pydantic_ai.exceptions.UsageLimitExceeded", "The next request would exceed the request_limit of 50"),
        ("langgraph.errors.GraphRecursionError", "Recursion limit of 25 reached without hitting a stop condition."),
        ("ValueError", "Agent stopped due to iteration limit or time limit."),
        ("AgentMaxStepsError", "Reached max steps."),
    ],
)
def test_a_run_stopped_by_a_turn_step_or_usage_limit_is_flagged(error_type: str, error_message: str) -> None:
    s = Session()
    root = s.add("agent", depth=0, status="error", error_type=error_type, error_message=error_message)
    s.llm(parent_step_index=1, status="error", error_type=error_type, error_message=error_message)
    [found] = runaway_loop.detect(s.build(), CONFIG)
    assert found.sub_kind == "limit_reached" and found.step_indexes == [root.step_index]


def test_an_ordinary_error_is_not_a_limit() -> None:
    s = Session()
    s.add("agent", depth=0, status="error", error_type="KeyError", error_message="'city'")
    assert runaway_loop.detect(s.build(), CONFIG) == []


def test_far_more_steps_than_the_agent_usually_takes_is_flagged_only_with_enough_history() -> None:
    s = Session()
    for i in range(30):
        s.llm(input_tokens=100, output_tokens=10)
        s.tool("search", {"q": i})
    usual = AgentNorm(sessions=6, median_steps=5, median_tokens=300)
    [found] = runaway_loop.detect(s.build({"agent": usual}), CONFIG)
    assert found.sub_kind == "excessive_usage" and "60 steps where it usually takes 5" in found.explanation
    assert runaway_loop.detect(s.build({"agent": AgentNorm(2, 5, 300)}), CONFIG) == []
    assert runaway_loop.detect(s.build({"agent": AgentNorm(6, 40, 5000)}), CONFIG) == []


def _handoff(s: Session, k: int, source: str, target: str, outcome: str = "completed") -> None:
    step = s.add("handoff", agent_name=source, handoff_to=target)
    s.handoffs.append(AnalysisHandoff(k, source, target, "handoff", outcome, None, step.step_index, None))


def test_agents_handing_work_back_and_forth_is_ping_pong() -> None:
    s = Session()
    for k in range(4):
        _handoff(s, k + 1, *(("triage", "billing") if k % 2 == 0 else ("billing", "triage")))
    [found] = runaway_loop.detect(s.build(), CONFIG)
    assert found.sub_kind == "ping_pong_handoff" and found.step_indexes == [1, 2, 3, 4]


def test_a_handoff_there_and_back_once_is_normal() -> None:
    s = Session()
    _handoff(s, 1, "triage", "billing")
    _handoff(s, 2, "billing", "triage")
    _handoff(s, 3, "triage", "refunds")
    assert runaway_loop.detect(s.build(), CONFIG) == []


# -- failed handoffs --------------------------------------------------------------------------------


def _delegation(
    result: str, answer: str, *, mechanism: str = "agent_as_tool", outcome: str = "completed", later: bool = True
) -> Session:
    s = Session()
    s.llm([msg("user", "Refund order A-17")], agent_name="triage", depth=1)
    tool = s.tool("ask_refund_agent", {"request": "Refund A-17"}, result, agent_name="triage", seconds=5)
    target = s.add("agent", agent_name="refund", depth=2, parent_step_index=tool.step_index, gap=-4.5)
    s.llm([msg("user", "Refund A-17")], agent_name="refund", depth=3, parent_step_index=target.step_index, gap=-4)
    s.clock = tool.end_time_unix_nano
    if later:
        s.llm(
            [msg("user", "Refund order A-17"), msg("tool", result)],
            agent_name="triage",
            output_messages=[msg("assistant", answer)],
        )
    s.handoffs.append(
        AnalysisHandoff(1, "triage", "refund", mechanism, outcome, None, tool.step_index, target.step_index, "{}")
    )
    return s


def test_a_delegation_whose_answer_is_used_is_healthy() -> None:
    assert failed_handoff.detect(_delegation("Refund R-1 issued.", "Your refund R-1 is issued.").build(), CONFIG) == []


@pytest.mark.parametrize(
    ("outcome", "sub_kind"),
    [
        ("target_failed", "target_failed"),
        ("failed", "delegation_failed"),
        ("task_rejected", "task_rejected"),
        ("target_not_started", "target_not_started"),
    ],
)
def test_a_handoff_that_failed_at_either_end_is_flagged(outcome: str, sub_kind: str) -> None:
    s = _delegation("x", "y", outcome=outcome, mechanism="remote_agent")
    [found] = failed_handoff.detect(s.build(), CONFIG)
    assert found.sub_kind == sub_kind and found.severity == "high"


def test_an_error_carried_on_as_success_is_flagged_and_an_acknowledged_one_is_not() -> None:
    ignored = _delegation("Error: payment service unreachable (HTTP 503)", "Done! Your refund is issued.")
    [found] = failed_handoff.detect(ignored.build(), CONFIG)
    assert found.sub_kind == "error_as_result" and found.step_indexes == [2, 3, 5]
    honest = _delegation("Error: payment service unreachable (HTTP 503)", "Sorry, refunds are down; try later.")
    assert failed_handoff.detect(honest.build(), CONFIG) == []
    benign = _delegation("I cannot see any problem with your order.", "Your order is fine.")
    assert failed_handoff.detect(benign.build(), CONFIG) == []


def test_an_answer_that_never_reaches_the_caller_is_lost_work() -> None:
    s = _delegation("Finding: prices fell 18%.", "Here is the note.")
    s.steps[-1].input_messages = [msg("user", "Refund order A-17"), msg("tool", "[result stored]")]
    [found] = failed_handoff.detect(s.build(), CONFIG)
    assert found.sub_kind == "lost_work" and "prices fell 18%" in found.explanation


def test_no_judgement_without_recorded_content() -> None:
    s = _delegation("Finding: prices fell 18%.", "Here is the note.")
    s.steps[-1].input_messages = None  # content capture off
    assert failed_handoff.detect(s.build(), CONFIG) == []


def test_an_empty_payload_leaves_the_target_with_no_task() -> None:
    s = _delegation("ok", "ok")
    s.steps[3].input_messages = [msg("user", "   ")]
    s.handoffs[0].payload = {"request": ""}
    [found] = failed_handoff.detect(s.build(), CONFIG)
    assert found.sub_kind == "empty_payload"


def test_a_remote_agent_in_a_trace_of_its_own_lost_its_context() -> None:
    s = Session()
    caller = s.add("agent", agent_name="planner", depth=0)
    call = s.add("agent", agent_name="researcher", span_kind="client", parent_step_index=caller.step_index)
    remote = s.add("agent", agent_name="researcher", span_kind="server", trace_id="trace2", depth=0)
    s.handoffs.append(
        AnalysisHandoff(
            1, "planner", "researcher", "remote_agent", "completed", None, call.step_index, remote.step_index
        )
    )
    [found] = failed_handoff.detect(s.build(), CONFIG)
    assert found.sub_kind == "context_not_propagated" and found.severity == "low"
    remote.link_count = 1  # linked instead of parented: the context was carried
    assert failed_handoff.detect(s.build(), CONFIG) == []


def test_a_delegated_agent_that_takes_too_long_to_answer_is_flagged() -> None:
    s = _delegation("Refund R-1 issued.", "Your refund R-1 is issued.")
    # The tool that asked waited for it, and the caller answered after that.
    slow = s.steps[2].start_time_unix_nano + 15 * MINUTE - s.steps[2].end_time_unix_nano
    s.steps[2].end_time_unix_nano += slow
    s.steps[1].end_time_unix_nano += slow
    s.steps[4].start_time_unix_nano += slow
    s.steps[4].end_time_unix_nano += slow
    [found] = failed_handoff.detect(s.build(), CONFIG)
    assert found.sub_kind == "no_answer_in_time" and "15.0 minutes" in found.explanation


# -- context rot ------------------------------------------------------------------------------------


def test_input_tokens_near_the_models_window_are_context_pressure() -> None:
    s = Session()
    s.llm(request_model="gpt-4o-2024-08-06", input_tokens=60_000)
    s.llm(request_model="gpt-4o-2024-08-06", input_tokens=121_000)
    [found] = context_rot.detect(s.build(), CONFIG)
    assert found.sub_kind == "context_pressure" and found.step_indexes == [2]
    assert "121,000 of 128,000 tokens" in found.explanation


def test_the_window_table_is_overridable_and_unknown_models_are_not_guessed(tmp_path: Path) -> None:
    s = Session()
    s.llm(request_model="acme-7b", input_tokens=30_000)
    assert context_rot.detect(s.build(), CONFIG) == []
    config_file = tmp_path / "analyzer.toml"
    config_file.write_text('[context_windows]\n"acme-7b" = 32000\n[thresholds]\ncontext_pressure_ratio = 0.8\n')
    config = load_config(config_file)
    assert sub_kinds(context_rot.detect(s.build(), config)) == ["context_pressure"]


def test_a_provider_refusing_a_too_long_prompt_is_context_exceeded() -> None:
    s = Session()
    s.llm(status="error", error_type="BadRequestError", error_message="Error code: 400 - context_length_exceeded")
    s.llm(status="error", error_type="RateLimitError", error_message="Rate limit reached")
    [found] = context_rot.detect(s.build(), CONFIG)
    assert found.sub_kind == "context_exceeded" and found.step_indexes == [1]


def _conversation(s: Session, inputs: list[dict[str, Any]], answer: str, **fields: Any) -> None:
    s.llm(inputs, output_messages=[msg("assistant", answer)], **fields)


def test_system_prompt_and_task_dropped_from_a_continued_conversation_are_early_context_lost() -> None:
    s = Session()
    system, task = msg("system", "You edit the Lyon guide."), msg("user", "Brief: shorten chapter 3.")
    _conversation(s, [system, task], "Noted 1.")
    _conversation(s, [system, task, msg("assistant", "Noted 1."), msg("user", "Now Fourvière.")], "Noted 2.")
    _conversation(s, [msg("assistant", "Noted 2."), msg("user", "Now the markets.")], "Noted 3.")
    [found] = context_rot.detect(s.build(), CONFIG)
    assert found.sub_kind == "early_context_lost" and found.step_indexes == [1, 3]


def test_a_fresh_run_of_the_same_agent_with_a_new_task_is_not_context_lost() -> None:
    s = Session()
    _conversation(s, [msg("system", "You report the weather."), msg("user", "Paris?")], "Mild.")
    _conversation(s, [msg("system", "You report the weather."), msg("user", "Lyon?")], "Dry.")
    assert context_rot.detect(s.build(), CONFIG) == []


def _long(s: Session, minutes: int, *, repeat_after: int | None = None, gap_minutes: float = 0) -> None:
    for i in range(minutes):
        s.add("agent", depth=0, seconds=55, gap=gap_minutes * 60 if i == minutes // 2 else 1)
        s.clock -= int(55e9)
        account = i % 5 if repeat_after is not None and i >= repeat_after else i
        s.tool("lookup_account", {"account": account}, f"account {account}", depth=1, seconds=50)


def test_a_long_session_that_starts_asking_again_for_what_it_had_drifts() -> None:
    s = Session()
    _long(s, 50, repeat_after=40)
    [found] = context_rot.detect(s.build(), CONFIG)
    assert found.sub_kind == "long_session_drift" and "35 minutes" in found.explanation
    assert all(s.steps[i - 1].start_time_unix_nano >= 35 * MINUTE for i in found.step_indexes)


def test_a_long_session_whose_tools_start_failing_after_the_mark_drifts() -> None:
    s = Session()
    _long(s, 50)
    late_tools = [step for step in s.steps if step.step_kind == "tool" and step.start_time_unix_nano > 40 * MINUTE]
    for step in late_tools[::2]:
        step.status = "error"
    [found] = context_rot.detect(s.build(), CONFIG)
    assert found.sub_kind == "long_session_drift" and "errors rose from 0% to" in found.explanation
    assert {i for i in found.step_indexes} >= {step.step_index for step in late_tools[::2]}


def test_a_long_steady_session_and_a_short_repetitive_one_do_not_drift() -> None:
    steady = Session()
    _long(steady, 50)
    assert context_rot.detect(steady.build(), CONFIG) == []
    # 30 minutes of work spread over a day: idle time is not agent time.
    idle = Session()
    _long(idle, 30, repeat_after=20, gap_minutes=600)
    assert context_rot.detect(idle.build(), CONFIG) == []


# -- configuration and identity ---------------------------------------------------------------------


def test_configuration_files_and_options_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text("[thresholds]\nrepeat_min_calls = 5\n")
    assert load_config(path, {"long_session_minutes": 20.0}).thresholds == Thresholds(
        repeat_min_calls=5, long_session_minutes=20.0
    )
    for text, message in [
        ("[threshold]\n", "unknown sections"),
        ("[thresholds]\nsilly = 1\n", "Unknown threshold 'silly'"),
        ("[thresholds]\nrepeat_min_calls = 0\n", "greater than 0"),
        ('[context_windows]\n"m" = -5\n', "positive whole number"),
        ("[thresholds\n", "not valid TOML"),
    ]:
        path.write_text(text)
        with pytest.raises(ConfigFileError, match=message):
            load_config(path)


def test_the_longest_known_model_prefix_gives_the_window() -> None:
    assert CONFIG.context_window("gpt-4o-mini-2024-07-18") == 128_000
    assert CONFIG.context_window("openai/gpt-4.1-mini") == 1_047_576
    assert CONFIG.context_window("gpt-4-0613") == 8_192
    assert CONFIG.context_window(None) is None


def test_finding_ids_survive_reanalysis_when_late_steps_shift_the_indexes() -> None:
    s = Session()
    for _ in range(3):
        s.tool("search", {"q": "x"}, "none")
    first = analyze_session(s.build(), CONFIG)
    late = Session()
    late.add("agent", depth=0)  # a late span that sorts first
    for step in s.steps:
        late.steps.append(step)
        step.step_index += 1
    again = analyze_session(late.build(), CONFIG)
    assert [f.finding_id for f in again] == [f.finding_id for f in first]
    assert again[0].step_indexes == [2, 3, 4]


def test_usual_figures_leave_the_session_itself_out() -> None:
    import random
    import statistics

    from analyzer.load import _median_without

    rng = random.Random(7)
    for _ in range(500):
        values = sorted(rng.randint(0, 20) for _ in range(rng.randint(2, 9)))
        own = rng.choice(values)
        rest = list(values)
        rest.remove(own)
        assert _median_without(values, own) == statistics.median(rest)
        assert _median_without(values, None) == statistics.median(values)
