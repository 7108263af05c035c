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

    def coverage(self, question: str) -> float:
        """Share of the question's words that occur in the indexed texts."""
        tokens = tokenize(question)
        if not tokens or not self.size:
            return 0.0
        return sum(t in self._bm25.vocab_dict for t in tokens) / len(tokens)

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage for ``question`` (zeros when no word matches)."""
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        vocab = self._bm25.vocab_dict
        tokens = [t for t in tokenize(question) if t in vocab]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
