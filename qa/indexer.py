"""Bringing an index up to date with its corpus, re-embedding only what changed."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from .chunking import ChunkSettings, Passage, chunk_documents
from .corpus import CorpusError, Document, load_corpus
from .embedding import DEFAULT_MODEL, Embedder
from .index import Index, IndexUnusable, IndexMissing

log = logging.getLogger(__name__)

LOCK_FILE = ".lock"


class IndexBusy(RuntimeError):
    """Another process is writing this index."""


@dataclass
class UpdateReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    passages_embedded: int = 0
    rebuilt_because: str | None = None  # set when the old index could not be reused
    seconds: dict[str, float] = field(default_factory=dict)
    index: Index | None = field(default=None, repr=False)  # what the folder now holds, already loaded

    @property
    def touched(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.rebuilt_because)

    def summary(self) -> str:
        line = (
            f"+{len(self.added)} added, ~{len(self.changed)} changed, "
            f"-{len(self.removed)} removed, {self.unchanged} unchanged"
        )
        if self.rebuilt_because:
            line = f"full rebuild ({self.rebuilt_because}): {line}"
        return line


@contextmanager
def index_lock(index_dir: Path, wait_seconds: float) -> Iterator[None]:
    """Serialise the writers of one index folder; a second writer waits, then gives up clearly."""
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(Path(index_dir) / LOCK_FILE), timeout=wait_seconds)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("another `qa index` is writing %s; waiting for it (lock %s)", index_dir, lock.lock_file)
        try:
            lock.acquire()
        except Timeout as exc:
            raise IndexBusy(
                f"{index_dir} is locked by another `qa index` run (lock file {lock.lock_file}); "
                f"gave up after {wait_seconds:.0f} s"
            ) from exc
    try:
        yield
    finally:
        lock.release()


def update_index(
    corpus_dir: Path,
    index_dir: Path,
    model_name: str = DEFAULT_MODEL,
    settings: ChunkSettings = ChunkSettings(),
    full: bool = False,
    show_progress: bool = False,
    wait_seconds: float = 600.0,
) -> UpdateReport:
    """Make the index in ``index_dir`` match the articles of ``corpus_dir``.

    Only added and changed documents go through the model; the rest keep their
    vectors. The result is written as a new generation, so the previous index
    stays in use until the new one is complete.
    """
    with index_lock(index_dir, wait_seconds):  # read the corpus only once it is our turn
        started = time.perf_counter()
        documents = load_corpus(Path(corpus_dir))
        if not documents:
            raise CorpusError(f"no readable article (.txt, .md) in {corpus_dir}")
        read_seconds = time.perf_counter() - started
        report = _update_locked(documents, Path(index_dir), model_name, settings, full, show_progress)
    report.seconds["read_and_hash"] = read_seconds
    return report


def index_documents(
    documents: list[Document],
    index_dir: Path,
    model_name: str = DEFAULT_MODEL,
    settings: ChunkSettings = ChunkSettings(),
    full: bool = False,
    show_progress: bool = False,
    wait_seconds: float = 600.0,
) -> UpdateReport:
    """Make the index in ``index_dir`` hold exactly ``documents`` (see ``update_index``)."""
    with index_lock(index_dir, wait_seconds):
        return _update_locked(documents, Path(index_dir), model_name, settings, full, show_progress)


def _update_locked(
    documents: list[Document], index_dir: Path, model_name: str, settings: ChunkSettings, full: bool, show_progress: bool
) -> UpdateReport:
    report = UpdateReport()
    old, report.rebuilt_because = _reusable_index(index_dir, model_name, settings, full)
    known = old.manifest.documents if old else {}
    current = {d.doc_id: d for d in documents}
    report.added = sorted(set(current) - set(known))
    report.changed = sorted(d for d in set(current) & set(known) if known[d].content_hash != current[d].content_hash)
    report.removed = sorted(set(known) - set(current))
    report.unchanged = len(current) - len(report.added) - len(report.changed)
    if old is not None and not report.touched:
        report.index = old
        return report

    started = time.perf_counter()
    embedder = Embedder(model_name)
    report.seconds["model_load"] = time.perf_counter() - started
    if old is None:
        old = Index.empty(model_name, embedder.dim, settings.as_dict())

    to_embed = [current[d] for d in report.added + report.changed]
    started = time.perf_counter()
    passages = chunk_documents(to_embed, settings)
    vectors, sentence_vectors = embed_passages(embedder, passages, show_progress)
    report.passages_embedded = len(passages)
    report.seconds["embed"] = time.perf_counter() - started

    started = time.perf_counter()
    new_index = old.changed(
        removed_docs=set(report.changed) | set(report.removed),
        new_passages=passages,
        new_vectors=vectors,
        new_sentence_vectors=sentence_vectors,
        documents={d.doc_id: (d.content_hash, d.title) for d in documents},
    )
    new_index.save(index_dir)
    report.seconds["index_write"] = time.perf_counter() - started
    report.index = new_index
    return report


def _reusable_index(
    index_dir: Path, model_name: str, settings: ChunkSettings, full: bool
) -> tuple[Index | None, str | None]:
    """The existing index if it can be updated in place, else (None, why not)."""
    if full:
        return None, "--full asked"
    try:
        old = Index.load(index_dir)
    except IndexMissing:
        return None, None
    except IndexUnusable as exc:
        log.warning("existing index unusable, rebuilding: %s", exc)
        return None, f"existing index unusable: {exc}"
    why = old.manifest.incompatibility(model_name, settings.as_dict())
    if why:
        log.warning("rebuilding the index: %s", why)
        return None, why
    return old, None


def embed_passages(embedder: Embedder, passages: list[Passage], show_progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """Passage vectors (title + text, so a passage knows its article) and sentence vectors."""
    passage_texts = [p.titled_text for p in passages]
    sentence_texts = [p.text[s:e] for p in passages for s, e in p.sentences]
    vectors = embedder.encode_documents(passage_texts + sentence_texts, show_progress=show_progress)
    return vectors[: len(passages)], vectors[len(passages) :]

