"""Re-indexing follows the corpus: only what changed is embedded, nothing is ever lost."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import numpy as np

from qa.chunking import ChunkSettings
from qa.embed.hashing import HashingEmbedder
from qa.indexer import encode_passages, update_index
from qa.retrieval import Retriever
from qa.store import open_store

NEW_ARTICLE = "Menu\nAccueil\nContact\nNouveau bureau à Dakar\nDakar – Moussa Diop dirige le nouveau bureau.\n"


def documents(index_dir):
    return open_store(index_dir).read_manifest().documents


def test_add_edit_delete_touch_only_those_articles(tiny_corpus, tiny_index):
    before = documents(tiny_index)
    (tiny_corpus / "dakar.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    cairo = tiny_corpus / "cairo.txt"
    cairo.write_text(cairo.read_text(encoding="utf-8").replace("Amina Hassan", "Amina Farouk"), encoding="utf-8")
    (tiny_corpus / "arctic.md").unlink()

    report = update_index(tiny_corpus, tiny_index, backend="hash")
    assert (report.added, report.changed, report.removed, report.unchanged) == (
        ["dakar.txt"],
        ["cairo.txt"],
        ["arctic.md"],
        1,
    )
    assert report.summary() == "+1 added, ~1 changed, -1 removed, 1 unchanged"
    after = documents(tiny_index)
    assert report.passages_embedded == len(after["dakar.txt"].passage_ids) + len(after["cairo.txt"].passage_ids)
    assert after["mongolia.txt"] == before["mongolia.txt"]
    assert "arctic.md" not in after
    assert after["cairo.txt"].content_hash != before["cairo.txt"].content_hash

    retriever = Retriever.open(tiny_index, tiny_corpus, backend="hash")
    assert "Moussa Diop" in retriever.retrieve("Moussa Diop Dakar", k=1)[0].text
    texts = [h.text for h in retriever.retrieve("Amina experte", k=5)]
    assert any("Amina Farouk" in t for t in texts) and not any("Amina Hassan" in t for t in texts)
    assert all(h.doc_id != "arctic.md" for h in retriever.retrieve("Tromsø Ingrid Solvang", k=5))


def test_an_unchanged_corpus_writes_nothing(tiny_corpus, tiny_index):
    version = open_store(tiny_index).current_version()
    report = update_index(tiny_corpus, tiny_index, backend="hash")
    assert not report.touched and report.unchanged == 3 and report.version is None
    assert open_store(tiny_index).current_version() == version


def test_chunking_or_backend_change_triggers_a_full_rebuild(tiny_corpus, tiny_index):
    report = update_index(tiny_corpus, tiny_index, backend="hash", chunking=ChunkSettings(max_chars=80))
    assert report.rebuilt_because and "chunking" in report.rebuilt_because
    assert report.summary().startswith("full rebuild") and len(report.added) == 3
    assert open_store(tiny_index).read_manifest().settings.chunking["max_chars"] == 80
    report = update_index(tiny_corpus, tiny_index, backend="hash", model="another-model")
    assert "another-model" in report.rebuilt_because


def test_sentence_vectors_are_pooled_from_the_passage_pass():
    """Late chunking: a sentence vector is the mean of its tokens in the passage's own pass."""
    from qa.ingest import Document

    text = "Saruul Bat dirige le bureau. Il emploie douze personnes."
    doc = Document("a.txt", "Mongolie", text, np.arange(len(text)), text, "h", "a.txt")
    from qa.chunking import chunk_document

    (passage,) = chunk_document(doc)
    embedder = HashingEmbedder()
    (encoded,) = encode_passages(embedder, [passage])
    tokens = embedder.encode_documents([passage.titled_text])[0]
    shift = len("Mongolie\n")
    second = tokens.hidden[
        (tokens.ends > shift + passage.sentences[1][0]) & (tokens.ends <= shift + passage.sentences[1][1])
    ]
    expected = second.mean(axis=0) / np.linalg.norm(second.mean(axis=0))
    np.testing.assert_allclose(encoded.sentence_vectors[1], expected, atol=1e-6)
    assert not np.allclose(encoded.sentence_vectors[0], encoded.sentence_vectors[1])
    np.testing.assert_allclose(encoded.vector, tokens.vector)


