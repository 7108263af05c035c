"""How passages are ranked: the weights of each stage, and the stages that qa eval compares."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .question import Question


@dataclass(frozen=True)
class Weights:
    """How one stage weighs the evidence about a passage. Its score is

        (dense * cos(question, passage) + sentence * max cos(question, its sentences)
         + token * late interaction (qa.rerank) + lexical * coverage * BM25 / best BM25)
        / (dense + sentence + token)

    where coverage is the share of the question's words found in the corpus
    vocabulary: an English question over French text matches few words, so its
    keyword evidence counts for little by itself. Dividing by the model-based
    weights keeps scores on the cosine scale.
    """

    dense: float = 0.0
    sentence: float = 0.0
    lexical: float = 0.0
    token: float = 0.0

    def score(self, dense: float, sentence: float, lexical: float, token: float = 0.0) -> float:
        total = self.dense * dense + self.sentence * sentence + self.token * token + self.lexical * lexical
        return total / ((self.dense + self.sentence + self.token) or 1.0)


@dataclass(frozen=True)
class ReadWeights:
    """How the reader model's findings weigh in (qa.read). On the even half of PIAF dev an ``answers`` weight
    of 0.02 ranks best (bench/tune_reader.py), but on press releases it ranks worse (seed questions Hit@1
    0.873 -> 0.800): off by default, see docs/quality.md."""

    answers: float = 0.0  # weight of its "answers" logit, added to the score so far
    # Questions of a kind (a person, a date, a number…) in these languages get the model's choice among the
    # spans of that kind in the best passage (contact questions keep the rule reader's): on the even half of
    # PIAF dev it raises F1 from 0.373 to 0.383, and asked in an English gloss from 0.372 to 0.381. The model
    # saw French questions and their English gloss only; in other languages the rule reader's span stays
    # (docs/quality.md).
    picks_typed: tuple[str, ...] = ("fr", "en")
    # ... unless its own best words there score this much more (start plus end logits) than that span:
    # they answer instead ("Qui commandite le meurtre ?" → "Voldemort", not the person named beside the
    # question's words). Chosen on the fit half of the press-release dev set (bench/tune_own_words.py).
    # Not for what belongs to a person (an email, a phone, a position), which the rule reader ties to them,
    # nor for a count, whose words the judge checks against what is counted, nor for a person asked by role
    # (who holds one, who spoke on behalf of someone), whose role in the sentence the rule reader checks.
    own_words_margin: float = 6.0
    # An open question (what, why, how) is answered in the model's words. With ``open_answers``, the model
    # reads its best ``open_depth`` passages and its "answers" logit weighs in beside their scores, which
    # chooses the passage the words come from. On PIAF dev the even half chooses 0.02 over 5 passages
    # (bench/tune_open_reading.py: F1 of open questions 0.546 -> 0.594, odd half 0.390 -> 0.395), but on
    # press releases it reads worse (seed questions Answer@1 0.655 -> 0.636): off by default.
    open_answers: float = 0.0
    open_depth: int = 5
    every: bool = False  # the model reads every passage of the head even when its score weighs nothing (tuning)

    def answers_weight(self, question: Question) -> float:
        """The weight of the model's "answers" logit beside a passage's score, for this question."""
        return self.open_answers if question.open and self.open_answers else self.answers

    def depth_read(self, question: Question) -> int:
        """How many of the best passages the model reads for the words of ``question`` (the first only,
        unless it is an open question whose passages its score reorders)."""
        return self.open_depth if question.open and self.open_answers else 1

    def model_reads(self, question: Question) -> bool:
        """Whether the model reads the best passage for its words (an open question, or one it picks for)."""
        return question.open or (question.lang in self.picks_typed and not question.contact)


@dataclass(frozen=True)
class Ranking:
    """The stages: a cheap score for every candidate (qa.search), token-level reranking of the best few
    (qa.rerank), then the reader model, which reads them with the question (qa.read). Weights chosen on
    PIAF dev (docs/quality.md)."""

    first: Weights = Weights(dense=1.0, sentence=1.0, lexical=0.1)
    rerank: Weights | None = Weights(sentence=0.5, lexical=0.06, token=2.0)
    read: ReadWeights | None = ReadWeights()
    depth: int = 8  # passages reranked and read (at least the k asked for)
    # the best passages whose stored pieces are coarse (a compact format) that the model reads again before
    # they are read for their words (qa.rerank.sharpen): as many as the judge may put first (NAMED_DEPTH in
    # qa.retrieval). On the fit halves, 5 keeps int8's figures where 3 loses 0.6 point of MRR@10 on the
    # English gloss of PIAF dev and 2 of 28 refusals on press releases (docs/benchmarks.md).
    sharpened: int = 5
    candidates: int = 30  # passages from each of dense and keyword search scored by ``first``


def stage_order(first: Sequence[float], depth: int, second: Callable[[list[int]], Sequence[float]] | None) -> list[int]:
    """Candidate positions, best first, as the stages leave them: all by their ``first`` score, then the
    best ``depth`` of those again by ``second``, which scores only them (given their positions), as
    reranking does; the rest keep the first stage's order below them. Ties keep the earlier order."""
    by_first = sorted(range(len(first)), key=lambda i: -first[i])
    head, tail = by_first[:depth], by_first[depth:]
    if second is None or not head:
        return by_first
    again = second(head)
    return [head[j] for j in sorted(range(len(head)), key=lambda j: -again[j])] + tail


# The stages reported in docs/quality.md; "default" is what the product uses.
RANKING_STAGES = {
    "dense": Ranking(first=Weights(dense=1.0), rerank=None, read=None),
    "bm25": Ranking(first=Weights(lexical=1.0), rerank=None, read=None),
    "hybrid": Ranking(first=Weights(dense=1.0, lexical=0.1), rerank=None, read=None),
    "sentences": Ranking(rerank=None, read=None),
    "reranked": Ranking(read=None),
    "read": Ranking(rerank=None),
    "typed-by-rules": Ranking(read=ReadWeights(picks_typed=())),
    "typed-by-model": Ranking(read=ReadWeights(picks_typed=("fr", "en", "de", "es"))),
    "default": Ranking(),
}
