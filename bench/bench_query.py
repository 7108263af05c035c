"""Start-up and question latency on the seed corpus.

Reproduce (from the project root, after `make install`):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_query.py --repeat 3

Prints, side by side:
- loading the model in this process, for each backend (onnx int8, torch float32);
- a cold `qa ask "…"` in a fresh process (import, both models, index, one answer), median of 3, for a
  "who" question and for an open one; the reader model was built by the index update before;
- `app.py` from launch to its page served, with the index up to date, median of 3;
- warm latency of one question, for each stage of the ranking (first stage only, with reranking, the
  default, and the default with the reader model's score weighed in, which reads the 8 best passages);
  no passage is cached: the span finder's cache is emptied before each question, and the reranker's
  word pieces come from the index. Side by side, the index in each word-piece format: the default
  (``int8``) and the archive format (``QA_PIECES=pq16s64``, whose best 5 passages the model reads again
  at each question, qa.rerank.sharpen).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.embed import DEFAULT_MODEL, get_embedder, model_folder  # noqa: E402
from qa.indexer import update_index  # noqa: E402
from qa.ranking import RANKING_STAGES, Ranking, ReadWeights  # noqa: E402
from qa.reader_model import ensure_reader_model  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402
from qa.spans import find_spans  # noqa: E402

ENV = dict(os.environ, HF_HUB_OFFLINE="1")


def percentile(values: list[float], share: float) -> float:
    return sorted(values)[int(share * (len(values) - 1))]


COLD_QUESTIONS = {
    "who": "Who leads IOM Mongolia?",
    "open": "What was IOM's key message at the Non-Aligned summit in Baku?",
}


def cold_ask(corpus: Path, index: Path, question: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "qa", "ask", question, "--store", str(index), "--corpus", str(corpus)],
        env=ENV,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def app_start(corpus: Path, index: Path) -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--store", str(index), "--corpus", str(corpus)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.05)
        raise SystemExit("app.py did not serve its page within 120 s")
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "seed_questions.jsonl")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    for backend in ("onnx", "torch"):
        started = time.perf_counter()
        get_embedder(backend=backend).encode_query("ready?")  # the onnx backend loads in the background
        print(f"model load, {backend} backend, in this process: {time.perf_counter() - started:.2f} s", flush=True)

    index = Path(tempfile.mkdtemp(prefix="qa-bench-index-"))
    os.environ.pop("QA_PIECES", None)  # the default format
    update_index(args.corpus, index)
    compact_index = Path(tempfile.mkdtemp(prefix="qa-bench-pq16s64-"))
    os.environ["QA_PIECES"] = "pq16s64"
    update_index(args.corpus, compact_index)
    del os.environ["QA_PIECES"]
    ensure_reader_model(model_folder(DEFAULT_MODEL))  # as `qa index` does: the first question does not build it
    for kind, question in COLD_QUESTIONS.items():
        colds = [cold_ask(args.corpus, index, question) for _ in range(3)]
        shown = ", ".join(f"{c:.2f}" for c in colds)
        print(f"cold `qa ask`, {kind} question, in a fresh process: median {statistics.median(colds):.2f} s ({shown})")
    starts = [app_start(args.corpus, index) for _ in range(3)]
    print(
        f"app.py to its page served: median {statistics.median(starts):.2f} s ({', '.join(f'{s:.2f}' for s in starts)})"
    )

    retrievers = {
        "int8 (default)": Retriever.open(index, args.corpus),
        "pq16s64": Retriever.open(compact_index, args.corpus),
    }
    lines = args.questions.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    for retriever in retrievers.values():  # warm-up: the first questions pay for memory maps and first runs
        for question in questions:
            retriever.answer(question)
    passages = len(list(retrievers["int8 (default)"].reader.passages()))
    formats = " | ".join(f"{name}: median ms | p95 ms" for name in retrievers)
    print(f"\n| ranking ({passages} passages, k=5, {len(questions) * args.repeat} questions) | {formats} |")
    print("|---|" + "---|---|" * len(retrievers))
    for name, ranking in (
        ("first stage only", RANKING_STAGES["sentences"]),
        ("+ reranking", RANKING_STAGES["reranked"]),
        ("+ rule reader, the reader model on the best passage of open questions", RANKING_STAGES["typed-by-rules"]),
        (
            "default: the reader model also on the best passage of French and English questions of a kind",
            RANKING_STAGES["default"],
        ),
        ("+ the reader model's score: 8 passages read (off by default)", Ranking(read=ReadWeights(answers=0.02))),
    ):
        cells = []
        for retriever in retrievers.values():
            timings = []
            for _ in range(args.repeat):
                for question in questions:
                    find_spans.cache_clear()
                    started = time.perf_counter()
                    retriever.answer(question, k=5, ranking=ranking)
                    timings.append((time.perf_counter() - started) * 1000)
            cells.append(f"{statistics.median(timings):.1f} | {percentile(timings, 0.95):.1f}")
        print(f"| {name} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
