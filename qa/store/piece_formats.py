"""How the stores keep the word-piece vectors the reranker reads (qa.rerank), and the sentence vectors.

Three formats, named in each segment (files store) and each row (PostgreSQL), so an index
written in one is still read after another is chosen:

- ``int8`` (the default): one byte a dimension and a float32 scale a piece (388 bytes at dimension 384);
  sentence vectors as the store keeps them (float16): 49 KB a PIAF passage, 54 KB at 147k;
- ``pq16s64`` (``QA_PIECES=pq16s64`` when indexing: the archive format): product quantisation of the
  pieces (16 sub-vectors of 24 dimensions, 256 centroids each, as faiss's ``ProductQuantizer``), 16 bytes
  a piece, and each sentence vector in 64 bytes (64 sub-vectors of 6 dimensions) with a codebook of its
  own: 5.8 KB a PIAF passage, 5.9 KB at 147k. The piece codebook was fitted once on the default model's
  pieces of the PIAF train passages (``bench/bench_pieces.py --fit``), the sentence codebook on their
  sentence vectors (``bench/fit_compact.py --sentences``); both ship beside this file and serve the
  vectors of that model's weights, whatever backend reads them (qa.embed.FAMILIES); any other model
  keeps int8;
- ``pq16`` (``QA_PIECES=pq16``): the pieces as ``pq16s64``; sentence vectors int8 (files store), float16
  (PostgreSQL): 6.7 KB a PIAF passage.

Coded pieces rank passages as the model's do (PIAF dev MRR@10 within half a point), but their cosines are
not the model's: decoded, the passage that answers scores lower and unrelated ones higher, and the
reader's and the judge's thresholds were set on the model's cosines. Such a format is ``coarse``: the best
5 passages of each question are read again by the model before their words are weighed
(qa.rerank.sharpen), which keeps the judge's decisions nearly all as in int8, for about 100 ms more a
question on 2 cores. Hence int8 stays the default, where a question costs 55 ms, and the compact format is
for archives, whose disk it divides by 9. docs/benchmarks.md "Disk per passage" has the figures.

Pieces are decoded when a question reranks its passages (a few hundred a question, well under a
millisecond) and normalised again, so cosines keep their scale; sentence vectors when a search scores
its candidates (about 60 passages' worth).
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
SENTENCE_CODEBOOK = Path(__file__).with_name("sentence_codebook.npy")  # float16 (64 sub-vectors, 256, 6)
CODEBOOK_MODEL, CODEBOOK_FAMILY, CODEBOOK_DIM = DEFAULT_MODEL, FAMILIES["onnx"], 384
COMPACT = "pq16s64"  # pieces and sentence vectors in product-quantisation codes (QA_PIECES=pq16s64)


class PieceFormat(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def coarse(self) -> bool:
        """Its decoded pieces rank passages as well as the model's, but their cosines are not the model's:
        the best few passages are read again before their words are weighed (qa.rerank.sharpen)."""
        ...

    def code_size(self, dim: int) -> int:
        """Bytes a piece."""
        ...

    def encode(self, vectors: np.ndarray) -> np.ndarray:
        """(pieces, code_size) uint8 codes of normalised float32 vectors."""
        ...

    def decode(self, codes: np.ndarray, dim: int) -> np.ndarray:
        """The normalised float32 vectors (pieces, dim) the codes stand for."""
        ...

    def sentence_code_size(self, dim: int) -> int:
        """Bytes a sentence vector; 0: this format leaves them to the store (float16 or int8)."""
        ...

    def encode_sentences(self, vectors: np.ndarray) -> np.ndarray:
        """(sentences, sentence_code_size) uint8 codes of sentence vectors."""
        ...

    def decode_sentences(self, codes: np.ndarray, dim: int) -> np.ndarray:
        """The normalised float32 sentence vectors the codes stand for."""
        ...


@dataclass(frozen=True)
class Int8Pieces:
    """Each piece as int8 with one float32 scale (its largest magnitude / 127), in 388 bytes."""

    name: str = "int8"
    coarse: bool = False

    def code_size(self, dim: int) -> int:
        return dim + 4

    def encode(self, vectors: np.ndarray) -> np.ndarray:
        codes, scales = quantise(vectors)
        return np.concatenate([codes.view(np.uint8), scales.astype("<f4")[:, None].view(np.uint8)], axis=1)

    def decode(self, codes: np.ndarray, dim: int) -> np.ndarray:
        codes = np.ascontiguousarray(codes)
        return normalised(dequantise(codes[:, :dim].view(np.int8), codes[:, dim:].view("<f4")[:, 0]))

    def sentence_code_size(self, dim: int) -> int:
        return 0

    def encode_sentences(self, vectors: np.ndarray) -> np.ndarray:
        raise ValueError(f"{self.name}: sentence vectors are kept by the store")

    def decode_sentences(self, codes: np.ndarray, dim: int) -> np.ndarray:
        raise ValueError(f"{self.name}: sentence vectors are kept by the store")


@dataclass(frozen=True)
class PQPieces:
    """Product-quantised pieces with the shipped codebook: 16 bytes a piece; in ``pq16s64`` (``sentences``),
    the sentence vectors too, in 64 bytes each with a codebook of their own (qa/store/sentence_codebook.npy,
    fitted on the sentence vectors of the PIAF train passages by bench/fit_compact.py --sentences)."""

    name: str = "pq16"
    sentences: bool = False
    coarse: bool = True

    def code_size(self, dim: int) -> int:
        return _codebook(CODEBOOK).shape[0]

    def encode(self, vectors: np.ndarray) -> np.ndarray:
        return _encode(CODEBOOK, vectors)

    def decode(self, codes: np.ndarray, dim: int) -> np.ndarray:
        return _decode(CODEBOOK, codes, dim)

    def sentence_code_size(self, dim: int) -> int:
        return _codebook(SENTENCE_CODEBOOK).shape[0] if self.sentences else 0

    def encode_sentences(self, vectors: np.ndarray) -> np.ndarray:
        if not self.sentences:
            raise ValueError(f"{self.name}: sentence vectors are kept by the store")
        return _encode(SENTENCE_CODEBOOK, normalised(vectors) if len(vectors) else vectors)

    def decode_sentences(self, codes: np.ndarray, dim: int) -> np.ndarray:
        if not self.sentences:
            raise ValueError(f"{self.name}: sentence vectors are kept by the store")
        return _decode(SENTENCE_CODEBOOK, codes, dim)


def _encode(codebook: Path, vectors: np.ndarray) -> np.ndarray:
    """Codes as faiss's ``ProductQuantizer`` makes them (nearest centroid of each sub-vector), in numpy: a
    few hundred vectors at a time are too few for faiss's thread pool, which only waits on a busy machine."""
    transposed, norms = _transposed(codebook), _norms(codebook)  # (sub-vectors, sub-dim, 256), (sub-vectors, 256)
    parts = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), *transposed.shape[:2])
    # nearest by squared distance: |c|² - 2 x·c (|x|² is the same for every centroid); one small
    # product per sub-vector, which BLAS runs on one thread (a batched one spreads and waits)
    codes = [(norms[m] - 2 * (parts[:, m] @ transposed[m])).argmin(axis=1) for m in range(len(transposed))]
    return np.stack(codes, axis=1).astype(np.uint8)


