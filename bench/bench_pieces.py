"""Formats of the stored word pieces side by side: bytes a passage and reranking quality on PIAF dev.

Reproduce (from the project root, after `make install`; each format asks the 1,730 questions again, the
first one embeds them: about a minute a format on 2 quiet cores, much more on a busy machine):

    HF_HUB_OFFLINE=1 .venv/bin/python -m qa eval ../shared/data/piaf-dev --stage reranked \
        --store /tmp/pieces-bench/piaf-index                       # builds the PIAF index once (int8 pieces)
    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_pieces.py --index /tmp/pieces-bench/piaf-index

Every format is measured on the same pieces: those of the index given, which must hold int8 pieces
(the default; not ``QA_PIECES=pq16``). The PIAF corpus serves both splits, but the passages the train
questions point to and those the dev questions point to are disjoint: a PCA or product quantiser is
fitted on the pieces of the train passages only, and the dev questions are asked. Each format encodes
every passage's pieces and decodes them at question time, as a store would; the questions' own pieces
stay as the model gives them. The question vectors are computed once and reused by every format.

Printed: format, bytes a passage (the vector codes and their scales; the ids and ends every format
keeps are counted apart), MRR@10 and Hit@1 on PIAF dev at the "reranked" stage (no reading), and the
time a question spends fetching, decoding and reranking its 8 passages' pieces.

Also: ``--fit FILE`` writes the pq16 codebook the stores ship (qa/store/piece_codebook.npy);
``--convert FROM TO`` copies an int8 files store into a pq16 one (``--pieces pq16s64``: sentence vectors coded too)
through the store's writer;
``--disk FOLDER...`` prints the bytes a passage of files stores, file by file.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import retrieval  # noqa: E402
from qa.embed import Pieces, get_embedder  # noqa: E402
from qa.embed.base import normalised  # noqa: E402
from qa.evaluation import evaluate, load_beir  # noqa: E402
from qa.ranking import RANKING_STAGES  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402
from qa.store import open_store, passage_key  # noqa: E402
from qa.store.scoring import dequantise, quantise  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
CACHE = Path("/tmp/pieces-bench/fitted")  # product quantisers trained once, reused by later runs
META = 6  # bytes a piece beside its vector: token id (int32) and end (uint16)


@dataclass(frozen=True)
class Format:
    """A way of keeping a passage's piece vectors: ``encode`` gives its stored bytes, ``decode`` the
    vectors the reranker reads back (normalised)."""

    name: str
    encode: Callable[[np.ndarray], bytes]
    decode: Callable[[bytes, int], np.ndarray]  # (stored bytes, pieces) -> vectors
    keep: Callable[[Pieces, np.ndarray], np.ndarray] | None = None  # which pieces are kept, given the idf


def int8_format() -> Format:
    def encode(vectors: np.ndarray) -> bytes:
        codes, scales = quantise(vectors)
        return codes.tobytes() + scales.tobytes()

    def decode(data: bytes, n: int) -> np.ndarray:
        dim = (len(data) // n) - 4
        codes = np.frombuffer(data[: n * dim], dtype=np.int8).reshape(n, dim)
        return normalised(dequantise(codes, np.frombuffer(data[n * dim :], dtype=np.float32)))

    return Format("int8 384-d (today)", encode, decode)


def binary_format(mean: np.ndarray | None) -> Format:
    """Signs, one bit a dimension, of the vectors (less the train mean when given): ±1 read back."""
    centre = np.zeros(0) if mean is None else mean

    def encode(vectors: np.ndarray) -> bytes:
        return np.packbits((vectors - (centre if len(centre) else 0)) > 0, axis=1).tobytes()

    def decode(data: bytes, n: int) -> np.ndarray:
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8).reshape(n, -1), axis=1)
        return normalised(bits.astype(np.float32) * 2 - 1)

    return Format("binary (sign)" if mean is None else "binary (sign, less the train mean)", encode, decode)


def pca_format(train: np.ndarray, dims: int) -> Format:
    """Projected on the first ``dims`` principal axes of the train pieces, int8 with a scale each;
    read back in the model's space (mean + projection)."""
    mean = train.mean(axis=0)
    centred = (train - mean).astype(np.float64)
    values, axes = np.linalg.eigh(centred.T @ centred)
    basis = axes[:, np.argsort(-values)[:dims]].T.astype(np.float32)

    def encode(vectors: np.ndarray) -> bytes:
        codes, scales = quantise((vectors - mean) @ basis.T)
        return codes.tobytes() + scales.tobytes()

    def decode(data: bytes, n: int) -> np.ndarray:
        codes = np.frombuffer(data[: n * dims], dtype=np.int8).reshape(n, dims)
        return normalised(mean + dequantise(codes, np.frombuffer(data[n * dims :], dtype=np.float32)) @ basis)

    return Format(f"PCA {dims}-d int8", encode, decode)


