"""Uploads take every kind of file the corpus reader reads: Word files, images of text and scanned PDFs
(read by OCR) besides text, web pages, PDFs and collections; the list is the reader's own."""

from __future__ import annotations

import gzip
import html
import json

import pytest

from qa.ingest import SUFFIXES
from qa.library import Library
from qa.ui.uploads import status_html
from qa.uploads import UploadError, accepted_suffixes, safe_name, save_upload

from .made_files import make_text_image
from .made_uploads import SCAN_ANSWER, SCAN_LINES, WORD_ANSWER, WORD_PARAGRAPHS, make_docx, make_scanned_pdf, received


def test_the_upload_types_are_the_readers_own():
    assert accepted_suffixes() == tuple(SUFFIXES)
    assert {".docx", ".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".jsonl", ".jsonl.gz"} <= set(SUFFIXES)


@pytest.mark.parametrize(
    "sent, saved",
    [
        ("Communiqué Nouadhibou.DOCX", "Communique-Nouadhibou.docx"),
        ("scan 14 mars.TIFF", "scan-14-mars.tiff"),
        ("photo.JPEG", "photo.jpeg"),
        ("archive 2017.JSONL.GZ", "archive-2017.jsonl.gz"),
        ("records.jsonl", "records.jsonl"),
    ],
)
def test_names_of_every_readable_kind_are_kept_with_their_whole_suffix(sent, saved):
    assert safe_name(sent) == saved


@pytest.mark.parametrize("sent", ["old.doc", "archive.gz", "sheet.xlsx", "photo.gif"])
def test_other_kinds_are_refused(sent):
    with pytest.raises(UploadError, match="can be added"):
        safe_name(sent)


def test_a_second_collection_of_the_same_name_keeps_its_suffix(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n, text in enumerate(["un", "deux"]):
        sent = tmp_path / f"sent{n}"
        sent.write_bytes(gzip.compress(json.dumps({"id": "1", "text": text}).encode()))
        saved = save_upload(corpus, sent, "news.jsonl.gz")
    assert saved.file == "news-2.jsonl.gz" and sorted(p.name for p in corpus.iterdir()) == [
        "news-2.jsonl.gz",
        "news.jsonl.gz",
    ]


def upload(library: Library, tmp_path, files: dict[str, bytes]) -> str:
    return html.unescape(status_html(library.add(received(tmp_path, files))))


def test_a_word_file_a_scanned_pdf_and_an_image_are_added_and_answer(tiny_retriever, tmp_path):
    library = Library(tiny_retriever, allow_changes=True)
    files = {
        "Garde-côtes.docx": make_docx(WORD_PARAGRAPHS),
        "Rosso scan.pdf": make_scanned_pdf(),
        "Rosso photo.png": make_text_image(SCAN_LINES),
    }
    status = upload(library, tmp_path, files)
    assert "Added: Garde-cotes.docx, Rosso-scan.pdf, Rosso-photo.png." in status, status  # in the order sent
    word = tiny_retriever.retrieve("garde-côtes formés au sauvetage en mer Nouadhibou", k=1)[0]
    assert word.doc_id == "Garde-cotes.docx" and WORD_ANSWER in word.text and word.citation.date == "2018-10-09"
    scanned = {h.doc_id: h for h in tiny_retriever.retrieve("centre de transit de Rosso migrants chaque année", k=2)}
    assert set(scanned) == {"Rosso-scan.pdf", "Rosso-photo.png"}
    assert all(SCAN_ANSWER in h.text and h.citation.ocr and h.citation.page == 1 for h in scanned.values())
    assert scanned["Rosso-scan.pdf"].citation.date == "2017-03-14"


def test_an_encrypted_word_file_is_taken_out_with_the_reason(tiny_retriever, tmp_path):
    library = Library(tiny_retriever, allow_changes=True)
    locked = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024)  # an OLE file, as Word saves an encrypted .docx
    status = upload(library, tmp_path, {"locked.docx": locked})
    assert "locked.docx: not added" in status and "Added" not in status
    assert not (tiny_retriever.corpus_dir / "locked.docx").exists()
