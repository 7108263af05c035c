"""Text from images of pages (scanned PDFs, photos of press releases) by OCR.

The engine is tesseract's command line, in French and English (Debian:
``apt-get install tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng``); without
it, images are skipped with a message saying how to add it. Each image is read
as grey levels at ``DPI``, one tesseract process at a time on one thread.

What OCR read is kept on disk (``ocr/`` in the cache folder, keyed by the
file's sha256, the resolution and the languages): every ``qa index`` reads the
whole corpus again, and showing an article's original text reads its file
again, and neither should wait minutes for the pages of a scan to be read
anew, nor get a different text.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING

from .document import Unusable

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

TESSERACT = "tesseract"
INSTALL = "apt-get install tesseract-ocr tesseract-ocr-fra"
LANGUAGES = ("fra", "eng")  # those installed are used together
DPI = 300  # pages are rendered at this resolution for OCR (see docs/benchmarks.md)
MAX_PIXELS = 80_000_000  # an image larger than this (a 30 × 40 cm page at 600 dpi is 67 M) is refused
TIMEOUT_SECONDS = 300  # for one page
MIN_CONFIDENCE = 60  # tesseract's confidence (0-100) for a word to count as read
_TITLE_HEIGHT_RATIO = 1.3  # a title line is at least this much taller than the body's lines
_MAX_TITLE_LINES = 4


@dataclass(frozen=True)
class Engine:
    command: str  # the tesseract program
    languages: str  # "fra+eng"


@dataclass(frozen=True)
class OcrPage:
    """What OCR read on one image."""

    text: str  # one line per line of the page, paragraphs separated by a blank line
    line_heights: tuple[int, ...]  # pixel height of each line of ``text`` with words in it, in order
    confident_words: int  # words read with a confidence of MIN_CONFIDENCE or more

    @property
    def title_lines(self) -> int:
        """How many lines at the top are set taller than the body (at least 1)."""
        if len(self.line_heights) < 2:
            return 1
        body = median(self.line_heights)
        count = 0
        while count < min(_MAX_TITLE_LINES, len(self.line_heights) - 1):
            if self.line_heights[count] < body * _TITLE_HEIGHT_RATIO:
                break
            count += 1
        return max(count, 1)


def engine() -> Engine | None:
    """The OCR engine of this machine; None when there is none (``missing_message`` says why)."""
    found = _find(TESSERACT)
    return found if isinstance(found, Engine) else None


def missing_message() -> str:
    """Why there is no OCR, and how to add it."""
    found = _find(TESSERACT)
    return "" if isinstance(found, Engine) else found


@functools.lru_cache(maxsize=4)
def _find(command: str) -> Engine | str:
    path = shutil.which(command)
    if path is None:
        return f"OCR is not installed ({INSTALL})"
    try:
        listed = subprocess.run([path, "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"OCR cannot run ({command}: {exc}; {INSTALL})"
    installed = {line.strip() for line in listed.stdout.splitlines()[1:]}
    languages = [lang for lang in LANGUAGES if lang in installed]
    if not languages:
        return f"OCR has neither French nor English installed ({INSTALL} tesseract-ocr-eng)"
    if "fra" not in languages:
        log.warning("OCR reads English only: French accents will be misread (apt-get install tesseract-ocr-fra)")
    return Engine(path, "+".join(languages))


def read_image(engine: Engine, image: Image) -> OcrPage:
    """OCR of one image (grey levels); raises Unusable when tesseract fails."""
    return _from_tsv(read_tsv(engine, image))


def read_tsv(engine: Engine, image: Image) -> str:
    """Tesseract's TSV of one image (grey levels): every word with its box; raises Unusable when it fails."""
    buffer = io.BytesIO()
    image.convert("L").save(buffer, format="PNG")
    command = [engine.command, "stdin", "stdout", "-l", engine.languages, "--dpi", str(DPI), "tsv"]
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one core: a machine indexing has other work
    try:
        done = subprocess.run(
            command, input=buffer.getvalue(), capture_output=True, timeout=TIMEOUT_SECONDS, env=environment
        )
    except subprocess.TimeoutExpired:
        raise Unusable(f"OCR took over {TIMEOUT_SECONDS} s on one page") from None
    except OSError as exc:
        raise Unusable(f"OCR cannot run ({exc})") from None
    if done.returncode != 0:
        why = " ".join(done.stderr.decode("utf-8", "replace").split())[:200]
        raise Unusable(f"OCR failed ({why or f'exit status {done.returncode}'})")
    return done.stdout.decode("utf-8", "replace")


def _from_tsv(tsv: str) -> OcrPage:
    """The page's text from tesseract's TSV: words of a line joined by spaces, paragraphs apart."""
    paragraphs: dict[tuple[int, int], dict[int, list[str]]] = {}
    heights: dict[tuple[int, int, int], int] = {}
    confident = 0
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12:
            continue
        level, block, paragraph, line = (int(cells[i]) for i in (0, 2, 3, 4))
        if level == 4:
            heights[(block, paragraph, line)] = int(cells[9])
        elif level == 5 and cells[11].strip():
            paragraphs.setdefault((block, paragraph), {}).setdefault(line, []).append(cells[11].strip())
            confident += float(cells[10]) >= MIN_CONFIDENCE
    lines_of = [
        [(" ".join(words), heights.get((*key, line), 0)) for line, words in lines.items()]
        for key, lines in paragraphs.items()
    ]
    text = "\n\n".join("\n".join(line for line, _ in lines) for lines in lines_of)
    return OcrPage(text, tuple(height for lines in lines_of for _, height in lines), confident)


def open_image(data: bytes) -> Image:
    """An image file's first frame; raises Unusable when it is not one PIL reads, or is too large."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise Unusable(f"image of {width} × {height} pixels, over the OCR limit of {MAX_PIXELS:,} pixels")
        image.load()
    except Unusable:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise Unusable(f"cannot read the image ({type(exc).__name__}: {exc})") from None
    return image


class Cache:
    """What OCR read on the pages of one file, kept in the cache folder (one JSON file per page)."""

    def __init__(self, data: bytes, engine: Engine, root: Path | None = None):
        from ..embed.base import default_cache_dir

        key = hashlib.sha256(data).hexdigest()
        self.folder = (root or default_cache_dir()) / "ocr" / f"{key}-{DPI}dpi-{engine.languages}"

    def get(self, page: int) -> OcrPage | None:
        try:
            data = json.loads((self.folder / f"{page}.json").read_text(encoding="utf-8"))
            return OcrPage(str(data["text"]), tuple(map(int, data["line_heights"])), int(data["confident_words"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, page: int, read: OcrPage) -> None:
        """Kept when the folder can be written (a read-only cache only costs the time to read again)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self.folder, delete=False) as f:
                json.dump(asdict(read), f, ensure_ascii=False)
            os.replace(f.name, self.folder / f"{page}.json")
        except OSError as exc:
            log.warning("cannot keep what OCR read in %s: %s", self.folder, exc)


def read_cached(cache: Cache, page: int, engine: Engine, image: Callable[[], Image]) -> OcrPage:
    """Page ``page`` (0-based) from the cache, else read by OCR from ``image()`` and kept."""
    found = cache.get(page)
    if found is None:
        found = read_image(engine, image())
        cache.put(page, found)
    return found
