"""One page of a PDF as an image, with the cited characters marked: what a reader of the paper sees.

The page is rendered by pdfium at a bounded size, in memory; nothing is written
to disk. Citations give offsets in the page's *original text* (pypdf's, see
:mod:`qa.ingest.pdf`), while boxes come from pdfium's own reading of the page:
the two texts are aligned on their letters (whitespace aside, since the two
readers break lines and space words differently), and each cited letter takes
the box pdfium gives it; boxes of one line are joined into one rectangle.

A page read by OCR has no text of its own to align: it is read again
(:mod:`qa.ingest.ocr_words`, a few seconds) and the cited words take the boxes
OCR gives them. Without OCR on this machine it is shown without marks, and the
note says so; so is a file that no longer holds the text that was indexed
(changed since), and a rotated page of text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from . import ocr
from .document import Unusable
from .ocr_words import ocr_image, read_words
from .pdf import PDFIUM_LOCK

if TYPE_CHECKING:
    from PIL.Image import Image

    from ..chunking import Passage

MAX_WIDTH = 1000  # pixels: a page is rendered no wider than this…
MAX_HEIGHT = 1400  # …nor taller (an A4 page at 1000 px is 1414 px high: its height bounds it)
MAX_SCALE = 3.0  # and a small page is not blown up past 216 dpi
OCR_NOTE = "This page was read by OCR, which cannot run here now: the cited lines are not marked on the image."
CHANGED_NOTE = "The file no longer holds the text that was indexed: the cited lines are not marked on the image."
OLD_INDEX_NOTE = "This passage was indexed before pages were kept (`qa index` reads it again): nothing is marked."
ROTATED_NOTE = "This page is rotated: the cited lines are not marked on the image."


@dataclass(frozen=True)
class Box:
    """A rectangle on the page, as fractions of its width and height from the top left corner."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class PageImage:
    page: int  # 1-based
    page_count: int
    png: bytes
    width: int  # pixels
    height: int
    marked: tuple[tuple[Box, ...], ...]  # for each range asked for, the rectangles of its lines
    note: str | None = None  # why nothing is marked, when nothing is


def passage_page(data: bytes, passage: Passage, page: int, span: tuple[int, int] | None = None) -> PageImage:
    """Page ``page`` of the PDF ``data`` that ``passage`` comes from, with ``marked[0]`` the passage's lines on
    that page and ``marked[1]`` those of ``span`` (a span of its text, e.g. the answering sentence) when given.
    Raises Unusable when the passage does not lie on that page or the page cannot be rendered."""
    if page not in passage.pages:
        raise Unusable(f"the passage is not on page {page}")
    if not passage.page_starts:
        image = render_page(data, page)
        return PageImage(image.page, image.page_count, image.png, image.width, image.height, (), OLD_INDEX_NOTE)
    at = page - (passage.page or 1)
    starts = passage.page_starts
    first, after = starts[at], starts[at + 1] if at + 1 < len(starts) else passage.end
    wanted = [(passage.start, passage.end)]
    if span is not None and 0 <= span[0] < span[1] <= len(passage.text):
        wanted.append(passage.original_span(*span))
    ranges, expected = [], []
    for start, end in wanted:
        start, end = max(start, first), max(min(end, after), first)  # its part on this page (maybe none)
        ranges.append((start - first, end - first))
        expected.append(passage.text[passage.text_index(start) : passage.text_index(end)])
    return render_page(data, page, ranges, expected)


