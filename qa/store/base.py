"""What every store of passages and vectors provides: the :class:`Store` protocol.

A store keeps, for each indexed article, its passages with their vectors
(passage, sentences, word pieces) and a manifest saying how they were made.
Two sides:

- a :class:`StoreWriter` (one at a time, under the store's lock) adds and
  removes whole articles, then commits; nothing is visible before the commit,
  and a crash before it leaves the previous version in use;
- a :class:`StoreReader` is one consistent version, for answering questions:
  each question costs one batched read for its candidates and one for the
  word pieces of the few it reranks.

``tests/store_conformance.py`` holds the tests every store must pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import Protocol

import numpy as np

from ..chunking import Passage
from ..embed import Pieces, family_of
from .documents import Columns, DocumentEntry, DocumentTable, columns_of, content_hashes, passage_counts

FORMAT_VERSION = 5  # 5: word pieces in the format the settings name (qa.store.piece_formats), 4: vectors per segment
READABLE_FORMATS = (3, 4, 5)


class IndexUnusable(RuntimeError):
    """Base class: the index cannot be used as it is; ``qa index`` rebuilds it."""


class IndexMissing(IndexUnusable):
    pass


class IndexCorrupt(IndexUnusable):
    pass


class IndexMismatch(IndexUnusable):
    """Built with another model, chunking, family of backends (qa.embed.FAMILIES) or format than asked for."""


class IndexBusy(RuntimeError):
    """Another process is writing this index."""


class StoreUnavailable(RuntimeError):
    """The store cannot be reached (a database that is down, refuses the login, …)."""


class StoreLocationError(ValueError):
    """The location given for the index cannot hold one (empty, or a folder of other things)."""


@dataclass(frozen=True)
class IndexSettings:
    """How the vectors were made. An index answers the questions of any backend of its family
    (qa.embed.FAMILIES: int8 ONNX and torch float32 read the same weights) for the same model,
    dimension and chunking."""

    model: str
    family: str  # what made the vectors: "model weights" (onnx, torch), "hashed words" (hash)
    backend: str  # the fingerprint of the backend that wrote this version, e.g. "onnx:onnx/model_qint8_avx2.onnx"
    dim: int
    chunking: dict
    format_version: int = FORMAT_VERSION
    # how new word pieces are kept (qa.store.piece_formats); "" when made: the format for the model and
    # dimension. Pieces stored in another format stay readable: each segment or row names its own.
    pieces: str = ""

    def __post_init__(self) -> None:
        if not self.pieces:
            from .piece_formats import format_for  # here: that module's imports lead back to this one

            object.__setattr__(self, "pieces", format_for(self.model, self.family, self.dim).name)

    @classmethod
    def from_dict(cls, data: dict) -> IndexSettings:
        """Settings as stored; those written before the family was recorded get their backend's, and those
        written before the piece formats, int8. Raises TypeError or KeyError on anything else."""
        return cls(**{"family": family_of(str(data["backend"])), "pieces": "int8", **data})

    def incompatibility(self, wanted: IndexSettings) -> str | None:
        """Why an index made with these settings cannot serve ``wanted`` (None if it can)."""
        if self.format_version not in READABLE_FORMATS:
            *earlier, last = map(str, READABLE_FORMATS)
            readable = f"{', '.join(earlier)} and {last}" if earlier else last
            return f"index format {self.format_version}, this version reads {readable}"
        if self.model != wanted.model:
            return f"index built with model {self.model!r}, asked for {wanted.model!r}"
        if self.family != wanted.family or self.dim != wanted.dim:
            return (
                f"index built with the {self.backend!r} backend ({self.family}, dimension {self.dim}), "
                f"asked for the {wanted.backend!r} backend ({wanted.family}, dimension {wanted.dim})"
            )
        if self.chunking != wanted.chunking:
            return f"index built with chunking {self.chunking}, asked for {wanted.chunking}"
        return None


@dataclass
class Manifest:
    """What an index version holds: its settings and, for each article, its passages."""

    settings: IndexSettings
    # a DocumentTable when read from JSON: its entries are made when asked for (qa.store.documents)
    documents: Mapping[str, DocumentEntry] = field(default_factory=dict)
    created: float = 0.0
    extra: dict = field(default_factory=dict)  # store-specific bookkeeping (files, checksums, …)

    @property
    def passage_count(self) -> int:
        return sum(count for _, count in passage_counts(self.documents))

    def date_of(self, doc_id: str) -> str | None:
        """The date of an article of this version (None: it has none, or is not here)."""
        entry = self.documents.get(doc_id)
        return entry.date if entry is not None else None

    def content_hashes(self) -> dict[str, str]:
        """doc_id → content hash of every article (what an update compares the corpus with)."""
        return content_hashes(self.documents)

    def to_json(self) -> str:
        """The manifest as JSON, articles in columns (at 10^5 articles, a column of strings
        reads several times faster than an object per article)."""
        data = {
            "settings": asdict(self.settings),
            "documents": columns_of(self.documents).as_dict(),
            "created": self.created,
            "extra": self.extra,
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Raises ValueError, KeyError or TypeError on anything that is not a manifest."""
        data = json.loads(text)
        columns = data["documents"]
        documents: Mapping[str, DocumentEntry]
        if "ids" in columns:
            names = ("ids", "hashes", "titles", "passages")
            if not all(set(map(type, columns[name])) <= {str} for name in names):
                raise TypeError("the manifest's document columns hold something other than strings")
            dates = columns.get("dates", [None] * len(columns["ids"]))  # none before dates were kept
            if not set(map(type, dates)) <= {str, type(None)}:
                raise TypeError("the manifest's dates hold something other than strings")
            ids, hashes, titles, passages = (columns[name] for name in names)
            documents = DocumentTable(Columns(ids, hashes, titles, passages, dates))
        else:  # written before the columns: {doc_id: [hash, title, [passage ids]]}
            documents = {d: DocumentEntry(str(h), str(t), tuple(map(str, p))) for d, (h, t, p) in columns.items()}
        return cls(
            settings=IndexSettings.from_dict(data["settings"]),
            documents=documents,
            created=float(data["created"]),
            extra=dict(data["extra"]),
        )


