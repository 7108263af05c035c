"""The embedded default store: FAISS and plain files in one folder.

Layout::

    embeddings/
      .qa-index           says the folder is an index (qa.store.folder: what a writer may remove)
      CURRENT             name of the generation in use, replaced atomically
      .lock               held by the one writer
      gen-<stamp>/        one version: manifest.json, piece_df.npy
      segments/seg-<id>/  passages and their vectors (qa.store.segments), shared by generations

A writer (:mod:`qa.store.files_writer`) adds one new segment with the
articles it embedded, with their vectors, then writes a new generation
naming the segments in use, and only then names it in ``CURRENT``
(``os.replace``): readers never see a half-written index, a crash leaves the
previous generation in use, and an update copies no stored vector nor
rewrites any vector index. A reader searches the vectors where each segment
keeps them (:mod:`qa.store.vector_search`). Every file is checked against
the manifest's sha256 when a generation is opened (segments once per
process: they never change). The generations' files:
:mod:`qa.store.generations`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from ..chunking import Passage
from ..embed import Pieces
from ..lexical import BM25
from .base import (
    Candidate,
    IndexBusy,
    IndexCorrupt,
    IndexMissing,
    IndexSettings,
    KeywordHits,
    Manifest,
    StoreUnavailable,
    passage_key,
)
from .files_writer import FilesWriter
from .folder import LOCK_FILE, POINTER, SEGMENTS, check_folder, claim
from .generations import MANIFEST, PIECE_DF, check_generation, placement, read_manifest, read_pointer
from .scoring import keyword_hits, piece_idf
from .segments import SEGMENT_JSON, Segment
from .vector_search import PassageVectors, groups_of

__all__ = ["MANIFEST", "POINTER", "SEGMENTS", "FilesReader", "FilesStore", "FilesWriter"]

log = logging.getLogger(__name__)

_segment_cache: dict[Path, Segment] = {}  # sealed segments never change: checked and parsed once per process
_segment_lock = threading.Lock()


class FilesStore:
    def __init__(self, folder: str | Path):
        """Raises StoreLocationError when ``folder`` holds other things than an index."""
        self.folder = Path(folder)
        self.location = str(self.folder)
        check_folder(self.folder)

    def current_version(self) -> str | None:
        pointer = read_pointer(self.folder)
        return pointer.generation if pointer else None

    def read_manifest(self) -> Manifest | None:
        """The manifest of the generation in use, checked against the checksum ``CURRENT`` holds."""
        pointer = read_pointer(self.folder)
        return read_manifest(self.folder, pointer.generation, pointer.checksum) if pointer else None

    def open_reader(self) -> FilesReader:
        pointer = read_pointer(self.folder)
        if pointer is None:
            raise IndexMissing(f"no index in {self.folder} (run `qa index` to build it)")
        generation, manifest = pointer.generation, read_manifest(self.folder, pointer.generation, pointer.checksum)
        with _segment_lock:  # forget segments that a later run removed
            for gone in [path for path in _segment_cache if not path.exists()]:
                del _segment_cache[gone]
        return FilesReader(self, generation, manifest)

    @contextmanager
    def writer(
        self, settings: IndexSettings, rebuild: bool = False, wait_seconds: float = 600.0
    ) -> Iterator[FilesWriter]:
        with self._lock(wait_seconds):
            writer = FilesWriter(self.folder, settings, rebuild)
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


class FilesReader:
    """One generation, loaded and checked."""

    def __init__(self, store: FilesStore, generation: str, manifest: Manifest):
        self.store, self.version, self.manifest = store, generation, manifest
        folder = store.folder / generation
        check_generation(store.folder, generation, manifest)
        try:
            segments = {n: store.segment(n, c) for n, c in manifest.extra["segments"].items()}
            where = placement(manifest)
            self._where: dict[int, tuple[Segment, int]] = {}
            for doc_id, entry in manifest.documents.items():
                name, first = where[doc_id]
                segment = segments[name]
                for row, pid in enumerate(entry.passage_ids, start=first):
                    if segment.passages[row].passage_id != pid:
                        raise ValueError(f"{doc_id}: passage {pid} is not at row {row} of {name}")
                    self._where[passage_key(pid)] = (segment, row)
            live: dict[str, list[int]] = {name: [] for name in segments}
            for segment, row in self._where.values():
                live[segment.folder.name].append(row)
            self.vectors = PassageVectors(segments, live, groups_of(manifest.extra))
            piece_df = np.load(folder / PIECE_DF, allow_pickle=False)
        except (KeyError, TypeError, ValueError, IndexError, RuntimeError, OSError) as exc:
            raise IndexCorrupt(f"{folder}: the manifest disagrees with the stored passages ({exc})") from exc
        for segment in segments.values():
            if int(segment.info["dim"]) != manifest.settings.dim:
                raise IndexCorrupt(
                    f"{segment.folder / SEGMENT_JSON}: vectors of dimension {segment.info['dim']}, "
                    f"the manifest says {manifest.settings.dim}"
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
        found = dict(self.vectors.search(query, k))
        missing = [key for key in also if key not in found and key in self._where]
        if missing:
            found.update(zip(missing, (self.passage_vectors(missing) @ query).tolist(), strict=True))
        candidates = []
        for key, dense in sorted(found.items(), key=lambda kv: -kv[1]):
            segment, row = self._where[key]
            candidates.append(Candidate(key, segment.passages[row], dense, segment.sentence_vectors(row)))
        return candidates

    def passage_vectors(self, keys: Sequence[int]) -> np.ndarray:
        """The full-precision vectors of these passages, from their segments."""
        rows = [self._where[key] for key in keys]
        return np.stack([np.asarray(segment.vectors[row]) for segment, row in rows])

    def keyword_search(self, question: str, k: int) -> KeywordHits:
        return keyword_hits(self.keywords, question, k)

    def pieces(self, keys: Sequence[int]) -> list[Pieces]:
        return [segment.pieces(row) for segment, row in (self._where[k] for k in keys)]

    def piece_idf(self) -> np.ndarray:
        return piece_idf(self._piece_df, len(self))

    def passages(self, keys: Sequence[int] | None = None) -> Iterator[Passage]:
        for segment, row in self._where.values() if keys is None else (self._where[k] for k in keys):
            yield segment.passages[row]
