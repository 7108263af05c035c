"""Scanned PDFs and images of text, read by OCR (tesseract): cited by page, marked as OCR; without OCR,
skipped with how to add it; past the page limit, the rest said to be skipped.

These tests need tesseract with French (``apt-get install tesseract-ocr tesseract-ocr-fra``, which
``make install`` and CI do): without it they fail, saying so.
"""

import difflib
import json
import logging

import pytest

from qa.chunking import ChunkSettings, chunk_document
from qa.cli import main
from qa.ingest import load_corpus, ocr, pdf, read_document_text
from qa.ingest.document import Unusable
from qa.ingest.image import image_document
from qa.ingest.pdf import pdf_document

from .made_files import SCAN_LINES, SCAN_PAGE_2, make_scan, make_text_image


@pytest.fixture(autouse=True)
def fresh_ocr_cache(tmp_path, monkeypatch):
    """What OCR read is kept in the cache folder: each test starts from an empty one."""
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def tesseract():
    engine = ocr.engine()
    assert engine is not None, f"these tests need tesseract: {ocr.missing_message()}"
    assert "fra" in engine.languages, "these tests need tesseract's French: apt-get install tesseract-ocr-fra"
    return engine


@pytest.fixture
def no_ocr(monkeypatch):
    """This machine without tesseract."""
    monkeypatch.setattr(ocr, "TESSERACT", "qa-test-no-such-tesseract")


def folded(text: str) -> str:
    return " ".join(text.replace("—", "–").split())


def test_a_scanned_pdf_is_read_by_ocr_and_its_passages_are_cited_by_page_and_marked(tesseract):
    doc = pdf_document("scan.pdf", make_scan([SCAN_LINES, SCAN_PAGE_2]))
    assert doc.title == SCAN_LINES[0]  # the taller first line, accents and all
    assert doc.ocr_pages == (1, 2) and doc.date == "2017-03-14"  # the dateline; never the day it was scanned
    typed = folded(" ".join(SCAN_LINES[1:] + SCAN_PAGE_2))
    assert difflib.SequenceMatcher(None, typed, folded(doc.text)).ratio() > 0.98  # OCR may misread a letter or two
    for words in ("1 250 migrants", "Anke Strauss", "économique", "précisé", "640 kits", "déplacées", "région"):
        assert words in doc.text
    passages = chunk_document(doc, ChunkSettings(max_chars=120))
    assert all(p.ocr for p in passages)
    [kits] = [p for p in passages if "640 kits" in p.text and p.text.startswith("Les équipes")]
    assert kits.page == 2 and doc.page_of(kits.start) == 2


def test_only_the_scanned_pages_of_a_pdf_are_read_by_ocr_and_marked(tesseract):
    doc = pdf_document("mixed.pdf", make_scan([SCAN_LINES, SCAN_PAGE_2], text_pages=(0,)))
    assert doc.ocr_pages == (2,)
    passages = chunk_document(doc, ChunkSettings(max_chars=120))
    assert {p.ocr for p in passages} == {False, True}
    assert all(p.ocr == (doc.page_of(p.end - 1) == 2) for p in passages)  # a passage reaching page 2 is marked


def test_what_ocr_read_is_kept_and_the_original_text_is_the_same(tesseract, tmp_path, monkeypatch):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "scan.pdf").write_bytes(make_scan([SCAN_LINES]))
    [doc] = load_corpus(tmp_path / "corpus").documents

    def no_second_reading(*_):
        raise AssertionError("read by OCR again")

    monkeypatch.setattr(ocr, "read_image", no_second_reading)
    assert read_document_text(tmp_path / "corpus", "scan.pdf") == doc.source  # from the cache
    [again] = load_corpus(tmp_path / "corpus").documents
    assert again.content_hash == doc.content_hash


def test_without_ocr_a_scanned_pdf_is_skipped_saying_how_to_add_it(no_ocr, tmp_path):
    (tmp_path / "scan.pdf").write_bytes(make_scan([SCAN_LINES]))
    (tmp_path / "mixed.pdf").write_bytes(make_scan([SCAN_LINES, SCAN_PAGE_2], text_pages=(0,)))
    (tmp_path / "note.txt").write_text("Une note\nLe bureau ouvre lundi.\n", encoding="utf-8")
    loaded = load_corpus(tmp_path)
    assert [d.doc_id for d in loaded.documents] == ["mixed.pdf", "note.txt"]  # nothing else lost
    reasons = dict(loaded.skipped)
    hint = "apt-get install tesseract-ocr tesseract-ocr-fra"
    assert reasons["scan.pdf"] == f"no text in the PDF (scanned, and OCR is not installed ({hint}))"
    assert reasons["mixed.pdf page 2"] == f"scanned, and OCR is not installed ({hint})"  # page 1 is read
    mixed = loaded.documents[0]
    assert mixed.ocr_pages == () and "640 kits" not in mixed.text


