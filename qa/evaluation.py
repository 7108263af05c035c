"""Measuring retrieval quality: Hit@k, MRR@10 and nDCG@10 with ir-measures.

Two kinds of data:
- a question file for a corpus folder, JSONL ``{"question", "answers": [...]}``
  (optional ``id``, ``lang``, ``follow_up_of``): a passage is relevant when it
  contains one of the answer strings;
- a BEIR folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``):
  a passage is relevant when its document is in the qrels.
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import ir_measures
import numpy as np
from ir_measures import RR, Success, nDCG

from .ingest import Document
from .retrieval import Ranking, Retriever, with_context

MEASURES = {"Hit@1": Success @ 1, "Hit@3": Success @ 3, "Hit@10": Success @ 10, "MRR@10": RR @ 10, "nDCG@10": nDCG @ 10}
# Question files only: the first hit's highlighted sentence itself contains an answer string.
ANSWER_SENTENCE = "Sentence@1"


@dataclass(frozen=True)
class Case:
    qid: str
    question: str
    lang: str = ""
    answers: tuple[str, ...] = ()  # answer strings (question files)
    relevant_docs: frozenset[str] = frozenset()  # relevant document ids (BEIR)
    follow_up_of: str | None = None


@dataclass
class Report:
    figures: dict[str, dict[str, float]] = field(default_factory=dict)  # group -> measure -> value
    misses: list[dict] = field(default_factory=list)  # questions whose first hit is wrong

    def table(self) -> str:
        first = next(iter(self.figures.values()), {})
        names = list(MEASURES) + [ANSWER_SENTENCE] * (ANSWER_SENTENCE in first) + ["queries/s", "n"]
        rows = ["| group | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        for group, values in self.figures.items():
            cells = [f"{values[n]:.3f}" if n != "n" else str(int(values[n])) for n in names]
            rows.append(f"| {group} | " + " | ".join(cells) + " |")
        return "\n".join(rows)


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
                )
            )
    return cases


def load_beir(folder: Path, split: str = "dev") -> tuple[list[Document], list[Case]]:
    """The documents and questions of a BEIR-layout folder."""
    folder = Path(folder)
    documents = []
    with open(folder / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            data = json.loads(line)
            text = " ".join(data["text"].split())
            documents.append(
                Document(
                    doc_id=data["_id"],
                    title=data.get("title", ""),
                    text=text,
                    offsets=np.arange(len(text), dtype=np.int64),
                    source=text,
                    content_hash=hashlib.sha256(f"{data.get('title', '')}\0{text}".encode()).hexdigest(),
                    path="corpus.jsonl",
                )
            )
    relevant: dict[str, set[str]] = defaultdict(set)
    with open(folder / "qrels" / f"{split}.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if int(row["score"]) > 0:
                relevant[row["query-id"]].add(row["corpus-id"])
    cases = []
    with open(folder / "queries.jsonl", encoding="utf-8") as f:
        for line in f:
            data = json.loads(line)
            if data["_id"] in relevant:
                cases.append(Case(data["_id"], data["text"], "fr", relevant_docs=frozenset(relevant[data["_id"]])))
    return documents, cases


def load_unanswerable(path: Path) -> list[Case]:
    return load_questions(path)


def evaluate(
    retriever: Retriever, cases: list[Case], k: int = 10, ranking: Ranking | None = None, unanswerable: list[Case] = ()
) -> Report:
    """Run every question and compute the measures, overall and by language."""
    by_id = {c.qid: c for c in cases}
    all_passages = list(retriever.reader.passages())
    qrels, run, seconds = [], [], []
    sentence_found: dict[str, float] = {}
    report = Report()
    for case in cases:
        history = [by_id[case.follow_up_of].question] if case.follow_up_of in by_id else []
        started = time.perf_counter()
        hits = retriever.retrieve(with_context(case.question, history), k=k, ranking=ranking)
        seconds.append(time.perf_counter() - started)
        if case.relevant_docs:  # document-level relevance: keep each document's best passage
            keys = list(dict.fromkeys(h.doc_id for h in hits))
            relevant = set(case.relevant_docs)
        else:
            keys = [h.passage_id for h in hits]
            relevant = {p.passage_id for p in all_passages if any(a in p.text for a in case.answers)}
            sentence_found[case.qid] = float(bool(hits) and any(a in hits[0].answer for a in case.answers))
        qrels += [ir_measures.Qrel(case.qid, key, 1) for key in relevant]
        run += [ir_measures.ScoredDoc(case.qid, key, float(len(keys) - i)) for i, key in enumerate(keys)]
        if not keys or keys[0] not in relevant:
            report.misses.append({"id": case.qid, "question": case.question, "got": hits[0].text[:160] if hits else ""})
    per_query: dict[str, dict[str, float]] = defaultdict(dict)
    for metric in ir_measures.iter_calc(list(MEASURES.values()), qrels, run):
        per_query[metric.query_id][str(metric.measure)] = metric.value
    groups = {"all": cases} | {lang: [c for c in cases if c.lang == lang] for lang in sorted({c.lang for c in cases} - {""})}
    for group, members in groups.items():
        if not members:
            continue
        values = {
            name: sum(per_query[c.qid].get(str(m), 0.0) for c in members) / len(members) for name, m in MEASURES.items()
        }
        if sentence_found:
            values[ANSWER_SENTENCE] = sum(sentence_found[c.qid] for c in members) / len(members)
        values["queries/s"] = len(seconds) / sum(seconds)
        values["n"] = len(members)
        report.figures[group] = values
    return report
