"""The articles of the index and its corpus folder, as the chat reads and changes them.

The chat asks the :class:`Retriever` for answers and this service for the rest:
which articles the index holds, an article's cleaned text (rebuilt from its
passages, with where each one starts, for highlighting) and its original text,
and the index's status. It also adds files to the corpus folder and removes
them, then brings the index up to date the way ``qa index`` does: only what
changed is embedded, and questions go on using the previous version until the
new one is committed. One change runs at a time.

An article is rebuilt from its passages as the index stores them, not from the
file: that is exactly the text that was searched and cited (site menus and
stray markup already removed, a PDF's or web page's text already extracted),
it costs no re-reading of the corpus, and it stays right for a file changed
since it was indexed. Neighbouring passages share a sentence; they are laid
end to end without repeating it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .chunking import ChunkSettings, Passage
from .indexer import UpdateReport, update_index
from .ingest import PARAGRAPH_BREAK, CorpusError, is_article_name, path_in_corpus, read_document_text
from .ingest.document import Unusable
from .ingest.page_image import PageImage, passage_page
from .limits import MAX_UPLOAD_FILES, UPLOAD_INDEX_WAIT_SECONDS, max_file_bytes
from .retrieval import Retriever
from .store import StoreUnavailable, passage_key
from .uploads import UploadError, save_upload

__all__ = [
    "Article",
    "ArticleEntry",
    "Change",
    "IndexProgress",
    "IndexStatus",
    "Library",
    "Received",
    "StoreUnavailable",
    "corpus_file",
    "merge_passages",
]

log = logging.getLogger(__name__)

NO_TEXT = "it holds no text besides its title line"
_PASSAGE_ID = re.compile(r"^[0-9a-f]{1,32}$")


# ---------------------------------------------------------------- what the service gives


@dataclass(frozen=True)
class IndexStatus:
    folder: str  # the corpus folder's own name (never the server's full path)
    articles: int
    passages: int
    updated: float  # when the index version in use was written (seconds since the epoch); 0: unknown


@dataclass(frozen=True)
class ArticleEntry:
    doc_id: str
    title: str
    file: str  # relative to the corpus folder; the records of a collection share their file
    passages: int


@dataclass(frozen=True)
class Article:
    doc_id: str
    title: str
    file: str  # relative to the corpus folder
    text: str  # the cleaned body, paragraphs separated by PARAGRAPH_BREAK
    placed: tuple[tuple[Passage, int], ...]  # each passage and where its text starts in ``text``

    def where(self, passage_id: str) -> tuple[Passage, int] | None:
        return next(((p, at) for p, at in self.placed if p.passage_id == passage_id), None)

    @property
    def pages(self) -> tuple[int, int] | None:
        pages = [page for p, _ in self.placed for page in p.pages]
        return (min(pages), max(pages)) if pages else None


@dataclass(frozen=True)
class Received:
    """A file sent to be added. :meth:`Library.add` takes it: saved into the corpus folder or refused,
    the file at ``path`` is deleted (a browser's upload left behind would fill the server's disk)."""

    path: Path  # where the file is now
    name: str  # the name it was sent under


@dataclass(frozen=True)
class IndexProgress:
    added: int  # articles new to the index
    changed: int
    removed: int
    done: int  # passages embedded so far
    total: int  # passages to embed


@dataclass(frozen=True)
class Change:
    """What one change did: files added or removed, and those refused, each with the reason."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # e.g. "a.txt: already in the corpus as b.txt"
    refused: tuple[str, ...] = ()  # one message per file, naming it
    summary: str | None = None  # the index update's summary, when it changed the index
    error: str | None = None  # the change as a whole failed


# ---------------------------------------------------------------- the service