def trained_pq(train: np.ndarray, m: int, nbits: int = 8):
    """A faiss ProductQuantizer fitted on a fixed sample of ``train`` (64 vectors a centroid, 15 rounds)."""
    pq = faiss.ProductQuantizer(train.shape[1], m, nbits)
    cache = CACHE / f"pq-{m}x{nbits}-{len(train)}.npy"
    if cache.is_file():
        faiss.copy_array_to_vector(np.load(cache).ravel(), pq.centroids)
        return pq
    pq.cp.niter = 15
    sample = np.random.default_rng(0).choice(len(train), min(len(train), 64 * 2**nbits), replace=False)
    pq.train(np.ascontiguousarray(train[np.sort(sample)], dtype=np.float32))
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(cache, faiss.vector_to_array(pq.centroids))
    return pq


def pq_format(train: np.ndarray, m: int, nbits: int = 8, scaled: bool = True) -> Format:
    """faiss ProductQuantizer: ``m`` sub-vectors, each replaced by the nearest of 2**nbits centroids;
    read back normalised (``scaled``) or as decoded (shorter: a centroid is the mean of its vectors)."""
    pq = trained_pq(train, m, nbits)

    def encode(vectors: np.ndarray) -> bytes:
        return pq.compute_codes(np.ascontiguousarray(vectors, dtype=np.float32)).tobytes()

    def decode(data: bytes, n: int) -> np.ndarray:
        decoded = pq.decode(np.frombuffer(data, dtype=np.uint8).reshape(n, pq.code_size))
        return normalised(decoded) if scaled else decoded

    return Format(f"PQ {m}×{nbits} bits", encode, decode)


def shipped_pq16() -> Format:
    """The format the stores write for the default model (qa.store.piece_formats), with its codebook."""
    from qa.store.piece_formats import PQPieces

    pq = PQPieces()
    return Format(
        "pq16",
        lambda vectors: pq.encode(vectors).tobytes(),
        lambda data, n: pq.decode(np.frombuffer(data, dtype=np.uint8).reshape(n, -1), 384),
    )


def pruned(fmt: Format, keep: Callable[[Pieces, np.ndarray], np.ndarray]) -> Format:
    return replace(fmt, keep=keep)


def opq_format(train: np.ndarray, m: int) -> Format:
    """A learned rotation (faiss OPQMatrix) before a product quantiser of ``m`` bytes: the rotation
    spreads the variance evenly over the sub-vectors."""
    sample = train[np.sort(np.random.default_rng(0).choice(len(train), min(len(train), 64 * 256), replace=False))]
    opq = faiss.OPQMatrix(train.shape[1], m)
    opq.niter = 20
    opq.train(np.ascontiguousarray(sample, dtype=np.float32))
    pq = faiss.ProductQuantizer(train.shape[1], m, 8)
    pq.cp.niter = 15
    pq.train(opq.apply(np.ascontiguousarray(sample, dtype=np.float32)))

    def encode(vectors: np.ndarray) -> bytes:
        return pq.compute_codes(opq.apply(np.ascontiguousarray(vectors, dtype=np.float32))).tobytes()

    def decode(data: bytes, n: int) -> np.ndarray:
        codes = np.frombuffer(data, dtype=np.uint8).reshape(n, pq.code_size)
        return normalised(opq.reverse_transform(pq.decode(codes)))

    return Format(f"OPQ {m}", encode, decode)


