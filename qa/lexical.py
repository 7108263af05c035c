"""BM25 keyword search with French-aware tokens, kept in parts that can be stored and combined.

Tokens are lower-cased, accent-folded and stemmed (Snowball French), and
French and English stop words are dropped, so "frontières" matches
"frontiere" and "Liljert" matches "Liljert" whatever the language of the
question.

Term counts are stored per group of passages (:class:`TermCounts`, one per
store segment); :class:`BM25` combines the live passages of several groups
when an index is opened, so adding one article never recounts the others.
Scores follow Lucene's BM25 (k1 = 1.5, b = 0.75).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH
from scipy import sparse

K1, B = 1.5, 0.75

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)
_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)'", re.IGNORECASE)


# Every combining mark of the Basic Multilingual Plane, removed after decomposition (é = e + ´).
_COMBINING = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in range(0x300, 0x10000) if unicodedata.combining(chr(c))) + "]"
)


def fold(text: str) -> str:
    """Lower-case and strip accents (é → e, œ → oe); typographic apostrophes become '."""
    text = text.replace("’", "'").replace("œ", "oe").replace("Œ", "OE").lower()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


@functools.cache
def _stop_words() -> frozenset[str]:
    return frozenset(fold(w) for w in (*STOPWORDS_FRENCH, *STOPWORDS_EN))


@functools.cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("french")


def tokenize(text: str) -> list[str]:
    stop = _stop_words()
    words = []
    for match in _WORD.finditer(fold(text)):
        for word in _ELISION.sub("", match.group()).split("-"):
            if word and word not in stop and (len(word) > 1 or word.isdigit()):
                words.append(word)
    return _stemmer().stemWords(words)


@dataclass(frozen=True)
class TermCounts:
    """How often each term occurs in each passage of a group (rows follow the group's passages)."""

    terms: tuple[str, ...]  # sorted
    counts: sparse.csc_matrix  # (passages, terms)
    lengths: np.ndarray  # (passages,) tokens per passage

    @classmethod
    def of(cls, texts: Sequence[str]) -> TermCounts:
        tokenized = [tokenize(t) for t in texts]
        terms = tuple(sorted({w for words in tokenized for w in words}))
        column = {t: i for i, t in enumerate(terms)}
        rows = np.repeat(np.arange(len(texts)), [len(w) for w in tokenized])
        cols = np.fromiter((column[w] for words in tokenized for w in words), dtype=np.int64, count=len(rows))
        counts = sparse.csc_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(texts), len(terms)))
        counts.sum_duplicates()
        return cls(terms, counts, np.array([len(w) for w in tokenized], dtype=np.float32))

    def save(self, path: Path | IO[bytes]) -> None:
        """To a file, or a binary stream (the database store keeps the bytes)."""
        with open(path, "wb") if isinstance(path, str | Path) else nullcontext(path) as f:
            np.savez(
                f,
                terms=np.frombuffer("\n".join(self.terms).encode("utf-8"), dtype=np.uint8),
                data=self.counts.data,
                indices=self.counts.indices,
                indptr=self.counts.indptr,
                shape=np.array(self.counts.shape),
                lengths=self.lengths,
            )

    @classmethod
    def load(cls, path: Path | IO[bytes]) -> TermCounts:
        with np.load(path, allow_pickle=False) as z:
            text = z["terms"].tobytes().decode("utf-8")
            counts = sparse.csc_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
            return cls(tuple(text.split("\n")) if text else (), counts, z["lengths"])


class BM25:
    """BM25 over the live passages of several :class:`TermCounts` groups."""

    def __init__(self, groups: Sequence[tuple[TermCounts, np.ndarray, np.ndarray]]):
        """``groups``: (counts, live rows, the passage keys of those rows)."""
        self._groups = []
        frequency: dict[str, int] = {}
        total_length, self.size = 0.0, 0
        for counts, rows, keys in groups:
            live = counts.counts[rows]  # (live passages, terms), still by column
            present = np.diff((live > 0).tocsc().indptr)  # passages holding each term
            for term, n in zip(counts.terms, present.tolist(), strict=True):
                if n:
                    frequency[term] = frequency.get(term, 0) + n
            self._groups.append((counts.terms, live.tocsc(), counts.lengths[rows], np.asarray(keys, dtype=np.int64)))
            total_length += float(counts.lengths[rows].sum())
            self.size += len(rows)
        self._frequency = frequency
        self._average_length = total_length / self.size if self.size else 1.0

    def idf(self, term: str) -> float:
        n = self._frequency.get(term, 0)
        return float(np.log(1 + (self.size - n + 0.5) / (n + 0.5)))

    def scores(self, question: str) -> tuple[np.ndarray, np.ndarray, float]:
        """(keys, BM25 scores) of the passages holding a word of ``question``, and its coverage:
        the share of its words found in the indexed texts."""
        tokens = tokenize(question)
        known = [t for t in tokens if t in self._frequency]
        if not known:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), 0.0
        keys, scores = [], []
        for terms, counts, lengths, group_keys in self._groups:
            norm = K1 * (1 - B + B * lengths / self._average_length)
            total = np.zeros(len(group_keys), dtype=np.float32)
            for term in known:  # a word asked twice counts twice, as in bm25s
                col = _position(terms, term)
                if col < 0:
                    continue
                start, end = counts.indptr[col], counts.indptr[col + 1]
                rows, tf = counts.indices[start:end], counts.data[start:end]
                total[rows] += self.idf(term) * tf / (tf + norm[rows])
            hit = np.flatnonzero(total)
            keys.append(group_keys[hit])
            scores.append(total[hit])
        return np.concatenate(keys), np.concatenate(scores), len(known) / len(tokens)


def _position(terms: tuple[str, ...], term: str) -> int:
    i = bisect_left(terms, term)
    return i if i < len(terms) and terms[i] == term else -1
