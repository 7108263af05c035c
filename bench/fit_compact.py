"""Fit what the compact format ships (qa.store.piece_formats, ``pq16s64``) on PIAF *train* only; compare its scores.

Reproduce (from the project root, after building the int8 PIAF index as bench/bench_pieces.py says):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/fit_compact.py --index /tmp/pieces-bench/piaf-index --sentences
    HF_HUB_OFFLINE=1 .venv/bin/python bench/fit_compact.py --index /tmp/pieces-bench/piaf-index --calibrate

``--sentences`` writes qa/store/sentence_codebook.npy: a product quantiser of 64 sub-vectors of 6
dimensions, 256 centroids each (64 bytes a sentence), fitted on the sentence vectors of the passages the
PIAF train questions point to (none of which a dev question points to), and prints how close the decoded
vectors come to the stored ones, on those passages and on the dev ones (held out).

``--calibrate`` asks every PIAF train question of the int8 index, keeps the 8 passages its first stage
ranks best (those reranking reads, the relevant ones and the others), and compares what reranking reads in
int8 and in the compact format: the late interaction of the question's pieces with the passage's pieces
(decoded from their 16-byte codes), over the 8 passages and for the one of highest int8 late interaction,
and the best cosine of the question with the passage's sentences (decoded from their 64-byte codes). For
each it prints the gap and the least-squares map int8 ≈ a · compact + b: the map that would put compact
scores back on the scale the judge's floors (qa.judge) were fitted on, as far as French questions tell
(PIAF has no other). Not shipped: docs/benchmarks.md "Disk per passage" says why.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_pieces import DATA, relevant_docs  # noqa: E402

from qa.embed import Pieces, get_embedder  # noqa: E402
from qa.embed.base import normalised  # noqa: E402
from qa.ranking import RANKING_STAGES  # noqa: E402
from qa.rerank import late_interaction, piece_weights  # noqa: E402
from qa.search import first_stage  # noqa: E402
from qa.store import open_store  # noqa: E402
from qa.store.piece_formats import FORMATS, SENTENCE_CODEBOOK  # noqa: E402

SUB_VECTORS = 64


def split_keys(reader, folder: Path, split: str) -> list[int]:
    docs = relevant_docs(folder, split)
    keys = list(reader._where)  # noqa: SLF001 (a benchmark reads the files store's own placement)
    return [k for k, p in zip(keys, reader.passages(keys), strict=True) if p.doc_id in docs]


def sentence_vectors(reader, keys: list[int]) -> np.ndarray:
    rows = (reader._where[k] for k in keys)  # noqa: SLF001
    return np.concatenate([segment.sentence_vectors(row) for segment, row in rows]).astype(np.float32)


def fit_sentences(reader, train_dir: Path, dev_dir: Path, out: Path) -> None:
    train = sentence_vectors(reader, split_keys(reader, train_dir, "train"))
    dev = sentence_vectors(reader, split_keys(reader, dev_dir, "dev"))
    pq = faiss.ProductQuantizer(train.shape[1], SUB_VECTORS, 8)
    pq.cp.niter = 20
    pq.cp.seed = 1234
    pq.train(np.ascontiguousarray(train))
    centroids = faiss.vector_to_array(pq.centroids).reshape(pq.M, pq.ksub, pq.dsub).astype(np.float16)
    np.save(out, centroids)
    print(f"codebook {centroids.shape} fitted on {len(train):,} train sentences, written to {out}")
    coder = FORMATS["pq16s64"]
    for name, vectors in (("train", train), ("dev (held out)", dev)):
        decoded = coder.decode_sentences(coder.encode_sentences(vectors), vectors.shape[1])
        cosines = np.sum(decoded * normalised(vectors), axis=1)
        print(
            f"  {name}: {len(vectors):,} sentences, cosine to the stored vector mean {cosines.mean():.4f}, "
            f"5th percentile {np.percentile(cosines, 5):.4f}"
        )


def calibrate(reader, train_dir: Path, limit: int | None) -> None:
    import json

    compact = FORMATS["pq16s64"]
    embedder = get_embedder(reader.manifest.settings.model, "onnx")
    mask, idf = embedder.word_piece_mask, reader.piece_idf()
    with open(train_dir / "queries.jsonl", encoding="utf-8") as f:
        questions = [json.loads(line)["text"] for line in f][:limit]
    ranking = RANKING_STAGES["reranked"]
    token: list[tuple[float, float]] = []  # every passage of the head: late interaction in int8, compact
    first: list[tuple[float, float]] = []  # the passage of highest int8 late interaction: likewise
    sentence: list[tuple[float, float]] = []  # best sentence cosine: stored, decoded from 64 bytes
    for n, question in enumerate(questions):
        query = embedder.encode_query(question)
        asked = Pieces.of(query, mask)
        weights = piece_weights(asked, idf)
        head = first_stage(reader, question, query.vector, ranking.candidates, ranking.first)[: ranking.depth]
        scores = []
        for scored, stored in zip(head, reader.pieces([s.candidate.key for s in head]), strict=True):
            decoded = compact.decode(compact.encode(stored.vectors), stored.vectors.shape[1])
            full = late_interaction(asked.vectors @ stored.vectors.T, weights)
            scores.append((full, late_interaction(asked.vectors @ decoded.T, weights)))
            vectors = scored.candidate.sentence_vectors
            if len(vectors):
                coded = compact.decode_sentences(compact.encode_sentences(vectors), vectors.shape[1])
                sentence.append((float((vectors @ query.vector).max()), float((coded @ query.vector).max())))
        token += scores
        if scores:
            first.append(max(scores))
        if n % 500 == 0:
            print(f"  {n:,} of {len(questions):,} questions", flush=True)
    for name, pairs in (
        ("late interaction, the 8 passages reranked", token),
        ("late interaction, the passage of highest int8 late interaction", first),
        ("best sentence cosine", sentence),
    ):
        full, small = np.array(pairs).T
        a, b = np.polyfit(small, full, 1)
        mapped = a * small + b
        print(
            f"{name}: {len(full):,} pairs; int8 - compact mean {np.mean(full - small):+.4f}, "
            f"|int8 - compact| mean {np.mean(np.abs(full - small)):.4f} (95th percentile "
            f"{np.percentile(np.abs(full - small), 95):.4f}); least squares int8 = {a:.4f} * compact {b:+.4f}, "
            f"then |int8 - mapped| mean {np.mean(np.abs(full - mapped)):.4f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="files store of the PIAF corpus, int8 pieces")
    parser.add_argument("--train", type=Path, default=DATA / "piaf-train")
    parser.add_argument("--dev", type=Path, default=DATA / "piaf-dev")
    parser.add_argument("--sentences", action="store_true", help="fit and write the sentence codebook")
    parser.add_argument("--calibrate", action="store_true", help="compare compact scores with int8 ones")
    parser.add_argument("--out", type=Path, default=SENTENCE_CODEBOOK)
    parser.add_argument("--limit", type=int, default=None, help="only the first N train questions")
    args = parser.parse_args()
    reader = open_store(args.index).open_reader()
    if args.sentences:
        fit_sentences(reader, args.train, args.dev, args.out)
    if args.calibrate:
        calibrate(reader, args.train, args.limit)


if __name__ == "__main__":
    main()
