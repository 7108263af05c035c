"""Fit what the compact format ships (qa.store.piece_formats, ``pq16s64``) on PIAF *train* only; compare its scores.

Reproduce (from the project root, after building the int8 PIAF index as bench/bench_pieces.py says):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/fit_compact.py --index /tmp/pieces-bench/piaf-index --sentences
    HF_HUB_OFFLINE=1 .venv/bin/python bench/fit_compact.py --index /tmp/pieces-bench/piaf-index --calibrate

``--sentences`` writes qa/store/sentence_codebook.npy: a product quantiser of 64 sub-vectors of 6
dimensions, 256 centroids each (64 bytes a sentence), fitted on the sentence vectors of the passages the
PIAF train questions point to (none of which a dev question points to), and prints how close the decoded
vectors come to the stored ones, on those passages and on the dev ones (held out).

``--pooled`` measures the other way, no sentence vector kept: each pooled at question time from the
passage's pieces inside the sentence (int8, and decoded from pq16), against the stored vector.

``--calibrate`` asks every PIAF train question of the int8 index, keeps the 8 passages its first stage
ranks best (those reranking reads, the relevant ones and the others), and compares what reranking reads in
int8 and in the compact format: the late interaction of the question's pieces with the passage's pieces
(decoded from their 16-byte codes), over the 8 passages and for the one of highest int8 late interaction,
and the best cosine of the question with the passage's sentences (decoded from their 64-byte codes). For
each it prints the gap and the least-squares map int8 ≈ a · compact + b: the map that would put compact
scores back on the scale the judge's floors (qa.judge) were fitted on, as far as French questions tell
(PIAF has no other); and, on the passage of highest late interaction, each question piece's best cosine by
whether that match is the same token or another. Not shipped: docs/benchmarks.md "Disk per passage" says
why. ``--questions`` asks other questions of another index instead, to check (not to fit) the gaps there:

    HF_HUB_OFFLINE=1 .venv/bin/python bench/fit_compact.py --index /tmp/pieces-bench/seed-int8 --calibrate \
        --questions eval/seed_questions.jsonl
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
from qa.evaluation import load_questions  # noqa: E402
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


def pooled(reader, dev_dir: Path) -> None:
    """The other way to keep no sentence vector at all: each pooled at question time from the passage's
    pieces that end inside the sentence (their mean, as the model's pooling is a mean of its tokens), the
    pieces as kept in int8 and as decoded from pq16. Printed: the cosine of that with the stored vector."""
    keys = split_keys(reader, dev_dir, "dev")
    pq16 = FORMATS["pq16"]
    cosines: dict[str, list[float]] = {"int8 pieces": [], "pq16 pieces, decoded": []}
    for key, passage, stored in zip(keys, reader.passages(keys), reader.pieces(keys), strict=True):
        segment, row = reader._where[key]  # noqa: SLF001
        sentences = normalised(segment.sentence_vectors(row))
        ends = stored.ends - (len(passage.titled_text) - len(passage.text))
        decoded = pq16.decode(pq16.encode(normalised(stored.vectors)), stored.vectors.shape[1])
        for vector, (start, end) in zip(sentences, passage.sentences, strict=True):
            inside = (ends > start) & (ends <= end)
            if inside.any():
                for name, pieces in (("int8 pieces", stored.vectors), ("pq16 pieces, decoded", decoded)):
                    cosines[name].append(float(normalised(pieces[inside].mean(axis=0)) @ vector))
    for name, values in cosines.items():
        print(
            f"  pooled from {name}: {len(values):,} dev sentences, cosine to the stored vector mean "
            f"{np.mean(values):.4f}, 5th percentile {np.percentile(values, 5):.4f}"
        )


def read_questions(path: Path, limit: int | None) -> list[str]:
    """The questions of a BEIR folder (its queries.jsonl) or of a question file (qa.evaluation), follow-ups
    left out (they are asked with their context)."""
    import json

    if path.is_dir():
        with open(path / "queries.jsonl", encoding="utf-8") as f:
            return [json.loads(line)["text"] for line in f][:limit]
    return [c.question for c in load_questions(path) if c.follow_up_of is None and not c.history][:limit]


def calibrate(reader, questions: list[str]) -> None:
    compact = FORMATS["pq16s64"]
    embedder = get_embedder(reader.manifest.settings.model, "onnx")
    mask, idf = embedder.word_piece_mask, reader.piece_idf()
    ranking = RANKING_STAGES["reranked"]
    token: list[tuple[float, float]] = []  # every passage of the head: late interaction in int8, compact
    first: list[tuple[float, float]] = []  # the passage of highest int8 late interaction: likewise
    sentence: list[tuple[float, float]] = []  # best sentence cosine: stored, decoded from 64 bytes
    # on that passage, each question piece's best cosine (int8, decoded), by whether the best int8 match is the
    # same token (a name, a word written alike) or another one (a synonym, a translation)
    matches: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for n, question in enumerate(questions):
        query = embedder.encode_query(question)
        asked = Pieces.of(query, mask)
        weights = piece_weights(asked, idf)
        head = first_stage(reader, question, query.vector, ranking.candidates, ranking.first)[: ranking.depth]
        scores, best = [], None
        for scored, stored in zip(head, reader.pieces([s.candidate.key for s in head]), strict=True):
            decoded = compact.decode(compact.encode(normalised(stored.vectors)), stored.vectors.shape[1])
            full, small = asked.vectors @ stored.vectors.T, asked.vectors @ decoded.T
            scores.append((late_interaction(full, weights), late_interaction(small, weights)))
            if best is None or scores[-1][0] > best[0]:
                best = (scores[-1][0], full, small, stored.ids)
            vectors = scored.candidate.sentence_vectors
            if len(vectors):
                coded = compact.decode_sentences(compact.encode_sentences(vectors), vectors.shape[1])
                sentence.append((float((vectors @ query.vector).max()), float((coded @ query.vector).max())))
        token += scores
        if best is not None and best[1].size:
            first.append(max(scores))
            _, full, small, ids = best
            same = ids[full.argmax(axis=1)] == asked.ids
            for alike, pair in zip(same, zip(full.max(axis=1), small.max(axis=1), strict=True), strict=True):
                matches[bool(alike)].append(pair)
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
    for alike, pairs in matches.items():
        full, small = np.array(pairs).T if pairs else (np.zeros(1), np.zeros(1))
        print(
            f"on that passage, question pieces whose best match is {'the same' if alike else 'another'} token: "
            f"{len(pairs):,}, best cosine int8 {full.mean():.3f}, decoded {small.mean():.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="files store of the PIAF corpus, int8 pieces")
    parser.add_argument("--train", type=Path, default=DATA / "piaf-train")
    parser.add_argument("--dev", type=Path, default=DATA / "piaf-dev")
    parser.add_argument("--sentences", action="store_true", help="fit and write the sentence codebook")
    parser.add_argument("--pooled", action="store_true", help="sentence vectors pooled from the pieces instead")
    parser.add_argument("--calibrate", action="store_true", help="compare compact scores with int8 ones")
    parser.add_argument("--out", type=Path, default=SENTENCE_CODEBOOK)
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    parser.add_argument(
        "--questions", type=Path, default=None, help="--calibrate: these questions (a BEIR folder or a question file)"
    )
    args = parser.parse_args()
    reader = open_store(args.index).open_reader()
    if args.sentences:
        fit_sentences(reader, args.train, args.dev, args.out)
    if args.pooled:
        pooled(reader, args.dev)
    if args.calibrate:
        calibrate(reader, read_questions(args.questions or args.train, args.limit))


if __name__ == "__main__":
    main()
