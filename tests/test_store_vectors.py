"""The nearest-neighbour index: flat while small, IVF once it crosses the threshold, removal by key in both."""

from __future__ import annotations

import numpy as np
import pytest

from qa.store import vectors
from qa.store.vectors import VectorIndex, nlist_for, nprobe_for

DIM = 16


def unit_vectors(count: int, seed: int = 0) -> np.ndarray:
    data = np.random.default_rng(seed).normal(size=(count, DIM)).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


@pytest.fixture
def small_threshold(monkeypatch):
    monkeypatch.setattr(vectors, "ANN_THRESHOLD", 2_000)


def test_below_the_threshold_search_is_exact(small_threshold):
    data = unit_vectors(500)
    index = VectorIndex.empty(DIM).with_added(data, np.arange(500, 1000, dtype=np.int64))
    assert not index.is_approximate
    exact = np.argsort(-(data @ data[42]))[:5] + 500
    assert [key for key, _ in index.search(data[42], 5)] == exact.tolist()


def test_crossing_the_threshold_builds_an_ivf_index_that_finds_and_forgets_by_key(small_threshold, tmp_path):
    data = unit_vectors(3_000)
    keys = np.arange(10_000, 13_000, dtype=np.int64)
    index = VectorIndex.empty(DIM).with_added(data[:1_500], keys[:1_500])
    index = index.with_added(data[1_500:], keys[1_500:])  # crosses 2,000: the flat index becomes IVF
    assert index.is_approximate and index.count == 3_000
    # each vector finds itself first: its own cluster is always among those searched
    assert all(index.search(data[i], 1)[0][0] == keys[i] for i in range(0, 3_000, 97))
    smaller = index.without([int(keys[7]), int(keys[8])])
    assert smaller.count == 2_998 and index.count == 3_000  # a copy: the version in use is untouched
    assert int(keys[7]) not in {key for key, _ in smaller.search(data[7], 10)}
    smaller.write(tmp_path / "vectors.faiss")
    again = VectorIndex.read(tmp_path / "vectors.faiss")
    assert again.is_approximate and again.count == 2_998
    assert again.search(data[100], 1)[0][0] == keys[100]


def test_ivf_sizes_follow_the_count():
    assert nlist_for(1_000_000) == 4_096
    assert nlist_for(200_000) == 2_048
    assert nprobe_for(4_096) == 819
    assert nprobe_for(2) == 1


def test_approximate_candidates_are_scored_again_with_the_full_vectors(small_threshold):
    data = unit_vectors(3_000, seed=1)
    keys = np.arange(3_000, dtype=np.int64)
    index = VectorIndex.empty(DIM).with_added(data, keys)
    assert index.is_approximate
    query = unit_vectors(1, seed=2)[0]
    coded = index.search(query, 5)
    rescored = index.search(query, 5, exact=lambda wanted: data[wanted])
    assert [score for _, score in rescored] == sorted((score for _, score in rescored), reverse=True)
    for key, score in rescored:
        assert score == pytest.approx(float(data[key] @ query), abs=1e-6)  # the full vectors' score, not the codes'
    assert any(abs(score - float(data[key] @ query)) > 1e-6 for key, score in coded)  # the codes round
