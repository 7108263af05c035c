"""`qa index --ray`: the embedding spread over a Ray cluster (qa/cluster.py).

The slow tests start a Ray cluster on this machine with `ray start --head` (two CPUs, no dashboard, no
usage statistics) and embed with the model-free hash backend: what is tested is the mechanics, that
the index is the one a local run builds, that a worker killed mid-job is replaced and its group
embedded again, and that a cluster going away mid-run leaves the index in use as it was.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from qa import indexer, limits
from qa.cli import main
from qa.cluster import ClusterError, RayRunner, import_ray
from qa.indexer import update_index
from qa.retrieval import Retriever
from qa.store import open_store, passage_key

from .conftest import ROOT, write_corpus

RAY = Path(sys.executable).with_name("ray")
START_SECONDS = 120  # for the head to start on a loaded machine


def articles(count: int, sentences: int = 30, edited: str = "") -> dict[str, str]:
    """Made-up press releases, a few passages each."""
    return {
        f"release-{i:03d}.txt": f"Communiqué numéro {i}\n"
        + " ".join(
            f"Le bureau {i} de l'OIM a accueilli {j + 3} familles venues de la région {j % 7} le mois dernier."
            for j in range(sentences)
        )
        + edited
        + "\n"
        for i in range(count)
    }


@contextlib.contextmanager
def ray_head():
    """A Ray cluster of this machine alone, started with `ray start --head`; yields its address and its head."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Ray's sockets live under its temporary folder, whose paths must stay short (108 bytes a socket path).
    folder = Path(tempfile.mkdtemp(prefix="qa-ray-", dir="/tmp"))
    log = folder / "head.log"
    # The workers import the project, and these tests' own module (its crashing loader), from here.
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=str(ROOT))
    command = [str(RAY), "start", "--head", "--block", "--port", str(port), "--node-ip-address", "127.0.0.1"]
    command += ["--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats"]
    command += ["--temp-dir", str(folder)]
    with open(log, "wb") as out:
        head = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_SECONDS
        while b"Ray runtime started" not in log.read_bytes():
            if head.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Ray head did not start:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield f"127.0.0.1:{port}", head
    finally:
        stop(head)
        shutil.rmtree(folder, ignore_errors=True)


def stop(head: subprocess.Popen) -> None:
    """Kills the head and every process of its cluster (its own process group, made for it), at once:
    as when its machine is lost."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(head.pid, signal.SIGKILL)
    head.wait()


@pytest.fixture(scope="module")
def cluster():
    with ray_head() as (address, _head):
        yield address


@pytest.fixture
def small_groups(monkeypatch):
    """Groups of about 32 passages: a run of a few hundred passages is then many Ray tasks."""
    monkeypatch.setattr(indexer, "BATCH_PASSAGES", 32)


def assert_same_index(built: Path, expected: Path) -> None:
    """The same articles, passages, vectors, sentence vectors and word pieces, byte for byte."""
    ours, theirs = open_store(built).read_manifest(), open_store(expected).read_manifest()
    assert ours is not None and theirs is not None
    assert ours.settings == theirs.settings
    assert ours.documents == theirs.documents
    assert segment_contents(built) == segment_contents(expected)


def segment_contents(store: Path) -> list[list[tuple[str, bytes]]]:
    """The files of each segment of a files store (vectors, sentence vectors, word pieces, passages),
    without the segments' names, which carry the time they were made."""
    segments = [sorted((p.name, p.read_bytes()) for p in folder.iterdir()) for folder in (store / "segments").iterdir()]
    assert segments and all(len(files) > 3 for files in segments)
    return sorted(segments)


# ---------------------------------------------------------------- without a cluster


