"""The article panel beside the chat: the cleaned article, opened at the cited passage.

The article comes from the library service (:mod:`qa.library`), rebuilt from
its passages: the text that was searched and cited. The original file is
offered beside it: shown with its line numbers (text files, whose line numbers
the citations give), decoded as the indexer read it, and to download.

A passage opened from a reply that found no answer is the closest passage, not
an answer: it is headed so, and its sentence is not painted as an answer.

A PDF article shows where each page begins. A passage of a PDF can be opened on
its page itself: the page rendered as an image (through the library service,
:mod:`qa.ingest.page_image`), the passage's lines tinted and the cited sentence
marked, above the cleaned text.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..chunking import Passage
from ..ingest import CorpusError
from ..ingest.folder import TEXT_SUFFIXES
from ..ingest.page_image import Box, PageImage
from ..library import Article, Library
from .format import _MARKDOWN_ENTITIES, escape, highlight, line_range, message

log = logging.getLogger(__name__)

PLACEHOLDER = (
    '<p class="qa-note">Ask a question, then click a citation number or title: its article opens here, '
    "at the cited lines. The articles searched are listed under “Articles in the index”.</p>"
)
CLOSEST = "closest passage (not an answer)"
# "Mongolie - ", "Genève – ", "PARIS, 3 mars — ": the place (and date) that opens a press release.
_DATELINE = re.compile(r"^([^\W\d][^\n–—]{0,60}?)\s+[-–—]\s+(?=\S)")


@dataclass(frozen=True)
class Reference:
    """What the panel is asked to open: an article, or a passage of it (and the span of it to mark)."""

    doc_id: str | None = None
    passage_id: str | None = None
    span: tuple[int, int] | None = None
    closest: bool = False  # the passage does not answer: the closest one to a question nothing answered
    page: int | None = None  # a PDF passage opened on this page of the file itself, rendered

    def as_state(self) -> dict[str, Any]:
        state = {"doc_id": self.doc_id, "passage_id": self.passage_id, "span": self.span, "closest": self.closest}
        return state | {"page": self.page}

    @classmethod
    def from_state(cls, state: Any) -> Reference | None:
        if isinstance(state, Reference) or state is None:
            return state
        if not isinstance(state, dict):
            return None
        span = state.get("span")
        span_t = (int(span[0]), int(span[1])) if isinstance(span, list | tuple) and len(span) == 2 else None
        doc_id, passage_id, page = state.get("doc_id"), state.get("passage_id"), state.get("page")
        return cls(
            doc_id if isinstance(doc_id, str) else None,
            passage_id if isinstance(passage_id, str) else None,
            span_t,
            bool(state.get("closest")),
            page if isinstance(page, int) and 0 < page < 100_000 else None,
        )


@dataclass(frozen=True)
class Opened:
    """What the panel shows for a reference: its HTML, and the article and passage when found."""

    html: str
    article: Article | None = None
    passage: Passage | None = None


def _block(text: str) -> str:
    """Article text as HTML: escaped like chat text, paragraph breaks kept."""
    return html.escape(text, quote=False).translate(_MARKDOWN_ENTITIES)


def pages_text(pages: tuple[int, ...]) -> str:
    """ "p. 2" or "pp. 1–2"; empty without pages."""
    if not pages:
        return ""
    return f"p. {pages[0]}" if len(pages) == 1 else f"pp. {pages[0]}–{pages[-1]}"


def _where(passage: Passage) -> str:
    pages = pages_text(passage.pages)
    return (f"{pages} · " if pages else "") + line_range((passage.line_start, passage.line_end))


def page_breaks(article: Article) -> dict[int, int]:
    """Where each page of a PDF article after the first begins in its text: {position: page}."""
    found: dict[int, int] = {}  # page -> position
    for passage, at in article.placed:
        for page, start in zip(passage.pages, passage.page_starts, strict=False):
            if page > 1:
                position = at + passage.text_index(max(start, passage.start))
                found[page] = min(position, found.get(page, position))
    return {position: page for page, position in found.items()}


def span_page(passage: Passage, span: tuple[int, int] | None) -> int | None:
    """The page a span of the passage's text begins on (the passage's first page without a span)."""
    if span is None or not 0 <= span[0] < span[1] <= len(passage.text):
        return passage.page
    return passage.page_at(passage.original_span(*span)[0])


def page_links(passage: Passage, span: tuple[int, int] | None, closest: bool, shown: int | None = None) -> str:
    """Links that open the passage on each of its pages, rendered; the page shown is not a link."""
    a, b = span if span is not None else (0, 0)
    links = []
    for page in passage.pages:
        if page == shown:
            links.append(f'<span class="qa-page-link qa-shown">page {page}</span>')
            continue
        href = f"#qa:{'nearpage' if closest else 'page'}:{passage.passage_id}:{a}-{b}:{page}"
        links.append(
            f'<a class="qa-act qa-page-link" href="{href}" title="Show page {page} of the file">page {page}</a>'
        )
    return " ".join(links)


def article_html(
    article: Article,
    passage_id: str | None = None,
    span: tuple[int, int] | None = None,
    closest: bool = False,
) -> str:
    """The cleaned article: title, file, the body with its dateline; the passage ``passage_id``
    highlighted and labelled with its lines (and page), ``span`` of it marked as the answer
    (unless ``closest``: the passage is then headed as the closest one, not an answer)."""
    spans: list[tuple[int, int, str]] = []
    dateline = _DATELINE.match(article.text)
    if dateline:
        spans.append((0, dateline.end(1), "qa-dateline"))
    cited = article.where(passage_id) if passage_id else None
    badge_at, badge = -1, ""
    if cited is not None:
        passage, at = cited
        spans.append((at, at + len(passage.text), "qa-cited qa-near" if closest else "qa-cited"))
        if not closest and span is not None and 0 <= span[0] < span[1] <= len(passage.text):
            spans.append((at + span[0], at + span[1], "qa-mark"))
        label = f"{CLOSEST}: {_where(passage)}" if closest else _where(passage)
        badge_at, badge = at, f'<span class="qa-badge{" qa-near" if closest else ""}">{escape(label)}</span>'
    breaks = page_breaks(article)
    cuts = sorted({0, len(article.text), badge_at, *breaks} | {x for s, e, _ in spans for x in (s, e)} - {-1})
    body = []
    for a, b in itertools.pairwise(cuts):
        if a in breaks:
            body.append(f'<span class="qa-page-break">page {breaks[a]}</span>')
        if a == badge_at:
            body.append(badge)
        classes = " ".join(name for s, e, name in spans if s <= a and b <= e)
        piece = _block(article.text[a:b])
        body.append(f'<span class="{classes}">{piece}</span>' if classes else piece)
    pages = article.pages
    pages_shown = f" · {pages_text(tuple(range(pages[0], pages[1] + 1)))}" if pages is not None else ""
    count = len(article.placed)
    where = f"{article.file}{pages_shown} · {count} passage{'' if count == 1 else 's'}"
    cited_text = f" · {CLOSEST if closest else 'cited'}: {_where(cited[0])}" if cited is not None else ""
    show = ""
    if cited is not None and cited[0].pages and article.file.lower().endswith(".pdf"):
        show = f'<div class="qa-meta qa-pages">The page itself: {page_links(cited[0], span, closest)}</div>'
    return (
        '<div class="qa-article"><div class="qa-article-head">'
        f'<h3 class="qa-article-title">{escape(article.title)}</h3>'
        f'<div class="qa-meta">{escape(where + cited_text)}</div>{show}</div>'
        f'<div class="qa-article-body">{"".join(body)}</div></div>'
    )


def is_text_file(file: str) -> bool:
    """Whether citations count the lines of the file itself (so its original is worth showing)."""
    return Path(file).suffix.lower() in TEXT_SUFFIXES


def original_html(file: str, text: str, passage: Passage | None = None, closest: bool = False) -> str:
    """The original text of ``file`` with its line numbers, the cited lines marked."""
    first, last = (passage.line_start, passage.line_end) if passage else (0, -1)
    start, end = (passage.start, passage.end) if passage else (0, 0)
    cited_class = " qa-cited qa-near" if closest else " qa-cited"
    rows, offset = [], 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        body = line.rstrip("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029")
        cls = cited_class if first <= number <= last else ""
        rows.append(
            f'<div class="qa-line{cls}"><span class="qa-ln">{number}</span>'
            f'<span class="qa-tx">{highlight(body, (start - offset, end - offset)) or "&nbsp;"}</span></div>'
        )
        offset += len(line)
    cited = ""
    if passage:
        cited = f", {CLOSEST}: {line_range((first, last))}" if closest else f", cited {line_range((first, last))}"
    head = f'<div class="qa-article-head"><div class="qa-meta">The original file: {escape(file)}{cited}</div></div>'
    return f'<div class="qa-article qa-original">{head}<div class="qa-article-body">{"".join(rows)}</div></div>'


def original_view(library: Library, article: Article, passage: Passage | None, closest: bool = False) -> str:
    """The original of ``article`` (text files only), or a message saying why it cannot be shown."""
    if not is_text_file(article.file):
        return message(f"{article.file} is not a text file: download it to open it.")
    try:
        text = library.original_text(article.doc_id)
    except CorpusError as exc:
        return message(f"The file cannot be shown: {exc}.", "error")
    except Exception:
        log.exception("cannot show the original of %r", article.doc_id)
        return message(f"The file {article.file} cannot be opened (moved or removed since it was indexed?).", "error")
    return original_html(article.file, text, passage, closest)


def open_reference(library: Library, ref: Reference) -> Opened:
    """What the panel shows for a reference."""
    passage = library.passage(ref.passage_id) if ref.passage_id else None
    doc_id = passage.doc_id if passage is not None else ref.doc_id or ""
    article = library.article(doc_id) if doc_id else None
    if article is None:
        why = "It is no longer in the index (removed or changed since this answer was given?)."
        return Opened(message(f"This article cannot be opened. {why}", "error"))
    passage_id = passage.passage_id if passage else None
    text = article_html(article, passage_id, ref.span, ref.closest)
    if passage is not None and ref.page is not None:
        text = page_view(library, passage, ref) + text
    return Opened(text, article, passage)


def page_view(library: Library, passage: Passage, ref: Reference) -> str:
    """The page ``ref.page`` of the passage's PDF as an image, its lines marked; or why it cannot be shown."""
    page = ref.page or 1
    try:
        image = library.page_image(passage.passage_id, page, None if ref.closest else ref.span)
    except CorpusError as exc:
        return message(f"The page cannot be shown: {exc}.", "error")
    except Exception:
        log.exception("cannot render page %s of %r", page, passage.doc_id)
        return message(f"Page {page} of {passage.doc_id} cannot be shown.", "error")
    return page_html(image, passage, ref)