def page_text(data: bytes, page: int) -> str:
    """The original text of one page, as :func:`qa.ingest.pdf.extract_pdf` reads it (empty for a scan)."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unusable("encrypted PDF (it needs a password)")
        return (reader.pages[page - 1].extract_text() or "").strip("\n")
    except Unusable:
        raise
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        raise Unusable(f"cannot read the PDF ({type(exc).__name__}: {exc})") from None


def render_page(
    data: bytes, page: int, ranges: Sequence[tuple[int, int]] = (), expected: Sequence[str] = ()
) -> PageImage:
    """Page ``page`` (1-based) of the PDF ``data`` as a PNG, with each of ``ranges`` (offsets in the page's
    original text) marked. ``expected``: the text the index holds for each range; when the page says
    otherwise, nothing is marked. Raises Unusable for a file pdfium cannot open or a page it does not have."""
    import pypdfium2 as pdfium

    marked: tuple[tuple[Box, ...], ...] = ()
    note: str | None = None
    scan: Image | None = None
    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise Unusable(f"cannot open the PDF ({exc})") from None
        try:
            count = len(pdf)
            if not 1 <= page <= count:
                raise Unusable(f"the PDF has no page {page} (it has {count})")
            sheet = pdf[page - 1]
            try:
                png, width, height = _picture(sheet)
                if ranges:
                    original = page_text(data, page)
                    if original.strip():
                        marked, note = _text_marks(sheet, original, ranges, expected)
                    elif ocr.engine() is not None:
                        scan = ocr_image(sheet)
                    else:
                        marked, note = tuple(() for _ in ranges), OCR_NOTE
            finally:
                sheet.close()
        finally:
            pdf.close()
    if scan is not None:  # OCR takes seconds: not while holding pdfium
        marked, note = _scan_marks(scan, ranges, expected)
    return PageImage(page, count, png, width, height, marked, note)


def _picture(sheet) -> tuple[bytes, int, int]:
    page_width, page_height = sheet.get_size()
    scale = min(MAX_WIDTH / page_width, MAX_HEIGHT / page_height, MAX_SCALE)
    image = sheet.render(scale=scale).to_pil()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue(), image.width, image.height


Marks = tuple[tuple[tuple[Box, ...], ...], str | None]


def _agrees(original: str, ranges: Sequence[tuple[int, int]], expected: Sequence[str]) -> bool:
    """Whether the page holds the text the index holds for each range."""
    return all(_letters(original[a:b]) == _letters(text) for (a, b), text in zip(ranges, expected, strict=False))


def _text_marks(sheet, original: str, ranges: Sequence[tuple[int, int]], expected: Sequence[str]) -> Marks:
    """The ranges of a page of text, by pdfium's boxes of the characters aligned with them."""
    nothing = tuple(() for _ in ranges)
    if sheet.get_rotation() % 360:
        return nothing, ROTATED_NOTE
    if not _agrees(original, ranges, expected):
        return nothing, CHANGED_NOTE
    textpage = sheet.get_textpage()
    try:
        to_pdfium = _alignment(original, _page_chars(textpage))
        crop = sheet.get_cropbox()  # what is rendered: boxes are placed relative to it
        marked = tuple(
            _join_lines(_char_boxes(textpage, [to_pdfium[i] for i in range(start, end) if i in to_pdfium], crop))
            for start, end in ranges
        )
    finally:
        textpage.close()
    return marked, None


def _scan_marks(image: Image, ranges: Sequence[tuple[int, int]], expected: Sequence[str]) -> Marks:
    """The ranges of a scanned page, by the boxes of the words OCR reads on it again."""
    nothing = tuple(() for _ in ranges)
    try:
        found = read_words(image)
    except Unusable as exc:
        return nothing, f"{OCR_NOTE} ({exc})"
    if found is None:
        return nothing, OCR_NOTE
    original, words = found
    if not _agrees(original, ranges, expected):
        return nothing, CHANGED_NOTE
    return tuple(_join_lines([w.box for w in words if w.start < b and a < w.end]) for a, b in ranges), None


def _letters(text: str) -> str:
    return "".join(text.split())


def _page_chars(textpage) -> str:
    """pdfium's characters of the page, one per index of its character array."""
    import pypdfium2.raw as pdfium_raw

    return "".join(chr(pdfium_raw.FPDFText_GetUnicode(textpage.raw, i)) for i in range(textpage.count_chars()))


def _alignment(original: str, chars: str) -> dict[int, int]:
    """Offset in ``original`` -> index in pdfium's ``chars``, for the letters both readers agree on."""
    ours = [i for i, c in enumerate(original) if not c.isspace()]
    theirs = [i for i, c in enumerate(chars) if not c.isspace()]
    our_letters, their_letters = "".join(original[i] for i in ours), "".join(chars[i] for i in theirs)
    if our_letters == their_letters:  # most pages: the readers differ in spacing only
        return dict(zip(ours, theirs, strict=True))
    matcher = SequenceMatcher(None, our_letters, their_letters, False)
    found: dict[int, int] = {}
    for a, b, size in matcher.get_matching_blocks():
        for k in range(size):
            found[ours[a + k]] = theirs[b + k]
    return found


def _char_boxes(
    textpage, indices: list[int], crop: tuple[float, float, float, float]
) -> list[tuple[float, float, float, float]]:
    """The boxes of these characters of pdfium's page, in reading order, as fractions of the page
    (left, top, right, bottom) from the top left."""
    x0, y0, x1, y1 = crop
    width, height = x1 - x0, y1 - y0
    boxes = []
    for index in sorted(set(indices)):
        left, bottom, right, top = textpage.get_charbox(index, loose=True)  # PDF units, origin bottom left
        boxes.append(((left - x0) / width, (y1 - top) / height, (right - x0) / width, (y1 - bottom) / height))
    return boxes


def _join_lines(boxes: list[tuple[float, float, float, float]]) -> tuple[Box, ...]:
    """One rectangle per line of these boxes (in reading order): a box whose middle lies outside the
    current line's height starts a new line."""
    lines: list[list[float]] = []
    for left, top, right, bottom in boxes:
        line = lines[-1] if lines else None
        if line is not None and line[1] <= (top + bottom) / 2 <= line[3]:
            line[:] = [min(line[0], left), min(line[1], top), max(line[2], right), max(line[3], bottom)]
        else:
            lines.append([left, top, right, bottom])

    def part(value: float) -> float:
        return round(min(1.0, max(0.0, value)), 4)

    return tuple(Box(*(part(v) for v in line)) for line in lines)
