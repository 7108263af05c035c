"""Indexing speed, question latency, memory and disk at 2k, 147k and 1M passages.

Reproduce (from the project root, after `make install`; the 147k row takes about an hour on 2 cores):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_scale.py --sizes 2000 147009 --legacy 2000 --million

For each size N, the first N records of the scale set (French parliamentary debates and books,
~480 characters each) are written as a JSONL collection in a temporary corpus folder, then:

- `qa index` runs in a fresh process: passages/s (model load included), its peak RSS, the disk used;
- 60 seed questions are answered warm by the default pipeline (reranking and reading included;
  the reader's per-sentence cache is emptied before each question, so no passage is cached):
  median and 95th percentile, and the RSS of the process that answers;
- one record is edited and `qa index` runs again in a fresh process: the incremental update.

`--legacy N` adds a row for the pipeline this project had before one model pass per passage:
torch in float32, every passage *and every one of its sentences* read by the model separately
(timed on N passages, with the same batching).

`--million` checks the nearest-neighbour index at about 1M vectors: the 147k index's real
passage vectors and 6 synthetic copies (see `million`), with new ids; flat (exact) against the
IVF index the store builds over its segments past 200k vectors: recall@10 and search latency with one
thread, at several `nprobe`. It also times BM25 over the 147k texts repeated 7 times, and
reports its memory. Without --sizes it uses the largest index already in --work:

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_scale.py --sizes --million --work /tmp/qa-bench

`--updates K` times K more one-edit updates of that largest index (median and max), e.g.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_scale.py --sizes --updates 5 --work /tmp/qa-bench

each in a fresh `qa index` process, which loads the model first; with `--kept`, in one process that keeps
it loaded between updates, as `qa index --watch` does (a first update, not timed, loads it).

`--latency DIR...` times the 60 questions on each index folder given, side by side in one process, over the
largest corpus in --work: an index in the default word-piece format against its int8 twin, e.g.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_scale.py --sizes --work /tmp/qa-bench \
        --latency /tmp/qa-bench/index-147009 /tmp/qa-bench/index-147009-int8
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCALE_SET = ROOT.parent / "shared" / "data" / "scale" / "fr_passages.jsonl.gz"


def scale_records(count: int, source: Path = SCALE_SET) -> list[dict]:
    """The first ``count`` records of the scale set, as collection records."""
    records = []
    with gzip.open(source, "rt", encoding="utf-8") as f:
        for line in f:
            data = json.loads(line)
            records.append({"id": data["id"], "title": data.get("doc", ""), "text": data["text"]})
            if len(records) >= count:
                break
    return records


def write_collection(folder: Path, count: int, source: Path = SCALE_SET) -> list[dict]:
    folder.mkdir(parents=True, exist_ok=True)
    records = scale_records(count, source)
    with open(folder / "scale.jsonl", "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return records


def run_qa(*args: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `qa` command in a fresh process."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "qa", *args], env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"qa {' '.join(args)} failed")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], share: float) -> float:
    values = sorted(values)
    return values[int(share * (len(values) - 1))]


def questions() -> list[str]:
    lines = (ROOT / "eval" / "seed_questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:60]


def latency(corpus: Path, store: Path) -> tuple[float, float, float]:
    """Median and p95 (ms) of the default pipeline's answers, no passage cached; RSS (MB) after."""
    from qa.retrieval import Retriever
    from qa.spans import find_spans

    retriever = Retriever.open(store, corpus)
    retriever.answer("warm-up: who leads the office?")
    timings = []
    for question in questions():
        find_spans.cache_clear()
        started = time.perf_counter()
        retriever.answer(question)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), percentile(timings, 0.95), rss_mb()


