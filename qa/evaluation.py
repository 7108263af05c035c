"""Measuring answers: the passages (Hit@k, MRR@10, nDCG@10 with ir-measures), the answering
sentence, the short answer, and refusing when nothing answers.

Two kinds of data:
- a question file for a corpus folder, JSONL ``{"question", "answers": [...]}``
  (optional ``id``, ``lang``, ``follow_up_of``, ``history``): a passage is relevant
  when it contains one of the answer strings;
- a BEIR folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``): a passage
  is relevant when its document is in the qrels; ``metadata.answers`` of a query, when
  given, are its expected short answers.

A file of unanswerable questions (no ``answers``) measures refusals.
"""

from __future__ import annotations

import csv
import json
import re
import string
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import ir_measures
import numpy as np
from ir_measures import RR, Success, nDCG

from . import limits
from .answer import Answer
from .ingest import Document
from .ingest.collection import read_collection
from .ranking import Ranking
from .retrieval import Retriever

MEASURES = {"Hit@1": Success @ 1, "Hit@3": Success @ 3, "Hit@10": Success @ 10, "MRR@10": RR @ 10, "nDCG@10": nDCG @ 10}
ANSWER_MEASURES = ("Sentence@1", "Answer@1", "EM", "F1", "answered")
REFUSAL_MEASURES = ("refusal recall", "refusal precision")


@dataclass(frozen=True)
class Case:
    qid: str
    question: str
    lang: str = ""
    answers: tuple[str, ...] = ()  # expected answer strings
    relevant_docs: frozenset[str] = frozenset()  # relevant document ids (BEIR)
    follow_up_of: str | None = None
    history: tuple[str, ...] = ()  # earlier questions of the conversation, when given directly


