"""OCR accuracy on scans of the seed articles: character error rate, accents included.

    PYTHONPATH=. .venv/bin/python bench/bench_ocr.py                 # 200 dpi scans, clean and noisy
    PYTHONPATH=. .venv/bin/python bench/bench_ocr.py --scan-dpi 150 200 300 --corpus corpus
    PYTHONPATH=. .venv/bin/python bench/bench_ocr.py --languages eng   # without tesseract-ocr-fra
    PYTHONPATH=. .venv/bin/python bench/bench_ocr.py --ocr-dpi 200     # pages rendered at 200 dpi for OCR

For each article of the corpus, its title and paragraphs are set in an A4 PDF
(reportlab, Helvetica 10 pt), each page is rasterised at the scan resolution
(pypdfium2) and put back into a PDF as an image only, as a scanner makes it:
"clean", and "noisy" (turned by 0.4°, grey noise, saved as JPEG at quality
60). That image-only PDF goes through the corpus reader (qa.ingest.pdf: pages
rendered at qa.ingest.ocr.DPI, read by tesseract), and its text is compared
with the article's: character error rate (edit distance / characters of the
article), whitespace folded, all characters counted (letters with accents,
apostrophes, quotes, dashes), and separately for the accented letters alone
(é è ê à â ç ô û î ï ë ù œ and their capitals: the share of them read wrong
or missing, by alignment). A second rate counts the typographic apostrophe
and quotes (’ ‘ “ ”) as their plain forms, which OCR mostly gives instead and
which search folds anyway. Nothing is cached (a temporary cache folder).

Measured on the 2-core development machine (tesseract 5.3.0, the five seed
articles: 6 pages, 13,235 characters, 370 accented letters): see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

ACCENTED = set("éèêàâçôûîïëùœÉÈÊÀÂÇÔÛÎÏËÙŒ")


def article_pdf(title: str, paragraphs: list[str]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    out = io.BytesIO()
    story = [Paragraph(escape(title), styles["Title"])]
    for text in paragraphs:
        story += [Paragraph(escape(text), styles["BodyText"]), Spacer(1, 6)]
    SimpleDocTemplate(out, pagesize=A4).build(story)
    return out.getvalue()


def scanned(pdf: bytes, dpi: int, noisy: bool, seed: int) -> bytes:
    """The PDF as a scanner gives it: each page an image, no text."""
    import pypdfium2 as pdfium
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    rng = np.random.default_rng(seed)
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=A4)
    document = pdfium.PdfDocument(pdf)
    for page in document:
        image = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        if noisy:
            image = image.rotate(0.4, fillcolor=255, resample=Image.Resampling.BICUBIC)
            pixels = np.asarray(image, dtype=np.float32) + rng.normal(0, 18, (image.height, image.width))
            image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
            jpeg = io.BytesIO()
            image.save(jpeg, format="JPEG", quality=60)
            image = Image.open(jpeg)
        sheet.drawImage(ImageReader(image), 0, 0, width=A4[0], height=A4[1])
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def alignment(truth: str, read: str) -> tuple[int, int]:
    """(edit distance, accented letters of ``truth`` not matched exactly) by one Levenshtein alignment."""
    a = np.frombuffer(truth.encode("utf-32-le"), dtype="<u4")
    b = np.frombuffer(read.encode("utf-32-le"), dtype="<u4")
    steps = np.arange(len(b) + 1, dtype=np.int32)
    rows = [steps.copy()]
    previous = steps
    for i in range(1, len(a) + 1):
        substitute = previous[:-1] + (b != a[i - 1])
        best = np.minimum(previous[1:] + 1, substitute)
        row = np.concatenate((np.array([i], dtype=np.int32), best.astype(np.int32)))
        row = np.minimum.accumulate(row - steps) + steps  # insertions
        rows.append(row)
        previous = row
    distance = int(previous[-1])
    wrong, i, j = 0, len(a), len(b)  # walk back: which accented letters were matched exactly
    while i > 0:
        if j > 0 and rows[i][j] == rows[i - 1][j - 1] + (a[i - 1] != b[j - 1]):
            wrong += chr(a[i - 1]) in ACCENTED and a[i - 1] != b[j - 1]
            i, j = i - 1, j - 1
        elif rows[i][j] == rows[i - 1][j] + 1:
            wrong += chr(a[i - 1]) in ACCENTED
            i -= 1
        else:
            j -= 1
    return distance, wrong


def folded(text: str) -> str:
    return " ".join(text.split())


def plain(text: str) -> str:
    return text.translate(str.maketrans("’‘“”", "''\"\""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--scan-dpi", type=int, nargs="+", default=[200])
    parser.add_argument("--ocr-dpi", type=int, default=None, help="render pages at this resolution for OCR")
    parser.add_argument("--languages", nargs="+", default=None, help="tesseract languages (default: fra eng)")
    args = parser.parse_args()
    os.environ["QA_CACHE_DIR"] = tempfile.mkdtemp(prefix="qa-ocr-bench-")  # nothing read before is reused
    from qa.ingest import load_corpus, ocr
    from qa.ingest.pdf import extract_pdf

    ocr.DPI = args.ocr_dpi or ocr.DPI
    ocr.LANGUAGES = tuple(args.languages or ocr.LANGUAGES)

    engine = ocr.engine()
    if engine is None:
        print(ocr.missing_message(), file=sys.stderr)
        return 1
    articles = load_corpus(args.corpus).documents
    print(f"tesseract ({engine.languages}), pages read at {ocr.DPI} dpi; {len(articles)} articles")
    for dpi in args.scan_dpi:
        for noisy in (False, True):
            errors = plain_errors = accents_wrong = accents = characters = pages = 0
            started = time.perf_counter()
            for number, doc in enumerate(articles):
                paragraphs = doc.text.split("\n\n")
                truth = folded(" ".join([doc.title, *paragraphs]))
                found = extract_pdf(scanned(article_pdf(doc.title, paragraphs), dpi, noisy, number))
                distance, wrong = alignment(truth, folded(found.source))
                errors, accents_wrong = errors + distance, accents_wrong + wrong
                plain_errors += alignment(plain(truth), plain(folded(found.source)))[0]
                characters += len(truth)
                accents += sum(ch in ACCENTED for ch in truth)
                pages += len(found.pages)
            seconds = time.perf_counter() - started
            print(
                f"scan {dpi} dpi {'noisy' if noisy else 'clean'}: {pages} pages, {characters:,} characters, "
                f"CER {100 * errors / characters:.2f}% ({100 * plain_errors / characters:.2f}% with plain quotes), "
                f"accented letters wrong {accents_wrong} of {accents} "
                f"({100 * accents_wrong / max(accents, 1):.2f}%), {seconds / pages:.1f} s a page"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
