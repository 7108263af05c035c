"""The corpus folder: which files are articles, reading them safely, what was skipped.

Every file under the folder whose name ends with one of ``SUFFIXES`` is read,
except hidden ones. A file that cannot be used is skipped with a warning and
listed in ``Corpus.skipped`` with the reason: a link leading out of the folder,
a file over the size limit, a binary file, an empty one, a broken PDF, ...
A file read in part (scanned pages of a PDF that OCR did not read) is listed
too, with the part left out: "scan.pdf pages 301-450".
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .. import limits
from .boilerplate import BoilerplateReport, find_boilerplate
from .collection import COLLECTION_SUFFIXES, is_collection, read_collection, record_text, split_doc_id
from .document import CorpusError, Document, Unusable
from .html import extract_html, html_document
from .image import IMAGE_SUFFIXES, extract_image, image_document
from .line_map import LineMap
from .pdf import extract_pdf, pdf_document
from .text import clean_document, read_text, text_hash
from .word import docx_document, extract_docx

log = logging.getLogger(__name__)

DEFAULT_CORPUS_DIR = Path("corpus")  # the corpus folder when none is given
TEXT_SUFFIXES = (".txt", ".md")
HTML_SUFFIXES = (".html", ".htm")
SUFFIXES = (*TEXT_SUFFIXES, *HTML_SUFFIXES, ".pdf", ".docx", *IMAGE_SUFFIXES, *COLLECTION_SUFFIXES)


@dataclass(frozen=True)
class Corpus:
    """What ``load_corpus`` read."""

    documents: list[Document]
    skipped: list[tuple[str, str]]  # (file relative to the corpus, why), one per unusable file or record line
    boilerplate: BoilerplateReport | None  # what was removed as site boilerplate; None: no .txt/.md file read
    # doc_id → content hash of the known articles that were not read, or not cleaned (see load_corpus)
    unchanged: dict[str, str] = field(default_factory=dict)
    # where the records of each plain collection lie, read now or kept unread (qa.ingest.line_map)
    line_maps: dict[str, LineMap] = field(default_factory=dict)


# Asked about each article file before it is read (its name in the corpus, its real path): True when it is
# as it was when the index read it (qa.file_stamps), so that its known articles are kept without reading it.
UnchangedFile = Callable[[str, Path], bool]


def is_article_name(name: str) -> bool:
    """Whether a file of this name is read as an article (the ``qa index --watch`` filter too)."""
    return not name.startswith(".") and name.lower().endswith(SUFFIXES)


def load_corpus(
    corpus_dir: Path,
    max_file_bytes: int | None = None,
    known: Mapping[str, str] | None = None,
    unchanged_file: UnchangedFile | None = None,
    line_maps: Mapping[str, LineMap] | None = None,
) -> Corpus:
    """Read and clean every article of ``corpus_dir``; unusable files are skipped and listed.

    ``max_file_bytes`` limits each file, and each record of a collection
    (default: qa.limits.max_file_bytes(), which QA_MAX_FILE_MB sets).
    ``known`` (doc_id → content hash, what an index holds) lets collection
    records that have not changed go unread, and .txt/.md articles whose
    text and boilerplate have not changed go uncleaned: they are listed in
    ``Corpus.unchanged``, not in ``Corpus.documents``. ``unchanged_file``
    lets files go unread: those it says are unchanged keep their known
    articles. Not .txt/.md files while one of them was added, changed or
    removed: boilerplate is learned from them all, so all are read then.
    ``line_maps`` (a collection → the map the run that read it made, kept with ``unchanged_file``'s
    stamps) lets a changed collection be read only where it changed.
    """
    if max_file_bytes is None:
        max_file_bytes = limits.max_file_bytes()
    root = Path(corpus_dir)
    files, skipped = _walk(root)
    real_root = root.resolve()
    found: dict[str, list[Document]] = {}
    unchanged: dict[str, str] = {}
    texts: dict[str, str] = {}  # .txt/.md: cleaned once all are read (boilerplate is learned from all)
    known = known or {}
    # the known articles of each file, grouped when first needed: a changed collection with a map does not
    held = functools.cache(lambda: _articles_by_file(known))

    unread_texts: dict[str, Path] = {}  # unchanged .txt/.md files, read only if another one changed
    old_maps, maps = dict(line_maps or {}), {}

    def skip(rel: str, why: str) -> None:
        log.warning("skipping %s: %s", rel, why)
        skipped.append((rel, why))

    def read(rel: str, real: Path) -> None:
        try:
            if is_collection(rel):
                old_map = old_maps.get(rel)  # with a map, the records are looked up by their doc_id
                kept = known if old_map is not None else held().get(rel, {})
                records = read_collection(real, rel, max_file_bytes, None, kept, old_map)
                if records.line_map is not None:
                    maps[rel] = records.line_map
                found[rel] = records.documents
                unchanged.update(records.unchanged)
                skipped.extend(records.bad)  # logged by read_collection
                return
            data = _read_limited(real, max_file_bytes)
            reader = _READERS.get(Path(rel).suffix.lower())
            if reader is None:
                texts[rel] = read_text(data)
            else:
                doc = reader(rel, data)
                found[rel] = [doc]
                for part, why in doc.unread:  # read in part: the rest is said like a skipped file
                    skip(f"{rel} {part}", why)
        except (Unusable, OSError) as exc:
            skip(rel, _why_unread(exc))

    for path in files:
        rel = path.relative_to(root).as_posix()
        try:
            real = _inside(path, real_root)
        except (Unusable, OSError) as exc:
            skip(rel, _why_unread(exc))
            continue
        if unchanged_file is not None and unchanged_file(rel, real) and rel in held():
            if _is_text(rel):
                unread_texts[rel] = real
            else:
                unchanged.update(held()[rel])
                if rel in old_maps:
                    maps[rel] = old_maps[rel]
            continue
        read(rel, real)

    if unread_texts and (texts or set(unread_texts) != {rel for rel in held() if _is_text(rel)}):
        for rel, real in unread_texts.items():  # a .txt/.md file was added, changed or removed
            read(rel, real)
        unread_texts = {}
    for rel in unread_texts:
        unchanged[rel] = held()[rel][rel]
    removed, report = find_boilerplate(list(texts.values()))
    for (rel, source), lines in zip(texts.items(), removed, strict=True):
        digest = text_hash(source, lines)
        if known.get(rel) == digest:  # the article the index holds: not cleaned again
            unchanged[rel] = digest
            continue
        doc = clean_document(rel, source, lines)
        if doc is None and lines:  # an article is never lost to boilerplate removal
            doc = clean_document(rel, source)
        if doc is None:
            skip(rel, "no line with words in it")
        else:
            found[rel] = [doc]
    documents = [doc for path in files for doc in found.get(path.relative_to(root).as_posix(), ())]
    boilerplate = None if unread_texts and not texts else report
    return Corpus(documents, skipped, boilerplate, unchanged, maps)


def _why_unread(exc: Unusable | OSError) -> str:
    return f"cannot read it ({exc.strerror or exc})" if isinstance(exc, OSError) else str(exc)


def _articles_by_file(known: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The known articles (doc_id → content hash) of each file."""
    held: dict[str, dict[str, str]] = {}
    prefix, articles = "", {}  # "<collection>#" of the last id split, and its collection's articles
    for doc_id, digest in known.items():
        if not prefix or not doc_id.startswith(prefix):  # a collection's records follow one another: split once
            rel = split_doc_id(doc_id)[0]
            articles = held.setdefault(rel, {})
            prefix = f"{rel}#" if is_collection(rel) and "#" not in rel else ""
        articles[doc_id] = digest
    return held


