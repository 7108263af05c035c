from itertools import pairwise

import pytest

from qa.chunking import ChunkSettings, chunk_document
from qa.ingest import load_corpus
from qa.ingest.text import clean_document


@pytest.fixture(scope="module")
def seed_passages(seed_corpus):
    return [p for doc in load_corpus(seed_corpus).documents for p in chunk_document(doc)]


def squash(text: str) -> str:
    return " ".join(text.split())


def test_citation_spans_read_back_as_the_passage_text(seed_corpus, seed_passages):
    import re

    markup = re.compile(r'"mailto:[^"]*">')
    for p in seed_passages:
        original = (seed_corpus / p.doc_id).read_text(encoding="utf-8")
        assert squash(markup.sub("", original[p.start : p.end])) == squash(p.text)
        lines = original.splitlines()
        assert p.text.split()[0] in lines[p.line_start - 1]
        assert p.text.split()[-1] in lines[p.line_end - 1]


def test_passages_are_whole_sentences_within_the_size_limit(seed_passages):
    for p in seed_passages:
        assert len(p.text) <= ChunkSettings().max_chars
        assert p.text[0].isupper() or p.text[0] in '«"', p.text
        assert p.sentences[0][0] == 0 and p.sentences[-1][1] == len(p.text)


def test_wrapped_seed_001_gives_whole_sentences(seed_passages):
    wrapped = [p for p in seed_passages if p.doc_id.startswith("001_")]
    sentences = [p.text[s:e] for p in wrapped for s, e in p.sentences]
    assert (
        "L'OIM débute aujourd'hui un atelier de trois jours à Oulan-Bator à destination de 40 responsables "
        "du gouvernement mongolien afin de renforcer la protection aux frontières et de prévenir les "
        "mouvements irréguliers de personnes." in sentences
    )
    assert all("\n" not in s for s in sentences)


def test_neighbours_overlap_by_one_sentence(seed_passages):
    doc = [p for p in seed_passages if p.doc_id.startswith("000_")]
    shared = 0
    for a, b in pairwise(doc):
        last_of_a = a.text[a.sentences[-1][0] : a.sentences[-1][1]]
        shared += b.text.startswith(last_of_a)
    assert shared >= 1


def test_the_quote_and_its_speaker_share_a_passage(seed_passages):
    assert any(
        "Pär Liljert, chef de mission" in p.text and "Cette consultation nationale" in p.text for p in seed_passages
    )


def test_ids_are_stable_and_unique(seed_corpus, seed_passages):
    again = [p for doc in load_corpus(seed_corpus).documents for p in chunk_document(doc)]
    assert [p.passage_id for p in again] == [p.passage_id for p in seed_passages]
    assert len({p.passage_id for p in seed_passages}) == len(seed_passages)


def test_editing_one_paragraph_keeps_the_other_ids():
    source = "Titre\nPremière phrase ici. Deuxième phrase là.\n\nUn autre paragraphe.\n"
    edited = source.replace("Un autre paragraphe.", "Un paragraphe modifié.")
    settings = ChunkSettings(max_chars=40, overlap_sentences=0)
    before = chunk_document(clean_document("a.txt", source), settings)
    after = chunk_document(clean_document("a.txt", edited), settings)
    assert before[0].passage_id == after[0].passage_id
    assert before[-1].passage_id != after[-1].passage_id


def test_overlong_sentence_is_cut_at_spaces():
    words = " ".join(f"mot{i}" for i in range(400))
    doc = clean_document("long.txt", f"Titre\n{words}.\n")
    passages = chunk_document(doc, ChunkSettings(max_chars=200))
    assert len(passages) > 5
    assert all(len(p.text) <= 200 for p in passages)
    assert " ".join(p.text for p in passages) == doc.text


def test_passages_have_no_page_outside_pdfs_and_plain_int_spans(seed_passages):
    for p in seed_passages:
        assert p.page is None
        assert all(type(v) is int for v in (p.start, p.end, p.line_start, p.line_end))  # stored as JSON


def test_fields_added_later_are_last_and_optional():
    """Passages stored before the page, the OCR mark and the page starts were kept load with their defaults."""
    import dataclasses

    from qa.chunking import Passage

    fields = dataclasses.fields(Passage)
    assert [(f.name, f.default) for f in fields[-3:]] == [("page", None), ("ocr", False), ("page_starts", ())]
    stored_before = {
        f.name: getattr(chunk_document(clean_document("a.txt", "T\nUne phrase.\n"))[0], f.name) for f in fields[:-3]
    }
    loaded = Passage.from_dict(stored_before)
    assert loaded.ocr is False and loaded.page_starts == () and loaded.pages == ()
    on_a_page = Passage.from_dict(stored_before | {"page": 4})  # a PDF passage stored before: its first page only
    assert on_a_page.pages == (4,) and on_a_page.page_at(on_a_page.end - 1) == 4
