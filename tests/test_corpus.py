import logging
import re

import pytest

from qa.corpus import CorpusError, learn_boilerplate, load_corpus, path_in_corpus

NAV_LINES = ["Qui sommes nous", "Structure organisationnelle", "2030 AGENDA", "Engagez-vous"]


@pytest.fixture(scope="module")
def seed_docs(seed_corpus):
    return {d.doc_id: d for d in load_corpus(seed_corpus)}


def test_reads_every_seed_article(seed_docs):
    assert len(seed_docs) == 5


def test_site_navigation_is_removed(seed_docs):
    for doc in seed_docs.values():
        for nav in NAV_LINES:
            assert nav not in doc.text and nav not in doc.title


def test_title_is_the_first_line_after_the_navigation(seed_docs):
    assert seed_docs["001_d937851711d07b3c.txt"].title == "L'OIM en Mongolie œuvre contre la migration irrégulière"
    assert seed_docs["004_7c3d90763c57cd89.txt"].title.startswith("La Directrice régionale au Sommet de Bakou")


def test_dateline_place_is_kept(seed_docs):
    assert seed_docs["000_709937aa28120cef.txt"].text.startswith("Mongolie - En coopération")
    assert seed_docs["004_7c3d90763c57cd89.txt"].text.startswith("Bakou –")


def test_hard_wrapped_lines_are_rejoined(seed_docs):
    text = seed_docs["001_d937851711d07b3c.txt"].text
    assert "L'OIM débute aujourd'hui un atelier de trois jours à Oulan-Bator à destination de 40 responsables" in text
    # every paragraph ends a sentence: no paragraph break inside a wrapped sentence
    for paragraph in text.split("\n\n")[:-1]:
        assert re.search(r"[.!?»]$", paragraph), paragraph


def test_stray_markup_is_stripped_and_contacts_kept(seed_docs):
    text = seed_docs["001_d937851711d07b3c.txt"].text
    assert "mailto" not in text and '">' not in text
    assert "E-mail: kgormanbest@iom.int" in text
    assert "Tel: +86 10 8532 5303, Ext. 203" in text
    assert "Tel: +976 7014 3100" in seed_docs["000_709937aa28120cef.txt"].text


def test_every_character_maps_back_to_the_original(seed_docs):
    for doc in seed_docs.values():
        assert len(doc.offsets) == len(doc.text)
        for ch, offset in zip(doc.text, doc.offsets):
            if not ch.isspace():
                assert doc.source[offset] == ch


def test_boilerplate_needs_most_documents():
    texts = ["menu\nA\nshared once", "menu\nB\nshared once", "menu\nC", "menu\nD"]
    assert learn_boilerplate(texts) == {"menu", "shared once"}
    assert learn_boilerplate(["menu\nA"]) == frozenset()


def test_one_document_corpus_works(tmp_path):
    (tmp_path / "only.md").write_text("# Un titre\n\nUn paragraphe. Une phrase.\n", encoding="utf-8")
    [doc] = load_corpus(tmp_path)
    assert doc.title == "Un titre"
    assert doc.text == "Un paragraphe. Une phrase."


def test_bad_files_are_skipped_with_a_warning(tmp_path, caplog):
    (tmp_path / "good.txt").write_text("Titre\nUn texte.\n", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("Titre\nUn texte accentué é.\n".encode("latin-1"))
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "binary.md").write_bytes(b"\x89PNG\x00\x00\x01")
    (tmp_path / "ignored.pdf").write_bytes(b"%PDF")
    with caplog.at_level(logging.WARNING):
        docs = load_corpus(tmp_path)
    assert [d.doc_id for d in docs] == ["good.txt"]
    warned = " ".join(r.getMessage() for r in caplog.records)
    for name, reason in [("latin1.txt", "UTF-8"), ("empty.txt", "empty"), ("binary.md", "binary")]:
        assert name in warned and reason in warned


def test_missing_corpus_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nope")


def test_paths_cannot_leave_the_corpus(tmp_path):
    assert path_in_corpus(tmp_path, "a/b.txt") == (tmp_path / "a" / "b.txt").resolve()
    for bad in ["../secret.txt", "/etc/passwd", "a/../../x"]:
        with pytest.raises(CorpusError, match="outside"):
            path_in_corpus(tmp_path, bad)
