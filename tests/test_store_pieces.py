"""Word pieces and sentence vectors kept compactly (qa.store.piece_formats): what both stores give back, what
they take on disk, and that reranking with them orders passages as the full vectors do."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from qa.chunking import ChunkSettings, chunk_document
from qa.embed import DEFAULT_MODEL, Pieces
from qa.embed.hashing import HashingEmbedder
from qa.indexer import encode_passages, index_settings
from qa.rerank import late_interaction
from qa.store import IndexSettings, open_store, passage_key
from qa.store.faiss import SEGMENTS, FilesStore
from qa.store.piece_formats import FORMATS, SENTENCE_CODEBOOK, PQPieces, format_for
from qa.store.segments import SEGMENT_JSON

from .store_conformance import ARTICLES, CHUNKING, document

EMBEDDER = HashingEmbedder("test-model", dim=384)
INT8 = replace(index_settings(EMBEDDER, CHUNKING), pieces="int8")
PQ16 = replace(INT8, pieces="pq16")
COMPACT = replace(INT8, pieces="pq16s64")
MARGIN = 0.03  # late-interaction scores this far apart are not reordered by the compression
PIECES_BUDGET = 3 * 1024  # bytes of word pieces a passage of about 600 characters
PIECE_FILES = ("piece_codes.u8", "piece_ids.i32", "piece_ends.u16", "pieces.i8", "piece_scales.f32", "piece_meta.i32")


def write(store, docs, settings: IndexSettings, chunking: ChunkSettings = CHUNKING) -> None:
    with store.writer(settings) as writer:
        for doc in docs:
            passages = chunk_document(doc, chunking)
            writer.add(doc.doc_id, doc.content_hash, doc.title, encode_passages(EMBEDDER, passages))
        writer.commit()


def pieces_by_passage(store) -> list[tuple[str, Pieces, Pieces]]:
    """Each passage's article, its pieces as stored, and as the embedder makes them."""
    reader = store.open_reader()
    passages = list(reader.passages())
    stored = reader.pieces([passage_key(p.passage_id) for p in passages])
    made = [e.pieces for e in encode_passages(EMBEDDER, passages)]
    return list(zip([p.doc_id for p in passages], stored, made, strict=True))


def test_int8_is_the_default_and_the_compact_formats_are_for_the_default_models_vectors(monkeypatch):
    monkeypatch.delenv("QA_PIECES", raising=False)
    assert format_for(DEFAULT_MODEL, "model weights", 384).name == "int8"
    assert IndexSettings(DEFAULT_MODEL, "model weights", "onnx:model.onnx", 384, {}).pieces == "int8"
    for compact in ("pq16", "pq16s64"):
        monkeypatch.setenv("QA_PIECES", compact)
        assert format_for(DEFAULT_MODEL, "model weights", 384).name == compact
        assert IndexSettings(DEFAULT_MODEL, "model weights", "onnx:model.onnx", 384, {}).pieces == compact
        assert format_for(DEFAULT_MODEL, "hashed words", 384).name == "int8"  # random vectors: no codebook fits
        assert format_for("another/model", "model weights", 384).name == "int8"
    monkeypatch.setenv("QA_PIECES", "int8")
    assert format_for(DEFAULT_MODEL, "model weights", 384).name == "int8"
    monkeypatch.setenv("QA_PIECES", "pq8")
    with pytest.raises(ValueError, match="QA_PIECES='pq8'"):
        format_for(DEFAULT_MODEL, "model weights", 384)


def test_settings_written_before_the_formats_read_as_int8():
    stored = {k: v for k, v in INT8.__dict__.items() if k != "pieces"}
    assert IndexSettings.from_dict(stored).pieces == "int8"


@pytest.fixture(params=["files", pytest.param("postgres", marks=pytest.mark.slow)])  # slow: a server is started
def any_store(request, tmp_path):
    if request.param == "files":
        yield FilesStore(tmp_path / "index")
        return
    store = open_store(request.getfixturevalue("postgres_uri"))
    yield store
    store.close()


def sentences_by_passage(store) -> dict[str, tuple[str, np.ndarray, np.ndarray]]:
    """Each passage's article, its sentence vectors as the store gives them to a search, and as the embedder
    makes them."""
    reader = store.open_reader()
    passages = list(reader.passages())
    made = {
        p.passage_id: e.sentence_vectors for p, e in zip(passages, encode_passages(EMBEDDER, passages), strict=True)
    }
    found = reader.search(EMBEDDER.encode_query("bureau").vector, len(passages))
    assert len(found) == len(passages)
    return {c.passage.passage_id: (c.passage.doc_id, c.sentence_vectors, made[c.passage.passage_id]) for c in found}


