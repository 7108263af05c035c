"""The embedded default store: FAISS and plain files in one folder.

Layout::

    embeddings/
      .qa-index           says the folder is an index (qa.store.folder: what a writer may remove)
      CURRENT             name of the generation in use, replaced atomically
      .lock               held by the one writer
      gen-<stamp>/        one version: manifest.json, vectors.faiss, piece_df.npy
      segments/seg-<id>/  passages and their vectors (qa.store.segments), shared by generations

A writer adds one new segment with the articles it embedded, then writes a
new generation naming the segments in use and a new FAISS index, and only
then names it in ``CURRENT`` (``os.replace``): readers never see a
half-written index, a crash leaves the previous generation in use, and an
update copies no stored vector. Every file is checked against the manifest's
sha256 when a generation is opened (segments once per process: they never
change).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from ..chunking import Passage
from ..embed import Pieces
from ..lexical import BM25
from .base import (
    Candidate,
    DocumentEntry,
    EncodedPassage,
    IndexBusy,
    IndexCorrupt,
    IndexMissing,
    IndexSettings,
    IndexUnusable,
    KeywordHits,
    Manifest,
    Repair,
    StoreUnavailable,
    passage_key,
)
from .folder import LOCK_FILE, POINTER, SEGMENTS, check_folder, claim, make_folder, remove_if_made_here
from .scoring import counted, keyword_hits, piece_idf
from .segments import Segment, SegmentBuilder, check_sizes, segment_piece_ids, sha256
from .vectors import VectorIndex

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
PIECE_DF = "piece_df.npy"

_segment_cache: dict[Path, Segment] = {}  # sealed segments never change: checked and parsed once per process
_segment_lock = threading.Lock()


class FilesStore:
    def __init__(self, folder: str | Path):
        """Raises StoreLocationError when ``folder`` holds other things than an index."""
        self.folder = Path(folder)
        self.location = str(self.folder)
        check_folder(self.folder)

    def current_version(self) -> str | None:
        return self._pointer()[0]

    def _pointer(self) -> tuple[str | None, str | None]:
        """The generation named in ``CURRENT`` and its manifest's checksum, written with it."""
        try:
            text = (self.folder / POINTER).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None, None
        except (OSError, UnicodeDecodeError) as exc:
            raise IndexCorrupt(f"{self.folder / POINTER}: unreadable ({exc})") from exc
        name, _, checksum = text.strip().partition(" ")
        if not name.startswith("gen-") or "/" in name or "\\" in name or ".." in name:
            raise IndexCorrupt(f"{self.folder / POINTER}: does not name a generation")
        return name, checksum or None

    def read_manifest(self, generation: str | None = None) -> Manifest | None:
        """The manifest of ``generation`` (the current one by default, then checked against
        the checksum ``CURRENT`` holds: a manifest edited by hand is refused)."""
        checksum = None
        if generation is None:
            generation, checksum = self._pointer()
        if generation is None:
            return None
        path = self.folder / generation / MANIFEST
        try:
            data = path.read_bytes()
            if checksum is not None and hashlib.sha256(data).hexdigest() != checksum:
                raise IndexCorrupt(f"{path}: content does not match its checksum in {POINTER} (damaged or edited)")
            return Manifest.from_json(data.decode("utf-8"))
        except FileNotFoundError as exc:
            raise IndexCorrupt(f"{path}: missing") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexCorrupt(f"{path}: not a valid manifest ({exc})") from exc

    def open_reader(self) -> FilesReader:
        generation = self.current_version()
        manifest = self.read_manifest()
        if generation is None or manifest is None:
            raise IndexMissing(f"no index in {self.folder} (run `qa index` to build it)")
        with _segment_lock:  # forget segments that a later run removed
            for gone in [path for path in _segment_cache if not path.exists()]:
                del _segment_cache[gone]
        return FilesReader(self, generation, manifest)

    @contextmanager
    def writer(
        self, settings: IndexSettings, rebuild: bool = False, wait_seconds: float = 600.0
    ) -> Iterator[FilesWriter]:
        with self._lock(wait_seconds):
            writer = FilesWriter(self, settings, rebuild)
            try:
                yield writer
            finally:
                writer.close()

    @contextmanager
    def _lock(self, wait_seconds: float) -> Iterator[None]:
        """Serialise the writers of one folder; a second writer waits, then gives up clearly."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create the index folder {self.folder}: {exc}") from exc
        lock = FileLock(str(self.folder / LOCK_FILE), timeout=wait_seconds)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            log.warning("another `qa index` is writing %s; waiting for it (lock %s)", self.folder, lock.lock_file)
            try:
                lock.acquire()
            except Timeout as exc:
                raise IndexBusy(
                    f"{self.folder} is locked by another `qa index` run (lock file {lock.lock_file}); "
                    f"gave up after {wait_seconds:.0f} s"
                ) from exc
        try:
            claim(self.folder)
            yield
        finally:
            lock.release()

    def segment(self, name: str, checksums: dict[str, str]) -> Segment:
        folder = self.folder / SEGMENTS / name
        with _segment_lock:
            cached = _segment_cache.get(folder.resolve())
        if cached is not None:
            return cached
        segment = Segment(folder, checksums)
        with _segment_lock:
            _segment_cache[folder.resolve()] = segment
        return segment


def _check_generation(store: FilesStore, generation: str, manifest: Manifest) -> None:
    """The generation's own files against the manifest's checksums, and its segments' files by size
    (a writer reads little of them; a reader checks them whole)."""
    folder = store.folder / generation
    for name in (VECTORS, PIECE_DF):
        path = folder / name
        if not path.is_file():
            raise IndexCorrupt(f"{path}: missing")
        if manifest.extra.get("files", {}).get(name) != sha256(path):
            raise IndexCorrupt(f"{path}: content does not match the manifest (damaged or edited)")
    for segment in manifest.extra.get("segments", {}):
        check_sizes(store.folder / SEGMENTS / segment)


def _placement(manifest: Manifest) -> dict[str, tuple[str, int]]:
    """doc_id → (segment, first row of its passages), from the manifest's columns."""
    placement = manifest.extra["placement"]
    if "segments" not in placement:  # written before the columns: {doc_id: [segment, row]}
        return {doc_id: (str(name), int(row)) for doc_id, (name, row) in placement.items()}
    names = placement["segments"]
    rows = zip(manifest.documents, placement["segment"], placement["row"], strict=True)
    return {doc_id: (names[segment], int(row)) for doc_id, segment, row in rows}


