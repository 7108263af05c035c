"""The first stage: dense and keyword search, fused into one score per candidate passage.

Every later stage works on the best few of this list (:class:`Scored`), adding its own evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .chunking import Passage
from .ranking import Weights
from .spans import Span
from .store import Candidate, StoreReader

if TYPE_CHECKING:  # the stages that fill these in import this module
    from .reader_model import Reading
    from .rerank import TokenMatch


@dataclass(frozen=True)
class Scored:
    """A candidate passage on its way through the stages, with the evidence gathered so far."""

    candidate: Candidate
    score: float
    sentence: float  # best cosine of question and one of the passage's sentences
    lexical: float  # relative BM25 times coverage
    sentence_cosines: np.ndarray
    best_sentence: int  # index of the answer sentence in the passage
    match: TokenMatch | None = None  # set by reranking
    reading: Reading | None = None  # set by the reader
    span: Span | None = None  # the short answer in this passage, set by the reader
    searched_score: float | None = None  # the score before the reader weighed in (None: not read)

    @property
    def sentence_relevance(self) -> np.ndarray:
        """How well each sentence matches the question: its cosine, and its token match when reranked."""
        if self.match is not None and len(self.match.sentence_scores) == len(self.sentence_cosines):
            return (self.sentence_cosines + self.match.sentence_scores) / 2
        return self.sentence_cosines

    @property
    def passage(self) -> Passage:
        return self.candidate.passage


def first_stage(reader: StoreReader, question: str, query: np.ndarray, n: int, weights: Weights) -> list[Scored]:
    """Up to ``n`` dense and ``n`` keyword candidates, each scored from its vectors and keywords, best first."""
    lexical: dict[int, float] = {}
    if weights.lexical:
        keywords = reader.keyword_search(question, n)
        lexical = dict(zip(keywords.keys.tolist(), keywords.scores.tolist(), strict=True))
    scored = []
    for candidate in reader.search(query, n if weights.dense or weights.sentence else 0, also=list(lexical)):
        cosines = candidate.sentence_vectors @ query
        best = int(np.argmax(cosines)) if len(cosines) else 0
        sentence = float(cosines[best]) if len(cosines) else candidate.dense
        keyword = lexical.get(candidate.key, 0.0)
        score = weights.score(candidate.dense, sentence, keyword)
        scored.append(Scored(candidate, score, sentence, keyword, cosines, best))
    return sorted(scored, key=lambda s: -s.score)
