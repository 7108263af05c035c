"""BM25 keyword search with French-aware tokens (bm25s + Snowball stemming).

Tokens are lower-cased, accent-folded and stemmed, and French and English stop
words are dropped, so "frontières" matches "frontiere" and "Liljert" matches
"Liljert" whatever the language of the question.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)
_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)'", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower-case and strip accents (é → e, œ → oe); typographic apostrophes become '."""
    text = text.replace("’", "'").replace("œ", "oe").replace("Œ", "OE").lower()
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


@functools.cache
def _stop_words() -> frozenset[str]:
    return frozenset(fold(w) for w in (*STOPWORDS_FRENCH, *STOPWORDS_EN))


@functools.cache
def _stemmer():
    return Stemmer.Stemmer("french")


def tokenize(text: str) -> list[str]:
    stop = _stop_words()
    words = []
    for match in _WORD.finditer(fold(text)):
        for word in _ELISION.sub("", match.group()).split("-"):
            if word and word not in stop and (len(word) > 1 or word.isdigit()):
                words.append(word)
    return _stemmer().stemWords(words)


class LexicalIndex:
    """BM25 over passage texts; built in memory when an index is loaded."""

    def __init__(self, texts: Sequence[str]):
        self.size = len(texts)
        self._bm25 = bm25s.BM25()
        corpus = [tokenize(t) or ["∅"] for t in texts]
        if corpus:
            self._bm25.index(corpus, show_progress=False)

    def relative_scores(self, question: str) -> np.ndarray:
        """BM25 of every passage divided by the best one, times the question's coverage
        (the share of its words that occur in the indexed texts); zeros when no word matches.

        Coverage keeps an English question over French text, which matches few
        words, from letting one shared name or number decide the ranking.
        """
        scores = np.zeros(self.size, dtype=np.float32)
        tokens = tokenize(question)
        vocab = self._bm25.vocab_dict if self.size else {}
        known = [t for t in tokens if t in vocab]
        if not known:
            return scores
        scores[:] = self._bm25.get_scores(known)
        best = scores.max()
        return scores / best * (len(known) / len(tokens)) if best > 0 else scores
