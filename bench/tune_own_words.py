"""Choose when a question of a kind gets the reader model's own words rather than the span of that kind it
scores best (``ReadWeights.own_words_margin``); report every question set side by side.

Reproduce (from the project root, after ``qa eval ../shared/data/piaf-dev`` built the PIAF index once):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/tune_own_words.py ../shared/data/piaf-dev

For a question of a kind (who, when, how many…) the model chooses among the rule reader's spans of that
kind in the best passage (qa.read). Its own best words there may score higher than any of them: by how
much must they, to be the answer instead? Each question is answered once with the margin off; the grid
then replaces the chosen span by the model's words where they score at least ``margin`` more (start plus
end logits), and scores F1 and Answer@1 (0 when the judge refuses).

The margin is chosen on the fit half of the press-release dev set (``eval/press_dev_questions.jsonl``,
questions ``d1-…`` and ``d2-…``, about articles 210–226): the model never saw those questions. The even
half of PIAF dev only breaks ties: the model was fitted on it, so it trusts the model more than unseen
questions would. The check sets are printed beside: the odd half of PIAF dev, the press-release dev
set's check half (``d3-…``, ``d4-…``) and the seed questions.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import qa.retrieval as retrieval  # noqa: E402
from qa.evaluation import Case, answer_at_1, f1, history_of, load_beir, load_questions, short_text  # noqa: E402
from qa.question import analyse  # noqa: E402
from qa.ranking import Ranking, ReadWeights  # noqa: E402

MARGINS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, float("inf")]
OFF = replace(Ranking(), read=ReadWeights(own_words_margin=float("inf")))
FIT_PREFIXES = ("d1-", "d2-")


@dataclass(frozen=True)
class Reply:
    """One question answered with the margin off: the figures of its reply, and of the model's own words."""

    f1: float
    answer_at_1: float
    own_f1: float | None = None  # None: the reply cannot take the model's words (open, refused, owned…)
    own_answer_at_1: float = 0.0
    margin: float = float("inf")  # how much more the model's words score than the chosen span


def figures(text: str, case: Case) -> tuple[float, float]:
    return max(f1(text, a) for a in case.answers), float(answer_at_1(text, case.answers))


def gather(retriever: retrieval.Retriever, cases: list[Case]) -> list[Reply]:
    first_read = {}
    judge = retrieval.judge

    def spy(question, score, reading, *args, **kwargs):
        first_read.setdefault("reading", reading)  # the best passage's (recency may judge others after)
        return judge(question, score, reading, *args, **kwargs)

    retrieval.judge = spy
    by_id = {c.qid: c for c in cases}
    replies = []
    try:
        for case in cases:
            first_read.clear()
            answer = retriever.answer(case.question, history=history_of(case, by_id), ranking=OFF)
            asked, reading, short = analyse(case.question), first_read.get("reading"), answer.short_answer
            if not answer.found:
                replies.append(Reply(0.0, 0.0))
                continue
            shown = figures(short_text(answer), case)
            own_words = reading is not None and reading.has_span and short is not None and short.hit_rank == 1
            if asked.open or asked.owned or asked.focus or asked.contact or not own_words:
                replies.append(Reply(*shown))
                continue
            assert reading is not None and short is not None
            text = answer.hits[0].text
            at = text.find(short.text)
            chosen = reading.best_within(at, at + len(short.text)) if at >= 0 else float("-inf")
            own = figures(text[reading.start : reading.end], case)
            replies.append(Reply(*shown, *own, reading.span_score - chosen))
    finally:
        retrieval.judge = judge
    return replies


def mean(replies: list[Reply], margin: float, measure: str) -> float:
    total = 0.0
    for r in replies:
        own = r.own_f1 is not None and r.margin > margin
        if measure == "f1":
            total += r.own_f1 if own and r.own_f1 is not None else r.f1
        else:
            total += r.own_answer_at_1 if own else r.answer_at_1
    return total / max(len(replies), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("piaf", type=Path, help="the PIAF dev BEIR folder: ../shared/data/piaf-dev")
    parser.add_argument("--piaf-store", default=None, help="its index (default: embeddings/eval/<folder name>)")
    parser.add_argument("--press-store", default="embeddings/eval/press-dev", help="the press-release dev index")
    args = parser.parse_args()
    from qa.indexer import update_index

    _, piaf_cases = load_beir(args.piaf)
    piaf = retrieval.Retriever.open(args.piaf_store or f"embeddings/eval/{args.piaf.resolve().name}", args.piaf)
    update_index(Path("eval/press-dev"), args.press_store)
    press = retrieval.Retriever.open(args.press_store, Path("eval/press-dev"))
    seeds = retrieval.Retriever.open("embeddings", Path("corpus"))
    press_cases = load_questions(Path("eval/press_dev_questions.jsonl"))
    sets = {
        "press fit": (press, [c for c in press_cases if c.qid.startswith(FIT_PREFIXES)]),
        "PIAF even": (piaf, piaf_cases[0::2]),
        "press check": (press, [c for c in press_cases if not c.qid.startswith(FIT_PREFIXES)]),
        "PIAF odd": (piaf, piaf_cases[1::2]),
        "seeds": (seeds, load_questions(Path("eval/seed_questions.jsonl"))),
    }
    gathered = {}
    for name, (retriever, cases) in sets.items():
        gathered[name] = gather(retriever, cases)
        print(f"{name}: {len(cases)} questions", file=sys.stderr, flush=True)
    print("| margin | " + " | ".join(f"{n} F1 / Answer@1" for n in sets) + " |")
    print("|---" * (len(sets) + 1) + "|")
    for margin in MARGINS:
        cells = [f"{mean(g, margin, 'f1'):.3f} / {mean(g, margin, 'a1'):.3f}" for g in gathered.values()]
        print(f"| {margin} | " + " | ".join(cells) + " |", flush=True)
    fit = gathered["press fit"]
    best = max(
        MARGINS,
        key=lambda m: (round(mean(fit, m, "f1") + mean(fit, m, "a1"), 6), mean(gathered["PIAF even"], m, "f1")),
    )
    print(f"\nchosen on the press-release fit half (ties: PIAF even): own_words_margin={best}")


if __name__ == "__main__":
    main()