def _is_text(rel: str) -> bool:
    """A .txt/.md article (cleaned with boilerplate learned from all of them)."""
    return not is_collection(rel) and Path(rel).suffix.lower() not in _READERS


def path_in_corpus(corpus_dir: Path, doc_id: str) -> Path:
    """The file of ``doc_id`` inside ``corpus_dir`` (for a collection record, the
    collection's path followed by "#<record id>"); refuses ids that would leave
    the folder, links included (an index is data and may have been edited)."""
    root = Path(corpus_dir).resolve()
    file_part, record = split_doc_id(doc_id)
    path = (root / file_part).resolve()
    if Path(file_part).is_absolute() or not path.is_relative_to(root):
        raise CorpusError(f"document id {doc_id!r} points outside the corpus folder")
    return path if record is None else Path(f"{path}#{record}")


def read_document_text(corpus_dir: Path, doc_id: str) -> str:
    """The original text of the article ``doc_id``, read as the indexer read it: what its
    offsets and line numbers count in (see qa.ingest.document). A .txt/.md file decoded from
    its own encoding (UTF-8, UTF-16, Latin-1, cp1252 …, a byte-order mark left out), a saved
    page's or a PDF's extracted text (scanned pages as OCR read them, kept in the cache), a
    Word file's paragraphs one a line, an image's text, a collection record's "text".

    Raises CorpusError naming the article when it cannot be read: outside the corpus folder,
    gone, over the size limit, or no longer text.
    """
    file_part, record = split_doc_id(doc_id)
    path = path_in_corpus(corpus_dir, file_part)
    max_bytes = limits.max_file_bytes()
    try:
        if not path.exists():
            raise Unusable("no such file (moved or removed since it was indexed?)")
        if not path.is_file():
            raise Unusable("not a regular file")
        if record is not None:
            return record_text(path, record, max_bytes)
        data = _read_limited(path, max_bytes)
        suffix = path.suffix.lower()
        if suffix in HTML_SUFFIXES:
            return extract_html(data)[0]
        if suffix == ".pdf":
            return extract_pdf(data, doc_id).source
        if suffix == ".docx":
            return extract_docx(data)
        if suffix in IMAGE_SUFFIXES:
            return extract_image(data).text
        return read_text(data)
    except (Unusable, OSError) as exc:
        raise CorpusError(f"cannot read {doc_id}: {exc}") from None


