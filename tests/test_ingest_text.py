"""Plain-text articles: title, boilerplate-free body, re-joined lines, offsets back to the file."""

import hashlib
import re
from collections import Counter

import numpy as np
import pytest

from qa.chunking import chunk_document
from qa.ingest import PARAGRAPH_BREAK, CorpusError, load_corpus, path_in_corpus
from qa.ingest import document as document_module
from qa.ingest import text as text_module
from qa.ingest.text import clean_document, clean_line, clean_lines

NAV_LINES = ["Qui sommes nous", "Structure organisationnelle", "2030 AGENDA", "Engagez-vous"]


@pytest.fixture(scope="module")
def seed_docs(seed_corpus):
    return {d.doc_id: d for d in load_corpus(seed_corpus).documents}


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
        assert isinstance(doc.offsets, np.ndarray) and doc.offsets.dtype == np.int64
        assert len(doc.offsets) == len(doc.text)
        assert np.all(np.diff(doc.offsets) >= 0)
        for ch, offset in zip(doc.text, doc.offsets.tolist(), strict=True):
            if not ch.isspace():
                assert doc.source[offset] == ch


# Digest of (doc_id, content_hash) of the seed articles and (passage_id, span, lines)
# of their passages, as computed by qa/corpus.py before it became qa.ingest: an
# upgrade must neither re-embed the seeds nor change a citation.
SEED_DIGEST = "7cb572f4604a4a0a2a77f9c72ab27892439279107b2209c12ac5f6d7fe943877"


def test_seed_documents_and_passage_ids_are_unchanged(seed_docs):
    docs = list(seed_docs.values())
    passages = [p for doc in docs for p in chunk_document(doc)]
    key = "\n".join(f"{d.doc_id} {d.content_hash}" for d in docs) + "\n"
    key += "\n".join(f"{p.passage_id} {p.start} {p.end} {p.line_start} {p.line_end}" for p in passages)
    assert hashlib.sha256(key.encode()).hexdigest() == SEED_DIGEST


def test_one_document_corpus_works(tmp_path):
    (tmp_path / "only.md").write_text("# Un titre\n\nUn paragraphe. Une phrase.\n", encoding="utf-8")
    [doc] = load_corpus(tmp_path).documents
    assert doc.title == "Un titre"
    assert doc.text == "Un paragraphe. Une phrase."
    assert doc.path == doc.doc_id == "only.md"


def test_whitespace_markup_and_paragraphs_keep_their_offsets():
    source = "Titre\n\n  Un  texte\tcoupé\nici <br> et là.\r\n\r\n\ufeffSecond\u00a0paragraphe.  \n"
    doc = clean_document("a.txt", source)
    assert doc.title == "Titre"
    assert doc.text == "Un texte coupé ici et là." + PARAGRAPH_BREAK + "Second paragraphe."
    for i, (ch, offset) in enumerate(zip(doc.text, doc.offsets.tolist(), strict=True)):
        if ch == "\n":
            continue
        assert doc.source[offset] == ch or (ch == " " and doc.source[offset].isspace()), i
    # the paragraph break points at the end of the paragraph before it
    brk = doc.text.index(PARAGRAPH_BREAK)
    assert doc.offsets[brk] == doc.offsets[brk - 1] == source.index("là.") + 2


def test_line_range_counts_lines_like_splitlines():
    source = "Titre\r\nUne phrase.\rDeux phrases.\u2028Trois phrases.\n"
    doc = clean_document("a.txt", source)
    start = source.index("Trois")
    assert doc.line_range(start, start + 5) == (4, 4)
    assert doc.line_range(source.index("Une"), source.index("Trois") + 3) == (2, 4)


def test_without_title_and_without_joining():
    cleaned = clean_lines("Ligne un\nligne deux\n\nTrois", title_lines=0, join_wrapped=False)
    assert cleaned.title == ""
    assert cleaned.text == "Ligne un\n\nligne deux\n\nTrois"


def test_cleaning_and_line_lookup_are_linear(monkeypatch):
    """Each character is cleaned once, and the line starts of an article are found once however many
    passages cite lines: a 2 MB article took 10 s when they were found again for every passage.
    (Counted, not timed: bench/bench_ingest.py gives the times.)"""
    work: Counter[str] = Counter()

    def counted(name, function, size):
        def count(*args, **kwargs):
            work[name] += size(*args)
            return function(*args, **kwargs)

        return count

    def batch_chars(bodies, _starts, paragraphs):
        return sum(len(bodies[i]) for paragraph in paragraphs for i in paragraph)

    find_line_starts = counted("line starts", document_module.line_starts, len)
    for module in (document_module, text_module):
        monkeypatch.setattr(module, "line_starts", find_line_starts)
    monkeypatch.setattr(text_module, "_clean_batch", counted("cleaned", text_module._clean_batch, batch_chars))
    paragraph = (
        "L'OIM a organisé une consultation nationale à Oulan-Bator, en préparation au Dialogue de haut\n"
        "niveau des Nations Unies sur la migration et le développement. Une quarantaine de responsables\n"
        "ont participé à la réunion, avec des représentants des ambassades et des ONG.\n\n"
    )
    source = "Titre\n" + paragraph * 1000
    doc = clean_document("big.txt", source)
    passages = chunk_document(doc)
    assert len(passages) > 500
    assert work["line starts"] == len(source)  # once for the article, not once for each passage
    assert 0 < work["cleaned"] <= len(source)
    last = passages[-1]
    assert last.line_end == source.count("\n") - 1
    assert source[last.start : last.end].replace("\n", " ") == last.text


def test_missing_corpus_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="corpus folder not found"):
        load_corpus(tmp_path / "nope")


def test_paths_cannot_leave_the_corpus(tmp_path):
    assert path_in_corpus(tmp_path, "a/b.txt") == (tmp_path / "a" / "b.txt").resolve()
    for bad in ["../secret.txt", "/etc/passwd", "a/../../x", "../c.jsonl#1"]:
        with pytest.raises(CorpusError, match="outside"):
            path_in_corpus(tmp_path, bad)


@pytest.mark.parametrize(
    "text",
    [
        "Déjà propre, une seule ligne.",
        "Des\u00a0espaces\u202finsécables et\tune tabulation.",
        "  Des espaces   en trop  ",
        "\u3000Espace idéographique\u3000",
        "Un mot",
    ],
)
def test_the_one_line_fast_path_gives_what_full_cleaning_gives(text):
    fast = clean_line(text)
    full = clean_lines(text, title_lines=0)
    assert fast is not None
    assert fast[0] == full.text and fast[1].tolist() == full.offsets.tolist()


@pytest.mark.parametrize("text", ["Deux\nlignes.", "Un <br> lien.", '"mailto:a@b.fr">a@b.fr', "\ufeffBOM"])
def test_the_fast_path_leaves_other_texts_to_full_cleaning(text):
    assert clean_line(text) is None
