"""The first stage: dense and keyword search, fused into one score per candidate passage.

Every later stage works on the best few of this list (:class:`Scored`), adding its own evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .chunking import Passage
from .ingest.dates import DateRange
from .ranking import Weights
from .spans import Span
from .store import Candidate, Manifest, StoreReader, passage_key

if TYPE_CHECKING:  # the stages that fill these in import this module
    from .reader_model import Reading
    from .rerank import TokenMatch
    from .rule_reader import Found


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
    reading: Reading | None = None  # set by the reader stage: what the reader model read
    found: Found | None = None  # set by the reader stage: what the rule reader found
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

    @property
    def answering_sentence(self) -> str:
        passage = self.passage
        if not passage.sentences:
            return passage.text
        start, end = passage.sentences[self.best_sentence]
        return passage.text[start:end]


# A date range of at most this many passages has them all scored; a wider one widens the search instead.
DATED_SCORED_WHOLE = 2_000


def first_stage(
    reader: StoreReader, question: str, query: np.ndarray, n: int, weights: Weights, dates: DateRange | None = None
) -> list[Scored]:
    """Up to ``n`` dense and ``n`` keyword candidates, each scored from its vectors and keywords, best first.

    ``dates``: only passages of the articles dated in that range, and the best of them: a range of few
    passages has them all scored; in a wider one, both searches go as far as they must to find about ``n``
    of them (``n`` divided by the range's share of the passages), and the others are dropped."""
    within = dated_passages(reader.manifest, dates) if dates is not None else None
    if within is not None and not within:
        return []
    wanted = n if within is None else min(len(reader), math.ceil(n * len(reader) / len(within)))
    lexical: dict[int, float] = {}
    if weights.lexical:
        keywords = reader.keyword_search(question, wanted)
        lexical = dict(zip(keywords.keys.tolist(), keywords.scores.tolist(), strict=True))
        if within is not None:
            lexical = {key: score for key, score in lexical.items() if key in within}
    dense = wanted if weights.dense or weights.sentence else 0
    also = list(lexical)
    if within is not None and len(within) <= DATED_SCORED_WHOLE:
        dense, also = 0, sorted(within)
    scored = []
    for candidate in reader.search(query, dense, also=also):
        if within is not None and candidate.key not in within:
            continue
        cosines = candidate.sentence_vectors @ query
        best, sentence = best_sentence(cosines, candidate.dense)
        keyword = lexical.get(candidate.key, 0.0)
        score = weights.score(candidate.dense, sentence, keyword)
        scored.append(Scored(candidate, score, sentence, keyword, cosines, best))
    return sorted(scored, key=lambda s: -s.score)


def best_sentence(cosines: np.ndarray, whole: float) -> tuple[int, float]:
    """The sentence most like the question and its cosine; for a passage without sentences, ``whole``, the
    passage's own cosine."""
    if not len(cosines):
        return 0, whole
    best = int(np.argmax(cosines))
    return best, float(cosines[best])


def dated_passages(manifest: Manifest, dates: DateRange) -> set[int]:
    """The keys of the passages of the articles dated in ``dates`` (an article without a date is in no range)."""
    entries = manifest.documents.values()
    return {passage_key(pid) for entry in entries if dates.holds(entry.date) for pid in entry.passage_ids}
