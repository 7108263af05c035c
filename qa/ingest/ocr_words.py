"""Where OCR read each word of a scanned page: the page's text as the indexer got it, with word boxes.

The index keeps what OCR read (qa.ingest.ocr), not where. To mark the cited
lines on a scanned page, the page is rendered exactly as it was for OCR and
read again (a few seconds); the text is rebuilt from tesseract's words as
:func:`qa.ingest.ocr._from_tsv` builds it, each word keeping its box. The caller
checks that this text is the indexed one before trusting a box.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import ocr

if TYPE_CHECKING:
    from PIL.Image import Image


@dataclass(frozen=True)
class Word:
    start: int  # offsets in the page's text
    end: int
    box: tuple[float, float, float, float]  # left, top, right, bottom: fractions of the page from the top left


def ocr_image(sheet) -> Image:
    """A pdfium page rendered as qa.ingest.pdf renders it for OCR (the caller holds pdfium)."""
    return sheet.render(scale=ocr.DPI / 72, grayscale=True).to_pil()


def read_words(image: Image) -> tuple[str, tuple[Word, ...]] | None:
    """The OCR text of a page's image and its words' boxes; None when this machine has no OCR.
    Raises Unusable when OCR fails."""
    engine = ocr.engine()
    if engine is None:
        return None
    return words_of(ocr.read_tsv(engine, image), image.width, image.height)


def words_of(tsv: str, width: int, height: int) -> tuple[str, tuple[Word, ...]]:
    """The text ``_from_tsv`` makes of a TSV (the words of a line joined by a space, lines by a newline,
    paragraphs by a blank line), and where each word stands in it and on the image."""
    paragraphs: dict[tuple[int, int], dict[int, list[tuple[str, tuple[float, float, float, float]]]]] = {}
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue
        block, paragraph, line = (int(cells[i]) for i in (2, 3, 4))
        left, top, w, h = (int(cells[i]) for i in (6, 7, 8, 9))
        box = (left / width, top / height, (left + w) / width, (top + h) / height)
        paragraphs.setdefault((block, paragraph), {}).setdefault(line, []).append((cells[11].strip(), box))
    text, words = "", []
    for p, lines in enumerate(paragraphs.values()):
        text += "\n\n" if p else ""
        for k, line_words in enumerate(lines.values()):
            text += "\n" if k else ""
            for w, (word, box) in enumerate(line_words):
                text += " " if w else ""
                words.append(Word(len(text), len(text) + len(word), box))
                text += word
    return text, tuple(words)
