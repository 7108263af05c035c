"""Reading and cleaning the articles of a corpus folder.

Every character of a cleaned document remembers where it came from in the
original file (``Document.offsets``), so passages cut from it can be cited by
character span and line range in the file a person can open.
"""

from __future__ import annotations

import hashlib
import logging
import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md")
PARAGRAPH_BREAK = "\n\n"

# A line repeated in at least this share of the documents is site boilerplate.
BOILERPLATE_SHARE = 0.5

# Stray HTML left over by page scraping: `"mailto:x@y">`, `<a href=…>`, `</a>`, `<br>`.
# Other tags (e.g. <script>) are kept as text: they are the article's content,
# and the UI escapes everything it shows.
_MARKUP = re.compile(
    r'"(?:mailto|https?):[^"\s]*">'
    r"|</?(?:a|br|p|span|div|strong|em|b|i|u)\b[^<>]{0,300}>",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?…]\s*[»\"”’)]?\s*$")
_BLOCK_START = re.compile(r"^\s*(?:[-*•]\s|#{1,6}\s|\d+[.)]\s)")
_WHITESPACE = re.compile(r"\s+")


class CorpusError(ValueError):
    """The corpus folder cannot be used (missing, or no readable article)."""


@dataclass(frozen=True)
class Document:
    """One cleaned article.

    ``text`` holds the paragraphs of the body (the title excluded) separated by
    ``PARAGRAPH_BREAK``; ``offsets[i]`` is the character offset in the original
    file of ``text[i]``.
    """

    doc_id: str  # path relative to the corpus folder, with forward slashes
    title: str
    text: str
    offsets: tuple[int, ...] = field(repr=False)
    source: str = field(repr=False)  # the original file content
    content_hash: str = ""
    path: str = ""

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of ``text`` to the span of the original file it came from."""
        return self.offsets[start], self.offsets[end - 1] + 1

    def line_range(self, orig_start: int, orig_end: int) -> tuple[int, int]:
        """1-based first and last line of an original-file span."""
        line_starts = _line_starts(self.source)
        first = bisect_right(line_starts, orig_start)
        last = bisect_right(line_starts, max(orig_start, orig_end - 1))
        return first, last


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


def normalise_line(line: str) -> str:
    return _WHITESPACE.sub(" ", line).strip()


def list_article_files(corpus_dir: Path) -> list[Path]:
    """Every article file under ``corpus_dir``, in a stable order."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    return sorted(
        p
        for p in corpus_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
    )


