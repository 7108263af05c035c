"""The figures every store derives the same way from what it holds, whatever holds it.

- keyword hits: BM25 scores (:class:`qa.lexical.BM25`) made relative to the best one and
  weighed by the question's coverage;
- word-piece weights: inverse document frequency from per-token passage counts, which
  writers keep up to date with :func:`counted`;
- word-piece vectors kept in one byte per dimension (:func:`quantise`, :func:`dequantise`).

One module, so that an answer never depends on which store served it.
"""

from __future__ import annotations

import numpy as np

from ..lexical import BM25
from .base import KeywordHits


def keyword_hits(keywords: BM25, question: str, k: int) -> KeywordHits:
    """The ``k`` best passages for the question's words: BM25 divided by the best score, times the
    share of the question's words the index knows."""
    keys, scores, coverage = keywords.scores(question)
    top = np.argsort(-scores, kind="stable")[:k]
    best = float(scores[top[0]]) if len(top) else 0.0
    relative = scores[top] / best * coverage if best > 0 else scores[top]
    return KeywordHits(keys[top], relative.astype(np.float32), coverage)


def piece_idf(piece_df: np.ndarray, passages: int) -> np.ndarray:
    """Inverse document frequency of every token id over ``passages`` passages, from how many of
    them hold each id (``piece_df``); one slot more, last, for ids never seen."""
    frequency = np.append(piece_df, 0).astype(np.float32)
    return np.log((passages + 1) / (frequency + 0.5))


def counted(df: np.ndarray, ids: np.ndarray, step: int = 1) -> np.ndarray:
    """``df`` (passages holding each token id) after a passage holding ``ids`` came (``step`` 1) or
    went (-1): each distinct id counted once; grown to hold every id. May change ``df`` in place."""
    ids = np.unique(ids)
    if len(ids) and ids[-1] >= len(df):
        df = np.concatenate([df, np.zeros(int(ids[-1]) + 1 - len(df), dtype=df.dtype)])
    df[ids] += step
    return df


def quantise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows as int8 with one scale each: row ≈ int8 * scale."""
    scales = np.maximum(np.abs(vectors).max(axis=1), 1e-12) / 127.0
    return np.round(vectors / scales[:, None]).astype(np.int8), scales.astype(np.float32)


def dequantise(codes: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """The float32 rows that :func:`quantise` kept as ``codes`` and ``scales``."""
    return codes.astype(np.float32) * np.asarray(scales, dtype=np.float32)[:, None]
