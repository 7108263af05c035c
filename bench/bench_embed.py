"""Embedding backends side by side: what makes indexing fast, and what int8 costs in the vectors.

Reproduce (from the project root, after `make install`; about two minutes on 2 cores):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_embed.py --passages 512

Reads the first --passages records of the scale set (~480 characters of French each) once
per variant, one model pass per passage as indexing does, and prints for each variant:
passages/s, the median time to encode one question, and the cosine of its passage vectors
to torch float32's (min and mean). Variants:

- torch float32 (sentence-transformers), batches sorted by length, on ``--device`` (cpu, cuda
  or auto: a GPU's row for indexing there, the index then served by onnx int8 on CPUs);
- onnx int8 as shipped: fused attention, batches sorted by length, 2 threads;
- onnx int8 with batches in corpus order (padding to the longest of each batch);
- onnx int8 with batches of 64 texts instead of 16;
- onnx int8 on one thread.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_scale import scale_records  # noqa: E402
from qa.embed import DEFAULT_MODEL, DEVICES, Embedder, get_embedder, model_folder  # noqa: E402
from qa.embed import base as embed_base  # noqa: E402
from qa.embed.onnx import OnnxEmbedder  # noqa: E402

QUESTIONS = [
    "Qui dirige l'OIM en Mongolie ?",
    "Who leads IOM Mongolia?",
    "Combien de responsables participent à l'atelier ?",
    "When did the border management workshop in Ulaanbaatar start?",
] * 5


def in_corpus_order(lengths, max_tokens: int = 2048, max_batch: int = 16) -> Iterator[list[int]]:
    """Batches of 16 in input order: what length sorting saves is the padding this adds."""
    for start in range(0, len(lengths), max_batch):
        yield list(range(start, min(start + max_batch, len(lengths))))


def measure(embedder: Embedder, texts: list[str], reference: np.ndarray | None) -> dict:
    embedder.encode_documents(texts[:16])  # warm-up: first-run allocations
    started = time.perf_counter()
    vectors = np.stack([t.vector for t in embedder.encode_documents(texts)])
    seconds = time.perf_counter() - started
    timings = []
    for question in QUESTIONS:
        started = time.perf_counter()
        embedder.encode_query(question)
        timings.append((time.perf_counter() - started) * 1000)
    row = {"passages/s": round(len(texts) / seconds, 1), "question ms (median)": round(statistics.median(timings), 1)}
    if reference is not None:
        cosines = np.sum(vectors * reference, axis=1)
        row |= {"cosine to fp32 (min)": round(float(cosines.min()), 4), "mean": round(float(cosines.mean()), 4)}
    return row | {"_vectors": vectors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=512)
    parser.add_argument("--device", choices=DEVICES, default="cpu", help="where the torch variant runs")
    args = parser.parse_args()
    texts = [record["text"] for record in scale_records(args.passages)]
    folder = model_folder(DEFAULT_MODEL)
    onnx = get_embedder(DEFAULT_MODEL, "onnx")
    variants: list[tuple[str, Callable[[], Embedder], object]] = [
        (f"torch fp32 ({args.device})", lambda: get_embedder(DEFAULT_MODEL, "torch", args.device), None),
        ("onnx int8 (default)", lambda: onnx, None),
        ("onnx int8, batches in corpus order", lambda: onnx, in_corpus_order),
        (
            "onnx int8, batches of 64",
            lambda: onnx,
            functools.partial(embed_base.length_sorted_batches, max_tokens=8192, max_batch=64),
        ),
        ("onnx int8, 1 thread", lambda: OnnxEmbedder(DEFAULT_MODEL, folder, threads=1), None),
    ]
    reference = None
    print(f"{len(texts)} scale-set passages, one model pass each", flush=True)
    for name, make, batching in variants:
        embedder = make()
        patch = mock.patch("qa.embed.onnx.length_sorted_batches", batching) if batching else nullcontext()
        with patch:
            row = measure(embedder, texts, reference)
        vectors = row.pop("_vectors")
        if reference is None:
            reference = vectors
        print(json.dumps({"variant": name} | row), flush=True)


if __name__ == "__main__":
    main()