def test_past_the_page_limit_the_rest_is_skipped_and_progress_is_shown(tesseract, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(pdf, "MAX_OCR_PAGES", 3)
    monkeypatch.setattr(pdf, "_PROGRESS_EVERY", 2)
    read = []

    def read_image(engine, image):  # the pages as OCR would read them, without the wait
        read.append(image.size)
        return ocr.OcrPage(f"Page lue numéro {len(read)}.", (40,), 3)

    monkeypatch.setattr(ocr, "read_image", read_image)
    (tmp_path / "archive.pdf").write_bytes(make_scan([[f"Page {n}"] for n in range(1, 6)], dpi=50))
    with caplog.at_level(logging.INFO, logger="qa"):
        loaded = load_corpus(tmp_path)
    assert len(read) == 3
    [doc] = loaded.documents
    assert doc.ocr_pages == (1, 2, 3) and "Page lue numéro 3." in doc.text and "numéro 4" not in doc.text
    assert loaded.skipped == [("archive.pdf pages 4-5", "over the OCR limit of 3 scanned pages per PDF")]
    progress = [r.getMessage() for r in caplog.records if "by OCR" in r.getMessage()]
    assert progress == [
        "archive.pdf: reading scanned page 1 by OCR (1 of 3)",
        "archive.pdf: reading scanned page 2 by OCR (2 of 3)",
        "archive.pdf: reading scanned page 3 by OCR (3 of 3)",
    ]
    assert "skipping archive.pdf pages 4-5: over the OCR limit" in caplog.text


def test_an_image_of_text_is_read_by_ocr_and_a_photo_is_skipped(tesseract, tmp_path):
    (tmp_path / "communique.png").write_bytes(make_text_image(SCAN_LINES))
    (tmp_path / "communique.jpg").write_bytes(make_text_image(SCAN_LINES, kind="JPEG"))
    (tmp_path / "logo.png").write_bytes(make_text_image(["OIM"]))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    loaded = load_corpus(tmp_path)
    assert sorted(d.doc_id for d in loaded.documents) == ["communique.jpg", "communique.png"]
    for doc in loaded.documents:
        assert doc.title == SCAN_LINES[0] and doc.date == "2017-03-14" and doc.ocr_pages == (1,)
        assert "1 250 migrants" in doc.text
        assert all(p.ocr and p.page == 1 for p in chunk_document(doc))
    reasons = dict(loaded.skipped)
    assert reasons["logo.png"].startswith("no text found in the image")
    assert reasons["broken.jpg"].startswith("cannot read the image")
    assert read_document_text(tmp_path, "communique.png") == loaded.documents[1].source


def test_without_ocr_an_image_is_skipped_saying_how_to_add_it(no_ocr):
    with pytest.raises(Unusable, match=r"^an image, and OCR is not installed \(apt-get install tesseract-ocr "):
        image_document("a.png", make_text_image(SCAN_LINES))


def test_an_image_too_large_to_read_is_refused_before_ocr(tesseract, monkeypatch):
    monkeypatch.setattr(ocr, "MAX_PIXELS", 1000)
    with pytest.raises(Unusable, match=r"^image of \d+ × \d+ pixels, over the OCR limit of 1,000 pixels"):
        image_document("a.png", make_text_image(SCAN_LINES))


def test_qa_ask_json_marks_passages_read_by_ocr(tesseract, tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "scan.pdf").write_bytes(make_scan([SCAN_LINES, SCAN_PAGE_2]))
    (corpus / "note.txt").write_text("Une note\nLe bureau de Dakar ouvre lundi.\n", encoding="utf-8")
    where = ["--corpus", str(corpus), "--store", str(tmp_path / "index"), "--backend", "hash"]
    assert main(["index", *where]) == 0
    capsys.readouterr()
    assert main(["ask", "combien de kits d'hygiène ont été distribués ?", "--json", "-k", "3", *where]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    scanned = [h for h in hits if h["doc_id"] == "scan.pdf"]
    assert scanned and all(h["ocr"] is True and h["page"] in (1, 2) and h["date"] == "2017-03-14" for h in scanned)
    assert all("ocr" not in h for h in hits if h["doc_id"] == "note.txt")
    assert main(["ask", "combien de kits d'hygiène ont été distribués ?", "-k", "1", *where]) == 0
    assert "(read by OCR)" in capsys.readouterr().out


def test_a_page_ocr_fails_on_is_listed_and_the_other_pages_are_read(tesseract, tmp_path, monkeypatch):
    calls = []

    def read_image(engine, image):
        calls.append(image)
        if len(calls) == 2:
            raise Unusable("OCR failed (Error in pixReadMem)")
        return ocr.OcrPage("Une page lue.", (40,), 3)

    monkeypatch.setattr(ocr, "read_image", read_image)
    (tmp_path / "scan.pdf").write_bytes(make_scan([["Page 1"], ["Page 2"], ["Page 3"]], dpi=50))
    loaded = load_corpus(tmp_path)
    [doc] = loaded.documents
    assert doc.ocr_pages == (1, 3)
    assert loaded.skipped == [("scan.pdf page 2", "OCR failed (Error in pixReadMem)")]
