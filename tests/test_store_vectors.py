"""The nearest-neighbour primitives: exact top k, an IVF index that finds by its codes among the live ids."""

from __future__ import annotations

import numpy as np
import pytest

from qa.store.vectors import best_first, build_ivf, nlist_for, nprobe_for, read_ivf, search_ivf, write_ivf

DIM = 16


def unit_vectors(count: int, seed: int = 0) -> np.ndarray:
    data = np.random.default_rng(seed).normal(size=(count, DIM)).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


def every_id(count: int) -> np.ndarray:
    return np.packbits(np.ones(count, dtype=bool), bitorder="little")


def test_best_first_gives_the_k_highest_highest_first():
    scores = np.array([0.1, 0.9, 0.5, 0.9, -1.0, 0.7], dtype=np.float32)
    assert best_first(scores, 3).tolist() == [1, 3, 5]
    assert best_first(scores, 10).tolist() == [1, 3, 5, 2, 0, 4]
    assert best_first(scores, 0).tolist() == [] and best_first(np.zeros(0), 3).tolist() == []


def test_an_ivf_index_finds_each_vector_by_its_id_and_comes_back_from_its_file(tmp_path):
    data = unit_vectors(3_000)
    ids = np.arange(10_000, 13_000, dtype=np.int64)
    index = build_ivf(data, ids)
    live = every_id(13_000)
    # each vector finds itself first: its own cluster is always among those searched
    assert all(search_ivf(index, data[i], 1, live)[0] == ids[i] for i in range(0, 3_000, 97))
    write_ivf(index, tmp_path / "vectors.ivf")
    again = read_ivf(tmp_path / "vectors.ivf")
    assert again.ntotal == 3_000 and search_ivf(again, data[100], 1, live)[0] == ids[100]


def test_ids_left_out_of_the_bitmap_are_never_found():
    data = unit_vectors(3_000, seed=1)
    index = build_ivf(data, np.arange(3_000, dtype=np.int64))
    mask = np.ones(3_000, dtype=bool)
    mask[[7, 8]] = False
    found = search_ivf(index, data[7], 10, np.packbits(mask, bitorder="little"))
    assert len(found) == 10 and 7 not in found and 8 not in found


def test_a_file_that_is_not_an_ivf_index_is_refused(tmp_path):
    (tmp_path / "vectors.ivf").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="vectors.ivf is not a FAISS index"):
        read_ivf(tmp_path / "vectors.ivf")


def test_ivf_sizes_follow_the_count():
    assert nlist_for(1_000_000) == 4_096
    assert nlist_for(200_000) == 2_048
    assert nprobe_for(4_096) == 819
    assert nprobe_for(2) == 1
