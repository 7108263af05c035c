"""Nearest-neighbour search over passage vectors: flat for a small set, IVF for a large one.

Each segment of the files store keeps its passages' vectors in its own
``vectors.f32`` (qa.store.segments), and a flat search compares the question
with every one of them: exact, and a few milliseconds below
:data:`ANN_THRESHOLD` vectors. Past it, an inverted-file index (IVF) is
built once over the vectors of a group of segments (qa.store.vector_search):
it compares the question with the vectors of the nearest fifth of its
``nlist`` clusters only, each held in 8 bits per dimension, and the best
candidates are scored again with their full vectors. Passages removed since
the IVF was built are left out of its search by a bitmap of the live ones.

Why a fifth, 8 bits and a second scoring: the model's vectors all lie in a
narrow cone (their mean direction has a cosine of 0.94 with them), so a
question's ten nearest passages are spread over many clusters. At ~1M
vectors (``bench/bench_scale.py --million``) full-precision IVF found 0.91
of the exact ten at 256 of 4,096 lists in 9 ms; 8-bit codes are four times
cheaper to scan, so more lists fit in the time, and scoring their best 40
again exactly removes their rounding (docs/benchmarks.md).

Single questions are searched with one thread: OpenMP's thread pool made a
lone search four times slower on a busy two-core machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

# FAISS is imported in the functions that use it: an update that builds no IVF index does not load it.
ANN_THRESHOLD = 200_000
PROBED_SHARE = 5  # one cluster in five is searched
REFINED = 4  # candidates found by the 8-bit codes per passage asked for, then scored exactly
TRAINING_SAMPLE = 64  # vectors per cluster used to learn the clusters
IVF_FILE = "vectors.ivf"


def nlist_for(count: int) -> int:
    """About 4·√n clusters, a power of two."""
    return int(2 ** round(np.log2(4 * np.sqrt(max(count, 1)))))


def nprobe_for(nlist: int) -> int:
    return max(1, nlist // PROBED_SHARE)


def best_first(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest scores, highest first (ties in position order)."""
    if k <= 0 or not len(scores):
        return np.zeros(0, dtype=np.int64)
    if k < len(scores):
        top = np.argpartition(-scores, k - 1)[:k]
        return top[np.lexsort((top, -scores[top]))]
    return np.argsort(-scores, kind="stable")


def build_ivf(vectors: np.ndarray, ids: np.ndarray) -> Any:
    """An IVF index of ``vectors`` (normalised, float32) under the int64 ``ids``, with 8-bit codes;
    its clusters learned from a sample of them."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    nlist = nlist_for(len(vectors))
    dim = vectors.shape[1]
    ivf = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), nlist * TRAINING_SAMPLE), replace=False)
    ivf.train(vectors[np.sort(sample)])
    ivf.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
    ivf.nprobe = nprobe_for(nlist)
    return ivf


def write_ivf(index: Any, path: Path) -> None:
    """Through a Python file, so that a failed write raises OSError with its reason (a full disk:
    ENOSPC), where FAISS's own writer gives a RuntimeError without one."""
    import faiss

    with open(path, "wb") as f:
        faiss.write_index(index, faiss.PyCallbackIOWriter(f.write))  # type: ignore[attr-defined]


def read_ivf(path: Path) -> Any:
    """Raises ValueError when the file holds no IVF index."""
    import faiss

    try:
        index = faiss.read_index(str(path))
    except RuntimeError as exc:
        raise ValueError(f"{path.name} is not a FAISS index ({str(exc).splitlines()[0][:80]})") from exc
    if not isinstance(faiss.downcast_index(index), faiss.IndexIVF):
        raise ValueError(f"{path.name} holds no IVF index")
    ivf = faiss.extract_index_ivf(index)
    ivf.nprobe = nprobe_for(ivf.nlist)
    return index


def search_ivf(index: Any, query: np.ndarray, count: int, live: np.ndarray) -> np.ndarray:
    """The ids of the ``count`` nearest vectors by their 8-bit codes, among the ids whose bit is set
    in ``live`` (a little-endian bitmap, as ``np.packbits(mask, bitorder="little")``)."""
    import faiss

    if count <= 0 or index.ntotal == 0:
        return np.zeros(0, dtype=np.int64)
    faiss.omp_set_num_threads(1)
    selector = faiss.IDSelectorBitmap(len(live) * 8, faiss.swig_ptr(live))
    params = faiss.SearchParametersIVF()
    params.sel, params.nprobe = selector, faiss.extract_index_ivf(index).nprobe
    _, ids = index.search(query.reshape(1, -1).astype(np.float32), min(count, index.ntotal), params=params)
    return ids[0][ids[0] >= 0]
