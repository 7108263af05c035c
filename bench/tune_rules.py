"""Fit the rule reader's weights (qa.rule_reader.ReaderWeights) on the even half of a BEIR question set,
check them on the odd half.

Reproduce (from the project root; the PIAF index is built on first use, then reused; about 15 minutes
on two cores, most of it reading each question's passages once with the reader model):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/tune_rules.py ../shared/data/piaf-dev

Each question's best passages (first stage and reranking, as the product ranks them) and the reader
model's reading of each are gathered once; every weight point then runs the read stage itself
(qa.read.read) on them, and scores the short answer of the first passage: its F1 and EM against the
expected answers, Answer@1, and whether its article is the relevant one; the rule reader chooses every
span of a kind (READ below), since its weights are what it answers with alone. The weights move one at a
time over a few values, twice round (coordinate ascent on the tuning half's F1); last, the weights
before and after, on both halves, side by side.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.evaluation import answer_at_1, f1, load_beir, normalise  # noqa: E402
from qa.indexer import index_documents  # noqa: E402
from qa.question import analyse  # noqa: E402
from qa.ranking import Ranking, ReadWeights  # noqa: E402
from qa.read import read  # noqa: E402
from qa.reader_model import default_reader_model  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402
from qa.rule_reader import (
    QuestionParts,  # noqa: E402
    ReaderWeights,  # noqa: E402
)

# The rule reader alone chooses the spans (as it does for questions in languages the model was not fitted
# on); the model still gives open questions' words.
READ = ReadWeights(picks_typed=())

STEPS = {
    "window": [0.25, 0.5, 1.0],
    "affinity": [0.15, 0.3, 0.6],
    "count": [0.5, 1.0, 2.0],
    "cue": [0.0, 0.03, 0.06],
    "first": [0.0, 0.02, 0.05],
    "entity": [0.0, 0.03, 0.06],
    "missing": [0.0, 0.05, 0.1],
    "slack": [0.02, 0.04, 0.08],
    "reorder": [0.25, 0.5, 1.0],
}


class CachedReader:
    """The reader model's readings, read once per passage of each question."""

    def __init__(self) -> None:
        self.readings: dict[tuple[str, str], object] = {}

    def read(self, question: str, passages):
        return [self.readings[(question, text)] for text in passages]


def gather(retriever: Retriever, cases, model, cache: CachedReader):
    ranking = dataclasses.replace(Ranking(), read=None)
    gathered = []
    for case in cases:
        ranked = retriever.rank(case.question, k=10, ranking=ranking)
        head = ranked.scored[: ranking.depth]
        texts = [s.passage.text for s in head]
        for text, reading in zip(texts, model.read(case.question, texts), strict=True):
            cache.readings[(case.question, text)] = reading
        asked = analyse(case.question)
        gathered.append((case, asked, head, QuestionParts.of(asked, ranked.question_pieces, case.question)))
    return gathered


def measure(gathered, rules: ReaderWeights, cache: CachedReader) -> dict[str, float]:
    totals = {"F1": 0.0, "EM": 0.0, "Answer@1": 0.0, "Hit@1": 0.0}
    for case, asked, head, parts in gathered:
        best = read(cache, asked, head, READ, None, case.question, parts, read_all=False, rules=rules)[0]
        passage = best.passage
        start, end = (best.span.start, best.span.end) if best.span else passage.sentences[best.best_sentence]
        shown = passage.text[start:end]
        totals["F1"] += max(f1(shown, a) for a in case.answers)
        totals["EM"] += any(normalise(shown) == normalise(a) for a in case.answers)
        totals["Answer@1"] += answer_at_1(shown, case.answers)
        totals["Hit@1"] += passage.doc_id in case.relevant_docs
    return {name: value / len(gathered) for name, value in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--store", default=None, help="index folder (default: embeddings/eval/<data folder name>)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions (a quick try)")
    args = parser.parse_args()

    documents, cases = load_beir(args.data)
    cases = [c for c in cases if c.answers][: args.limit]
    store = args.store or f"embeddings/eval/{args.data.resolve().name}"
    index_documents(documents, store, show_progress=True)
    retriever = Retriever.open(store, args.data)
    cache, model = CachedReader(), default_reader_model()
    started = time.perf_counter()
    halves = {"even": gather(retriever, cases[0::2], model, cache), "odd": gather(retriever, cases[1::2], model, cache)}
    print(f"gathered {len(cases)} questions in {time.perf_counter() - started:.0f} s", flush=True)

    best, best_f1 = ReaderWeights(), measure(halves["even"], ReaderWeights(), cache)["F1"]
    for round_ in (1, 2):
        for name, values in STEPS.items():
            for value in values:
                point = dataclasses.replace(best, **{name: value})
                if point == best:
                    continue
                score = measure(halves["even"], point, cache)["F1"]
                if score > best_f1 + 1e-9:
                    best, best_f1 = point, score
            print(f"round {round_}, {name}: {getattr(best, name)} (even F1 {best_f1:.4f})", flush=True)

    print("\n| rule weights | half | F1 | EM | Answer@1 | Hit@1 |\n|---|---|---|---|---|---|")
    for label, rules in (("before", ReaderWeights()), ("fitted", best)):
        for half, gathered in halves.items():
            figures = measure(gathered, rules, cache)
            print(f"| {label} | {half} | " + " | ".join(f"{figures[m]:.3f}" for m in figures) + " |")
    before = ReaderWeights()
    changed = {
        f.name: getattr(best, f.name)
        for f in dataclasses.fields(best)
        if getattr(best, f.name) != getattr(before, f.name)
    }
    print(f"\nfitted: {changed or 'no change'}")


if __name__ == "__main__":
    main()
