"""The persisted search index: FAISS vectors, passage metadata and a manifest.

Layout of an index folder::

    embeddings/
      CURRENT              name of the generation in use, replaced atomically
      gen-<stamp>/         one complete, immutable index
        manifest.json      model, settings, documents, file checksums
        passages.jsonl     one passage per line, in sentence-vector order
        vectors.faiss      IndexIDMap2(IndexFlatIP): passage vectors by passage key
        sentences.npy      one vector per sentence of every passage

A new index is always written into a fresh generation folder and only then
named in ``CURRENT`` (``os.replace``), so readers never see a half-written
index and a crash leaves the previous generation in use.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import faiss
import numpy as np

from .chunking import Passage
from .lexical import LexicalIndex

FORMAT_VERSION = 1
POINTER = "CURRENT"
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
VECTORS = "vectors.faiss"
SENTENCES = "sentences.npy"
KEEP_GENERATIONS = 2  # the current one and its predecessor (a reader may still be loading it)


class IndexUnusable(RuntimeError):
    """Base class: the index cannot be used as it is; ``qa index`` rebuilds it."""


class IndexMissing(IndexUnusable):
    pass


class IndexCorrupt(IndexUnusable):
    pass


class IndexMismatch(IndexUnusable):
    """Built with another model, chunking or format than the one asked for."""


@dataclass(frozen=True)
class DocumentEntry:
    content_hash: str
    title: str
    passage_ids: tuple[str, ...]


@dataclass
class Manifest:
    model: str
    dim: int
    chunking: dict
    documents: dict[str, DocumentEntry] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    created: float = 0.0

    def to_json(self) -> str:
        data = asdict(self)
        data["documents"] = {k: asdict(v) for k, v in self.documents.items()}
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        data["documents"] = {
            k: DocumentEntry(v["content_hash"], v["title"], tuple(v["passage_ids"]))
            for k, v in data["documents"].items()
        }
        return cls(**data)

    def incompatibility(self, model: str, chunking: dict) -> str | None:
        """Why an index with this manifest cannot serve ``model``/``chunking`` (None if it can)."""
        if self.format_version != FORMAT_VERSION:
            return f"index format {self.format_version}, this version reads {FORMAT_VERSION}"
        if self.model != model:
            return f"index built with model {self.model!r}, asked for {model!r}"
        if self.chunking != chunking:
            return f"index built with chunking {self.chunking}, asked for {chunking}"
        return None


def faiss_key(passage_id: str) -> int:
    """The int64 FAISS id of a passage (its hex id, kept positive)."""
    return int(passage_id, 16) >> 1


@dataclass
class Index:
    """Passages with their vectors, searchable by cosine similarity."""

    manifest: Manifest
    passages: list[Passage]
    vectors: faiss.Index  # IndexIDMap2 over passage vectors, keyed by ``faiss_key``
    sentence_vectors: np.ndarray  # rows follow ``passages``, ``len(p.sentences)`` rows each
    generation: str = ""

    def __post_init__(self) -> None:
        self._row_of_key = {faiss_key(p.passage_id): i for i, p in enumerate(self.passages)}
        counts = np.array([len(p.sentences) for p in self.passages], dtype=np.int64)
        self._sentence_start = np.concatenate([[0], np.cumsum(counts)])

    @classmethod
    def empty(cls, model: str, dim: int, chunking: dict) -> Index:
        return cls(
            manifest=Manifest(model=model, dim=dim, chunking=chunking),
            passages=[],
            vectors=faiss.IndexIDMap2(faiss.IndexFlatIP(dim)),
            sentence_vectors=np.zeros((0, dim), dtype=np.float32),
        )

    @functools.cached_property
    def lexical(self) -> LexicalIndex:
        """BM25 over the passages, built once per loaded index (a Retriever builds it on load)."""
        return LexicalIndex([p.titled_text for p in self.passages])

    def __len__(self) -> int:
        return len(self.passages)

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(passage row, cosine score) of the ``k`` nearest passages, best first."""
        if not self.passages or k <= 0:
            return []
        scores, keys = self.vectors.search(query_vector.reshape(1, -1), min(k, len(self.passages)))
        return [(self._row_of_key[int(key)], float(s)) for s, key in zip(scores[0], keys[0]) if key >= 0]

    def sentence_vectors_of(self, row: int) -> np.ndarray:
        return self.sentence_vectors[self._sentence_start[row] : self._sentence_start[row + 1]]

    def passage_vector(self, row: int) -> np.ndarray:
        return self.vectors.reconstruct(faiss_key(self.passages[row].passage_id))

    def changed(
        self,
        removed_docs: set[str],
        new_passages: list[Passage],
        new_vectors: np.ndarray,
        new_sentence_vectors: np.ndarray,
        documents: dict[str, tuple[str, str]],
    ) -> Index:
        """A new index without the passages of ``removed_docs`` and with the new ones.

        ``documents`` maps every document of the corpus to (content hash, title).
        Removal goes through FAISS's id map; kept vectors are never re-computed.
        """
        keep = [i for i, p in enumerate(self.passages) if p.doc_id not in removed_docs]
        dropped = [faiss_key(p.passage_id) for p in self.passages if p.doc_id in removed_docs]
        vectors = faiss.clone_index(self.vectors)
        if dropped:
            vectors.remove_ids(np.array(dropped, dtype=np.int64))
        if new_passages:
            keys = np.array([faiss_key(p.passage_id) for p in new_passages], dtype=np.int64)
            vectors.add_with_ids(new_vectors, keys)
        kept_sentences = [self.sentence_vectors_of(i) for i in keep]
        passages = [self.passages[i] for i in keep] + list(new_passages)
        ids: dict[str, list[str]] = {}
        for p in passages:
            ids.setdefault(p.doc_id, []).append(p.passage_id)
        manifest = Manifest(
            model=self.manifest.model,
            dim=self.manifest.dim,
            chunking=self.manifest.chunking,
            documents={
                doc_id: DocumentEntry(content_hash, title, tuple(ids.get(doc_id, ())))
                for doc_id, (content_hash, title) in documents.items()
            },
        )
        return Index(
            manifest=manifest,
            passages=passages,
            vectors=vectors,
            sentence_vectors=np.concatenate(
                kept_sentences + [new_sentence_vectors], axis=0
            ).astype(np.float32, copy=False),
        )

    # --- persistence -------------------------------------------------------

    def save(self, index_dir: Path) -> str:
        """Write a new generation and make it current; returns its name."""
        index_dir = Path(index_dir)
        index_dir.mkdir(parents=True, exist_ok=True)
        name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        staging = index_dir / f".{name}.tmp"
        staging.mkdir()
        with open(staging / PASSAGES, "w", encoding="utf-8") as f:
            for p in self.passages:
                f.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")
        faiss.write_index(self.vectors, str(staging / VECTORS))
        np.save(staging / SENTENCES, self.sentence_vectors)
        self.manifest.files = {n: _sha256(staging / n) for n in (PASSAGES, VECTORS, SENTENCES)}
        self.manifest.created = time.time()
        (staging / MANIFEST).write_text(self.manifest.to_json(), encoding="utf-8")
        _fsync_tree(staging)
        os.replace(staging, index_dir / name)
        _write_atomically(index_dir / POINTER, name + "\n")
        self.generation = name
        _prune(index_dir, keep=name)
        return name

    @classmethod
    def load(cls, index_dir: Path) -> Index:
        """Load the current generation, checking every file against the manifest."""
        index_dir = Path(index_dir)
        generation = current_generation(index_dir)
        if generation is None:
            raise IndexMissing(f"no index in {index_dir} (run `qa index` to build it)")
        folder = index_dir / generation
        manifest = read_manifest(index_dir, generation)
        for name in (PASSAGES, VECTORS, SENTENCES):
            path = folder / name
            if not path.is_file():
                raise IndexCorrupt(f"{path}: missing")
            if manifest.files.get(name) != _sha256(path):
                raise IndexCorrupt(f"{path}: content does not match the manifest (damaged or edited)")
        try:
            with open(folder / PASSAGES, encoding="utf-8") as f:
                passages = [_passage_from_json(line) for line in f]
            vectors = faiss.read_index(str(folder / VECTORS))
            sentence_vectors = np.load(folder / SENTENCES, allow_pickle=False)
        except (ValueError, KeyError, TypeError, RuntimeError, OSError) as exc:
            raise IndexCorrupt(f"{folder}: unreadable ({exc})") from exc
        if vectors.ntotal != len(passages) or vectors.d != manifest.dim:
            raise IndexCorrupt(
                f"{folder / VECTORS}: {vectors.ntotal} vectors of dimension {vectors.d} "
                f"for {len(passages)} passages of dimension {manifest.dim}"
            )
        if sentence_vectors.shape != (sum(len(p.sentences) for p in passages), manifest.dim):
            raise IndexCorrupt(f"{folder / SENTENCES}: shape {sentence_vectors.shape} disagrees with the passages")
        listed = {pid for entry in manifest.documents.values() for pid in entry.passage_ids}
        if listed != {p.passage_id for p in passages}:
            raise IndexCorrupt(f"{folder / MANIFEST}: document list disagrees with {PASSAGES}")
        index = cls(manifest, passages, vectors, sentence_vectors, generation)
        if len(index._row_of_key) != len(passages):
            raise IndexCorrupt(f"{folder / PASSAGES}: duplicate passage ids")
        return index


