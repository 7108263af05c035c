"""A model-free stand-in: words hashed to fixed random vectors.

Deterministic, instant and dependency-free. Texts that share words get close
vectors, which is all the mechanics of indexing, storing, updating and
serving need; the tests use it wherever the point is not answer quality.
Select it with ``--backend hash`` (any model name is accepted and recorded).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from .base import TokenVectors, normalised

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


class HashingEmbedder:
    backend = "hash"
    vocab_size = 1 << 16

    def __init__(self, model_name: str = "hash", dim: int = 64):
        self.model_name = model_name
        self.dim = dim
        self.fingerprint = f"hash:{dim}"
        self._table = np.random.default_rng(0).standard_normal((self.vocab_size, dim)).astype(np.float32)

    @cached_property
    def word_piece_mask(self) -> np.ndarray:
        return np.ones(self.vocab_size, dtype=bool)

    def token_id(self, word: str) -> int:
        return zlib.crc32(word.lower().encode("utf-8")) % self.vocab_size

    def encode_documents(self, texts: Sequence[str]) -> list[TokenVectors]:
        return [self._encode(t) for t in texts]

    def encode_query(self, text: str) -> TokenVectors:
        return self._encode(text)

    def _encode(self, text: str) -> TokenVectors:
        words = list(_WORD.finditer(text))
        ids = np.array([self.token_id(m.group()) for m in words] or [0], dtype=np.int64)
        hidden = self._table[ids]
        return TokenVectors(
            vector=normalised(hidden.mean(axis=0)),
            hidden=hidden,
            ids=ids,
            ends=np.array([m.end() for m in words] or [0], dtype=np.int64),
            content=np.array([True] * len(words) or [False], dtype=bool),
        )
