"""The page view of a PDF citation: how long one page takes, and how much of the cited text is marked.

    PYTHONPATH=. .venv/bin/python bench/bench_page_image.py              # the seed articles, set as PDFs
    PYTHONPATH=. .venv/bin/python bench/bench_page_image.py --corpus corpus --repeat 5

Each article of the corpus is set in an A4 PDF (reportlab, as bench/bench_ocr.py
sets it), read as `qa index` reads it (qa.ingest.pdf) and cut into passages; every
page of every passage is then shown as the chat shows it
(qa.ingest.page_image.passage_page: pypdf's text of the page, pdfium's render
and characters, their alignment, the boxes), with its answering sentence (the
passage's first) marked. Printed: the page views, their time (median and
slowest, of the best of ``--repeat`` runs each), the image size, and the share of
the cited letters that got a box on the image (letters pdfium and pypdf do not
both read have none).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench.bench_ocr import article_pdf
from qa.chunking import chunk_document
from qa.ingest import load_corpus
from qa.ingest.page_image import _alignment, _page_chars, page_text, passage_page
from qa.ingest.pdf import pdf_document


def marked_share(data: bytes, page: int, start: int, end: int) -> tuple[int, int]:
    """(cited letters, those aligned with a character of pdfium's) for a span of the page's text."""
    import pypdfium2 as pdfium

    original = page_text(data, page)
    pdf = pdfium.PdfDocument(data)
    try:
        sheet = pdf[page - 1]
        textpage = sheet.get_textpage()
        aligned = _alignment(original, _page_chars(textpage))
        textpage.close()
        sheet.close()
    finally:
        pdf.close()
    letters = [i for i in range(start, min(end, len(original))) if not original[i].isspace()]
    return len(letters), sum(i in aligned for i in letters)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    times, sizes, cited, placed, views = [], [], 0, 0, 0
    for doc in load_corpus(args.corpus).documents:
        data = article_pdf(doc.title, doc.text.split("\n\n"))
        pdf_doc = pdf_document(doc.doc_id + ".pdf", data)
        for passage in chunk_document(pdf_doc):
            span = passage.sentences[0] if passage.sentences else (0, len(passage.text))
            for page in passage.pages:
                best = float("inf")
                for _ in range(args.repeat):
                    began = time.perf_counter()
                    image = passage_page(data, passage, page, span)
                    best = min(best, time.perf_counter() - began)
                times.append(best)
                sizes.append(len(image.png))
                views += 1
                at = page - (passage.page or 1)
                first = passage.page_starts[at]
                after = passage.page_starts[at + 1] if page < passage.pages[-1] else passage.end
                span_on_page = (max(passage.start, first) - first, min(passage.end, after) - first)
                letters, aligned = marked_share(data, page, *span_on_page)
                cited, placed = cited + letters, placed + aligned
    print(f"page views: {views} (passages × their pages) of {args.corpus}")
    print(f"time per view: median {statistics.median(times) * 1000:.0f} ms, slowest {max(times) * 1000:.0f} ms")
    print(f"PNG size: median {statistics.median(sizes) / 1024:.0f} KB, largest {max(sizes) / 1024:.0f} KB")
    print(f"cited letters with a box: {placed} of {cited} ({100 * placed / max(cited, 1):.2f}%)")


if __name__ == "__main__":
    main()
