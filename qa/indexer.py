"""Bringing an index up to date with its corpus, re-embedding only what changed.

ingest (read, clean) → chunk → embed → store: this module is the "embed"
step and the loop that drives the others for one indexing run.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tqdm import tqdm

from . import limits
from .chunking import ChunkSettings, Passage, chunk_document
from .embed import DEFAULT_BACKEND, DEFAULT_DEVICE, DEFAULT_MODEL, Embedder, Pieces, family_of, get_embedder
from .file_stamps import CorpusStamps, StampsFile
from .ingest import Corpus, CorpusError, Document, load_corpus
from .ingest.line_map import LineMap
from .store import EncodedPassage, IndexSettings, Store, open_store

log = logging.getLogger(__name__)

BATCH_PASSAGES = 256  # passages embedded, then written, at a time

# Told how a run goes: the report so far (added, changed, removed known), passages embedded, passages to embed.
# Called once before embedding starts (0 done), then after each batch.
Progress = Callable[["UpdateReport", int, int], None]


class IdentifiedModel(Protocol):
    """What an index records of the model that embeds it: an :class:`Embedder`, or a description of one
    loaded elsewhere (qa.model_process)."""

    @property
    def model_name(self) -> str: ...
    @property
    def backend(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def dim(self) -> int: ...


class EmbeddingRunner(Protocol):
    """Where the model passes run: here (:class:`LocalRunner`), in a process of their own
    (qa.model_process.ModelProcessRunner) or on a cluster (qa.cluster.RayRunner). ``load`` is how this
    run loads its model (picklable: a cluster's workers call it too); ``model`` says which model embeds,
    before the run opens its index; ``encode`` gives the encoded passages of each group, in the order
    of ``groups``; ``close`` frees what it holds (a process of its own) once the run is over."""

    def model(self, load: Callable[[], Embedder]) -> IdentifiedModel: ...

    def encode(
        self, load: Callable[[], Embedder], groups: Iterable[Sequence[Passage]]
    ) -> Iterator[list[EncodedPassage]]: ...

    def close(self) -> None: ...


class LocalRunner:
    def model(self, load: Callable[[], Embedder]) -> IdentifiedModel:
        return load()

    def encode(
        self, load: Callable[[], Embedder], groups: Iterable[Sequence[Passage]]
    ) -> Iterator[list[EncodedPassage]]:
        embedder = load()
        for passages in groups:
            yield encode_passages(embedder, passages)

    def close(self) -> None:
        """Nothing to free: the model is this process's cached one."""


@dataclass
class UpdateReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # stored damaged or incomplete: embedded again
    repaired_because: str | None = None  # what was wrong with them (qa.store.Repair.reason)
    unchanged: int = 0
    passages_embedded: int = 0
    rebuilt_because: str | None = None  # set when the old index could not be reused
    version: str | None = None  # the store's version after the run
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why) not indexed: see qa.ingest.Corpus
    boilerplate: str = ""  # what was removed as site boilerplate (BoilerplateReport.summary())

    @property
    def touched(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.rebuilt_because or self.repaired_because)

    def summary(self) -> str:
        line = (
            f"+{len(self.added)} added, ~{len(self.changed)} changed, "
            f"-{len(self.removed)} removed, {self.unchanged} unchanged"
        )
        if self.repaired:
            line += f", {len(self.repaired)} repaired"
        if self.repaired_because:
            line += f" ({self.repaired_because})"
        if self.rebuilt_because:
            line = f"full rebuild ({self.rebuilt_because}): {line}"
        return line


def index_settings(embedder: IdentifiedModel, chunking: ChunkSettings) -> IndexSettings:
    """What an index built now with ``embedder`` records, and what a reader checks."""
    return IndexSettings(
        model=embedder.model_name,
        family=family_of(embedder.backend),
        backend=embedder.fingerprint,
        dim=embedder.dim,
        chunking=chunking.as_dict(),
    )


