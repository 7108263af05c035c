"""Word pieces kept compactly (qa.store.piece_formats): what both stores give back, what they take on disk,
and that reranking with them orders passages as the full vectors do."""

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
from qa.store.piece_formats import PQPieces, format_for
from qa.store.segments import SEGMENT_JSON

from .store_conformance import ARTICLES, CHUNKING, document

EMBEDDER = HashingEmbedder("test-model", dim=384)
INT8 = replace(index_settings(EMBEDDER, CHUNKING), pieces="int8")
PQ16 = replace(INT8, pieces="pq16")
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


def test_pq16_is_for_the_default_models_vectors_when_asked_for(monkeypatch):
    assert format_for(DEFAULT_MODEL, "model weights", 384).name == "int8"
    monkeypatch.setenv("QA_PIECES", "pq16")
    assert format_for(DEFAULT_MODEL, "model weights", 384).name == "pq16"
    assert format_for(DEFAULT_MODEL, "hashed words", 384).name == "int8"  # random vectors: no codebook fits
    assert format_for("another/model", "model weights", 384).name == "int8"
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


def test_both_stores_give_back_the_pieces_the_codebook_makes(any_store):
    write(any_store, ARTICLES, PQ16)
    pq = PQPieces()
    for _, stored, made in pieces_by_passage(any_store):
        np.testing.assert_array_equal(stored.ids, made.ids)
        np.testing.assert_array_equal(stored.ends, made.ends)
        np.testing.assert_allclose(stored.vectors, pq.decode(pq.encode(made.vectors), 384), atol=1e-6)
        np.testing.assert_allclose(np.linalg.norm(stored.vectors, axis=1), 1.0, atol=1e-5)


def test_an_index_of_int8_pieces_is_read_and_updated_in_pq16(any_store):
    write(any_store, ARTICLES[:2], INT8)
    write(any_store, [document("c.txt", "Arctique", "Ingrid Solvang dirige le bureau de Tromsø.")], PQ16)
    assert any_store.read_manifest().settings.pieces == "pq16"
    pq = PQPieces()
    found = pieces_by_passage(any_store)
    assert {doc_id for doc_id, _, _ in found} == {"a.txt", "b.txt", "c.txt"}
    for doc_id, stored, made in found:
        np.testing.assert_array_equal(stored.ids, made.ids)
        np.testing.assert_array_equal(stored.ends, made.ends)
        if doc_id == "c.txt":  # written by the update
            np.testing.assert_allclose(stored.vectors, pq.decode(pq.encode(made.vectors), 384), atol=1e-6)
        else:  # kept as they were
            cosines = np.sum(stored.vectors * made.vectors, axis=1) / np.linalg.norm(stored.vectors, axis=1)
            assert cosines.min() > 0.999


def test_the_pieces_of_a_passage_of_600_characters_take_at_most_3_kb_in_pq16(tmp_path):
    words = "le bureau de Mongolie emploie douze personnes et a ouvert en mars pour aider les migrants".split()
    text = " ".join(words[i % len(words)] + (". " if i % 15 == 14 else "") for i in range(400))
    chunking = ChunkSettings()
    docs = [replace(document(f"{n}.txt", f"Article {n}", text), content_hash=f"h{n}") for n in range(20)]
    sizes = {}
    for settings in (PQ16, INT8):
        store = FilesStore(tmp_path / settings.pieces)
        write(store, docs, replace(settings, chunking=chunking.as_dict()), chunking)
        passages = list(store.open_reader().passages())
        assert 500 <= np.mean([len(p.text) for p in passages]) <= 700
        (segment,) = (store.folder / SEGMENTS).iterdir()
        info = json.loads((segment / SEGMENT_JSON).read_text())
        assert 90 <= info["pieces"] / len(passages) <= 140  # as many as the model makes (109 a passage on PIAF)
        names = [n for n in PIECE_FILES if (segment / n).exists()]
        sizes[settings.pieces] = sum((segment / n).stat().st_size for n in names) / len(passages)
        if settings.pieces == "pq16":
            assert sorted(names) == ["piece_codes.u8", "piece_ends.u16", "piece_ids.i32"]
            assert sizes["pq16"] == info["pieces"] / len(passages) * (16 + 4 + 2)
    assert sizes["pq16"] <= PIECES_BUDGET
    assert sizes["int8"] > 15 * sizes["pq16"]


@pytest.mark.slow  # the real model: pq16's codebook was fitted on its pieces
def test_reranking_with_pq16_pieces_orders_passages_as_the_full_pieces_do():
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
    stored = [Pieces.of(t, mask) for t in embedder.encode_documents(passages)]
    pq = PQPieces()
    compressed = [replace(p, vectors=pq.decode(pq.encode(p.vectors), 384)) for p in stored]
    for answering, question in enumerate(questions):  # the i-th question is answered by the i-th passage
        asked = Pieces.of(embedder.encode_query(question), mask)
        full = [late_interaction(asked.vectors @ p.vectors.T) for p in stored]
        small = [late_interaction(asked.vectors @ p.vectors.T) for p in compressed]
        assert int(np.argmax(full)) == int(np.argmax(small)) == answering, question
        # two passages whose full scores are clearly apart keep their order (close ones may swap)
        apart = [(i, j) for i in range(len(full)) for j in range(len(full)) if full[i] - full[j] > MARGIN]
        assert all(small[i] > small[j] for i, j in apart), question