# ---------------------------------------------------------------- real processes


def qa_process(*args: str) -> subprocess.Popen:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "qa", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def grow(corpus, count: int) -> None:
    body = " ".join(f"Phrase numéro {i} sur la migration et les frontières de la région." for i in range(40))
    for i in range(count):
        (corpus / f"bulk-{i:04d}.txt").write_text(f"Article {i}\n{body} Agent {i}.\n", encoding="utf-8")


def test_a_kill_during_indexing_keeps_the_previous_index(tiny_corpus, tiny_index):
    store = open_store(tiny_index)
    previous = store.current_version()
    grow(tiny_corpus, 800)
    proc = qa_process("index", "--backend", "hash", "--corpus", str(tiny_corpus), "--store", str(tiny_index))
    deadline = time.time() + 60
    while not list((tiny_index / "segments").glob(".seg-*")) and time.time() < deadline:  # embedding has started
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert store.current_version() == previous
    assert len(store.open_reader().manifest.documents) == 3  # the old index, complete and loadable

    report = update_index(tiny_corpus, tiny_index, backend="hash")  # the next run completes the work
    assert len(report.added) == 800
    assert len(store.open_reader().manifest.documents) == 803
    assert not list((tiny_index / "segments").glob(".*")) and not list(tiny_index.glob(".gen-*"))


def test_two_runs_at_once_are_serialised(tiny_corpus, tiny_index):
    grow(tiny_corpus, 300)
    first = qa_process("index", "--backend", "hash", "--corpus", str(tiny_corpus), "--store", str(tiny_index))
    time.sleep(0.3)
    second = qa_process("index", "--backend", "hash", "--corpus", str(tiny_corpus), "--store", str(tiny_index))
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    assert sorted("+300 added" in out for out, _ in outputs) == [False, True]
    assert any("+0 added" in out for out, _ in outputs)  # the later one found nothing left to do
    assert len(documents(tiny_index)) == 303


def test_watch_reindexes_when_an_article_is_added(tiny_corpus, tiny_index):
    proc = qa_process("index", "--watch", "--backend", "hash", "--corpus", str(tiny_corpus), "--store", str(tiny_index))
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
        assert wait_for("watching", 60), "qa index --watch did not start watching"
        time.sleep(1.0)  # let the file watcher settle
        (tiny_corpus / "dakar.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        assert wait_for("+1 added", 60), "the new article was not indexed"
        assert "dakar.txt" in documents(tiny_index)
    finally:
        proc.kill()
        proc.wait()


def test_an_edited_collection_record_is_the_only_one_read_and_embedded(tmp_path):
    records = [
        {"_id": f"r{i}", "title": f"Note {i}", "text": f"Le bureau numéro {i} ouvre à Tromsø."} for i in range(5)
    ]
    collection = tmp_path / "corpus" / "notes.jsonl"
    collection.parent.mkdir()
    collection.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    index = tmp_path / "index"
    assert update_index(collection.parent, index, backend="hash").passages_embedded == 5
    records[3]["text"] = "Le bureau numéro 3 ferme à Dakar, annonce Moussa Diop."
    del records[4]
    collection.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    report = update_index(collection.parent, index, backend="hash")
    assert (report.changed, report.removed, report.unchanged) == (["notes.jsonl#r3"], ["notes.jsonl#r4"], 3)
    assert report.passages_embedded == 1
    retriever = Retriever.open(index, collection.parent, backend="hash")
    [hit] = retriever.retrieve("Moussa Diop Dakar", k=1)
    assert (hit.doc_id, hit.citation.lines) == ("notes.jsonl#r3", (4, 4))
    assert {h.doc_id for h in retriever.retrieve("bureau Tromsø", k=10)} == {f"notes.jsonl#r{i}" for i in range(4)}