@pytest.mark.parametrize("settings", [PQ16, COMPACT], ids=["pq16", "pq16s64"])
def test_both_stores_give_back_the_pieces_the_codebook_makes(any_store, settings):
    write(any_store, ARTICLES, settings)
    pq = FORMATS[settings.pieces]
    for _, stored, made in pieces_by_passage(any_store):
        np.testing.assert_array_equal(stored.ids, made.ids)
        np.testing.assert_array_equal(stored.ends, made.ends)
        np.testing.assert_allclose(stored.vectors, pq.decode(pq.encode(made.vectors), 384), atol=1e-6)
        np.testing.assert_allclose(np.linalg.norm(stored.vectors, axis=1), 1.0, atol=1e-5)
    for _, stored, made in sentences_by_passage(any_store).values():
        assert stored.shape == made.shape and len(made)
        if settings is COMPACT:  # coded in 64 bytes
            np.testing.assert_allclose(stored, pq.decode_sentences(pq.encode_sentences(made), 384), atol=1e-6)
        else:  # int8 (files) or float16 (PostgreSQL)
            np.testing.assert_allclose(stored, made, atol=0.01)


def test_sentence_codes_round_trip_to_the_nearest_centroids():
    compact = FORMATS["pq16s64"]
    vectors = np.random.default_rng(3).normal(size=(5, 384)).astype(np.float32)
    codes = compact.encode_sentences(vectors)
    assert codes.shape == (5, 64) and codes.dtype == np.uint8
    decoded = compact.decode_sentences(codes, 384)
    np.testing.assert_allclose(np.linalg.norm(decoded, axis=1), 1.0, atol=1e-5)
    centroids = np.load(SENTENCE_CODEBOOK).astype(np.float32)  # (64, 256, 6)
    parts = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).reshape(5, 64, 1, 6)
    np.testing.assert_array_equal(codes, np.square(parts - centroids).sum(axis=3).argmin(axis=2))
    assert compact.decode_sentences(compact.encode_sentences(vectors[:0]), 384).shape == (0, 384)
    with pytest.raises(ValueError, match="kept by the store"):
        FORMATS["pq16"].encode_sentences(vectors)


def test_an_index_of_int8_and_pq16_pieces_is_read_and_updated_in_the_compact_format(any_store):
    write(any_store, ARTICLES[:1], INT8)
    write(any_store, ARTICLES[1:2], PQ16)
    write(any_store, [document("c.txt", "Arctique", "Ingrid Solvang dirige le bureau de Tromsø.")], COMPACT)
    assert any_store.read_manifest().settings.pieces == "pq16s64"
    written_in = {"a.txt": "int8", "b.txt": "pq16", "c.txt": "pq16s64"}
    found = pieces_by_passage(any_store)
    assert {doc_id for doc_id, _, _ in found} == set(written_in)
    for doc_id, stored, made in found:
        np.testing.assert_array_equal(stored.ids, made.ids)
        np.testing.assert_array_equal(stored.ends, made.ends)
        kept = FORMATS[written_in[doc_id]]
        assert stored.coarse == (doc_id != "a.txt")  # decoded from codes: the best are read again (qa.rerank)
        if doc_id == "a.txt":  # int8, kept as it was
            cosines = np.sum(stored.vectors * made.vectors, axis=1) / np.linalg.norm(stored.vectors, axis=1)
            assert cosines.min() > 0.999
        else:
            np.testing.assert_allclose(stored.vectors, kept.decode(kept.encode(made.vectors), 384), atol=1e-6)
    compact = FORMATS["pq16s64"]
    for doc_id, stored, made in sentences_by_passage(any_store).values():
        if doc_id == "c.txt":
            np.testing.assert_allclose(stored, compact.decode_sentences(compact.encode_sentences(made), 384), atol=1e-6)
        else:
            np.testing.assert_allclose(stored, made, atol=0.01)