def page_html(image: PageImage, passage: Passage, ref: Reference) -> str:
    """The rendered page with the passage's lines on it tinted and the span's marked, headed by links to
    the passage's other pages; every position is a number, every text escaped."""
    boxes = [_box(box, "qa-page-cited qa-near" if ref.closest else "qa-page-cited") for box in image.marked[0]]
    if len(image.marked) > 1:
        boxes += [_box(box, "qa-page-mark") for box in image.marked[1]]
    data = base64.b64encode(image.png).decode("ascii")
    note = f'<p class="qa-note">{escape(image.note)}</p>' if image.note else ""
    head = (
        f'<div class="qa-meta">{escape(passage.doc_id)} · page {image.page} of {image.page_count}'
        f"{'' if image.note else ' · the cited lines are marked'}</div>"
    )
    if len(passage.pages) > 1:
        links = page_links(passage, ref.span, ref.closest, image.page)
        head += f'<div class="qa-meta qa-pages">The passage’s pages: {links}</div>'

    picture = (
        f'<div class="qa-page-sheet"><img class="qa-page-image" alt="Page {image.page} of the file" '
        f'width="{image.width}" height="{image.height}" src="data:image/png;base64,{data}">{"".join(boxes)}</div>'
    )
    return f'<div class="qa-page" data-page="{image.page}">{head}{note}<div class="qa-page-view">{picture}</div></div>'


def _box(box: Box, kind: str) -> str:
    left, top = 100 * box.left, 100 * box.top
    width, height = 100 * (box.right - box.left), 100 * (box.bottom - box.top)
    style = f"left:{left:.2f}%;top:{top:.2f}%;width:{width:.2f}%;height:{height:.2f}%"
    return f'<span class="qa-page-box {kind}" style="{style}"></span>'


class Originals:
    """Copies of original files for download: Gradio serves files only from its own
    folders, and only a file of the corpus, found through its id, is ever copied."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="qa-originals-"))

    def copy(self, library: Library, article: Article) -> Path | None:
        try:
            source = library.original_file(article.doc_id)
            if source is None:
                return None
            digest = hashlib.sha1(article.file.encode("utf-8", "surrogatepass")).hexdigest()[:16]
            target = self.folder / digest / source.name
            target.parent.mkdir(exist_ok=True)
            shutil.copyfile(source, target)
            return target
        except Exception:
            log.exception("cannot offer the original of %r", article.doc_id)
            return None
