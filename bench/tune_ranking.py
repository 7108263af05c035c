"""Choose the ranking weights on one half of a BEIR question set, check them on the other half.

Reproduce (from the project root; the PIAF index is built on first use, then reused):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/tune_ranking.py ../shared/data/piaf-dev

Questions with an even position form the tuning half, odd ones the check half.
The evidence about each question's candidates is gathered once; every point
of the grid below then re-weighs it and prints Hit@1 / MRR@10 on the tuning
half; last, the best point and today's default on both halves, side by side.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.embed import DEFAULT_BACKEND, DEFAULT_MODEL  # noqa: E402
from qa.evaluation import load_beir  # noqa: E402
from qa.indexer import index_documents  # noqa: E402
from qa.ranking import Ranking, Weights, stage_order  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402

GRID = {
    "first.sentence": [0.25, 0.5, 1.0],
    "first.lexical": [0.05, 0.1, 0.2],
    "rerank.sentence": [0.5, 0.75, 1.0],
    "rerank.token": [1.0, 1.5, 2.0],
    "rerank.lexical": [0.03, 0.06],
}


def ranking_for(point: dict[str, float]) -> Ranking:
    base = Ranking()
    assert base.rerank is not None
    first = replace(base.first, sentence=point["first.sentence"], lexical=point["first.lexical"])
    rerank = Weights(sentence=point["rerank.sentence"], token=point["rerank.token"], lexical=point["rerank.lexical"])
    return replace(base, first=first, rerank=rerank)


def features(retriever: Retriever, cases) -> list[tuple[list[str], list[tuple[float, float, float, float]]]]:
    """For each question: the document of each candidate and its evidence (dense, sentence, lexical, token),
    gathered once with every candidate reranked; the grid then only re-weighs numbers."""
    wide = replace(Ranking(), depth=60, read=None)
    out = []
    for case in cases:
        scored = retriever.rank(case.question, k=60, ranking=wide).scored
        out.append(
            (
                [s.passage.doc_id for s in scored],
                [(s.candidate.dense, s.sentence, s.lexical, s.match.score if s.match else 0.0) for s in scored],
            )
        )
    return out


def measure(ranking: Ranking, cases, gathered) -> tuple[float, float]:
    """Hit@1 and MRR@10 (by document, as qa eval counts BEIR relevance) of ``ranking`` on gathered evidence."""
    assert ranking.rerank is not None
    hits, reciprocal = 0, 0.0
    for case, (docs, evidence) in zip(cases, gathered, strict=True):
        first = [ranking.first.score(*e[:3]) for e in evidence]
        token = [ranking.rerank.score(*e) for e in evidence]
        order = stage_order(first, ranking.depth, lambda head, token=token: [token[i] for i in head])
        ranked_docs = list(dict.fromkeys(docs[i] for i in order))[:10]
        rank = next((r for r, d in enumerate(ranked_docs, start=1) if d in case.relevant_docs), None)
        hits += rank == 1
        reciprocal += 1 / rank if rank else 0.0
    return hits / len(cases), reciprocal / len(cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--store", default=None, help="index folder (default: embeddings/eval/<data folder name>)")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--backend", default=DEFAULT_BACKEND)
    args = parser.parse_args()

    documents, cases = load_beir(args.data)
    store = args.store or f"embeddings/eval/{args.data.resolve().name}"
    index_documents(documents, store, args.model, args.backend, show_progress=True)
    retriever = Retriever.open(store, args.data, args.model, args.backend)
    tune, check = cases[0::2], cases[1::2]
    gathered = {id(tune): features(retriever, tune), id(check): features(retriever, check)}

    results = []
    for values in itertools.product(*GRID.values()):
        point = dict(zip(GRID, values, strict=True))
        hit1, mrr = measure(ranking_for(point), tune, gathered[id(tune)])
        results.append((mrr, hit1, point))
        print(f"{point}  Hit@1 {hit1:.3f}  MRR@10 {mrr:.3f}", flush=True)
    best = max(results, key=lambda r: (r[0], r[1]))[2]
    print("\n| ranking | tune Hit@1 | tune MRR@10 | check Hit@1 | check MRR@10 |\n|---|---|---|---|---|")
    for name, ranking in (("default", Ranking()), (f"best {best}", ranking_for(best))):
        cells = [f"{v:.3f}" for half in (tune, check) for v in measure(ranking, half, gathered[id(half)])]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
