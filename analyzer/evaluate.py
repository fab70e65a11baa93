"""Precision and recall of the detectors on a labeled corpus of sessions.

A corpus is a directory of OTLP/JSON files (one export request each) and a ``labels.toml`` that
says, for every session the files make, which finding kinds it should and should not have::

    [[session]]
    session_id = "session-loop-001"
    kinds = ["runaway_loop"]          # [] for a healthy session: a negative for every kind
    why = "searches the same flight until the request limit stops it"

Every session in the corpus must be labeled, so that no case is quietly left out; an optional
``analyzer.toml`` beside the labels configures the analyzer (context windows of the fake models).
The files go through the collector's own decoding, normalization and session building into a
throwaway DuckDB file, then through the same analysis as in the collector.
"""

from __future__ import annotations

import hashlib
import tempfile
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.analyze import analyze_session
from analyzer.config import AnalyzerConfig, load_config
from analyzer.load import Norms, iter_sessions, rows_of_store, session_ids
from analyzer.model import KINDS, AnalysisStep
from store.model import Finding


class CorpusError(Exception):
    """The corpus cannot be evaluated; the message says what to fix."""


@dataclass(slots=True)
class Label:
    session_id: str
    kinds: set[str]
    why: str
    shape: str = ""


SPLITS = ("dev", "test")


def split_of(session_id: str) -> str:
    """The corpus split a session belongs to, fixed for good by its id: a third of the sessions are `test`.

    Thresholds are tuned on `dev` only; `test` is the figure reported, so it must never move with the rules.
    """
    return "test" if int(hashlib.sha256(session_id.encode()).hexdigest()[:8], 16) % 3 == 0 else "dev"


@dataclass(slots=True)
class Score:
    kind: str
    true_positives: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    false_negatives: list[str] = field(default_factory=list)
    negatives: int = 0

    @property
    def precision(self) -> float:
        found = len(self.true_positives) + len(self.false_positives)
        return len(self.true_positives) / found if found else 1.0

    @property
    def recall(self) -> float:
        expected = len(self.true_positives) + len(self.false_negatives)
        return len(self.true_positives) / expected if expected else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def positives(self) -> int:
        return len(self.true_positives) + len(self.false_negatives)


def _score(kind: str, labels: list[Label], flagged: set[str]) -> Score:
    score = Score(kind)
    for label in labels:
        if kind not in label.kinds:
            score.negatives += 1
        if kind in label.kinds and label.session_id in flagged:
            score.true_positives.append(label.session_id)
        elif label.session_id in flagged:
            score.false_positives.append(label.session_id)
        elif kind in label.kinds:
            score.false_negatives.append(label.session_id)
    return score


@dataclass(slots=True)
class SessionFacts:
    """What the one-line rules look at."""

    step_count: int
    most_calls_of_one_tool: int
    most_repeats_of_one_error: int


def facts_of(steps: list[AnalysisStep]) -> SessionFacts:
    tools = Counter(s.tool_name for s in steps if s.step_kind == "tool" and s.tool_name)
    # Model and tool calls only: an error propagating up through its parent spans is one error, not several.
    errors = Counter(
        " ".join((s.error_message or s.error_type or "").split())
        for s in steps
        if s.step_kind in ("llm", "tool") and s.failed and (s.error_message or s.error_type)
    )
    return SessionFacts(len(steps), max(tools.values(), default=0), max(errors.values(), default=0))


# The one-line rules a detector must beat: (name, threshold -> does the session get flagged).
ONE_LINE_RULES: dict[str, Callable[[SessionFacts, int], bool]] = {
    "same tool called >= N times": lambda f, n: f.most_calls_of_one_tool >= n,
    "same error >= N times": lambda f, n: f.most_repeats_of_one_error >= n,
    "session of >= N steps": lambda f, n: f.step_count >= n,
}
# The thresholds the issue names; the session-length rule also gets its best threshold on `dev`.
_FIXED_THRESHOLDS = {"same tool called >= N times": 3, "same error >= N times": 2}


@dataclass(slots=True)
class Baseline:
    rule: str
    threshold: int
    score: Score


def best_baselines(kind: str, labels: dict[str, Label], facts: dict[str, SessionFacts]) -> dict[str, Baseline]:
    """Per split, the best one-line rule for ``kind``: thresholds chosen on `dev`, the rule with the best F1 kept."""
    by_split = {split: [lab for lab in labels.values() if split_of(lab.session_id) == split] for split in SPLITS}
    best: dict[str, Baseline] = {}
    for rule, flags in ONE_LINE_RULES.items():
        if rule in _FIXED_THRESHOLDS:
            threshold = _FIXED_THRESHOLDS[rule]
        else:
            candidates = sorted({f.step_count for f in facts.values()})
            threshold = max(
                candidates or [1],
                key=lambda n: (
                    _score(
                        kind,
                        by_split["dev"],
                        {lab.session_id for lab in by_split["dev"] if flags(facts[lab.session_id], n)},
                    ).f1
                ),
            )
        for split, split_labels in by_split.items():
            flagged = {lab.session_id for lab in split_labels if flags(facts[lab.session_id], threshold)}
            score = _score(kind, split_labels, flagged)
            if split not in best or score.f1 > best[split].score.f1:
                best[split] = Baseline(rule.replace("N", str(threshold)), threshold, score)
    return best


