"""PDF press releases: the text of each page by pypdf, and of scanned pages by OCR.

The *original text* is the pages' text (leading and trailing newlines
stripped) joined with a blank line; ``Document.pages`` records where each
page starts, so a passage knows its page. Lines are re-joined as for .txt,
across a page break too when the sentence goes on. The title is the run of
lines at the top of page 1 set in a larger font than the body (else the first
line). A heading (a line set larger than the body, or in bold when the body is
not) is a paragraph of its own: never joined to the sentence before or after it,
the first line of a page included.

A page without text that holds an image is a scanned page: it is rendered
(pypdfium2) and read by OCR (qa.ingest.ocr), and ``Document.ocr_pages`` names
it, so its passages are cited as read by OCR. At most ``MAX_OCR_PAGES`` pages
of a PDF are read so; the others are listed as skipped, as are scanned pages
when this machine has no OCR. Encrypted and broken PDFs, and PDFs with no
text at all, are skipped with a reason.

The date: the dateline's, else the PDF's creation date, except for a PDF of
scanned pages only, whose creation date is the day it was scanned.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import threading
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import ocr
from .dates import article_date, metadata_date
from .document import Document, Unusable, line_starts
from .text import clean_lines, normalise_line

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

PAGE_BREAK = "\n\n"
MAX_OCR_PAGES = 300  # scanned pages of one PDF read by OCR (about 5 s each on one core); the rest are skipped
_TITLE_FONT_RATIO = 1.15  # a title is set at least this much larger than the body
_MAX_TITLE_LINES = 4
_MAX_HEADING_CHARS = 150  # a longer line in heading type is a lead paragraph in bold, not a heading
_BOLD_FONTS = ("Bold", "Black", "Heavy", "Semibold", "SemiBold")
_PROGRESS_EVERY = 10  # OCR progress is logged every this many pages
# pdfium is not thread-safe: every call into it in this process holds this lock (the chat renders a
# cited page while an upload may be rendering scanned pages for OCR); OCR itself runs without it.
PDFIUM_LOCK = threading.RLock()


@dataclass(frozen=True)
class PdfText:
    """What a PDF gives: its original text and how it was read."""

    source: str  # the pages' text joined by PAGE_BREAK
    pages: tuple[int, ...]  # offset in ``source`` where each page starts
    title_lines: int
    ocr_pages: tuple[int, ...] = ()  # 1-based pages read by OCR
    headings: tuple[int, ...] = ()  # lines of ``source`` (0-based, as str.splitlines counts) set as headings
    unread: tuple[tuple[str, str], ...] = ()  # ("pages 301-450", why) of scanned pages not read
    created: str | None = None  # the creation date of its metadata, ISO (None for a scan)


def extract_pdf(data: bytes, name: str = "the PDF") -> PdfText:
    """The text of a PDF, scanned pages read by OCR; raises Unusable. ``name``: for progress messages."""
    from pypdf import PdfReader  # imported when a PDF is read: `qa ask` does not need it

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unusable("encrypted PDF (it needs a password)")
        sizes: list[tuple[str, float]] = []
        styled: list[list[_Piece]] = []
        texts = []
        for number, page in enumerate(reader.pages):
            styled.append([])
            visitor = _font_sizes(sizes if number == 0 else None, styled[-1])
            texts.append((page.extract_text(visitor_text=visitor) or "").strip("\n"))
        created = metadata_date(reader.metadata.get("/CreationDate") if reader.metadata else None)
    except Unusable:
        raise
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        raise Unusable(f"cannot read the PDF ({type(exc).__name__}: {exc})") from None
    title_lines = _title_lines(texts[0], sizes) if texts else 1
    blank = [i for i, text in enumerate(texts) if not text.strip()]
    read: dict[int, ocr.OcrPage] = {}
    unread: list[tuple[str, str]] = []
    if blank:
        read, unread = _read_scanned(data, blank, name)
        for i, found in read.items():
            texts[i] = found.text.strip("\n")
        if 0 in read:
            title_lines = read[0].title_lines
    if not any(t.strip() for t in texts):
        raise Unusable(f"no text in the PDF ({unread[0][1]})" if unread else "no text in the PDF")
    pages, position = [], 0
    for text in texts:
        pages.append(position)
        position += len(text) + len(PAGE_BREAK)
    ocr_pages = tuple(sorted(i + 1 for i, found in read.items() if found.text.strip()))
    scan_only = len(ocr_pages) == sum(1 for t in texts if t.strip())
    source = PAGE_BREAK.join(texts)
    headings = _heading_lines(source, pages, texts, [[] if i in read else p for i, p in enumerate(styled)])
    created = None if scan_only else created
    return PdfText(source, tuple(pages), title_lines, ocr_pages, headings, tuple(unread), created)


def _read_scanned(data: bytes, blank: list[int], name: str) -> tuple[dict[int, ocr.OcrPage], list[tuple[str, str]]]:
    """OCR of the pages without text that hold an image (0-based indices in ``blank``): what was read,
    and the scanned pages left unread with the reason (a page OCR fails on is one of them)."""
    import pypdfium2 as pdfium  # imported when a PDF has pages without text

    try:
        with PDFIUM_LOCK:
            pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        return {}, [(_pages(blank), f"pages without text that cannot be rendered for OCR ({exc})")]
    try:
        with PDFIUM_LOCK:
            scanned = [i for i in blank if _holds_an_image(pdf, i)]
        if not scanned:
            return {}, []
        engine = ocr.engine()
        if engine is None:
            return {}, [(_pages(scanned), f"scanned, and {ocr.missing_message()}")]
        cache = ocr.Cache(data, engine)
        to_read, over = scanned[:MAX_OCR_PAGES], scanned[MAX_OCR_PAGES:]
        read = {i: found for i in to_read if (found := cache.get(i)) is not None}
        missing = [i for i in to_read if i not in read]
        unread = []
        for done, i in enumerate(missing, start=1):
            if done == 1 or done % _PROGRESS_EVERY == 0 or done == len(missing):
                log.info("%s: reading scanned page %d by OCR (%d of %d)", name, i + 1, done, len(missing))
            with PDFIUM_LOCK:
                image = _render(pdf, i)
            try:
                read[i] = ocr.read_image(engine, image)
            except Unusable as exc:  # the other pages are still read
                unread.append((_pages([i]), str(exc)))
                continue
            cache.put(i, read[i])
        if over:
            unread.append((_pages(over), f"over the OCR limit of {MAX_OCR_PAGES} scanned pages per PDF"))
        return read, unread
    finally:
        with PDFIUM_LOCK:
            pdf.close()


def _holds_an_image(pdf, index: int) -> bool:
    import pypdfium2.raw as pdfium_raw

    page = pdf[index]
    try:
        return next(page.get_objects(filter=[pdfium_raw.FPDF_PAGEOBJ_IMAGE]), None) is not None
    finally:
        page.close()


def _render(pdf, index: int) -> Image:
    """Page ``index`` as a grey image at ocr.DPI."""
    page = pdf[index]
    try:
        return page.render(scale=ocr.DPI / 72, grayscale=True).to_pil()
    finally:
        page.close()


def _pages(indices: list[int]) -> str:
    """ "page 3", "pages 2, 5" or "pages 301-450" for 0-based page indices."""
    numbers = [i + 1 for i in indices]
    if len(numbers) == 1:
        return f"page {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"pages {numbers[0]}-{numbers[-1]}"
    return "pages " + ", ".join(map(str, numbers))


def pdf_document(doc_id: str, data: bytes, path: str | None = None) -> Document:
    found = extract_pdf(data, doc_id)
    source, pages = found.source, found.pages
    starts = line_starts(source)
    # the blank line of each page break: a sentence that goes on to the next page is one paragraph
    breaks = np.array([p - 1 for p in pages[1:]], dtype=np.int64)
    at = np.minimum(np.searchsorted(starts, breaks), len(starts) - 1)
    soft = {int(i) for i, b in zip(at, breaks, strict=True) if starts[i] == b and source[b] == "\n"}
    cleaned = clean_lines(source, title_lines=found.title_lines, soft_breaks=soft, headings=frozenset(found.headings))
    if cleaned is None:
        raise Unusable("no text in the PDF")
    date = article_date(cleaned.text, found.created)
    digest = hashlib.sha256(b"pdf\0")
    digest.update(source.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(f"{pages}\0{found.title_lines}".encode())
    if found.ocr_pages or date:
        digest.update(f"\0{found.ocr_pages}\0{date}".encode())
    # Passages know where each of their pages starts, and headings stand apart, since this mark:
    # every PDF indexed before is read again once.
    digest.update(f"\0page starts\0headings {found.headings}".encode())
    return cleaned.document(
        doc_id=doc_id,
        source=source,
        content_hash=digest.hexdigest(),
        path=path if path is not None else doc_id,
        pages=pages,
        date=date,
        ocr_pages=found.ocr_pages,
        unread=found.unread,
    )


@dataclass(frozen=True)
class _Piece:
    """A piece of text as a page draws it, and its type."""

    text: str
    size: float  # rendered font size
    bold: bool


def _font_sizes(sizes: list[tuple[str, float]] | None, pieces: list[_Piece]):
    """A pypdf text visitor that records every piece of text with its type in ``pieces``, and
    (text, rendered font size) of the pieces with words in ``sizes`` (page 1, for its title)."""

    def visit(text, cm, tm, font_dict, font_size) -> None:
        if not text:
            return
        scale = math.sqrt(abs(tm[0] * tm[3] - tm[1] * tm[2]) * abs(cm[0] * cm[3] - cm[1] * cm[2]))
        size = round(float(font_size) * scale, 1)
        font = str(font_dict.get("/BaseFont", "")) if hasattr(font_dict, "get") else ""
        pieces.append(_Piece(text, size, any(word in font for word in _BOLD_FONTS)))
        if sizes is not None and text.strip():
            sizes.append((text, size))

    return visit


def _heading_lines(source: str, pages: list[int], texts: list[str], styled: list[list[_Piece]]) -> tuple[int, ...]:
    """The lines of ``source`` set as headings: every letter of the line in a type larger than the body's,
    or bold when the body is not (the body: the type of most letters of the PDF)."""
    weight: Counter[tuple[float, bool]] = Counter()
    for piece in (piece for page in styled for piece in page):
        weight[piece.size, piece.bold] += sum(not c.isspace() for c in piece.text)
    if not weight:
        return ()
    body_size, body_bold = weight.most_common(1)[0][0]
    starts = line_starts(source)
    found: list[int] = []
    for page_start, text, pieces in zip(pages, texts, styled, strict=True):
        marked = _marked_lines(pieces, body_size * _TITLE_FONT_RATIO, body_bold)
        if not marked:
            continue
        at = 0
        for line in text.splitlines(keepends=True):
            norm = normalise_line(line)
            if norm and norm in marked and len(norm) <= _MAX_HEADING_CHARS:
                found.append(int(np.searchsorted(starts, page_start + at, side="right")) - 1)
            at += len(line)
    return tuple(found)


def _marked_lines(pieces: list[_Piece], large: float, body_bold: bool) -> set[str]:
    """The lines (normalised) that a page draws in heading type only."""
    marked: set[str] = set()
    line: list[str] = []
    heading = True
    for piece in pieces:
        for k, part in enumerate(piece.text.split("\n")):
            if k:  # a new line starts
                if heading and normalise_line("".join(line)):
                    marked.add(normalise_line("".join(line)))
                line, heading = [], True
            line.append(part)
            if part.strip() and not (piece.size >= large or (piece.bold and not body_bold)):
                heading = False
    if heading and normalise_line("".join(line)):
        marked.add(normalise_line("".join(line)))
    return marked


def _title_lines(first_page: str, sizes: list[tuple[str, float]]) -> int:
    """How many lines at the top of page 1 are set larger than the body text."""
    if not sizes:
        return 1
    weight: Counter[float] = Counter()
    for text, size in sizes:
        weight[size] += len(text.strip())
    body = weight.most_common(1)[0][0]
    head = []
    for text, size in sizes:
        if size < body * _TITLE_FONT_RATIO:
            break
        head.append(text)
    title = normalise_line(" ".join(head))
    if not title:
        return 1
    lines = [line for line in first_page.splitlines() if line.strip()]
    count = 0
    while count < min(len(lines), _MAX_TITLE_LINES):
        if not title.startswith(normalise_line(" ".join(lines[: count + 1]))):
            break
        count += 1
    return max(count, 1)
