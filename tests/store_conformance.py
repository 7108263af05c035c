"""The behaviour every store must show, whatever keeps the data (files, a database).

A test module subclasses :class:`StoreConformance` and provides a ``store``
fixture returning a fresh, empty store, and ``other_store``: a second handle
on the same store, as another process would open it. The articles are made
up and embedded with the model-free hash backend.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

from qa.chunking import ChunkSettings, Passage, chunk_document
from qa.embed.hashing import HashingEmbedder
from qa.indexer import encode_passages, index_settings
from qa.ingest import Document
from qa.store import IndexBusy, IndexMissing, IndexSettings, passage_key

EMBEDDER = HashingEmbedder("test-model")
CHUNKING = ChunkSettings(max_chars=60)  # short passages: several per article
SETTINGS = index_settings(EMBEDDER, CHUNKING)


def document(doc_id: str, title: str, *sentences: str) -> Document:
    text = " ".join(sentences)
    return Document(
        doc_id=doc_id,
        title=title,
        text=text,
        offsets=np.arange(len(text), dtype=np.int64),
        source=text,
        content_hash=f"hash-of-{doc_id}-{len(text)}",
        path=doc_id,
    )


def wrapped_document(doc_id: str, title: str, source: str, *later_pages: str) -> Document:
    """An article as the readers make them from a file: its hard-wrapped lines joined again and its
    ``*`` markup dropped, each character keeping its offset in ``source``; its second, third… pages
    start at ``later_pages``. Its passages have every citation field: breaks, line offsets, pages."""
    kept = [(at, " " if char == "\n" else char) for at, char in enumerate(source) if char != "*"]
    text = "".join(char for _, char in kept)
    return Document(
        doc_id=doc_id,
        title=title,
        text=text,
        offsets=np.array([at for at, _ in kept], dtype=np.int64),
        source=source,
        content_hash=f"hash-of-{doc_id}-{len(text)}",
        path=doc_id,
        pages=(0, *(source.index(start) for start in later_pages)),
    )


ARTICLES = [
    wrapped_document(
        "a.txt",
        "Mongolie",
        "Saruul Bat dirige le **bureau** de Mongolie.\nLe bureau emploie douze\npersonnes. Il a ouvert en mars.",
        "Le bureau emploie",
        "ouvert en mars",  # the second passage goes on over the break to page 3
    ),
    document(
        "b.txt", "Caire", "Un atelier sur la traite a réuni quarante policiers au Caire.", "Amina Hassan l'animait."
    ),
    document("c.txt", "Arctique", "Ingrid Solvang dirige le bureau de Tromsø depuis 2024."),
]


def write(store, docs, settings: IndexSettings = SETTINGS, remove=(), rebuild=False) -> str:
    with store.writer(settings, rebuild=rebuild) as writer:
        writer.remove(remove)
        for doc in docs:
            passages = chunk_document(doc, CHUNKING)
            writer.add(doc.doc_id, doc.content_hash, doc.title, encode_passages(EMBEDDER, passages))
        return writer.commit()


def query(text: str) -> np.ndarray:
    return EMBEDDER.encode_query(text).vector


def written(docs=ARTICLES) -> dict[str, Passage]:
    """The passages ``write`` stores for ``docs``, by id."""
    return {p.passage_id: p for doc in docs for p in chunk_document(doc, CHUNKING)}


def write_dated(store, dates: dict[str, str | None], ocr: set[str] = frozenset()) -> None:
    with store.writer(SETTINGS) as writer:
        for doc in (d for d in ARTICLES if d.doc_id in dates):
            passages = encode_passages(
                EMBEDDER, [replace(p, ocr=doc.doc_id in ocr) for p in chunk_document(doc, CHUNKING)]
            )
            writer.add(doc.doc_id, doc.content_hash, doc.title, passages, dates[doc.doc_id])
        writer.commit()


class StoreConformance:
    def test_an_empty_store_has_no_version_and_says_so(self, store):
        assert store.current_version() is None
        assert store.read_manifest() is None
        with pytest.raises(IndexMissing):
            store.open_reader()

    def test_what_is_written_is_read_back(self, store):
        version = write(store, ARTICLES)
        assert store.current_version() == version
        reader = store.open_reader()
        assert reader.version == version
        assert set(reader.manifest.documents) == {"a.txt", "b.txt", "c.txt"}
        assert reader.manifest.settings == SETTINGS
        assert reader.manifest.documents["b.txt"].content_hash == ARTICLES[1].content_hash
        passages = list(reader.passages())
        assert len(reader) == len(passages) == reader.manifest.passage_count >= 4
        assert {p.doc_id for p in passages} == {"a.txt", "b.txt", "c.txt"}

    def test_passages_come_back_whole(self, store):
        """Every field a citation needs survives the trip: text, offsets, lines, sentences, breaks, pages."""
        expected = written()
        assert any(p.page == 2 for p in expected.values()) and any(p.line_offsets for p in expected.values())
        assert any(p.pages == (2, 3) for p in expected.values())  # a passage over a page break
        assert any(len(p.breaks) > 1 for p in expected.values())  # the test data has them all
        write(store, ARTICLES)
        reader = store.open_reader()
        assert {p.passage_id: p for p in reader.passages()} == expected
        keys = [passage_key(pid) for pid in reversed(expected)]
        assert list(reader.passages(keys)) == [expected[pid] for pid in reversed(expected)]
        found = reader.search(query("bureau de Mongolie"), k=len(expected))
        assert len(found) == len(expected) and all(c.passage == expected[c.passage.passage_id] for c in found)

    def test_search_finds_the_nearest_passages_with_their_sentence_vectors(self, store):
        write(store, ARTICLES)
        reader = store.open_reader()
        question = query("Ingrid Solvang dirige le bureau de Tromsø depuis 2024.")
        found = reader.search(question, k=2)
        assert len(found) == 2 and found[0].passage.doc_id == "c.txt"
        stored = {e.passage.passage_id: e for e in encode_passages(EMBEDDER, list(written().values()))}
        for candidate in found:
            vectors = stored[candidate.passage.passage_id]
            assert candidate.dense == pytest.approx(float(vectors.vector @ question), abs=1e-5)
            np.testing.assert_allclose(candidate.sentence_vectors, vectors.sentence_vectors, atol=1e-3)  # float16
        assert found[0].dense >= found[1].dense and found[0].dense > 0.9

    def test_search_also_returns_the_passages_asked_for_by_key(self, store):
        write(store, ARTICLES)
        reader = store.open_reader()
        wanted = next(p for p in reader.passages() if p.doc_id == "b.txt")
        found = reader.search(query("Tromsø"), k=1, also=[passage_key(wanted.passage_id)])
        assert {c.passage.passage_id for c in found} >= {wanted.passage_id}
        extra = next(c for c in found if c.passage.passage_id == wanted.passage_id)
        assert extra.key == passage_key(wanted.passage_id)
        assert extra.dense == pytest.approx(
            float(EMBEDDER.encode_documents([wanted.titled_text])[0].vector @ query("Tromsø")), abs=1e-4
        )

    def test_keyword_search_ranks_passages_holding_the_words(self, store):
        write(store, ARTICLES)
        reader = store.open_reader()
        hits = reader.keyword_search("policiers au Caire", k=5)
        assert len(hits.keys) >= 1
        first = next(reader.passages([int(hits.keys[0])]))
        assert first.doc_id == "b.txt"
        assert hits.scores[0] == pytest.approx(hits.coverage) and hits.coverage == 1.0
        assert len(reader.keyword_search("zzzz inconnu", k=5).keys) == 0

    def test_word_pieces_come_back_as_stored(self, store):
        write(store, ARTICLES)
        reader = store.open_reader()
        passage = next(p for p in reader.passages() if p.doc_id == "c.txt")
        (pieces,) = reader.pieces([passage_key(passage.passage_id)])
        expected = encode_passages(EMBEDDER, [passage])[0].pieces
        np.testing.assert_array_equal(pieces.ids, expected.ids)
        np.testing.assert_array_equal(pieces.ends, expected.ends)
        cosines = np.sum(pieces.vectors * expected.vectors, axis=1) / np.linalg.norm(pieces.vectors, axis=1)
        assert cosines.min() > 0.999  # stored compactly, but the same vectors

    def test_rare_word_pieces_weigh_more(self, store):
        write(store, ARTICLES)
        idf = store.open_reader().piece_idf()
        common, rare = EMBEDDER.token_id("bureau"), EMBEDDER.token_id("Solvang")
        assert idf[rare] > idf[common] > 0
        assert idf[-1] >= idf[rare]  # the slot for unknown ids weighs most

    def test_an_article_written_again_replaces_its_old_passages(self, store):
        write(store, ARTICLES)
        edited = document("a.txt", "Mongolie", "Saruul Bat a quitté la Mongolie.")
        write(store, [edited])
        reader = store.open_reader()
        texts = [p.text for p in reader.passages() if p.doc_id == "a.txt"]
        assert texts == ["Saruul Bat a quitté la Mongolie."]
        assert reader.manifest.documents["a.txt"].content_hash == edited.content_hash
        assert len(reader) == reader.manifest.passage_count
        assert all(
            c.passage.doc_id != "a.txt" or c.passage.text == texts[0] for c in reader.search(query("douze"), k=10)
        )

    def test_removed_articles_are_gone(self, store):
        write(store, ARTICLES)
        write(store, [], remove=["b.txt"])
        reader = store.open_reader()
        assert set(reader.manifest.documents) == {"a.txt", "c.txt"}
        assert all(p.doc_id != "b.txt" for p in reader.passages())
        assert all(c.passage.doc_id != "b.txt" for c in reader.search(query("Caire policiers"), k=10))
        assert len(reader.keyword_search("policiers", k=5).keys) == 0

    def test_nothing_is_visible_before_the_commit_and_a_failed_run_changes_nothing(self, store):
        version = write(store, ARTICLES[:1])
        with pytest.raises(RuntimeError, match="interrupted"), store.writer(SETTINGS) as writer:
            passages = encode_passages(EMBEDDER, chunk_document(ARTICLES[1], CHUNKING))
            writer.add("b.txt", "h", "Caire", passages)
            writer.remove(["a.txt"])
            assert store.current_version() == version
            assert set(store.open_reader().manifest.documents) == {"a.txt"}
            raise RuntimeError("interrupted")
        assert store.current_version() == version
        assert set(store.open_reader().manifest.documents) == {"a.txt"}
        write(store, ARTICLES[1:2])  # and the next run works
        assert set(store.open_reader().manifest.documents) == {"a.txt", "b.txt"}

    def test_a_reader_keeps_its_version_while_a_new_one_is_written(self, store):
        write(store, ARTICLES)
        old = store.open_reader()
        before = [c.passage.passage_id for c in old.search(query("Caire"), k=3)]
        write(store, [], remove=["b.txt"])
        assert store.current_version() != old.version
        assert [c.passage.passage_id for c in old.search(query("Caire"), k=3)] == before
        assert len(list(old.passages())) == len(old)

    def test_other_settings_start_from_an_empty_index(self, store):
        write(store, ARTICLES)
        other = replace(SETTINGS, model="another-model")
        with store.writer(other) as writer:
            assert writer.base is None and "another-model" in (writer.rebuilt_because or "")
        with store.writer(SETTINGS, rebuild=True) as writer:
            assert writer.base is None and writer.rebuilt_because
        with store.writer(SETTINGS) as writer:
            assert writer.base is not None and set(writer.base.documents) == {"a.txt", "b.txt", "c.txt"}

    def test_a_second_writer_waits_then_gives_up(self, store, other_store, caplog):
        write(store, ARTICLES[:1])
        entered, release = threading.Event(), threading.Event()

        def hold():
            with store.writer(SETTINGS):
                entered.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert entered.wait(10)
            with pytest.raises(IndexBusy, match="gave up after"), other_store.writer(SETTINGS, wait_seconds=0.5):
                pass
            assert "waiting for it" in caplog.text  # it said it waited before giving up
        finally:
            release.set()
            holder.join()
        write(other_store, ARTICLES[1:2])  # free again
        assert set(store.open_reader().manifest.documents) == {"a.txt", "b.txt"}

    def test_another_handle_sees_new_versions(self, store, other_store):
        write(store, ARTICLES[:1])
        assert other_store.current_version() == store.current_version()
        write(other_store, ARTICLES[2:])
        assert store.current_version() == other_store.current_version()
        assert set(store.open_reader().manifest.documents) == {"a.txt", "c.txt"}

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