def update_index(
    corpus_dir: Path,
    store: Store | str | Path,
    model: str = DEFAULT_MODEL,
    backend: str = DEFAULT_BACKEND,
    chunking: ChunkSettings = ChunkSettings(),
    full: bool = False,
    show_progress: bool = False,
    wait_seconds: float = 600.0,
    max_file_bytes: int | None = None,
    progress: Progress | None = None,
    device: str = DEFAULT_DEVICE,
    runner: EmbeddingRunner | None = None,
) -> UpdateReport:
    """Make the index in ``store`` match the articles of ``corpus_dir``.

    Only added and changed articles go through the model; the rest keep their
    vectors. Files are read only when their size or times changed since the
    run that wrote the index in use took them, and their bytes too
    (qa.file_stamps); ``full`` reads and embeds everything again. Nothing is
    visible until the whole run is committed, so the previous index stays in
    use until the new one is complete. Files over ``max_file_bytes``
    (default: qa.limits.MAX_FILE_BYTES) are skipped.
    ``progress``, when given, is told how the run goes (see :data:`Progress`). ``device``: where
    the torch backend runs (qa.embed.DEVICES). ``runner``: where the model runs (default: here).
    """
    if not Path(corpus_dir).is_dir():  # before taking the store's lock (which creates its folder)
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    limit = limits.MAX_FILE_BYTES if max_file_bytes is None else max_file_bytes
    read = functools.partial(_read_corpus, Path(corpus_dir), limit)
    stamps = functools.partial(StampsFile, str(Path(corpus_dir).resolve()), max_file_bytes=limit)
    load = functools.partial(get_embedder, model, backend, device)
    return _run(read, stamps, store, load, chunking, full, show_progress, wait_seconds, progress, runner)


def index_documents(
    documents: Sequence[Document],
    store: Store | str | Path,
    model: str = DEFAULT_MODEL,
    backend: str = DEFAULT_BACKEND,
    chunking: ChunkSettings = ChunkSettings(),
    full: bool = False,
    show_progress: bool = False,
    wait_seconds: float = 600.0,
    device: str = DEFAULT_DEVICE,
) -> UpdateReport:
    """Make the index in ``store`` hold exactly ``documents`` (see :func:`update_index`)."""
    load = functools.partial(get_embedder, model, backend, device)
    return _run(
        lambda _known, _unchanged: list(documents), None, store, load, chunking, full, show_progress, wait_seconds, None
    )


def _read_corpus(corpus_dir: Path, max_file_bytes: int, known: dict[str, str], stamps: CorpusStamps) -> Corpus:
    corpus = load_corpus(corpus_dir, max_file_bytes, known, stamps.unchanged, stamps.line_maps)
    if not corpus.documents and not corpus.unchanged:
        raise CorpusError(f"no readable article in {corpus_dir}")
    return corpus