def rarest(count: int) -> Callable[[Pieces, np.ndarray], np.ndarray]:
    """Keep the ``count`` pieces of a passage with the highest idf (in text order)."""

    def keep(pieces: Pieces, idf: np.ndarray) -> np.ndarray:
        weights = idf[np.minimum(pieces.ids, len(idf) - 1)]
        chosen = np.zeros(len(pieces.ids), dtype=bool)
        chosen[np.argsort(-weights, kind="stable")[:count]] = True
        return chosen

    return keep


def not_common(share: float, passages: int) -> Callable[[Pieces, np.ndarray], np.ndarray]:
    """Drop the pieces held by more than ``share`` of the ``passages`` (stop words: de, la, le, …)."""
    limit = np.log((passages + 1) / (share * passages + 0.5))  # the idf of a piece in that share of them

    def keep(pieces: Pieces, idf: np.ndarray) -> np.ndarray:
        kept = idf[np.minimum(pieces.ids, len(idf) - 1)] > limit
        return kept if kept.any() else np.ones(len(kept), dtype=bool)

    return keep


class Encoded:
    """Every passage's pieces in one format, decoded when the reranker asks, with the time it took."""

    def __init__(self, reader, fmt: Format, pieces: dict[int, Pieces], idf: np.ndarray):
        self.reader, self.seconds = reader, 0.0
        self.stored: dict[int, tuple[Pieces, bytes]] = {}
        self.fmt = fmt
        for key, p in pieces.items():
            if fmt.keep is not None:
                kept = fmt.keep(p, idf)
                p = Pieces(ids=p.ids[kept], vectors=p.vectors[kept], ends=p.ends[kept])
            self.stored[key] = (p, fmt.encode(p.vectors) if len(p.ids) else b"")

    def bytes_per_passage(self) -> float:
        return float(np.mean([len(data) for _, data in self.stored.values()]))

    def pieces_per_passage(self) -> float:
        return float(np.mean([len(p.ids) for p, _ in self.stored.values()]))

    def pieces(self, keys: Sequence[int]) -> list[Pieces]:
        started = time.perf_counter()
        out = []
        for key in keys:
            p, data = self.stored[key]
            vectors = self.fmt.decode(data, len(p.ids)) if len(p.ids) else p.vectors
            out.append(Pieces(ids=p.ids, vectors=vectors, ends=p.ends))
        self.seconds += time.perf_counter() - started
        return out


class ReaderWith:
    """A store reader whose pieces come from an :class:`Encoded`; the rest is the real reader's."""

    def __init__(self, reader, encoded: Encoded):
        self._reader, self._encoded = reader, encoded

    def __getattr__(self, name):
        return getattr(self._reader, name)

    def __len__(self) -> int:
        return len(self._reader)

    def pieces(self, keys: Sequence[int]) -> list[Pieces]:
        return self._encoded.pieces(keys)


class StoreWith:
    def __init__(self, store, reader):
        self._store, self._reader = store, reader
        self.location = store.location

    def current_version(self) -> str | None:
        return self._reader.version

    def read_manifest(self):
        return self._reader.manifest

    def open_reader(self):
        return self._reader


class QueryCache:
    """The embedder, its question passes kept: every format is asked the same questions."""

    def __init__(self, embedder):
        self._embedder = embedder
        self._queries: dict = {}

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def encode_query(self, text: str):
        if text not in self._queries:
            self._queries[text] = self._embedder.encode_query(text)
        return self._queries[text]


def relevant_docs(folder: Path, split: str) -> set[str]:
    with open(folder / "qrels" / f"{split}.tsv", encoding="utf-8") as f:
        return {f"corpus.jsonl#{row['corpus-id']}" for row in csv.DictReader(f, delimiter="\t")}


