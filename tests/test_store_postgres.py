"""The PostgreSQL store on a real server: the conformance suite, and what only a database shows."""

from __future__ import annotations

from urllib.parse import urlsplit

import numpy as np
import psycopg
import pytest

from qa.chunking import chunk_document
from qa.cli import main
from qa.embed.hashing import HashingEmbedder
from qa.indexer import encode_passages, index_settings
from qa.store import IndexMismatch, StoreUnavailable, open_store
from qa.store.location import mask
from qa.store.postgres import PostgresStore
from qa.store.postgres_schema import ensure_extension

from .postgres_server import PASSWORD, PASSWORD_USER, PLAIN_USER
from .store_conformance import ARTICLES, CHUNKING, StoreConformance, query, write

pytestmark = pytest.mark.slow


class TestPostgresStore(StoreConformance):
    @pytest.fixture
    def store(self, postgres_uri):
        store = open_store(postgres_uri)
        yield store
        store.close()

    @pytest.fixture
    def other_store(self, postgres_uri):
        other = PostgresStore(postgres_uri)
        yield other
        other.close()


def database(uri: str) -> str:
    return urlsplit(uri).path.lstrip("/")


def indexes(server, uri: str) -> list[str]:
    rows = server.admin(
        "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'qa_passages_hnsw%' ORDER BY 1", database(uri)
    )
    return [name for (name,) in rows]


def test_a_rebuild_gets_its_own_vector_index_and_the_old_one_goes_once_unused(postgres_server, postgres_uri):
    store = open_store(postgres_uri)
    write(store, ARTICLES)
    old = store.open_reader()
    wider = index_settings(HashingEmbedder("test-model", dim=32), CHUNKING)
    with store.writer(wider) as writer:  # another dimension: a new build beside the old one
        assert writer.base is None
        embedder = HashingEmbedder("test-model", dim=32)
        writer.add("a.txt", "h", "Mongolie", encode_passages(embedder, chunk_document(ARTICLES[0], CHUNKING)))
        writer.commit()
    assert indexes(postgres_server, postgres_uri) == ["qa_passages_hnsw_1", "qa_passages_hnsw_2"]
    assert old.search(query("Caire"), k=1)[0].passage.doc_id == "b.txt"  # the previous version still answers
    new = store.open_reader()
    assert new.manifest.settings.dim == 32 and set(new.manifest.documents) == {"a.txt"}
    write(store, [], settings=wider, remove=["a.txt"])
    assert indexes(postgres_server, postgres_uri) == ["qa_passages_hnsw_2"]
    rows = postgres_server.admin("SELECT count(*) FROM qa_passages WHERE build = 1", database(postgres_uri))
    assert rows == [(0,)]


def test_a_schema_from_a_newer_version_is_refused(postgres_server, postgres_uri):
    store = open_store(postgres_uri)
    write(store, ARTICLES[:1])
    postgres_server.admin("UPDATE qa_schema SET version = 99", database(postgres_uri))
    with pytest.raises(IndexMismatch, match="newer"):
        store.open_reader()
    with pytest.raises(IndexMismatch, match="newer"):
        write(store, ARTICLES[1:2])


def test_the_password_is_never_shown(postgres_server, tiny_corpus, capsys):
    uri = f"postgresql://me:{PASSWORD}@db.example:5432/news?sslmode=require&password={PASSWORD}"
    assert PASSWORD not in mask(uri) and mask(uri).startswith("postgresql://me:***@db.example:5432/news?")
    uri = postgres_server.uri(postgres_server.create_database(), user=PASSWORD_USER, password=PASSWORD)
    store = open_store(uri)
    assert PASSWORD not in store.location and PASSWORD not in repr(store)
    assert main(["index", "--backend", "hash", "--store", uri, "--corpus", str(tiny_corpus)]) == 0
    assert main(["ask", "Tromsø", "--backend", "hash", "--store", uri, "--corpus", str(tiny_corpus)]) == 0
    out, err = capsys.readouterr()
    assert "passages embedded into postgresql://qa_reader:***@/" in out and "Tromsø" in out
    assert PASSWORD not in out + err


