"""How the stores keep the word-piece vectors the reranker reads (qa.rerank).

Two formats, named in each segment (files store) and each row (PostgreSQL), so an index
written in one is still read after the other is chosen:

- ``int8`` (the default): one byte a dimension and a float32 scale a piece (388 bytes at dimension 384);
- ``pq16`` (``QA_PIECES=pq16`` when indexing): product quantisation (16 sub-vectors of 24 dimensions,
  256 centroids each, as faiss's ``ProductQuantizer``): 16 bytes a piece, 24 times smaller. Its codebook
  was fitted once on the default model's pieces of the PIAF train passages (``bench/bench_pieces.py
  --fit``) and ships beside this file; it serves the vectors of that model's weights, whatever backend
  reads them (qa.embed.FAMILIES), and any other model keeps int8.

Why pq16 is not the default: on PIAF dev it ranks within half a point of int8 (MRR@10 0.8422 against
0.8465), but the scores it gives are not those the judge's refusal floor was fitted on (qa.judge): the
seed questions' refusal precision falls under its floor (0.850 < 0.87) and an off-topic question is
answered. docs/benchmarks.md "Disk per passage" has the figures of every format measured.

Pieces are decoded when a question reranks its passages (a few hundred a question, well under a
millisecond) and normalised again, so cosines keep their scale.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..embed import DEFAULT_MODEL, FAMILIES
from ..embed.base import normalised
from .scoring import dequantise, quantise

CODEBOOK = Path(__file__).with_name("piece_codebook.npy")  # float16 (16 sub-vectors, 256, 24)
CODEBOOK_MODEL, CODEBOOK_FAMILY, CODEBOOK_DIM = DEFAULT_MODEL, FAMILIES["onnx"], 384


class PieceFormat(Protocol):
    @property
    def name(self) -> str: ...

    def code_size(self, dim: int) -> int:
        """Bytes a piece."""
        ...

    def encode(self, vectors: np.ndarray) -> np.ndarray:
        """(pieces, code_size) uint8 codes of normalised float32 vectors."""
        ...

    def decode(self, codes: np.ndarray, dim: int) -> np.ndarray:
        """The normalised float32 vectors (pieces, dim) the codes stand for."""
        ...


@dataclass(frozen=True)
class Int8Pieces:
    """Each piece as int8 with one float32 scale (its largest magnitude / 127), in 388 bytes."""

    name: str = "int8"

    def code_size(self, dim: int) -> int:
        return dim + 4

    def encode(self, vectors: np.ndarray) -> np.ndarray:
        codes, scales = quantise(vectors)
        return np.concatenate([codes.view(np.uint8), scales.astype("<f4")[:, None].view(np.uint8)], axis=1)

    def decode(self, codes: np.ndarray, dim: int) -> np.ndarray:
        codes = np.ascontiguousarray(codes)
        return normalised(dequantise(codes[:, :dim].view(np.int8), codes[:, dim:].view("<f4")[:, 0]))


@dataclass(frozen=True)
class PQPieces:
    """Product-quantised pieces with the shipped codebook: 16 bytes a piece. Coded in numpy, as faiss's
    ``ProductQuantizer`` codes them (nearest centroid of each sub-vector): a few hundred pieces at a time
    are too few for faiss's thread pool, which only waits on a busy machine."""

    name: str = "pq16"

    def code_size(self, dim: int) -> int:
        return _codebook().shape[0]

    def encode(self, vectors: np.ndarray) -> np.ndarray:
        transposed, norms = _transposed(), _norms()  # (sub-vectors, sub-dimension, 256), (sub-vectors, 256)
        parts = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), *transposed.shape[:2])
        # nearest by squared distance: |c|² - 2 x·c (|x|² is the same for every centroid); one small
        # product per sub-vector, which BLAS runs on one thread (a batched one spreads and waits)
        codes = [(norms[m] - 2 * (parts[:, m] @ transposed[m])).argmin(axis=1) for m in range(len(transposed))]
        return np.stack(codes, axis=1).astype(np.uint8)

    def decode(self, codes: np.ndarray, dim: int) -> np.ndarray:
        centroids = _codebook()
        if not len(codes):
            return np.zeros((0, dim), dtype=np.float32)
        parts = centroids[np.arange(centroids.shape[0]), np.asarray(codes, dtype=np.intp)]  # (n, sub-vectors, sub-dim)
        return normalised(parts.reshape(len(codes), -1))


FORMATS: dict[str, PieceFormat] = {f.name: f for f in (Int8Pieces(), PQPieces())}


def format_for(model: str, family: str, dim: int) -> PieceFormat:
    """The format new pieces are kept in: ``int8``, or ``pq16`` when ``QA_PIECES`` asks for it and the
    vectors are those of the model its codebook was fitted on (a codebook fits one model's vectors only;
    the hash backend's are random). Any other value of ``QA_PIECES`` is an error, not a silent int8."""
    wanted = os.environ.get("QA_PIECES", "int8")
    if wanted not in FORMATS:
        raise ValueError(f"QA_PIECES={wanted!r}: the word-piece formats are {', '.join(FORMATS)}")
    fitted = (model, family, dim) == (CODEBOOK_MODEL, CODEBOOK_FAMILY, CODEBOOK_DIM)
    return FORMATS[wanted if fitted else "int8"]


def named(name: str) -> PieceFormat:
    """The format of this name; ValueError for one this version does not know."""
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"word pieces in an unknown format {name!r}") from None


@functools.cache
def _codebook() -> np.ndarray:
    """(sub-vectors, centroids, sub-dimension) float32, as fitted (bench/bench_pieces.py --fit)."""
    return np.load(CODEBOOK, allow_pickle=False).astype(np.float32)


@functools.cache
def _transposed() -> np.ndarray:
    return np.ascontiguousarray(_codebook().transpose(0, 2, 1))


@functools.cache
def _norms() -> np.ndarray:
    return np.square(_codebook()).sum(axis=2)
