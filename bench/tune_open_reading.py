"""Choose how many passages the reader model reads for an open question, and how much its "answers" logit
weighs beside their scores, on the even half of PIAF dev; report the odd half beside it.

Reproduce (from the project root, after ``qa eval ../shared/data/piaf-dev`` built the PIAF index once):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/tune_open_reading.py ../shared/data/piaf-dev

An open question (what, why, how) is answered in the model's words (qa.read). Each open question of a half
is ranked as the default does, with the model's score weighing nothing, and the best passages are read
once; the grid then picks, for each weight and depth, the passage of best ``score + weight · answers``
among the first ``depth``, and scores the model's words there (SQuAD's F1, 0 when the judge refuses).
``--english`` runs the same on a folder of the questions glossed in English (bench/english_gloss.py).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.evaluation import Case, f1, load_beir  # noqa: E402
from qa.question import analyse  # noqa: E402
from qa.ranking import Ranking, ReadWeights  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402

WEIGHTS = [0.0, 0.005, 0.01, 0.02, 0.05, 0.1]
DEPTHS = [1, 2, 3, 5]
UNWEIGHED = replace(Ranking(), read=ReadWeights(open_answers=0.0))  # the model reads the best passage only


@dataclass(frozen=True)
class Read:
    """One passage as the model read it for one question: its score, the "answers" logit, the F1 of its words."""

    score: float
    answers: float
    f1: float


def gather(retriever: Retriever, cases: list[Case], depth: int) -> list[list[Read]]:
    """For each open question, the first ``depth`` passages read (empty when the judge refuses)."""
    model = retriever.reader_model() if retriever.reader_model else None
    assert model is not None, "the reader model is needed: run `qa index` first"
    out = []
    for case in cases:
        asked = analyse(case.question)
        answer = retriever.answer(case.question, ranking=UNWEIGHED)
        if not answer.found:
            out.append([])
            continue
        head = retriever.rank(case.question, depth, UNWEIGHED, asked).scored[:depth]
        readings = model.read(case.question, [s.passage.text for s in head])
        out.append(
            [
                Read(
                    s.score,
                    r.answers,
                    max(f1(s.passage.text[r.start : r.end], a) for a in case.answers) if r.has_span else 0.0,
                )
                for s, r in zip(head, readings, strict=True)
            ]
        )
    return out


def mean_f1(gathered: list[list[Read]], weight: float, depth: int) -> float:
    total = 0.0
    for reads in gathered:
        if reads:
            total += max(reads[:depth], key=lambda r: r.score + weight * r.answers).f1
    return total / len(gathered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="a BEIR folder: ../shared/data/piaf-dev")
    parser.add_argument("--store", default=None, help="its index (default: embeddings/eval/<folder name>)")
    args = parser.parse_args()
    _, cases = load_beir(args.data)
    retriever = Retriever.open(args.store or f"embeddings/eval/{args.data.resolve().name}", args.data)
    halves = {half: [c for c in cases[i::2] if analyse(c.question).open] for i, half in enumerate(("even", "odd"))}
    gathered = {half: gather(retriever, members, max(DEPTHS)) for half, members in halves.items()}
    print(f"open questions: even {len(halves['even'])}, odd {len(halves['odd'])}\n")
    print("| depth | answers weight | even F1 (open questions) | odd F1 (open questions) |\n|---|---|---|---|")
    results = []
    for depth in DEPTHS:
        for weight in WEIGHTS if depth > 1 else [0.0]:
            even, odd = mean_f1(gathered["even"], weight, depth), mean_f1(gathered["odd"], weight, depth)
            results.append((round(even, 4), -depth, weight))
            print(f"| {depth} | {weight} | {even:.4f} | {odd:.4f} |", flush=True)
    _, depth, weight = max(results)
    print(f"\nchosen on the even half: open_depth={-depth}, open_answers={weight}")


if __name__ == "__main__":
    main()
