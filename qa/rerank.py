"""Second-stage scoring of the best passages by token-level matching (late interaction).

A passage vector squeezes a whole passage into one point, so two passages of
the same article often score alike. Here every word piece of the question is
compared with every word piece of the passage (both read by the same model),
each question piece keeps its best match, and the passage scores the weighted
mean: the "MaxSim" of ColBERT, without a second model. Rare pieces weigh more
(inverse document frequency over the indexed passages), as in BM25, so
"Liljert" counts for more than "de".

The passage pieces were stored when the passage was embedded, so reranking costs
no model pass at question time. Stored in a compact format (qa.store.piece_formats,
16 bytes a piece), they still rank well, but their cosines are not the model's:
those that answer come out lower, unrelated ones higher, and the reader's and the
judge's thresholds were set on the model's. So the best few passages are read
again by the model (:func:`sharpen`), which costs about 20 ms a passage on 2 cores.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .chunking import Passage
from .embed import Pieces
from .ranking import Weights
from .search import Scored, best_sentence
from .store import EncodedPassage


def late_interaction(similarities: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Weighted mean over question pieces (rows) of their best cosine with a passage piece (columns)."""
    if similarities.size == 0:
        return 0.0
    return float(np.average(similarities.max(axis=1), weights=weights))


@dataclass(frozen=True)
class TokenMatch:
    score: float  # late interaction with the whole passage (title included)
    sentence_scores: np.ndarray  # late interaction with each sentence of the passage alone
    similarities: np.ndarray  # (question pieces, passage pieces) cosines
    weights: np.ndarray  # IDF of each question piece
    ends: np.ndarray  # where each passage piece ends, counted from the start of the passage text
    pieces: Pieces  # the passage's stored pieces, as read from the store


def piece_weights(question: Pieces, idf: np.ndarray) -> np.ndarray:
    return idf[np.minimum(question.ids, len(idf) - 1)]


def token_matches(
    question: Pieces, passages: Sequence[Passage], pieces: Sequence[Pieces], idf: np.ndarray
) -> list[TokenMatch]:
    """Late interaction of the question with each passage and with each of its sentences."""
    weights = piece_weights(question, idf)
    matches = []
    for passage, stored in zip(passages, pieces, strict=True):
        similarities = question.vectors @ stored.vectors.T
        ends = stored.ends - (len(passage.titled_text) - len(passage.text))  # counted from the text's start
        in_sentence = [(ends > start) & (ends <= end) for start, end in passage.sentences]
        sentence_scores = np.array([late_interaction(similarities[:, inside], weights) for inside in in_sentence])
        matches.append(
            TokenMatch(late_interaction(similarities, weights), sentence_scores, similarities, weights, ends, stored)
        )
    return matches


def rerank(
    head: list[Scored], question: Pieces, pieces: Sequence[Pieces], idf: np.ndarray, weights: Weights
) -> list[Scored]:
    """``head`` scored again with token-level matching (``pieces``: each passage's stored word pieces), in
    the order given (qa.ranking.stage_order puts them in order); each passage's answer sentence becomes
    the one best matched by both its vector and its pieces."""
    matches = token_matches(question, [s.passage for s in head], pieces, idf)
    rescored = []
    for scored, match in zip(head, matches, strict=True):
        best = scored.best_sentence
        if len(match.sentence_scores) and len(match.sentence_scores) == len(scored.sentence_cosines):
            best = int(np.argmax(scored.sentence_cosines + match.sentence_scores))
        score = weights.score(scored.candidate.dense, scored.sentence, scored.lexical, match.score)
        rescored.append(dataclasses.replace(scored, best_sentence=best, score=score, match=match))
    return rescored


def sharpen(
    head: list[Scored], reread: dict[int, EncodedPassage], question: Pieces, query: np.ndarray, idf: np.ndarray,
    weights: Weights,
) -> list[Scored]:  # fmt: skip
    """``head`` (reranked on coarse pieces) with the passages at the positions of ``reread`` (read again by
    the model at question time) scored again on the model's own pieces and sentence vectors, best first.
    The others keep their coarse evidence, with their late interaction moved by the mean change of those
    read again, so that the two kinds of score compare: decoded pieces rate unrelated passages higher than
    the model does."""
    if not reread:
        return head
    positions = sorted(reread)
    fresh = [_with_sentences(head[n], reread[n].sentence_vectors @ query) for n in positions]
    rescored = rerank(fresh, question, [reread[n].pieces for n in positions], idf, weights)
    again = dict(zip(positions, rescored, strict=True))
    shift = float(np.mean([_token_score(again[n]) - _token_score(head[n]) for n in positions]))
    out = [again[n] if n in again else _shifted(s, shift, weights) for n, s in enumerate(head)]
    return sorted(out, key=lambda s: -s.score)


def _token_score(scored: Scored) -> float:
    assert scored.match is not None
    return scored.match.score


def _with_sentences(scored: Scored, cosines: np.ndarray) -> Scored:
    best, sentence = best_sentence(cosines, scored.candidate.dense)
    return dataclasses.replace(scored, sentence_cosines=cosines, sentence=sentence, best_sentence=best)


def _shifted(scored: Scored, shift: float, weights: Weights) -> Scored:
    match = scored.match
    if match is None or not match.pieces.coarse:
        return scored
    moved = dataclasses.replace(match, score=match.score + shift, sentence_scores=match.sentence_scores + shift)
    score = weights.score(scored.candidate.dense, scored.sentence, scored.lexical, moved.score)
    return dataclasses.replace(scored, match=moved, score=score)
