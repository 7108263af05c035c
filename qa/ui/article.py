"""The article panel beside the chat: the cleaned article, opened at the cited passage.

The article is rebuilt from its passages as the index stores them, not from
the file: that is exactly the text that was searched and cited (site menus and
stray markup already removed, a PDF's or web page's text already extracted),
it costs no re-reading or re-cleaning of the corpus (boilerplate is learned
across all the articles), and it stays right for a file changed since it was
indexed. Neighbouring passages share a sentence; they are laid end to end
without repeating it.

The original file is offered beside it: shown with its line numbers (text
files, whose line numbers the citations give) and to download.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import logging
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..chunking import Passage
from ..limits import MAX_FILE_BYTES
from ..store import StoreReader, passage_key
from .format import _MARKDOWN_ENTITIES, escape, highlight, line_range, message
from .sources import corpus_file, path_in_corpus

log = logging.getLogger(__name__)

PARAGRAPH_BREAK = "\n\n"
TEXT_SUFFIXES = (".txt", ".md")  # files whose own lines are the ones citations count
PLACEHOLDER = (
    '<p class="qa-note">Ask a question, then click a citation number or title: its article opens here, '
    "at the cited lines. The articles searched are listed under “Articles in the index”.</p>"
)
# "Mongolie - ", "Genève – ", "PARIS, 3 mars — ": the place (and date) that opens a press release.
_DATELINE = re.compile(r"^([^\W\d][^\n–—]{0,60}?)\s+[-–—]\s+(?=\S)")
_PASSAGE_ID = re.compile(r"^[0-9a-f]{1,32}$")


@dataclass(frozen=True)
class Article:
    doc_id: str
    title: str
    text: str  # the cleaned body, paragraphs separated by PARAGRAPH_BREAK
    placed: tuple[tuple[Passage, int], ...]  # each passage and where its text starts in ``text``

    def where(self, passage_id: str) -> tuple[Passage, int] | None:
        return next(((p, at) for p, at in self.placed if p.passage_id == passage_id), None)

    @property
    def pages(self) -> tuple[int, int] | None:
        pages = [page for p, _ in self.placed if (page := getattr(p, "page", None)) is not None]
        return (min(pages), max(pages)) if pages else None


def merge_passages(passages: Iterable[Passage]) -> tuple[str, tuple[tuple[Passage, int], ...]]:
    """The text of consecutive passages laid end to end, each shared sentence once.

    A passage that starts before its predecessor ends (in the original file)
    repeats that one's last sentence(s): it is placed over them. Between passages
    that do not overlap, a new line in the original starts a new paragraph.
    """
    text, placed = "", []
    previous: Passage | None = None
    for passage in sorted(passages, key=lambda p: p.position):
        at = None
        if previous is not None and passage.start < previous.end:
            for _, end in reversed(passage.sentences):
                if end and text.endswith(passage.text[:end]):
                    at = len(text) - end
                    break
        if at is None:
            if text:
                text += PARAGRAPH_BREAK if previous and passage.line_start > previous.line_end else " "
            at = len(text)
        text += passage.text[len(text) - at :]
        placed.append((passage, at))
        previous = passage
    return text, tuple(placed)


def load_article(reader: StoreReader, doc_id: str) -> Article | None:
    """The article ``doc_id`` of this index version, or None when it is not in it."""
    entry = reader.manifest.documents.get(doc_id)
    if entry is None:
        return None
    try:
        passages = list(reader.passages([passage_key(pid) for pid in entry.passage_ids]))
    except (KeyError, ValueError):
        log.exception("index version %s: cannot read the passages of %r", reader.version, doc_id)
        return None
    text, placed = merge_passages(passages)
    return Article(doc_id, entry.title, text, placed)


def find_passage(reader: StoreReader, passage_id: str) -> Passage | None:
    """The passage of this id in this index version, or None."""
    if not _PASSAGE_ID.match(passage_id):
        return None
    try:
        passage = next(iter(reader.passages([passage_key(passage_id)])), None)
    except (KeyError, ValueError):
        return None
    if passage is None or passage.passage_id != passage_id or passage.doc_id not in reader.manifest.documents:
        return None
    return passage


def _block(text: str) -> str:
    """Article text as HTML: escaped like chat text, paragraph breaks kept."""
    return html.escape(text, quote=False).translate(_MARKDOWN_ENTITIES)


def _where(passage: Passage) -> str:
    page = getattr(passage, "page", None)
    return (f"p. {page} · " if page is not None else "") + line_range((passage.line_start, passage.line_end))


def article_html(
    article: Article, corpus_dir: Path, passage_id: str | None = None, span: tuple[int, int] | None = None
) -> str:
    """The cleaned article: title, file, the body with its dateline; the passage ``passage_id``
    highlighted and labelled with its lines (and page), ``span`` of it marked."""
    spans: list[tuple[int, int, str]] = []
    dateline = _DATELINE.match(article.text)
    if dateline:
        spans.append((0, dateline.end(1), "qa-dateline"))
    cited = article.where(passage_id) if passage_id else None
    badge_at, badge = -1, ""
    if cited is not None:
        passage, at = cited
        spans.append((at, at + len(passage.text), "qa-cited"))
        if span is not None and 0 <= span[0] < span[1] <= len(passage.text):
            spans.append((at + span[0], at + span[1], "qa-mark"))
        badge_at, badge = at, f'<span class="qa-badge">{escape(_where(passage))}</span>'
    cuts = sorted({0, len(article.text), badge_at} | {x for s, e, _ in spans for x in (s, e)} - {-1})
    body = []
    for a, b in itertools.pairwise(cuts):
        if a == badge_at:
            body.append(badge)
        classes = " ".join(name for s, e, name in spans if s <= a and b <= e)
        piece = _block(article.text[a:b])
        body.append(f'<span class="{classes}">{piece}</span>' if classes else piece)
    pages = article.pages
    pages_text = ""
    if pages is not None:
        pages_text = f" · p. {pages[0]}" if pages[0] == pages[1] else f" · pp. {pages[0]}–{pages[1]}"
    count = len(article.placed)
    where = f"{corpus_file(corpus_dir, article.doc_id)}{pages_text} · {count} passage{'' if count == 1 else 's'}"
    cited_text = f" · cited: {_where(cited[0])}" if cited is not None else ""
    return (
        '<div class="qa-article"><div class="qa-article-head">'
        f'<h3 class="qa-article-title">{escape(article.title)}</h3>'
        f'<div class="qa-meta">{escape(where + cited_text)}</div></div>'
        f'<div class="qa-article-body">{"".join(body)}</div></div>'
    )


def is_text_file(doc_id: str) -> bool:
    return Path(doc_id).suffix.lower() in TEXT_SUFFIXES


def original_html(corpus_dir: Path, doc_id: str, passage: Passage | None = None) -> str:
    """The original file with its line numbers, the cited lines marked (text files only)."""
    file = corpus_file(corpus_dir, doc_id)
    if not is_text_file(file):
        return message(f"{file} is not a text file: download it to open it.")
    try:
        path = path_in_corpus(corpus_dir, file)
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except Exception:
        log.exception("cannot show the original of %r", doc_id)
        return message(f"The file {file} cannot be opened (moved or removed since it was indexed?).", "error")
    text = data[:MAX_FILE_BYTES].decode("utf-8", errors="replace").lstrip("\ufeff")
    first, last = (passage.line_start, passage.line_end) if passage else (0, -1)
    start, end = (passage.start, passage.end) if passage else (0, 0)
    rows, offset = [], 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        body = line.rstrip("\r\n")
        cls = " qa-cited" if first <= number <= last else ""
        rows.append(
            f'<div class="qa-line{cls}"><span class="qa-ln">{number}</span>'
            f'<span class="qa-tx">{highlight(body, (start - offset, end - offset)) or "&nbsp;"}</span></div>'
        )
        offset += len(line)
    cited = f", cited {line_range((first, last))}" if passage else ""
    head = f'<div class="qa-article-head"><div class="qa-meta">The original file: {escape(file)}{cited}</div></div>'
    return f'<div class="qa-article qa-original">{head}<div class="qa-article-body">{"".join(rows)}</div></div>'


class Originals:
    """Copies of original files for download: Gradio serves files only from its own
    folders, and only a file of the corpus, found through its id, is ever copied."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="qa-originals-"))

    def copy(self, corpus_dir: Path, doc_id: str) -> Path | None:
        try:
            file = corpus_file(corpus_dir, doc_id)
            source = path_in_corpus(corpus_dir, file)
            if not source.is_file():
                return None
            target = self.folder / hashlib.sha1(file.encode("utf-8", "surrogatepass")).hexdigest()[:16] / source.name
            target.parent.mkdir(exist_ok=True)
            shutil.copyfile(source, target)
            return target
        except Exception:
            log.exception("cannot offer the original of %r", doc_id)
            return None


def open_reference(
    reader: StoreReader, corpus_dir: Path, ref: dict[str, Any]
) -> tuple[str, Article | None, Passage | None]:
    """What the panel shows for a reference {doc_id?, passage_id?, span?}: (html, article, passage)."""
    passage = find_passage(reader, str(ref.get("passage_id") or "")) if ref.get("passage_id") else None
    doc_id = passage.doc_id if passage is not None else str(ref.get("doc_id") or "")
    article = load_article(reader, doc_id) if doc_id else None
    if article is None:
        why = "It is no longer in the index (removed or changed since this answer was given?)."
        return message(f"This article cannot be opened. {why}", "error"), None, None
    span = ref.get("span")
    span_t = (int(span[0]), int(span[1])) if isinstance(span, list | tuple) and len(span) == 2 else None
    return article_html(article, corpus_dir, passage.passage_id if passage else None, span_t), article, passage
