"""The figures both stores derive alike (qa/store/scoring.py)."""

from __future__ import annotations

import numpy as np

from qa.lexical import BM25, TermCounts
from qa.store.scoring import counted, dequantise, keyword_hits, piece_idf, quantise


def test_a_token_counts_once_per_passage_and_the_counts_grow_as_needed():
    df = np.zeros(3, dtype=np.int32)
    df = counted(df, np.array([1, 1, 5]))
    assert df.tolist() == [0, 1, 0, 0, 0, 1] and df.dtype == np.int32
    df = counted(df, np.array([5, 5, 1]), -1)
    assert df.tolist() == [0, 0, 0, 0, 0, 0]


def test_rare_pieces_weigh_more_and_unknown_ones_most():
    idf = piece_idf(np.array([10, 1, 0], dtype=np.int32), passages=10)
    assert len(idf) == 4 and idf[0] < idf[1] < idf[2] == idf[3]
    assert idf[1] == np.float32(np.log(11 / 1.5))


def test_pieces_kept_in_a_byte_come_back_close():
    vectors = np.random.default_rng(0).normal(size=(20, 16)).astype(np.float32)
    codes, scales = quantise(vectors)
    assert codes.dtype == np.int8 and scales.shape == (20,)
    back = dequantise(codes, scales)
    assert np.abs(back - vectors).max() <= scales.max() / 2 + 1e-6
    assert quantise(np.zeros((0, 16), dtype=np.float32))[0].shape == (0, 16)


def test_keyword_scores_are_relative_to_the_best_and_weighed_by_coverage():
    counts = TermCounts.of(["Le bureau de Tromsø", "Un bureau au Caire", "Rien à voir"])
    keywords = BM25([(counts, np.arange(3), np.array([7, 8, 9]))])
    hits = keyword_hits(keywords, "bureau Tromsø inconnu", k=5)
    assert hits.keys.tolist() == [7, 8] and hits.coverage == 2 / 3
    assert hits.scores[0] == np.float32(2 / 3) and 0 < hits.scores[1] < hits.scores[0]
    assert len(keyword_hits(keywords, "bureau", k=1).keys) == 1