class Library:
    """The articles of the retriever's index and its corpus folder."""

    def __init__(self, retriever: Retriever, allow_changes: bool = False):
        self.retriever = retriever
        self.allow_changes = allow_changes
        self._lock = threading.Lock()

    @property
    def corpus_dir(self) -> Path:
        return self.retriever.corpus_dir

    @property
    def busy(self) -> bool:
        """Whether a change is being indexed now."""
        return self._lock.locked()

    def _manifest(self):
        self.retriever.refresh()
        return self.retriever.reader.manifest

    def status(self) -> IndexStatus:
        manifest = self._manifest()
        folder = self.corpus_dir.resolve().name or str(self.corpus_dir)
        return IndexStatus(folder, len(manifest.documents), manifest.passage_count, manifest.created)

    def articles(self) -> list[ArticleEntry]:
        """Every article of the index, by file."""
        entries = [
            ArticleEntry(doc_id, entry.title, corpus_file(self.corpus_dir, doc_id), len(entry.passage_ids))
            for doc_id, entry in self._manifest().documents.items()
        ]
        return sorted(entries, key=lambda e: (e.file, e.doc_id))

    def article(self, doc_id: str) -> Article | None:
        """The cleaned article ``doc_id``, or None when the index does not hold it."""
        self.retriever.refresh()
        reader = self.retriever.reader
        entry = reader.manifest.documents.get(doc_id)
        if entry is None:
            return None
        try:
            passages = list(reader.passages([passage_key(pid) for pid in entry.passage_ids]))
        except (KeyError, ValueError):
            log.exception("index version %s: cannot read the passages of %r", reader.version, doc_id)
            return None
        text, placed = merge_passages(passages)
        return Article(doc_id, entry.title, corpus_file(self.corpus_dir, doc_id), text, placed)

    def passage(self, passage_id: str) -> Passage | None:
        """The passage of this id in the index, or None."""
        if not _PASSAGE_ID.match(passage_id):
            return None
        self.retriever.refresh()
        reader = self.retriever.reader
        try:
            found = next(iter(reader.passages([passage_key(passage_id)])), None)
        except (KeyError, ValueError):
            return None
        if found is None or found.passage_id != passage_id or found.doc_id not in reader.manifest.documents:
            return None
        return found

    def original_text(self, doc_id: str) -> str:
        """The article's original text, decoded as the indexer read it: what its offsets and lines count.
        Raises CorpusError, naming the article and saying why, when it cannot be read."""
        return read_document_text(self.corpus_dir, doc_id)

    def original_file(self, doc_id: str) -> Path | None:
        """The article's file in the corpus folder, or None when it is not there."""
        try:
            path = path_in_corpus(self.corpus_dir, corpus_file(self.corpus_dir, doc_id))
        except CorpusError:
            return None
        return path if path.is_file() else None

    def page_image(self, passage_id: str, page: int, span: tuple[int, int] | None = None) -> PageImage:
        """Page ``page`` of the PDF a passage comes from, rendered, the passage and ``span`` of its text marked
        (qa.ingest.page_image). Raises CorpusError, saying why, when it cannot be shown."""
        passage = self.passage(passage_id)
        if passage is None:
            raise CorpusError("the passage is no longer in the index")
        path = self.original_file(passage.doc_id)  # inside the corpus folder, or None
        if path is None or path.suffix.lower() != ".pdf":
            raise CorpusError(f"{corpus_file(self.corpus_dir, passage.doc_id)} is not a PDF of the corpus folder")
        try:
            if path.stat().st_size > max_file_bytes():
                raise CorpusError(f"{path.name} is larger than the files the index reads")
            return passage_page(path.read_bytes(), passage, page, span)
        except (OSError, Unusable) as exc:
            raise CorpusError(f"page {page} of {path.name} cannot be shown: {exc}") from None

    # ---- changes

    def add(self, files: Sequence[Received], progress: Callable[[IndexProgress], None] | None = None) -> Change:
        """Save ``files`` into the corpus folder, then index them."""
        if not self.allow_changes or not files:
            _discard(files)
            return Change(error="No file was received." if self.allow_changes else CHANGES_OFF)
        refused, notes, created = [], [], []
        if len(files) > MAX_UPLOAD_FILES:
            refused.append(f"{len(files) - MAX_UPLOAD_FILES} files left out: at most {MAX_UPLOAD_FILES} at a time")
            _discard(files[MAX_UPLOAD_FILES:])
            files = files[:MAX_UPLOAD_FILES]
        with self._lock:
            for received in files:
                try:
                    saved = save_upload(self.corpus_dir, received.path, received.name)
                except UploadError as exc:
                    refused.append(str(exc))
                    continue
                except OSError as exc:
                    log.exception("saving upload %r failed", received.name)
                    refused.append(f"{received.name}: cannot be saved ({exc.strerror or exc})")
                    continue
                finally:  # saved into the corpus folder, or refused: the received copy is not kept
                    _discard([received])
                if saved.note:
                    notes.append(f"{saved.sent_as}: {saved.note}")
                if saved.created:
                    created.append(saved.file)
            if not created:
                return Change(notes=tuple(notes), refused=tuple(refused))
            return self._reindex(Change(notes=tuple(notes), refused=tuple(refused)), created, progress)

    def remove(self, file: str, progress: Callable[[IndexProgress], None] | None = None) -> Change:
        """Delete one article file from the corpus folder, then re-index."""
        if not self.allow_changes:
            return Change(error=CHANGES_OFF)
        with self._lock:
            files = {entry.file for entry in self.articles()}
            if file not in files:
                return Change(error=f"{file} is not an article of the index (already removed?).")
            if len(files) == 1:
                return Change(error=f"{file} is the only article: add another one before removing it.")
            try:
                path = path_in_corpus(self.corpus_dir, file)
                if not is_article_name(path.name):
                    raise ValueError(f"{file} is not an article file")
                path.unlink(missing_ok=True)
            except (OSError, ValueError) as exc:
                log.exception("removing %r failed", file)
                return Change(error=f"{file} cannot be removed: {exc}")
            return self._reindex(Change(removed=(file,)), [], progress)

    def _reindex(self, change: Change, created: list[str], progress: Callable[[IndexProgress], None] | None) -> Change:
        """Bring the index up to date (the lock held); files just saved that give no searchable
        article are taken out again, with the reason."""
        warnings = _Collect()
        qa_log = logging.getLogger("qa")
        qa_log.addHandler(warnings)
        try:
            report = self._update(progress)
            empty = self._title_only(created)
            for file in empty:  # ours, just saved: not left behind, nor in the index
                path_in_corpus(self.corpus_dir, file).unlink(missing_ok=True)
            if empty:  # the index as if they had never been added
                report = dataclasses.replace(report, added=[d for d in report.added if d not in empty])
                self._update(None)
        except Exception as exc:  # reported in the page, and logged
            log.error("indexing after a change from the browser failed: %s", exc, exc_info=exc)
            saved = "The files are saved: the next change or restart indexes them."
            return _with(change, error=f"Indexing failed: {exc}. {saved}")
        finally:
            qa_log.removeHandler(warnings)
        indexed = {entry.file for entry in self.articles()}
        added, refused = [], list(change.refused)
        for file in created:
            if file in indexed:
                added.append(file)
                continue
            why = NO_TEXT if file in empty else dict(report.skipped).get(file) or warnings.about(file)
            path_in_corpus(self.corpus_dir, file).unlink(missing_ok=True)
            refused.append(f"{file}: not added, {why or 'no article text could be read from it'}")
        summary = report.summary() if report.touched else None
        return _with(change, added=tuple(added), refused=tuple(refused), summary=summary)

    def _title_only(self, files: Iterable[str]) -> list[str]:
        """Those of ``files`` indexed without a single passage (a one-line file: its title only)."""
        counts: dict[str, int] = {}
        for entry in self.articles():
            counts[entry.file] = counts.get(entry.file, 0) + entry.passages
        return [file for file in files if counts.get(file) == 0]

    def _update(self, progress: Callable[[IndexProgress], None] | None) -> UpdateReport:
        retriever = self.retriever

        def told(report: UpdateReport, done: int, total: int) -> None:
            if progress is not None:
                progress(IndexProgress(len(report.added), len(report.changed), len(report.removed), done, total))

        report = update_index(
            retriever.corpus_dir,
            retriever.store,
            retriever.embedder.model_name,
            retriever.embedder.backend,
            ChunkSettings(**retriever.reader.manifest.settings.chunking),
            wait_seconds=UPLOAD_INDEX_WAIT_SECONDS,
            progress=told,
        )
        retriever.refresh()
        return report


CHANGES_OFF = (
    "Adding and removing articles is off: this server can be reached from other machines. "
    "Start it with --allow-uploads to turn it on."
)


def _discard(files: Iterable[Received]) -> None:
    for received in files:
        with contextlib.suppress(OSError):
            received.path.unlink(missing_ok=True)


def _with(change: Change, **fields) -> Change:
    return Change(**{**change.__dict__, **fields})


class _Collect(logging.Handler):
    """Warnings logged during one indexing run (why a file was skipped)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def about(self, file: str) -> str | None:
        for text in self.messages:
            if file in text:
                return text.split(file, 1)[1].lstrip(" :,") or text
        return None


# ---------------------------------------------------------------- articles from passages


def corpus_file(corpus_dir: Path, doc_id: str) -> str:
    """The file of an article, relative to the corpus folder (posix).

    An article is a file, or one record of a collection file (``news.jsonl#12``);
    a file whose own name holds a ``#`` is still itself.
    """
    if "#" in doc_id and not path_in_corpus(corpus_dir, doc_id).is_file():
        return doc_id.rsplit("#", 1)[0]
    return doc_id


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
