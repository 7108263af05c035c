"""Second-stage scoring of the best passages by token-level matching (late interaction).

A passage vector squeezes a whole passage into one point, so two passages of
the same article often score alike. Here every word piece of the question is
compared with every word piece of the passage (both read by the same model),
each question piece keeps its best match, and the passage scores the weighted
mean: the "MaxSim" of ColBERT, without a second model. Rare pieces weigh more
(inverse document frequency over the indexed passages), as in BM25, so "Liljert"
counts for more than "de".

The few passages that reach this stage are read again at question time (about
50 ms each on 2 cores), so nothing is added to the index; recently read
passages are kept in memory.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .chunking import Passage
from .embedding import DocumentPieces, Embedder, QueryPieces


def late_interaction(similarities: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Weighted mean over question pieces (rows) of their best cosine with a passage piece (columns)."""
    if similarities.size == 0:
        return 0.0
    return float(np.average(similarities.max(axis=1), weights=weights))


@dataclass(frozen=True)
class TokenMatch:
    score: float  # late interaction with the whole passage (title included)
    sentence_scores: np.ndarray  # late interaction with each sentence of the passage alone


class TokenScorer:
    """Late-interaction scores of passages for a question, with a bounded cache of passage tokens."""

    def __init__(self, embedder: Embedder, passages: Sequence[Passage] = (), cache_size: int = 512):
        self.embedder = embedder
        self.cache_size = cache_size
        self._idf = self._piece_idf(passages)
        self._cache: OrderedDict[str, DocumentPieces] = OrderedDict()  # passage text -> its pieces (float16)
        self._lock = threading.Lock()  # the chat answers questions from several threads

    def for_passages(self, passages: Sequence[Passage]) -> TokenScorer:
        """A scorer for another version of the index; it shares this one's cache."""
        scorer = copy.copy(self)
        scorer._idf = self._piece_idf(passages)
        return scorer

    def scores(self, question: QueryPieces, passages: Sequence[Passage]) -> list[TokenMatch]:
        """Late interaction of the question (``Embedder.encode_query_pieces``) with each passage
        and with each of its sentences."""
        if not passages:
            return []
        weights = self._idf[np.minimum(question.ids, len(self._idf) - 1)]
        matches = []
        for passage, pieces in zip(passages, self._passage_pieces(passages)):
            similarities = question.vectors @ pieces.vectors.astype(np.float32).T
            ends = pieces.ends - (len(passage.titled_text) - len(passage.text))  # counted from the text's start
            in_sentence = [(ends > start) & (ends <= end) for start, end in passage.sentences]
            sentence_scores = np.array([late_interaction(similarities[:, inside], weights) for inside in in_sentence])
            matches.append(TokenMatch(late_interaction(similarities, weights), sentence_scores))
        return matches

    def _piece_idf(self, passages: Sequence[Passage]) -> np.ndarray:
        """log((N + 1) / (df + 0.5)) for every token id; the last slot serves ids beyond the vocabulary."""
        size = len(self.embedder.model.tokenizer) + 1
        frequency = np.zeros(size, dtype=np.float32)
        for ids in self.embedder.word_pieces([p.titled_text for p in passages]):
            frequency[np.unique(np.minimum(ids, size - 1))] += 1
        return np.log((len(passages) + 1) / (frequency + 0.5))

    def _passage_pieces(self, passages: Sequence[Passage]) -> list[DocumentPieces]:
        # The same text as the passage vector (title + passage), so the title's words count too.
        texts = [p.titled_text for p in passages]
        with self._lock:
            found = {text: self._cache[text] for text in texts if text in self._cache}
            for text in found:
                self._cache.move_to_end(text)
        missing = list(dict.fromkeys(text for text in texts if text not in found))
        fresh = self.embedder.encode_document_tokens(missing)
        with self._lock:
            for text, pieces in zip(missing, fresh):
                found[text] = self._cache[text] = pieces._replace(vectors=pieces.vectors.astype(np.float16))
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return [found[text] for text in texts]
