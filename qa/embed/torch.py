"""The reference backend: sentence-transformers on torch, in float32.

Slower to start (torch is imported) and to run than the ONNX backend on a CPU,
but it loads any sentence-transformers model, from a folder or from a model
hub, and runs on a GPU (``device="cuda"``, or ``"auto"``: a GPU when torch
sees one). Its vectors are of the ONNX backend's family (qa.embed): an index
built here on a GPU is served by the ONNX backend on CPUs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from .base import DEVICES, E5_PROMPTS, ModelError, TokenVectors, length_sorted_batches, normalised, word_piece_mask

log = logging.getLogger(__name__)


class TorchEmbedder:
    backend = "torch"

    def __init__(self, model_name: str, path: str, device: str = "cpu"):
        """``device``: "cpu", "cuda" or "auto" (cuda when torch sees one). Raises ModelError."""
        from sentence_transformers import SentenceTransformer  # heavy import, deferred
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start
        self.device = resolve_device(device)
        started = time.perf_counter()
        try:
            self.model = SentenceTransformer(path, device=self.device)
        except Exception as exc:  # the library raises many kinds (OSError, hub errors, ValueError)
            hint = "" if Path(path).exists() else " (no local folder of that name; hub downloads need network access)"
            raise ModelError(f"cannot load embedding model {model_name!r}: {exc}{hint}") from exc
        if "e5" in model_name.lower():
            for key, prompt in E5_PROMPTS.items():
                self.model.prompts.setdefault(key, prompt)
        self.model_name = model_name
        self.fingerprint = f"torch:fp32:{self.device}"
        self.dim = int(self.model.get_embedding_dimension() or 0)
        self.tokenizer = self.model.tokenizer
        self.vocab_size = len(self.tokenizer)
        log.info("loaded model %s (torch, %s) in %.1f s", model_name, self.device, time.perf_counter() - started)

    @cached_property
    def word_piece_mask(self) -> np.ndarray:
        tokens = self.tokenizer.convert_ids_to_tokens(list(range(self.vocab_size)))
        return word_piece_mask([t or "" for t in tokens], self.tokenizer.all_special_ids)

    def encode_documents(self, texts: Sequence[str]) -> list[TokenVectors]:
        return self._encode(texts, "document")

    def encode_query(self, text: str) -> TokenVectors:
        return self._encode([text], "query")[0]

    def _encode(self, texts: Sequence[str], kind: str) -> list[TokenVectors]:
        import torch

        prompt = str((self.model.prompts or {}).get(kind) or "")
        encoded = self.tokenizer(
            [prompt + t for t in texts],
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
            truncation=True,
            max_length=self.model.max_seq_length,
        )
        results: list[TokenVectors | None] = [None] * len(texts)
        for batch in length_sorted_batches([len(ids) for ids in encoded["input_ids"]]):
            width = max(len(encoded["input_ids"][i]) for i in batch)
            ids = torch.zeros((len(batch), width), dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                n = len(encoded["input_ids"][i])
                ids[row, :n] = torch.tensor(encoded["input_ids"][i])
                mask[row, :n] = 1
            with torch.inference_mode():
                features = self.model.forward(
                    {"input_ids": ids.to(self.device), "attention_mask": mask.to(self.device)}
                )
            hidden = features["token_embeddings"].float().cpu().numpy()
            pooled = features["sentence_embedding"].float().cpu().numpy()
            for row, i in enumerate(batch):
                n = len(encoded["input_ids"][i])
                ends = np.array([end - len(prompt) for _, end in encoded["offset_mapping"][i]], dtype=np.int64)
                content = (np.array(encoded["special_tokens_mask"][i]) == 0) & (ends > 0)
                results[i] = TokenVectors(
                    vector=normalised(pooled[row]),
                    hidden=np.ascontiguousarray(hidden[row, :n]),
                    ids=np.array(encoded["input_ids"][i], dtype=np.int64),
                    ends=np.where(content, ends, 0),
                    content=content,
                )
        return [r for r in results if r is not None]


def resolve_device(device: str) -> str:
    """ "cpu" or "cuda" for ``device`` ("auto": cuda when torch sees one); ModelError when cuda is asked
    for and torch sees none."""
    import torch

    if device not in DEVICES:
        raise ModelError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelError("--device cuda: torch sees no CUDA device here; use --device cpu or auto")
    return device
