"""Articles added and removed from the browser, and the list of what the index holds.

A file sent from the browser is saved into the corpus folder under a safe name
(its own name reduced to ASCII letters, digits, ``.``, ``_`` and ``-``; never a
dot-file, never over another file), then the index is brought up to date the
same way ``qa index`` does it: only what changed is embedded, and questions go
on using the previous version until the new one is committed. A file that
gives no article is taken out again, with the reason.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ..chunking import ChunkSettings
from ..indexer import UpdateReport, update_index
from ..limits import MAX_UPLOAD_BYTES, MAX_UPLOAD_FILES
from ..retrieval import Retriever
from ..store import Manifest
from .format import escape
from .sources import SUFFIXES, corpus_file, path_in_corpus

log = logging.getLogger(__name__)

# What the "Add articles" button offers: those of these that the corpus reader reads.
UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
MAX_NAME_CHARS = 80
MAX_LISTED = 1000
INDEX_WAIT_SECONDS = 60.0  # how long an upload waits for another indexing run (e.g. `qa index --watch`)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RUNS = re.compile(r"[-_.]{2,}")


class UploadError(ValueError):
    """A file that is not saved; the message says why, naming the file."""


def accepted_suffixes() -> tuple[str, ...]:
    return tuple(s for s in UPLOAD_SUFFIXES if s in SUFFIXES)


def size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, round(size / 1024))} KB"


def safe_name(name: str, suffixes: Sequence[str] | None = None) -> str:
    """A file name that is safe to create in the corpus folder, from the name a browser sent."""
    suffixes = accepted_suffixes() if suffixes is None else suffixes
    base = re.split(r"[\\/]", name)[-1]
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, suffix = ascii_name.rpartition(".")
    suffix = f".{suffix.lower()}"
    if not dot or suffix not in suffixes:
        raise UploadError(f"{base}: only {', '.join(suffixes)} files can be added")
    stem = _RUNS.sub("-", _UNSAFE.sub("-", stem)).strip("._-")[:MAX_NAME_CHARS].strip("._-")
    return f"{stem or 'article'}{suffix}"


@dataclass(frozen=True)
class Saved:
    file: str  # relative to the corpus folder
    sent_as: str  # the name the browser sent
    created: bool  # False: the same file was already in the corpus
    note: str = ""


def save_upload(corpus_dir: Path, source: Path, sent_as: str) -> Saved:
    """Save one uploaded file into the corpus folder; raises UploadError."""
    corpus_dir = Path(corpus_dir)
    shown = re.split(r"[\\/]", sent_as)[-1]
    name = safe_name(sent_as)
    size = source.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise UploadError(f"{shown} is {size_text(size)}; files of up to {size_text(MAX_UPLOAD_BYTES)} can be added")
    if size == 0:
        raise UploadError(f"{shown} is empty")
    data = source.read_bytes()
    same = _same_file(corpus_dir, data)
    if same is not None:
        return Saved(same, shown, created=False, note=f"already in the corpus as {same}")
    stem, suffix = name[: -len(Path(name).suffix)], Path(name).suffix
    staging = corpus_dir / f".upload-{uuid.uuid4().hex}.part"  # a dot-file: never read as an article
    staging.write_bytes(data)
    try:
        for number in range(1, 1000):
            candidate = name if number == 1 else f"{stem}-{number}{suffix}"
            target = path_in_corpus(corpus_dir, candidate)
            try:
                _link_new(staging, target)
            except FileExistsError:
                continue
            renamed = f"a different file named {name} is already in the corpus: saved as {candidate}"
            note = "" if number == 1 else renamed
            return Saved(candidate, shown, created=True, note=note)
    finally:
        staging.unlink(missing_ok=True)
    raise UploadError(f"{shown}: too many files of that name in the corpus")


def _link_new(staging: Path, target: Path) -> None:
    """Create ``target`` with the content of ``staging``; FileExistsError if it exists (never overwrites)."""
    try:
        os.link(staging, target)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links
        with target.open("xb") as out:
            out.write(staging.read_bytes())


def _same_file(corpus_dir: Path, data: bytes) -> str | None:
    """An article file of the corpus with exactly this content, if there is one."""
    for path in sorted(corpus_dir.rglob("*")):
        if path.suffix.lower() in SUFFIXES and not path.name.startswith(".") and path.is_file():
            try:
                if path.stat().st_size == len(data) and path.read_bytes() == data:
                    return path.relative_to(corpus_dir).as_posix()
            except OSError:
                continue
    return None


@dataclass
class Outcome:
    """What one change from the browser did, for the status line."""

    added: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # messages
    notes: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    report: UpdateReport | None = None
    error: str | None = None


class Library:
    """The corpus folder and its index as the browser changes them: one change at a time."""

    def __init__(self, retriever: Retriever, allow_changes: bool):
        self.retriever = retriever
        self.allow_changes = allow_changes
        self._lock = threading.Lock()

    @property
    def corpus_dir(self) -> Path:
        return self.retriever.corpus_dir

    def manifest(self) -> Manifest:
        self.retriever.refresh()
        return self.retriever.reader.manifest

    # ---- changes

    def add(self, files: Sequence[tuple[Path, str]]) -> Iterator[str]:
        """Save and index ``files`` (path, name sent); yields status HTML as it goes."""
        if not self.allow_changes:
            yield status_html(Outcome(error=CHANGES_OFF))
            return
        if not files:
            yield status_html(Outcome(error="No file was received."))
            return
        outcome = Outcome()
        if len(files) > MAX_UPLOAD_FILES:
            left_out = len(files) - MAX_UPLOAD_FILES
            outcome.refused.append(f"{left_out} files left out: at most {MAX_UPLOAD_FILES} at a time")
            files = files[:MAX_UPLOAD_FILES]
        created = []
        for source, sent_as in files:
            try:
                saved = save_upload(self.corpus_dir, Path(source), sent_as)
            except UploadError as exc:
                outcome.refused.append(str(exc))
                continue
            except OSError as exc:
                log.exception("saving upload %r failed", sent_as)
                outcome.refused.append(f"{sent_as}: cannot be saved ({exc.strerror or exc})")
                continue
            if saved.note:
                outcome.notes.append(f"{saved.sent_as}: {saved.note}")
            if saved.created:
                created.append(saved.file)
        if not created:
            yield status_html(outcome)
            return
        yield from self._reindex(outcome, created)

    def remove(self, file: str) -> Iterator[str]:
        """Delete one article file from the corpus folder, then re-index; yields status HTML."""
        if not self.allow_changes:
            yield status_html(Outcome(error=CHANGES_OFF))
            return
        files = {corpus_file(self.corpus_dir, d) for d in self.manifest().documents}
        if file not in files:
            yield status_html(Outcome(error=f"{file} is not an article of the index (already removed?)."))
            return
        if len(files) == 1:
            yield status_html(Outcome(error=f"{file} is the only article: add another one before removing it."))
            return
        try:
            path = path_in_corpus(self.corpus_dir, file)
            if path.suffix.lower() not in SUFFIXES:
                raise ValueError(f"{file} is not an article file")
            path.unlink(missing_ok=True)
        except (OSError, ValueError) as exc:
            log.exception("removing %r failed", file)
            yield status_html(Outcome(error=f"{file} cannot be removed: {exc}"))
            return
        yield from self._reindex(Outcome(removed=[file]), [])

    def _reindex(self, outcome: Outcome, created: list[str]) -> Iterator[str]:
        """Run the index update in a thread; yield its progress, then the outcome."""
        updates: queue.Queue[str] = queue.Queue()
        warnings = _Collect()
        result: dict[str, UpdateReport | BaseException] = {}

        def progress(report: UpdateReport, done: int, total: int) -> None:
            updates.put(progress_html(report, done, total))

        def work() -> None:
            qa_log = logging.getLogger("qa")
            qa_log.addHandler(warnings)
            try:
                with self._lock:
                    result["report"] = self._update(progress)
            except BaseException as exc:  # reported below, in the page
                result["error"] = exc
            finally:
                qa_log.removeHandler(warnings)
                updates.put("")

        yield status_html(outcome, busy="Waiting for the index…" if self._lock.locked() else "Reading the articles…")
        worker = threading.Thread(target=work, name="qa-upload-index", daemon=True)
        worker.start()
        while True:
            item = updates.get()
            if not item:
                break
            yield item
        worker.join()
        error = result.get("error")
        if isinstance(error, BaseException):
            log.error("indexing after a change from the browser failed: %s", error, exc_info=error)
            outcome.error = f"Indexing failed: {error}. The files are saved: the next change or restart indexes them."
            yield status_html(outcome)
            return
        report = result["report"]
        assert isinstance(report, UpdateReport)
        outcome.report = report
        indexed = {corpus_file(self.corpus_dir, d) for d in self.manifest().documents}
        for file in created:
            if file in indexed:
                outcome.added.append(file)
                continue
            why = dict(report.skipped).get(file) or warnings.about(file) or "no article text could be read from it"
            path_in_corpus(self.corpus_dir, file).unlink(missing_ok=True)  # ours, just saved: not left behind
            outcome.refused.append(f"{file}: not added, {why}")
        yield status_html(outcome)

    def _update(self, progress: Callable[[UpdateReport, int, int], None]) -> UpdateReport:
        retriever = self.retriever
        chunking = ChunkSettings(**retriever.reader.manifest.settings.chunking)
        report = update_index(
            retriever.corpus_dir,
            retriever.store,
            retriever.embedder.model_name,
            retriever.embedder.backend,
            chunking,
            wait_seconds=INDEX_WAIT_SECONDS,
            progress=progress,
        )
        retriever.refresh()
        return report


CHANGES_OFF = (
    "Adding and removing articles is off: this server can be reached from other machines. "
    "Start it with --allow-uploads to turn it on."
)


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
                reason = text.split(file, 1)[1].lstrip(" :,")
                return reason or text
        return None


# ---- what the page shows


def progress_html(report: UpdateReport, done: int, total: int) -> str:
    parts = []
    if report.added:
        parts.append(f"{len(report.added)} new")
    if report.changed:
        parts.append(f"{len(report.changed)} changed")
    if report.removed:
        parts.append(f"{len(report.removed)} removed")
    what = " and ".join(parts) or "no"
    plural = "s" if len(report.added) + len(report.changed) != 1 else ""
    return (
        f'<div class="qa-status qa-busy"><p>Indexing {what} article{plural}: '
        f"{done:,} of {total:,} passages embedded…</p>"
        f'<progress max="{max(total, 1)}" value="{done}"></progress></div>'
    )


def status_html(outcome: Outcome, busy: str | None = None) -> str:
    items = []
    if outcome.added:
        items.append(f"<li>Added: {escape(', '.join(outcome.added))}. Ask about them now.</li>")
    if outcome.removed and outcome.error is None and outcome.report is not None:
        items.append(f"<li>Removed: {escape(', '.join(outcome.removed))}.</li>")
    items += [f"<li>{escape(note)}.</li>" for note in outcome.notes]
    items += [f'<li class="qa-refused">{escape(text)}.</li>' for text in outcome.refused]
    if outcome.error:
        items.append(f'<li class="qa-refused">{escape(outcome.error)}</li>')
    if outcome.report is not None and outcome.report.touched:
        items.append(f'<li class="qa-note">Index: {escape(outcome.report.summary())}.</li>')
    busy_html = f"<p>{escape(busy)}</p><progress></progress>" if busy else ""
    kind = " qa-busy" if busy else ""
    return f'<div class="qa-status{kind}">{busy_html}<ul>{"".join(items)}</ul></div>' if items or busy else ""


def header_html(manifest: Manifest, corpus_dir: Path) -> str:
    """What the page searches: the folder, how many articles and passages, when the index was updated."""
    folder = Path(corpus_dir).resolve().name or str(corpus_dir)
    count = len(manifest.documents)
    updated = time.strftime("%d %b %Y, %H:%M", time.localtime(manifest.created)) if manifest.created else "unknown"
    return (
        '<div class="qa-header"><h1>Ask the news articles</h1>'
        f'<p class="qa-searching">Searching <b>{count:,} article{"s" if count != 1 else ""}</b> '
        f"({manifest.passage_count:,} passages) in the folder <code>{escape(folder)}</code> · "
        f"index updated {escape(updated)}</p>"
        '<p class="qa-how">Ask in English or French. Every answer is quoted from the articles, with numbered '
        "citations: click one to read the article at that place. A follow-up question uses your previous one.</p></div>"
    )


def articles_html(manifest: Manifest, corpus_dir: Path, can_remove: bool) -> str:
    """The articles of the index, one row per file: title (opens it), file, passages, Remove."""
    files: dict[str, list[tuple[str, str, int]]] = {}
    for doc_id, entry in manifest.documents.items():
        files.setdefault(corpus_file(corpus_dir, doc_id), []).append((doc_id, entry.title, len(entry.passage_ids)))
    rows = []
    for file in sorted(files)[:MAX_LISTED]:
        docs = sorted(files[file])
        doc_id, title, _ = docs[0]
        label = title if len(docs) == 1 else f"{title} (and {len(docs) - 1} more records)"
        passages = sum(n for *_, n in docs)
        href = f"#qa:doc:{quote(doc_id, safe='')}"
        link = f'<a class="qa-act" href="{href}" title="Open this article">{escape(label)}</a>'
        remove = ""
        if can_remove:
            what = f"Remove {file} from the corpus folder and the index"
            remove = (
                f'<a class="qa-act qa-remove" role="button" href="#qa:remove:{quote(file, safe="")}" '
                f'title="{escape(what)}">Remove</a>'
            )
        rows.append(
            f'<tr><td class="qa-list-title">{link}<div class="qa-meta">{escape(file)}</div></td>'
            f'<td class="qa-list-n">{passages:,}</td><td class="qa-list-act">{remove}</td></tr>'
        )
    more = len(files) - MAX_LISTED
    tail = f'<p class="qa-note">… and {more:,} more files.</p>' if more > 0 else ""
    if not rows:
        return '<p class="qa-note">The index holds no article yet.</p>'
    return (
        '<table class="qa-list"><thead><tr><th>Article</th><th>Passages</th><th></th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{tail}"
    )
