"""Fit the weights of the phrase scorer (qa/phrases.py) on one half of a BEIR question set, check them on the other.

Reproduce (from the project root; the PIAF index is built on first use, then reused):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_phrases.py ../shared/data/piaf-dev

Questions at even positions form the fitting half, odd ones the check half. For each question the
default ranking runs; the first of its passages that holds an expected answer gives the sentence
holding it, and every candidate phrase of that sentence is described (``phrase_facts``) and scored
by F1 against the expected answers. A logistic regression learns which phrase is the best one of
its sentence. Each fitting question is seen twice, once without the facts that compare letters
with the question: an English question over a French article shares no letters with it, and the
scorer must then lean on the model's word pieces. Its regularisation is chosen by 4-fold
cross-validation inside the fitting half. Prints, for both halves (the sentence holding the answer
given), the mean F1 of the chosen phrase, of the best phrase there is and of the sentence itself,
then writes qa/phrase_weights.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.embed import DEFAULT_BACKEND, DEFAULT_MODEL  # noqa: E402
from qa.evaluation import f1, load_beir  # noqa: E402
from qa.indexer import index_documents  # noqa: E402
from qa.phrases import WEIGHTS, phrase_facts  # noqa: E402
from qa.question import analyse  # noqa: E402
from qa.rerank import match_strength  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402

C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
LETTER_FACTS = ("repeats=", "letters_", "governor_asked", "child_asked")


def gather(retriever: Retriever, cases) -> list[tuple[list[tuple[dict[str, float], float]], float]]:
    """Per question whose answer is in a retrieved passage: (facts, F1) of each candidate phrase of
    the sentence holding the answer, and the F1 of that sentence itself."""
    out = []
    for case in cases:
        for scored in retriever.rank(case.question, k=10).scored:
            text = scored.passage.text
            where = next((text.find(a) for a in case.answers if a and a in text), -1)
            if where < 0:
                continue
            start, end = next(((s, e) for s, e in scored.passage.sentences if s <= where < e), (0, len(text)))
            strength = match_strength(scored.match, len(text)) if scored.match is not None else None
            kind = analyse(case.question).expects
            rows = [
                (facts, max(f1(text[a:b], answer) for answer in case.answers))
                for a, b, facts in phrase_facts(case.question, kind, text, start, end, strength)
            ]
            if rows:
                out.append((rows, max(f1(text[start:end], answer) for answer in case.answers)))
            break
    return out


def without_letters(facts: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in facts.items() if not any(f in k for f in LETTER_FACTS)}


def blind(questions):
    """The questions as an English question over French text sees them: no letters compared."""
    return [([(without_letters(facts), f) for facts, f in rows], sentence) for rows, sentence in questions]


def score(weights: dict[str, float], facts: dict[str, float]) -> float:
    return sum(weights.get(k, 0.0) * v for k, v in facts.items())


def chosen(weights: dict[str, float], questions) -> list[tuple[float, float, float]]:
    """Per question: the F1 of the phrase the weights choose, of the best phrase, of the sentence."""
    out = []
    for rows, sentence in questions:
        best = int(np.argmax([score(weights, facts) for facts, _ in rows]))
        out.append((rows[best][1], max(f for _, f in rows), sentence))
    return out


def fitted(questions, c: float) -> dict[str, float]:
    """Weights of a logistic regression telling each question's best phrase from the others."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    examples = [(facts, f, max(s for _, s in rows)) for rows, _ in questions for facts, f in rows]
    facts = [f for f, _, _ in examples] + [without_letters(f) for f, _, _ in examples]
    labels = [int(f == best and best > 0.5) for _, f, best in examples] * 2
    vectorizer = DictVectorizer()
    model = LogisticRegression(C=c, max_iter=5000).fit(vectorizer.fit_transform(facts), labels)
    weights = dict(zip(vectorizer.get_feature_names_out().tolist(), model.coef_[0].tolist(), strict=True))
    return {name: round(value, 3) for name, value in weights.items() if round(value, 3)}  # the rest weigh nothing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--store", default=None, help="index folder (default: embeddings/eval/<data folder name>)")
    parser.add_argument("--c", type=float, default=None, help="inverse regularisation (default: cross-validated)")
    args = parser.parse_args()

    documents, cases = load_beir(args.data)
    store = args.store or f"embeddings/eval/{args.data.resolve().name}"
    index_documents(documents, store, DEFAULT_MODEL, DEFAULT_BACKEND, show_progress=True)
    retriever = Retriever.open(store, args.data, build_if_missing=False)
    fit, check = gather(retriever, cases[0::2]), gather(retriever, cases[1::2])
    # Regularisation by 4-fold cross-validation inside the fitting half (weights flatter their own half).
    folds = {}
    for c in C_GRID if args.c is None else (args.c,):
        folds[c] = [
            result
            for i in range(4)
            for result in chosen(fitted([q for j, q in enumerate(fit) if j % 4 != i], c), fit[i::4])
        ]
    print(
        "cross-validated F1 of the chosen phrase by C:",
        {c: round(float(np.mean([r[0] for r in rs])), 3) for c, rs in folds.items()},
    )
    c = max(folds, key=lambda c: np.mean([r[0] for r in folds[c]]))
    print(f"C {c}")
    weights = fitted(fit, c)

    print("| half | questions | phrase chosen | best phrase there is | sentence |\n|---|---|---|---|---|")
    for name, half in (("fit", fit), ("check", check)):
        for label, data in ((name, half), (f"{name}, no letters compared", blind(half))):
            results = chosen(weights, data)
            figures = [np.mean([r[i] for r in results]) for i in range(3)]
            print(f"| {label} | {len(data)} | " + " | ".join(f"{v:.3f}" for v in figures) + " |")
    WEIGHTS.write_text(
        json.dumps(
            {"fitted_on": f"{args.data.name}, even questions", "c": c, "weights": weights},
            indent=0,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {WEIGHTS}")


if __name__ == "__main__":
    main()