@dataclass(frozen=True)
class EncodedPassage:
    """A passage with everything the model made of it, ready to store."""

    passage: Passage
    vector: np.ndarray  # (dim,) normalised: passage with its title
    sentence_vectors: np.ndarray  # (len(passage.sentences), dim) normalised, pooled from the passage's own pass
    pieces: Pieces  # word pieces of ``passage.titled_text``


@dataclass(frozen=True)
class Repair:
    """Stored articles a writer found damaged or incomplete, and dropped: the run writes them again."""

    doc_ids: frozenset[str]
    reason: str  # what was found, for the report: "segments/seg-…/pieces.i8 does not match its checksum"


@dataclass(frozen=True)
class Candidate:
    """A passage found for a question, with the evidence the store holds about it."""

    key: int  # the store's handle of the passage (``passage_key``)
    passage: Passage
    dense: float  # cosine of the question and the passage vector
    sentence_vectors: np.ndarray  # (len(passage.sentences), dim)


@dataclass(frozen=True)
class KeywordHits:
    keys: np.ndarray  # passages with at least one word of the question, best first
    scores: np.ndarray  # BM25 divided by the best, times ``coverage``
    coverage: float  # share of the question's words found in the indexed texts


def passage_key(passage_id: str) -> int:
    """The int64 handle of a passage (its hex id, kept positive)."""
    return int(passage_id, 16) >> 1


class StoreReader(Protocol):
    """One consistent version of the index, for answering questions."""

    manifest: Manifest
    version: str

    def __len__(self) -> int: ...

    def search(self, query: np.ndarray, k: int, also: Sequence[int] = ()) -> list[Candidate]:
        """The ``k`` passages nearest to ``query`` and those named in ``also``, nearest first."""
        ...

    def keyword_search(self, question: str, k: int) -> KeywordHits: ...

    def pieces(self, keys: Sequence[int]) -> list[Pieces]:
        """The stored word pieces of these passages, in the same order."""
        ...

    def piece_idf(self) -> np.ndarray:
        """Inverse document frequency of every token id over the passages (last slot: unknown ids)."""
        ...

    def passages(self, keys: Sequence[int] | None = None) -> Iterator[Passage]:
        """These passages (every passage when None), in that order."""
        ...


class StoreWriter(Protocol):
    """Changes to the index, invisible to readers until :meth:`commit`."""

    base: Manifest | None  # what the store held when writing started and can keep (None: empty or rebuilt)
    rebuilt_because: str | None  # why the stored index could not be kept, if it was not
    repair: Repair | None  # articles left out of ``base`` because their stored data is damaged or incomplete

    def add(
        self,
        doc_id: str,
        content_hash: str,
        title: str,
        passages: Sequence[EncodedPassage],
        date: str | None = None,
    ) -> None:
        """One whole article (it replaces an earlier version of it); ``date``: its date, ISO."""
        ...

    def remove(self, doc_ids: Iterable[str]) -> None: ...

    def commit(self) -> str:
        """Make every change visible at once; returns the new version."""
        ...


class Store(Protocol):
    location: str  # where it is, for messages (never holds a password)

    def current_version(self) -> str | None:
        """Cheap: the version a reader opened now would see (None when there is no index)."""
        ...

    def read_manifest(self) -> Manifest | None: ...

    def open_reader(self) -> StoreReader:
        """Raises IndexMissing when there is no index, IndexCorrupt when it is damaged."""
        ...

    def writer(
        self, settings: IndexSettings, rebuild: bool = False, wait_seconds: float = 600.0
    ) -> AbstractContextManager[StoreWriter]:
        """Exclusive writing: a second writer waits up to ``wait_seconds``, then raises IndexBusy.
        With ``rebuild`` (or when the stored index is unusable) the writer starts from an empty index."""
        ...
