"""The cleaned document and how its characters map back to the original text.

What an "offset" is: the index of a character (a Unicode code point, i.e. a
Python ``str`` index) in the *original text* of the document, never a byte
position in the file. The original text is:

- .txt/.md: the decoded file (a UTF-8 or UTF-16 byte-order mark is not part of
  it). For single-byte encodings (Latin-1, cp1252) a character offset is also
  the byte offset in the file; for UTF-8 and UTF-16 it is not.
- .html/.htm: the text trafilatura extracts from the page.
- .pdf: the text pypdf extracts (OCR's for scanned pages), pages joined with a
  blank line (``pages``).
- .docx: one line per paragraph of the document's body (a table: one line per
  row), so line N is paragraph N.
- an image (.png, .jpg, .tif): the text OCR reads, one page.
- a collection record: the record's ``"text"`` value.

Lines are counted the way ``str.splitlines`` counts them, so a line number in a
citation is the line a reader of the original text sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

PARAGRAPH_BREAK = "\n\n"

# Exactly the separators of str.splitlines (\r\n counts as one).
_LINE_BREAK = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


class CorpusError(ValueError):
    """The corpus folder cannot be used (missing, or no readable article)."""


class Unusable(ValueError):
    """A file (or a collection record) that gives no document; the message says why."""


@dataclass(frozen=True, slots=True, eq=False)
class Document:
    """One cleaned article (or one record of a collection).

    ``text`` holds the body (the title excluded), paragraphs separated by
    ``PARAGRAPH_BREAK``; ``offsets[i]`` is the offset in ``source`` of
    ``text[i]`` (see the module docstring for what an offset is). Documents
    compare by identity: ``offsets`` is an array.
    """

    doc_id: str  # path relative to the corpus folder (posix), plus "#<record id>" for a collection record
    title: str
    text: str
    offsets: np.ndarray = field(repr=False)  # int64, one per character of ``text``
    source: str = field(repr=False)  # the original text the offsets refer to
    content_hash: str  # sha256 hex: changes whenever the cleaned result may change
    path: str  # the file, relative to the corpus folder (posix)
    pages: tuple[int, ...] = ()  # PDFs: offset in ``source`` where each page starts
    line_base: int = 0  # collections: the record's line in the file minus 1
    date: str | None = None  # the article's date, ISO YYYY-MM-DD: its dateline's, else its metadata's (.dates)
    ocr_pages: tuple[int, ...] = ()  # 1-based pages whose text OCR read (a scanned PDF, an image)
    unread: tuple[tuple[str, str], ...] = ()  # parts of the file not read, and why: ("pages 301-450", "over …")
    _line_starts: np.ndarray | None = field(default=None, init=False, repr=False)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of ``text`` to the span of the original text it came from."""
        return int(self.offsets[start]), int(self.offsets[end - 1]) + 1

    def line_range(self, orig_start: int, orig_end: int) -> tuple[int, int]:
        """1-based first and last line of an original-text span (plus ``line_base``)."""
        starts = self._line_starts
        if starts is None:  # computed once per document: chunking asks for every passage
            starts = line_starts(self.source)
            object.__setattr__(self, "_line_starts", starts)
        first = int(np.searchsorted(starts, orig_start, side="right"))
        last = int(np.searchsorted(starts, max(orig_start, orig_end - 1), side="right"))
        return first + self.line_base, last + self.line_base

    def page_of(self, orig_offset: int) -> int | None:
        """1-based page of an original-text offset; None when the document has no pages."""
        if not self.pages:
            return None
        return max(1, int(np.searchsorted(self.pages, orig_offset, side="right")))

    def page_starts_of(self, orig_start: int, orig_end: int) -> tuple[int, ...]:
        """Where each page an original-text span touches starts, first to last; () without pages."""
        first, last = self.page_of(orig_start), self.page_of(max(orig_start, orig_end - 1))
        if first is None or last is None:
            return ()
        return tuple(int(start) for start in self.pages[first - 1 : last])

    def read_by_ocr(self, orig_start: int, orig_end: int) -> bool:
        """Whether OCR read some of an original-text span (it lies on a page in ``ocr_pages``)."""
        if not self.ocr_pages:
            return False
        first, last = self.page_of(orig_start) or 1, self.page_of(max(orig_start, orig_end - 1)) or 1
        return any(first <= page <= last for page in self.ocr_pages)


def line_starts(text: str) -> np.ndarray:
    """Offset of the first character of every line (int64, starts with 0)."""
    ends = [m.end() for m in _LINE_BREAK.finditer(text)]
    starts = np.zeros(len(ends) + 1, dtype=np.int64)
    starts[1:] = ends
    return starts


_IDENTITY = np.arange(0, dtype=np.int64)


def identity_offsets(length: int) -> np.ndarray:
    """``arange(length)`` as a read-only view of one shared array.

    A text that needed no cleaning maps each character to itself; sharing the
    array keeps 10^5 collection records from holding 8 bytes per character each.
    """
    global _IDENTITY
    if length > len(_IDENTITY):
        _IDENTITY = np.arange(max(length, 2 * len(_IDENTITY), 4096), dtype=np.int64)
        _IDENTITY.setflags(write=False)
    return _IDENTITY[:length]