_READERS: dict[str, Callable[[str, bytes], Document]] = {
    ".html": html_document,
    ".htm": html_document,
    ".pdf": pdf_document,
    ".docx": docx_document,
    **dict.fromkeys(IMAGE_SUFFIXES, image_document),
}


def _walk(root: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Article files under ``root``, and the linked folders leading out of it (skipped)."""
    if not root.is_dir():
        raise CorpusError(f"corpus folder not found: {root}")
    real_root = root.resolve()
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []

    def unreadable(error: OSError) -> None:  # os.walk would leave the folder out without a word
        why = f"cannot read it ({error.strerror or error})"
        if error.filename is None or Path(error.filename) == root:
            raise CorpusError(f"cannot read the corpus folder {root}: {error.strerror or error}")
        rel = Path(error.filename).relative_to(root).as_posix() + "/"
        log.warning("skipping %s: %s", rel, why)
        skipped.append((rel, why))

    for folder, dirs, names in os.walk(root, onerror=unreadable):
        here = Path(folder)
        for name in list(dirs):
            if name.startswith("."):
                dirs.remove(name)
            elif (here / name).is_symlink():  # not entered by os.walk
                rel = (here / name).relative_to(root).as_posix()
                if not (here / name).resolve().is_relative_to(real_root):
                    log.warning("skipping %s/: links outside the corpus folder", rel)
                    skipped.append((rel + "/", "links outside the corpus folder"))
                else:
                    log.info("not following %s/: it links inside the corpus, whose files are read there", rel)
        files.extend(here / name for name in names if is_article_name(name))
    return sorted(files), skipped


def _inside(path: Path, real_root: Path) -> Path:
    """The real path of ``path``; raises Unusable when it (a link) leads out of the corpus."""
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise Unusable("broken link") from None
    except RuntimeError:  # Python 3.11 reports a link loop this way
        raise Unusable("link loop") from None
    if not real.is_relative_to(real_root):
        raise Unusable("links outside the corpus folder")
    if not real.is_file():
        raise Unusable("not a regular file")
    return real


def _read_limited(path: Path, max_bytes: int) -> bytes:
    """The file's bytes; raises Unusable when it is over ``max_bytes`` (checked again
    while reading: the file may grow)."""
    size = path.stat().st_size
    if size <= max_bytes:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
        if len(data) <= max_bytes:
            return data
        size = max(size, len(data))
    raise Unusable(f"{size / 2**20:.1f} MB, over the {max_bytes / 2**20:g} MB limit (--max-file-mb)")
