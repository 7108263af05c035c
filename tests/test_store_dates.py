"""Both stores keep each article's date (in the manifest) and the OCR mark of its passages."""

from dataclasses import replace

import pytest

from qa.chunking import chunk_document
from qa.indexer import encode_passages, update_index
from qa.store import Manifest, open_store
from qa.store.faiss import FilesStore

from .conftest import write_corpus
from .store_conformance import ARTICLES, CHUNKING, EMBEDDER, SETTINGS


def write_dated(store, dates: dict[str, str | None], ocr: set[str] = frozenset()) -> None:
    with store.writer(SETTINGS) as writer:
        for doc in (d for d in ARTICLES if d.doc_id in dates):
            passages = encode_passages(
                EMBEDDER, [replace(p, ocr=doc.doc_id in ocr) for p in chunk_document(doc, CHUNKING)]
            )
            writer.add(doc.doc_id, doc.content_hash, doc.title, passages, dates[doc.doc_id])
        writer.commit()


class StoresKeepDates:
    """Run against each store (a ``store`` fixture, and ``other_store`` opened on the same one)."""

    def test_dates_and_ocr_marks_come_back_and_stay_through_an_update(self, store, other_store):
        write_dated(store, {"a.txt": "2017-03-14", "b.txt": None}, ocr={"a.txt"})
        reader = other_store.open_reader()
        assert reader.manifest.date_of("a.txt") == "2017-03-14" and reader.manifest.date_of("b.txt") is None
        assert reader.manifest.date_of("gone.txt") is None
        marks = {p.doc_id: p.ocr for p in reader.passages()}
        assert marks == {"a.txt": True, "b.txt": False}
        write_dated(store, {"c.txt": "2015-05-21"})  # an update that leaves a.txt and b.txt as they are
        manifest = other_store.open_reader().manifest
        assert {d: e.date for d, e in manifest.documents.items()} == {
            "a.txt": "2017-03-14",
            "b.txt": None,
            "c.txt": "2015-05-21",
        }


class TestFilesStore(StoresKeepDates):
    @pytest.fixture
    def store(self, tmp_path):
        return FilesStore(tmp_path / "index")

    @pytest.fixture
    def other_store(self, store):
        return FilesStore(store.folder)


@pytest.mark.slow
class TestPostgresStore(StoresKeepDates):
    @pytest.fixture
    def store(self, postgres_uri):
        store = open_store(postgres_uri)
        yield store
        store.close()

    @pytest.fixture
    def other_store(self, postgres_uri):
        other = open_store(postgres_uri)
        yield other
        other.close()


def test_a_manifest_written_before_dates_were_kept_still_opens():
    manifest = Manifest(SETTINGS)
    written = manifest.to_json().replace(',"dates":[]', "")
    assert '"dates"' not in written
    assert Manifest.from_json(written).documents == {}
    with_one = Manifest.from_json(
        written.replace('"ids":[]', '"ids":["a.txt"]')
        .replace('"hashes":[]', '"hashes":["h"]')
        .replace('"titles":[]', '"titles":["T"]')
        .replace('"passages":[]', '"passages":["p1 p2"]')
    )
    assert with_one.date_of("a.txt") is None and with_one.documents["a.txt"].passage_ids == ("p1", "p2")


def test_the_indexer_keeps_each_articles_date_in_the_index(tmp_path):
    corpus = write_corpus(
        tmp_path / "corpus",
        {
            "a.txt": "Un bureau à Praia\nPraia, 5 février 2019 – L'OIM a ouvert un bureau.\n",
            "b.txt": "Un atelier au Caire\nLe Caire – Un atelier a réuni 40 policiers.\n",
        },
    )
    update_index(corpus, tmp_path / "index", backend="hash")
    manifest = open_store(tmp_path / "index").open_reader().manifest
    assert {d: e.date for d, e in manifest.documents.items()} == {"a.txt": "2019-02-05", "b.txt": None}