def current_generation(index_dir: Path) -> str | None:
    """Name of the generation in use, or None when there is no index yet."""
    try:
        name = (Path(index_dir) / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorrupt(f"{Path(index_dir) / POINTER}: unreadable ({exc})") from exc
    if not name.startswith("gen-") or "/" in name or "\\" in name or ".." in name:
        raise IndexCorrupt(f"{Path(index_dir) / POINTER}: does not name a generation")
    return name


def read_manifest(index_dir: Path, generation: str | None = None) -> Manifest:
    generation = generation or current_generation(index_dir)
    if generation is None:
        raise IndexMissing(f"no index in {index_dir} (run `qa index` to build it)")
    path = Path(index_dir) / generation / MANIFEST
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorrupt(f"{path}: missing") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"{path}: not a valid manifest ({exc})") from exc


def _passage_from_json(line: str) -> Passage:
    data = json.loads(line)
    data["sentences"] = tuple(tuple(span) for span in data["sentences"])
    return Passage(**data)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as f:
            os.fsync(f.fileno())


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _prune(index_dir: Path, keep: str) -> None:
    """Remove old generations and leftovers of interrupted writes."""
    generations = sorted(p for p in index_dir.glob("gen-*") if p.is_dir())
    old = [p for p in generations if p.name != keep][: max(0, len(generations) - KEEP_GENERATIONS)]
    leftovers = [p for p in index_dir.glob(".gen-*.tmp") if p.name != f".{keep}.tmp"]
    for path in old + leftovers:
        shutil.rmtree(path, ignore_errors=True)
