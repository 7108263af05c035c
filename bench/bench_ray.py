"""Indexing on a Ray cluster (`qa index --ray`) with 1 and 2 workers, side by side with the local path.

Reproduce (from the project root, after `make install`, which brings Ray; about 6 minutes on 2 cores):

    HF_HUB_OFFLINE=1 nice .venv/bin/python bench/bench_ray.py --passages 800 --group 32 --workers 1 2

The first ``--passages`` records of the scale set (bench_scale.py: French debates and books, one
passage each) are written as a JSONL collection, then indexed from scratch into a fresh files store
with the default model (int8 ONNX), once on this machine (`qa index`, the model's threads as usual:
up to 4) and once per worker count on a Ray cluster of this machine, started here with `ray start
--head` (no dashboard, no usage statistics), each worker with one CPU and one thread. Each run is
timed from the call to the commit ("wall", the model loads and the cluster join included) and over
the embedding alone (from the first progress report, once the articles are read and chunked, to the
last), and every Ray index is checked against the local one: the same articles and passages, and
the same segment files, byte for byte (vectors, sentence vectors, word pieces). The CPU seconds of
each run are counted too (this process and its children; the cluster's processes, workers included,
read from /proc): passages per CPU second say what the work costs even on a machine shared with
other work, where the rates per wall second say little.

`--transfer N` only prints what one encoded passage weighs on its way from a worker to the writer
(pickled as the workers send it), over the first N records, and exits:

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_ray.py --transfer 64
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_scale import write_collection  # noqa: E402
from qa import indexer, offline  # noqa: E402, F401  (offline: the libraries' calls home off)
from qa.cluster import RayRunner  # noqa: E402
from qa.indexer import EmbeddingRunner, UpdateReport, update_index  # noqa: E402
from qa.store import open_store  # noqa: E402


def start_head(folder: Path, cpus: int) -> tuple[str, subprocess.Popen]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(Path(sys.executable).with_name("ray")), "start", "--head", "--block", "--port", str(port)]
    command += ["--node-ip-address", "127.0.0.1", "--num-cpus", str(cpus), "--include-dashboard", "false"]
    command += ["--disable-usage-stats", "--temp-dir", str(folder)]
    log = folder / "head.log"
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=str(ROOT))
    with open(log, "wb") as out:
        head = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    while b"Ray runtime started" not in log.read_bytes():
        if head.poll() is not None:
            raise SystemExit(f"the Ray head did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
    return f"127.0.0.1:{port}", head


def timed_run(corpus: Path, store: Path, runner: EmbeddingRunner | None, head: int | None = None) -> dict:
    """Times of one indexing run, and the CPU seconds it took: this process and its children (the Ray
    driver), and the processes of the cluster (``head``: their process group), the workers included."""
    marks: dict[str, float] = {}

    def progress(_report: UpdateReport, done: int, total: int) -> None:
        now = time.perf_counter()
        marks.setdefault("embedding starts", now)
        if done and "first group" not in marks:
            marks["first group"] = now
        if done == total:
            marks["embedding ends"] = now

    cluster = ClusterCpu(head)
    cpu_before = own_cpu_seconds()
    started = time.perf_counter()
    with cluster:
        report = update_index(corpus, store, runner=runner, progress=progress)
    wall = time.perf_counter() - started
    cpu = own_cpu_seconds() - cpu_before + cluster.seconds
    embedding = marks["embedding ends"] - marks["embedding starts"]
    return {
        "passages": report.passages_embedded,
        "wall s": wall,
        "before embedding s": marks["embedding starts"] - started,
        "to first group s": marks["first group"] - marks["embedding starts"],
        "embedding s": embedding,
        "passages/s (embedding)": report.passages_embedded / embedding,
        "passages/s (wall)": report.passages_embedded / wall,
        "CPU s": cpu,
        "passages per CPU s": report.passages_embedded / cpu,
    }


def own_cpu_seconds() -> float:
    """CPU seconds of this process and of its children that ended (the Ray driver process)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class ClusterCpu:
    """CPU seconds used during a run by the processes of the cluster, read from /proc every half second
    (a worker's time is kept as last seen: the workers end with the run)."""

    def __init__(self, head: int | None) -> None:
        self.head = head
        self.start: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _ticks(self) -> dict[int, int]:
        """utime + stime of the cluster's processes: its process group, and the workers, which the raylet
        starts each in a group of its own."""
        stats: dict[int, list[str]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError):
                stats[int(stat.parent.name)] = stat.read_text().rpartition(")")[2].split()
        group = {pid for pid, fields in stats.items() if int(fields[2]) == self.head}
        ours = {pid for pid, fields in stats.items() if pid in group or int(fields[1]) in group}
        return {pid: int(stats[pid][11]) + int(stats[pid][12]) for pid in ours}

    def _poll(self) -> None:
        while not self.stop.wait(0.5):
            self.last.update(self._ticks())

    def __enter__(self) -> ClusterCpu:
        if self.head is not None:
            self.start = self._ticks()
            self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        if self.head is not None:
            self.stop.set()
            self.thread.join()
            self.last.update(self._ticks())

    @property
    def seconds(self) -> float:
        ticks = sum(t - self.start.get(pid, 0) for pid, t in self.last.items())
        return ticks / os.sysconf("SC_CLK_TCK")


