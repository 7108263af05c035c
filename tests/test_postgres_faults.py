"""The PostgreSQL store when things go wrong: a killed indexer, a restarted server, several processes at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from qa.cli import main
from qa.retrieval import Retriever
from qa.store import IndexCorrupt, StoreUnavailable, open_store
from qa.store.postgres import LOCK_CLASS

from .conftest import ROOT, write_corpus

pytestmark = pytest.mark.slow


def qa_index(uri: str, corpus: Path) -> subprocess.Popen:
    """`qa index` in a process of its own, with the model-free backend."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "qa", "index", "--backend", "hash", "--store", uri, "--corpus", str(corpus)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen, timeout: float = 120) -> tuple[str, str]:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return out, err


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def big_corpus(folder: Path, articles: int) -> Path:
    """Made-up articles, each about a made-up person, enough for an indexing run of a few seconds."""
    texts = {}
    for n in range(articles):
        sentences = [
            f"Article {n} : la personne Zorgl{n} travaille au bureau numéro {n * 7 + s} de l'agence." for s in range(12)
        ]
        texts[f"a{n:04d}.txt"] = f"Nouvelles du bureau {n}\n" + " ".join(sentences) + "\n"
    return write_corpus(folder, texts)


def test_a_killed_indexer_leaves_the_previous_version_and_frees_the_lock(postgres_server, postgres_uri, tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    finished(qa_index(postgres_uri, corpus))
    store = open_store(postgres_uri)
    before, documents = store.current_version(), set(store.read_manifest().documents)
    big_corpus(corpus, 1500)
    database = postgres_uri.split("/")[3].split("?")[0]
    writing = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'qa index' AND backend_xid IS NOT NULL"
    process = qa_index(postgres_uri, corpus)
    wait_for(lambda: postgres_server.admin(writing, database) == [(1,)], "the indexer to write its first rows")
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert store.current_version() == before
    reader = store.open_reader()
    assert set(reader.manifest.documents) == documents and len(reader) == reader.manifest.passage_count
    with store.writer(reader.manifest.settings, wait_seconds=10):  # the server freed the lock with the session
        pass
    out, _ = finished(qa_index(postgres_uri, corpus))
    assert "+1500 added" in out
    assert len(store.open_reader().manifest.documents) == 1503


def test_a_restarted_server_fails_one_question_clearly_then_answers_again(postgres_server, postgres_uri, tiny_corpus):
    finished(qa_index(postgres_uri, tiny_corpus))
    retriever = Retriever.open(postgres_uri, tiny_corpus, backend="hash")
    question = "Qui dirige le bureau de Tromsø ?"
    expected = [h.passage_id for h in retriever.retrieve(question)]
    postgres_server.stop()
    try:
        with pytest.raises(StoreUnavailable, match="lost the connection|cannot connect"):
            retriever.retrieve(question)
    finally:
        postgres_server.start()
    assert [h.passage_id for h in retriever.retrieve(question)] == expected


def test_two_indexers_at_once_take_turns(postgres_server, postgres_uri, tiny_corpus):
    database = postgres_uri.split("/")[3].split("?")[0]
    holder = psycopg.connect(postgres_uri, autocommit=True)  # holds the writers' lock while both start
    holder.execute("SELECT pg_advisory_lock(%s, hashtext(current_schema()))", (LOCK_CLASS,))
    runs = [qa_index(postgres_uri, tiny_corpus) for _ in range(2)]
    waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    wait_for(lambda: postgres_server.admin(waiting, database) == [(2,)], "both indexers to wait for the lock")
    holder.close()
    outputs = [finished(run) for run in runs]
    assert all("waiting for it" in err for _, err in outputs)
    summaries = sorted(next(line for line in out.splitlines() if " added, " in line) for out, _ in outputs)
    assert summaries == [
        "+0 added, ~0 changed, -0 removed, 3 unchanged",
        "+3 added, ~0 changed, -0 removed, 0 unchanged",
    ]
    reader = open_store(postgres_uri).open_reader()
    assert len(reader.manifest.documents) == 3 and len(reader) == reader.manifest.passage_count == 3


def test_two_readers_answer_alike_and_both_see_what_a_third_process_indexes(postgres_uri, tiny_corpus):
    finished(qa_index(postgres_uri, tiny_corpus))
    first, second = (Retriever.open(postgres_uri, tiny_corpus, backend="hash") for _ in range(2))
    assert first.store is not second.store
    question = "Qui a animé l'atelier sur la traite au Caire ?"
    assert [h.as_dict() for h in first.retrieve(question)] == [h.as_dict() for h in second.retrieve(question)]
    (tiny_corpus / "lima.txt").write_text(
        "Menu\nAccueil\nContact\nUn bureau à Lima\nLima – Rosa Quispe dirige le nouveau bureau de Lima.\n",
        encoding="utf-8",
    )
    finished(qa_index(postgres_uri, tiny_corpus))
    for retriever in (first, second):
        assert retriever.retrieve("Qui dirige le bureau de Lima ?")[0].doc_id == "lima.txt"


@pytest.mark.parametrize("table", ["qa_term_groups", "qa_passages", "qa_current", "qa_schema"])
def test_a_table_dropped_by_hand_is_named_and_qa_index_full_rebuilds(
    postgres_server, postgres_uri, tiny_corpus, table, capsys
):
    """It used to end in UndefinedTable, in "relation qa_versions already exists", or in nothing repaired."""
    where = ["--backend", "hash", "--store", postgres_uri, "--corpus", str(tiny_corpus)]
    assert main(["index", *where]) == 0
    postgres_server.admin(f"DROP TABLE {table} CASCADE", postgres_uri.split("/")[3].split("?")[0])
    for command in (["ask", "Qui dirige le bureau de Tromsø ?"], ["index"]):
        assert main([*command, *where]) == 2
        [error] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("qa: error: ")]
        assert f"table {table} is gone" in error and error.endswith("`qa index --full` rebuilds the index")
    assert main(["index", "--full", *where]) == 0
    assert main(["ask", "Qui dirige le bureau de Tromsø ?", *where]) == 0
    assert "Ingrid Solvang" in capsys.readouterr().out
    assert len(open_store(postgres_uri).open_reader().manifest.documents) == 3


def test_a_table_dropped_under_a_running_reader_gets_the_same_message(postgres_server, postgres_uri, tiny_corpus):
    finished(qa_index(postgres_uri, tiny_corpus))
    reader = open_store(postgres_uri).open_reader()
    postgres_server.admin("DROP TABLE qa_passages CASCADE", postgres_uri.split("/")[3].split("?")[0])
    with pytest.raises(IndexCorrupt, match=r"qa_passages.*`qa index --full` rebuilds the index"):
        reader.pieces([1])