def _placement_columns(placement: dict[str, tuple[str, int]], order: Iterable[str]) -> dict:
    """``placement`` as columns in the manifest's order of articles (see Manifest.to_json)."""
    names = sorted({name for name, _ in placement.values()})
    number = {name: i for i, name in enumerate(names)}
    ids = list(order)
    return {"segments": names, "segment": [number[placement[d][0]] for d in ids], "row": [placement[d][1] for d in ids]}


class FilesReader:
    """One generation, loaded and checked."""

    def __init__(self, store: FilesStore, generation: str, manifest: Manifest):
        self.store, self.version, self.manifest = store, generation, manifest
        folder = store.folder / generation
        _check_generation(store, generation, manifest)
        try:
            segments = {n: store.segment(n, c) for n, c in manifest.extra["segments"].items()}
            placement = _placement(manifest)
            self._where: dict[int, tuple[Segment, int]] = {}
            for doc_id, entry in manifest.documents.items():
                name, first = placement[doc_id]
                segment = segments[name]
                for row, pid in enumerate(entry.passage_ids, start=first):
                    if segment.passages[row].passage_id != pid:
                        raise ValueError(f"{doc_id}: passage {pid} is not at row {row} of {name}")
                    self._where[passage_key(pid)] = (segment, row)
            self.vectors = VectorIndex.read(folder / VECTORS)
            piece_df = np.load(folder / PIECE_DF, allow_pickle=False)
        except (KeyError, TypeError, ValueError, IndexError, RuntimeError, OSError) as exc:
            raise IndexCorrupt(f"{folder}: the manifest disagrees with the stored passages ({exc})") from exc
        if self.vectors.count != len(self._where) or self.vectors.dim != manifest.settings.dim:
            raise IndexCorrupt(
                f"{folder / VECTORS}: {self.vectors.count} vectors of dimension {self.vectors.dim} "
                f"for {len(self._where)} passages of dimension {manifest.settings.dim}"
            )
        if len(self._where) != manifest.passage_count:
            raise IndexCorrupt(f"{folder / MANIFEST}: duplicate passage ids")
        self._piece_df = piece_df
        rows: dict[Segment, list[tuple[int, int]]] = {}
        for key, (segment, row) in self._where.items():
            rows.setdefault(segment, []).append((row, key))
        self.keywords = BM25(
            [(s.terms, np.array([r for r, _ in pairs]), np.array([k for _, k in pairs])) for s, pairs in rows.items()]
        )

    def __len__(self) -> int:
        return len(self._where)

    def search(self, query: np.ndarray, k: int, also: Sequence[int] = ()) -> list[Candidate]:
        found = dict(self.vectors.search(query, k, exact=self._passage_vectors))
        missing = [key for key in also if key not in found and key in self._where]
        if missing:
            found.update(zip(missing, (self._passage_vectors(missing) @ query).tolist(), strict=True))
        candidates = []
        for key, dense in sorted(found.items(), key=lambda kv: -kv[1]):
            segment, row = self._where[key]
            candidates.append(Candidate(key, segment.passages[row], dense, segment.sentence_vectors(row)))
        return candidates

    def _passage_vectors(self, keys: Sequence[int]) -> np.ndarray:
        """The full-precision vectors of these passages, from their segments."""
        rows = [self._where[key] for key in keys]
        return np.stack([np.asarray(segment.arrays["vectors.f32"][row]) for segment, row in rows])

    def keyword_search(self, question: str, k: int) -> KeywordHits:
        return keyword_hits(self.keywords, question, k)

    def pieces(self, keys: Sequence[int]) -> list[Pieces]:
        return [segment.pieces(row) for segment, row in (self._where[k] for k in keys)]

    def piece_idf(self) -> np.ndarray:
        return piece_idf(self._piece_df, len(self))

    def passages(self, keys: Sequence[int] | None = None) -> Iterator[Passage]:
        for segment, row in self._where.values() if keys is None else (self._where[k] for k in keys):
            yield segment.passages[row]


