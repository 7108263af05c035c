"""PDF press releases: the text of each page by pypdf.

The *original text* is the pages' text (leading and trailing newlines
stripped) joined with a blank line; ``Document.pages`` records where each
page starts, so a passage knows its page. Lines are re-joined as for .txt,
across a page break too when the sentence goes on. The title is the run of
lines at the top of page 1 set in a larger font than the body (else the first
line). Encrypted, broken and scanned (image-only) PDFs are skipped with a reason.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections import Counter

import numpy as np

from .document import Document, Unusable, line_starts
from .text import clean_lines, normalise_line

PAGE_BREAK = "\n\n"
_TITLE_FONT_RATIO = 1.15  # a title is set at least this much larger than the body
_MAX_TITLE_LINES = 4


def extract_pdf(data: bytes) -> tuple[str, tuple[int, ...], int]:
    """(text, page starts, title lines) of a PDF; raises Unusable."""
    from pypdf import PdfReader  # imported when a PDF is read: `qa ask` does not need it

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unusable("encrypted PDF (it needs a password)")
        sizes: list[tuple[str, float]] = []
        texts = []
        for number, page in enumerate(reader.pages):
            visitor = _font_sizes(sizes) if number == 0 else None
            texts.append((page.extract_text(visitor_text=visitor) or "").strip("\n"))
    except Unusable:
        raise
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        raise Unusable(f"cannot read the PDF ({type(exc).__name__}: {exc})") from None
    if not any(t.strip() for t in texts):
        raise Unusable("no text in the PDF (scanned pages need OCR first)")
    pages, position = [], 0
    for text in texts:
        pages.append(position)
        position += len(text) + len(PAGE_BREAK)
    return PAGE_BREAK.join(texts), tuple(pages), _title_lines(texts[0], sizes)


def pdf_document(doc_id: str, data: bytes, path: str | None = None) -> Document:
    source, pages, title_lines = extract_pdf(data)
    starts = line_starts(source)
    # the blank line of each page break: a sentence that goes on to the next page is one paragraph
    breaks = np.array([p - 1 for p in pages[1:]], dtype=np.int64)
    found = np.minimum(np.searchsorted(starts, breaks), len(starts) - 1)
    soft = {int(i) for i, b in zip(found, breaks, strict=True) if starts[i] == b and source[b] == "\n"}
    cleaned = clean_lines(source, title_lines=title_lines, soft_breaks=soft)
    if cleaned is None:
        raise Unusable("no text in the PDF")
    digest = hashlib.sha256(b"pdf\0")
    digest.update(source.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(f"{pages}\0{title_lines}".encode())
    return cleaned.document(
        doc_id=doc_id,
        source=source,
        content_hash=digest.hexdigest(),
        path=path if path is not None else doc_id,
        pages=pages,
    )


def _font_sizes(sizes: list[tuple[str, float]]):
    """A pypdf text visitor that records (text, rendered font size) of every piece of text."""

    def visit(text, cm, tm, font_dict, font_size) -> None:
        if text and text.strip():
            scale = math.sqrt(abs(tm[0] * tm[3] - tm[1] * tm[2]) * abs(cm[0] * cm[3] - cm[1] * cm[2]))
            sizes.append((text, round(float(font_size) * scale, 1)))

    return visit


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
