"""Full build versus incremental update of the index on ~2,000 documents.

Reproduce (from the project root, after `make install`):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_reindex.py \
        --passages ../shared/data/scale/fr_passages.jsonl.gz --docs 2000

Each document is one passage of the French scale set (Assemblée nationale
debates, Gutenberg books), written as `<id>.txt` with a title line. The script
times a full build, then an update after editing one document, both in this
process, with the model reloaded before each step so that its load is counted.
It prints the time of each part and the update/full ratio.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import tempfile
import time
from pathlib import Path

from qa.embedding import load_model

from qa.indexer import update_index


def write_corpus(passages: Path, folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    with gzip.open(passages, "rt", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            path = folder / f"{record['id']}.txt"
            path.write_text(f"{record['source']} {record['doc']}\n{record['text']}\n", encoding="utf-8")
            files.append(path)
            if len(files) == count:
                break
    return files


def timed_update(corpus: Path, index: Path, label: str, **kwargs) -> float:
    load_model.cache_clear()  # count the model load in every step, as a fresh `qa index` would
    started = time.perf_counter()
    report = update_index(corpus, index, **kwargs)
    total = time.perf_counter() - started
    parts = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in report.seconds.items())
    print(f"{label}: {total:.1f} s — {report.summary()}; {report.passages_embedded} passages embedded")
    print(f"  {parts}")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=Path, default=Path("../shared/data/scale/fr_passages.jsonl.gz"))
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="qa-bench-"))
    corpus, index = work / "corpus", work / "index"
    shutil.rmtree(index, ignore_errors=True)
    files = write_corpus(args.passages, corpus, args.docs)
    print(f"{len(files)} documents in {corpus}")

    full = timed_update(corpus, index, "full build", show_progress=True)
    edited = files[len(files) // 2]
    edited.write_text(
        edited.read_text(encoding="utf-8") + "Une phrase ajoutée pour le banc d'essai.\n", encoding="utf-8"
    )
    update = timed_update(corpus, index, "update after editing one document")
    print(f"update / full = {update / full:.4f} (1 / documents = {1 / len(files):.4f})")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
