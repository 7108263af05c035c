"""Cutting cleaned documents into passages of a few whole sentences."""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from dataclasses import asdict, dataclass

from .ingest import PARAGRAPH_BREAK, Document
from .sentences import split_sentences


@dataclass(frozen=True)
class ChunkSettings:
    """How passages are cut. Part of the index manifest: changing it means a rebuild."""

    max_chars: int = 600  # a passage grows sentence by sentence up to this size
    overlap_sentences: int = 1  # sentences shared with the previous passage

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    """A piece of a document, the unit that is embedded, searched and cited."""

    passage_id: str  # stable: derived from the document and the passage text
    doc_id: str
    title: str
    text: str
    position: int  # order of the passage within its document
    start: int  # character offsets of the passage in the original text (see qa.ingest.document)
    end: int
    line_start: int  # 1-based line range in the original text (a collection record: in its file)
    line_end: int
    sentences: tuple[tuple[int, int], ...]  # sentence spans within ``text``
    # Where the text's characters come from: (index in ``text``, offset in the original) at every
    # jump (a re-joined line, removed markup); between jumps, characters follow one another.
    breaks: tuple[tuple[int, int], ...] = ()
    line_offsets: tuple[int, ...] = ()  # original offsets where the passage's 2nd, 3rd… lines start
    page: int | None = None  # PDFs: the page where the passage starts; None when the document has no pages
    ocr: bool = False  # some of its text was read by OCR (a scanned page, an image)
    # PDFs: the original offset where each page the passage touches starts, from ``page`` on (the first lies
    # at or before ``start``), so that a span of it knows its own page; () in passages indexed before.
    page_starts: tuple[int, ...] = ()

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Passage:
        """A passage from ``as_dict`` after a trip through JSON (lists back to tuples)."""
        data = dict(data)
        for name in ("sentences", "breaks"):
            data[name] = tuple(tuple(pair) for pair in data.get(name, ()))
        data["line_offsets"] = tuple(data.get("line_offsets", ()))
        data["page_starts"] = tuple(data.get("page_starts", ()))
        return cls(**data)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of ``text`` to the span of the original text it came from."""
        return self._original(start), self._original(max(start, end - 1)) + 1

    def _original(self, index: int) -> int:
        if not self.breaks:
            return self.start + index
        at, offset = self.breaks[bisect_right(self.breaks, (index, float("inf"))) - 1]
        return offset + index - at

    def text_index(self, orig_offset: int) -> int:
        """The first character of ``text`` that comes from ``orig_offset`` or later (``len(text)``: none)."""
        if not self.breaks:
            return min(max(0, orig_offset - self.start), len(self.text))
        ends = [at for at, _ in self.breaks[1:]] + [len(self.text)]
        for (at, offset), end in zip(self.breaks, ends, strict=True):
            if offset + (end - at) > orig_offset:  # this run of characters reaches ``orig_offset``
                return at + max(0, orig_offset - offset)
        return len(self.text)

    @property
    def pages(self) -> tuple[int, ...]:
        """Every page the passage touches (PDFs), first to last; () when the document has no pages."""
        if self.page is None:
            return ()
        return tuple(range(self.page, self.page + max(1, len(self.page_starts))))

    def page_at(self, orig_offset: int) -> int | None:
        """The page of an original offset inside this passage; None when the document has no pages."""
        if self.page is None or not self.page_starts:
            return self.page
        return self.page + max(0, bisect_right(self.page_starts, orig_offset) - 1)

    def pages_of(self, orig_start: int, orig_end: int) -> tuple[int, ...]:
        """The pages an original span inside this passage lies on, first to last."""
        first, last = self.page_at(orig_start), self.page_at(max(orig_start, orig_end - 1))
        return () if first is None or last is None else tuple(range(first, last + 1))

    def sentence_at(self, index: int) -> int | None:
        """The sentence holding character ``index`` of ``text``, if one does."""
        return next((i for i, (start, end) in enumerate(self.sentences) if start <= index < end), None)

    def lines_of(self, orig_start: int, orig_end: int) -> tuple[int, int]:
        """1-based first and last line of an original span inside this passage."""
        first = self.line_start + bisect_right(self.line_offsets, orig_start)
        return first, self.line_start + bisect_right(self.line_offsets, max(orig_start, orig_end - 1))

    @property
    def titled_text(self) -> str:
        """What is embedded and keyword-indexed: the title too, so a passage knows its article."""
        return f"{self.title}\n{self.text}"


def passage_id(doc_id: str, text: str, occurrence: int = 0) -> str:
    """Stable id: the same text in the same document keeps its id across re-indexing."""
    key = f"{doc_id}\0{occurrence}\0{' '.join(text.split())}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def chunk_document(doc: Document, settings: ChunkSettings = ChunkSettings()) -> list[Passage]:
    """Greedy packing of consecutive sentences, ``overlap_sentences`` shared between
    neighbours so that a quote and its "a déclaré X" stay together somewhere."""
    sentences = _sentences(doc.text, settings.max_chars)
    passages: list[Passage] = []
    seen: dict[str, int] = {}
    first = 0
    while first < len(sentences):
        last = _window_end(sentences, first, settings.max_chars)
        start, end = sentences[first][0], sentences[last][1]
        text = doc.text[start:end]
        occurrence = seen.get(text, 0)
        seen[text] = occurrence + 1
        orig_start, orig_end = (int(x) for x in doc.original_span(start, end))
        line_start, line_end = doc.line_range(orig_start, orig_end)
        passages.append(
            Passage(
                passage_id=passage_id(doc.doc_id, text, occurrence),
                doc_id=doc.doc_id,
                title=doc.title,
                text=text,
                position=len(passages),
                start=orig_start,
                end=orig_end,
                line_start=line_start,
                line_end=line_end,
                sentences=tuple((s - start, e - start) for s, e in sentences[first : last + 1]),
                breaks=_breaks(doc, start, end),
                line_offsets=tuple(orig_start + m.end() for m in re.finditer("\n", doc.source[orig_start:orig_end])),
                page=doc.page_of(orig_start),
                ocr=doc.read_by_ocr(orig_start, orig_end),
                page_starts=doc.page_starts_of(orig_start, orig_end),
            )
        )
        if last + 1 >= len(sentences):
            break
        following = max(first + 1, last + 1 - settings.overlap_sentences)
        if _window_end(sentences, following, settings.max_chars) <= last:
            following = last + 1  # the overlap would only repeat part of this passage
        first = following
    return passages


def _breaks(doc: Document, start: int, end: int) -> tuple[tuple[int, int], ...]:
    """The jumps of ``doc.offsets`` over ``doc.text[start:end]`` (see ``Passage.breaks``)."""
    offsets = [int(o) for o in doc.offsets[start:end]]
    return tuple((i, o) for i, o in enumerate(offsets) if i == 0 or o != offsets[i - 1] + 1)


def _window_end(sentences: list[tuple[int, int]], first: int, max_chars: int) -> int:
    """Index of the last sentence of the passage that starts at sentence ``first``."""
    last = first
    while last + 1 < len(sentences) and sentences[last + 1][1] - sentences[first][0] <= max_chars:
        last += 1
    return last


def _sentences(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Sentence spans of the whole text, paragraph by paragraph; a sentence
    longer than ``max_chars`` is cut at spaces so no passage exceeds it."""
    spans: list[tuple[int, int]] = []
    para_start = 0
    for para in text.split(PARAGRAPH_BREAK):
        for s, e in split_sentences(para):
            spans.extend(_cut_long(para, s, e, max_chars, para_start))
        para_start += len(para) + len(PARAGRAPH_BREAK)
    return spans


def _cut_long(para: str, start: int, end: int, max_chars: int, base: int) -> list[tuple[int, int]]:
    pieces = []
    while end - start > max_chars:
        cut = para.rfind(" ", start + 1, start + max_chars)
        if cut <= start:
            cut = start + max_chars
        pieces.append((base + start, base + cut))
        start = cut + 1 if para[cut : cut + 1] == " " else cut
    pieces.append((base + start, base + end))
    return pieces