def compare(built: Path, expected: Path) -> str:
    """Whether the Ray index is the local one: the same articles and passages, the same segment files."""
    ours, theirs = open_store(built).open_reader(), open_store(expected).open_reader()
    assert ours.manifest.documents == theirs.manifest.documents, "different articles or passages"
    assert list(ours.passages()) == list(theirs.passages()), "different passages"
    (segment_a,) = (built / "segments").iterdir()
    (segment_b,) = (expected / "segments").iterdir()
    names = sorted(p.name for p in segment_b.iterdir())
    differ = [name for name in names if (segment_a / name).read_bytes() != (segment_b / name).read_bytes()]
    return f"files differ: {', '.join(differ)}" if differ else "identical"


def transfer_bytes(count: int, work: Path) -> None:
    """Bytes a passage, pickled as a worker sends its group back (qa/cluster.py)."""
    from qa.chunking import ChunkSettings, chunk_document
    from qa.embed import get_embedder
    from qa.indexer import encode_passages
    from qa.ingest import load_corpus

    write_collection(work / "transfer", count)
    corpus = load_corpus(work / "transfer", 20 << 20, {}, None)
    passages = [p for document in corpus.documents for p in chunk_document(document, ChunkSettings())]
    encoded = encode_passages(get_embedder(), passages)
    size = len(pickle.dumps(encoded, protocol=5)) / len(passages)
    pieces = sum(len(e.pieces.ids) for e in encoded) / len(passages)
    print(
        f"{len(passages)} passages: {size / 1000:.1f} KB a passage on its way to the writer ({pieces:.0f} pieces each)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=3000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--group",
        type=int,
        default=indexer.BATCH_PASSAGES,
        help="passages per group, one Ray task each (default: as indexing does, %(default)s)",
    )
    parser.add_argument("--work", type=Path, default=None, help="corpus and index folder (default: temporary)")
    parser.add_argument("--transfer", type=int, default=None, metavar="N", help="only weigh N encoded passages")
    args = parser.parse_args()
    indexer.BATCH_PASSAGES = args.group  # a few thousand passages make enough groups for every worker
    load_before = os.getloadavg()
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-bench-ray-"))
    if args.transfer:
        transfer_bytes(args.transfer, work)
        return
    corpus = work / "corpus"
    write_collection(corpus, args.passages)
    rows = []
    local = work / "index-local"
    shutil.rmtree(local, ignore_errors=True)
    rows.append(("local (qa index, no Ray)", timed_run(corpus, local, None), "reference"))
    print(rows[-1], flush=True)
    folder = Path(tempfile.mkdtemp(prefix="qa-ray-", dir="/tmp"))  # short: Ray's socket paths are limited
    address, head = start_head(folder, cpus=max(args.workers))
    try:
        for workers in args.workers:
            store = work / f"index-ray-{workers}"
            shutil.rmtree(store, ignore_errors=True)
            row = timed_run(corpus, store, RayRunner(address, workers=workers), head=head.pid)
            rows.append((f"Ray, {workers} worker{'s' if workers > 1 else ''}", row, compare(store, local)))
            print(rows[-1], flush=True)
    finally:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait()
        shutil.rmtree(folder, ignore_errors=True)
    columns = list(rows[0][1])
    print(f"\n{args.passages:,} records of the scale set, groups of {args.group}, int8 ONNX, {os.cpu_count()} cores")
    print(f"load average before: {load_before}, after: {os.getloadavg()}\n")
    print("| run | " + " | ".join(columns) + " | index |")
    print("|---" * (len(columns) + 2) + "|")
    for name, row, check in rows:
        cells = [f"{row[c]:,.0f}" if c == "passages" else f"{row[c]:.1f}" for c in columns]
        print(f"| {name} | " + " | ".join(cells) + f" | {check} |")


if __name__ == "__main__":
    main()