def _decode(codebook: Path, codes: np.ndarray, dim: int) -> np.ndarray:
    centroids = _codebook(codebook)
    if not len(codes):
        return np.zeros((0, dim), dtype=np.float32)
    parts = centroids[np.arange(centroids.shape[0]), np.asarray(codes, dtype=np.intp)]  # (n, sub-vectors, sub-dim)
    return normalised(parts.reshape(len(codes), -1))


FORMATS: dict[str, PieceFormat] = {f.name: f for f in (Int8Pieces(), PQPieces(), PQPieces(COMPACT, True))}


def format_for(model: str, family: str, dim: int) -> PieceFormat:
    """The format new pieces are kept in: ``int8``, or ``pq16`` / ``pq16s64`` when ``QA_PIECES`` asks for it
    and the vectors are those of the model the codebooks were fitted on (a codebook fits one model's vectors
    only; the hash backend's are random). Any other value of ``QA_PIECES`` is an error, not a silent int8."""
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
def _codebook(path: Path) -> np.ndarray:
    """(sub-vectors, centroids, sub-dimension) float32, as fitted (bench/bench_pieces.py --fit,
    bench/fit_compact.py --sentences)."""
    return np.load(path, allow_pickle=False).astype(np.float32)


@functools.cache
def _transposed(path: Path) -> np.ndarray:
    return np.ascontiguousarray(_codebook(path).transpose(0, 2, 1))


@functools.cache
def _norms(path: Path) -> np.ndarray:
    return np.square(_codebook(path)).sum(axis=2)