class FilesWriter:
    """Writes one new segment and one new generation. Only what changes is read: the base generation's
    vectors and piece counts, and the piece ids of the passages that leave; no stored vector is copied."""

    def __init__(self, store: FilesStore, settings: IndexSettings, rebuild: bool):
        self.store, self.settings = store, settings
        self._base_version = store.current_version()
        self.base, self.rebuilt_because = self._usable_base(rebuild)
        self.repair: Repair | None = None
        self._documents: dict[str, DocumentEntry] = dict(self.base.documents) if self.base else {}
        self._placement: dict[str, tuple[str, int]] = _placement(self.base) if self.base else {}
        self._segments: dict[str, dict[str, str]] = dict(self.base.extra["segments"]) if self.base else {}
        self._dropped: list[tuple[str, int, int]] = []  # (segment, first row, rows) of passages that leave
        self._dropped_keys: list[int] = []
        self._new_keys: list[int] = []
        self._new_vectors: list[np.ndarray] = []
        self._new_df = np.zeros(0, dtype=np.int32)  # piece document frequencies of the new passages
        self._segment_name = f"seg-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self._builder: SegmentBuilder | None = None
        self._staging: list[Path] = []

    def _usable_base(self, rebuild: bool) -> tuple[Manifest | None, str | None]:
        if rebuild:
            return None, "a full rebuild was asked"
        try:
            base = self.store.read_manifest()
            if base is not None:
                _check_generation(self.store, self._base_version or "", base)
        except IndexUnusable as exc:
            log.warning("existing index unusable, rebuilding: %s", exc)
            return None, f"existing index unusable: {exc}"
        if base is None:
            return None, None
        why = base.settings.incompatibility(self.settings)
        if why:
            log.warning("rebuilding the index: %s", why)
            return None, why
        return base, None

    def add(self, doc_id: str, content_hash: str, title: str, passages: Sequence[EncodedPassage]) -> None:
        self.remove([doc_id])
        if self._builder is None:
            folder = self.store.folder / SEGMENTS / f".{self._segment_name}.tmp"
            self._staging.append(folder)
            self._builder = SegmentBuilder(make_folder(folder), self.settings.dim)
        self._placement[doc_id] = (self._segment_name, len(self._builder))
        for encoded in passages:
            self._builder.add(encoded)
            self._new_keys.append(passage_key(encoded.passage.passage_id))
            self._new_vectors.append(encoded.vector.astype(np.float32))
            self._new_df = counted(self._new_df, encoded.pieces.ids)
        self._documents[doc_id] = DocumentEntry(content_hash, title, tuple(e.passage.passage_id for e in passages))

    def remove(self, doc_ids: Iterable[str]) -> None:
        for doc_id in doc_ids:
            entry = self._documents.pop(doc_id, None)
            place = self._placement.pop(doc_id, None)
            if place is not None and place[0] == self._segment_name:
                raise ValueError(f"{doc_id} was added twice in one indexing run")
            if entry is not None and place is not None:
                self._dropped.append((place[0], int(place[1]), len(entry.passage_ids)))
                self._dropped_keys += [passage_key(pid) for pid in entry.passage_ids]

    def commit(self) -> str:
        store = self.store
        name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        staging = store.folder / f".{name}.tmp"
        self._staging.append(staging)
        try:
            if self._builder is not None:
                self._segments[self._segment_name] = self._builder.finish()
                os.replace(self._builder.folder, store.folder / SEGMENTS / self._segment_name)
                self._builder = None
            make_folder(staging)
            vectors, piece_df = self._vectors_and_piece_df()
            self._segments = {s: c for s, c in self._segments.items() if s in {p[0] for p in self._placement.values()}}
            vectors.write(staging / VECTORS)
            np.save(staging / PIECE_DF, piece_df)
            extra = {
                "segments": self._segments,
                "placement": _placement_columns(self._placement, self._documents),
                "files": {n: sha256(staging / n) for n in (VECTORS, PIECE_DF)},
            }
            manifest = Manifest(self.settings, self._documents, time.time(), extra)
            manifest_bytes = manifest.to_json().encode("utf-8")
            (staging / MANIFEST).write_bytes(manifest_bytes)
            _fsync_folder(staging)
            os.replace(staging, store.folder / name)
            previous = store.current_version()
            _write_atomically(store.folder / POINTER, f"{name} {hashlib.sha256(manifest_bytes).hexdigest()}\n")
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot write the index in {store.folder}: {exc}; the index in use was not changed"
            ) from exc
        self._prune(name, previous)
        return name

    def _vectors_and_piece_df(self) -> tuple[VectorIndex, np.ndarray]:
        """The base generation's vectors and piece counts, without the dropped passages, with the new ones."""
        if self.base is not None:
            folder = self.store.folder / (self.store.current_version() or "")
            vectors = VectorIndex.read(folder / VECTORS).without(self._dropped_keys)
            piece_df = np.load(folder / PIECE_DF, allow_pickle=False).astype(np.int32)
            for segment, first, count in self._dropped:
                for ids in segment_piece_ids(self.store.folder / SEGMENTS / segment, range(first, first + count)):
                    piece_df = counted(piece_df, ids, -1)
        else:
            vectors, piece_df = VectorIndex.empty(self.settings.dim), np.zeros(0, dtype=np.int32)
        size = max(len(piece_df), len(self._new_df))
        piece_df = np.pad(piece_df, (0, size - len(piece_df))) + np.pad(self._new_df, (0, size - len(self._new_df)))
        if self._new_keys:
            vectors = vectors.with_added(np.stack(self._new_vectors), np.array(self._new_keys, dtype=np.int64))
        return vectors, piece_df.astype(np.int32)

    def close(self) -> None:
        """Remove what an interrupted or failed run left (the committed version is untouched)."""
        if self._builder is not None:
            self._builder.abandon()
        for path in self._staging:
            shutil.rmtree(path, ignore_errors=True)

    def _prune(self, new: str, previous: str | None) -> None:
        """Remove older generations, the segments that neither the new generation nor the previous
        one uses, and leftovers of killed runs. The previous generation is kept: a reader may still
        be loading it."""
        folder = self.store.folder
        for path in folder.glob("gen-*"):
            if path.name not in (new, previous):
                remove_if_made_here(path)
        used = set(self._segments) | (self._segments_of(previous) if previous else set())
        for path in (folder / SEGMENTS).glob("*"):
            if path.name not in used:
                remove_if_made_here(path)
        for path in folder.glob(".gen-*.tmp"):
            remove_if_made_here(path)

    def _segments_of(self, generation: str) -> set[str]:
        """The segments a generation uses; from the manifest already read when it is this run's base
        (at 147k articles, parsing a manifest again takes about a second)."""
        if self.base is not None and generation == self._base_version:
            return set(self.base.extra.get("segments", {}))
        try:
            manifest = self.store.read_manifest(generation)
        except IndexCorrupt:
            return set()
        return set(manifest.extra.get("segments", {})) if manifest else set()


def _fsync_folder(folder: Path) -> None:
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
