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

import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.analyze import analyze_session
from analyzer.config import AnalyzerConfig, load_config
from analyzer.load import Norms, iter_sessions, session_ids
from analyzer.model import KINDS
from store.model import Finding


class CorpusError(Exception):
    """The corpus cannot be evaluated; the message says what to fix."""


@dataclass(slots=True)
class Label:
    session_id: str
    kinds: set[str]
    why: str


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


@dataclass(slots=True)
class Evaluation:
    scores: dict[str, Score]
    findings: dict[str, list[Finding]]
    labels: dict[str, Label]

    def table(self) -> str:
        lines = [
            f"{'kind':<16} {'positives':>9} {'negatives':>9} {'TP':>4} {'FP':>4} {'FN':>4} "
            f"{'precision':>9} {'recall':>7}"
        ]
        for kind in KINDS:
            s = self.scores[kind]
            positives = len(s.true_positives) + len(s.false_negatives)
            lines.append(
                f"{kind:<16} {positives:>9} {s.negatives:>9} {len(s.true_positives):>4} {len(s.false_positives):>4} "
                f"{len(s.false_negatives):>4} {s.precision:>9.2f} {s.recall:>7.2f}"
            )
        for kind in KINDS:
            s = self.scores[kind]
            for session in s.false_positives:
                subs = sorted({f.sub_kind for f in self.findings[session] if f.kind == kind})
                lines.append(f"false positive: {kind} ({', '.join(subs)}) in {session}: {self.labels[session].why}")
            for session in s.false_negatives:
                lines.append(f"missed: {kind} in {session}: {self.labels[session].why}")
        return "\n".join(lines)


def read_labels(corpus: Path) -> dict[str, Label]:
    path = corpus / "labels.toml"
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise CorpusError(f"{corpus} has no labels.toml; see `stepseven evaluate --help` for its form.") from None
    except tomllib.TOMLDecodeError as exc:
        raise CorpusError(f"{path} is not valid TOML: {exc}.") from None
    labels: dict[str, Label] = {}
    for entry in document.get("session", []):
        session = entry.get("session_id")
        kinds = set(entry.get("kinds", []))
        if not isinstance(session, str) or kinds - set(KINDS):
            raise CorpusError(f"{path}: each [[session]] needs a session_id and kinds from {list(KINDS)}: {entry}")
        if session in labels:
            raise CorpusError(f"{path}: {session} is labeled twice.")
        labels[session] = Label(session, kinds, str(entry.get("why", "")))
    return labels


def evaluate(corpus: Path) -> Evaluation:
    from collector.otlp_files import store_files
    from store.duckdb_store import DuckDBStore

    labels = read_labels(corpus)
    config_path = corpus / "analyzer.toml"
    config: AnalyzerConfig = load_config(config_path if config_path.exists() else None)
    # Captures may sit in one folder per framework (sample_traces/frameworks/<framework>/).
    found_files = [*corpus.glob("*.json"), *corpus.glob("*/*.json")]
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
            for session in iter_sessions(store.session_rows, sessions):
                session.norms = norms.for_session(session.session_id)
                found[session.session_id] = analyze_session(session, config)
        finally:
            store.close()
    scores = {kind: Score(kind) for kind in KINDS}
    for session_id, label in labels.items():
        detected = {f.kind for f in found[session_id]}
        for kind in KINDS:
            score = scores[kind]
            if kind not in label.kinds:
                score.negatives += 1
            if kind in label.kinds and kind in detected:
                score.true_positives.append(session_id)
            elif kind in detected:
                score.false_positives.append(session_id)
            elif kind in label.kinds:
                score.false_negatives.append(session_id)
    return Evaluation(scores, found, labels)
