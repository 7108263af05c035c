"""Images of text (.png, .jpg, .tif: a photographed or scanned press release), read by OCR.

The *original text* is what OCR reads (qa.ingest.ocr), as one page: passages
are cited by page 1 and their lines, and marked as read by OCR. The title is
the run of taller lines at the top, else the first line. An image in which
OCR finds fewer than ``MIN_WORDS`` words it is sure of (a photo, a logo) is
skipped, as is every image when this machine has no OCR.
"""

from __future__ import annotations

import hashlib

from . import ocr
from .dates import article_date
from .document import Document, Unusable
from .text import clean_lines

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
MIN_WORDS = 10  # words read with confidence that make an image an article


def extract_image(data: bytes) -> ocr.OcrPage:
    """What OCR reads in an image file; raises Unusable (no OCR, not an image, no text)."""
    engine = ocr.engine()
    if engine is None:
        raise Unusable(f"an image, and {ocr.missing_message()}")
    image = ocr.open_image(data)  # checks the image before the cache is looked into
    read = ocr.read_cached(ocr.Cache(data, engine), 0, engine, lambda: image)
    if read.confident_words < MIN_WORDS:
        raise Unusable(f"no text found in the image ({read.confident_words} words read with confidence)")
    return read


def image_document(doc_id: str, data: bytes, path: str | None = None) -> Document:
    read = extract_image(data)
    source = read.text
    cleaned = clean_lines(source, title_lines=read.title_lines)
    if cleaned is None or not cleaned.text:
        raise Unusable("no text found in the image besides a title")
    date = article_date(cleaned.text)
    digest = hashlib.sha256(b"image\0")
    digest.update(source.encode("utf-8", "surrogatepass") + f"\0{read.title_lines}\0{date}".encode())
    return cleaned.document(
        doc_id=doc_id,
        source=source,
        content_hash=digest.hexdigest(),
        path=path if path is not None else doc_id,
        pages=(0,),
        date=date,
        ocr_pages=(1,),
    )