def test_without_ray_the_option_says_how_to_install_it(tiny_corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` does where Ray is not installed
    store = tmp_path / "index"
    assert (
        main(["index", "--corpus", str(tiny_corpus), "--store", str(store), "--backend", "hash", "--ray", "auto"]) == 2
    )
    assert "pip install -e '.[cluster]'" in capsys.readouterr().err
    assert not store.exists()
    with pytest.raises(ClusterError, match=r"\.\[cluster\]"):
        import_ray()


def test_a_bad_address_is_refused_naming_its_setting(tiny_corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(limits.RAY_SETTING, "host :6379")
    store = tmp_path / "index"
    assert main(["index", "--corpus", str(tiny_corpus), "--store", str(store), "--backend", "hash"]) == 2
    assert "QA_RAY: not a Ray cluster address" in capsys.readouterr().err
    assert not store.exists()
    monkeypatch.setenv(limits.RAY_SETTING, "  ")  # empty: embed here
    assert limits.ray_cluster() is None
    with pytest.raises(SystemExit):
        main(["index", "--ray", "a\nb"])
    assert "--ray: not a Ray cluster address" in capsys.readouterr().err
    assert main(["index", "--corpus", str(tiny_corpus), "--store", str(store), "--ray-workers", "2"]) == 2
    assert "--ray-workers: needs a Ray cluster" in capsys.readouterr().err


def test_a_cluster_that_does_not_answer_leaves_the_index_as_it_was(tiny_corpus, tiny_index, monkeypatch):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    before = open_store(tiny_index).current_version()
    (tiny_corpus / "new.txt").write_text("Un bureau\nL'OIM ouvre un bureau à Dakar.\n", encoding="utf-8")
    with pytest.raises(ClusterError, match=f"cannot join the Ray cluster at {address}"):
        update_index(tiny_corpus, tiny_index, backend="hash", runner=RayRunner(address))
    assert open_store(tiny_index).current_version() == before


# ---------------------------------------------------------------- on a cluster of this machine


@pytest.mark.slow
def test_an_index_built_on_the_cluster_is_the_local_one(cluster, tmp_path, small_groups):
    corpus = write_corpus(tmp_path / "corpus", articles(40))
    update_index(corpus, tmp_path / "local", backend="hash")
    report = update_index(corpus, tmp_path / "ray", backend="hash", runner=RayRunner(cluster, workers=2))
    assert report.passages_embedded > 5 * indexer.BATCH_PASSAGES  # many groups, from two workers
    assert_same_index(tmp_path / "ray", tmp_path / "local")

    # An update on the cluster: the changed articles only, and again what a local update gives.
    write_corpus(corpus, {**articles(3, edited=" Mis à jour."), "release-900.txt": "Nouveau\nUn bureau à Dakar.\n"})
    local = update_index(corpus, tmp_path / "local", backend="hash")
    remote = update_index(corpus, tmp_path / "ray", backend="hash", runner=RayRunner(cluster))
    assert remote.added == local.added == ["release-900.txt"]
    assert remote.changed == local.changed == sorted(articles(3))
    assert_same_index(tmp_path / "ray", tmp_path / "local")


@pytest.mark.slow
def test_the_command_embeds_on_the_cluster_of_its_option(cluster, tmp_path):
    corpus = write_corpus(tmp_path / "corpus", articles(12))
    update_index(corpus, tmp_path / "local", backend="hash")
    env = dict(os.environ, QA_RAY=cluster, HF_HUB_OFFLINE="1")
    command = [sys.executable, "-m", "qa", "index", "--corpus", str(corpus), "--store", str(tmp_path / "ray")]
    done = subprocess.run([*command, "--backend", "hash"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "+12 added" in done.stdout
    assert_same_index(tmp_path / "ray", tmp_path / "local")


@pytest.mark.slow
def test_the_one_writer_writes_into_postgresql_as_well(cluster, tmp_path, postgres_server, small_groups):
    corpus = write_corpus(tmp_path / "corpus", articles(12))
    local, remote = (postgres_server.uri(postgres_server.create_database()) for _ in range(2))
    update_index(corpus, local, backend="hash")
    update_index(corpus, remote, backend="hash", runner=RayRunner(cluster, workers=2))
    stores = [open_store(local), open_store(remote)]
    try:
        expected, built = (store.open_reader() for store in stores)
        assert built.manifest.documents == expected.manifest.documents
        assert list(built.passages()) == list(expected.passages())
        keys = [passage_key(p.passage_id) for p in expected.passages()]
        for ours, theirs in zip(built.pieces(keys), expected.pieces(keys), strict=True):
            for field in ("ids", "vectors", "ends"):
                assert np.array_equal(getattr(ours, field), getattr(theirs, field))
        question = "Combien de familles le bureau 7 a-t-il accueillies ?"
        answers = [Retriever.open(uri, corpus, backend="hash").answer(question) for uri in (local, remote)]
        assert [(h.passage_id, h.score) for h in answers[1].hits] == [(h.passage_id, h.score) for h in answers[0].hits]
    finally:
        for store in stores:
            store.close()


class CrashOnFirstBatch:
    """An embedder whose process dies on its first batch, once over all workers (``marker`` says it did)."""

    def __init__(self, embedder, marker: str) -> None:
        self._embedder, self._marker = embedder, marker

    def __getattr__(self, name: str):
        return getattr(self._embedder, name)

    def encode_documents(self, texts):
        try:
            os.close(os.open(self._marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return self._embedder.encode_documents(texts)
        os._exit(1)  # as the kernel's out-of-memory killer, or a lost machine, ends a worker: no clean-up


def crash_once(marker: str, load):
    return CrashOnFirstBatch(load(), marker)


@dataclass(frozen=True)
class CrashingWorkers:
    """The cluster's runner, its workers loading an embedder that dies on its first batch."""

    runner: RayRunner
    marker: str

    def model(self, load):
        return self.runner.model(load)

    def encode(self, load, groups):
        return self.runner.encode(functools.partial(crash_once, self.marker, load), groups)


@pytest.mark.slow
def test_a_worker_killed_mid_job_is_replaced_and_the_index_is_complete(cluster, tmp_path, small_groups):
    corpus = write_corpus(tmp_path / "corpus", articles(20))
    update_index(corpus, tmp_path / "local", backend="hash")
    marker = tmp_path / "a-worker-died"
    runner = CrashingWorkers(RayRunner(cluster, workers=2), str(marker))
    report = update_index(corpus, tmp_path / "ray", backend="hash", runner=runner)
    assert marker.exists()  # a worker did die, in the middle of the job
    assert report.added == sorted(articles(20))
    assert_same_index(tmp_path / "ray", tmp_path / "local")


def slow_load(load):
    """The embedder, a group taking a second: the run lasts long enough to lose its cluster in the middle."""
    embedder = load()
    encode = embedder.encode_documents

    def slowly(texts):
        time.sleep(1.0)
        return encode(texts)

    embedder.encode_documents = slowly
    return embedder


@dataclass(frozen=True)
class SlowWorkers:
    runner: RayRunner

    def model(self, load):
        return self.runner.model(load)

    def encode(self, load, groups):
        return self.runner.encode(functools.partial(slow_load, load), groups)


@pytest.mark.slow
def test_a_cluster_going_away_mid_run_leaves_the_index_in_use(tmp_path, small_groups, monkeypatch):
    # Ray's driver waits this long for a cluster that stopped answering before it gives up (default: 60).
    monkeypatch.setenv("RAY_gcs_rpc_server_reconnect_timeout_s", "5")
    corpus = write_corpus(tmp_path / "corpus", articles(20))
    store = tmp_path / "index"
    update_index(corpus, store, backend="hash")
    before = open_store(store).current_version()
    write_corpus(corpus, articles(20, edited=" Mis à jour."))
    with ray_head() as (address, head):
        lost: list[tuple[int, int]] = []

        def stop_the_cluster_after_a_group(_report, done: int, total: int) -> None:
            if done and not lost:
                stop(head)  # the head and its workers: the whole cluster of this machine
                lost.append((done, total))

        runner = SlowWorkers(RayRunner(address, workers=1))
        with pytest.raises(ClusterError, match=f"Ray cluster at {address}") as error:
            update_index(corpus, store, backend="hash", runner=runner, progress=stop_the_cluster_after_a_group)
    assert lost and lost[0][0] < lost[0][1]  # it went away in the middle of the run
    assert "nothing was written" in str(error.value) or "failed during the run" in str(error.value)
    assert open_store(store).current_version() == before
    answer = Retriever.open(store, corpus, backend="hash").answer("Combien de familles le bureau 3 a-t-il accueilli ?")
    assert answer.hits and "Mis à jour" not in answer.hits[0].text
    # Nothing was left locked or half-written: a local run brings the index up to date.
    assert len(update_index(corpus, store, backend="hash").changed) == 20
