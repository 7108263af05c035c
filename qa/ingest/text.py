"""Plain-text articles (.txt, .md), and the paragraph logic every format shares.

Cleaning keeps, for every character of the result, its offset in the original
text. It works on whole lines in Python and on characters with numpy, so its
cost is linear in the size of the text (a 50 MB file is seconds, not minutes;
see bench/bench_ingest.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from .dates import dateline_date
from .decode import decode_bytes
from .document import PARAGRAPH_BREAK, Document, Unusable, identity_offsets, line_starts

# Stray HTML left over by page scraping: `"mailto:x@y">`, `<a href=…>`, `</a>`, `<br>`.
# Other tags (e.g. <script>) are kept as text: they are the article's content,
# and the UI escapes everything it shows.
_MARKUP = re.compile(
    r'"(?:mailto|https?):[^"\s]*">'
    r"|</?(?:a|br|p|span|div|strong|em|b|i|u)\b[^<>]{0,300}>",
    re.IGNORECASE,
)
# The same, run once over all paragraphs joined by NUL: it must not match across a NUL.
_MARKUP_IN_BODY = re.compile(
    r'"(?:mailto|https?):[^"\s\x00]*">'
    r"|</?(?:a|br|p|span|div|strong|em|b|i|u)\b[^<>\x00]{0,300}>",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?…]\s*[»\"”’)]?\s*$")
_BLOCK_START = re.compile(r"^\s*(?:[-*•]\s|#{1,6}\s|\d+[.)]\s)")
_HEADING_MARK = re.compile(r"^\s*#+\s*")

# str.isspace() as a lookup table: every whitespace code point is below U+3001.
_WS_LIMIT = 0x3001
_WS_TABLE = np.array([chr(c).isspace() for c in range(_WS_LIMIT + 1)], dtype=bool)
_SEPARATOR = 0  # NUL stands between paragraphs while cleaning
_BATCH_CHARS = 1 << 20  # paragraphs cleaned at a time (see _clean_paragraphs)
_EMPTY = np.zeros(0, dtype=np.int64)
# What makes a text more than one plain line: line breaks, markup, BOM, NUL.
_NOT_ONE_LINE = re.compile("[<\ufeff\x00\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_OTHER_SPACE = re.compile(r"[^\S ]")  # whitespace other than the space


@dataclass(frozen=True)
class Cleaned:
    title: str
    text: str  # paragraphs separated by PARAGRAPH_BREAK
    offsets: np.ndarray  # int64 offset in the original text of each character of ``text``
    line_starts: np.ndarray  # of the original text (see qa.ingest.document.line_starts)

    def document(self, **fields) -> Document:
        """The Document of this cleaned text; the line starts already computed are kept."""
        doc = Document(title=self.title, text=self.text, offsets=self.offsets, **fields)
        object.__setattr__(doc, "_line_starts", self.line_starts)  # Document's own cache (frozen)
        return doc


def normalise_line(line: str) -> str:
    """Whitespace folded to single spaces, ends stripped: how lines are compared."""
    return " ".join(line.split())


def clean_lines(
    source: str,
    *,
    skip: Collection[int] = frozenset(),
    title_lines: int = 1,
    join_wrapped: bool = True,
    soft_breaks: Collection[int] = frozenset(),
    headings: Collection[int] = frozenset(),
) -> Cleaned | None:
    """Take the title, re-join hard-wrapped lines, strip stray markup, fold whitespace.

    ``skip``: indices (as in ``source.splitlines()``) of lines to drop (boilerplate).
    ``title_lines``: how many lines, after any leading lines without words, make
    the title (0: no title in the text). ``join_wrapped``: False when every line
    is a paragraph (extracted web pages). ``soft_breaks``: blank lines that do not
    end a paragraph (the blank line between two PDF pages). ``headings``: lines set as
    headings (a PDF's larger or bold type), which are never joined to the body text
    before or after them. None when no line is left.
    """
    bodies = source.splitlines()
    if "\x00" in source:  # NUL is the paragraph separator below; as text it is dropped like a BOM
        bodies = [b.replace("\x00", "\ufeff") for b in bodies]
    all_starts = line_starts(source)
    starts = all_starts[: len(bodies)].tolist()
    dropped = set(skip) | set(soft_breaks)
    kept = [i for i in range(len(bodies)) if i not in dropped] if dropped else list(range(len(bodies)))

    title, first = "", 0
    if title_lines:
        while first < len(kept) and not _has_words(bodies[kept[first]]):
            first += 1
        if first == len(kept):
            return None
        title = clean_title(" ".join(bodies[i] for i in kept[first : first + title_lines]))
        first += title_lines
    paragraphs = _paragraphs(bodies, kept[first:], join_wrapped, headings)
    text, offsets = _clean_paragraphs(bodies, starts, paragraphs)
    return Cleaned(title=title, text=text, offsets=offsets, line_starts=all_starts)


def clean_title(raw: str) -> str:
    """A title line without stray markup, Markdown "#" or BOM, whitespace folded."""
    return normalise_line(_HEADING_MARK.sub("", _MARKUP.sub("", raw.replace("\ufeff", ""))))


def clean_line(text: str) -> tuple[str, np.ndarray] | None:
    """The text and offsets ``clean_lines(text, title_lines=0)`` gives, fast, for a text
    of one line without markup (most collection records); None for any other text.

    Whitespace becomes single spaces; a text that is already clean shares one
    offsets array with all others (qa.ingest.document.identity_offsets).
    """
    if '">' in text or _NOT_ONE_LINE.search(text):
        return None
    text = _OTHER_SPACE.sub(" ", text)  # one character for one: offsets unchanged
    if "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text, identity_offsets(len(text))
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    space = codes == 32
    keep = ~space
    keep[1:] |= ~space[:-1]  # the first space after a word
    offsets = np.flatnonzero(keep)
    if len(offsets) and codes[offsets[-1]] == 32:
        offsets = offsets[:-1]
    return codes[offsets].tobytes().decode("utf-32-le", "surrogatepass"), offsets.astype(np.int64)


def _has_words(line: str) -> bool:
    return any(ch.isalnum() for ch in line)


def _paragraphs(
    bodies: list[str], lines: list[int], join_wrapped: bool, headings: Collection[int] = frozenset()
) -> list[list[int]]:
    """Group lines into paragraphs (lists of line indices).

    A line ends its paragraph when it is blank, when it ends a sentence, when
    the next line starts a list item or heading, or when one of the two is in
    ``headings`` and the other is not; otherwise the next line is the rest of a
    hard-wrapped sentence (or heading) and is joined with a space.
    """
    paragraphs: list[list[int]] = []
    current: list[int] = []
    for j, i in enumerate(lines):
        line = bodies[i]
        if not line.strip():
            if current:
                paragraphs.append(current)
                current = []
            continue
        current.append(i)
        next_line = bodies[lines[j + 1]] if j + 1 < len(lines) else ""
        if (
            not join_wrapped
            or _SENTENCE_END.search(line)
            or not next_line.strip()
            or _BLOCK_START.match(next_line)
            or (headings and (i in headings) != (lines[j + 1] in headings))
        ):
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def _clean_paragraphs(bodies: list[str], starts: list[int], paragraphs: list[list[int]]) -> tuple[str, np.ndarray]:
    """Join the paragraphs, drop markup and BOMs, fold whitespace; keep every offset.

    Paragraphs are cleaned independently, so they go by batches of about
    ``_BATCH_CHARS``: the arrays of a batch, not of the whole text, are what
    cleaning holds beyond its result.
    """
    texts: list[str] = []
    offsets: list[np.ndarray] = []
    batch: list[list[int]] = []
    size = 0
    for para in [*paragraphs, None]:
        if para is None or (batch and size >= _BATCH_CHARS):
            text, where = _clean_batch(bodies, starts, batch)
            if text:
                if texts:  # a break points at the end of the paragraph before it
                    texts.append(PARAGRAPH_BREAK)
                    offsets.append(np.full(len(PARAGRAPH_BREAK), offsets[-1][-1]))
                texts.append(text)
                offsets.append(where)
            batch, size = [], 0
        if para is not None:
            batch.append(para)
            size += sum(len(bodies[i]) + 1 for i in para)
    if not texts:
        return "", _EMPTY
    return "".join(texts), np.concatenate(offsets, dtype=np.int64)


def _clean_batch(bodies: list[str], starts: list[int], paragraphs: list[list[int]]) -> tuple[str, np.ndarray]:
    """Clean some paragraphs: text (paragraphs separated by PARAGRAPH_BREAK) and offsets.

    The paragraphs are joined into one string (lines by a space that stands for
    the newline that wrapped them, paragraphs by NUL), then every step is a
    numpy mask over its code points: linear, whatever the size of the text.
    """
    parts: list[str] = []
    seg_orig: list[int] = []  # offset of the first character of each part in the original
    seg_len: list[int] = []
    for p, para in enumerate(paragraphs):
        if p:
            parts.append("\x00")
            seg_orig.append(-1)  # set below: a break points at the end of the paragraph before it
            seg_len.append(1)
        for k, i in enumerate(para):
            if k:
                parts.append(" ")
                seg_orig.append(starts[i] - 1)  # the newline that wrapped the line
                seg_len.append(1)
            parts.append(bodies[i])
            seg_orig.append(starts[i])
            seg_len.append(len(bodies[i]))
    joined = "".join(parts)
    if not joined:
        return "", _EMPTY
    # Offsets as steps summed in place: +1 inside a part, a jump at the first character
    # of each part (parts are never empty). Worked on as int32 while the arrays are
    # filtered (half the memory), made int64 at the end.
    small = max(seg_orig) < np.iinfo(np.int32).max
    lengths = np.array(seg_len, dtype=np.int64)
    origins = np.array(seg_orig, dtype=np.int64)
    offsets = np.ones(len(joined), dtype=np.int32 if small else np.int64)
    firsts = np.cumsum(lengths) - lengths
    offsets[firsts[1:]] = origins[1:] - (origins[:-1] + lengths[:-1] - 1)
    offsets[0] = origins[0]
    np.cumsum(offsets, out=offsets)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")

    keep = codes != 0xFEFF
    for match in _MARKUP_IN_BODY.finditer(joined):
        keep[match.start() : match.end()] = False
    codes, offsets = codes[keep], offsets[keep]
    codes, offsets = _fold_whitespace(codes, offsets)
    codes, offsets = _paragraph_breaks(codes, offsets)
    return codes.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass"), offsets


def _fold_whitespace(codes: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each run of whitespace becomes one space (at the offset of its first character);
    runs at the start or end of a paragraph go."""
    n = len(codes)
    if not n:
        return codes, offsets
    ws = _WS_TABLE[np.minimum(codes, _WS_LIMIT)]
    separator = codes == _SEPARATOR
    before = np.concatenate(([False], ws[:-1]))
    after = np.concatenate((ws[1:], [False]))
    run_starts = np.flatnonzero(ws & ~before)
    run_ends = np.flatnonzero(ws & ~after)
    prev_char, next_char = run_starts - 1, run_ends + 1
    inner = (prev_char >= 0) & (next_char < n)
    inner[inner] = ~separator[prev_char[inner]] & ~separator[next_char[inner]]
    keep = ~ws
    keep[run_starts[inner]] = True
    folded = codes[keep]
    folded[ws[keep]] = 32
    return folded, offsets[keep]


def _paragraph_breaks(codes: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop empty paragraphs; each separator becomes PARAGRAPH_BREAK ("\\n\\n")."""
    separator = codes == _SEPARATOR
    if not separator.any():
        return codes, offsets
    keep = ~(separator & np.concatenate(([True], separator[:-1])))  # leading or repeated
    codes, offsets = codes[keep], offsets[keep]
    if len(codes) and codes[-1] == _SEPARATOR:
        codes, offsets = codes[:-1], offsets[:-1]
    breaks = np.flatnonzero(codes == _SEPARATOR)
    offsets[breaks] = offsets[breaks - 1]
    codes[breaks] = ord("\n")
    return np.insert(codes, breaks, ord("\n")), np.insert(offsets, breaks, offsets[breaks])


def text_hash(source: str, skip: Collection[int] = frozenset()) -> str:
    """sha256 of the text and of the boilerplate lines removed from it.

    The same formula as before boilerplate removal became positional (the
    sorted set of removed lines, normalised), so unchanged articles keep their
    hash and are not re-embedded; when only some occurrences of a removed line
    went (the same line also stands in the body), the removed line numbers are
    added, since the set alone no longer says what was removed. The article's date
    (``text_date``), when it has one, is added too: an article indexed before dates
    were read is read again to get its date.
    """
    digest = hashlib.sha256(source.encode("utf-8", "surrogatepass"))
    if skip:
        norms = [normalise_line(line) for line in source.splitlines()]
        removed = {norms[i] for i in skip}
        digest.update("\0".join(sorted(removed)).encode("utf-8", "surrogatepass"))
        if any(norm in removed for i, norm in enumerate(norms) if i not in skip):
            digest.update(("\0lines:" + ",".join(map(str, sorted(skip)))).encode())
    date = text_date(source, skip)
    if date is not None:
        digest.update(f"\0date:{date}".encode())
    return digest.hexdigest()


_DATELINE_LINES = 3  # body lines looked at for a dateline (a hard-wrapped one may go on to the next)


def text_date(source: str, skip: Collection[int] = frozenset()) -> str | None:
    """The date of a .txt/.md article: the dateline that opens its body (qa.ingest.dates), the lines
    after its title once the lines in ``skip`` are dropped. Only the first lines of ``source`` are read."""
    prefix = 1 << 13
    while True:
        whole = prefix >= len(source)
        lines = source[:prefix].splitlines()
        if not whole:
            lines = lines[:-1]  # it may be cut
        kept = [line for i, line in enumerate(lines) if i not in skip]
        title = next((k for k, line in enumerate(kept) if _has_words(line)), None)
        body = [line for line in kept[title + 1 :] if line.strip()][:_DATELINE_LINES] if title is not None else []
        if len(body) == _DATELINE_LINES or whole:
            return dateline_date(" ".join(normalise_line(_MARKUP.sub("", line.replace("\ufeff", ""))) for line in body))
        prefix *= 4


def clean_document(
    doc_id: str, source: str, skip: Collection[int] = frozenset(), path: str | None = None
) -> Document | None:
    """A .txt/.md article: its first line with words is the title (a Markdown "# " dropped).

    ``skip``: lines to drop (boilerplate, see qa.ingest.boilerplate). None when
    nothing is left.
    """
    cleaned = clean_lines(source, skip=skip, title_lines=1)
    if cleaned is None:
        return None
    return cleaned.document(
        doc_id=doc_id,
        source=source,
        content_hash=text_hash(source, skip),
        path=path if path is not None else doc_id,
        date=text_date(source, skip),
    )


def read_text(data: bytes) -> str:
    """The text of a .txt/.md file; raises Unusable (binary, empty)."""
    text = decode_bytes(data)
    if not text.strip():
        raise Unusable("empty file")
    return text