def test_a_wrong_password_gives_one_clear_line(postgres_server, capsys):
    uri = postgres_server.uri(user=PASSWORD_USER, password="wrong-" + PASSWORD)
    with pytest.raises(StoreUnavailable, match="password authentication failed") as failure:
        open_store(uri).current_version()
    assert PASSWORD not in str(failure.value)
    assert main(["ask", "who?", "--backend", "hash", "--store", uri]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "password authentication failed" in err and PASSWORD not in err
    assert open_store(postgres_server.uri(user=PASSWORD_USER, password=PASSWORD)).current_version() is None


def test_a_server_that_is_not_there_gives_one_clear_line(tmp_path, capsys):
    uri = f"postgresql://qa@/news?host={tmp_path}"
    with pytest.raises(StoreUnavailable, match=f"cannot connect to postgresql://qa@/news.*{tmp_path}"):
        open_store(uri).read_manifest()
    assert main(["index", "--backend", "hash", "--store", uri, "--corpus", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("qa: error: ")


def test_without_pgvector_the_message_says_what_to_ask_for(postgres_server):
    database = postgres_server.create_database(owner=PLAIN_USER)
    store = open_store(postgres_server.uri(database, user=PLAIN_USER))
    with pytest.raises(StoreUnavailable, match=r"not installed.*CREATE EXTENSION vector"):
        write(store, ARTICLES)
    assert store.current_version() is None
    with (
        psycopg.connect(postgres_server.uri(database), autocommit=True) as conn,
        pytest.raises(StoreUnavailable, match="has no 'qa_no_such_extension' extension"),
    ):
        ensure_extension(conn, "qa_no_such_extension", "the test server")
    postgres_server.admin("CREATE EXTENSION vector", database)  # once an administrator has run it
    write(store, ARTICLES)
    assert set(store.open_reader().manifest.documents) == {"a.txt", "b.txt", "c.txt"}


def test_one_question_costs_one_round_trip_for_search_and_one_for_pieces(postgres_uri, monkeypatch):
    store = open_store(postgres_uri)
    write(store, ARTICLES)
    reader = store.open_reader()
    calls = []
    read = store.connections.read
    monkeypatch.setattr(store.connections, "read", lambda work: calls.append(1) or read(work))
    hits = reader.keyword_search("policiers Caire", k=5)
    found = reader.search(query("Caire"), k=3, also=hits.keys.tolist())
    reader.pieces([c.key for c in found])
    assert len(calls) == 2 and len(found) >= 3


def test_a_retriever_refuses_an_index_made_with_another_model(postgres_uri, tiny_corpus):
    from qa.indexer import update_index
    from qa.retrieval import Retriever

    update_index(tiny_corpus, postgres_uri, model="one-model", backend="hash")
    with pytest.raises(IndexMismatch, match="another-model"):
        Retriever.open(postgres_uri, tiny_corpus, model="another-model", backend="hash")
    assert Retriever.open(postgres_uri, tiny_corpus, model="one-model", backend="hash").retrieve("Tromsø")


def weights(idf: np.ndarray, ids: np.ndarray) -> np.ndarray:
    return idf[np.minimum(ids, len(idf) - 1)]


def test_counts_kept_across_updates_match_a_fresh_index(postgres_server, postgres_uri):
    from .store_conformance import document

    edited = document("a.txt", "Mongolie", "Saruul Bat a quitté le bureau de Mongolie.", "Douze personnes restent.")
    updated = open_store(postgres_uri)
    write(updated, ARTICLES)
    write(updated, [edited], remove=["b.txt"])
    fresh = open_store(postgres_server.uri(postgres_server.create_database()))
    write(fresh, [edited, ARTICLES[2]])
    old, new = updated.open_reader(), fresh.open_reader()
    assert len(old) == len(new) and old.manifest.documents == new.manifest.documents
    ids = np.arange(HashingEmbedder.vocab_size)  # an id past the array weighs as the unknown slot
    assert weights(old.piece_idf(), ids) == pytest.approx(weights(new.piece_idf(), ids))
    for question in ("bureau de Mongolie", "Tromsø 2024", "policiers"):
        a, b = old.keyword_search(question, 5), new.keyword_search(question, 5)
        assert a.keys.tolist() == b.keys.tolist() and a.scores == pytest.approx(b.scores)


def test_search_breadth_has_a_default_that_the_uri_can_change(postgres_uri):
    from qa.store.postgres import EF_SEARCH

    def breadth(store):
        return store.connections.read(lambda conn: conn.execute("SHOW hnsw.ef_search").fetchone()[0])

    assert breadth(open_store(postgres_uri)) == str(EF_SEARCH)
    assert breadth(open_store(postgres_uri + "&options=-c%20hnsw.ef_search%3D77")) == "77"


def test_a_database_of_the_first_schema_is_upgraded_and_its_passages_get_their_citations(
    postgres_server, postgres_uri, tiny_corpus
):
    from qa.indexer import update_index

    update_index(tiny_corpus, postgres_uri, backend="hash")
    postgres_server.admin(  # as the first schema left it: no breaks, line offsets nor pages
        "ALTER TABLE qa_passages DROP COLUMN breaks, DROP COLUMN line_offsets, DROP COLUMN page; "
        "UPDATE qa_schema SET version = 1",
        database(postgres_uri),
    )
    store = open_store(postgres_uri)
    with pytest.raises(IndexMismatch, match="older.*run `qa index` to upgrade"):
        store.open_reader()
    report = update_index(tiny_corpus, postgres_uri, backend="hash")
    assert report.repaired == sorted(store.read_manifest().documents) and not report.added
    assert report.summary().endswith(", 3 repaired (stored before sentence breaks, line offsets and pages were kept)")
    fresh = postgres_server.uri(postgres_server.create_database())
    update_index(tiny_corpus, fresh, backend="hash")
    expected = sorted(open_store(fresh).open_reader().passages(), key=lambda p: p.passage_id)
    assert sorted(store.open_reader().passages(), key=lambda p: p.passage_id) == expected
    assert any(len(p.breaks) > 1 for p in expected) and any(p.line_offsets for p in expected)
    again = update_index(tiny_corpus, postgres_uri, backend="hash")
    assert not again.touched and again.unchanged == 3
