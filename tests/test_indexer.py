"""Re-indexing follows the corpus: only what changed is embedded, nothing is ever lost."""

import os
import signal
import subprocess
import sys
import time

import pytest

from qa.index import Index, current_generation
from qa.indexer import update_index
from qa.retrieval import Retriever

NEW_ARTICLE = """Titre inutile
L'OIM ouvre un bureau à Tromsø
Tromsø – L'OIM a inauguré hier un bureau consacré aux migrants de l'Arctique, dirigé par Ingrid Solvang.
Le bureau emploiera douze personnes dès le mois de mars.
"""


def passage_ids(index_dir, doc_id):
    return set(Index.load(index_dir).manifest.documents[doc_id].passage_ids)


@pytest.fixture
def indexed_copy(corpus_copy, seed_index, tmp_path):
    """A writable corpus and its index (a copy of the session index)."""
    import shutil

    index_dir = tmp_path / "index"
    shutil.copytree(seed_index, index_dir)
    return corpus_copy, index_dir


def test_add_edit_delete_touch_only_those_documents(indexed_copy):
    corpus, index_dir = indexed_copy
    before = {d: passage_ids(index_dir, d) for d in Index.load(index_dir).manifest.documents}
    (corpus / "005_new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    edited = corpus / "004_7c3d90763c57cd89.txt"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Joe Lowry", "Jane Lowry"), encoding="utf-8")
    (corpus / "003_ee8f677726f9b71d.txt").unlink()

    report = update_index(corpus, index_dir)
    assert (report.added, report.changed, report.removed, report.unchanged) == (
        ["005_new.txt"], ["004_7c3d90763c57cd89.txt"], ["003_ee8f677726f9b71d.txt"], 3)
    assert report.summary() == "+1 added, ~1 changed, -1 removed, 3 unchanged"
    new_count = len(passage_ids(index_dir, "005_new.txt"))
    changed_count = len(passage_ids(index_dir, "004_7c3d90763c57cd89.txt"))
    assert report.passages_embedded == new_count + changed_count

    after = Index.load(index_dir)
    # the report hands over the index it wrote, so callers need not load it again
    assert report.index.generation == after.generation == current_generation(index_dir)
    assert [p.passage_id for p in report.index.passages] == [p.passage_id for p in after.passages]
    assert update_index(corpus, index_dir).index.generation == after.generation  # nothing changed: the same one
    for doc in ["000_709937aa28120cef.txt", "001_d937851711d07b3c.txt", "002_a6e01068dec78fe3.txt"]:
        assert set(after.manifest.documents[doc].passage_ids) == before[doc]
    assert "003_ee8f677726f9b71d.txt" not in after.manifest.documents
    # only the edited passage of 004 got a new id
    kept = passage_ids(index_dir, "004_7c3d90763c57cd89.txt") & before["004_7c3d90763c57cd89.txt"]
    assert 0 < len(kept) < len(before["004_7c3d90763c57cd89.txt"])

    retriever = Retriever.open(index_dir, corpus)
    assert "Ingrid Solvang" in retriever.retrieve("Who runs the new IOM office in Tromsø?", k=1)[0].text
    contact = retriever.retrieve("Joe Lowry Jane Lowry contact email", k=3)
    assert any("Jane Lowry" in h.text for h in contact) and not any("Joe Lowry" in h.text for h in contact)
    cairo = retriever.retrieve("Where was the fifth global meeting of regional consultative processes?", k=10)
    assert all(h.doc_id != "003_ee8f677726f9b71d.txt" for h in cairo)


def test_model_or_settings_change_triggers_a_full_rebuild(indexed_copy):
    from qa.chunking import ChunkSettings

    corpus, index_dir = indexed_copy
    report = update_index(corpus, index_dir, settings=ChunkSettings(max_chars=400))
    assert report.rebuilt_because and "chunking" in report.rebuilt_because
    assert report.summary().startswith("full rebuild")
    assert Index.load(index_dir).manifest.chunking["max_chars"] == 400


def _qa(*args, **kwargs):
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "qa", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def _grow(corpus, count):
    """Add ``count`` articles, enough to keep the model busy for several seconds."""
    seed = (corpus / "000_709937aa28120cef.txt").read_text(encoding="utf-8")
    for i in range(count):
        (corpus / f"9{i:02d}_copy.txt").write_text(seed.replace("Pär Liljert", f"Agent {i}").replace("1992", str(1900 + i)), encoding="utf-8")


@pytest.mark.slow
def test_sigkill_during_embedding_keeps_the_previous_index(indexed_copy):
    corpus, index_dir = indexed_copy
    previous = current_generation(index_dir)
    _grow(corpus, 25)
    proc = _qa("index", "--corpus", str(corpus), "--index", str(index_dir))
    deadline = time.time() + 120
    seen = ""
    while "Batches" not in seen and time.time() < deadline:  # the progress bar: embedding has started
        seen += proc.stderr.read(1)
    assert "Batches" in seen, seen
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert current_generation(index_dir) == previous
    assert len(Index.load(index_dir).manifest.documents) == 5  # the old index, complete and loadable

    report = update_index(corpus, index_dir)  # the next run completes the work (and ignores the leftovers)
    assert len(report.added) == 25
    assert len(Index.load(index_dir).manifest.documents) == 30
    assert not list(index_dir.glob(".gen-*.tmp"))


@pytest.mark.slow
def test_two_runs_at_once_do_not_corrupt(indexed_copy):
    corpus, index_dir = indexed_copy
    _grow(corpus, 3)
    first = _qa("index", "--corpus", str(corpus), "--index", str(index_dir))
    time.sleep(0.3)
    second = _qa("index", "--corpus", str(corpus), "--index", str(index_dir))
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    summaries = sorted(out for out, _ in outputs)
    assert any("+3 added" in s for s in summaries)
    assert any("0 added" in s for s in summaries)  # the one that waited found nothing left to do
    assert any("waiting" in err for _, err in outputs)
    assert len(Index.load(index_dir).manifest.documents) == 8


@pytest.mark.slow
def test_watch_reindexes_when_an_article_is_added(indexed_copy):
    import queue
    import threading

    corpus, index_dir = indexed_copy
    proc = _qa("index", "--watch", "--corpus", str(corpus), "--index", str(index_dir))
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()

    def wait_for(text: str, seconds: float) -> bool:
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if text in lines.get(timeout=0.5):
                    return True
            except queue.Empty:
                pass
        return False

    try:
        assert wait_for("watching", 120), "qa index --watch did not start watching"
        time.sleep(1.0)  # let the file watcher settle
        (corpus / "005_new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        assert wait_for("+1 added", 120), "the new article was not indexed"
        assert "005_new.txt" in Index.load(index_dir).manifest.documents
    finally:
        proc.kill()
        proc.wait()
