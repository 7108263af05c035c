"""The growth set: do answers stay right as the corpus grows?

Reproduce (from the project root; a few minutes on two cores, most of it embedding):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/eval_growth.py

The 24 articles of ``eval/growth/`` (near-misses of the seed articles: other IOM offices and chiefs of
mission, other meetings with their themes and counts of members and observers, in English and French)
are added to the seed corpus. Prints, side by side:
- the seed questions (and unanswerable ones) on the seed corpus alone and on the grown corpus, and
  every seed question whose reply changed (found or not, short answer);
- the growth questions (and the growth set's unanswerable ones) on the grown corpus.
The growth set is for checking only: nothing is fitted on it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.evaluation import evaluate, history_of, load_questions, short_text  # noqa: E402
from qa.indexer import update_index  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402

EVAL = ROOT / "eval"


def opened(corpus: Path, work: Path) -> Retriever:
    index = work / f"{corpus.name}-index"
    update_index(corpus, index)
    return Retriever.open(index, corpus)


def replies(retriever: Retriever, cases) -> dict[str, tuple[bool, str]]:
    by_id = {c.qid: c for c in cases}
    out = {}
    for case in cases:
        answer = retriever.answer(case.question, history=history_of(case, by_id))
        out[case.qid] = (answer.found, short_text(answer) if answer.found else "")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None, help="folder for corpora and indexes (default: temporary)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-growth-"))
    grown = work / "grown"
    grown.mkdir(parents=True, exist_ok=True)
    for article in [*(ROOT / "corpus").iterdir(), *(EVAL / "growth").iterdir()]:
        shutil.copy(article, grown / article.name)
    seeds = opened(ROOT / "corpus", work)
    bigger = opened(grown, work)

    seed_cases = load_questions(EVAL / "seed_questions.jsonl")
    seed_refusals = load_questions(EVAL / "unanswerable.jsonl")
    for name, retriever in (("seed corpus", seeds), ("seeds + growth articles", bigger)):
        report = evaluate(retriever, seed_cases, k=10, unanswerable=seed_refusals)
        print(f"\n### Seed questions, {name}\n\n{report.table()}", flush=True)
    before, after = replies(seeds, seed_cases), replies(bigger, seed_cases)
    changed = [c for c in seed_cases if before[c.qid] != after[c.qid]]
    print(f"\nseed replies changed by the growth articles: {len(changed)} of {len(seed_cases)}")
    for case in changed:
        print(f"- {case.qid} {case.question!r}: {before[case.qid]} -> {after[case.qid]}")

    growth = load_questions(EVAL / "growth_questions.jsonl")
    report = evaluate(bigger, growth, k=10, unanswerable=load_questions(EVAL / "growth_unanswerable.jsonl"))
    print(f"\n### Growth questions, seeds + growth articles\n\n{report.table()}")
    for miss in report.misses:
        print(f"- {miss['id']} {miss['question']!r}: expected {miss['expected']}, got {miss['short']!r}")


if __name__ == "__main__":
    main()