def read_text_file(path: Path) -> str | None:
    """The file's text, or None (with one warning) when it is not a usable article."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        log.warning("skipping %s: cannot read it (%s)", path, exc)
        return None
    if b"\x00" in data:
        log.warning("skipping %s: binary file", path)
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        log.warning("skipping %s: not valid UTF-8 (byte %d)", path, exc.start)
        return None
    if not text.strip():
        log.warning("skipping %s: empty file", path)
        return None
    return text


def learn_boilerplate(texts: list[str]) -> frozenset[str]:
    """Lines that repeat across most documents (site navigation, menus).

    Learned from the corpus itself; with fewer than two documents nothing can
    be told apart, so nothing is removed.
    """
    if len(texts) < 2:
        return frozenset()
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({normalise_line(line) for line in text.splitlines()} - {""})
    threshold = max(2, BOILERPLATE_SHARE * len(texts))
    return frozenset(line for line, n in counts.items() if n >= threshold)


def clean_document(doc_id: str, source: str, boilerplate: frozenset[str]) -> Document | None:
    """Strip boilerplate and markup, take the title, re-join wrapped lines."""
    lines = _kept_lines(source, boilerplate)
    while lines and not _has_words(lines[0][0]):
        lines.pop(0)
    if not lines:
        return None
    title_line, _ = lines.pop(0)
    title = normalise_line(re.sub(r"^\s*#+\s*", "", _MARKUP.sub("", title_line)))

    paragraphs = [_clean_paragraph(chars) for chars in _paragraphs(lines)]
    paragraphs = [p for p in paragraphs if p[0]]
    text_parts: list[str] = []
    offsets: list[int] = []
    for i, (para_text, para_offsets) in enumerate(paragraphs):
        if i:
            text_parts.append(PARAGRAPH_BREAK)
            offsets.extend([offsets[-1]] * len(PARAGRAPH_BREAK))
        text_parts.append(para_text)
        offsets.extend(para_offsets)
    removed = sorted({normalise_line(line) for line in source.splitlines()} & boilerplate)
    digest = hashlib.sha256(source.encode("utf-8"))
    digest.update("\0".join(removed).encode("utf-8"))
    return Document(
        doc_id=doc_id,
        title=title,
        text="".join(text_parts),
        offsets=tuple(offsets),
        source=source,
        content_hash=digest.hexdigest(),
    )


def _has_words(line: str) -> bool:
    return any(ch.isalnum() for ch in line)


def _kept_lines(source: str, boilerplate: frozenset[str]) -> list[tuple[str, int]]:
    """(line, offset of its first character) for every line that is not boilerplate.

    Blank lines are kept as ("", offset): they end paragraphs.
    """
    kept = []
    offset = 0
    for line in source.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        norm = normalise_line(body)
        if norm not in boilerplate:
            kept.append((body if norm else "", offset))
        offset += len(line)
    return kept


def _paragraphs(lines: list[tuple[str, int]]) -> list[list[tuple[str, int]]]:
    """Group lines into paragraphs as (character, original offset) lists.

    A line ends its paragraph when it is blank, when it ends a sentence, or when
    the next line starts a list item or heading; otherwise the next line is the
    rest of a hard-wrapped sentence and is joined with a space.
    """
    paragraphs: list[list[tuple[str, int]]] = []
    current: list[tuple[str, int]] = []
    for i, (line, start) in enumerate(lines):
        if not line.strip():
            if current:
                paragraphs.append(current)
                current = []
            continue
        if current:
            current.append((" ", start - 1))  # the newline that wrapped the line
        current.extend((ch, start + j) for j, ch in enumerate(line))
        next_line = lines[i + 1][0] if i + 1 < len(lines) else ""
        if _SENTENCE_END.search(line) or not next_line.strip() or _BLOCK_START.match(next_line):
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def _clean_paragraph(chars: list[tuple[str, int]]) -> tuple[str, list[int]]:
    """Drop stray markup and fold whitespace, keeping each character's offset."""
    raw = "".join(ch for ch, _ in chars)
    keep = [True] * len(raw)
    for match in _MARKUP.finditer(raw):
        keep[match.start() : match.end()] = [False] * (match.end() - match.start())
    out_chars: list[str] = []
    out_offsets: list[int] = []
    for (ch, offset), kept in zip(chars, keep):
        if not kept:
            continue
        if ch.isspace() or ch == "\ufeff":
            if ch == "\ufeff" or not out_chars or out_chars[-1] == " ":
                continue
            ch = " "
        out_chars.append(ch)
        out_offsets.append(offset)
    while out_chars and out_chars[-1] == " ":
        out_chars.pop()
        out_offsets.pop()
    return "".join(out_chars), out_offsets


def load_corpus(corpus_dir: Path) -> list[Document]:
    """Read and clean every article of ``corpus_dir``; unusable files are skipped."""
    corpus_dir = Path(corpus_dir)
    sources: dict[str, str] = {}
    for path in list_article_files(corpus_dir):
        text = read_text_file(path)
        if text is not None:
            sources[path.relative_to(corpus_dir).as_posix()] = text
    boilerplate = learn_boilerplate(list(sources.values()))
    documents = []
    for doc_id, source in sources.items():
        doc = clean_document(doc_id, source, boilerplate)
        if doc is None:
            log.warning("skipping %s: nothing left after removing boilerplate", doc_id)
        else:
            documents.append(doc)
    return documents


def path_in_corpus(corpus_dir: Path, doc_id: str) -> Path:
    """The file of ``doc_id`` inside ``corpus_dir``; refuses ids that would leave it
    (an index is data and may have been edited)."""
    root = Path(corpus_dir).resolve()
    path = (root / doc_id).resolve()
    if Path(doc_id).is_absolute() or not path.is_relative_to(root):
        raise CorpusError(f"document id {doc_id!r} points outside the corpus folder")
    return path
