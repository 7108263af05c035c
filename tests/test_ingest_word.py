"""Word files (.docx): paragraphs, headings and tables in reading order, cited by paragraph number;
encrypted files, zips of other things and damaged files skipped with the reason, nothing else lost."""

import io
import zipfile

import docx
import pytest
from msoffcrypto.format.ooxml import OOXMLFile  # a test dependency (the "test" extra): encrypts a Word file

from qa.chunking import ChunkSettings, chunk_document
from qa.ingest import load_corpus, read_document_text, word
from qa.ingest.document import Unusable
from qa.ingest.word import docx_document

TITLE = "L'OIM ouvre un bureau à Nouadhibou"
OPENING = "Nouakchott, 14 mars 2017 – L'OIM a ouvert aujourd'hui un bureau à Nouadhibou."
TABLE = [("Poste", "Titulaire"), ("Cheffe de mission", "Anke Strauss"), ("Chargée de presse", "Mariam Diallo")]
CLOSING = "Pour plus d'informations, veuillez contacter Mariam Diallo.\nTel : +222 4525 1234"


def press_release() -> bytes:
    """Paragraph by paragraph (numbers as a person counts them in Word):
    1 title (Title style), 2 empty, 3 opening, 4 heading, 5-7 the table's rows, 8 the closing paragraph
    (with a line break inside it)."""
    document = docx.Document()
    document.add_heading(TITLE, level=0)
    document.add_paragraph("")
    document.add_paragraph(OPENING)
    document.add_heading("Qui dirige le bureau", level=1)
    table = document.add_table(rows=len(TABLE), cols=2)
    for row, cells in zip(table.rows, TABLE, strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    first, second = CLOSING.split("\n")
    closing = document.add_paragraph(first)
    closing.add_run().add_break()
    closing.add_run(second)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_paragraphs_headings_and_tables_in_reading_order_with_paragraph_numbers_as_lines():
    doc = docx_document("bureau.docx", press_release())
    assert doc.title == TITLE and doc.date == "2017-03-14"
    lines = doc.source.splitlines()
    assert lines[2] == OPENING and lines[3] == "Qui dirige le bureau"
    assert lines[4:7] == [" | ".join(row) for row in TABLE]
    assert lines[7] == CLOSING.replace("\n", " ") and len(lines) == 8  # a line break stays in its paragraph
    assert doc.text.index(OPENING) < doc.text.index("Qui dirige") < doc.text.index("Anke Strauss")
    passages = chunk_document(doc, ChunkSettings(max_chars=80))
    holders = [p for p in passages if "Anke Strauss" in p.text]
    assert holders
    for head in holders:
        start, end = head.original_span(head.text.index("Anke Strauss"), head.text.index("Anke Strauss") + 12)
        assert head.lines_of(start, end) == (6, 6)  # paragraph 6: the table's second row
    assert all(p.page is None and not p.ocr for p in passages)


def test_the_original_text_of_a_word_file_is_its_paragraphs_one_a_line(tmp_path):
    (tmp_path / "bureau.docx").write_bytes(press_release())
    [doc] = load_corpus(tmp_path).documents
    assert read_document_text(tmp_path, "bureau.docx") == doc.source


def encrypted(data: bytes) -> bytes:
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt("s3cret", out)  # as Word saves a file with a password
    return out.getvalue()


def zip_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name, data in files.items():
            package.writestr(name, data)
    return out.getvalue()


WORKBOOK = {  # the parts of an Excel workbook: a zip package whose main part is not a Word document
    "[Content_Types].xml": (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        b'<Override PartName="/xl/workbook.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
    ),
    "_rels/.rels": (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Target="xl/workbook.xml" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>'
    ),
    "xl/workbook.xml": b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>',
}


def test_bad_word_files_are_each_skipped_with_the_reason_and_nothing_else_is_lost(tmp_path):
    good = press_release()
    (tmp_path / "bureau.docx").write_bytes(good)
    (tmp_path / "locked.docx").write_bytes(encrypted(good))
    (tmp_path / "photos.docx").write_bytes(zip_of({"photo.jpg": b"\xff\xd8\xff", "notes.txt": b"x"}))
    (tmp_path / "budget.docx").write_bytes(zip_of(WORKBOOK))
    (tmp_path / "cut.docx").write_bytes(good[: len(good) // 2])
    (tmp_path / "old.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024))  # a .doc renamed
    (tmp_path / "note.txt").write_text("Une note\nLe bureau ouvre lundi.\n", encoding="utf-8")
    loaded = load_corpus(tmp_path)
    assert [d.doc_id for d in loaded.documents] == ["bureau.docx", "note.txt"]
    assert dict(loaded.skipped) == {
        "budget.docx": "not a Word document (an Excel workbook)",
        "cut.docx": "not a Word document (not a zip package)",
        "locked.docx": "encrypted Word file (it needs a password)",
        "old.docx": "an old Word file (.doc) or another office file, not a .docx: save it as .docx",
        "photos.docx": "not a Word document: a zip of other files (notes.txt, photo.jpg)",
    }


def test_a_word_file_unpacking_past_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(word, "MAX_UNPACKED_BYTES", 10_000)
    with pytest.raises(Unusable, match=r"^unpacks to 0 MB, over the 0 MB limit of a Word file"):
        docx_document("big.docx", zip_of({"[Content_Types].xml": b"x", "word/document.xml": bytes(20_000)}))


def test_a_word_file_with_a_title_only_is_refused():
    document = docx.Document()
    document.add_paragraph("Un titre seul")
    out = io.BytesIO()
    document.save(out)
    with pytest.raises(Unusable, match="^no text in the Word file besides its title$"):
        docx_document("t.docx", out.getvalue())
