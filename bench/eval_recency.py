"""Newer article first (qa/recency.py): what it changes on the question sets, and every note it gives.

Reproduce (from the project root; a couple of minutes on two cores, most of it embedding):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/eval_recency.py

The 24 dated press releases of ``eval/growth/`` are added to the (undated) seed corpus. The seed and
growth questions, with their unanswerable ones, are asked on that corpus twice: with the step, and with
it switched off (the judge's order kept). Prints both rows of figures for each set, then every reply
that says "an older article says otherwise" (question, the answer given, the older answer, their
dates), so that each note can be read and judged.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import retrieval  # noqa: E402
from qa.evaluation import evaluate, history_of, load_questions  # noqa: E402
from qa.indexer import update_index  # noqa: E402
from qa.recency import Reordered, newer_first  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402

EVAL = ROOT / "eval"
SETS = {
    "seed": ("seed_questions.jsonl", "unanswerable.jsonl"),
    "growth": ("growth_questions.jsonl", "growth_unanswerable.jsonl"),
}
SHOWN = ("Hit@1", "MRR@10", "Sentence@1", "Answer@1", "EM", "F1", "answered", "refusal recall", "refusal precision")


def judges_order(scored, *_):
    return Reordered(list(scored), None)


def main() -> int:
    with tempfile.TemporaryDirectory() as work:
        corpus = Path(work) / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)
        for article in (EVAL / "growth").iterdir():
            shutil.copy(article, corpus / article.name)
        update_index(corpus, Path(work) / "index")
        retriever = Retriever.open(Path(work) / "index", corpus)
        print("| set | newer first | " + " | ".join(SHOWN) + " |\n" + "|---" * (len(SHOWN) + 2) + "|")
        for name, (questions, unanswerable) in SETS.items():
            cases, refused = load_questions(EVAL / questions), load_questions(EVAL / unanswerable)
            for on in (True, False):
                retrieval.newer_first = newer_first if on else judges_order
                figures = evaluate(retriever, cases, k=5, unanswerable=refused).figures["all"]
                cells = " | ".join(f"{figures[m]:.3f}" if m in figures else "" for m in SHOWN)
                print(f"| {name} ({len(cases)} + {len(refused)}) | {'on' if on else 'off'} | {cells} |")
        retrieval.newer_first = newer_first
        print("\nReplies saying that an older article says otherwise:")
        notes = 0
        for name, (questions, unanswerable) in SETS.items():
            cases = load_questions(EVAL / questions) + load_questions(EVAL / unanswerable)
            by_id = {c.qid: c for c in cases}
            for case in cases:
                answer = retriever.answer(case.question, k=5, history=history_of(case, by_id))
                older, short = answer.older_differs, answer.short_answer
                if older is None or short is None:
                    continue
                notes += 1
                print(
                    f"- [{name}] {case.question}\n    answer: {short.text} ({short.citation.date}, "
                    f"{short.citation.doc_id}); older: {older.text} ({older.citation.date}, {older.citation.doc_id})"
                    f"; expected: {' / '.join(case.answers[:2]) or 'no answer'}"
                )
        print(f"{notes} notes in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
