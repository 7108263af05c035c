"""Nearest-neighbour search over passage vectors, chosen by size.

Below :data:`ANN_THRESHOLD` vectors a flat index compares the question with
every passage: exact, and a few milliseconds. Above it an inverted-file
index (IVF) compares it with the passages of the nearest fifth of its
``nlist`` clusters only, each vector held in 8 bits per dimension, and scores
the best candidates again with their full vectors; unlike
FAISS's HNSW, IVF removes vectors by id, which re-indexing needs. The
clusters are learned once, when the index first crosses the threshold, from
a sample of the vectors.

Why a fifth, 8 bits and a second scoring: the model's vectors all lie in a
narrow cone (their mean direction has a cosine of 0.94 with them), so a
question's ten nearest passages are spread over many clusters. At ~1M
vectors (``bench/bench_scale.py --million``) full-precision IVF found 0.91
of the exact ten at 256 of 4,096 lists in 9 ms; 8-bit codes are four times
cheaper to scan, so more lists fit in the time, and scoring their best 40
again exactly removes their rounding (docs/benchmarks.md).

Single questions are searched with one thread: OpenMP's thread pool made a
lone flat search four times slower on a busy two-core machine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

ANN_THRESHOLD = 200_000
PROBED_SHARE = 5  # one cluster in five is searched
REFINED = 4  # candidates found by the 8-bit codes per passage asked for, then scored exactly
TRAINING_SAMPLE = 64  # vectors per cluster used to learn the clusters


def nlist_for(count: int) -> int:
    """About 4·√n clusters, a power of two."""
    return int(2 ** round(np.log2(4 * np.sqrt(max(count, 1)))))


def nprobe_for(nlist: int) -> int:
    return max(1, nlist // PROBED_SHARE)


class VectorIndex:
    """Passage vectors by int64 key, searchable by inner product (cosine: the vectors are normalised)."""

    def __init__(self, index: faiss.Index):
        self.index = index
        if isinstance(faiss.downcast_index(index), faiss.IndexIVF):
            ivf = faiss.extract_index_ivf(index)
            ivf.nprobe = nprobe_for(ivf.nlist)

    @classmethod
    def empty(cls, dim: int) -> VectorIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)))

    @classmethod
    def read(cls, path: Path) -> VectorIndex:
        return cls(faiss.read_index(str(path)))

    def write(self, path: Path) -> None:
        """Through a Python file, so that a failed write raises OSError with its reason (a full disk:
        ENOSPC), where FAISS's own writer gives a RuntimeError without one."""
        with open(path, "wb") as f:
            faiss.write_index(self.index, faiss.PyCallbackIOWriter(f.write))  # type: ignore[attr-defined]

    @property
    def count(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @property
    def is_approximate(self) -> bool:
        return isinstance(faiss.downcast_index(self.index), faiss.IndexIVF)

    def search(
        self, query: np.ndarray, k: int, exact: Callable[[list[int]], np.ndarray] | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` nearest keys with their scores, best first. ``exact`` gives the full vectors of
        keys: an approximate index then finds ``REFINED`` times as many candidates by its 8-bit codes
        and they are scored again exactly."""
        if self.count == 0 or k <= 0:
            return []
        faiss.omp_set_num_threads(1)
        wanted = k * REFINED if exact is not None and self.is_approximate else k
        scores, keys = self.index.search(query.reshape(1, -1).astype(np.float32), min(wanted, self.count))
        found = [(int(key), float(s)) for s, key in zip(scores[0], keys[0], strict=True) if key >= 0]
        if exact is None or wanted == k or not found:
            return found
        candidates = [key for key, _ in found]
        rescored = np.asarray(exact(candidates), dtype=np.float32) @ query.astype(np.float32)
        order = np.argsort(-rescored, kind="stable")[:k]
        return [(candidates[i], float(rescored[i])) for i in order]

    def without(self, keys: list[int]) -> VectorIndex:
        index: Any = faiss.clone_index(self.index)
        if keys:
            index.remove_ids(np.array(keys, dtype=np.int64))
        return VectorIndex(index)

    def with_added(self, vectors: np.ndarray, keys: np.ndarray) -> VectorIndex:
        """A copy holding these vectors too; becomes an IVF index when it crosses the threshold."""
        index = faiss.clone_index(self.index)
        if not self.is_approximate and self.count + len(keys) >= ANN_THRESHOLD:
            return VectorIndex(_ivf_from(index, vectors, keys))
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), keys)
        return VectorIndex(index)


def _ivf_from(flat: Any, vectors: np.ndarray, keys: np.ndarray) -> Any:
    """An IVF index holding the flat index's vectors and the new ones."""
    id_map: Any = faiss.downcast_index(flat)
    old = id_map.index.reconstruct_n(0, flat.ntotal) if flat.ntotal else np.zeros((0, vectors.shape[1]), np.float32)
    old_keys = faiss.vector_to_array(id_map.id_map) if flat.ntotal else np.zeros(0, dtype=np.int64)
    everything = np.concatenate([old, vectors]).astype(np.float32)
    all_keys = np.concatenate([old_keys, keys]).astype(np.int64)
    nlist = nlist_for(len(everything))
    dim = everything.shape[1]
    ivf = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    sample = np.random.default_rng(0).choice(
        len(everything), min(len(everything), nlist * TRAINING_SAMPLE), replace=False
    )
    ivf.train(everything[np.sort(sample)])
    ivf.add_with_ids(everything, all_keys)
    return ivf