@dataclass
class Report:
    figures: dict[str, dict[str, float]] = field(default_factory=dict)  # group -> measure -> value
    misses: list[dict] = field(default_factory=list)  # questions whose first hit or short answer is wrong

    def table(self) -> str:
        present = set().union(*(v.keys() for v in self.figures.values())) if self.figures else set()
        names = [n for n in (*MEASURES, *ANSWER_MEASURES, *REFUSAL_MEASURES) if n in present] + ["queries/s", "n"]
        rows = ["| group | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        for group, values in self.figures.items():
            cells = [_cell(values.get(n), n) for n in names]
            rows.append(f"| {group} | " + " | ".join(cells) + " |")
        return "\n".join(rows)


def _cell(value: float | None, name: str) -> str:
    if value is None:
        return ""
    return str(int(value)) if name == "n" else f"{value:.3f}"


def load_questions(path: Path) -> list[Case]:
    cases = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            data = json.loads(line)
            cases.append(
                Case(
                    qid=str(data.get("id", n)),
                    question=data["question"],
                    lang=data.get("lang", ""),
                    answers=tuple(data.get("answers", ())),
                    follow_up_of=data.get("follow_up_of"),
                    history=tuple(data.get("history", ())),
                )
            )
    return cases


def load_beir(folder: Path, split: str = "dev") -> tuple[list[Document], list[Case]]:
    """The documents and questions of a BEIR-layout folder.

    ``corpus.jsonl`` is read as any collection of the corpus is (``qa.ingest.collection``), so
    its passages are cleaned and cited as an indexed archive's would be; a document's id is
    therefore ``corpus.jsonl#<_id>``, and the qrels are read with that prefix.
    """
    folder = Path(folder)
    corpus = folder / "corpus.jsonl"
    records = read_collection(corpus, corpus.name, limits.max_file_bytes())
    if records.bad:
        where, why = records.bad[0]
        raise ValueError(f"{len(records.bad)} unreadable records in {corpus} (first: {where}: {why})")
    relevant: dict[str, set[str]] = defaultdict(set)
    with open(folder / "qrels" / f"{split}.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if int(row["score"]) > 0:
                relevant[row["query-id"]].add(f"{corpus.name}#{row['corpus-id']}")
    cases = []
    with open(folder / "queries.jsonl", encoding="utf-8") as f:
        for line in f:
            data = json.loads(line)
            if data["_id"] in relevant:
                answers = tuple((data.get("metadata") or {}).get("answers") or ())
                cases.append(Case(data["_id"], data["text"], "fr", answers, frozenset(relevant[data["_id"]])))
    return records.documents, cases


# ---------------------------------------------------------------- short answers (SQuAD's way)

_ARTICLES = re.compile(r"\b(?:a|an|the|le|la|les|l|un|une|des|du|de|d)\b")


def normalise(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (SQuAD's answer normalisation, with French articles)."""
    text = text.lower().replace("’", "'").replace("'", " ")
    text = "".join(ch for ch in text if ch not in set(string.punctuation) | {"«", "»", "“", "”"})
    return " ".join(_ARTICLES.sub(" ", text).split())


def f1(prediction: str, truth: str) -> float:
    predicted, expected = normalise(prediction).split(), normalise(truth).split()
    common = sum((Counter(predicted) & Counter(expected)).values())
    if not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def answer_at_1(prediction: str, answers: tuple[str, ...]) -> bool:
    """The short answer holds an expected answer and is at most max(60, 3 × its length) characters."""
    shown = normalise(prediction)
    return any(normalise(a) in shown and len(prediction) <= max(60, 3 * len(a)) for a in answers if normalise(a))


def short_text(answer: Answer) -> str:
    """What the person reads as the answer: the short answer, else the answering sentence."""
    if answer.short_answer is not None:
        return answer.short_answer.text
    return answer.best.answer if answer.best else ""


# ---------------------------------------------------------------- the run


def evaluate(
    retriever: Retriever,
    cases: list[Case],
    k: int = 10,
    ranking: Ranking | None = None,
    unanswerable: list[Case] | None = None,
) -> Report:
    """Ask every question (and every unanswerable one) and compute the measures, overall and by language."""
    by_id = {c.qid: c for c in cases}
    all_passages = list(retriever.reader.passages())
    qrels, run, seconds = [], [], []
    answer_figures: dict[str, dict[str, float]] = defaultdict(dict)
    report = Report()
    for case in cases:
        started = time.perf_counter()
        answer = retriever.answer(case.question, k=k, history=history_of(case, by_id), ranking=ranking)
        seconds.append(time.perf_counter() - started)
        hits = answer.hits
        if case.relevant_docs:  # document-level relevance: keep each document's best passage
            keys = list(dict.fromkeys(h.doc_id for h in hits))
            relevant = set(case.relevant_docs)
        else:
            keys = [h.passage_id for h in hits]
            relevant = {p.passage_id for p in all_passages if any(a in p.text for a in case.answers)}
        qrels += [ir_measures.Qrel(case.qid, key, 1) for key in relevant]
        run += [ir_measures.ScoredDoc(case.qid, key, float(len(keys) - i)) for i, key in enumerate(keys)]
        if case.answers:
            shown = short_text(answer) if answer.found else ""
            sentence = hits[0].answer if hits else ""
            answer_figures[case.qid] = {
                "Sentence@1": float(any(normalise(a) in normalise(sentence) for a in case.answers)),
                "Answer@1": float(answer_at_1(shown, case.answers)),
                "EM": float(any(normalise(shown) == normalise(a) for a in case.answers)),
                "F1": max(f1(shown, a) for a in case.answers),
                "answered": float(answer.found),
            }
        if not keys or keys[0] not in relevant or (case.answers and not answer_figures[case.qid]["Answer@1"]):
            report.misses.append(
                {
                    "id": case.qid,
                    "question": case.question,
                    "expected": case.answers[:2],
                    "found": answer.found,
                    "short": short_text(answer),
                    "got": hits[0].text[:160] if hits else "",
                    "first_hit_relevant": bool(keys) and keys[0] in relevant,
                }
            )
    per_query: dict[str, dict[str, float]] = defaultdict(dict)
    for metric in ir_measures.iter_calc(list(MEASURES.values()), qrels, run):
        per_query[metric.query_id][str(metric.measure)] = metric.value
    refused = _refusals(retriever, unanswerable or [], ranking)
    languages = sorted({c.lang for c in [*cases, *(unanswerable or [])]} - {""})
    for group in ["all", *languages]:
        members = [c for c in cases if group in ("all", c.lang)]
        values: dict[str, float] = {}
        if members:
            values |= {n: _mean(per_query[c.qid].get(str(m), 0.0) for c in members) for n, m in MEASURES.items()}
            for name in ANSWER_MEASURES:
                scored = [answer_figures[c.qid][name] for c in members if c.qid in answer_figures]
                if scored:
                    values[name] = _mean(scored)
        group_refused = [r for c, r in refused if group in ("all", c.lang)]
        if group_refused:
            wrongly = sum(1 - answer_figures[c.qid]["answered"] for c in members if c.qid in answer_figures)
            values["refusal recall"] = _mean(group_refused)
            values["refusal precision"] = sum(group_refused) / max(sum(group_refused) + wrongly, 1)
        values["queries/s"] = len(seconds) / sum(seconds) if seconds else 0.0
        values["n"] = len(members) + len(group_refused)
        report.figures[group] = values
    return report


def history_of(case: Case, by_id: dict[str, Case]) -> list[str]:
    """The earlier questions of the conversation a case belongs to."""
    if case.history:
        return list(case.history)
    return [by_id[case.follow_up_of].question] if case.follow_up_of in by_id else []


def _refusals(retriever: Retriever, cases: list[Case], ranking: Ranking | None) -> list[tuple[Case, float]]:
    return [(c, float(not retriever.answer(c.question, history=list(c.history), ranking=ranking).found)) for c in cases]


def _mean(values) -> float:
    values = list(values)
    return float(np.mean(values)) if values else 0.0
