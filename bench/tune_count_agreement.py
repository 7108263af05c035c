"""Fit the judge's count agreement: how close a count's words must come to what a "how many" question
counts for the count to answer it ("Une quarantaine de responsables" does not say how many migrants).

Reproduce (from the project root, after ``qa eval ../shared/data/piaf-dev`` built the PIAF index once;
about 2 minutes on two cores):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/tune_count_agreement.py ../shared/data/piaf-train ../shared/data/piaf-dev \
        --english /tmp/piaf-dev-en

Every "how many" question of piaf-train and of the even half of piaf-dev (and of its English gloss, made by
bench/english_gloss.py, when given) is answered twice through the whole pipeline, the judge's count rule
off: as asked, and with what it counts swapped for what another question counts ("Combien d'habitants …"
-> "Combien de soldats …"; the new words not in the relevant passage), which the articles then do not
answer, as SQuAD 2.0 made its unanswerable questions. For each threshold: the share of right answers to the
questions as asked that it keeps, and the share of the swapped questions that it refuses. The threshold
kept (``Judging.count_agreement``, for a question in the language of the passage) is the one with the best
sum of the two on the French fitting questions; the odd half of piaf-dev is measured beside it, never fitted
on. The English gloss is printed for information only: it keeps PIAF's French nouns ("How many hommes …"),
so it says nothing of a count asked in English over a French passage ("officials", "responsables"), whose
threshold (``Judging.count_agreement_unfitted``, also for measures: "le montant", "the budget") no dev data here
can fit.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.evaluation import Case, f1, load_beir  # noqa: E402
from qa.judge import Judging  # noqa: E402
from qa.lexical import fold  # noqa: E402
from qa.question import COUNTED, analyse  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402

THRESHOLDS = [round(0.60 + 0.02 * i, 2) for i in range(19)]  # 0.60 … 0.96
SEED = 13


@dataclass(frozen=True)
class Trial:
    affinity: float | None  # the count's agreement with what is counted; None: no count was given
    right: bool  # the count given answers the question as asked


def count_questions(cases: list[Case]) -> list[Case]:
    """The questions asking how many of something ("Combien de PCR …", "How many officials …"); not those
    asking a measure ("Quel est le taux …"), where another word in its place makes no question."""
    return [c for c in cases if c.answers and counted(c.question)]


def counted(question: str) -> bool:
    asked = analyse(question)
    return asked.expects == "number" and bool(asked.focus) and COUNTED.search(question) is not None


def _stems(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"\w+", fold(text)) if len(w) >= 3}


def swapped(case: Case, passages: dict[str, str], focuses: list[str], rng: random.Random) -> str | None:
    """``case``'s question counting something else: another question's focus, whose words the relevant
    passage does not hold."""
    focus = analyse(case.question).focus
    assert focus is not None
    at = case.question.rfind(focus)
    held = _stems(" ".join(passages.get(d, "") for d in case.relevant_docs))
    for _ in range(30):
        other = rng.choice(focuses)
        question = case.question[:at] + other + case.question[at + len(focus) :]
        if not _stems(other) & (held | _stems(focus)) and counted(question):
            return question
    return None


def trial(retriever: Retriever, question: str, answers: tuple[str, ...]) -> Trial:
    """The first passage's count, as the pipeline reads and judges it, the count rule off."""
    asked = analyse(question)
    ranked = retriever.rank(question, 5, asked=asked)
    ranked, _ = retriever._judge(asked, ranked, None, 0)
    best = ranked.scored[0]
    if best.found is None or best.span is None:
        return Trial(None, False)
    text = best.passage.text[best.span.start : best.span.end]
    right = any(f1(text, a) > 0 and any(n in text for n in re.findall(r"\d+", a)) for a in answers)
    return Trial(best.found.affinity, right or any(a in text for a in answers))


def rates(asked: list[Trial], swaps: list[Trial], threshold: float) -> tuple[float, float]:
    """(right answers kept, swapped questions refused) at ``threshold``."""
    right = [t for t in asked if t.right and t.affinity is not None]
    kept = sum(t.affinity >= threshold for t in right if t.affinity is not None) / max(1, len(right))
    refused = sum(t.affinity is None or t.affinity < threshold for t in swaps) / max(1, len(swaps))
    return kept, refused


def run(retriever: Retriever, cases: list[Case], passages: dict[str, str], rng: random.Random):
    focuses = sorted({f for c in cases if (f := analyse(c.question).focus)})
    asked, swaps = [], []
    for case in cases:
        asked.append(trial(retriever, case.question, case.answers))
        other = swapped(case, passages, focuses, rng)
        if other is not None:
            swaps.append(trial(retriever, other, ()))
    return asked, swaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", type=Path)
    parser.add_argument("dev", type=Path)
    parser.add_argument("--english", type=Path, default=None, help="the English gloss of dev (BEIR folder)")
    parser.add_argument("--store", default="/tmp/new-piaf")
    parser.add_argument("--english-store", default="/tmp/new-piaf-en")
    args = parser.parse_args()
    rng = random.Random(SEED)
    documents, train = load_beir(args.train, "train")
    _, dev = load_beir(args.dev)
    passages = {d.doc_id: d.text for d in documents}
    off = Judging(count_agreement=float("-inf"), count_agreement_unfitted=float("-inf"))
    retriever = replace_judging(Retriever.open(args.store, args.dev), off)
    sets = {
        "French, fitted (train + dev even)": run(retriever, count_questions(train + dev[0::2]), passages, rng),
        "French, checked (dev odd)": run(retriever, count_questions(dev[1::2]), passages, rng),
    }
    if args.english:
        _, gloss = load_beir(args.english)
        english = replace_judging(Retriever.open(args.english_store, args.english), off)
        sets["English, fitted (gloss even)"] = run(english, count_questions(gloss[0::2]), passages, rng)
        sets["English, checked (gloss odd)"] = run(english, count_questions(gloss[1::2]), passages, rng)
    best = max(THRESHOLDS, key=lambda t: (sum(rates(*sets["French, fitted (train + dev even)"], t)), -t))
    print("| threshold | " + " | ".join(f"{name}: kept / refused" for name in sets) + " |")
    print("|---" * (len(sets) + 1) + "|")
    for threshold in THRESHOLDS:
        cells = [
            "{:.3f} / {:.3f}".format(*rates(a, s, threshold))
            for a, s in sets.values()
        ]  # fmt: skip
        mark = " **kept**" if threshold == best else ""
        print(f"| {threshold:.2f}{mark} | " + " | ".join(cells) + " |")
    for name, (a, s) in sets.items():
        right = sum(t.right for t in a)
        print(f"{name}: {len(a)} questions ({right} answered right with the rule off), {len(s)} swapped")
    print(f"kept: {best}")


def replace_judging(retriever: Retriever, judging: Judging) -> Retriever:
    retriever.judging = judging
    return retriever


if __name__ == "__main__":
    main()
