"""Ingest throughput: reading + cleaning + chunking one big article, and reading a collection.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_ingest.py
    PYTHONPATH=. .venv/bin/python bench/bench_ingest.py --sizes 1 10 50 \\
        --collection ../shared/data/scale/fr_passages.jsonl.gz
    PYTHONPATH=. .venv/bin/python bench/bench_ingest.py --sizes --collection FILE   # the collection alone

For each size, writes a synthetic French article of that many MB (the body
paragraphs of the seed articles repeated, hard-wrapped at 70 columns like the
scraped seeds, with stray mailto markup) into a temporary corpus folder, then
times ``load_corpus`` (read, decode, clean) and ``chunk_document`` over each article (passages
with their line ranges) and prints MB/s. The file-size limit is lifted for the
run. With --collection, times reading a .jsonl(.gz) collection (parse, clean,
hash every record) and prints records/s and the memory the documents hold,
then reading it again as an update does, every record's hash known
(run it alone, ``--sizes`` with no value, for that figure to mean something).
No model is loaded.

Measured on the 2-core development machine, shared (load 3-4):
1 MB 0.15 s, 10 MB 1.4 s, 50 MB 8.0 s (6-7 MB/s, peak RSS 1.25 GB at 50 MB);
the 147,009-record scale collection in 3.0 s (48,000 records/s), 258 MB held;
read again with every record known, as an update reads it: 0.75 s.
Before qa.ingest (qa/corpus.py): 1 MB 3.3 s, 4 MB 41 s (line starts recomputed
for every passage: quadratic), and 50 MB files were not limited.
"""

from __future__ import annotations

import argparse
import gc
import resource
import tempfile
import textwrap
import time
from pathlib import Path

from qa.chunking import chunk_document
from qa.ingest import load_corpus
from qa.ingest.collection import read_collection

ROOT = Path(__file__).resolve().parent.parent


def seed_paragraphs() -> list[str]:
    """The body paragraphs of the seed articles (after the navigation block)."""
    paragraphs = []
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        body = path.read_text(encoding="utf-8").split("2030 AGENDA\n", 1)[-1]
        paragraphs += [" ".join(p.split()) for p in body.split("\n") if len(p) > 80]
    return paragraphs


def synthetic_article(megabytes: float) -> str:
    paragraphs = seed_paragraphs()
    target = int(megabytes * 2**20)
    parts = ["Un article synthétique de plusieurs mégaoctets\n"]
    size, i = len(parts[0].encode()), 0
    while size < target:
        para = paragraphs[i % len(paragraphs)]
        if i % 7 == 0:
            para += ' Contact : "mailto:presse@iom.int">presse@iom.int'
        block = textwrap.fill(f"({i}) {para}", width=70) + "\n\n"
        parts.append(block)
        size += len(block.encode())
        i += 1
    return "".join(parts)


def rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def bench_article(megabytes: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.txt"
        path.write_text(synthetic_article(megabytes), encoding="utf-8")
        size = path.stat().st_size / 2**20
        started = time.perf_counter()
        corpus = load_corpus(Path(tmp), max_file_bytes=path.stat().st_size + 1)
        read = time.perf_counter() - started
        started = time.perf_counter()
        passages = [p for doc in corpus.documents for p in chunk_document(doc)]
        chunk = time.perf_counter() - started
    total = read + chunk
    print(
        f"{size:6.1f} MB  read+clean {read:6.2f} s  chunk {chunk:6.2f} s  total {total:6.2f} s"
        f"  {size / total:5.1f} MB/s  {len(passages):,} passages  peak RSS {rss_mb():,.0f} MB",
        flush=True,
    )


def bench_collection(path: Path) -> None:
    """Read a collection as a first indexing run does, then as an update does (every record known)."""
    gc.collect()
    before = current_rss_mb()
    started = time.perf_counter()
    records = read_collection(path, path.name, max_record_bytes=2**20)
    seconds = time.perf_counter() - started
    documents = records.documents
    chars = sum(len(d.source) for d in documents)
    print(
        f"{path.name}: {len(documents):,} records ({len(records.bad)} bad lines) in {seconds:.2f} s"
        f" = {len(documents) / seconds:,.0f} records/s; {chars / 1e6:.0f} M characters;"
        f" the documents hold {current_rss_mb() - before:,.0f} MB",
        flush=True,
    )
    known = {d.content_hash: d.doc_id.partition("#")[2] for d in documents}
    del documents, records
    started = time.perf_counter()
    again = read_collection(path, path.name, max_record_bytes=2**20, known=known)
    print(
        f"{path.name} again, every record known (an update): {len(again.unchanged):,} recognised, "
        f"{len(again.documents):,} read in {time.perf_counter() - started:.2f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=float, nargs="*", default=[1, 10, 50], help="article sizes in MB (none: skip)")
    parser.add_argument("--collection", type=Path, default=None, help="a .jsonl or .jsonl.gz collection to read")
    args = parser.parse_args()
    for megabytes in args.sizes:
        bench_article(megabytes)
    if args.collection:
        bench_collection(args.collection)


if __name__ == "__main__":
    main()
