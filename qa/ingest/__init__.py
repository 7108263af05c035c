"""Ingest: reading and cleaning the articles of a corpus folder.

Formats: .txt/.md (qa.ingest.text, with site boilerplate learned across files:
qa.ingest.boilerplate), saved web pages .html/.htm (qa.ingest.html), PDFs
(qa.ingest.pdf, scanned pages read by OCR: qa.ingest.ocr), Word files .docx
(qa.ingest.word), images of text .png/.jpg/.tif (qa.ingest.image, by OCR) and
collections of records .jsonl/.jsonl.gz (qa.ingest.collection, read in bounded
lines: qa.ingest.lines); bytes become text in qa.ingest.decode. Each article's
date comes from its dateline or its file's metadata (qa.ingest.dates).
``read_document_text`` gives an article's text as it was read.

Every character of a cleaned document keeps its offset in the original text
(``Document.offsets``, see qa.ingest.document for what "offset" and "original
text" mean per format), so passages are cited by character span and line range.
"""

from .boilerplate import BoilerplateReport
from .document import PARAGRAPH_BREAK, CorpusError, Document
from .folder import (
    DEFAULT_CORPUS_DIR,
    SUFFIXES,
    Corpus,
    is_article_name,
    load_corpus,
    path_in_corpus,
    read_document_text,
)

__all__ = [
    "DEFAULT_CORPUS_DIR",
    "PARAGRAPH_BREAK",
    "SUFFIXES",
    "BoilerplateReport",
    "Corpus",
    "CorpusError",
    "Document",
    "is_article_name",
    "load_corpus",
    "path_in_corpus",
    "read_document_text",
]