def test_a_passage_of_600_characters_takes_at_most_6_kb_in_the_compact_format(tmp_path):
    words = "le bureau de Mongolie emploie douze personnes et a ouvert en mars pour aider les migrants".split()
    text = " ".join(words[i % len(words)] + (". " if i % 15 == 14 else "") for i in range(400))
    chunking = ChunkSettings()
    docs = [replace(document(f"{n}.txt", f"Article {n}", text), content_hash=f"h{n}") for n in range(20)]
    sizes, whole = {}, {}
    for settings in (COMPACT, PQ16, INT8):
        store = FilesStore(tmp_path / settings.pieces)
        write(store, docs, replace(settings, chunking=chunking.as_dict()), chunking)
        passages = list(store.open_reader().passages())
        assert 500 <= np.mean([len(p.text) for p in passages]) <= 700
        (segment,) = (store.folder / SEGMENTS).iterdir()
        info = json.loads((segment / SEGMENT_JSON).read_text())
        assert 90 <= info["pieces"] / len(passages) <= 140  # as many as the model makes (109 a passage on PIAF)
        names = [n for n in PIECE_FILES if (segment / n).exists()]
        sizes[settings.pieces] = sum((segment / n).stat().st_size for n in names) / len(passages)
        whole[settings.pieces] = sum(f.stat().st_size for f in segment.iterdir()) / len(passages)
        if settings.pieces != "int8":
            assert sorted(names) == ["piece_codes.u8", "piece_ends.u16", "piece_ids.i32"]
            assert sizes[settings.pieces] == info["pieces"] / len(passages) * (16 + 4 + 2)
    assert sizes["pq16"] <= PIECES_BUDGET
    assert sizes["int8"] > 15 * sizes["pq16"]
    # sentence vectors in 64 bytes each, not 388 (int8) nor 768 (float16)
    sentences = info["sentences"] / len(passages)
    assert whole["pq16"] - whole["pq16s64"] == pytest.approx(sentences * (388 - 64), abs=1)  # segment.json differs
    assert whole["pq16s64"] <= 6 * 1024


@pytest.mark.slow  # the real model: the codebooks were fitted on its vectors
def test_reranking_with_compact_pieces_and_sentences_orders_passages_as_the_full_vectors_do():
    from qa.embed import get_embedder

    embedder = get_embedder(DEFAULT_MODEL, "onnx")
    passages = [
        "Saruul Bat dirige le bureau de l'OIM en Mongolie depuis 2019.",
        "Un atelier sur la traite des êtres humains a réuni quarante policiers au Caire.",
        "Ingrid Solvang dirige le bureau de Tromsø, en Norvège, depuis 2024.",
        "Les pluies de mousson ont déplacé 12 000 familles au Bangladesh en juillet.",
        "Le programme de retour volontaire a aidé 350 migrants à rentrer au Niger.",
        "La conférence de Genève sur les migrations climatiques s'est ouverte lundi.",
    ]
    questions = [
        "Qui dirige le bureau de Mongolie ?",
        "Combien de policiers ont participé à l'atelier du Caire ?",
        "Qui est à la tête du bureau de Tromsø ?",
        "Combien de familles la mousson a-t-elle déplacées ?",
        "Combien de migrants sont rentrés au Niger ?",
        "Où s'est ouverte la conférence sur les migrations climatiques ?",
    ]
    mask = embedder.word_piece_mask
    read = embedder.encode_documents(passages)
    stored = [Pieces.of(t, mask) for t in read]
    pq = PQPieces()
    compressed = [replace(p, vectors=pq.decode(pq.encode(p.vectors), 384)) for p in stored]
    # each passage is one sentence: its vector as the indexer pools it, and as pq16s64 keeps it
    sentences = np.concatenate([t.span_vectors([(0, len(text))]) for t, text in zip(read, passages, strict=True)])
    compact = FORMATS["pq16s64"]
    coded = compact.decode_sentences(compact.encode_sentences(sentences), 384)
    assert np.sum(coded * sentences, axis=1).min() > 0.95
    for answering, question in enumerate(questions):  # the i-th question is answered by the i-th passage
        asked = Pieces.of(embedder.encode_query(question), mask)
        full = [late_interaction(asked.vectors @ p.vectors.T) for p in stored]
        small = [late_interaction(asked.vectors @ p.vectors.T) for p in compressed]
        assert int(np.argmax(full)) == int(np.argmax(small)) == answering, question
        # two passages whose full scores are clearly apart keep their order (close ones may swap)
        apart = [(i, j) for i in range(len(full)) for j in range(len(full)) if full[i] - full[j] > MARGIN]
        assert all(small[i] > small[j] for i, j in apart), question
        query = embedder.encode_query(question).vector
        full, small = sentences @ query, coded @ query
        assert int(np.argmax(full)) == int(np.argmax(small)) == answering, question
        apart = [(i, j) for i in range(len(full)) for j in range(len(full)) if full[i] - full[j] > MARGIN]
        assert all(small[i] > small[j] for i, j in apart), question
