"""Choose how the reader model weighs in, on the even half of PIAF dev; report both halves side by side.

Reproduce (from the project root, after ``qa eval ../shared/data/piaf-dev`` built the PIAF index once):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/tune_reader.py ../shared/data/piaf-dev

Two choices, each made on the even half only:
- ``ReadWeights.answers``: the weight of the reader's "answers" logit beside the search score, for the
  best Hit@1 (then MRR@10) by document;
- ``Judging.answers_floor``: below it the best passage is taken as no answer. Unanswerable questions are
  made from the questions themselves as bench/train_reader.py makes its adversarial ones (a name, number or
  role the relevant passage holds swapped for one it does not hold); the floor kept is the highest that
  still answers 95 % of the answerable questions.
Each question is read once; the grid then only re-weighs numbers. Last, the whole judge with that floor,
with and without its rule on names (the article must hold the names, numbers and countries the question
gives), on the even half: how many answerable questions it answers, how many made-up ones it refuses.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_reader import _NAME, adversarial  # noqa: E402

from qa.evaluation import load_beir  # noqa: E402
from qa.judge import Judging  # noqa: E402
from qa.ranking import Ranking, ReadWeights  # noqa: E402
from qa.read import fused_score  # noqa: E402
from qa.reader_model import Reading  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402

WEIGHTS = [0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 1.0]
FLOORS = [-4.0, -3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0]
ANSWERED = 0.95


def gather(retriever: Retriever, questions: list[str]) -> list[list[tuple[str, float, float | None]]]:
    """For each question, its candidates: (document, search score, the reader's logit or None if not read)."""
    out = []
    for question in questions:
        every = ReadWeights(answers=0.0, open_answers=0.0, every=True)  # every passage read, the order unchanged
        scored = retriever.rank(question, k=10, ranking=replace(Ranking(), read=every)).scored
        out.append(
            [
                (s.passage.doc_id, s.score if s.searched_score is None else s.searched_score,
                 s.reading.answers if s.reading else None)
                for s in scored
            ]
        )  # fmt: skip
    return out


def fused(candidate, weights: ReadWeights) -> float:
    _, searched, answers = candidate
    return fused_score(searched, Reading(answers, 0, 0, 0.0) if answers is not None else None, weights.answers)


def ranked_documents(candidates, weights: ReadWeights) -> list[str]:
    read = [c for c in candidates if c[2] is not None]
    rest = [c for c in candidates if c[2] is None]
    order = sorted(read, key=lambda c: -fused(c, weights)) + rest
    return list(dict.fromkeys(c[0] for c in order))[:10]


def measure(cases, gathered, weights: ReadWeights) -> tuple[float, float]:
    hits, reciprocal = 0, 0.0
    for case, candidates in zip(cases, gathered, strict=True):
        docs = ranked_documents(candidates, weights)
        rank = next((r for r, d in enumerate(docs, start=1) if d in case.relevant_docs), None)
        hits += rank == 1
        reciprocal += 1 / rank if rank else 0.0
    return hits / len(cases), reciprocal / len(cases)


def best_logit(candidates, weights: ReadWeights) -> float:
    read = [c for c in candidates if c[2] is not None]
    return max(read, key=lambda c: fused(c, weights))[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--store", default=None, help="index folder (default: embeddings/eval/<data folder name>)")
    args = parser.parse_args()

    documents, cases = load_beir(args.data)
    retriever = Retriever.open(args.store or f"embeddings/eval/{args.data.resolve().name}", args.data)
    texts = {d.doc_id: d.text for d in documents}
    titles = {d.title for d in documents}
    names = sorted({m.group() for c in cases[0::2] for m in _NAME.finditer(c.question)} | titles)
    halves = {"even": cases[0::2], "odd": cases[1::2]}
    gathered, unanswerable, made_up = {}, {}, {}
    for half, members in halves.items():
        rng = random.Random(1)
        gathered[half] = gather(retriever, [c.question for c in members])
        swapped = [adversarial(c.question, texts[next(iter(c.relevant_docs))], names, rng) for c in members]
        made_up[half] = [s for s in swapped if s]
        unanswerable[half] = gather(retriever, made_up[half])
        print(f"{half}: {len(members)} questions, {len(unanswerable[half])} made unanswerable", flush=True)

    print("\n| answers weight | even Hit@1 | even MRR@10 | odd Hit@1 | odd MRR@10 |\n|---|---|---|---|---|")
    results = []
    for weight in WEIGHTS:
        read = ReadWeights(answers=weight)
        even, odd = measure(halves["even"], gathered["even"], read), measure(halves["odd"], gathered["odd"], read)
        results.append((even, weight))
        print(f"| {weight} | {even[0]:.3f} | {even[1]:.3f} | {odd[0]:.3f} | {odd[1]:.3f} |", flush=True)
    chosen = ReadWeights(answers=max(results)[1])
    print(f"\nchosen on the even half: {chosen}")

    print("\n| answers floor | even answered | even refused | odd answered | odd refused |\n|---|---|---|---|---|")
    floors = []
    for floor in FLOORS:
        cells = []
        for half in halves:
            answered = np.mean([best_logit(c, chosen) >= floor for c in gathered[half]])
            refused = np.mean([best_logit(c, chosen) < floor for c in unanswerable[half]])
            cells += [answered, refused]
        floors.append((cells[0] >= ANSWERED, floor))
        print(f"| {floor} | " + " | ".join(f"{v:.3f}" for v in cells) + " |", flush=True)
    kept = max(f for ok, f in floors if ok) if any(ok for ok, _ in floors) else min(FLOORS)
    print(f"\nchosen on the even half: {Judging(answers_floor=kept)}")

    print("\n| judge, even half | answered | refused |\n|---|---|---|")
    for names_rule in (True, False):
        judging = Judging(answers_floor=kept, names=names_rule)
        judged = Retriever(
            retriever.store,
            retriever.embedder,
            retriever.corpus_dir,
            Ranking(read=chosen),
            retriever.reader_model,
            judging,
        )
        answered = np.mean([judged.answer(c.question).found for c in halves["even"]])
        refused = np.mean([not judged.answer(q).found for q in made_up["even"]])
        print(f"| {judging} | {answered:.3f} | {refused:.3f} |", flush=True)


if __name__ == "__main__":
    main()