@dataclass(slots=True)
class Evaluation:
    findings: dict[str, list[Finding]]
    labels: dict[str, Label]
    facts: dict[str, SessionFacts]
    scores: dict[str, dict[str, Score]] = field(default_factory=dict)  # split -> kind -> score
    baselines: dict[str, dict[str, Baseline]] = field(default_factory=dict)  # kind -> split -> best rule

    def __post_init__(self) -> None:
        for split in SPLITS:
            labels = [lab for lab in self.labels.values() if split_of(lab.session_id) == split]
            self.scores[split] = {
                kind: _score(kind, labels, {lab.session_id for lab in labels if kind in self.detected(lab.session_id)})
                for kind in KINDS
            }
        for kind in KINDS:
            self.baselines[kind] = best_baselines(kind, self.labels, self.facts)

    def detected(self, session_id: str) -> set[str]:
        """The kinds the analyzer found (notes are shown to users but are not findings)."""
        return {f.kind for f in self.findings[session_id] if f.severity != "note"}

    def table(self, *, misses: tuple[str, ...] = ("dev",)) -> str:
        lines: list[str] = []
        for split in SPLITS:
            count = sum(1 for lab in self.labels.values() if split_of(lab.session_id) == split)
            lines.append(
                f"{split} split: {count} sessions"
                + (" (tune on this one)" if split == "dev" else " (never tuned on: the figures to report)")
            )
            lines.append(
                f"{'kind':<16} {'positives':>9} {'negatives':>9} {'TP':>4} {'FP':>4} {'FN':>4} "
                f"{'precision':>9} {'recall':>7} {'F1':>5}  best one-line rule (F1)"
            )
            for kind in KINDS:
                s = self.scores[split][kind]
                rule = self.baselines[kind][split]
                lines.append(
                    f"{kind:<16} {s.positives:>9} {s.negatives:>9} {len(s.true_positives):>4} "
                    f"{len(s.false_positives):>4} {len(s.false_negatives):>4} {s.precision:>9.2f} {s.recall:>7.2f} "
                    f"{s.f1:>5.2f}  {rule.rule} ({rule.score.f1:.2f})"
                )
            lines.append("")
        for split in misses:
            for kind in KINDS:
                s = self.scores[split][kind]
                for session in s.false_positives:
                    subs = sorted(
                        {f.sub_kind for f in self.findings[session] if f.kind == kind and f.severity != "note"}
                    )
                    lines.append(
                        f"{split} false positive: {kind} ({', '.join(subs)}) in {session}: {self.labels[session].why}"
                    )
                for session in s.false_negatives:
                    lines.append(f"{split} missed: {kind} in {session}: {self.labels[session].why}")
        return "\n".join(lines).rstrip()


def read_labels(corpus: Path) -> dict[str, Label]:
    """labels.toml, and the labels.toml of each generated corpus beside its captures (<framework>/corpus*/)."""
    if not (corpus / "labels.toml").exists():
        raise CorpusError(f"{corpus} has no labels.toml; see `stepseven evaluate --help` for its form.")
    labels: dict[str, Label] = {}
    for path in [corpus / "labels.toml", *sorted(corpus.glob("*/corpus*/labels.toml"))]:
        _read_label_file(path, labels)
    return labels


def _read_label_file(path: Path, labels: dict[str, Label]) -> None:
    try:
        document = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise CorpusError(f"{path} is not valid TOML: {exc}.") from None
    for entry in document.get("session", []):
        session = entry.get("session_id")
        kinds = set(entry.get("kinds", []))
        if not isinstance(session, str) or kinds - set(KINDS):
            raise CorpusError(f"{path}: each [[session]] needs a session_id and kinds from {list(KINDS)}: {entry}")
        if session in labels:
            raise CorpusError(f"{path}: {session} is labeled twice.")
        labels[session] = Label(session, kinds, str(entry.get("why", "")), str(entry.get("shape", "")))


def evaluate(corpus: Path) -> Evaluation:
    from collector.otlp_files import store_files
    from store.duckdb_store import DuckDBStore

    labels = read_labels(corpus)
    config_path = corpus / "analyzer.toml"
    config: AnalyzerConfig = load_config(config_path if config_path.exists() else None)
    # Captures may sit in one folder per framework, and its generated corpus in a folder below it
    # (sample_traces/frameworks/<framework>/corpus*/); raw request bodies elsewhere are not captures.
    found_files = [*corpus.glob("*.json"), *corpus.glob("*/*.json"), *corpus.glob("*/corpus*/*.json")]
    files = sorted(p for p in found_files if not p.name.endswith(".expected.json"))
    if not files:
        raise CorpusError(f"{corpus} has no OTLP/JSON files.")
    with tempfile.TemporaryDirectory(prefix="stepseven-eval-") as tmp:
        store = DuckDBStore(Path(tmp) / "corpus.duckdb")
        try:
            store_files(store, files)
            sessions = session_ids(store.read)
            unlabeled = sorted(set(sessions) - set(labels))
            if unlabeled:
                raise CorpusError(f"sessions without a label in {corpus / 'labels.toml'}: {', '.join(unlabeled)}")
            missing = sorted(set(labels) - set(sessions))
            if missing:
                raise CorpusError(f"labeled sessions that no file in {corpus} produces: {', '.join(missing)}")
            norms = Norms(store.read)
            found: dict[str, list[Finding]] = {}
            facts: dict[str, SessionFacts] = {}
            for session in iter_sessions(rows_of_store(store), sessions):
                session.norms = norms.for_session(session.session_id)
                found[session.session_id] = analyze_session(session, config)
                facts[session.session_id] = facts_of(session.steps)
        finally:
            store.close()
    return Evaluation(found, labels, facts)