def size_row(count: int, work: Path) -> dict:
    corpus, store = work / f"corpus-{count}", work / f"index-{count}"
    write_collection(corpus, count)
    seconds, index_rss = run_qa("index", "--corpus", str(corpus), "--store", str(store))
    median, p95, answer_rss = latency(corpus, store)
    update_seconds = edit_and_update(corpus, store, count // 2)
    return {
        "passages": count,
        "index s": seconds,
        "passages/s": count / seconds,
        "index RSS MB": index_rss,
        "disk MB": disk_mb(store),
        "question p50 ms": median,
        "question p95 ms": p95,
        "answering RSS MB": answer_rss,
        "update after one edit s": update_seconds,
    }


def edit_record(corpus: Path, line: int) -> None:
    """One sentence added to one record of the collection."""
    path = corpus / "scale.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[line])
    lines[line] = json.dumps(dict(record, text=record["text"] + " Texte mis à jour."), ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def edit_and_update(corpus: Path, store: Path, line: int) -> float:
    """Wall seconds of `qa index` in a fresh process after one sentence is added to one record."""
    edit_record(corpus, line)
    return run_qa("index", "--corpus", str(corpus), "--store", str(store))[0]


def updates(work: Path, count: int, times: int) -> dict:
    """``times`` updates of the index of ``count`` passages in ``work``, one edited record each."""
    seconds = [
        edit_and_update(work / f"corpus-{count}", work / f"index-{count}", (i + 1) * count // (times + 1))
        for i in range(times)
    ]
    return {"passages": count, "updates": times, "median s": statistics.median(seconds), "max s": max(seconds)}


def kept_updates(work: Path, count: int, times: int) -> dict:
    """``times`` one-edit updates in this process, after a first one that loads the model (not timed):
    what an edit costs `qa index --watch`, which calls the same update each time the corpus changes."""
    from qa.indexer import update_index

    corpus, store = work / f"corpus-{count}", work / f"index-{count}"
    seconds = []
    for i in range(times + 1):
        edit_record(corpus, (i + 1) * count // (times + 2))
        started = time.perf_counter()
        update_index(corpus, store)
        seconds.append(time.perf_counter() - started)
    kept = seconds[1:]
    median, most = statistics.median(kept), max(kept)
    return {"passages": count, "updates": times, "first s": seconds[0], "median s": median, "max s": most}


def legacy_row(count: int) -> dict:
    """Torch float32, each passage and each of its sentences read separately, as before."""
    from qa.chunking import chunk_document
    from qa.embed import get_embedder
    from qa.ingest import load_corpus

    with tempfile.TemporaryDirectory() as tmp:
        write_collection(Path(tmp), count)
        documents = load_corpus(Path(tmp)).documents
    passages = [p for d in documents for p in chunk_document(d)]
    started = time.perf_counter()
    embedder = get_embedder(backend="torch")
    texts = [p.titled_text for p in passages] + [p.text[s:e] for p in passages for s, e in p.sentences]
    for start in range(0, len(texts), 256):
        embedder.encode_documents(texts[start : start + 256])
    seconds = time.perf_counter() - started
    return {
        "passages": len(passages),
        "index s": seconds,
        "passages/s": len(passages) / seconds,
        "texts read by the model": len(texts),
    }


def million(store: Path, copies: int = 7) -> dict:
    """Flat against IVF at ~1M vectors, and BM25 at the same size.

    The vectors: the 147k index's real passage vectors, and 6 synthetic copies of them, each
    vector of a copy a mix of one real vector (60–90 %) and another drawn at random: new
    vectors on the model's own manifold, near the real ones but not duplicates. The questions:
    the first twelve words of 200 random passages, read by the model as questions."""
    import faiss

    from qa.embed import get_embedder
    from qa.lexical import BM25, TermCounts
    from qa.store import passage_key
    from qa.store.faiss import FilesStore
    from qa.store.vectors import ANN_THRESHOLD, REFINED, best_first, build_ivf, nprobe_for, search_ivf

    reader = FilesStore(store).open_reader()
    base = reader.passage_vectors([passage_key(p.passage_id) for p in reader.passages()])  # from its segments
    rng = np.random.default_rng(0)
    mixes = []
    for _ in range(copies - 1):
        share = rng.uniform(0.6, 0.9, (len(base), 1)).astype(np.float32)
        mixes.append(share * base + (1 - share) * base[rng.permutation(len(base))])
    vectors = np.concatenate([base, *mixes])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    keys = np.arange(len(vectors), dtype=np.int64)
    texts = [p.titled_text for p in reader.passages()]
    embedder = get_embedder()
    openings = [" ".join(p.split()[:12]) for p in np.array(texts, dtype=object)[rng.choice(len(texts), 200)]]
    queries = np.stack([embedder.encode_query(text).vector for text in openings]).astype(np.float32)

    before = rss_mb()
    started = time.perf_counter()
    ivf = build_ivf(vectors, keys)  # as the store builds it for a group of segments past the threshold
    build = time.perf_counter() - started
    assert len(vectors) >= ANN_THRESHOLD
    every = np.packbits(np.ones(len(vectors), dtype=bool), bitorder="little")

    def search(query: np.ndarray) -> set[int]:
        """As the store searches a group: candidates by the 8-bit codes, scored again exactly."""
        candidates = search_ivf(ivf, query, 10 * REFINED, every)
        return set(candidates[best_first(vectors[candidates] @ query, 10)].tolist())

    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    faiss.omp_set_num_threads(1)
    exact = [set(flat.search(q.reshape(1, -1), 10)[1][0]) for q in queries]
    probes = {}
    nlist = faiss.extract_index_ivf(ivf).nlist
    default = nprobe_for(nlist)
    for nprobe in sorted({256, 512, default, 1024, 2048} & set(range(1, nlist + 1))):
        faiss.extract_index_ivf(ivf).nprobe = nprobe
        timings, recall = [], []
        for q, truth in zip(queries, exact, strict=True):
            started = time.perf_counter()
            found = search(q)
            timings.append((time.perf_counter() - started) * 1000)
            recall.append(len(found & truth) / 10)
        probes[nprobe] = (float(np.mean(recall)), statistics.median(timings), percentile(timings, 0.95))
    recall_at_default, median_at_default, p95_at_default = probes[default]
    flat_timings = []
    for q in queries[:50]:
        started = time.perf_counter()
        flat.search(q.reshape(1, -1), 10)
        flat_timings.append((time.perf_counter() - started) * 1000)

    texts = texts * copies
    rss = rss_mb()
    started = time.perf_counter()
    counts = TermCounts.of(texts)
    bm25 = BM25([(counts, np.arange(len(texts)), np.arange(len(texts)))])
    bm25_build = time.perf_counter() - started
    bm25_timings = []
    for question in questions()[:50]:
        started = time.perf_counter()
        bm25.scores(question)
        bm25_timings.append((time.perf_counter() - started) * 1000)
    return {
        "vectors": len(vectors),
        "IVF lists": nlist,
        "IVF build s": build,
        "nprobe": default,
        "IVF recall@10": recall_at_default,
        "IVF search p50 ms": median_at_default,
        "IVF search p95 ms": p95_at_default,
        "other nprobe (recall@10, p50 ms, p95 ms)": {n: v for n, v in probes.items() if n != default},
        "flat search p50 ms": statistics.median(flat_timings),
        "vectors RSS MB": rss - before,
        "BM25 build s": bm25_build,
        "BM25 p50 ms": statistics.median(bm25_timings),
        "BM25 p95 ms": percentile(bm25_timings, 0.95),
        "BM25 RSS MB": rss_mb() - rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[2000])
    parser.add_argument("--legacy", type=int, default=0, help="passages for the row of the previous pipeline")
    parser.add_argument("--million", action="store_true", help="also the ~1M vectors check, from the largest index")
    parser.add_argument("--updates", type=int, default=0, help="that many more one-edit updates of the largest index")
    parser.add_argument("--kept", action="store_true", help="--updates in one process that keeps the model loaded")
    parser.add_argument("--work", type=Path, default=None, help="folder for corpora and indexes (default: a temp one)")
    parser.add_argument("--latency", type=Path, nargs="*", default=[], help="indexes of the largest corpus to time")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-bench-scale-"))
    for count in args.sizes:
        print(json.dumps(size_row(count, work)), flush=True)
    if args.legacy:
        print(json.dumps({"pipeline": "before: torch fp32, every sentence read again"} | legacy_row(args.legacy)))
    # Without --sizes, the largest index already built in --work is used.
    built = args.sizes or [int(n) for p in work.glob("index-*") if (n := p.name.split("-")[1]).isdigit()]
    if (args.million or args.updates or args.latency) and not built:
        raise SystemExit("--million, --updates and --latency need an index: give --sizes, or --work holding one")
    for store in args.latency:
        median, p95, rss = latency(work / f"corpus-{max(built)}", store)
        timed = {"p50 ms": median, "p95 ms": p95, "rss MB": rss}
        print(json.dumps({"check": "question latency", "index": str(store)} | timed), flush=True)
    if args.updates:
        timed = kept_updates if args.kept else updates
        check = "one-edit updates, model kept loaded" if args.kept else "one-edit updates"
        print(json.dumps({"check": check} | timed(work, max(built), args.updates)), flush=True)
    if args.million:
        print(json.dumps({"check": "~1M vectors"} | million(work / f"index-{max(built)}")), flush=True)


if __name__ == "__main__":
    main()