def _run(
    read, stamps_file, store, load, chunking, full, show_progress, wait_seconds, progress, runner=None
) -> UpdateReport:
    runner = runner or LocalRunner()
    embedder = runner.model(load)  # before the store: a runner may load it elsewhere meanwhile
    store = open_store(store)
    report = UpdateReport()
    with store.writer(index_settings(embedder, chunking), rebuild=full, wait_seconds=wait_seconds) as writer:
        known = writer.base.content_hashes() if writer.base else {}
        where: StampsFile | None = stamps_file(store.location) if stamps_file else None
        stamps = where.load(known) if where and writer.base is not None else CorpusStamps({})
        corpus = read(known, stamps)  # read only once it is our turn to write
        unread: dict[str, str] = {}  # recognised by their hash without being read: unchanged
        line_maps = {}
        if isinstance(corpus, Corpus):
            line_maps = corpus.line_maps
            report.skipped = list(corpus.skipped)
            report.boilerplate = corpus.boilerplate.summary() if corpus.boilerplate is not None else stamps.boilerplate
            documents, unread = corpus.documents, corpus.unchanged
        else:
            documents = corpus
        report.rebuilt_because = writer.rebuilt_because
        repair = writer.repair  # left out of writer.base, so read again above
        read_now = {d.doc_id: d for d in documents}
        current = {**unread, **{d: doc.content_hash for d, doc in read_now.items()}}
        report.repaired = sorted(repair.doc_ids & current.keys()) if repair else []
        report.repaired_because = repair.reason if repair else None
        report.added = sorted(current.keys() - known.keys() - set(report.repaired))
        report.changed = sorted(d for d, digest in current.items() if known.get(d, digest) != digest)
        report.removed = sorted(known.keys() - current.keys())
        report.unchanged = len(current) - len(report.added) - len(report.changed) - len(report.repaired)
        if writer.base is not None and not report.touched:
            _remember(where, stamps, report, current, line_maps)
            return report

        writer.remove(report.removed)
        to_embed = [read_now[d] for d in report.added + report.changed + report.repaired]
        chunked = [(doc, chunk_document(doc, chunking)) for doc in to_embed]
        total = sum(len(passages) for _, passages in chunked)
        desc = f"embedding {total:,} passages from {len(to_embed):,} articles"
        done = 0
        if progress is not None:
            progress(report, done, total)
        groups = list(_batches(chunked))
        runs = runner.encode(load, ([p for _, ps in group for p in ps] for group in groups))
        with tqdm(total=total, desc=desc, unit="passage", disable=not show_progress) as bar:
            for group, group_encoded in zip(groups, runs, strict=True):
                encoded = iter(group_encoded)
                for doc, passages in group:
                    writer.add(doc.doc_id, doc.content_hash, doc.title, [next(encoded) for _ in passages], doc.date)
                bar.update(sum(len(passages) for _, passages in group))
                done += sum(len(passages) for _, passages in group)
                if progress is not None:
                    progress(report, done, total)
        report.passages_embedded = total
        report.version = writer.commit()
    _remember(where, stamps, report, current, line_maps)
    return report


def _remember(
    where: StampsFile | None,
    stamps: CorpusStamps,
    report: UpdateReport,
    held: dict[str, str],
    line_maps: dict[str, LineMap],
) -> None:
    """Keep the stamps of the files read or kept unread, but for those skipped (read again, to say why),
    with the maps of their collections; ``held``: the articles the index holds now."""
    if where is None:
        return
    skipped = {name for name, _ in report.skipped}
    skipped |= {name.rpartition(" line ")[0] for name in skipped if name.rpartition(" line ")[2].isdigit()}
    where.save(held, {rel: s for rel, s in stamps.taken.items() if rel not in skipped}, report.boilerplate, line_maps)


def _batches(chunked: list[tuple[Document, list[Passage]]]):
    """Whole articles, about ``BATCH_PASSAGES`` passages at a time."""
    group: list[tuple[Document, list[Passage]]] = []
    size = 0
    for item in chunked:
        group.append(item)
        size += len(item[1])
        if size >= BATCH_PASSAGES:
            yield group
            group, size = [], 0
    if group:
        yield group


def encode_passages(embedder: Embedder, passages: Sequence[Passage]) -> list[EncodedPassage]:
    """One model pass per passage (title and text) gives its vector, its sentence vectors
    (each sentence's tokens pooled in the context of the passage) and its word pieces."""
    encoded = []
    for passage, tokens in zip(passages, embedder.encode_documents([p.titled_text for p in passages]), strict=True):
        shift = len(passage.titled_text) - len(passage.text)
        encoded.append(
            EncodedPassage(
                passage=passage,
                vector=tokens.vector,
                sentence_vectors=tokens.span_vectors([(s + shift, e + shift) for s, e in passage.sentences]),
                pieces=Pieces.of(tokens, embedder.word_piece_mask),
            )
        )
    return encoded