def timed_rerank(clock: list[float]):
    original = retrieval.rerank

    def rerank(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            clock[0] += time.perf_counter() - started

    return rerank


def disk(folders: Sequence[Path]) -> None:
    """Bytes a passage of files-store indexes, file by file (segments) and in all (the whole folder)."""
    from qa.store.faiss import SEGMENTS, FilesStore

    for folder in folders:
        store = FilesStore(folder)
        manifest = store.read_manifest()
        assert manifest is not None, f"no index in {folder}"
        passages = manifest.passage_count
        by_name: dict[str, int] = {}
        for path in (folder / SEGMENTS).rglob("*"):
            if path.is_file():
                by_name[path.name] = by_name.get(path.name, 0) + path.stat().st_size
        total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        parts = ", ".join(
            f"{name} {size / passages:,.0f}" for name, size in sorted(by_name.items(), key=lambda x: -x[1])
        )
        print(
            f"{folder}: {passages:,} passages ({manifest.settings.pieces} pieces), {total / passages:,.0f} B a passage"
        )
        print(f"  segments, bytes a passage: {parts}")
        rest = (total - sum(by_name.values())) / passages
        print(f"  generations (manifest, piece counts; the previous one kept): {rest:,.0f}")


def convert(source: Path, target: Path, piece_format: str = "pq16") -> None:
    """Write every article of the files store in ``source`` into a new one in ``target``, its pieces kept
    in ``piece_format``, through the store's own writer: what indexing would write, less the model pass
    (the pieces come from the int8 ones, within 0.4% of the model's, and the sentence vectors from float16)."""
    from qa.store.base import EncodedPassage
    from qa.store.faiss import FilesStore

    store = FilesStore(source)
    reader = store.open_reader()
    manifest = reader.manifest
    settings = replace(manifest.settings, pieces=piece_format)
    with FilesStore(target).writer(settings, rebuild=True) as writer:
        for doc_id, entry in manifest.documents.items():
            keys = [passage_key(pid) for pid in entry.passage_ids]
            vectors = reader.passage_vectors(keys)
            encoded = [
                EncodedPassage(passage, vector, segment.sentence_vectors(row), pieces)
                for passage, vector, (segment, row), pieces in zip(
                    reader.passages(keys),
                    vectors,
                    (reader._where[k] for k in keys),  # noqa: SLF001 (the files store's own placement)
                    reader.pieces(keys),
                    strict=True,
                )
            ]
            writer.add(doc_id, entry.content_hash, entry.title, encoded, entry.date)
        print(f"{target}: {writer.commit()} ({manifest.passage_count:,} passages, {piece_format} pieces)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="files store of the PIAF dev corpus, int8 pieces")
    parser.add_argument("--disk", type=Path, nargs="*", help="only print the bytes a passage of these files stores")
    parser.add_argument(
        "--convert", type=Path, nargs=2, metavar=("FROM", "TO"), help="only copy an int8 files store into a pq16 one"
    )
    parser.add_argument("--pieces", default="pq16", help="the format --convert writes (pq16, pq16s64, int8)")
    parser.add_argument("--dev", type=Path, default=DATA / "piaf-dev")
    parser.add_argument("--train", type=Path, default=DATA / "piaf-train")
    parser.add_argument("--limit", type=int, default=None, help="only the first N dev questions")
    parser.add_argument("--formats", default="", help="comma-separated name prefixes to run (default: all)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows to this file")
    parser.add_argument(
        "--fit",
        type=Path,
        default=None,
        help="write the 16-byte codebook here (float16, as qa.store ships it) and stop",
    )
    args = parser.parse_args()
    if args.disk:
        disk(args.disk)
        return
    if args.convert:
        convert(*args.convert, piece_format=args.pieces)
        return
    if args.index is None:
        parser.error("--index is needed (or --disk)")
    store = open_store(args.index)
    reader = store.open_reader()
    keys = [key for key in reader._where]  # noqa: SLF001 (a benchmark reads the files store's own placement)
    passages = {p.passage_id: p for p in reader.passages()}
    pieces = dict(zip(keys, reader.pieces(keys), strict=True))
    idf = reader.piece_idf()
    train_docs = relevant_docs(args.train, "train")
    dev_docs = relevant_docs(args.dev, "dev")
    assert not train_docs & dev_docs, "train and dev passages overlap"
    train_keys = [k for k, p in zip(keys, reader.passages(keys), strict=True) if p.doc_id in train_docs]
    train = np.concatenate([pieces[k].vectors for k in train_keys])
    meta_bytes = float(np.mean([len(p.ids) for p in pieces.values()])) * META
    print(
        f"{len(passages)} passages, {np.mean([len(p.ids) for p in pieces.values()]):.1f} pieces a passage; "
        f"fitted on {len(train):,} pieces of {len(train_keys)} train passages; "
        f"ids and ends: {meta_bytes:.0f} B a passage",
        flush=True,
    )

    if args.fit:
        pq = trained_pq(train, 16)
        centroids = faiss.vector_to_array(pq.centroids).reshape(pq.M, pq.ksub, pq.dsub)
        np.save(args.fit, centroids.astype(np.float16))
        print(f"codebook {centroids.shape} written to {args.fit}")
        return
    mean = train.mean(axis=0)
    formats: list[tuple[str, Callable[[], Format | None]]] = [
        ("int8 384-d (today)", int8_format),
        ("binary (sign)", lambda: binary_format(None)),
        ("binary (sign, less the train mean)", lambda: binary_format(mean)),
        *((f"PCA {d}-d int8", lambda d=d: pca_format(train, d)) for d in (64, 96, 128)),
        *((f"PQ {m}×8 bits", lambda m=m: pq_format(train, m)) for m in (8, 16, 24, 32)),
        ("OPQ 16 (rotation, then PQ 16×8 bits)", lambda: opq_format(train, 16)),
        ("PQ 16×8 bits, read back as decoded (not normalised)", lambda: pq_format(train, 16, scaled=False)),
        ("int8, pieces in ≤5% of passages", lambda: pruned(int8_format(), not_common(0.05, len(keys)))),
        ("PQ 16, pieces in ≤5%", lambda: pruned(pq_format(train, 16), not_common(0.05, len(keys)))),
        ("PQ 32, pieces in ≤5%", lambda: pruned(pq_format(train, 32), not_common(0.05, len(keys)))),
        ("PQ 32, 48 rarest pieces", lambda: pruned(pq_format(train, 32), rarest(48))),
        ("pq16 as the stores keep it (shipped codebook, float16)", shipped_pq16),
        ("none (first stage only)", lambda: None),
    ]
    wanted = [w for w in args.formats.split(",") if w]
    embedder = QueryCache(get_embedder(reader.manifest.settings.model, "onnx"))
    _, cases = load_beir(args.dev, "dev")
    cases = cases[: args.limit]
    rows = []
    print(
        "\n| format | vector bytes a passage | with ids and ends | pieces a passage | MRR@10 | Hit@1 "
        "| rerank ms a question |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, make in formats:
        if wanted and not any(name.startswith(w) for w in wanted):
            continue
        fmt = make()
        ranking = RANKING_STAGES["reranked"]
        if fmt is None:  # no reranking; the judge still reads the article's int8 pieces for the names
            ranking, encoded = replace(ranking, rerank=None), Encoded(reader, int8_format(), pieces, idf)
        else:
            encoded = Encoded(reader, fmt, pieces, idf)
        clock = [0.0]
        retrieval.rerank = timed_rerank(clock)  # type: ignore[attr-defined]
        served = Retriever(StoreWith(store, ReaderWith(reader, encoded)), embedder, args.dev, ranking)  # type: ignore[arg-type]
        report = evaluate(served, cases, ranking=ranking)
        figures = report.figures["all"]
        row = {
            "format": name,
            "bytes": encoded.bytes_per_passage() if fmt else 0.0,
            "pieces": encoded.pieces_per_passage() if fmt else 0.0,  # none: nothing stored for reranking
            "MRR@10": figures["MRR@10"],
            "Hit@1": figures["Hit@1"],
            "rerank ms": (clock[0] + encoded.seconds) / len(cases) * 1000,
        }
        rows.append(row)
        print(
            f"| {name} | {row['bytes']:,.0f} | {row['bytes'] + row['pieces'] * META:,.0f} | {row['pieces']:.0f} "
            f"| {row['MRR@10']:.4f} | {row['Hit@1']:.4f} "
            f"| {row['rerank ms']:.2f} |",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
